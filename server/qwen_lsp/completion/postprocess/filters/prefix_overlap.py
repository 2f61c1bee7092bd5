"""The model restarted the cursor's line: the part it retyped goes."""

from __future__ import annotations

from ..context import PostContext, Suggestion
from ..textutil import is_word_char, word_chars

MIN_PARTIAL_OVERLAP = 6  # characters of the line's end the completion must repeat


def trim_prefix_overlap(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """Drop a restart of the current line: prefix ``    return foo(``, model ``return foo(a)``.

    Models (chat-tuned ones especially) often begin their answer by repeating the start of the
    line, which would appear twice in the editor. A partial repeat must be long enough, span more
    than one word and start with a word after a space, so that ``getattr(`` +
    ``getattr(x), 'y')`` or ``f(a, None`` + ``, None)`` style code is left alone.
    """
    typed = ctx.line_before.lstrip()
    first, sep, rest = suggestion.text.partition("\n")
    body = first.lstrip()
    if not typed or not body:
        return suggestion
    for size in range(min(len(typed), len(body)), 0, -1):
        tail = typed[-size:]
        if not body.startswith(tail):
            continue
        if size == len(typed):
            if word_chars(tail) < 2:
                continue
        elif (
            size < MIN_PARTIAL_OVERLAP
            or word_chars(tail) < 3
            or " " not in tail.strip()
            or not typed[len(typed) - size - 1].isspace()
            or not is_word_char(tail[0])
        ):
            continue
        return suggestion.change("prefix_overlap", text=body[size:] + sep + rest)
    return suggestion
