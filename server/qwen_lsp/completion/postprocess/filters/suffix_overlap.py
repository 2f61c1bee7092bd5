"""The completion's end repeats the text after the cursor: cut, or replaced in place."""

from __future__ import annotations

from ..context import PostContext, Suggestion, cut_lines
from ..lexing.state import analyse
from ..textutil import is_blank, is_word_char, token_starts_at, word_chars

MAX_SUFFIX_LINES = 60
AUTO_CLOSED = ")]}\"'`"


def same_line_replace(ctx: PostContext, text: str) -> int:
    """How many characters after the cursor the completion retypes (0 when none).

    Signs: the completion closes the bracket or string that an auto-inserted closer right
    after the cursor closes (``foo(|)`` + ``a, b)``); it ends with the whole rest of the line;
    or it ends with the closing brackets that follow the cursor and the brackets balance better
    when those are replaced.
    """
    after = ctx.line_after
    if not text or not after.strip():
        return 0
    leading = ""
    for char in after:
        if char not in AUTO_CLOSED:
            break
        leading += char
    closes = 0
    if leading:
        closers = [closer for _offset, closer, _level in analyse(ctx, text).unmatched]
        for index, char in enumerate(leading):
            if index < len(closers) and closers[index] == char:
                closes = index + 1
            else:
                break
        # A bracket retyped only if that balances better: in `f(g(x|)` + `x)` the completion's
        # `)` closes `g(` and the `)` after the cursor still closes `f(`.
        if closes and any(char in ")]}" for char in leading[:closes]):
            keep = analyse(ctx, text, 0).score
            while closes and analyse(ctx, text, closes).score > keep:
                closes -= 1
    rest = after.rstrip()
    long_enough = len(rest) >= 2 or rest in (";", ",", ":")
    if long_enough and len(text) > len(rest) and text.endswith(rest):
        cut = len(text) - len(rest)
        if token_starts_at(text, cut) or not is_word_char(rest[0]):
            closes = max(closes, len(rest))
    if closes:
        return closes
    brackets = len(leading) - len(leading.lstrip(")]}"))
    for size in range(min(brackets, len(text)), 0, -1):
        if text.endswith(leading[:size]) and len(text) > size:
            if analyse(ctx, text, size).score < analyse(ctx, text, 0).score:
                return size
            break
    return 0


def trim_suffix_overlap(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """Handle a completion whose end repeats the start of the suffix.

    Following lines that already exist after the cursor are cut (the model regenerated them).
    Characters on the cursor's line that the completion retypes (an auto-closed ``)``, a
    closing quote, or the whole rest of the line) are kept, and ``replace_suffix_chars`` makes
    the client replace them instead of showing them twice.
    """
    text = suggestion.text
    cut = _repeated_suffix_lines(ctx, text.split("\n"))
    if cut is not None:
        return cut_lines(suggestion, ctx, cut, "suffix_overlap")
    replace_chars = same_line_replace(ctx, text)
    if replace_chars > suggestion.replace_suffix_chars:
        return suggestion.change("suffix_overlap", replace_chars=replace_chars)
    return suggestion


def _repeated_suffix_lines(ctx: PostContext, lines: list[str]) -> int | None:
    """Index of the first completion line from which the completion repeats the lines after
    the cursor, or None."""
    if not is_blank(ctx.line_after):
        return None
    below = [line.strip() for line in ctx.lines_below[:MAX_SUFFIX_LINES] if not is_blank(line)]
    if not below:
        return None
    first = 0 if ctx.at_blank_line_start else 1
    for index in range(first, len(lines)):
        if is_blank(lines[index]) or lines[index].strip() != below[0]:
            continue
        tail = [line.strip() for line in lines[index:] if not is_blank(line)]
        matched = 0
        while matched < min(len(tail), len(below)) and tail[matched] == below[matched]:
            matched += 1
        meaningful = sum(1 for line in tail[:matched] if word_chars(line) >= 3)
        if (matched == len(tail) and meaningful >= 1) or meaningful >= 2:
            return index
    return None
