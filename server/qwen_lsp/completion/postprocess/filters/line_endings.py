"""Back to the document's line ending at the end of the pipeline."""

from __future__ import annotations

from ..context import PostContext, Suggestion


def restore_line_endings(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """Back to the document's line ending (the filters work on ``\\n``)."""
    if ctx.eol == "\n" or "\n" not in suggestion.text:
        return suggestion
    return suggestion.change("line_endings", text=suggestion.text.replace("\n", ctx.eol))
