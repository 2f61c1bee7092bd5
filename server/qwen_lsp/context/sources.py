"""Other files' text for prompts, kept between requests: the bytes an index entry refers to, the
snippets rendered from them, and the paths shown for them.

All three are bounded and keyed so that a stale entry is never used: file bytes by path with the
size and mtime the index saw (a changed file is reindexed and skipped this time), renderings by
the version of their source (an open document's analysis version, or the file's mtime and size).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

from .index import CONTAINER_KINDS, Symbol
from .index_service import IndexService
from .snippets import module_summary, one_line_summary, render_symbol

FILE_CACHE_BYTES = 16 * 1024 * 1024
RENDER_CACHE_ITEMS = 4096
DISPLAY_PATHS = 10_000

Source = tuple[bytes, Sequence[Symbol], tuple[Any, ...]]  # bytes, their symbols, version key


class SourceCache:
    def __init__(self, service: IndexService):
        self.service = service
        self._file_cache: OrderedDict[str, tuple[int, int, bytes]] = OrderedDict()
        self._file_cache_bytes = 0
        self._render_cache: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._display_paths: dict[str, str] = {}

    def clear(self) -> None:
        """Forget everything (the index was rebuilt)."""
        self._file_cache.clear()
        self._file_cache_bytes = 0
        self._render_cache.clear()
        self._display_paths.clear()

    # ---- file bytes ------------------------------------------------------------------------

    def source_for(self, path: str) -> Source | None:
        """The bytes a file's index entry refers to: an open document's analysed snapshot, or
        the file on disk when it is unchanged since it was indexed."""
        found = self.service.live.analysis_for_path(path)
        if found is not None:
            uri, analysis = found
            return analysis.source, analysis.data.symbols, ("doc", uri, analysis.version)
        entry = self.service.index.entry(path)
        if entry is None:
            return None
        data = self._read_cached(path, entry.mtime_ns, entry.size)
        if data is None:
            return None
        return data, entry.symbols, ("disk", path, entry.mtime_ns, entry.size)

    def _read_cached(self, path: str, mtime_ns: int, size: int) -> bytes | None:
        cached = self._file_cache.get(path)
        if cached is not None and cached[0] == mtime_ns and cached[1] == size:
            self._file_cache.move_to_end(path)
            return cached[2]
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if stat.st_mtime_ns != mtime_ns or stat.st_size != size:
            # Changed since indexed: the ranges no longer fit. Reindex; skip it this time.
            self.service.reindex(path)
            return None
        # Through the file gateway; no ignore files are read on the event loop.
        text = self.service.policy.read_indexed_text(path)
        if text is None:
            return None
        data = text.encode("utf-8", "surrogatepass")
        self._file_cache[path] = (mtime_ns, size, data)
        self._file_cache_bytes += len(data)
        while self._file_cache_bytes > FILE_CACHE_BYTES and len(self._file_cache) > 1:
            _p, (_m, _s, old) = self._file_cache.popitem(last=False)
            self._file_cache_bytes -= len(old)
        return data

    def forget_file(self, path: str) -> None:
        cached = self._file_cache.pop(path, None)
        if cached is not None:
            self._file_cache_bytes -= len(cached[2])

    # ---- renderings ------------------------------------------------------------------------

    def render(
        self,
        symbol: Symbol,
        source: bytes,
        symbols: Sequence[Symbol],
        language_id: str,
        version_key: tuple[Any, ...],
        one_line: bool = False,
        relevant: tuple[Hashable, frozenset[str]] = (None, frozenset()),
    ) -> str:
        """A definition as a snippet (whole, shortened, or one line); a class skeleton lists the
        ``relevant`` names (keyed by their first element) first."""
        relevant_key, relevant_names = relevant
        container = symbol.kind in CONTAINER_KINDS
        key = (
            version_key,
            symbol.start_byte,
            symbol.end_byte,
            one_line,
            relevant_key if container else None,
        )
        text = self._render_cache.get(key)
        if text is None:
            lang = self.language_of(symbol.path, language_id)
            if one_line:
                text = one_line_summary(symbol, source, symbols, lang)
            else:
                text = render_symbol(symbol, source, symbols, lang, relevant=relevant_names).text
            self._render_cache[key] = text
            if len(self._render_cache) > RENDER_CACHE_ITEMS:
                self._render_cache.popitem(last=False)
        return text

    def summary(
        self,
        path: str,
        source: bytes,
        symbols: Sequence[Symbol],
        language_id: str,
        version_key: tuple[Any, ...],
    ) -> str:
        """A module as one line per definition."""
        key = (version_key, "summary")
        text = self._render_cache.get(key)
        if text is None:
            text = module_summary(symbols, source, self.language_of(path, language_id))
            self._render_cache[key] = text
        return text

    def language_of(self, path: str, fallback: str) -> str:
        entry = self.service.index.entry(path)
        return entry.language_id if entry is not None else fallback

    # ---- paths -----------------------------------------------------------------------------

    def display_path(self, path: str) -> str:
        """The path shown for a file in the prompt: relative to its workspace folder."""
        shown = self._display_paths.get(path)
        if shown is None:
            relative = self.service.policy.relative(path) if self.service.roots else None
            shown = relative if relative and relative != "." else os.path.basename(path)
            if len(self._display_paths) > DISPLAY_PATHS:
                self._display_paths.clear()
            self._display_paths[path] = shown
        return shown
