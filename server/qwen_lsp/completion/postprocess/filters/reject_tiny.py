"""Blank or punctuation-only results are not worth a suggestion."""

from __future__ import annotations

from ..context import PostContext, Suggestion
from ..textutil import word_chars


def reject_tiny(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """Reject a result that is blank or only punctuation: not worth a suggestion, and usually a
    sign that the filters cut away everything the model meant."""
    return suggestion if word_chars(suggestion.text) else None
