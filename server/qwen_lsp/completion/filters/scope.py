"""Line structure: single-line mode, indentation of the first line, the end of the scope."""

from __future__ import annotations

import re

from .base import (
    Candidate,
    PostContext,
    cut_lines,
    is_blank,
    leading_ws,
    opens_block,
    tidy_end,
)
from .lexer import analyse

# Lines that may sit left of the block they belong to.
LABEL = re.compile(r"(case\b.*|default\s*:.*|[A-Za-z_]\w*\s*:)\s*$")
COMMENT_STARTS = {"indent": ("#",), "brace": ("//", "/*", "*"), "other": ("#", "//", "--")}
PREPROCESSOR_LANGUAGES = frozenset({"c", "cpp", "csharp"})


def keep_first_line(candidate: Candidate, ctx: PostContext) -> Candidate | None:
    """In single-line mode keep only the first line.

    The engine asks for one line when the cursor is mid-line or after an expression; models
    still run on. A completion that starts with a line break yields nothing here: where a
    block is wanted (e.g. after ``def f():``) the engine has already asked for multi-line.
    """
    if ctx.multiline or "\n" not in candidate.text:
        return candidate
    first = candidate.text.split("\n", 1)[0]
    return candidate.change("single_line", text=tidy_end(first, ctx))


def _drop_columns(line: str, columns: int, tab: int) -> str:
    """``line`` without ``columns`` columns of its leading whitespace."""
    index = removed = 0
    while index < len(line) and line[index] in " \t" and removed < columns:
        removed = (removed // tab + 1) * tab if line[index] == "\t" else removed + 1
        index += 1
    return line[index:]


def _line_above(ctx: PostContext) -> str | None:
    for line in reversed(ctx.lines_above[-50:]):
        if not is_blank(line):
            return line
    return None


def fix_indentation(candidate: Candidate, ctx: PostContext) -> Candidate | None:
    """The first line must not add indentation the cursor already has.

    On an indented blank line models often emit the indentation again (``    `` + ``    x``),
    giving a line twice as deep as the block. Indentation is removed down to what the line
    above calls for (its own, or one unit more after a block opener). Following lines are
    shifted by the same amount only when they were written relative to the wrong first line.
    Blank lines at the start of the completion are dropped there too: the cursor's own line is
    the place for its first line.
    """
    lines = candidate.text.split("\n")
    if ctx.at_blank_line_start and len(lines) > 1 and is_blank(lines[0]):
        # On a blank line a leading line break would leave that line empty and start below it.
        while len(lines) > 1 and is_blank(lines[0]):
            lines.pop(0)
        candidate = candidate.change("indentation", text="\n".join(lines))
    ws = leading_ws(lines[0])
    if not ctx.at_blank_line_start or not ctx.line_before or not ws or is_blank(lines[0]):
        return candidate
    above = _line_above(ctx)
    expected = 0
    if above is not None:
        expected = ctx.indent(above) + (
            ctx.width(ctx.unit) if opens_block(above, ctx.family) else 0
        )
    have = ctx.width(ctx.line_before)
    excess = have + ctx.width(ws) - max(expected, have)
    if excess <= 0:
        return candidate
    removed = min(excess, ctx.width(ws))
    model_column = have + ctx.width(ws)
    lines[0] = _drop_columns(lines[0], removed, ctx.tab_width)
    if len(lines) > 1:
        in_string = analyse(ctx, "\n".join(lines)).line_in_string
        following = [
            ctx.indent(line)
            for index, line in enumerate(lines[1:], 1)
            if not is_blank(line) and not in_string[index]
        ]
        step = ctx.width(ctx.unit) if opens_block(lines[0], ctx.family) else 0
        if following and min(following) >= model_column + step:
            lines = [lines[0]] + [
                line if in_string[index] else _drop_columns(line, removed, ctx.tab_width)
                for index, line in enumerate(lines[1:], 1)
            ]
    return candidate.change("indentation", text="\n".join(lines))


def _exempt(stripped: str, ctx: PostContext) -> bool:
    """Lines whose indentation says nothing about scope (comments, labels, preprocessor)."""
    if stripped.startswith(COMMENT_STARTS[ctx.family]):
        return True
    if ctx.language in PREPROCESSOR_LANGUAGES and stripped.startswith("#"):
        return True
    return ctx.family == "brace" and LABEL.match(stripped) is not None


def stop_at_scope_end(candidate: Candidate, ctx: PostContext) -> Candidate | None:
    """In multi-line mode, stop where the completion leaves the scope it started in.

    Models finish the block and carry on with the next function. A line indented less than the
    block the cursor is in ends the completion; after code on the cursor's line (``def f():``,
    ``x = {``) a line back at that line's level ends it too (a closing bracket line is kept).
    In brace languages the brace that closes the cursor's scope ends it as well: dropped when
    the suffix already has that brace, kept otherwise. A first line that opens a block whose
    body already follows the cursor (deeper-indented lines) ends the completion.
    """
    text = candidate.text
    if not ctx.multiline or "\n" not in text:
        return candidate
    lines = text.split("\n")
    if _body_follows(ctx, lines[0]):
        return cut_lines(candidate, ctx, 1, "scope_end")
    info = analyse(ctx, text)
    if ctx.at_blank_line_start:
        base, strict = ctx.width(ctx.line_before + leading_ws(lines[0])), False
    else:
        statement = ctx.prefix_state.statement_indent
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
                    return _cut_at_brace(candidate, ctx, offset, level)
                break
    if dedent_at is None:
        return candidate
    return cut_lines(candidate, ctx, dedent_at + (1 if keep_closing_line else 0), "scope_end")


def _body_follows(ctx: PostContext, first_line: str) -> bool:
    """Does the completion's first line open a block whose body is already there (the next
    line after the cursor is indented deeper than the cursor's line)?"""
    if ctx.at_blank_line_start or not is_blank(ctx.line_after):
        return False
    if not opens_block(ctx.line_before + first_line, ctx.family):
        return False
    below = next((line for line in ctx.lines_below[:5] if not is_blank(line)), None)
    return below is not None and ctx.indent(below) > ctx.indent(ctx.line_before)


def _cut_at_brace(candidate: Candidate, ctx: PostContext, offset: int, level: int) -> Candidate:
    """End the completion at the brace closing the cursor's scope: before it when the suffix
    closes that scope already, else just after it (and the closers / ``;`` that follow)."""
    text = candidate.text
    if level in ctx.baseline.suffix_closes:
        return candidate.change("scope_end", text=tidy_end(text[:offset], ctx))
    end = offset + 1
    while end < len(text) and text[end] in ")]};, \t":
        end += 1
    return candidate.change("scope_end", text=tidy_end(text[:end], ctx))
