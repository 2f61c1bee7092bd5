"""One generation: tree (while the debounce waits) → gate → plan → stream → post-processing.

The engine (``engine.py``) decides when a generation runs and who shares it; this module is what
one generation does, with each stage timed (``EngineStats.recent_timings_ms``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..model.client import ModelClient
from ..model.errors import ModelError
from ..settings import Settings
from .gate import decide_at
from .planner import PromptPlan, PromptPlanner
from .postprocess.pipeline import postprocess
from .snapshot import CompletionSnapshot
from .stats import EngineStats
from .stream_stop import StreamStop

log = logging.getLogger(__name__)

ErrorSink = Callable[[ModelError], None]
StatusSink = Callable[[str, str], None]


@dataclass(frozen=True)
class Generated:
    """What a generation produced for its snapshot."""

    text: str
    replace_suffix_chars: int
    multiline: bool


class CompletionPipeline:
    def __init__(
        self,
        settings: Settings,
        client: ModelClient,
        planner: PromptPlanner,
        stats: EngineStats,
        on_error: ErrorSink,
        on_success: Callable[[], None],
        on_status: StatusSink,
    ):
        self.settings = settings
        self.client = client
        self.planner = planner
        self.stats = stats
        self.on_error = on_error
        self.on_success = on_success
        self.on_status = on_status

    async def run(
        self,
        snapshot: CompletionSnapshot,
        debounce_s: float,
        on_text: Callable[[], None],
        quiet: bool = False,
    ) -> Generated | None:
        """Generate for ``snapshot`` after ``debounce_s``; None when the gate says no, the model
        fails (reported unless ``quiet``) or nothing survives post-processing. ``on_text`` is
        called as the model's text arrives."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        debounce_until = loop.time() + debounce_s
        snapshot = snapshot.with_syntax()  # the reparse overlaps the debounce
        t_syntax = time.perf_counter()
        if (remaining := debounce_until - loop.time()) > 0:
            await asyncio.sleep(remaining)
        t_gate = time.perf_counter()
        decision = decide_at(snapshot, self.settings.completion.multiline)
        if not decision.complete:
            self.stats.gated += 1
            log.debug("not completing: %s", decision.reason)
            return None
        t_plan = time.perf_counter()
        plan = self.planner.plan(snapshot, decision.multiline)
        t_model = time.perf_counter()
        raw = await self._stream(plan, on_text, quiet)
        t_post = time.perf_counter()
        if raw is None:
            return None
        suggestion = postprocess(raw, snapshot, plan)
        done = time.perf_counter()
        self.stats.record_timings(
            {
                "syntax": (t_syntax - started) * 1000,
                "debounce": (t_gate - t_syntax) * 1000,
                "gate": (t_plan - t_gate) * 1000,
                "plan": (t_model - t_plan) * 1000,
                "model": (t_post - t_model) * 1000,
                "postprocess": (done - t_post) * 1000,
            }
        )
        if suggestion is None:
            return None
        return Generated(suggestion.text, suggestion.replace_suffix_chars, decision.multiline)

    async def _stream(
        self, plan: PromptPlan, on_text: Callable[[], None], quiet: bool
    ) -> str | None:
        # Chat answers may open with <think> or a fence: their line structure is not the code's,
        # so only the filters afterwards can tell where the code ends.
        chat = bool(plan.request.messages)
        stopper = StreamStop(plan.multiline, plan.indent_of_cursor_line, chat=chat)
        self.stats.model_calls += 1
        if not quiet:
            self.on_status("busy", "")
        parts: list[str] = []
        try:
            async with contextlib.aclosing(self.client.stream(plan.request)) as stream:
                async for delta in stream:
                    on_text()
                    parts.append(delta)
                    if stopper.feed(delta):
                        break  # leaving the block closes the HTTP stream: no wasted tokens
        except ModelError as error:
            self.stats.errors += 1
            if not quiet:
                self.on_status("error", error.user_message)
                self.on_error(error)
            return None
        except asyncio.CancelledError:
            if not quiet:
                self.on_status("idle", "")
            raise
        if not quiet:
            self.on_status("idle", "")
        self.on_success()
        return "".join(parts)
