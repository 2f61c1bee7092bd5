"""Line endings, the document's indentation style, no trailing whitespace."""

from __future__ import annotations

from ..context import PostContext, Suggestion, tidy_end
from ..lexing.state import analyse
from ..textutil import TAB_WIDTH, leading_ws, to_lf, width


def _convert_indent(ws: str, ctx: PostContext) -> str:
    """Leading whitespace in the document's style: tabs become the indent unit in a file
    indented with spaces only, spaces become tabs in a file indented with tabs only. A tab
    followed by spaces is alignment in the GNU style (tabs of 8 columns) and is left alone, as
    is everything in a file that mixes both."""
    tabs, spaces = ctx.indent_styles
    if ctx.unit == "\t" and not spaces and " " in ws and "\t" not in ws.lstrip("\t"):
        columns = width(ws, TAB_WIDTH)
        return "\t" * (columns // TAB_WIDTH) + " " * (columns % TAB_WIDTH)
    if ctx.unit != "\t" and not tabs and ws.strip("\t") == "" and ws:
        return ws.replace("\t", ctx.unit)
    return ws


def normalise(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """Line endings to ``\\n`` (restored at the end), indentation in the document's style,
    no trailing whitespace.

    Models trained on mixed code happily answer with tabs in a spaces file, ``\\r\\n`` in a
    ``\\n`` file, or trailing blanks; each would show as a diff the user did not ask for.
    """
    text = to_lf(suggestion.text)
    lines = text.split("\n")
    needs_indent = any(
        _convert_indent(leading_ws(line), ctx) != leading_ws(line)
        for line in lines[(0 if ctx.at_blank_line_start else 1) :]
        if leading_ws(line)
    )
    needs_trailing = any(line != line.rstrip(" \t") for line in lines[:-1])
    if needs_indent or needs_trailing:
        in_string = analyse(ctx, text).line_in_string if any(q in text for q in "\"'`") else None
        for index, line in enumerate(lines):
            inside = in_string is not None and in_string[index]
            if needs_indent and not inside and (index or ctx.at_blank_line_start):
                ws = leading_ws(line)
                lines[index] = _convert_indent(ws, ctx) + line[len(ws) :]
            ends_inside = in_string is not None and index + 1 < len(lines) and in_string[index + 1]
            if index + 1 < len(lines) and not ends_inside:
                lines[index] = lines[index].rstrip(" \t")
        text = "\n".join(lines)
    return suggestion.change("normalise", text=tidy_end(text, ctx))
