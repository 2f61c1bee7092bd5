"""Multi-line mode: stop where the completion leaves the cursor's block."""

from __future__ import annotations

import re

from ..context import PostContext, Suggestion, cut_lines, tidy_end
from ..lexing.state import analyse, baseline, prefix_state
from ..textutil import is_blank, leading_ws, opens_block

# Lines that may sit left of the block they belong to.
LABEL = re.compile(r"(case\b.*|default\s*:.*|[A-Za-z_]\w*\s*:)\s*$")
COMMENT_STARTS = {"indent": ("#",), "brace": ("//", "/*", "*"), "other": ("#", "//", "--")}
PREPROCESSOR_LANGUAGES = frozenset({"c", "cpp", "csharp"})


def _exempt(stripped: str, ctx: PostContext) -> bool:
    """Lines whose indentation says nothing about scope (comments, labels, preprocessor)."""
    if stripped.startswith(COMMENT_STARTS[ctx.family]):
        return True
    if ctx.language in PREPROCESSOR_LANGUAGES and stripped.startswith("#"):
        return True
    return ctx.family == "brace" and LABEL.match(stripped) is not None


def stop_at_scope_end(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """In multi-line mode, stop where the completion leaves the scope it started in.

    Models finish the block and carry on with the next function. A line indented less than the
    block the cursor is in ends the completion; after code on the cursor's line (``def f():``,
    ``x = {``) a line back at that line's level ends it too (a closing bracket line is kept).
    In brace languages the brace that closes the cursor's scope ends it as well: dropped when
    the suffix already has that brace, kept otherwise. A first line that opens a block whose
    body already follows the cursor (deeper-indented lines) ends the completion.
    """
    text = suggestion.text
    if not ctx.multiline or "\n" not in text:
        return suggestion
    lines = text.split("\n")
    if _body_follows(ctx, lines[0]):
        return cut_lines(suggestion, ctx, 1, "scope_end")
    info = analyse(ctx, text)
    if ctx.at_blank_line_start:
        base, strict = ctx.width(ctx.line_before + leading_ws(lines[0])), False
    else:
        statement = prefix_state(ctx).statement_indent
        base = ctx.width(statement if statement is not None else leading_ws(ctx.line_before))
        strict = True

    dedent_at: int | None = None
    keep_closing_line = False
    for index in range(1, len(lines)):
        line = lines[index]
        if is_blank(line) or info.line_in_string[index] or info.line_depth[index] > 0:
            continue
        stripped = line.lstrip()
        if _exempt(stripped, ctx):
            continue
        level = ctx.indent(line)
        if stripped[0] in ")]}":
            if strict and level <= base and ctx.family != "brace":
                dedent_at, keep_closing_line = index, True
                break
            continue
        if level < base or (strict and level <= base):
            dedent_at = index
            break

    if ctx.family == "brace":
        # The first `}` that closes a block open at the cursor: one that starts a line (a `}`
        # inside a line, as in `a, b } = require(…)`, closes an object or a pattern).
        for offset, char, level in info.unmatched:
            if char != "}":
                continue
            line_start = text.rfind("\n", 0, offset) + 1
            line_index = text.count("\n", 0, offset)
            if line_index and not text[line_start:offset].strip():
                if dedent_at is None or line_index < dedent_at:
                    return _cut_at_brace(suggestion, ctx, offset, level)
                break
    if dedent_at is None:
        return suggestion
    return cut_lines(suggestion, ctx, dedent_at + (1 if keep_closing_line else 0), "scope_end")


def _body_follows(ctx: PostContext, first_line: str) -> bool:
    """Does the completion's first line open a block whose body is already there (the next
    line after the cursor is indented deeper than the cursor's line)?"""
    if ctx.at_blank_line_start or not is_blank(ctx.line_after):
        return False
    if not opens_block(ctx.line_before + first_line, ctx.family):
        return False
    below = next((line for line in ctx.lines_below[:5] if not is_blank(line)), None)
    return below is not None and ctx.indent(below) > ctx.indent(ctx.line_before)


def _cut_at_brace(suggestion: Suggestion, ctx: PostContext, offset: int, level: int) -> Suggestion:
    """End the completion at the brace closing the cursor's scope: before it when the suffix
    closes that scope already, else just after it (and the closers / ``;`` that follow)."""
    text = suggestion.text
    if level in baseline(ctx).suffix_closes:
        return suggestion.change("scope_end", text=tidy_end(text[:offset], ctx))
    end = offset + 1
    while end < len(text) and text[end] in ")]};, \t":
        end += 1
    return suggestion.change("scope_end", text=tidy_end(text[:end], ctx))
