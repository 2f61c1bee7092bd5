"""The completion engine's scheduling: cache → adopt or cancel-previous → debounce → generation.

Pure of LSP: it takes a snapshot (``snapshot.py``) and returns completions; what one generation
does (gate, plan, stream, post-processing) is ``pipeline.py``.

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
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from ..model.client import ModelClient
from ..settings import Settings
from .cache import MAX_TYPED_THROUGH, CompletionCache
from .pipeline import CompletionPipeline, ErrorSink, StatusSink
from .planner import PromptPlanner
from .snapshot import CompletionSnapshot
from .stats import EngineStats

# How long an orphaned generation waits for a follow-up request to adopt it.
ORPHAN_GRACE_S = 0.15
# The first keystroke after this much quiet gets a short debounce.
PAUSE_S = 0.5
SHORT_DEBOUNCE_S = 0.01


@dataclass(frozen=True)
class Completion:
    id: str
    text: str
    replace_suffix_chars: int = 0
    from_cache: bool = False
    multiline: bool = False


@dataclass
class InflightGeneration:
    """One model generation for a document, shared by every request that waits on it."""

    task: asyncio.Task[Completion | None]
    prefix: str
    suffix: str
    waiters: int = 0
    answering: bool = False  # the model has sent its first text
    superseded: bool = False
    speculative: bool = False


class CompletionEngine:
    def __init__(
        self,
        settings: Settings,
        client: ModelClient,
        planner: PromptPlanner,
        on_error: ErrorSink | None = None,
        on_success: Callable[[], None] | None = None,
        on_status: StatusSink | None = None,
    ):
        self.settings = settings
        self.cache = CompletionCache()
        self.stats = EngineStats()
        self.pipeline = CompletionPipeline(
            settings,
            client,
            planner,
            self.stats,
            on_error=on_error or (lambda _e: None),
            on_success=on_success or (lambda: None),
            on_status=on_status or (lambda _s, _m: None),
        )
        self._generations: dict[str, InflightGeneration] = {}
        self._last_request_at: dict[str, float] = {}
        self._ids = itertools.count(1)

    def configure(self, settings: Settings, client: ModelClient) -> None:
        self.settings = settings
        self.pipeline.settings, self.pipeline.client = settings, client
        self.cache.clear()

    # --- public API -------------------------------------------------------------------------

    async def complete(self, request: CompletionSnapshot) -> list[Completion]:
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

    def speculate(self, request: CompletionSnapshot, shown: Completion) -> None:
        """Start generating what comes after ``shown`` as if it were accepted (no waiter).

        Its result lands in the cache, so accepting the suggestion and asking again is instant.
        """
        if not self.settings.completion.speculative or shown.replace_suffix_chars:
            return
        if request.uri in self._generations:
            return  # never displace a real request
        future = request.after_inserting(shown.text)
        generation = self._start(future, delay=0.0, speculative=True)
        self.stats.speculative_calls += 1
        self._schedule_orphan_check(generation, grace=self.settings.endpoint.timeout_s)

    # --- internals ----------------------------------------------------------------------------

    def _from_cache(self, request: CompletionSnapshot) -> Completion | None:
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

    def _can_adopt(self, generation: InflightGeneration, request: CompletionSnapshot) -> bool:
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
        self, request: CompletionSnapshot, now: float, previous_at: float | None
    ) -> list[Completion]:
        self.cancel(request.uri)
        generation = self._start(request, self._debounce_s(request, now, previous_at))
        result = await self._wait(generation)
        return [result] if result is not None else []

    def _debounce_s(
        self, request: CompletionSnapshot, now: float, previous_at: float | None
    ) -> float:
        if not request.automatic:
            return 0.0
        configured = self.settings.completion.debounce_ms / 1000
        if previous_at is None or now - previous_at > PAUSE_S:
            return min(configured, SHORT_DEBOUNCE_S)  # first key after a pause: answer fast
        return configured

    def _start(
        self, request: CompletionSnapshot, delay: float, speculative: bool = False
    ) -> InflightGeneration:
        generation = InflightGeneration(
            task=None,  # type: ignore[arg-type]  # set right below, before any await
            prefix=request.prefix,
            suffix=request.suffix,
            speculative=speculative,
        )
        generation.task = asyncio.ensure_future(self._run(request, generation, delay))
        self._generations[request.uri] = generation
        generation.task.add_done_callback(lambda _t: self._forget(request.uri, generation))
        return generation

    def _forget(self, uri: str, generation: InflightGeneration) -> None:
        if self._generations.get(uri) is generation:
            del self._generations[uri]

    async def _wait(self, generation: InflightGeneration) -> Completion | None:
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

    def _schedule_orphan_check(self, generation: InflightGeneration, grace: float) -> None:
        def cancel_if_orphan() -> None:
            if generation.waiters == 0 and not generation.task.done():
                generation.task.cancel()
                self.stats.cancelled_streams += 1

        asyncio.get_running_loop().call_later(grace, cancel_if_orphan)

    async def _run(
        self, request: CompletionSnapshot, generation: InflightGeneration, delay: float
    ) -> Completion | None:
        def answering() -> None:
            generation.answering = True

        generated = await self.pipeline.run(
            request, delay, on_text=answering, quiet=generation.speculative
        )
        if generated is None:
            return None
        text, replace = generated.text, generated.replace_suffix_chars
        self.cache.put(request.uri, request.prefix, request.suffix, text, replace)
        return Completion(self._next_id(), text, replace, multiline=generated.multiline)

    def _next_id(self) -> str:
        return f"qwen-{next(self._ids)}"
