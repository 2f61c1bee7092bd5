"""Minimal edits: the model's replacement diffed line by line against the original region.

The model rewrites a whole region (a function, the selected lines); the user should review only
what changed. ``difflib`` aligns the lines and every non-equal run becomes one edit over whole
lines, so unchanged lines are never touched and the edit stays small and reviewable.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from lsprotocol import types
from tree_sitter import Node, Parser, Tree

from ..positions import LineIndex, PositionEncoding
from ..syntax.analysis import error_count
from ..syntax.languages import get_language

LEADING_WS = re.compile(r"^[ \t]*")
# LSP line breaks only (str.splitlines also splits at form feeds and Unicode separators).
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass(frozen=True)
class Hunk:
    """Replace ``text[start:end]`` (string offsets into the original text) with ``new_text``."""

    start: int
    end: int
    new_text: str


@dataclass(frozen=True)
class SyntaxProblem:
    errors: int
    line: int  # 0-based line of the first error in the new text
    snippet: str


def eol_of(text: str) -> str:
    """The text's line ending: CRLF when its first line break is one, else LF."""
    at = text.find("\n")
    return "\r\n" if at > 0 and text[at - 1] == "\r" else "\n"


def indent_of(lines: Iterable[str]) -> str:
    """The leading whitespace of the least indented non-blank line."""
    indents = [LEADING_WS.match(line).group(0) for line in lines if line.strip()]  # type: ignore[union-attr]
    return min(indents, key=len) if indents else ""


def reindent(original: str, replacement: str) -> str:
    """Give a replacement the original's base indentation when the model dropped it.

    Models often answer a method or a nested block dedented to column 0.
    """
    want = indent_of(original.splitlines())
    have = indent_of(replacement.splitlines())
    if len(have) >= len(want) or not want.startswith(have):
        return replacement
    extra = want[len(have) :]
    return "\n".join(extra + line if line.strip() else line for line in replacement.split("\n"))


def normalize_replacement(original: str, replacement: str) -> str:
    """The replacement with the original's line endings, final newline and base indentation."""
    eol = eol_of(original)
    text = reindent(original, replacement.replace("\r\n", "\n").rstrip("\n"))
    if original.endswith(("\n", "\r")):
        text += "\n"
    return text.replace("\n", eol) if eol != "\n" else text


def split_lines(text: str) -> list[str]:
    """Lines with their terminators, split at LSP line breaks."""
    return LINE.findall(text)


def line_hunks(original: str, replacement: str, base: int = 0) -> list[Hunk]:
    """Edits turning ``original`` into ``replacement``, whole lines only, offsets + ``base``."""
    old = split_lines(original)
    new = split_lines(replacement)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return [
        Hunk(base + starts[i1], base + starts[i2], "".join(new[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def apply_hunks(text: str, hunks: Iterable[Hunk]) -> str:
    """``text`` with non-overlapping hunks applied."""
    out: list[str] = []
    cursor = 0
    for hunk in sorted(hunks, key=lambda h: h.start):
        out.append(text[cursor : hunk.start])
        out.append(hunk.new_text)
        cursor = hunk.end
    out.append(text[cursor:])
    return "".join(out)


def text_edits(
    text: str, hunks: Iterable[Hunk], encoding: PositionEncoding = "utf-16"
) -> list[types.TextEdit]:
    """LSP text edits for hunks over ``text`` (positions in the client's encoding)."""
    index = LineIndex(text)

    def position(offset: int) -> types.Position:
        line, character = index.position_at(offset, encoding)
        return types.Position(line=line, character=character)

    return [
        types.TextEdit(range=types.Range(position(h.start), position(h.end)), new_text=h.new_text)
        for h in hunks
    ]


def parse(text: str, language_id: str) -> Tree | None:
    language = get_language(language_id)
    if language is None:
        return None
    return Parser(language).parse(text.encode("utf-8", "surrogatepass"))


def first_error(node: Node) -> Node | None:
    """The first ERROR or MISSING node in source order."""
    if node.is_error or node.is_missing:
        return node
    if not node.has_error:
        return None
    for child in node.children:
        found = first_error(child)
        if found is not None:
            return found
    return None


def syntax_regression(
    new_text: str, language_id: str, errors_before: int | None
) -> SyntaxProblem | None:
    """A problem when ``new_text`` has more syntax errors than the text had before.

    ``errors_before`` is None when the old text was not parsed; then any error counts.
    """
    tree = parse(new_text, language_id)
    if tree is None:
        return None
    errors = error_count(tree)
    if errors <= (errors_before or 0):
        return None
    node = first_error(tree.root_node)
    line = node.start_point[0] if node is not None else 0
    lines = new_text.splitlines()
    snippet = lines[line].strip() if line < len(lines) else ""
    return SyntaxProblem(errors, line, snippet[:80])
