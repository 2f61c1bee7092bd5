"""Minimal edits between the editable region and the model's rewrite of it.

A model answers with the whole region rewritten; what the editor gets is the smallest set of
changes that turns the old region into the new one: lines are matched first (so an unchanged
line is never part of an edit), then inside a changed block characters are matched, and every
edit is trimmed of the text it would replace with itself. Offsets are ``str`` indices.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Equal runs shorter than this inside a changed block join their neighbours into one edit, so
# a word rewritten letter by letter is one replacement, not five scattered ones.
JOIN_BELOW_CHARS = 3


@dataclass(frozen=True, slots=True)
class TextChange:
    """Replace ``text[start:end]`` with ``new_text``."""

    start: int
    end: int
    new_text: str

    @property
    def size(self) -> int:
        """Characters removed plus characters inserted."""
        return (self.end - self.start) + len(self.new_text)

    def shifted(self, delta: int) -> TextChange:
        return TextChange(self.start + delta, self.end + delta, self.new_text)


def apply_changes(text: str, changes: Iterable[TextChange]) -> str:
    """``text`` with non-overlapping ``changes`` applied (given in any order)."""
    out, cursor = [], 0
    for change in sorted(changes, key=lambda c: (c.start, c.end)):
        if change.start < cursor:
            raise ValueError(f"overlapping changes at {change.start}")
        out += [text[cursor : change.start], change.new_text]
        cursor = change.end
    out.append(text[cursor:])
    return "".join(out)


def trim(old: str, new: str, start: int) -> TextChange | None:
    """The change replacing ``old`` (at ``start``) by ``new`` minus their common ends."""
    if old == new:
        return None
    limit = min(len(old), len(new))
    head = 0
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return TextChange(start + head, start + len(old) - tail, new[head : len(new) - tail])


def minimal_edits(old: str, new: str, base: int = 0) -> list[TextChange]:
    """Changes (at ``base`` + offsets into ``old``) that turn ``old`` into ``new``."""
    if old == new:
        return []
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = _starts(old_lines)
    new_starts = _starts(new_lines)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    changes: list[TextChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_block = old[starts[i1] : starts[i2]]
        new_block = new[new_starts[j1] : new_starts[j2]]
        changes += _block_edits(old_block, new_block, base + starts[i1])
    return _merge_touching(changes)


def _starts(lines: Sequence[str]) -> list[int]:
    out = [0]
    for line in lines:
        out.append(out[-1] + len(line))
    return out


def _block_edits(old: str, new: str, start: int) -> list[TextChange]:
    """A changed block of lines: character-level edits, small equal runs joined."""
    if not old or not new:
        change = trim(old, new, start)
        return [change] if change else []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    spans: list[tuple[int, int, int, int]] = []  # old i1, i2, new j1, j2 of changed spans
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if spans and i1 - spans[-1][1] < JOIN_BELOW_CHARS and j1 - spans[-1][3] < JOIN_BELOW_CHARS:
            spans[-1] = (spans[-1][0], i2, spans[-1][2], j2)
        else:
            spans.append((i1, i2, j1, j2))
    out = []
    for i1, i2, j1, j2 in spans:
        change = trim(old[i1:i2], new[j1:j2], start + i1)
        if change is not None:
            out.append(change)
    return out


def _merge_touching(changes: list[TextChange]) -> list[TextChange]:
    """Changes that touch (one ends where the next starts) become one."""
    out: list[TextChange] = []
    for change in sorted(changes, key=lambda c: c.start):
        if out and out[-1].end == change.start:
            last = out.pop()
            change = TextChange(last.start, change.end, last.new_text + change.new_text)
        out.append(change)
    return out


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def snap_to_words(text: str, changes: Iterable[TextChange]) -> list[TextChange]:
    """Changes that start or end inside a word of ``text`` grow to the word's bounds (the
    result of applying them is the same): ``width`` → ``w`` reads as a replaced word, not as
    four deleted letters. Changes that grow into each other become one."""

    def inside(pos: int) -> bool:
        return 0 < pos < len(text) and _is_word(text[pos - 1]) and _is_word(text[pos])

    groups: list[tuple[int, int, list[TextChange]]] = []
    for change in sorted(changes, key=lambda c: c.start):
        start, end = change.start, change.end
        while inside(start):
            start -= 1
        while inside(end):
            end += 1
        if groups and start < groups[-1][1]:
            first, last_end, members = groups.pop()
            groups.append((first, max(end, last_end), [*members, change]))
        else:
            groups.append((start, end, [change]))
    return [
        TextChange(start, end, apply_changes(text[start:end], [c.shifted(-start) for c in group]))
        for start, end, group in groups
    ]


def without_whitespace_only(text: str, changes: Sequence[TextChange]) -> list[TextChange]:
    """The changes minus those that only move whitespace, away from every real change (a
    model re-indenting lines it was not asked about is noise; re-indenting the lines next to
    a real change is part of it)."""

    def lines(change: TextChange) -> tuple[int, int]:
        first = text.count("\n", 0, change.start)
        return first, first + text.count("\n", change.start, change.end)

    spaces = [text[c.start : c.end].split() == c.new_text.split() for c in changes]
    real = [lines(c) for c, blank in zip(changes, spaces, strict=True) if not blank]
    if not real:
        return []
    kept = []
    for change, blank in zip(changes, spaces, strict=True):
        if blank:
            first, last = lines(change)
            if not any(a - 1 <= last and first <= b + 1 for a, b in real):
                continue
        kept.append(change)
    return kept


def change_size(old: str, new: str) -> int:
    """Characters removed plus inserted by the minimal edits from ``old`` to ``new``."""
    return sum(c.size for c in minimal_edits(old, new))
