"""One prediction, in three steps: plan (sync), generate (the caller's model call), interpret.

``plan`` reads the document as it is now — region, edit history, prompt — and returns the
request to send. ``interpret`` reads the answer back against the *same* text (the caller checks
the document did not change meanwhile): the region's new text, its minimal edits, and the
refusal rules. Nothing here does I/O; the service (``service.py``) schedules and calls the model.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model.request import GenerationRequest
from .answer import Unusable, instruct_region, zeta_region
from .checks import CheckLimits, Refusal, edit_refusal, finish_refusal, parse_refusal
from .diff import (
    TextChange,
    apply_changes,
    minimal_edits,
    snap_to_words,
    without_whitespace_only,
)
from .history import EditEvent, HistoryLimits, edit_history, recent_edits
from .prompts import Excerpt, Format, PromptInput, build_request
from .region import Region, RegionLimits, editable_region

if TYPE_CHECKING:
    from ..documents import Document

_ids = itertools.count(1)


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


@dataclass(frozen=True)
class Limits:
    region: RegionLimits = field(default_factory=RegionLimits)
    history: HistoryLimits = field(default_factory=HistoryLimits)
    checks: CheckLimits = field(default_factory=CheckLimits)


@dataclass(frozen=True)
class Plan:
    """What was asked, about which text."""

    uri: str
    version: int
    text: str
    cursor: int
    region: Region
    events: tuple[EditEvent, ...]
    format: Format
    model: str
    request: GenerationRequest
    planned_at: float


@dataclass(frozen=True)
class Prediction:
    """Edits predicted for ``uri`` at ``version`` (text digest ``digest``): ``changes`` are in
    str offsets of that text; applying them turns the region into ``region_new``."""

    id: str
    uri: str
    version: int
    digest: str
    changes: tuple[TextChange, ...]
    region_start: int
    region_end: int
    region_new: str
    cursor: int
    format: Format
    model: str

    @property
    def first(self) -> TextChange:
        return self.changes[0]

    def applied(self, text: str) -> str:
        return apply_changes(text, self.changes)


@dataclass(frozen=True)
class Outcome:
    """A prediction, or why there is none (``refusal``; ``no_change`` is not a refusal)."""

    prediction: Prediction | None = None
    refusal: Refusal | None = None

    @property
    def reason(self) -> str:
        if self.prediction is not None:
            return "predicted"
        return self.refusal.reason if self.refusal else "no_change"


def plan(
    doc: Document,
    cursor: int,
    fmt: Format,
    model: str,
    docs: Iterable[Document],
    display_path: Callable[[Document], str],
    excerpts: Sequence[Excerpt] = (),
    limits: Limits = Limits(),
    timeout_s: float | None = None,
) -> Plan:
    """The request for a prediction at ``cursor`` in ``doc`` (edits from all ``docs``)."""
    region = editable_region(doc.line_index, cursor, doc.tree, limits.region)
    events = tuple(edit_history(docs, display_path, limits.history))
    prompt = PromptInput(
        display_path(doc), doc.language_id, doc.text, region, events, tuple(excerpts)
    )
    request = build_request(fmt, prompt, model, timeout_s)
    return Plan(
        doc.uri, doc.version, doc.text, cursor, region, events, fmt, model, request, time.time()
    )


def region_answer(plan: Plan, answer_text: str) -> str:
    """The region's new text from the answer (raises ``Unusable``)."""
    if plan.format == "zeta":
        return zeta_region(answer_text)
    region, text = plan.region, plan.text
    return instruct_region(
        answer_text,
        region.text(text),
        text[region.context_start : region.start],
        text[region.end : region.context_end],
    )


def interpret(
    plan: Plan,
    answer_text: str,
    finish_reason: str | None,
    doc: Document,
    limits: Limits = Limits(),
    now: float | None = None,
) -> Outcome:
    """The answer read back against ``doc``, which must still hold ``plan.text``."""
    refusal = finish_refusal(finish_reason)
    if refusal is not None:
        return Outcome(refusal=refusal)
    try:
        new_region = region_answer(plan, answer_text)
    except Unusable as exc:
        return Outcome(refusal=Refusal(f"unusable_{exc.reason}", str(exc)))
    region = plan.region
    old_region = region.text(plan.text)
    edits = minimal_edits(old_region, new_region, region.start)
    changes = tuple(without_whitespace_only(plan.text, edits))
    if not changes:
        return Outcome()
    now = time.monotonic() if now is None else now
    recent = [e for e in recent_edits(doc) if now - e.time <= limits.checks.typed_window_s]
    region_chars = len("".join(old_region.split()))
    refusal = edit_refusal(
        changes, doc.line_index, plan.cursor, region_chars, recent, limits.checks
    ) or parse_refusal(doc.tree, doc.line_index, doc.source, changes)
    if refusal is not None:
        return Outcome(refusal=refusal)
    prediction = Prediction(
        id=f"ne-{next(_ids)}",
        uri=plan.uri,
        version=plan.version,
        digest=text_digest(plan.text),
        changes=tuple(snap_to_words(plan.text, changes)),
        region_start=region.start,
        region_end=region.end,
        region_new=new_region,
        cursor=plan.cursor,
        format=plan.format,
        model=plan.model,
    )
    return Outcome(prediction=prediction)
