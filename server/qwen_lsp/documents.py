"""Open documents: text, version, incremental syntax tree and recent-edit history.

Pure Python + tree-sitter; the LSP handlers translate protocol messages into calls here. Every
change updates the text, a line index (O(log n) position lookups) and the tree-sitter tree through
``tree.edit`` (the reparse itself happens lazily when the tree is next read).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from lsprotocol import types
from tree_sitter import Tree

from qwen_lsp.positions import DEFAULT_ENCODING, LineIndex, PositionEncoding, normalize_encoding
from qwen_lsp.syntax.languages import get_language, language_id_for
from qwen_lsp.syntax.tree import IncrementalTree, compute_edit

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_MAX_PARSE_BYTES = 2 * 1024 * 1024
DEFAULT_HISTORY_SIZE = 64
DEFAULT_COALESCE_SECONDS = 5.0
# Edits bigger than this (file reloads, huge pastes) are recorded truncated and never merged.
MAX_RECORDED_CHARS = 16_384
_BINARY_PROBE_CHARS = 8192

PositionLike = types.Position | Mapping[str, int] | tuple[int, int]
ChangeLike = (
    types.TextDocumentContentChangePartial
    | types.TextDocumentContentChangeWholeDocument
    | Mapping[str, Any]
)


class DocumentNotOpen(LookupError):
    """A request named a document the client never opened (or already closed)."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"document not open: {uri}")
        self.uri = uri


@dataclass(frozen=True, slots=True)
class EditRecord:
    """One (possibly coalesced) edit, kept current as later edits shift the text.

    ``start``/``end`` are string indices of the inserted text in the *current* text and
    ``start_line``/``end_line`` the LSP lines they fall on (inclusive). ``removed`` is the text the
    edit replaced. ``truncated`` marks records whose texts were cut to ``MAX_RECORDED_CHARS``.
    """

    time: float
    version: int
    start: int
    end: int
    start_line: int
    end_line: int
    inserted: str
    removed: str
    truncated: bool = False


def uri_to_path(uri: str) -> str | None:
    """Local filesystem path of a ``file://`` URI, or None for other schemes."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    # file:///c%3A/x -> c:/x (Windows drive letters)
    if len(path) >= 3 and path[0] == "/" and path[2] == ":" and path[1].isalpha():
        path = path[1:]
    if parsed.netloc and parsed.netloc != "localhost":
        path = f"//{parsed.netloc}{path}"
    return path


def looks_binary(text: str) -> bool:
    """Text with NUL characters near the start is not source code."""
    return "\x00" in text[:_BINARY_PROBE_CHARS]


def _as_position(position: PositionLike) -> tuple[int, int]:
    if isinstance(position, types.Position):
        return position.line, position.character
    if isinstance(position, Mapping):
        return int(position["line"]), int(position["character"])
    return int(position[0]), int(position[1])


def _change_parts(change: ChangeLike) -> tuple[tuple[PositionLike, PositionLike] | None, str]:
    """(range or None, text) of a content change given as an lsprotocol object or a dict."""
    if isinstance(change, Mapping):
        return _range_parts(change.get("range")), change["text"]
    return _range_parts(getattr(change, "range", None)), change.text


def _range_parts(rng: object) -> tuple[PositionLike, PositionLike] | None:
    """(start, end) of an lsprotocol Range, a {"start", "end"} dict or a (start, end) pair."""
    if rng is None:
        return None
    if isinstance(rng, types.Range):
        return rng.start, rng.end
    if isinstance(rng, Mapping):
        return rng["start"], rng["end"]
    start, end = rng  # type: ignore[misc]
    return start, end


def common_affixes(old: str, new: str) -> tuple[int, int]:
    """Lengths of the common prefix and (non-overlapping) common suffix of two strings."""
    limit = min(len(old), len(new))
    prefix = _common_prefix(old, new, limit)
    suffix_limit = limit - prefix
    suffix = 0
    step = 4096
    # Compare from the end in chunks (C-speed equality), then narrow down inside the last chunk.
    while suffix < suffix_limit:
        size = min(step, suffix_limit - suffix)
        a = old[len(old) - suffix - size : len(old) - suffix]
        b = new[len(new) - suffix - size : len(new) - suffix]
        if a == b:
            suffix += size
            continue
        i = size
        while i > 0 and a[i - 1] == b[i - 1]:
            i -= 1
        return prefix, suffix + (size - i)
    return prefix, suffix


def _common_prefix(a: str, b: str, limit: int) -> int:
    step = 4096
    pos = 0
    while pos < limit:
        size = min(step, limit - pos)
        if a[pos : pos + size] == b[pos : pos + size]:
            pos += size
            continue
        for i in range(pos, pos + size):
            if a[i] != b[i]:
                return i
    return pos


class Document:
    """One open text document."""

    def __init__(
        self,
        uri: str,
        text: str,
        version: int = 0,
        language_id: str | None = None,
        encoding: object = DEFAULT_ENCODING,
        *,
        max_parse_bytes: int = DEFAULT_MAX_PARSE_BYTES,
        history_size: int = DEFAULT_HISTORY_SIZE,
        coalesce_seconds: float = DEFAULT_COALESCE_SECONDS,
    ) -> None:
        self.uri = uri
        self.path = uri_to_path(uri)
        self.language_id = language_id_for(language_id, self.path or uri)
        self.version = version
        # Which didOpen this is (set by DocumentStore.open): an editor reloading a file sends
        # didClose + didOpen, possibly at the same version with other text.
        self.generation = 0
        self.encoding: PositionEncoding = normalize_encoding(encoding)
        self.max_parse_bytes = max_parse_bytes
        self.coalesce_seconds = coalesce_seconds
        self.recent_edits: deque[EditRecord] = deque(maxlen=history_size)
        self.stale_versions = 0  # changes whose version did not increase (logged, still applied)
        self.parse_skipped_reason: str | None = None
        self._index = LineIndex(text)
        self._source: bytes | None = None
        self._itree: IncrementalTree | None = None
        self._memo: dict[str, object] = {}
        self._setup_parsing(check_binary=True)

    # ---- text access

    @property
    def text(self) -> str:
        return self._index.text

    @property
    def line_index(self) -> LineIndex:
        return self._index

    @property
    def source(self) -> bytes:
        """The UTF-8 bytes tree-sitter sees (cached between edits)."""
        if self._itree is not None:
            return self._itree.source
        if self._source is None:
            self._source = self.text.encode("utf-8", "surrogatepass")
        return self._source

    @property
    def line_count(self) -> int:
        return self._index.line_count

    def line(self, line: int) -> str:
        """Text of ``line`` without its terminator ('' past the end)."""
        return self._index.line_text(line)

    def offset_at(self, position: PositionLike) -> int:
        """String index of an LSP position (clamped as LSP prescribes)."""
        line, character = _as_position(position)
        return self._index.offset_at(line, character, self.encoding)

    def position_at(self, offset: int) -> types.Position:
        line, character = self._index.position_at(offset, self.encoding)
        return types.Position(line=line, character=character)

    def range_at(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position_at(start), end=self.position_at(end))

    def byte_offset(self, offset: int) -> int:
        """UTF-8 byte offset of a string index."""
        return self._index.byte_offset(offset)

    def str_offset(self, byte: int) -> int:
        """String index of a UTF-8 byte offset."""
        return self._index.str_offset(byte)

    def byte_at(self, position: PositionLike) -> int:
        """UTF-8 byte offset of an LSP position (what tree-sitter lookups want)."""
        return self._index.byte_offset(self.offset_at(position))

    def position_at_byte(self, byte: int) -> types.Position:
        return self.position_at(self._index.str_offset(byte))

    def point_to_position(self, point: tuple[int, int]) -> types.Position:
        """LSP position of a tree-sitter point (e.g. ``node.start_point``)."""
        line, character = self._index.point_to_position(point[0], point[1], self.encoding)
        return types.Position(line=line, character=character)

    def position_to_point(self, position: PositionLike) -> tuple[int, int]:
        return self._index.point_at(self.offset_at(position))

    # ---- syntax

    @property
    def tree(self) -> Tree | None:
        """The current syntax tree, reparsed incrementally if edits are pending; None if the
        language has no grammar or parsing is skipped (see ``parse_skipped_reason``)."""
        return None if self._itree is None else self._itree.tree

    @property
    def incremental_tree(self) -> IncrementalTree | None:
        return self._itree

    def _setup_parsing(self, *, check_binary: bool) -> None:
        """Decide whether to parse, and start from scratch if so."""
        self._itree, self._source, self.parse_skipped_reason = None, None, None
        language = get_language(self.language_id)
        if language is None:
            self.parse_skipped_reason = f"no grammar for {self.language_id}"
            return
        if check_binary and looks_binary(self.text):
            self.parse_skipped_reason = "binary content"
            return
        size = self._index.byte_length
        if size > self.max_parse_bytes:
            self.parse_skipped_reason = f"too large ({size} bytes > {self.max_parse_bytes})"
            return
        self._itree = IncrementalTree(language, self.text.encode("utf-8", "surrogatepass"))

    def memo(self, key: str, compute: Callable[[Document], T]) -> T:
        """``compute(self)``, cached until the text next changes (e.g. whole-file definitions)."""
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]  # type: ignore[return-value]

    # ---- changes

    def apply_changes(self, changes: Iterable[ChangeLike], version: int | None = None) -> None:
        """Apply LSP content changes in order (incremental ranges or whole-document text)."""
        if version is not None:
            if version <= self.version:
                self.stale_versions += 1
                log.debug("%s: version %s after %s, applied", self.uri, version, self.version)
            self.version = version
        for change in changes:
            rng, text = _change_parts(change)
            if rng is None:
                self._replace_all(text)
            else:
                start, end = self.offset_at(rng[0]), self.offset_at(rng[1])
                self._replace(min(start, end), max(start, end), text)

    def set_text(self, text: str, version: int | None = None) -> None:
        """Replace the whole text (a full-sync ``didChange``)."""
        self.apply_changes([{"text": text}], version)

    def _replace_all(self, text: str) -> None:
        old = self.text
        prefix, suffix = common_affixes(old, text)
        # Diffing a full-text change into one range edit keeps full-sync clients incremental.
        self._replace(prefix, len(old) - suffix, text[prefix : len(text) - suffix])
        was_binary = self.parse_skipped_reason == "binary content"
        if was_binary != looks_binary(text):
            self._setup_parsing(check_binary=True)

    def _replace(self, start: int, end: int, new_text: str) -> None:
        """Replace ``text[start:end]`` with ``new_text``: text, index, tree and history."""
        if start == end and not new_text:
            return
        index = self._index
        old_text = index.text
        self._memo.clear()
        self._record_edit(old_text, start, end, new_text)
        start_byte, old_end_byte = index.byte_offset(start), index.byte_offset(end)
        # Tree-sitter points from the line index (a byte scan of the source costs ~40 µs).
        points = (index.point_at(start), index.point_at(end)) if self._itree else None
        index.apply_edit(start, end, new_text)
        self._source = None
        self._update_records_lines(start)
        if points is not None:
            self._edit_tree(start_byte, old_end_byte, new_text, points)
        self._check_size_guard()

    def _edit_tree(
        self,
        start_byte: int,
        old_end_byte: int,
        new_text: str,
        points: tuple[tuple[int, int], tuple[int, int]],
    ) -> None:
        assert self._itree is not None
        new_bytes = new_text.encode("utf-8", "surrogatepass")
        old_source = self._itree.source
        edit = compute_edit(
            old_source,
            start_byte,
            old_end_byte,
            new_bytes,
            start_point=points[0],
            old_end_point=points[1],
        )
        self._itree.apply(
            edit, b"".join((old_source[:start_byte], new_bytes, old_source[old_end_byte:]))
        )

    def _check_size_guard(self) -> None:
        size = self._index.byte_length
        if (self._itree is not None and size > self.max_parse_bytes) or (
            self._itree is None
            and (self.parse_skipped_reason or "").startswith("too large")
            and size <= self.max_parse_bytes
        ):
            self._setup_parsing(check_binary=False)

    # ---- edit history

    def _record_edit(self, old_text: str, start: int, end: int, inserted: str) -> None:
        """Merge the edit into the latest record or append a new one; shift older records."""
        now = time.monotonic()
        delta = len(inserted) - (end - start)
        records = self.recent_edits
        merged: EditRecord | None = None
        latest = records[-1] if records else None
        if latest is not None and self._can_merge(latest, start, end, now):
            merged = _merge(latest, old_text, start, end, inserted, now, self.version)
            records.pop()
        for i, record in enumerate(records):
            if record.end >= start:  # records wholly before the edit stay as they are
                records[i] = _shift(record, start, end, delta, len(inserted))
        if merged is None:
            merged = _new_record(old_text, start, end, inserted, now, self.version)
        merged = _trim(merged)
        if merged is not None:
            records.append(merged)

    def _can_merge(self, latest: EditRecord, start: int, end: int, now: float) -> bool:
        return (
            not latest.truncated
            and now - latest.time <= self.coalesce_seconds
            and start <= latest.end
            and end >= latest.start
            and max(end - start, latest.end - latest.start) < MAX_RECORDED_CHARS
        )

    def _update_records_lines(self, edit_start: int) -> None:
        """Recompute line numbers of records at or after an edit (earlier lines cannot move)."""
        index = self._index
        records = self.recent_edits
        for i, record in enumerate(records):
            if record.end < edit_start:
                continue
            start_line, end_line = index.line_of(record.start), index.line_of(record.end)
            if (start_line, end_line) != (record.start_line, record.end_line):
                records[i] = _relined(record, start_line, end_line)


def _new_record(
    old_text: str, start: int, end: int, inserted: str, now: float, version: int
) -> EditRecord:
    removed = old_text[start:end]
    truncated = len(removed) > MAX_RECORDED_CHARS or len(inserted) > MAX_RECORDED_CHARS
    return EditRecord(
        time=now,
        version=version,
        start=start,
        end=start + len(inserted),
        start_line=0,
        end_line=0,
        inserted=inserted[:MAX_RECORDED_CHARS],
        removed=removed[:MAX_RECORDED_CHARS],
        truncated=truncated,
    )


def _merge(
    latest: EditRecord,
    old_text: str,
    start: int,
    end: int,
    inserted: str,
    now: float,
    version: int,
) -> EditRecord:
    """Combine ``latest`` (whose inserted text is ``old_text[latest.start:latest.end]``) with a
    touching edit into one record relative to the text before both."""
    lo, hi = min(latest.start, start), max(latest.end, end)
    removed = old_text[lo : latest.start] + latest.removed + old_text[latest.end : hi]
    new_inserted = old_text[lo:start] + inserted + old_text[end:hi]
    return replace(
        latest,
        time=now,
        version=version,
        start=lo,
        end=lo + len(new_inserted),
        inserted=new_inserted,
        removed=removed,
    )


def _shift(record: EditRecord, start: int, end: int, delta: int, inserted_len: int) -> EditRecord:
    """Keep an older record's offsets pointing at the same text after an edit elsewhere."""
    if start >= record.end and start > record.start:
        return record
    if end <= record.start:
        return _moved(record, record.start + delta, record.end + delta)
    # Overlap: the record's region is partly rewritten; cover both regions.
    return replace(
        record,
        start=min(record.start, start),
        end=max(record.end + delta, start + inserted_len),
    )


def _moved(record: EditRecord, start: int, end: int) -> EditRecord:
    """``replace(record, start=..., end=...)`` without its introspection (hot path)."""
    r = record
    return EditRecord(
        r.time, r.version, start, end, r.start_line, r.end_line, r.inserted, r.removed, r.truncated
    )


def _relined(record: EditRecord, start_line: int, end_line: int) -> EditRecord:
    r = record
    return EditRecord(
        r.time, r.version, r.start, r.end, start_line, end_line, r.inserted, r.removed, r.truncated
    )


def _trim(record: EditRecord) -> EditRecord | None:
    """Drop a common prefix/suffix of inserted and removed text; None for a no-op edit."""
    if record.truncated:
        return record
    ins, rem = record.inserted, record.removed
    if ins == rem:
        return None
    prefix, suffix = common_affixes(rem, ins)
    if not prefix and not suffix:
        return record
    return replace(
        record,
        start=record.start + prefix,
        end=record.end - suffix,
        inserted=ins[prefix : len(ins) - suffix],
        removed=rem[prefix : len(rem) - suffix],
    )


class DocumentStore:
    """The open documents, by URI."""

    def __init__(
        self,
        encoding: object = DEFAULT_ENCODING,
        *,
        max_parse_bytes: int = DEFAULT_MAX_PARSE_BYTES,
        history_size: int = DEFAULT_HISTORY_SIZE,
        coalesce_seconds: float = DEFAULT_COALESCE_SECONDS,
    ) -> None:
        self.encoding: PositionEncoding = normalize_encoding(encoding)
        self.max_parse_bytes = max_parse_bytes
        self.history_size = history_size
        self.coalesce_seconds = coalesce_seconds
        self._docs: dict[str, Document] = {}
        self._opened = 0  # didOpens so far: each open document gets the next generation

    def open(
        self, uri: str, text: str, version: int = 0, language_id: str | None = None
    ) -> Document:
        """Open (or reopen, replacing) a document."""
        doc = Document(
            uri,
            text,
            version,
            language_id,
            self.encoding,
            max_parse_bytes=self.max_parse_bytes,
            history_size=self.history_size,
            coalesce_seconds=self.coalesce_seconds,
        )
        self._opened += 1
        doc.generation = self._opened
        self._docs[uri] = doc
        return doc

    def change(
        self, uri: str, changes: Iterable[ChangeLike], version: int | None = None
    ) -> Document:
        doc = self.get(uri)
        doc.apply_changes(changes, version)
        return doc

    def close(self, uri: str) -> Document | None:
        """Forget a document; closing an unknown URI is not an error (clients do it)."""
        return self._docs.pop(uri, None)

    def get(self, uri: str) -> Document:
        try:
            return self._docs[uri]
        except KeyError:
            raise DocumentNotOpen(uri) from None

    def find(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def set_encoding(self, encoding: object) -> None:
        """Use a negotiated position encoding for this store and its open documents."""
        self.encoding = normalize_encoding(encoding)
        for doc in self._docs.values():
            doc.encoding = self.encoding

    def __contains__(self, uri: object) -> bool:
        return uri in self._docs

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._docs.values()))

    def __len__(self) -> int:
        return len(self._docs)

    def uris(self) -> list[str]:
        return list(self._docs)
