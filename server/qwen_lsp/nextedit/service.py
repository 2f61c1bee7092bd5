"""When to predict, and which prediction is current: per document, on the event loop.

* After an edit the document waits ``debounce_s`` (the edit *settles*); any further edit
  restarts the wait and cancels a prediction in flight, so a burst of keys costs at most one
  model call, made once the keys stop.
* A prediction is kept while the user types it (``follow.py``): those edits make no model call.
  Edits that leave the prediction drop it; typing all of it drops it as done and a new one is
  planned once the editing settles.
* A prediction belongs to one text (the document's open generation, version and text):
  ``current`` never returns one for another text (a reload at the same version included).
* ``request`` answers a client that asks: the current prediction, or the one in flight, or a new
  one at once — waiting at most ``wait_s``.

The LSP layer (``nextedit_lsp.py``) gives the model call (``generate``), the paths shown to the
model, related excerpts, and ``on_update``, called with each new, changed or dropped prediction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model.request import Answer, GenerationRequest
from .checks import Refusal
from .diff import TextChange
from .follow import follow
from .history import recent_edits
from .predict import Limits, Outcome, Plan, Prediction, interpret, plan
from .prompts import Excerpt, FormatSetting, choose_format

if TYPE_CHECKING:
    from ..documents import Document, DocumentStore

log = logging.getLogger(__name__)

REJECTED_MEMORY = 32  # rejected predictions remembered, so the same one is not offered again


@dataclass(frozen=True)
class NextEditConfig:
    enabled: bool = False
    model: str = ""
    format: FormatSetting = "auto"
    debounce_s: float = 0.4
    timeout_s: float = 15.0
    wait_s: float = 8.0  # longest a client's request waits (eglot gives up at 10 s)
    limits: Limits = field(default_factory=Limits)


@dataclass
class _DocState:
    task: asyncio.Task[None] | None = None
    prediction: Prediction | None = None
    text: str = ""  # the text the prediction is for
    generation: int = 0
    cursor: tuple[int, int] | None = None  # (version, offset) the client last reported
    settling: bool = False  # the task still waits for the edits to settle (no model call yet)
    done: asyncio.Event = field(default_factory=asyncio.Event)


Generate = Callable[[GenerationRequest], Awaitable[Answer]]
Update = Callable[[str, Prediction | None], None]


class NextEditService:
    def __init__(
        self,
        documents: DocumentStore,
        generate: Generate,
        config: Callable[[], NextEditConfig],
        display_path: Callable[[Document], str],
        on_update: Update,
        excerpts: Callable[[Document, int], Sequence[Excerpt]] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ):
        self.documents = documents
        self.generate = generate
        self.config = config
        self.display_path = display_path
        self.on_update = on_update
        self.excerpts = excerpts
        self.on_error = on_error
        self.stats: Counter[str] = Counter()
        self.last_outcome: dict[str, str] = {}
        self._docs: dict[str, _DocState] = {}
        self._rejected: deque[tuple[str, str]] = deque(maxlen=REJECTED_MEMORY)

    # --- editor events --------------------------------------------------------------------

    def did_change(self, doc: Document) -> None:
        """An edit arrived (already applied to ``doc``)."""
        if not self.config().enabled:
            self.close(doc.uri)
            return
        state = self._docs.setdefault(doc.uri, _DocState())
        self._cancel(state)
        followed = self._follow(state, doc)
        if followed != "kept":
            self._schedule(doc.uri, state, self.config().debounce_s)

    def cursor_at(self, doc: Document, offset: int) -> None:
        """Where the client's cursor is (from an inline completion or next-edit request)."""
        self._docs.setdefault(doc.uri, _DocState()).cursor = (doc.version, offset)

    def close(self, uri: str) -> None:
        state = self._docs.pop(uri, None)
        if state is not None:
            self._cancel(state)

    def cancel_all(self) -> None:
        for state in self._docs.values():
            self._cancel(state)

    # --- what clients get -----------------------------------------------------------------

    def current(self, doc: Document) -> Prediction | None:
        """The prediction for the document's current text, if any."""
        state = self._docs.get(doc.uri)
        if state is None or state.prediction is None:
            return None
        prediction = state.prediction
        same_text = doc.text is state.text or doc.text == state.text
        if prediction.version != doc.version or not same_text:
            return None
        if doc.generation != state.generation:
            return None
        return prediction

    def find(self, prediction_id: str) -> tuple[Document, Prediction] | None:
        for uri, state in self._docs.items():
            if state.prediction is not None and state.prediction.id == prediction_id:
                doc = self.documents.find(uri)
                if doc is not None and self.current(doc) is state.prediction:
                    return doc, state.prediction
        return None

    async def request(self, doc: Document, offset: int) -> Prediction | None:
        """The prediction at ``offset``: the current one, the one being made, or a new one."""
        config = self.config()
        if not config.enabled:
            return None
        self.cursor_at(doc, offset)
        if (prediction := self.current(doc)) is not None:
            return prediction
        state = self._docs.setdefault(doc.uri, _DocState())
        if state.task is None or state.task.done() or state.settling:
            self._cancel(state, counted=False)
            self._schedule(doc.uri, state, 0.0)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(state.done.wait()), config.wait_s)
        live = self.documents.find(doc.uri)
        return self.current(live) if live is not None else None

    def accepted(self, prediction_id: str) -> None:
        self.stats["accepted"] += 1
        log.debug("next edit %s accepted", prediction_id)

    def rejected(self, prediction_id: str) -> None:
        """The user dismissed it: drop it and do not offer the same edit again."""
        self.stats["rejected"] += 1
        for uri, state in self._docs.items():
            if state.prediction is not None and state.prediction.id == prediction_id:
                self._rejected.append((uri, state.prediction.region_new))
                state.prediction = None
                self.on_update(uri, None)

    # --- internals ------------------------------------------------------------------------

    def _cancel(self, state: _DocState, counted: bool = True) -> None:
        if state.task is not None and not state.task.done():
            state.task.cancel()
            self.stats["cancelled"] += counted
        state.task = None

    def _follow(self, state: _DocState, doc: Document) -> str:
        prediction = state.prediction
        if prediction is None:
            return "none"
        if doc.generation != state.generation:
            result, kept = "diverged", None
        else:
            change = _change_between(state.text, doc.text)
            result, kept = follow(prediction, state.text, change, doc.text, doc.version)
        self.stats[f"follow_{result}"] += 1
        state.prediction, state.text = kept, doc.text if kept else ""
        self.on_update(doc.uri, kept)
        return result

    def _schedule(self, uri: str, state: _DocState, delay_s: float) -> None:
        state.done = done = asyncio.Event()
        state.task = asyncio.ensure_future(self._predict_later(uri, state, delay_s, done))

    async def _predict_later(
        self, uri: str, state: _DocState, delay_s: float, done: asyncio.Event
    ) -> None:
        try:
            state.settling = True
            if delay_s > 0:
                await asyncio.sleep(delay_s)
            state.settling = False
            await self._predict(uri, state)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed prediction is no prediction; the editor goes on
            self.stats["failed"] += 1
            if self.on_error is not None:
                self.on_error(exc)
            else:
                log.warning("next-edit prediction failed: %s", exc)
        finally:
            done.set()

    def _cursor(self, state: _DocState, doc: Document) -> int | None:
        """The client's cursor when it told us for this version, else the end of the latest
        edit (where the cursor is after typing); None when the document has no edits."""
        if state.cursor is not None and state.cursor[0] == doc.version:
            return state.cursor[1]
        edits = recent_edits(doc)
        if not edits:
            return None
        latest = max(edits, key=lambda e: e.time)
        return latest.end

    async def _predict(self, uri: str, state: _DocState) -> None:
        doc = self.documents.find(uri)
        config = self.config()
        if doc is None or not config.enabled:
            return
        cursor = self._cursor(state, doc)
        if cursor is None:
            return
        asked = self._plan(doc, cursor, config)
        self.stats["model_calls"] += 1
        started = time.monotonic()
        answer = await self.generate(asked.request)
        live = self.documents.find(uri)
        if live is None or (live.text is not asked.text and live.text != asked.text):
            self.stats["stale"] += 1
            return
        outcome = interpret(asked, answer.text, answer.outcome.finish_reason, live, config.limits)
        outcome = self._not_rejected(uri, outcome)
        self.stats[outcome.reason] += 1
        self.last_outcome[uri] = outcome.reason
        log.debug(
            "next edit for %s: %s in %.0f ms",
            uri,
            outcome.refusal.detail if outcome.refusal else outcome.reason,
            (time.monotonic() - started) * 1000,
        )
        state.prediction = outcome.prediction
        state.text = asked.text if outcome.prediction else ""
        state.generation = live.generation
        self.on_update(uri, outcome.prediction)

    def _plan(self, doc: Document, cursor: int, config: NextEditConfig) -> Plan:
        fmt = choose_format(config.format, config.model)
        excerpts = self.excerpts(doc, cursor) if self.excerpts is not None else ()
        return plan(
            doc,
            cursor,
            fmt,
            config.model,
            list(self.documents),
            self.display_path,
            excerpts,
            config.limits,
            config.timeout_s,
        )

    def _not_rejected(self, uri: str, outcome: Outcome) -> Outcome:
        prediction = outcome.prediction
        if prediction is not None and (uri, prediction.region_new) in self._rejected:
            return Outcome(refusal=Refusal("rejected_before", "the user dismissed this edit"))
        return outcome


def _change_between(before: str, after: str) -> TextChange:
    """The one change that turns ``before`` into ``after`` (their common ends left out)."""
    from ..documents import common_affixes

    prefix, suffix = common_affixes(before, after)
    return TextChange(prefix, len(before) - suffix, after[prefix : len(after) - suffix])
