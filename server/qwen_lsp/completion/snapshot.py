"""The completion snapshot: a document at a cursor, frozen before any await.

Taken synchronously when a request arrives, so later edits cannot race it; every stage of the
pipeline (cache, gate, context, prompt, post-processing) reads this and nothing else about the
document. The cursor's byte offset and line come from the document's line index when the
snapshot is taken (O(log n)); the syntax tree is fetched lazily, only when a model call is really
on (``with_syntax``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..documents import Document


@dataclass(frozen=True)
class CompletionSnapshot:
    uri: str
    text: str
    offset: int  # str index of the cursor
    language_id: str
    path: str | None
    version: int
    automatic: bool = True
    tree: Any = None  # tree_sitter.Tree of ``text`` when available
    source_bytes: bytes | None = None
    # The cursor's UTF-8 byte offset and LSP line; counted from the text when not given (-1).
    cursor_byte: int = -1
    cursor_line: int = -1
    # Where ``tree`` and ``source_bytes`` come from when not given: the document's incremental
    # reparse, done only once a model call is really on (a cache hit needs no tree) and while
    # the debounce waits anyway. Returns (None, None) once the document has moved on.
    syntax: Callable[[], tuple[Any, bytes | None]] | None = field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.cursor_byte < 0:
            encoded = self.text[: self.offset].encode("utf-8", "surrogatepass")
            object.__setattr__(self, "cursor_byte", len(encoded))
        if self.cursor_line < 0:
            object.__setattr__(self, "cursor_line", self.text.count("\n", 0, self.offset))

    # Cached: slicing a 10k-line document costs tens of µs and every stage asks for these.
    @functools.cached_property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @functools.cached_property
    def suffix(self) -> str:
        return self.text[self.offset :]

    @functools.cached_property
    def cursor_row(self) -> int:
        """The cursor's tree-sitter row: its line, unless a lone ``\\r`` (a line break for LSP,
        not for tree-sitter) comes before it."""
        if "\r" not in self.text:
            return self.cursor_line
        return self.text.count("\n", 0, self.offset)

    def offset_of_byte(self, byte: int) -> int:
        """The str index of a UTF-8 byte offset of ``source_bytes`` (a node boundary), counted
        from the cursor: the distance is short where the pipeline asks (the cursor's scope)."""
        source = self.source_bytes or b""
        if byte >= self.cursor_byte:
            return self.offset + _chars_in(source[self.cursor_byte : byte])
        return self.offset - _chars_in(source[byte : self.cursor_byte])

    def with_syntax(self) -> CompletionSnapshot:
        """This snapshot with its tree, fetched from ``syntax`` if it was not given."""
        if self.syntax is None or self.tree is not None:
            return self
        tree, source = self.syntax()
        resolved = dataclasses.replace(self, tree=tree, source_bytes=source, syntax=None)
        # Same text and cursor: keep what was already derived from them (cached properties).
        for name in ("prefix", "suffix", "cursor_row"):
            if name in self.__dict__:
                resolved.__dict__[name] = self.__dict__[name]
        return resolved

    def after_inserting(self, inserted: str) -> CompletionSnapshot:
        """The snapshot as it would be after ``inserted`` is typed at the cursor (no tree):
        what speculation completes."""
        return CompletionSnapshot(
            uri=self.uri,
            text=self.prefix + inserted + self.suffix,
            offset=self.offset + len(inserted),
            language_id=self.language_id,
            path=self.path,
            version=self.version,
            automatic=False,
            cursor_byte=self.cursor_byte + len(inserted.encode("utf-8", "surrogatepass")),
            cursor_line=self.cursor_line + inserted.count("\n"),
        )


def _chars_in(data: bytes) -> int:
    """How many characters ``data`` (bytes of the document's text) holds."""
    try:
        return len(data.decode("utf-8", "surrogatepass"))
    except UnicodeDecodeError:  # cut inside a character: not a node boundary
        return len(data.decode("utf-8", "replace"))


def snapshot_of(doc: Document, offset: int, automatic: bool = True) -> CompletionSnapshot:
    """What the engine completes: the document's text and cursor now, its tree only when asked
    for."""
    text = doc.text
    index = doc.line_index
    return CompletionSnapshot(
        uri=doc.uri,
        text=text,
        offset=offset,
        language_id=doc.language_id,
        path=doc.path,
        version=doc.version,
        automatic=automatic,
        cursor_byte=index.byte_offset(offset),
        cursor_line=index.line_of(offset),
        syntax=lambda: document_syntax(doc, text),
    )


def document_syntax(doc: Document, text: str) -> tuple[Any, bytes | None]:
    """The document's tree and bytes if it still holds ``text``, else (None, None): a request
    that outlived its text gets no syntax rather than another text's."""
    if doc.text is not text:
        return None, None
    tree = doc.tree
    return (tree, doc.source) if tree is not None else (None, None)
