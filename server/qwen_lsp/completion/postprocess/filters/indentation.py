"""The first line must not repeat the indentation the cursor already has."""

from __future__ import annotations

from ..context import PostContext, Suggestion
from ..lexing.state import analyse
from ..textutil import is_blank, leading_ws, opens_block


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


def fix_indentation(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """The first line must not add indentation the cursor already has.

    On an indented blank line models often emit the indentation again (``    `` + ``    x``),
    giving a line twice as deep as the block. Indentation is removed down to what the line
    above calls for (its own, or one unit more after a block opener). Following lines are
    shifted by the same amount only when they were written relative to the wrong first line.
    Blank lines at the start of the completion are dropped there too: the cursor's own line is
    the place for its first line.
    """
    lines = suggestion.text.split("\n")
    if ctx.at_blank_line_start and len(lines) > 1 and is_blank(lines[0]):
        # On a blank line a leading line break would leave that line empty and start below it.
        while len(lines) > 1 and is_blank(lines[0]):
            lines.pop(0)
        suggestion = suggestion.change("indentation", text="\n".join(lines))
    ws = leading_ws(lines[0])
    if not ctx.at_blank_line_start or not ctx.line_before or not ws or is_blank(lines[0]):
        return suggestion
    above = _line_above(ctx)
    expected = 0
    if above is not None:
        expected = ctx.indent(above) + (
            ctx.width(ctx.unit) if opens_block(above, ctx.family) else 0
        )
    have = ctx.width(ctx.line_before)
    excess = have + ctx.width(ws) - max(expected, have)
    if excess <= 0:
        return suggestion
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
    return suggestion.change("indentation", text="\n".join(lines))
