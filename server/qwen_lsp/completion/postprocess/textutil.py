"""Whitespace, indentation and line-shape helpers on plain text (no post-processing context)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

TAB_WIDTH = 4  # columns per tab where the document does not say otherwise


def to_lf(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` to ``\\n``."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


LEADING_WS = re.compile(r"[ \t]*")


def leading_ws(line: str) -> str:
    match = LEADING_WS.match(line)
    return match.group(0) if match else ""


def width(ws: str, tab: int = TAB_WIDTH) -> int:
    """Display width of leading whitespace."""
    columns = 0
    for char in ws:
        columns = (columns // tab + 1) * tab if char == "\t" else columns + 1
    return columns


def indent_of(line: str, tab: int = TAB_WIDTH) -> int:
    return width(leading_ws(line), tab)


def is_blank(line: str) -> bool:
    return not line.strip()


def word_chars(text: str) -> int:
    """How many identifier characters (letters, digits, ``_``) ``text`` has."""
    return sum(1 for ch in text if ch.isalnum() or ch == "_")


def is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def token_starts_at(text: str, index: int) -> bool:
    """Does a token start at ``text[index]``?"""
    if index == 0 or text[index - 1].isspace():
        return True
    return is_word_char(text[index - 1]) != is_word_char(text[index])


@dataclass(frozen=True)
class IndentTally:
    """What a run of lines says about the indentation unit: lines indented with tabs / with
    spaces, how often each positive step between consecutive indentations occurs (in order of
    first occurrence), and the indentation of the last non-blank line."""

    tabs: int = 0
    spaces: int = 0
    steps: Counter[int] = field(default_factory=Counter)
    previous: int = 0

    def then(self, later: IndentTally) -> IndentTally:
        """The tally of these lines followed by ``later``'s (tallied from ``self.previous``)."""
        # Counter addition keeps first-occurrence order (ours, then later's new steps), so
        # ``most_common`` breaks ties as one tally of all the lines would.
        steps = self.steps + later.steps
        tabs, spaces = self.tabs + later.tabs, self.spaces + later.spaces
        return IndentTally(tabs, spaces, steps, later.previous)

    def unit(self, default: str) -> str:
        """Tab, or the most common step that is a plausible unit; ``default`` otherwise."""
        if self.tabs > self.spaces:
            return "\t"
        for step, _count in self.steps.most_common():
            if step in (2, 3, 4, 8):
                return " " * step
        return default


def tally_indents(lines: list[str], previous: int = 0) -> IndentTally:
    """Tally ``lines``, the first compared with an indentation of ``previous``."""
    tabs = spaces = 0
    steps: Counter[int] = Counter()
    for line in lines:
        if is_blank(line):
            continue
        ws = leading_ws(line)
        if ws.startswith("\t"):
            tabs += 1
        elif ws.startswith(" "):
            spaces += 1
        current = width(ws)
        if current > previous and not ws.startswith("\t"):
            steps[current - previous] += 1
        previous = current
    return IndentTally(tabs, spaces, steps, previous)


def detect_indent_unit(lines: list[str], default: str = "    ") -> str:
    """Tab, or the most common positive step between consecutive indentations; ``default``
    when the lines do not say."""
    return tally_indents(lines).unit(default)


# Column-0 lines that continue a statement (`else:`) or label a statement (C's `done:`).
CLAUSE_OR_LABEL = re.compile(r"(?:else|elif|except|finally|case|default)\b|(?!try\b)\w+\s*:(?!:)")


def starts_top_level(lines: list[str], index: int) -> bool:
    """Does ``lines[index]`` look like the start of a top-level statement (column 0, after a
    blank line)? Such a line is a safe place to start scanning or parsing a window. Comments and
    preprocessor lines (``#ifdef`` inside a C function) do not count."""
    line = lines[index]
    first = line[:1]
    starts = first.isalpha() or (first != "" and first in "_@$")
    if not starts or CLAUSE_OR_LABEL.match(line):
        return False
    return index == 0 or is_blank(lines[index - 1])


def strip_line_comment(line: str, family: str) -> str:
    """``line`` without a trailing line comment (rough: ignores comment markers in strings)."""
    marker = "#" if family == "indent" else "//" if family == "brace" else None
    if marker and marker in line:
        head, _, _ = line.partition(marker)
        if head.count('"') % 2 == 0 and head.count("'") % 2 == 0:
            return head
    return line


def opens_block(line: str, family: str) -> bool:
    """Does this code line end by opening a block (so the next line is indented deeper)?"""
    code = strip_line_comment(line, family).rstrip()
    if not code:
        return False
    if family == "indent":
        return code.endswith((":", "(", "[", "{"))
    return code.endswith(("{", "(", "[")) or (family == "other" and code.endswith(":"))
