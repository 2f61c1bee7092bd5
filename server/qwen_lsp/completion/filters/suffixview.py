"""The text after the cursor as the filters see it (``PostContext.after``), shared between
requests with the same text after the cursor.

Typing changes the text before the cursor only, so consecutive requests nearly always have the
same suffix; its window, its lines and what is derived from them are kept in a small cache,
found by comparing the text that decides them (never by document or version).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .prefixview import nth_newline, to_lf

MAX_AFTER_LINES = 300
MAX_AFTER_CHARS = 30_000
CACHE_ENTRIES = 8


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
_entries: list[tuple[str, SuffixView]] = []
_lock = threading.Lock()


def suffix_view(suffix: str) -> SuffixView:
    """The view of ``suffix``, reusing an earlier request's when the text it is cut from is the
    same (compared with ``==``: a length check and a memcmp)."""
    key = suffix[: MAX_AFTER_CHARS + 1]
    with _lock:
        for index, (known, view) in enumerate(_entries):
            if known == key:
                if index:
                    _entries.insert(0, _entries.pop(index))
                return view
    view = SuffixView(cut_after(suffix), {})
    with _lock:
        _entries.insert(0, (key, view))
        del _entries[CACHE_ENTRIES:]
    return view


def clear() -> None:
    """Forget every cached entry (tests)."""
    with _lock:
        _entries.clear()
