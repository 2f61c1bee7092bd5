"""Single-line mode keeps the first line."""

from __future__ import annotations

from ..context import PostContext, Suggestion, tidy_end


def keep_first_line(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """In single-line mode keep only the first line.

    The engine asks for one line when the cursor is mid-line or after an expression; models
    still run on. A completion that starts with a line break yields nothing here: where a
    block is wanted (e.g. after ``def f():``) the engine has already asked for multi-line.
    """
    if ctx.multiline or "\n" not in suggestion.text:
        return suggestion
    first = suggestion.text.split("\n", 1)[0]
    return suggestion.change("single_line", text=tidy_end(first, ctx))
