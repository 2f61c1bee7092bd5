"""CPU speed of the model server, from llama.cpp's own timings: prefill cold and with a cached
prompt start, and decode.

Prompts are real code from the extracts (the Qwen tokenizer sizes them). *Cold*: a prompt that
shares nothing with the one before (each starts with a different file). *Cached start*: the same
prompt with one line changed near its end, as when the user types: the server reuses its KV
cache up to the change and evaluates only the rest. *Decode*: tokens generated per second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from qwen_lsp.context.tokens import TokenCounter

from .cases import REPOS
from .llama import MODEL_ALIAS, RealLlamaServer
from .timings import RequestTimings

COLD_SIZES = (512, 1536, 3072)
QUICK_SIZES = (512,)
DECODE_TOKENS = 128


@dataclass(frozen=True)
class SpeedRow:
    what: str
    wall_s: float
    timings: RequestTimings


def corpus() -> list[str]:
    """Source files of the extracts, largest first (distinct starts for cold prompts)."""
    files = [p for p in REPOS.rglob("*") if p.suffix in (".py", ".go", ".rs", ".ts")]
    texts = [p.read_text(encoding="utf-8") for p in files]
    return sorted(texts, key=len, reverse=True)


def sized_prompt(texts: list[str], start: int, tokens: int, counter: TokenCounter) -> str:
    """Whole lines of the corpus, from file ``start`` on, adding up to about ``tokens``."""
    lines: list[str] = []
    used = 0
    for text in texts[start:] + texts[:start]:
        for line in text.split("\n"):
            cost = counter.count_piece(line + "\n")
            if used + cost > tokens:
                return "\n".join(lines) + "\n"
            lines.append(line)
            used += cost
    return "\n".join(lines) + "\n"


def _complete(server: RealLlamaServer, prompt: str, max_tokens: int) -> float:
    body = {"model": MODEL_ALIAS, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0}
    started = time.perf_counter()
    httpx.post(f"{server.base_url}/completions", json=body, timeout=600).raise_for_status()
    return time.perf_counter() - started


def measure(server: RealLlamaServer, quick: bool = False) -> list[SpeedRow]:
    counter = TokenCounter(load_now=True)
    texts = corpus()
    rows: list[SpeedRow] = []

    def run(what: str, prompt: str, max_tokens: int = 1) -> None:
        before = len(server.timings())
        wall = _complete(server, prompt, max_tokens)
        deadline = time.monotonic() + 10
        while len(server.timings()) <= before and time.monotonic() < deadline:
            time.sleep(0.05)  # the log line trails the HTTP answer slightly
        rows.append(SpeedRow(what, wall, server.timings()[-1]))

    for index, size in enumerate(QUICK_SIZES if quick else COLD_SIZES):
        prompt = sized_prompt(texts, index + 1, size, counter)
        run(f"cold prompt, ~{size} tokens", prompt)
        lines = prompt.rstrip("\n").split("\n")
        typed = "\n".join([*lines[:-2], lines[-2] + " x", lines[-1]]) + "\n"
        run(f"same prompt, one line near the end changed (~{size} tokens)", typed)
    run(f"decode, {DECODE_TOKENS} tokens after a short prompt", texts[0][:400], DECODE_TOKENS)
    return rows
