"""Shared by the post-processing tests: contexts written as a document with a cursor mark, and
the hypothesis settings (derandomized, so CI runs are repeatable)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from qwen_lsp.completion.postprocess.context import PostContext, Suggestion

CURSOR = "█"
SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def ctx(
    doc: str, language: str = "python", multiline: bool = False, **extra: object
) -> PostContext:
    """A context from a document with ``█`` at the cursor."""
    prefix, suffix = doc.split(CURSOR)
    return PostContext(
        prefix=prefix, suffix=suffix, language_id=language, multiline=multiline, **extra
    )


def run(step, raw: str, context: PostContext) -> tuple[str, int] | None:  # type: ignore[no-untyped-def]
    result = step(Suggestion(raw), context)
    return None if result is None else (result.text, result.replace_suffix_chars)
