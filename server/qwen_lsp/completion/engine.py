"""The completion engine: cache → reuse/cancel-previous → debounce → gate → prompt → model → post.

Pure of LSP: it takes a document snapshot and a cursor offset and returns completions. The server
translates to and from protocol types.

Latency rules, in the order a request meets them:
1. Typed-through cache: typing the characters of a served suggestion costs no model call.
2. In-flight reuse: if a generation for this document is already answering and the new prefix
   only adds characters to its prefix, wait for it instead of starting over; its result then
   serves the new position through the cache.
3. Cancel-previous: otherwise the older generation is cancelled (its HTTP stream closes).
4. Adaptive debounce: automatic requests wait ``debounce_ms`` while the user types in a burst,
   and only a short pause for the first keystroke after a pause.
A generation whose last waiter went away (e.g. the client sent ``$/cancelRequest``) lives on for a
short grace period, so the next keystroke's request can adopt it instead of paying again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..model.client import GenerationRequest, ModelClient
from ..model.errors import ModelError
from ..settings import Settings
from .cache import MAX_TYPED_THROUGH, CompletionCache
from .postprocess_adapter import Postprocessor
from .prompting import PromptPlan, PromptPlanner
from .streaming import StreamStop

log = logging.getLogger(__name__)

# How long an orphaned generation waits for a follow-up request to adopt it.
ORPHAN_GRACE_S = 0.15
# The first keystroke after this much quiet gets a short debounce.
PAUSE_S = 0.5
SHORT_DEBOUNCE_S = 0.01
MAX_RECENT_TIMINGS = 500


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
    # Where ``tree`` and ``source_bytes`` come from when not given: the document's incremental
    # reparse, done only once a model call is really on (a cache hit needs no tree) and while
    # the debounce waits anyway. Returns (None, None) once the document has moved on.
    syntax: Callable[[], tuple[Any, bytes | None]] | None = field(
        default=None, compare=False, repr=False
    )

    # Cached: slicing a 10k-line document costs tens of µs and every stage asks for these.
    @functools.cached_property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @functools.cached_property
    def suffix(self) -> str:
        return self.text[self.offset :]

    def with_syntax(self) -> CompletionInput:
        """This snapshot with its tree, fetched from ``syntax`` if it was not given."""
        if self.syntax is None or self.tree is not None:
            return self
        tree, source = self.syntax()
        resolved = dataclasses.replace(self, tree=tree, source_bytes=source, syntax=None)
        # Same text and cursor: keep the prefix/suffix slices already made (cached_property).
        for name in ("prefix", "suffix"):
            if name in self.__dict__:
                resolved.__dict__[name] = self.__dict__[name]
        return resolved


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


@dataclass
class Generation:
    """One model generation for a document, shared by every request that waits on it."""

    task: asyncio.Task[Completion | None]
    prefix: str
    suffix: str
    waiters: int = 0
    answering: bool = False  # the model has sent its first text
    superseded: bool = False
    speculative: bool = False


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
        postprocess: Postprocessor | None = None,
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
        self._generations: dict[str, Generation] = {}
        self._last_request_at: dict[str, float] = {}
        self._ids = itertools.count(1)

    def configure(self, settings: Settings, client: ModelClient) -> None:
        self.settings, self.client = settings, client
        self.cache.clear()

    # --- public API -------------------------------------------------------------------------

    async def complete(self, request: CompletionInput) -> list[Completion]:
        """Completions at the cursor; [] when there is nothing useful, never an exception for
        model trouble (that goes to ``on_error``). Cancelling the caller cancels the work."""
        self.stats.requests += 1
        # The loop's clock (time.monotonic in production) so tests can run on a virtual one.
        now = asyncio.get_running_loop().time()
        previous_at = self._last_request_at.get(request.uri)
        self._last_request_at[request.uri] = now
        if not self.settings.completion.enabled:
            return []
        if request.language_id in self.settings.completion.disabled_languages:
            return []
        if hit := self._from_cache(request):
            return [hit]
        generation = self._generations.get(request.uri)
        if generation is not None and self._can_adopt(generation, request):
            self.stats.reused_inflight += 1
            result = await self._wait(generation)
            if result is not None and (hit := self._from_cache(request)):
                return [hit]
            # The user typed something the model did not predict: ask afresh.
        return await self._generate_for(request, now, previous_at)

    def cancel(self, uri: str) -> None:
        """Cancel the document's generation (its HTTP stream closes at once)."""
        generation = self._generations.pop(uri, None)
        if generation and not generation.task.done():
            generation.superseded = True
            generation.task.cancel()
            self.stats.cancelled_streams += 1

    def cancel_all(self) -> None:
        for uri in list(self._generations):
            self.cancel(uri)

    def accepted(self, completion: Completion | None) -> None:
        self.stats.accepted += 1

    def speculate(self, request: CompletionInput, shown: Completion) -> None:
        """Start generating what comes after ``shown`` as if it were accepted (no waiter).

        Its result lands in the cache, so accepting the suggestion and asking again is instant.
        """
        if not self.settings.completion.speculative or shown.replace_suffix_chars:
            return
        if request.uri in self._generations:
            return  # never displace a real request
        text = request.prefix + shown.text + request.suffix
        future = CompletionInput(
            uri=request.uri,
            text=text,
            offset=len(request.prefix) + len(shown.text),
            language_id=request.language_id,
            path=request.path,
            version=request.version,
            automatic=False,
        )
        generation = self._start(future, delay=0.0, speculative=True)
        self.stats.speculative_calls += 1
        self._schedule_orphan_check(generation, grace=self.settings.endpoint.timeout_s)

    # --- internals ----------------------------------------------------------------------------

    def _from_cache(self, request: CompletionInput) -> Completion | None:
        hit = self.cache.get(request.uri, request.prefix, request.suffix)
        if hit is None:
            return None
        self.stats.cache_hits += 1
        return Completion(
            self._next_id(),
            hit.text,
            hit.replace_suffix_chars,
            from_cache=True,
            multiline="\n" in hit.text,
        )

    def _can_adopt(self, generation: Generation, request: CompletionInput) -> bool:
        """The running generation answers this request too: same text after the cursor and the
        user only typed on (while still in debounce, a fresh start is better)."""
        # Only adopt a generation that is already answering: one still waiting for the model's
        # first token may be stuck, and a fresh request costs little with a prefix cache.
        if generation.task.done() or not generation.answering:
            return False
        typed = len(request.prefix) - len(generation.prefix)
        return (
            0 <= typed <= MAX_TYPED_THROUGH
            and request.suffix == generation.suffix
            and request.prefix.startswith(generation.prefix)
        )

    async def _generate_for(
        self, request: CompletionInput, now: float, previous_at: float | None
    ) -> list[Completion]:
        self.cancel(request.uri)
        generation = self._start(request, self._debounce_s(request, now, previous_at))
        result = await self._wait(generation)
        return [result] if result is not None else []

    def _debounce_s(self, request: CompletionInput, now: float, previous_at: float | None) -> float:
        if not request.automatic:
            return 0.0
        configured = self.settings.completion.debounce_ms / 1000
        if previous_at is None or now - previous_at > PAUSE_S:
            return min(configured, SHORT_DEBOUNCE_S)  # first key after a pause: answer fast
        return configured

    def _start(
        self, request: CompletionInput, delay: float, speculative: bool = False
    ) -> Generation:
        generation = Generation(
            task=None,  # type: ignore[arg-type]  # set right below, before any await
            prefix=request.prefix,
            suffix=request.suffix,
            speculative=speculative,
        )
        generation.task = asyncio.ensure_future(self._run(request, generation, delay))
        self._generations[request.uri] = generation
        generation.task.add_done_callback(lambda _t: self._forget(request.uri, generation))
        return generation

    def _forget(self, uri: str, generation: Generation) -> None:
        if self._generations.get(uri) is generation:
            del self._generations[uri]

    async def _wait(self, generation: Generation) -> Completion | None:
        """Wait for a shared generation without letting one waiter's cancellation kill it."""
        generation.waiters += 1
        try:
            return await asyncio.shield(generation.task)
        except asyncio.CancelledError:
            if generation.task.cancelled() and generation.superseded:
                self.stats.superseded += 1
                return None  # replaced by a newer keystroke; the client did not cancel us
            raise
        finally:
            generation.waiters -= 1
            if generation.waiters == 0 and not generation.task.done():
                self._schedule_orphan_check(generation, ORPHAN_GRACE_S)

    def _schedule_orphan_check(self, generation: Generation, grace: float) -> None:
        def cancel_if_orphan() -> None:
            if generation.waiters == 0 and not generation.task.done():
                generation.task.cancel()
                self.stats.cancelled_streams += 1

        asyncio.get_running_loop().call_later(grace, cancel_if_orphan)

    async def _run(
        self, request: CompletionInput, generation: Generation, delay: float
    ) -> Completion | None:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        debounce_until = loop.time() + delay
        request = request.with_syntax()  # the reparse overlaps the debounce
        t_syntax = time.perf_counter()
        if (remaining := debounce_until - loop.time()) > 0:
            await asyncio.sleep(remaining)
        t_gate = time.perf_counter()
        lines_before = request.prefix.rsplit("\n", 2)
        line_before = lines_before[-1]
        prev_line = lines_before[-2] if len(lines_before) > 1 else ""
        line_after = request.suffix.split("\n", 1)[0]
        decision = self.planner.gate(request, line_before, line_after, prev_line)
        if not decision.complete:
            self.stats.gated += 1
            log.debug("not completing: %s", decision.reason)
            return None
        t_plan = time.perf_counter()
        plan = self.planner.plan(request, decision.multiline)
        t_model = time.perf_counter()
        raw = await self._stream(plan, generation)
        t_post = time.perf_counter()
        if raw is None:
            return None
        cleaned = self._clean(raw, request, plan)
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
        if cleaned is None:
            return None
        text, replace = cleaned
        self.cache.put(request.uri, request.prefix, request.suffix, text, replace)
        return Completion(self._next_id(), text, replace, multiline=decision.multiline)

    async def _stream(self, plan: PromptPlan, generation: Generation) -> str | None:
        quiet = generation.speculative
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
        # Chat answers may open with <think> or a fence: their line structure is not the code's,
        # so only the filters afterwards can tell where the code ends.
        stopper = StreamStop(plan.multiline, plan.indent_of_cursor_line, chat=bool(plan.messages))
        self.stats.model_calls += 1
        if not quiet:
            self.on_status("busy", "")
        parts: list[str] = []
        try:
            async with contextlib.aclosing(self.client.stream(gen)) as stream:
                async for delta in stream:
                    generation.answering = True
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

    def _clean(
        self, raw: str, request: CompletionInput, plan: PromptPlan
    ) -> tuple[str, int] | None:
        if self._postprocess is None:
            text = raw if plan.multiline else raw.split("\n", 1)[0]
            return (text, 0) if text.strip() else None
        return self._postprocess(raw, request, plan)

    def _next_id(self) -> str:
        return f"qwen-{next(self._ids)}"
