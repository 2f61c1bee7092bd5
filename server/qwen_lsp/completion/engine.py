"""The completion engine: cache → debounce/cancel-previous → gate → prompt → model → filters.

Pure of LSP: it takes a document snapshot and a cursor offset and returns completions. The server
translates to and from protocol types.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..model.client import GenerationRequest, ModelClient
from ..model.errors import ModelError
from ..settings import Settings
from .cache import CompletionCache
from .prompting import PromptPlan, PromptPlanner
from .streaming import StreamStop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompletionInput:
    """A snapshot of what the engine needs; taken synchronously so later edits cannot race it."""

    uri: str
    text: str
    offset: int  # str index of the cursor
    language_id: str
    path: str | None
    version: int
    automatic: bool = True
    tree: Any = None  # tree_sitter.Tree of ``text`` when available
    source_bytes: bytes | None = None

    @property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset :]


@dataclass(frozen=True)
class Completion:
    id: str
    text: str
    replace_suffix_chars: int = 0
    from_cache: bool = False
    multiline: bool = False


@dataclass
class EngineStats:
    requests: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    superseded: int = 0
    errors: int = 0
    gated: int = 0
    last_timings_ms: dict[str, float] = field(default_factory=dict)


class Superseded(Exception):
    """A newer request for the same document replaced this one."""


ErrorSink = Callable[[ModelError], None]
StatusSink = Callable[[str, str], None]


class CompletionEngine:
    def __init__(
        self,
        settings: Settings,
        client: ModelClient,
        planner: PromptPlanner,
        on_error: ErrorSink | None = None,
        on_success: Callable[[], None] | None = None,
        on_status: StatusSink | None = None,
        postprocess: Callable[..., Any] | None = None,
    ):
        self.settings = settings
        self.client = client
        self.planner = planner
        self.cache = CompletionCache()
        self.stats = EngineStats()
        self.on_error = on_error or (lambda _e: None)
        self.on_success = on_success or (lambda: None)
        self.on_status = on_status or (lambda _s, _m: None)
        self._postprocess = postprocess
        self._inflight: dict[str, asyncio.Task[list[Completion]]] = {}
        self._ids = itertools.count(1)
        self._superseded: set[asyncio.Task[list[Completion]]] = set()

    def configure(self, settings: Settings, client: ModelClient) -> None:
        self.settings, self.client = settings, client
        self.cache.clear()

    def cancel(self, uri: str) -> None:
        """Cancel the document's in-flight request (its HTTP stream closes at once)."""
        task = self._inflight.pop(uri, None)
        if task and not task.done():
            self._superseded.add(task)
            task.cancel()

    async def complete(self, request: CompletionInput) -> list[Completion]:
        """Completions at the cursor; [] when there is nothing useful, never an exception for
        model trouble (that goes to ``on_error``). Cancelling the caller cancels the work."""
        self.stats.requests += 1
        if not self.settings.completion.enabled:
            return []
        if request.language_id in self.settings.completion.disabled_languages:
            return []
        hit = self.cache.get(request.uri, request.prefix, request.suffix)
        if hit is not None:
            self.stats.cache_hits += 1
            return [
                Completion(self._next_id(), hit.text, hit.replace_suffix_chars, from_cache=True)
            ]
        # Cancel-previous: one model request per document at a time.
        self.cancel(request.uri)
        task = asyncio.ensure_future(self._run(request))
        self._inflight[request.uri] = task
        try:
            return await task
        except asyncio.CancelledError:
            if task in self._superseded:
                self.stats.superseded += 1
                return []  # replaced by a newer keystroke; the client did not cancel us
            raise
        finally:
            self._superseded.discard(task)
            if self._inflight.get(request.uri) is task:
                del self._inflight[request.uri]

    async def _run(self, request: CompletionInput) -> list[Completion]:
        started = time.perf_counter()
        if request.automatic and self.settings.completion.debounce_ms:
            await asyncio.sleep(self.settings.completion.debounce_ms / 1000)
        lines_before = request.prefix.rsplit("\n", 2)
        line_before = lines_before[-1]
        prev_line = lines_before[-2] if len(lines_before) > 1 else ""
        line_after = request.suffix.split("\n", 1)[0]
        decision = self.planner.gate(request, line_before, line_after, prev_line)
        if not decision.complete:
            self.stats.gated += 1
            log.debug("not completing: %s", decision.reason)
            return []
        t_plan = time.perf_counter()
        plan = self.planner.plan(request, decision.multiline)
        t_model = time.perf_counter()
        raw = await self._generate(plan)
        t_post = time.perf_counter()
        if raw is None:
            return []
        completion = self._clean(raw, request, plan)
        done = time.perf_counter()
        self.stats.last_timings_ms = {
            "debounce_gate": (t_plan - started) * 1000,
            "plan": (t_model - t_plan) * 1000,
            "model": (t_post - t_model) * 1000,
            "postprocess": (done - t_post) * 1000,
        }
        if completion is None:
            return []
        text, replace = completion
        self.cache.put(request.uri, request.prefix, request.suffix, text, replace)
        return [Completion(self._next_id(), text, replace, multiline=decision.multiline)]

    async def _generate(self, plan: PromptPlan) -> str | None:
        gen = GenerationRequest(
            prompt=plan.prompt,
            messages=plan.messages,
            max_tokens=plan.max_tokens,
            temperature=self.settings.completion.temperature,
            top_p=self.settings.completion.top_p,
            stop=plan.stop,
            prefix=plan.prefix,
            suffix=plan.suffix,
            extra_context=plan.extra_context,
        )
        stopper = StreamStop(plan.multiline, plan.indent_of_cursor_line)
        self.stats.model_calls += 1
        self.on_status("busy", "")
        parts: list[str] = []
        try:
            async with contextlib.aclosing(self.client.stream(gen)) as stream:
                async for delta in stream:
                    parts.append(delta)
                    if stopper.feed(delta):
                        break  # leaving the block closes the HTTP stream: no wasted tokens
        except ModelError as error:
            self.stats.errors += 1
            self.on_status("error", error.user_message)
            self.on_error(error)
            return None
        self.on_status("idle", "")
        self.on_success()
        return "".join(parts)

    def _clean(
        self, raw: str, request: CompletionInput, plan: PromptPlan
    ) -> tuple[str, int] | None:
        if self._postprocess is None:
            text = raw if plan.multiline else raw.split("\n", 1)[0]
            return (text, 0) if text.strip() else None
        return self._postprocess(raw, request, plan)

    def _next_id(self) -> str:
        return f"qwen-{next(self._ids)}"
