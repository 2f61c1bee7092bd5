"""Types and text helpers shared by the post-processing filters.

Filters work on a ``\\n``-only view of the text around the cursor (``PostContext.before`` /
``after``), bounded so that a huge document costs no more than a large one; the document's own
line ending is restored as the last pipeline step. Typing changes only the cursor's line, so
both views, and what is derived from their lines, are shared by requests whose text there is
the same (``prefixview``, ``suffixview``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ...prompts.fim import STOP_TOKENS
from ...syntax.languages import language_id_for
from .prefixview import MAX_BEFORE_CHARS, PrefixView, prefix_view, to_lf
from .suffixview import MAX_AFTER_CHARS, SuffixView, suffix_view

if TYPE_CHECKING:
    from .lexer import Analysis, PrefixState

# The Qwen specials that end a completion (and must never be shown): the set we send as `stop`.
QWEN_STOP_SEQUENCES: tuple[str, ...] = STOP_TOKENS

# How much of the document around the cursor the filters look at: see prefixview, suffixview.
TAB_WIDTH = 4
INDENT_LINES_ABOVE = 400  # lines the indentation unit is detected from
INDENT_LINES_BELOW = 100

# Indentation when the document does not show any yet (gofmt uses tabs).
DEFAULT_INDENT = {"go": "\t", "makefile": "\t"}
TAB_INDENT = re.compile(r"^ *\t", re.M)
SPACE_INDENT = re.compile(r"^  +[^ \t\n]", re.M)
INDENT_FAMILY = frozenset({"python"})
BRACE_FAMILY = frozenset(
    {
        "javascript",
        "javascriptreact",
        "typescript",
        "typescriptreact",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "csharp",
        "php",
        "kotlin",
        "swift",
        "scala",
        "dart",
        "json",
        "jsonc",
    }
)


@dataclass(frozen=True)
class Candidate:
    """A completion on its way through the filters.

    ``text`` is what gets inserted at the cursor; ``replace_suffix_chars`` says how many characters
    right after the cursor (on the cursor's line) the item replaces, e.g. an auto-closed ``)`` that
    the completion types again; ``notes`` names the filters that changed it.
    """

    text: str
    replace_suffix_chars: int = 0
    notes: tuple[str, ...] = ()

    def change(
        self, note: str, text: str | None = None, replace_chars: int | None = None
    ) -> Candidate:
        """A copy with ``text`` / ``replace_suffix_chars`` changed; ``note`` is recorded only when
        something actually changed."""
        new_text = self.text if text is None else text
        new_replace = self.replace_suffix_chars if replace_chars is None else replace_chars
        if new_text == self.text and new_replace == self.replace_suffix_chars:
            return self
        notes = self.notes if note in self.notes else (*self.notes, note)
        return replace(self, text=new_text, replace_suffix_chars=new_replace, notes=notes)


@dataclass(frozen=True)
class PostContext:
    """What the filters know about the cursor.

    ``prefix``/``suffix`` are the document text before/after the cursor (the whole document or a
    long window of it). ``multiline`` is the engine's decision. ``indent_unit`` is detected from
    the text when None. ``tree``/``source_bytes`` (the document's tree-sitter tree and bytes, when
    the caller has them) let the syntax check reparse incrementally instead of parsing a window.

    Derived views (``before``, ``after``, ``line_before`` …) are computed once, on first use.
    """

    prefix: str
    suffix: str
    language_id: str = "plaintext"
    multiline: bool = False
    indent_unit: str | None = None
    stop_sequences: tuple[str, ...] = QWEN_STOP_SEQUENCES
    tree: Any = field(default=None, compare=False, repr=False)
    source_bytes: bytes | None = field(default=None, compare=False, repr=False)
    # Per-context scratch space for filters (scans, parses); never part of equality.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # ----- derived views (cached; cached_property writes __dict__ directly, frozen is fine) -----

    @cached_property
    def language(self) -> str:
        """Canonical lower-case language id."""
        return language_id_for(self.language_id)

    @cached_property
    def family(self) -> str:
        """``"indent"`` (scope by indentation), ``"brace"`` (scope by braces) or ``"other"``."""
        if self.language in INDENT_FAMILY:
            return "indent"
        if self.language in BRACE_FAMILY:
            return "brace"
        return "other"

    @cached_property
    def eol(self) -> str:
        """The document's line ending: ``\\r\\n`` when the text near the cursor uses it."""
        sample = self.prefix[-4000:] + self.suffix[:4000]
        return "\r\n" if "\r\n" in sample else "\n"

    @cached_property
    def prefix_view(self) -> PrefixView:
        """``before`` plus what is known about the lines above the cursor (shared with earlier
        requests that had the same lines above)."""
        return prefix_view(self.prefix)

    @cached_property
    def before(self) -> str:
        """The prefix, ``\\n`` line endings, at most ``MAX_BEFORE_LINES`` lines back."""
        return self.prefix_view.before

    @cached_property
    def before_is_whole_prefix(self) -> bool:
        """True when ``before`` starts at the document's start (nothing cut off)."""
        return len(self.prefix) <= MAX_BEFORE_CHARS and len(self.before) == len(to_lf(self.prefix))

    @cached_property
    def suffix_view(self) -> SuffixView:
        """``after`` plus what is known about it (shared with earlier requests that had the
        same text after the cursor)."""
        return suffix_view(self.suffix)

    @cached_property
    def after(self) -> str:
        """The suffix, ``\\n`` line endings, at most ``MAX_AFTER_LINES`` lines ahead."""
        return self.suffix_view.after

    @cached_property
    def after_is_whole_suffix(self) -> bool:
        """True when ``after`` runs to the document's end."""
        return len(self.suffix) <= MAX_AFTER_CHARS and len(self.after) == len(to_lf(self.suffix))

    @cached_property
    def line_before(self) -> str:
        """The cursor's line up to the cursor."""
        return self.before[self.before.rfind("\n") + 1 :]

    @cached_property
    def line_after(self) -> str:
        """The cursor's line after the cursor (without the line ending)."""
        end = self.after.find("\n")
        return self.after if end < 0 else self.after[:end]

    @cached_property
    def lines_above(self) -> list[str]:
        """Whole lines before the cursor's line, nearest last (shared: do not mutate)."""
        return self.prefix_view.lines_above()

    @cached_property
    def lines_below(self) -> list[str]:
        """Whole lines after the cursor's line, nearest first (shared: do not mutate)."""
        return self.suffix_view.lines_below()

    @cached_property
    def at_blank_line_start(self) -> bool:
        """The cursor's line holds only indentation before the cursor."""
        return self.line_before.strip() == ""

    @cached_property
    def unit(self) -> str:
        """The indentation unit: given, or detected from the surrounding lines."""
        if self.indent_unit:
            return self.indent_unit
        # The lines above and below are tallied once per distinct text (see the views).
        above = self.prefix_view.store.get("indent_tally")
        if above is None:
            above = tally_indents(self.lines_above[-INDENT_LINES_ABOVE:])
            self.prefix_view.store["indent_tally"] = above
        key = ("indent_tally", above.previous)
        below = self.suffix_view.store.get(key)
        if below is None:
            below = tally_indents(self.lines_below[:INDENT_LINES_BELOW], above.previous)
            self.suffix_view.store[key] = below
        return above.then(below).unit(DEFAULT_INDENT.get(self.language, "    "))

    @cached_property
    def indent_styles(self) -> tuple[bool, bool]:
        """(tabs, spaces): does the nearby code indent with tabs / with runs of spaces?"""
        sample = self.before[-12_000:] + "\n" + self.after[:4000]
        # Each pattern needs a character most code lacks (a tab; two spaces at a line start):
        # looking for that first skips a slow multi-line regex scan.
        tabs = "\t" in sample and TAB_INDENT.search(sample) is not None
        maybe_spaces = sample.startswith("  ") or "\n  " in sample
        spaces = maybe_spaces and SPACE_INDENT.search(sample) is not None
        return tabs, spaces

    @cached_property
    def tab_width(self) -> int:
        """Columns per tab: 8 where tabs and spaces are mixed (GNU style), else 4."""
        tabs, spaces = self.indent_styles
        return 8 if tabs and spaces and self.unit != "\t" else TAB_WIDTH

    def width(self, ws: str) -> int:
        """Display width of whitespace in this document."""
        return width(ws, self.tab_width)

    def indent(self, line: str) -> int:
        """Indentation width of ``line`` in this document."""
        return width(leading_ws(line), self.tab_width)

    @cached_property
    def prefix_state(self) -> PrefixState:
        """Lexical state (open brackets, strings) at the cursor; see ``lexer``."""
        from .lexer import prefix_state

        return prefix_state(self)

    @cached_property
    def baseline(self) -> Analysis:
        """The lexer's account of the document as it is (no completion inserted)."""
        from .lexer import analyse

        return analyse(self, "", 0)


Filter = Callable[[Candidate, PostContext], "Candidate | None"]


# ----- small text helpers ------------------------------------------------------------------


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


def cut_lines(candidate: Candidate, ctx: PostContext, keep: int, note: str) -> Candidate:
    """Keep the first ``keep`` lines of the candidate and tidy the new end."""
    lines = candidate.text.split("\n")
    if keep >= len(lines):
        return candidate
    return candidate.change(note, text=tidy_end("\n".join(lines[:keep]), ctx))


def tidy_end(text: str, ctx: PostContext) -> str:
    """Drop trailing blank lines (and, when nothing follows on the cursor's line, all trailing
    whitespace): the suffix already supplies the line structure after the completion."""
    if is_blank(ctx.line_after):
        return text.rstrip()
    stripped = text.rstrip(" \t\n")
    if "\n" not in text[len(stripped) :]:
        return text
    # Keep one line break (and the indentation before the suffix's text), drop blank lines.
    tail = text[len(stripped) :]
    return stripped + "\n" + tail[tail.rfind("\n") + 1 :]
