"""The text around the cursor as the filters see it (``PostContext.before`` / ``after``), shared
between requests whose text there is the same.

Each keystroke is a new request with a new prefix, but the lines above the cursor's line rarely
change between two of them, and typing changes the text before the cursor only, so consecutive
requests nearly always have the same suffix. Cutting the texts down (``MAX_BEFORE_LINES``,
``MAX_AFTER_LINES``), splitting them into lines and lexing them cost far more than the keystroke
itself on a large file, so they are done once per distinct text and kept in small caches.
Entries are found by content, never by document or version: a hit means the text that decides
the result is byte-for-byte the same, so switching documents, edits and undo need no
invalidation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .textutil import to_lf

MAX_BEFORE_LINES = 800
MAX_BEFORE_CHARS = 60_000
MAX_AFTER_LINES = 300
MAX_AFTER_CHARS = 30_000
CACHE_ENTRIES = 8  # a few open documents (or cursor lines) at once

# How ``before`` was cut from the prefix; only the first two can be reused by a later prefix
# (and only when the prefix has no carriage returns: see ``prefix_view``).
WHOLE = "whole"  # before is the whole prefix
CUT_LINES = "cut_lines"  # before starts after the MAX_BEFORE_LINES-th newline from the end
OTHER = "other"  # cut at the character limit


def nth_newline(text: str, n: int) -> int:
    """Index of the n-th ``\\n`` (1-based), or -1."""
    parts = text.split("\n", n)
    return len(text) - len(parts[-1]) - 1 if len(parts) > n else -1


# ----- before the cursor -------------------------------------------------------------------------


def cut_before(prefix: str) -> tuple[str, str]:
    """``before`` (the prefix with ``\\n`` line endings, at most ``MAX_BEFORE_LINES`` lines
    and about ``MAX_BEFORE_CHARS`` characters back) and how it was cut."""
    text = to_lf(prefix[-MAX_BEFORE_CHARS:])
    parts = text.rsplit("\n", MAX_BEFORE_LINES)
    if len(parts) > MAX_BEFORE_LINES and "\n" in parts[0]:  # more than MAX_BEFORE_LINES
        return text[len(parts[0]) + 1 :], CUT_LINES
    if len(text) < len(prefix):
        return (text[text.find("\n") + 1 :] if "\n" in text else text), OTHER
    return text, WHOLE


@dataclass
class Entry:
    """The lines above the cursor of one prefix: ``prefix[start:line_start]``."""

    line_start: int  # offset of the cursor's line in the prefix
    start: int  # offset in the prefix where ``above`` starts
    above: str
    kind: str
    # Anything computed from ``above`` alone (split lines, the lexer's state at its end).
    store: dict[Any, Any] = field(default_factory=dict)

    def matches(self, prefix: str, line_start: int, window_start: int) -> bool:
        """Would ``cut_before(prefix)`` give ``above`` + the cursor's line?

        The caller has checked that the prefix's last ``MAX_BEFORE_CHARS`` have no ``\\r``."""
        if line_start != self.line_start or not prefix.startswith(self.above, self.start):
            return False
        if self.kind == WHOLE:
            # Same lines, so the same (small enough) number of newlines; the cursor's line
            # may have grown past the character limit.
            return window_start == 0
        # ``above`` holds the last MAX_BEFORE_LINES - 1 newlines; the cut stays where it is
        # while the newline before ``above`` and another one before it are in the window.
        newline = self.start - 1
        return (
            newline >= window_start
            and prefix[newline] == "\n"
            and prefix.rfind("\n", window_start, newline) >= 0
        )


@dataclass(frozen=True)
class PrefixView:
    """``before`` and the number of its characters on lines above the cursor's line, plus a
    store for values derived from those lines (shared with other requests when cached)."""

    before: str
    above_len: int
    store: dict[Any, Any]

    @property
    def above(self) -> str:
        return self.before[: self.above_len]

    def lines_above(self) -> list[str]:
        """Whole lines before the cursor's line, nearest last (shared: do not mutate)."""
        lines = self.store.get("lines_above")
        if lines is None:
            lines = self.store["lines_above"] = self.above.split("\n")[:-1]
        return lines


_prefix_entries: list[Entry] = []
_prefix_lock = threading.Lock()


def prefix_view(prefix: str) -> PrefixView:
    """The view of ``prefix``, reusing the work done for an earlier prefix with the same lines
    above the cursor (checked by comparing the text: a memcmp, no hashing)."""
    line_start = prefix.rfind("\n") + 1
    window_start = max(0, len(prefix) - MAX_BEFORE_CHARS)
    cacheable = prefix.find("\r", window_start) < 0
    if cacheable:
        with _prefix_lock:
            for index, entry in enumerate(_prefix_entries):
                if entry.matches(prefix, line_start, window_start):
                    if index:
                        _prefix_entries.insert(0, _prefix_entries.pop(index))
                    before = entry.above + prefix[line_start:]
                    return PrefixView(before, len(entry.above), entry.store)
    before, kind = cut_before(prefix)
    above_len = before.rfind("\n") + 1
    view = PrefixView(before, above_len, {})
    if cacheable and kind != OTHER:
        start = line_start - above_len
        entry = Entry(line_start, start, before[:above_len], kind, view.store)
        with _prefix_lock:
            _prefix_entries.insert(0, entry)
            del _prefix_entries[CACHE_ENTRIES:]
    return view


# ----- after the cursor --------------------------------------------------------------------------


def cut_after(suffix: str) -> str:
    """The suffix, ``\\n`` line endings, at most ``MAX_AFTER_LINES`` lines ahead."""
    text = to_lf(suffix[:MAX_AFTER_CHARS])
    if suffix[MAX_AFTER_CHARS - 1 : MAX_AFTER_CHARS + 1] == "\r\n":
        text = text[:-1]  # a cut CRLF would otherwise leave a stray "\r"
    cut = nth_newline(text, MAX_AFTER_LINES)
    return text if cut < 0 else text[:cut]


@dataclass(frozen=True)
class SuffixView:
    """``after``, and a store for values derived from it (shared with other requests)."""

    after: str
    store: dict[Any, Any]

    def lines_below(self) -> list[str]:
        """Whole lines after the cursor's line, nearest first (shared: do not mutate)."""
        lines = self.store.get("lines_below")
        if lines is None:
            lines = self.store["lines_below"] = self.after.split("\n")[1:]
        return lines


# (the suffix's first MAX_AFTER_CHARS + 1 characters: all that ``cut_after`` reads, view)
_suffix_entries: list[tuple[str, SuffixView]] = []
_suffix_lock = threading.Lock()


def suffix_view(suffix: str) -> SuffixView:
    """The view of ``suffix``, reusing an earlier request's when the text it is cut from is the
    same (compared with ``==``: a length check and a memcmp)."""
    key = suffix[: MAX_AFTER_CHARS + 1]
    with _suffix_lock:
        for index, (known, view) in enumerate(_suffix_entries):
            if known == key:
                if index:
                    _suffix_entries.insert(0, _suffix_entries.pop(index))
                return view
    view = SuffixView(cut_after(suffix), {})
    with _suffix_lock:
        _suffix_entries.insert(0, (key, view))
        del _suffix_entries[CACHE_ENTRIES:]
    return view


def clear() -> None:
    """Forget every cached view (tests)."""
    with _prefix_lock:
        _prefix_entries.clear()
    with _suffix_lock:
        _suffix_entries.clear()
