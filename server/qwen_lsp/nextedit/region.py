"""The editable region around the cursor, and the context shown around it.

The model rewrites the region and nothing else, so the region decides what can be predicted and
how long the answer takes (the model writes the whole region back). It is whole lines:

1. the largest syntax node around the cursor (statement, block, function, class …) whose lines
   fit the budget — so a small function is editable as a whole and a region rarely starts or
   ends in the middle of a construct;
2. then grown by lines, two below for one above (the next edit is more often below the last
   one), until the budget is spent;
3. the context is more lines on both sides, shown to the model but not editable.

Without a tree (no grammar, file too big to parse) step 1 is the cursor's line.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Tree

from ..positions import LineIndex


@dataclass(frozen=True)
class RegionLimits:
    max_chars: int = 1200  # ≈ 300-400 tokens: what the model writes back
    max_lines: int = 30
    context_before_chars: int = 1500
    context_after_chars: int = 800


@dataclass(frozen=True)
class Region:
    """Lines ``first..last`` (inclusive) are editable; ``context_first..context_last`` are
    shown. Offsets: ``start`` is the first line's start, ``end`` the last line's end (before
    its line break)."""

    first: int
    last: int
    context_first: int
    context_last: int
    start: int
    end: int
    context_start: int
    context_end: int
    cursor: int

    def text(self, document: str) -> str:
        return document[self.start : self.end]

    @property
    def starts_file(self) -> bool:
        return self.context_first == 0


def editable_region(
    index: LineIndex,
    cursor: int,
    tree: Tree | None = None,
    limits: RegionLimits = RegionLimits(),
) -> Region:
    """The region around ``cursor`` (a str offset into ``index.text``)."""
    line = index.line_of(cursor)
    first, last = line, line
    if tree is not None:
        first, last = _syntax_lines(index, tree, cursor, limits) or (line, line)
    first, last = _grow(index, first, last, limits.max_chars, limits.max_lines, down=2, up=1)
    context_first = _grow_up(index, first, limits.context_before_chars)
    context_last = _grow_down(index, last, limits.context_after_chars)
    return Region(
        first,
        last,
        context_first,
        context_last,
        index.line_start(first),
        index.line_end(last),
        index.line_start(context_first),
        index.line_end(context_last),
        cursor,
    )


def _lines_chars(index: LineIndex, first: int, last: int) -> int:
    return index.line_end(last) - index.line_start(first)


def _syntax_lines(
    index: LineIndex, tree: Tree, cursor: int, limits: RegionLimits
) -> tuple[int, int] | None:
    """Lines of the largest node around the cursor that fits the budget."""
    byte = index.byte_offset(cursor)
    node: Node | None = tree.root_node.named_descendant_for_byte_range(byte, byte)
    best: tuple[int, int] | None = None
    while node is not None:
        first, last = node.start_point[0], node.end_point[0]
        if node.end_point[1] == 0 and last > first:
            last -= 1  # a node ending at a line start does not own that line
        last = min(last, _last_line(index))
        if last - first + 1 > limits.max_lines or _lines_chars(index, first, last) > (
            limits.max_chars
        ):
            break
        best = (first, last)
        node = node.parent
    return best


def _grow(
    index: LineIndex, first: int, last: int, max_chars: int, max_lines: int, down: int, up: int
) -> tuple[int, int]:
    """Add whole lines below (``down`` at a time) and above (``up``) while they fit."""
    size = _lines_chars(index, first, last)
    top = _last_line(index)
    grew = True
    while grew:
        grew = False
        for step_down in (True,) * down + (False,) * up:
            if last - first + 1 >= max_lines:
                return first, last
            candidate = last + 1 if step_down else first - 1
            if not 0 <= candidate <= top:
                continue
            added = len(index.line_text(candidate)) + 1
            if size + added > max_chars:
                continue
            size += added
            if step_down:
                last = candidate
            else:
                first = candidate
            grew = True
    return first, last


def _grow_up(index: LineIndex, first: int, budget: int) -> int:
    while first > 0:
        budget -= len(index.line_text(first - 1)) + 1
        if budget < 0:
            break
        first -= 1
    return first


def _last_line(index: LineIndex) -> int:
    """The last line with text: the empty "line" after a final line break is not one."""
    top = index.line_count - 1
    return top - 1 if top > 0 and not index.line_text(top) else top


def _grow_down(index: LineIndex, last: int, budget: int) -> int:
    top = _last_line(index)
    while last < top:
        budget -= len(index.line_text(last + 1)) + 1
        if budget < 0:
            break
        last += 1
    return last
