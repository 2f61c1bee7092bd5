"""llama.cpp's own timings of each request, read from llama-cpp-python's verbose log."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX_HIT = re.compile(r"(\d+) prefix-match hit, remaining (\d+) prompt tokens to eval")
PROMPT_EVAL = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
EVAL = re.compile(r"^\S*\s+eval time =\s*([\d.]+) ms /\s*(\d+) runs", re.M)


@dataclass(frozen=True)
class RequestTimings:
    """llama.cpp's figures for one request (from its log)."""

    cached_tokens: int  # prompt tokens reused from the KV cache
    prompt_tokens: int  # prompt tokens evaluated
    prompt_ms: float
    generated_tokens: int  # decode runs
    decode_ms: float

    @property
    def prompt_tps(self) -> float:
        return self.prompt_tokens / (self.prompt_ms / 1000) if self.prompt_ms else 0.0

    @property
    def decode_tps(self) -> float:
        return self.generated_tokens / (self.decode_ms / 1000) if self.decode_ms else 0.0


def parse_timings(log: str) -> list[RequestTimings]:
    """One entry per finished request, in order (a request's block of perf lines ends with
    ``total time``; the prefix-cache line, when there is one, comes before it)."""
    found = []
    for block in log.split("total time")[:-1]:
        cached = 0
        hits = PREFIX_HIT.findall(block)
        if hits:
            cached = int(hits[-1][0])
        prompt = PROMPT_EVAL.findall(block)
        decode = EVAL.findall(block)
        if not prompt:
            continue
        p_ms, p_tokens = prompt[-1]
        d_ms, d_runs = decode[-1] if decode else ("0", "0")
        found.append(RequestTimings(cached, int(p_tokens), float(p_ms), int(d_runs), float(d_ms)))
    return found
