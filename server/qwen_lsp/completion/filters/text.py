"""Filters on the raw text: stop tokens and wrappers, normalisation, tiny results, line endings."""

from __future__ import annotations

import re

from .base import (
    QWEN_STOP_SEQUENCES,
    TAB_WIDTH,
    Candidate,
    PostContext,
    leading_ws,
    tidy_end,
    to_lf,
    width,
    word_chars,
)
from .lexer import analyse

# Any special token in the Qwen style (`<|name|>`); code practically never contains one.
SPECIAL_TOKEN = re.compile(r"<\|[a-z][a-z0-9_]{1,30}\|>")
THINK_BLOCK = re.compile(r"<think>.*?</think>[ \t]*\n?\n?", re.S)
FENCE_OPEN = re.compile(r"\A(?:[ \t]*\n)*[ \t]*(`{3,}|~{3,})[\w+#.\-]*[ \t]*(?:\n|\Z)")
FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*$", re.M)
MARKUP_LANGUAGES = frozenset({"markdown", "mdx", "plaintext", "restructuredtext"})


def strip_stop_tokens(candidate: Candidate, ctx: PostContext) -> Candidate | None:
    """Cut at the first stop sequence, drop ``<think>`` reasoning and a markdown fence.

    Servers do not always honour ``stop`` (or stream a few tokens past it); a reasoning model
    thinks aloud first; a chat-tuned model wraps code in a fence. None of that is code.
    """
    text = candidate.text
    cut = len(text)
    for stop in {*ctx.stop_sequences, *QWEN_STOP_SEQUENCES}:
        if stop:
            found = text.find(stop, 0, cut)
            if found >= 0:
                cut = found
    special = SPECIAL_TOKEN.search(text, 0, cut)
    if special:
        cut = special.start()
    text = text[:cut]

    if "<think>" in text:
        if text.lstrip().startswith("<think>") and "</think>" not in text:
            return None  # still thinking when the answer was cut off: nothing to show
        text = THINK_BLOCK.sub("", text.lstrip() if text.lstrip().startswith("<think>") else text)
        if "<think>" in text:  # an unterminated block later on: the rest is reasoning
            text = text[: text.index("<think>")]

    if ctx.language not in MARKUP_LANGUAGES:
        opening = FENCE_OPEN.match(text)
        if opening:
            text = text[opening.end() :]
            closing = FENCE_LINE.search(text)
            if closing:
                text = text[: max(0, closing.start() - 1)]
        else:
            lines = text.rstrip().split("\n")
            if len(lines) > 1 and FENCE_LINE.fullmatch(lines[-1]):
                text = "\n".join(lines[:-1])
    return candidate.change("stop_tokens", text=text)


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


def normalise(candidate: Candidate, ctx: PostContext) -> Candidate | None:
    """Line endings to ``\\n`` (restored at the end), indentation in the document's style,
    no trailing whitespace.

    Models trained on mixed code happily answer with tabs in a spaces file, ``\\r\\n`` in a
    ``\\n`` file, or trailing blanks; each would show as a diff the user did not ask for.
    """
    text = to_lf(candidate.text)
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
    return candidate.change("normalise", text=tidy_end(text, ctx))


def reject_tiny(candidate: Candidate, ctx: PostContext) -> Candidate | None:
    """Reject a result that is blank or only punctuation: not worth a suggestion, and usually a
    sign that the filters cut away everything the model meant."""
    return candidate if word_chars(candidate.text) else None


def restore_line_endings(candidate: Candidate, ctx: PostContext) -> Candidate | None:
    """Back to the document's line ending (the filters work on ``\\n``)."""
    if ctx.eol == "\n" or "\n" not in candidate.text:
        return candidate
    return candidate.change("line_endings", text=candidate.text.replace("\n", ctx.eol))
