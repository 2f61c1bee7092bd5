"""Closing brackets the completion did not open."""

from __future__ import annotations

import re

from .base import Candidate, PostContext, tidy_end
from .lexer import analyse
from .overlap import same_line_replace

TRAILING_CLOSERS = re.compile(r"(?:[)\]}]\s*)+(?:[;,:]\s*)?\Z")


def drop_unbalanced_closers(candidate: Candidate, ctx: PostContext) -> Candidate | None:
    """Drop trailing closers that close nothing the completion opened when the suffix already
    supplies them: never emit more closers than needed.

    Models like to finish every open bracket they can see, including the ``)`` or ``}`` that is
    already written after the cursor. Brackets are counted outside strings and comments across
    the line before the cursor, the completion and the suffix. When the completion leaves more
    closers of the wrong type (or with nothing to close) than the document had without it, the
    fewest trailing closers are removed that leave the fewest such closers.
    """
    text = candidate.text
    trailing = TRAILING_CLOSERS.search(text)
    if trailing is None:
        return candidate
    current = analyse(ctx, text, candidate.replace_suffix_chars).score
    if current <= ctx.baseline.score:
        return candidate
    positions = [i for i in range(trailing.start(), len(text)) if text[i] in ")]}"]
    best = (current, text, candidate.replace_suffix_chars)
    for count in range(1, len(positions) + 1):
        dropped = set(positions[-count:])
        shorter = tidy_end("".join(ch for i, ch in enumerate(text) if i not in dropped), ctx)
        replace_chars = same_line_replace(ctx, shorter)
        score = analyse(ctx, shorter, replace_chars).score
        if score < best[0]:
            best = (score, shorter, replace_chars)
        if score == 0:
            break
    _score, new_text, replace_chars = best
    return candidate.change("brackets", text=new_text, replace_chars=replace_chars)
