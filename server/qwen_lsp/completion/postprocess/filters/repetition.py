"""Degenerate repetition: a model stuck in a loop."""

from __future__ import annotations

from ..context import PostContext, Suggestion, cut_lines
from ..textutil import is_blank, word_chars

MAX_LINES = 200
MAX_BLOCK = 8
MIN_RUN = 3


def _meaningful(line: str) -> bool:
    return word_chars(line) >= 3


def remove_repetition(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """Stop where the completion starts repeating itself.

    Small and sampled-greedy models loop: the same line three or more times in a row, a block of
    lines twice in a row, or a first line that copies the line right above the cursor. Such
    repeats are cut, keeping the first occurrence.
    """
    lines = suggestion.text.split("\n")[:MAX_LINES]
    full = [ctx.line_before + lines[0], *lines[1:]]
    if ctx.at_blank_line_start and _meaningful(full[0]):
        above = next((line for line in reversed(ctx.lines_above[-20:]) if not is_blank(line)), "")
        if above.rstrip() == full[0].rstrip():
            return cut_lines(suggestion, ctx, 0, "repetition")
    cut = len(full)
    for start in range(len(full) - MIN_RUN + 1):
        line = full[start]
        if not is_blank(line) and all(full[start + k] == line for k in range(1, MIN_RUN)):
            cut = start + 1
            break
    for size in range(2, MAX_BLOCK + 1):
        for start in range(0, min(cut, len(full)) - 2 * size + 1):
            block = full[start : start + size]
            if block != full[start + size : start + 2 * size]:
                continue
            filled = [line for line in block if not is_blank(line)]
            if len(filled) >= 2 and any(_meaningful(line) for line in filled):
                cut = min(cut, start + size)
                break
    if cut >= len(full):
        return suggestion
    return cut_lines(suggestion, ctx, cut, "repetition")
