"""What the user just did: the open documents' recent edits, as hunks a model can read.

The document store keeps each document's edit history (typing coalesced into one record while
it stays in one place, see ``documents.py``). ``recent_edits`` is the only function here that
reads that history; everything else works on its ``RecentEdit`` copies, so the history can move
(``text/history.py``) without touching the rest.

An ``EditEvent`` is one edit as a unified-diff hunk: the changed lines before and after, with a
few lines of context from the document's current text. ``edit_history`` picks the newest events
across files within a budget and returns them oldest first (the order they happened).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..documents import Document

CONTEXT_LINES = 2


@dataclass(frozen=True, slots=True)
class RecentEdit:
    """One recorded edit: ``inserted`` sits at ``[start, end)`` of the document's current text
    and replaced ``removed``; ``time`` is ``time.monotonic()`` of its last keystroke."""

    uri: str
    time: float
    start: int
    end: int
    inserted: str
    removed: str


def recent_edits(doc: Document) -> list[RecentEdit]:
    """The document's recorded edits, oldest first (the one reader of the edit history)."""
    return [
        RecentEdit(doc.uri, r.time, r.start, r.end, r.inserted, r.removed)
        for r in doc.recent_edits
        if not r.truncated
    ]


@dataclass(frozen=True)
class HistoryLimits:
    max_events: int = 6
    max_event_chars: int = 1500  # a bigger hunk (a paste, a reformat) says little: left out
    max_total_chars: int = 4000
    max_age_s: float = 600.0
    context_lines: int = CONTEXT_LINES


@dataclass(frozen=True, slots=True)
class EditEvent:
    """One edit as a hunk. Lines are 0-based; ``old_start`` is where the changed lines began
    before the edit (the same place, in the text as it is now)."""

    path: str
    time: float
    old_start: int
    before: tuple[str, ...]  # context lines above
    old_lines: tuple[str, ...]
    new_lines: tuple[str, ...]
    after: tuple[str, ...]  # context lines below

    def hunk(self) -> str:
        """``@@ -a,b +c,d @@`` and the lines (context ' ', removed '-', added '+')."""
        first = self.old_start - len(self.before) + 1
        context = len(self.before) + len(self.after)
        old_n, new_n = context + len(self.old_lines), context + len(self.new_lines)
        lines = [f"@@ -{_span(first, old_n)} +{_span(first, new_n)} @@"]
        lines += [f" {line}" for line in self.before]
        lines += [f"-{line}" for line in self.old_lines]
        lines += [f"+{line}" for line in self.new_lines]
        lines += [f" {line}" for line in self.after]
        return "\n".join(lines)


def _span(first: int, count: int) -> str:
    return f"{first},{count}" if count != 1 else str(first)


def event_of(edit: RecentEdit, text: str, path: str, context_lines: int) -> EditEvent:
    """The hunk of ``edit`` in ``text`` (the document's current text)."""
    line_start = text.rfind("\n", 0, edit.start) + 1
    line_end = text.find("\n", edit.end)
    line_end = len(text) if line_end < 0 else line_end
    head, tail = text[line_start : edit.start], text[edit.end : line_end]
    old_lines = tuple((head + edit.removed + tail).split("\n"))
    new_lines = tuple((head + edit.inserted + tail).split("\n"))
    old_lines, new_lines, skipped = _drop_common_lines(old_lines, new_lines)
    row = text.count("\n", 0, line_start) + skipped
    first_changed = _offset_of_line(text, line_start, skipped)
    before = _lines_before(text, first_changed, context_lines)
    end_of_new = _offset_after_lines(text, first_changed, len(new_lines))
    after = _lines_after(text, end_of_new, context_lines)
    return EditEvent(path, edit.time, row, before, old_lines, new_lines, after)


def _drop_common_lines(
    old: tuple[str, ...], new: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """Whole lines the edit left as they were (a typed newline leaves its line whole) move to
    the context; returns the changed lines and how many leading lines were dropped."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return old[head : len(old) - tail], new[head : len(new) - tail], head


def _offset_of_line(text: str, start: int, lines: int) -> int:
    for _ in range(lines):
        start = text.index("\n", start) + 1
    return start


def _offset_after_lines(text: str, start: int, lines: int) -> int:
    """The offset of the line after ``lines`` lines from ``start`` (len(text) at the end)."""
    for _ in range(lines):
        found = text.find("\n", start)
        if found < 0:
            return len(text) + 1
        start = found + 1
    return start


def _lines_before(text: str, line_start: int, count: int) -> tuple[str, ...]:
    if line_start <= 0 or count <= 0:
        return ()
    start = line_start - 1
    for _ in range(count):
        start = text.rfind("\n", 0, start)
        if start < 0:
            break
    return tuple(text[start + 1 : line_start - 1].split("\n"))


def _lines_after(text: str, start: int, count: int) -> tuple[str, ...]:
    if start > len(text) or count <= 0:
        return ()
    end = start
    for _ in range(count):
        found = text.find("\n", end)
        if found < 0:
            end = len(text)
            break
        end = found + 1
    if end <= start:
        return ()
    chunk = text[start:end]
    return tuple((chunk[:-1] if chunk.endswith("\n") else chunk).split("\n"))


def edit_history(
    docs: Iterable[Document],
    display_path: Callable[[Document], str],
    limits: HistoryLimits = HistoryLimits(),
    now: float | None = None,
) -> list[EditEvent]:
    """The newest edits across ``docs`` within ``limits``, oldest first."""
    now = time.monotonic() if now is None else now
    candidates: list[tuple[RecentEdit, Document]] = []
    for doc in docs:
        candidates += [(e, doc) for e in recent_edits(doc) if now - e.time <= limits.max_age_s]
    candidates.sort(key=lambda pair: pair[0].time, reverse=True)
    chosen: list[EditEvent] = []
    total = 0
    for edit, doc in candidates:
        if len(chosen) >= limits.max_events:
            break
        event = event_of(edit, doc.text, display_path(doc), limits.context_lines)
        size = len(event.hunk())
        if size > limits.max_event_chars:
            continue
        if total + size > limits.max_total_chars:
            break
        chosen.append(event)
        total += size
    chosen.reverse()
    return chosen
