"""Reparse check: a completion must not add syntax errors the document did not have."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from itertools import pairwise
from typing import Any

from tree_sitter import Language, Node, Parser, Point, Tree

from ....syntax.languages import get_language
from ..context import PostContext, Suggestion, tidy_end
from ..lexing.state import depth_zero_lines, prefix_state
from ..textutil import CLAUSE_OR_LABEL, is_blank, starts_top_level
from .suffix_overlap import same_line_replace

REGION_LINES = 40  # errors are compared within this many lines around the insertion
WINDOW_BEFORE = 150  # lines parsed before the cursor when no tree (nor top-level line) is found
WINDOW_AFTER = 120
MIN_AFTER = 20  # lines after the cursor a window keeps at least (room for the completion's block)
MAX_TRIMS = 40
# More errors than this near the cursor without the completion: the grammar does not understand
# this code (macros, newer syntax), so its verdict on the completion is not worth much.
UNRELIABLE_ERRORS = 5
# The statements parsed on their own in place of the whole document (Python, see ``Snippet``)
# may be at most this fraction of it: parsing from scratch costs per byte about what the
# incremental reparse of a clean document costs per 12-22 bytes of it (measured, 300 to 10k
# lines). A snippet that settles the check (a valid completion) then costs less than the
# reparse; one that does not adds about as much again.
SNIPPET_SHARE = 1 / 16
MAX_SIBLING_STEPS = 50  # comments skipped looking for the statements around the cursor
# Puts indented statements in a block of their own; a def, since no clause (``else:``) can
# follow it and extend it past the block.
BLOCK_HEADER = b"def _():\n"


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


def _line_start(node: Node) -> int:
    return node.start_byte - node.start_point.column


def _starts_line(node: Node, source: bytes) -> bool:
    """Is ``node`` the first thing on its line (a statement, not a comment)?"""
    if node.type == "comment":
        return False
    return not source[_line_start(node) : node.start_byte].strip(b" \t")


def _statements_around(child: Node, cursor: int, source: bytes) -> tuple[Node, Node | None] | None:
    """Around ``child`` (a child of a module or block holding the last non-blank character
    before the cursor): the last statement that starts its own line before the cursor, and the
    first one after it whose line starts after the cursor (None: there is none)."""
    first: Node | None = child
    for _ in range(MAX_SIBLING_STEPS):
        if first is None or (first.start_byte < cursor and _starts_line(first, source)):
            break
        first = first.prev_sibling
    if first is None or first.start_byte >= cursor or not _starts_line(first, source):
        return None
    following = first.next_sibling
    for _ in range(MAX_SIBLING_STEPS):
        if following is None:
            return first, None
        if _line_start(following) > cursor and _starts_line(following, source):
            return first, following
        following = following.next_sibling
    return None


def _last_code_byte(source: bytes, cursor: int) -> int | None:
    """Offset of the last non-blank byte before the cursor."""
    for back in (256, 65_536):
        start = max(0, cursor - back)
        kept = len(source[start:cursor].rstrip())
        if kept:
            return start + kept - 1
        if not start:
            return None
    return None


@dataclass(frozen=True)
class Snippet:
    """Whole statements around the cursor, ``source[start:end]``, that can be parsed on their
    own instead of the whole document (Python only).

    They start and end at line starts, outside any string or bracket, where the statements
    before them and after them (at the same or a lower indentation) are unaffected by what is
    between. If the document parses without errors and these statements with the completion
    parse without errors on their own — in a block of their own when indented, which they must
    not leave — then the document with the completion has no errors either, and the completion
    adds none. Anything else goes to the exact check on the whole document."""

    start: int
    end: int
    nested: bool  # indented: parsed under ``BLOCK_HEADER``


def find_snippet(tree: Tree, source: bytes, cursor: int) -> Snippet | None:
    """The smallest ``Snippet`` around the cursor, from the innermost block outwards."""
    root = tree.root_node
    anchor = _last_code_byte(source, cursor)
    if root.has_error or anchor is None:
        return None
    # The node at the anchor and its ancestors; every block holding the cursor is among them.
    # (Walking down with ``first_child_for_byte`` instead crashes tree-sitter 0.26.)
    node: Node | None = root.descendant_for_byte_range(anchor, anchor + 1)
    chain: list[Node] = []
    while node is not None:
        chain.append(node)
        node = node.parent
    for child, container in pairwise(chain):
        if container.type not in ("block", "module"):
            continue
        found = _statements_around(child, cursor, source)
        if found is None:
            continue
        first, following = found
        nested = container.type == "block"
        if following is None and nested:
            continue  # the block's end is not a place the document can be cut at
        end = len(source) if following is None else _line_start(following)
        start = _line_start(first)
        if end - start > len(source) * SNIPPET_SHARE:
            return None
        return Snippet(start, end, nested)
    return None


def _clean_alone(parser: Parser, snippet: bytes, nested: bool) -> bool:
    """Does ``snippet`` parse without errors, staying inside its block when nested?"""
    if snippet.rstrip().endswith(b"\\"):
        return False  # a line continuation would join the next statement in the document
    root = parser.parse(BLOCK_HEADER + snippet if nested else snippet).root_node
    if root.has_error:
        return False
    if not nested:
        return True
    statements = [child for child in root.children if child.type != "comment"]
    return len(statements) == 1 and statements[0].type == "function_definition"


class SyntaxChecker:
    """Counts errors near the cursor with and without a completion.

    With the document's tree and bytes, a copy of the tree is edited and reparsed incrementally
    (~0.5 ms for 10k lines); for Python, the statements around the cursor are first parsed on
    their own (``Snippet``), which settles the common case — no errors — in microseconds.
    Without a tree, a window of lines around the cursor, starting and ending at top-level
    statements where possible, is parsed from scratch.
    """

    def __init__(self, ctx: PostContext, language: Language) -> None:
        # Not ``ctx`` itself: the checker lives in ``ctx.memo``, and that cycle would keep every
        # request's text and tree alive until the cyclic garbage collector ran.
        self.eol, self.suffix = ctx.eol, ctx.suffix
        self.parser = _parser(language)
        self.tree: Tree | None = None
        self.snippet: Snippet | None = None
        if ctx.tree is not None and ctx.source_bytes is not None:
            self._init_tree(ctx, ctx.tree, ctx.source_bytes)
        if self.tree is None:
            self._init_window(ctx)

    def _init_tree(self, ctx: PostContext, tree: Any, source: bytes) -> None:
        prefix = ctx.prefix.encode("utf-8")
        if len(source) != len(prefix) + len(ctx.suffix.encode("utf-8")):
            return  # the tree is not of this text: fall back to a window
        if not source.startswith(prefix[-64:], len(prefix) - len(prefix[-64:])):
            return
        self.tree, self.source, self.cursor_byte = tree, source, len(prefix)
        self.prefix_bytes = prefix
        root = tree.root_node
        if root.has_error:
            row = self.cursor_point[0]
            self.before_errors = count_errors(root, row - REGION_LINES, row + REGION_LINES)
        else:
            self.before_errors = 0
            if ctx.language == "python":
                self.snippet = find_snippet(tree, source, len(prefix))

    @cached_property
    def cursor_point(self) -> tuple[int, int]:
        """Tree-sitter point of the cursor (tree path only)."""
        prefix = self.prefix_bytes
        return prefix.count(b"\n"), len(prefix) - (prefix.rfind(b"\n") + 1)

    def _init_window(self, ctx: PostContext) -> None:
        """A window from a top-level statement before the cursor to where the code after the
        cursor is back at top level (brace languages), or to a top-level-looking line."""
        above, below = ctx.lines_above, ctx.lines_below
        # The nearest top-level statement (the lexer found them, outside brackets and strings,
        # within its scan) or, failing that, a fixed number of lines back.
        starts = prefix_state(ctx).top_level_lines
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
        self.head = "\n".join([*above[first:], ctx.line_before])
        self.tail = "\n".join([ctx.line_after, *below[:last]])
        self.row = len(above) - first
        self.before_errors = self._window_errors("", 0)

    def _window_errors(self, text: str, replace_chars: int) -> int:
        source = (self.head + text + self.tail[replace_chars:]).encode("utf-8")
        tree = self.parser.parse(source)
        last = self.row + text.count("\n") + REGION_LINES
        return count_errors(tree.root_node, self.row - REGION_LINES, last)

    def adds_errors(self, text: str, replace_chars: int) -> bool:
        """Does inserting ``text`` (replacing ``replace_chars``) add errors near the cursor?"""
        if self.snippet is not None and self._snippet_clean(text, replace_chars):
            return False
        return self.errors(text, replace_chars) > self.before_errors

    def _edit(self, text: str, replace_chars: int) -> tuple[bytes, int]:
        """The bytes inserted at the cursor and the number of bytes they replace."""
        inserted = text.replace("\n", self.eol).encode("utf-8") if text else b""
        return inserted, len(self.suffix[:replace_chars].encode("utf-8"))

    def _snippet_clean(self, text: str, replace_chars: int) -> bool:
        """Do the statements around the cursor parse without errors with ``text`` inserted?"""
        assert self.snippet is not None
        inserted, removed = self._edit(text, replace_chars)
        start, end, cursor = self.snippet.start, self.snippet.end, self.cursor_byte
        if cursor + removed >= end:
            return False
        snippet = self.source[start:cursor] + inserted + self.source[cursor + removed : end]
        return _clean_alone(self.parser, snippet, self.snippet.nested)

    def errors(self, text: str, replace_chars: int) -> int:
        """Errors near the cursor with ``text`` inserted (replacing ``replace_chars``)."""
        if self.tree is None:
            return self._window_errors(text, replace_chars)
        inserted, removed = self._edit(text, replace_chars)
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


def check_syntax(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
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
        return suggestion
    checker = ctx.memo.get("syntax")
    if checker is None:
        checker = ctx.memo["syntax"] = SyntaxChecker(ctx, language)
    if checker.before_errors > UNRELIABLE_ERRORS:
        return suggestion
    if not checker.adds_errors(suggestion.text, suggestion.replace_suffix_chars):
        return suggestion
    lines = suggestion.text.split("\n")
    for keep in range(len(lines) - 1, max(0, len(lines) - 1 - MAX_TRIMS), -1):
        shorter = tidy_end("\n".join(lines[:keep]), ctx)
        if not shorter.strip():
            break
        replace_chars = same_line_replace(ctx, shorter)
        if not checker.adds_errors(shorter, replace_chars):
            return suggestion.change("syntax", text=shorter, replace_chars=replace_chars)
    return None
