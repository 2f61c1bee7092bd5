"""Reparse check: a completion must not add syntax errors the document did not have."""

from __future__ import annotations

from functools import cache
from typing import Any

from tree_sitter import Language, Node, Parser, Point, Tree

from ...syntax.languages import get_language
from .base import (
    CLAUSE_OR_LABEL,
    Candidate,
    PostContext,
    is_blank,
    starts_top_level,
    tidy_end,
)
from .lexer import depth_zero_lines
from .overlap import same_line_replace

REGION_LINES = 40  # errors are compared within this many lines around the insertion
WINDOW_BEFORE = 150  # lines parsed before the cursor when no tree (nor top-level line) is found
WINDOW_AFTER = 120
MIN_AFTER = 20  # lines after the cursor a window keeps at least (room for the completion's block)
MAX_TRIMS = 40
# More errors than this near the cursor without the completion: the grammar does not understand
# this code (macros, newer syntax), so its verdict on the completion is not worth much.
UNRELIABLE_ERRORS = 5


@cache
def _parser(language: Language) -> Parser:
    return Parser(language)


def _lone_word(node: Node) -> bool:
    """An ERROR around a single word: what grammars make of macros (``BAD_CAST x``,
    ``char **argv UNUSED``) and of keywords newer than the grammar. Not counted."""
    text = node.text or b""
    return node.child_count <= 1 and text.strip().replace(b"_", b"a").isalnum()


def count_errors(root: Node, first_row: int, last_row: int) -> int:
    """ERROR (except lone words) and MISSING nodes touching rows ``first_row..last_row``."""
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if not node.has_error:
            continue
        if node.end_point.row < first_row or node.start_point.row > last_row:
            continue
        if node.is_missing or (node.is_error and not _lone_word(node)):
            count += 1
        stack.extend(node.children)
    return count


def _advance(point: tuple[int, int], inserted: bytes) -> tuple[int, int]:
    lines = inserted.count(b"\n")
    if not lines:
        return point[0], point[1] + len(inserted)
    return point[0] + lines, len(inserted) - inserted.rfind(b"\n") - 1


def _top_level_follows(lines: list[str], index: int) -> bool:
    """Is the next non-blank line from ``index`` on (if any) a column-0 statement?"""
    for line in lines[index : index + 4]:
        if not is_blank(line):
            if CLAUSE_OR_LABEL.match(line):
                return False
            return line[:1].isalpha() or line[:1] in ("_", "@", "#", "/")
    return index >= len(lines) - 4


class SyntaxChecker:
    """Counts errors near the cursor with and without a completion.

    With the document's tree and bytes, a copy of the tree is edited and reparsed incrementally
    (~5 ms for 10k lines); otherwise a window of lines around the cursor, starting and ending at
    top-level statements where possible, is parsed from scratch.
    """

    def __init__(self, ctx: PostContext, language: Language) -> None:
        self.ctx = ctx
        self.parser = _parser(language)
        self.tree: Tree | None = None
        if ctx.tree is not None and ctx.source_bytes is not None:
            self._init_tree(ctx.tree, ctx.source_bytes)
        if self.tree is None:
            self._init_window()

    def _init_tree(self, tree: Any, source: bytes) -> None:
        prefix = self.ctx.prefix.encode("utf-8")
        if len(source) != len(prefix) + len(self.ctx.suffix.encode("utf-8")):
            return  # the tree is not of this text: fall back to a window
        if not source.startswith(prefix[-64:], len(prefix) - len(prefix[-64:])):
            return
        self.tree, self.source, self.cursor_byte = tree, source, len(prefix)
        line_start = prefix.rfind(b"\n") + 1
        self.cursor_point = (prefix.count(b"\n"), len(prefix) - line_start)
        row = self.cursor_point[0]
        self.before_errors = count_errors(tree.root_node, row - REGION_LINES, row + REGION_LINES)

    def _init_window(self) -> None:
        """A window from a top-level statement before the cursor to where the code after the
        cursor is back at top level (brace languages), or to a top-level-looking line."""
        ctx = self.ctx
        above, below = ctx.lines_above, ctx.lines_below
        # The nearest top-level statement (the lexer found them, outside brackets and strings,
        # within its scan) or, failing that, a fixed number of lines back.
        starts = ctx.prefix_state.top_level_lines
        first = starts[-1] if starts else max(0, len(above) - WINDOW_BEFORE)
        last = min(len(below), WINDOW_AFTER)
        if ctx.family == "brace":
            for index in depth_zero_lines(ctx):
                after = index + 1
                if after >= MIN_AFTER and _top_level_follows(below, after):
                    last = after
                    break
        else:
            for index in range(MIN_AFTER, last):
                if starts_top_level(below, index):
                    last = index
                    break
        self.head = "\n".join([*above[first:], self.ctx.line_before])
        self.tail = "\n".join([self.ctx.line_after, *below[:last]])
        self.row = len(above) - first
        self.before_errors = self._window_errors("", 0)

    def _window_errors(self, text: str, replace_chars: int) -> int:
        source = (self.head + text + self.tail[replace_chars:]).encode("utf-8")
        tree = self.parser.parse(source)
        last = self.row + text.count("\n") + REGION_LINES
        return count_errors(tree.root_node, self.row - REGION_LINES, last)

    def errors(self, text: str, replace_chars: int) -> int:
        """Errors near the cursor with ``text`` inserted (replacing ``replace_chars``)."""
        if self.tree is None:
            return self._window_errors(text, replace_chars)
        inserted = text.replace("\n", self.ctx.eol).encode("utf-8") if text else b""
        removed = len(self.ctx.suffix[:replace_chars].encode("utf-8"))
        start = self.cursor_byte
        source = self.source[:start] + inserted + self.source[start + removed :]
        tree = self.tree.copy()
        tree.edit(
            start_byte=start,
            old_end_byte=start + removed,
            new_end_byte=start + len(inserted),
            start_point=Point(*self.cursor_point),
            old_end_point=Point(self.cursor_point[0], self.cursor_point[1] + removed),
            new_end_point=Point(*_advance(self.cursor_point, inserted)),
        )
        new_tree = self.parser.parse(source, tree)
        row = self.cursor_point[0]
        last = row + inserted.count(b"\n") + REGION_LINES
        return count_errors(new_tree.root_node, row - REGION_LINES, last)


def check_syntax(candidate: Candidate, ctx: PostContext) -> Candidate | None:
    """Reparse the document with the completion; trim it from the end, line by line, while it
    adds syntax errors (ERROR / MISSING nodes) near the cursor; reject it if even its first line
    does.

    The other filters are heuristics; this catches what they miss (a half-written block, a
    stray closer, prose). Errors the document already had do not count against the completion,
    and where it already has many near the cursor the grammar evidently does not understand
    the code (C macros, newer syntax) and the check is skipped, as for languages without a
    grammar.
    """
    language = get_language(ctx.language)
    if language is None:
        return candidate
    checker = ctx.memo.get("syntax")
    if checker is None:
        checker = ctx.memo["syntax"] = SyntaxChecker(ctx, language)
    if checker.before_errors > UNRELIABLE_ERRORS:
        return candidate
    if checker.errors(candidate.text, candidate.replace_suffix_chars) <= checker.before_errors:
        return candidate
    lines = candidate.text.split("\n")
    for keep in range(len(lines) - 1, max(0, len(lines) - 1 - MAX_TRIMS), -1):
        shorter = tidy_end("\n".join(lines[:keep]), ctx)
        if not shorter.strip():
            break
        replace_chars = same_line_replace(ctx, shorter)
        if checker.errors(shorter, replace_chars) <= checker.before_errors:
            return candidate.change("syntax", text=shorter, replace_chars=replace_chars)
    return None
