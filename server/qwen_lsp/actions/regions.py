"""What an action works on: the selected lines, the enclosing function or class, or the code
around diagnostics. Regions are whole lines so a replacement never splits a line."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types

from ..documents import Document
from ..syntax.analysis import Scope, enclosing_scopes
from ..syntax.languages import line_comment_for

# Scope kinds an action may target; lambdas, closures and blocks are too anonymous or too small,
# modules and namespaces too large.
TARGET_KINDS = frozenset(
    {
        "function",
        "method",
        "constructor",
        "class",
        "struct",
        "impl",
        "interface",
        "trait",
        "enum",
        "record",
        "union",
        "type",
        "macro",
    }
)
# A fix rewrites the enclosing function when it is at most this long, else lines around.
MAX_FIX_SCOPE_LINES = 120
FIX_CONTEXT_LINES = 3
BLOCK_COMMENT_PARTS = ("/*", "*", "*/")


@dataclass(frozen=True)
class Region:
    """Lines ``[start_line, end_line)`` of a document."""

    start_line: int
    end_line: int
    kind: str  # "selection", "lines", or a scope kind ("function", "class", ...)
    name: str | None = None
    headers: tuple[str, ...] = ()  # headers of the scopes around the region, outermost first
    # The top-level definition holding the region (what a test file imports).
    outer_name: str | None = None

    @property
    def line_count(self) -> int:
        return self.end_line - self.start_line

    @property
    def label(self) -> str:
        """How titles and prompts name the region: "function `add`", "the selected lines"."""
        if self.kind == "selection":
            return "the selected lines"
        if self.kind == "lines":
            return f"lines {self.start_line + 1}-{self.end_line}"
        return f"{self.kind} `{self.name}`" if self.name else f"the {self.kind}"

    @property
    def short_label(self) -> str:
        """For titles: "selection", "function add"."""
        if self.kind == "selection":
            return "selection"
        if self.kind == "lines":
            return f"lines {self.start_line + 1}-{self.end_line}"
        return f"{self.kind} {self.name}" if self.name else self.kind


def is_empty(rng: types.Range) -> bool:
    return rng.start == rng.end


def line_span(rng: types.Range, line_count: int) -> tuple[int, int]:
    """Whole lines covered by a range; a range ending at column 0 leaves that line out."""
    start, last = rng.start.line, rng.end.line
    if last > start and rng.end.character == 0:
        last -= 1
    start = max(0, min(start, line_count - 1))
    last = max(start, min(last, line_count - 1))
    return start, last + 1


def selection_region(doc: Document, rng: types.Range) -> Region | None:
    """The selected lines, or None when nothing (or only whitespace) is selected."""
    if is_empty(rng):
        return None
    start, end = line_span(rng, doc.line_count)
    if not any(doc.line(n).strip() for n in range(start, end)):
        return None
    scopes = _scopes_at(doc, types.Position(start, 0))
    outer = tuple(s.header for s in scopes if not _header_inside(doc, s.header, start, end))
    top = next((s.name for s in scopes if s.name), None)
    return Region(start, end, "selection", headers=outer, outer_name=top)


def _header_inside(doc: Document, header: str, start: int, end: int) -> bool:
    """Whether a scope header is one of the region's own lines (then it is not "around" it)."""
    first = header.strip().split("\n", 1)[0]
    return any(doc.line(n).strip() == first for n in range(start, end))


def _scopes_at(doc: Document, position: types.Position) -> list[Scope]:
    tree = doc.tree
    if tree is None:
        return []
    line = doc.line(position.line)
    if position.character == 0 and line.strip():
        # At a line start, look at the line's first token (the "def", not the line before).
        position = types.Position(position.line, len(line) - len(line.lstrip()))
    return enclosing_scopes(tree, doc.source, doc.byte_at(position))


def _target(scopes: Sequence[Scope], index: int) -> Region:
    scope = scopes[index]
    headers = tuple(s.header for s in scopes[:index])
    top = next((s.name for s in scopes[: index + 1] if s.name), None)
    return Region(scope.start_line, scope.end_line + 1, scope.kind, scope.name, headers, top)


def scope_region(doc: Document, position: types.Position) -> Region | None:
    """The innermost named function, method, class... around ``position``."""
    scopes = _scopes_at(doc, position)
    for i in range(len(scopes) - 1, -1, -1):
        if scopes[i].kind in TARGET_KINDS and scopes[i].name:
            return _target(scopes, i)
    return None


def target_region(doc: Document, rng: types.Range) -> Region | None:
    """The selection when there is one, else the enclosing function or class."""
    return selection_region(doc, rng) or scope_region(doc, rng.start)


def fix_region(doc: Document, lines: Sequence[int]) -> Region:
    """The innermost function/class holding every diagnostic line when it is small enough, else
    the diagnostic lines with a few lines of margin."""
    first = max(0, min(min(lines), doc.line_count - 1))
    last = max(first, min(max(lines), doc.line_count - 1))
    scopes = _scopes_at(doc, types.Position(first, 0))
    for i in range(len(scopes) - 1, -1, -1):
        scope = scopes[i]
        size = scope.end_line - scope.start_line + 1
        if (
            scope.kind in TARGET_KINDS
            and scope.start_line <= first
            and scope.end_line >= last
            and size <= MAX_FIX_SCOPE_LINES
        ):
            return _target(scopes, i)
    start = max(0, first - FIX_CONTEXT_LINES)
    end = min(doc.line_count, last + FIX_CONTEXT_LINES + 1)
    # Trailing empty line of a file ending with a newline adds nothing.
    while end - 1 > last and not doc.line(end - 1).strip():
        end -= 1
    headers = tuple(s.header for s in scopes if s.start_line < start)
    top = next((s.name for s in scopes if s.name), None)
    return Region(start, end, "lines", headers=headers, outer_name=top)


def with_leading_comments(doc: Document, region: Region) -> Region:
    """The region grown upwards over the comment lines right above it (doc comments to update)."""
    marker = line_comment_for(doc.language_id)
    prefixes: tuple[str, ...] = (marker,)
    if marker == "//":
        prefixes += (*BLOCK_COMMENT_PARTS, "#[")  # block comments, Rust attributes
    start = region.start_line
    while start > 0 and doc.line(start - 1).strip().startswith(prefixes):
        start -= 1
    if start == region.start_line:
        return region
    return dataclasses.replace(region, start_line=start)


def region_offsets(doc: Document, region: Region) -> tuple[int, int]:
    """String offsets of the region's first character and of the end of its last line break."""
    index = doc.line_index
    return index.line_start(region.start_line), index.line_start(region.end_line)
