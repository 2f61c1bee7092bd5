"""Completion cache keyed by the text around the cursor.

Typing through a suggestion costs no model call: if the user typed characters that continue a
cached completion at the same place, the rest of it is served at once. Entries are keyed by the
tail of the prefix and the head of the suffix rather than by document version, so undo/redo and
retyping the same text also hit.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

PREFIX_KEY_CHARS = 1500
SUFFIX_KEY_CHARS = 200
MAX_TYPED_THROUGH = 400


@dataclass(frozen=True)
class CachedCompletion:
    prefix_tail: str
    prefix_len: int
    suffix_head: str
    text: str
    replace_suffix_chars: int = 0


@dataclass(frozen=True)
class CacheHit:
    text: str
    replace_suffix_chars: int
    typed: str  # what the user typed since the cached request


def _suffix_head(suffix: str) -> str:
    return suffix[:SUFFIX_KEY_CHARS]


class CompletionCache:
    """Small LRU of recent completions per document."""

    def __init__(self, capacity_per_document: int = 64):
        self.capacity = capacity_per_document
        self._entries: dict[str, OrderedDict[tuple[int, str], CachedCompletion]] = {}
        self.hits = 0
        self.misses = 0

    def put(
        self, uri: str, prefix: str, suffix: str, text: str, replace_suffix_chars: int = 0
    ) -> None:
        entry = CachedCompletion(
            prefix[-PREFIX_KEY_CHARS:],
            len(prefix),
            _suffix_head(suffix),
            text,
            replace_suffix_chars,
        )
        bucket = self._entries.setdefault(uri, OrderedDict())
        key = (entry.prefix_len, entry.prefix_tail[-64:])
        bucket[key] = entry
        bucket.move_to_end(key)
        while len(bucket) > self.capacity:
            bucket.popitem(last=False)

    def get(self, uri: str, prefix: str, suffix: str) -> CacheHit | None:
        """A completion that continues what is typed now, newest entries first."""
        bucket = self._entries.get(uri)
        if bucket:
            for entry in reversed(bucket.values()):
                hit = self._match(entry, prefix, suffix)
                if hit is not None:
                    self.hits += 1
                    return hit
        self.misses += 1
        return None

    @staticmethod
    def _match(entry: CachedCompletion, prefix: str, suffix: str) -> CacheHit | None:
        typed_len = len(prefix) - entry.prefix_len
        if typed_len < 0 or typed_len > MAX_TYPED_THROUGH or typed_len >= len(entry.text):
            return None
        typed = prefix[len(prefix) - typed_len :] if typed_len else ""
        if not entry.text.startswith(typed):
            return None
        before = prefix[: len(prefix) - typed_len]
        if not before.endswith(entry.prefix_tail) or len(before) != entry.prefix_len:
            return None
        # The suffix must be what it was (editors may auto-close brackets while the user types:
        # then the suffix gained exactly what the completion will replace).
        if _suffix_head(suffix) != entry.suffix_head:
            return None
        rest = entry.text[typed_len:]
        if not rest.strip():
            return None
        return CacheHit(rest, entry.replace_suffix_chars, typed)

    def forget(self, uri: str) -> None:
        self._entries.pop(uri, None)

    def clear(self) -> None:
        self._entries.clear()
