"""Which predictions never reach the user.

A predicted edit is a suggestion the user takes with one key, often without reading it closely,
so a wrong one costs more than none. Refused (each with a reason code, counted by the service
and the benchmark):

* ``truncated`` — the answer did not end by itself (``finish_reason`` other than ``stop``: cut
  at ``max_tokens``, at the client's cap, or a stream that ended without a reason);
* ``far_away`` — an edit more than ``far_lines`` lines from the cursor and from every recent edit;
* ``rewrites_region`` — the answer replaces most of the region instead of editing it;
* ``deletes_typed`` — an edit removes text the user typed in the last minute (or, after a
  deletion, text on both sides of where they deleted);
* ``reverts_edit`` — an edit puts back what the user just deleted;
* ``breaks_parse`` — the file has more tree-sitter errors with the edit than without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Parser, Tree

from ..positions import LineIndex
from ..syntax.analysis import error_count
from ..syntax.tree import advance_point
from .diff import TextChange
from .history import RecentEdit


@dataclass(frozen=True)
class Refusal:
    reason: str
    detail: str


@dataclass(frozen=True)
class CheckLimits:
    typed_window_s: float = 60.0
    typed_edits: int = 4  # the newest edits of the document that count as "just typed"
    far_lines: int = 30  # the region's most lines: refuses only with a bigger region
    max_rewrite_share: float = 0.5  # of the region's non-blank characters removed by the edits
    min_rewrite_chars: int = 40  # below this, any rewrite is small enough


def finish_refusal(finish_reason: str | None) -> Refusal | None:
    if finish_reason == "stop":
        return None
    said = {"length": "the answer reached max_tokens", "cap": "the answer was cut at its cap"}
    return Refusal(
        "truncated", said.get(finish_reason or "", "the answer ended without a finish reason")
    )


def edit_refusal(
    changes: Sequence[TextChange],
    index: LineIndex,
    cursor: int,
    region_chars: int,
    recent: Sequence[RecentEdit],
    limits: CheckLimits = CheckLimits(),
) -> Refusal | None:
    """The first rule the edits break, checked against the document's text (``index``)."""
    text = index.text
    typed = list(recent)[-limits.typed_edits :]
    for check in (_far_away, _rewrites_region, _deletes_typed, _reverts_edit):
        refusal = check(changes, index, cursor, region_chars, typed, limits, text)
        if refusal is not None:
            return refusal
    return None


def _far_away(changes, index, cursor, region_chars, typed, limits, text) -> Refusal | None:
    anchors = [index.line_of(cursor)] + [index.line_of(e.start) for e in typed]
    for change in changes:
        first, last = index.line_of(change.start), index.line_of(change.end)
        distance = min(
            0 if first <= anchor <= last else min(abs(anchor - first), abs(anchor - last))
            for anchor in anchors
        )
        if distance > limits.far_lines:
            return Refusal(
                "far_away", f"an edit on line {first + 1} is {distance} lines from the cursor"
            )
    return None


def _rewrites_region(changes, index, cursor, region_chars, typed, limits, text) -> Refusal | None:
    removed = sum(len("".join(text[c.start : c.end].split())) for c in changes)
    allowed = max(limits.min_rewrite_chars, limits.max_rewrite_share * region_chars)
    if removed > allowed:
        return Refusal(
            "rewrites_region",
            f"the answer replaces {removed} of the region's {region_chars} characters",
        )
    return None


def _deletes_typed(changes, index, cursor, region_chars, typed, limits, text) -> Refusal | None:
    for edit in typed:
        for change in changes:
            lo, hi = max(change.start, edit.start), min(change.end, edit.end)
            if lo < hi or (edit.start == edit.end and change.start < edit.start < change.end):
                removed = text[change.start : change.end] if lo == hi else text[lo:hi]
                return Refusal(
                    "deletes_typed",
                    f"the edit removes {removed.strip()[:40]!r} where the user just edited",
                )
    return None


def _reverts_edit(changes, index, cursor, region_chars, typed, limits, text) -> Refusal | None:
    for edit in typed:
        removed = " ".join(edit.removed.split())
        if edit.inserted.strip() or not removed:
            continue
        line = index.line_of(edit.start)
        for change in changes:
            near = index.line_of(change.start) - 1 <= line <= index.line_of(change.end) + 1
            if near and removed in " ".join(change.new_text.split()):
                return Refusal("reverts_edit", f"the edit puts back {removed!r}, just deleted")
    return None


def parse_refusal(
    tree: Tree | None, index: LineIndex, source: bytes, changes: Sequence[TextChange]
) -> Refusal | None:
    """``breaks_parse`` when the edited document has more syntax errors than the current one
    (reparsed incrementally from a copy of the document's tree)."""
    if tree is None or not changes:
        return None
    before = error_count(tree)
    edited = tree.copy()
    new_source = source
    for change in sorted(changes, key=lambda c: c.start, reverse=True):
        start_byte, old_end_byte = index.byte_offset(change.start), index.byte_offset(change.end)
        inserted = change.new_text.encode("utf-8", "surrogatepass")
        start_point = index.point_at(change.start)
        edited.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=start_byte + len(inserted),
            start_point=start_point,
            old_end_point=index.point_at(change.end),
            new_end_point=advance_point(start_point, inserted),
        )
        new_source = new_source[:start_byte] + inserted + new_source[old_end_byte:]
    after = error_count(Parser(tree.language).parse(new_source, edited))
    if after > before:
        return Refusal("breaks_parse", f"the edit adds syntax errors ({before} → {after})")
    return None
