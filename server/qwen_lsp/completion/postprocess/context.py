"""What the filters know about the cursor (``PostContext``) and what they pass along
(``Suggestion``), plus the two helpers that cut a suggestion's lines.

Filters work on a ``\\n``-only view of the text around the cursor (``PostContext.before`` /
``after``), bounded so that a huge document costs no more than a large one; the document's own
line ending is restored as the last pipeline step. Typing changes only the cursor's line, so
both views, and what is derived from their lines, are shared by requests whose text there is
the same (``views.py``). What the lexer derives at the cursor is in ``lexing/state.py``
(``prefix_state(ctx)``, ``baseline(ctx)``), memoised in ``ctx.memo``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from ...prompts.fim import STOP_TOKENS
from ...syntax.languages import language_id_for
from .textutil import TAB_WIDTH, is_blank, leading_ws, tally_indents, to_lf, width
from .views import (
    MAX_AFTER_CHARS,
    MAX_BEFORE_CHARS,
    PrefixView,
    SuffixView,
    prefix_view,
    suffix_view,
)

# The Qwen specials that end a completion (and must never be shown): the set we send as `stop`.
QWEN_STOP_SEQUENCES: tuple[str, ...] = STOP_TOKENS

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
class Suggestion:
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
    ) -> Suggestion:
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


Filter = Callable[[Suggestion, PostContext], "Suggestion | None"]


def cut_lines(suggestion: Suggestion, ctx: PostContext, keep: int, note: str) -> Suggestion:
    """Keep the first ``keep`` lines of the suggestion and tidy the new end."""
    lines = suggestion.text.split("\n")
    if keep >= len(lines):
        return suggestion
    return suggestion.change(note, text=tidy_end("\n".join(lines[:keep]), ctx))


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
