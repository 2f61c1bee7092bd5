"""CompletionEngine's scheduling: cache, adopt, cancel-previous, debounce, orphan grace, speculate.

The engine runs for real (planner, gate, post-processing); only the model is a stand-in, an
async generator that yields scripted text at scripted times, and time is a virtual clock
(``tests/support/virtual_clock.py``): every figure below is exact, and a test takes
milliseconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from qwen_lsp.completion.engine import (
    ORPHAN_GRACE_S,
    PAUSE_S,
    SHORT_DEBOUNCE_S,
    Completion,
    CompletionEngine,
)
from qwen_lsp.completion.planner import PromptPlanner
from qwen_lsp.completion.snapshot import CompletionSnapshot
from qwen_lsp.context.bundle import ContextBundle
from qwen_lsp.model.client import GenerationRequest
from qwen_lsp.settings import Settings
from tests.support.virtual_clock import run_on_virtual_clock

URI = "file:///work/area.py"
CURSOR = "|"
# The cursor after ``return``; the model is asked for one line.
DOCUMENT = "def area(width, height):\n    return |\n"
DEBOUNCE_S = Settings().completion.debounce_ms / 1000

Script = list[tuple[float, str]]  # (seconds before the piece, piece of text)


@dataclass
class Call:
    """One model call as the model saw it."""

    request: GenerationRequest
    started: float
    ended: float | None = None  # when the stream closed (the caller read its fill or left)
    sent: int = 0  # pieces sent
    scripted: int = 0  # pieces the script had

    @property
    def cut_short(self) -> bool:
        """The stream closed before the model had sent everything."""
        return self.ended is not None and self.sent < self.scripted


class ScriptedModel:
    """Stands in for ``ModelClient``: answers by the FIM prefix, one piece at a time."""

    def __init__(self, answers: Callable[[str], Script]):
        self.answers = answers
        self.calls: list[Call] = []

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        script = self.answers(request.prefix)
        call = Call(request, loop.time(), scripted=len(script))
        self.calls.append(call)
        try:
            for delay, piece in script:
                await asyncio.sleep(delay)
                call.sent += 1
                yield piece
        finally:
            call.ended = loop.time()


class WindowOnly:
    """Context provider: the document's own prefix and suffix, nothing else."""

    def build(self, request, budget, local_budget, suffix_share, cross_file=True):  # type: ignore[no-untyped-def]
        return ContextBundle(request.prefix, request.suffix, 0, 0)


def answer_area(prefix: str) -> Script:
    """The rest of ``width * height`` after ``return`` and what was typed of it; `` + 1`` after
    the whole of it (what speculation asks for); ``_total`` after anything else."""
    typed = prefix.rsplit("return ", 1)[-1]
    if typed == "width * height":
        return [(0.05, " + 1\n")]
    rest = "width * height"[len(typed) :] if "width * height".startswith(typed) else "_total"
    return [(0.05, rest[:5]), (0.20, rest[5:] + "\n")]


def snapshot(text: str, typed: str = "", *, automatic: bool = True) -> CompletionSnapshot:
    """The document with ``typed`` inserted at the cursor marker, the cursor after it."""
    offset = text.index(CURSOR)
    text = text[:offset] + typed + text[offset + 1 :]
    return CompletionSnapshot(URI, text, offset + len(typed), "python", None, 1, automatic)


@dataclass
class Harness:
    model: ScriptedModel
    engine: CompletionEngine
    statuses: list[tuple[float, str]]

    @staticmethod
    def now() -> float:
        return asyncio.get_running_loop().time()

    def start(self, request: CompletionSnapshot) -> asyncio.Task[list[Completion]]:
        return asyncio.ensure_future(self.engine.complete(request))


def harness(answers: Callable[[str], Script] = answer_area, **completion: object) -> Harness:
    settings = Settings()
    if completion:
        settings = dataclasses.replace(
            settings, completion=dataclasses.replace(settings.completion, **completion)
        )
    model = ScriptedModel(answers)
    planner = PromptPlanner(settings, lambda: "completions", context_provider=WindowOnly())
    statuses: list[tuple[float, str]] = []
    engine = CompletionEngine(
        settings,
        model,  # type: ignore[arg-type]
        planner,
        on_status=lambda state, _m: statuses.append((asyncio.get_running_loop().time(), state)),
    )
    return Harness(model, engine, statuses)


def texts(completions: list[Completion]) -> list[str]:
    return [c.text for c in completions]


# --- typed-through cache -----------------------------------------------------------------------


def test_typing_through_a_served_suggestion_is_answered_from_the_cache() -> None:
    async def scenario() -> None:
        h = harness()
        first = await h.engine.complete(snapshot(DOCUMENT))
        assert texts(first) == ["width * height"] and not first[0].from_cache
        typed = await h.engine.complete(snapshot(DOCUMENT, "wid"))
        assert texts(typed) == ["th * height"] and typed[0].from_cache
        assert len(h.model.calls) == 1 and h.engine.stats.cache_hits == 1

    run_on_virtual_clock(scenario)


def test_typing_something_else_asks_the_model_again() -> None:
    async def scenario() -> None:
        h = harness()
        await h.engine.complete(snapshot(DOCUMENT))
        await h.engine.complete(snapshot(DOCUMENT, "hei"))
        assert len(h.model.calls) == 2 and h.engine.stats.cache_hits == 0

    run_on_virtual_clock(scenario)


# --- adopt or cancel-previous --------------------------------------------------------------------


def test_a_keystroke_adopts_the_generation_that_is_already_answering() -> None:
    async def scenario() -> None:
        h = harness()
        first = h.start(snapshot(DOCUMENT))
        await asyncio.sleep(0.1)  # debounce 0.01 + first piece at 0.06: answering
        second = await h.engine.complete(snapshot(DOCUMENT, "wi"))
        assert texts(second) == ["dth * height"] and second[0].from_cache
        assert texts(await first) == ["width * height"]
        assert len(h.model.calls) == 1 and not h.model.calls[0].cut_short
        assert h.engine.stats.reused_inflight == 1
        # The adopting request waited for the stream's end, not longer.
        assert h.now() == pytest.approx(SHORT_DEBOUNCE_S + 0.25)

    run_on_virtual_clock(scenario)


def test_a_generation_still_waiting_for_its_first_token_is_replaced_not_adopted() -> None:
    async def scenario() -> None:
        h = harness()
        first = h.start(snapshot(DOCUMENT))
        await asyncio.sleep(0.03)  # the model was called at 0.01 and has sent nothing yet
        second = h.start(snapshot(DOCUMENT, "w"))
        assert await first == []  # superseded: an empty answer, not an error
        old = h.model.calls[0]
        assert old.cut_short and old.ended == pytest.approx(0.03)
        assert texts(await second) == ["idth * height"]  # served from the new generation
        assert len(h.model.calls) == 2
        assert h.engine.stats.superseded == 1 and h.engine.stats.cancelled_streams == 1

    run_on_virtual_clock(scenario)


def test_a_keystroke_that_changes_the_text_after_the_cursor_cancels_the_running_stream() -> None:
    async def scenario() -> None:
        h = harness()
        first = h.start(snapshot(DOCUMENT))
        await asyncio.sleep(0.1)  # answering
        elsewhere = "def area(width, height):\n    return |\n\n# note\n"
        second = h.start(snapshot(elsewhere, "w"))
        assert await first == []
        assert h.model.calls[0].cut_short and h.model.calls[0].ended == pytest.approx(0.1)
        assert texts(await second) == ["idth * height"]
        assert h.engine.stats.reused_inflight == 0

    run_on_virtual_clock(scenario)


# --- debounce ------------------------------------------------------------------------------------


def test_the_first_keystroke_after_a_pause_waits_briefly_a_burst_waits_the_full_debounce() -> None:
    async def scenario() -> None:
        h = harness()
        await h.engine.complete(snapshot(DOCUMENT))  # first request: short debounce
        at = h.now()
        await h.engine.complete(snapshot(DOCUMENT, "h"))  # within the burst
        await asyncio.sleep(PAUSE_S + 0.01)
        paused = h.now()
        await h.engine.complete(snapshot(DOCUMENT, "x"))  # after a pause
        starts = [call.started for call in h.model.calls]
        assert starts == pytest.approx(
            [SHORT_DEBOUNCE_S, at + DEBOUNCE_S, paused + SHORT_DEBOUNCE_S]
        )

    run_on_virtual_clock(scenario)


def test_an_invoked_request_skips_the_debounce() -> None:
    async def scenario() -> None:
        h = harness(debounce_ms=500)
        await h.engine.complete(snapshot(DOCUMENT))
        at = h.now()
        await h.engine.complete(snapshot(DOCUMENT, "h", automatic=False))
        assert h.model.calls[1].started == at

    run_on_virtual_clock(scenario)


def test_keystrokes_within_the_debounce_cost_no_model_call() -> None:
    async def scenario() -> None:
        h = harness()
        await h.engine.complete(snapshot(DOCUMENT))
        h.model.calls.clear()
        burst = [h.start(snapshot(DOCUMENT, typed)) for typed in ("x",)]
        for typed in ("x_", "x_s", "x_si"):
            await asyncio.sleep(0.02)  # faster than the 60 ms debounce
            burst.append(h.start(snapshot(DOCUMENT, typed)))
        results = [await task for task in burst]
        assert results[:-1] == [[], [], []]
        assert len(h.model.calls) == 1  # only the last keystroke reached the model
        assert h.model.calls[0].request.prefix.endswith("return x_si")

    run_on_virtual_clock(scenario)


# --- orphan grace --------------------------------------------------------------------------------


def slow_answer(_prefix: str) -> Script:
    return [(0.05, "width"), (1.0, " * height\n")]


def test_a_generation_whose_caller_cancelled_lives_for_the_grace_period_then_stops() -> None:
    async def scenario() -> None:
        h = harness(slow_answer)
        caller = h.start(snapshot(DOCUMENT))
        await asyncio.sleep(0.1)
        caller.cancel()  # the client sent $/cancelRequest
        with pytest.raises(asyncio.CancelledError):
            await caller
        await asyncio.sleep(ORPHAN_GRACE_S - 0.01)
        assert h.model.calls[0].ended is None  # still streaming, for a follow-up to adopt
        await asyncio.sleep(0.02)
        call = h.model.calls[0]
        assert call.cut_short and call.ended == pytest.approx(0.1 + ORPHAN_GRACE_S)
        assert h.engine.stats.cancelled_streams == 1

    run_on_virtual_clock(scenario)


def test_an_orphan_adopted_within_the_grace_period_streams_on() -> None:
    async def scenario() -> None:
        h = harness(slow_answer)
        caller = h.start(snapshot(DOCUMENT))
        await asyncio.sleep(0.1)
        caller.cancel()
        await asyncio.sleep(ORPHAN_GRACE_S / 2)
        follow_up = await h.engine.complete(snapshot(DOCUMENT, "wi"))
        assert texts(follow_up) == ["dth * height"]
        assert len(h.model.calls) == 1 and not h.model.calls[0].cut_short
        assert h.engine.stats.reused_inflight == 1 and h.engine.stats.cancelled_streams == 0

    run_on_virtual_clock(scenario)


# --- speculation ---------------------------------------------------------------------------------


def accepted(text: str, shown: str) -> str:
    """The document after accepting ``shown`` at the cursor (the marker moves past it)."""
    return text.replace(CURSOR, shown + CURSOR)


def test_speculation_fetches_what_follows_a_shown_suggestion_quietly() -> None:
    async def scenario() -> None:
        h = harness(speculative=True)
        request = snapshot(DOCUMENT)
        shown = await h.engine.complete(request)
        h.engine.speculate(request, shown[0])
        await asyncio.sleep(0.1)
        speculative = h.model.calls[1]
        assert speculative.request.prefix.endswith("return width * height")
        assert not speculative.cut_short
        assert [state for _t, state in h.statuses] == ["busy", "idle"]  # the real call only
        after = await h.engine.complete(snapshot(accepted(DOCUMENT, shown[0].text)))
        assert texts(after) == [" + 1"] and after[0].from_cache
        assert len(h.model.calls) == 2 and h.engine.stats.speculative_calls == 1

    run_on_virtual_clock(scenario)


def test_speculation_never_displaces_a_running_request() -> None:
    async def scenario() -> None:
        h = harness(speculative=True)
        request = snapshot(DOCUMENT)
        shown = await h.engine.complete(request)
        running = h.start(snapshot(DOCUMENT, "h"))
        await asyncio.sleep(0.03)  # its model call is on
        h.engine.speculate(request, shown[0])
        assert await running != []
        assert len(h.model.calls) == 2 and h.engine.stats.speculative_calls == 0

    run_on_virtual_clock(scenario)


def test_speculation_is_off_unless_enabled() -> None:
    async def scenario() -> None:
        h = harness()
        request = snapshot(DOCUMENT)
        shown = await h.engine.complete(request)
        h.engine.speculate(request, shown[0])
        await asyncio.sleep(1.0)
        assert len(h.model.calls) == 1

    run_on_virtual_clock(scenario)


# --- the virtual clock itself -------------------------------------------------------------------


def test_the_virtual_clock_jumps_to_the_next_timer() -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        fired: list[float] = []
        loop.call_later(3.0, lambda: fired.append(loop.time()))
        await asyncio.sleep(5.0)
        assert fired == [3.0]
        return loop.time()

    assert run_on_virtual_clock(scenario) == 5.0


def test_the_virtual_clock_refuses_to_wait_for_nothing() -> None:
    async def scenario() -> None:
        await asyncio.get_running_loop().create_future()  # nobody will ever set it

    with pytest.raises(RuntimeError, match="deadlock"):
        run_on_virtual_clock(scenario)
