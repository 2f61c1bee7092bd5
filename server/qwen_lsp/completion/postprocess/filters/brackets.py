"""Closing brackets the completion did not open."""

from __future__ import annotations

import re

from ..context import PostContext, Suggestion, tidy_end
from ..lexing.state import analyse, baseline
from .suffix_overlap import same_line_replace

TRAILING_CLOSERS = re.compile(r"(?:[)\]}]\s*)+(?:[;,:]\s*)?\Z")


def drop_unbalanced_closers(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """Drop trailing closers that close nothing the completion opened when the suffix already
    supplies them: never emit more closers than needed.

    Models like to finish every open bracket they can see, including the ``)`` or ``}`` that is
    already written after the cursor. Brackets are counted outside strings and comments across
    the line before the cursor, the completion and the suffix. Trailing closers are removed when
    that leaves fewer closers of the wrong type (or with nothing to close) than the completion as
    it is, and no more than the document without it (the fewest such closers, then the fewest
    removed).
    """
    text = suggestion.text
    trailing = TRAILING_CLOSERS.search(text)
    if trailing is None:
        return suggestion
    analysis = analyse(ctx, text, suggestion.replace_suffix_chars)
    current = analysis.score
    if current == 0:
        return suggestion
    positions = [i for i in range(trailing.start(), len(text)) if text[i] in ")]}"]
    best: tuple[int, str, int] | None = None
    for count in range(1, len(positions) + 1):
        if count == len(positions):  # the whole run goes, with its `;` or `,`
            shorter = tidy_end(text[: trailing.start()], ctx)
        else:
            dropped = set(positions[-count:])
            shorter = tidy_end("".join(ch for i, ch in enumerate(text) if i not in dropped), ctx)
        replace_chars = same_line_replace(ctx, shorter)
        score = analyse(ctx, shorter, replace_chars).score
        if best is None or score < best[0]:
            best = (score, shorter, replace_chars)
        if score == 0:
            break
    # Without the closers the document must balance better than it does now, and at least as
    # well as before the completion (unless the completion closes its own bracket wrongly).
    if best is None or best[0] >= current:
        return suggestion
    if best[0] > baseline(ctx).score and not analysis.own_mismatches:
        return suggestion
    return suggestion.change("brackets", text=best[1], replace_chars=best[2])
