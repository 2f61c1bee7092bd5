"""Deterministic, realistic source text for benchmarks (no network, no vendored code)."""

from __future__ import annotations

import random

WORDS = (
    "user",
    "order",
    "item",
    "price",
    "total",
    "account",
    "cache",
    "token",
    "buffer",
    "record",
    "event",
    "stream",
    "result",
    "config",
    "session",
    "payload",
    "index",
)


def python_module(lines: int, seed: int = 7) -> str:
    """A Python module of about ``lines`` lines: imports, classes with methods, functions."""
    rng = random.Random(seed)
    out = [
        "import asyncio",
        "import json",
        "import logging",
        "from dataclasses import dataclass, field",
        "from typing import Any, Optional",
        "",
        "log = logging.getLogger(__name__)",
        "",
    ]
    n = 0
    while len(out) < lines:
        a, b, c = rng.sample(WORDS, 3)
        n += 1
        if n % 3 == 0:
            out += [
                "",
                "@dataclass",
                f"class {a.title()}{b.title()}{n}:",
                f'    """Holds the {a} and {b} of one {c}."""',
                "",
                f"    {a}_id: int",
                f'    {b}: str = ""',
                f"    {c}s: list[str] = field(default_factory=list)",
                "",
                f"    def add_{c}(self, {c}: str) -> None:",
                f"        if {c} in self.{c}s:",
                f'            log.debug("duplicate {c} %s", {c})',
                "            return",
                f"        self.{c}s.append({c})",
                "",
                "    def to_json(self) -> str:",
                f'        return json.dumps({{"{a}_id": self.{a}_id, "{b}": self.{b}}})',
            ]
        else:
            out += [
                "",
                "",
                f"def compute_{a}_{b}_{n}({a}: dict[str, Any], limit: int = {rng.randint(2, 99)})"
                " -> Optional[int]:",
                f'    """Return the {b} for a {a}, or None when it exceeds the limit."""',
                f'    value = {a}.get("{b}", 0)',
                f"    for key, {c} in sorted({a}.items()):",
                f"        if isinstance({c}, int) and {c} > limit:",
                "            return None",
                "        value += len(str(key))",
                "    return value",
            ]
    return "\n".join(out[:lines]) + "\n"
