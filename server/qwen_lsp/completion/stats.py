"""Counters of the completion engine (read through the ``qwen-lsp.debugStats`` command)."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_RECENT_TIMINGS = 500


@dataclass
class EngineStats:
    requests: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    reused_inflight: int = 0
    superseded: int = 0
    cancelled_streams: int = 0
    errors: int = 0
    gated: int = 0
    speculative_calls: int = 0
    accepted: int = 0
    # Stage timings of the latest generations, oldest first (benchmarks read them through
    # debugStats).
    recent_timings_ms: list[dict[str, float]] = field(default_factory=list)

    def record_timings(self, timings: dict[str, float]) -> None:
        self.recent_timings_ms.append(timings)
        if len(self.recent_timings_ms) > MAX_RECENT_TIMINGS:
            del self.recent_timings_ms[: len(self.recent_timings_ms) - MAX_RECENT_TIMINGS]
