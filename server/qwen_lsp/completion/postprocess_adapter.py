"""Bridge between the engine and the post-processing filters (``postprocess.py``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import CompletionInput
    from .prompting import PromptPlan

log = logging.getLogger(__name__)

Postprocessor = Callable[[str, "CompletionInput", "PromptPlan"], "tuple[str, int] | None"]


def make_postprocessor() -> Postprocessor:
    from .postprocess import PostContext, postprocess

    def run(raw: str, request: CompletionInput, plan: PromptPlan) -> tuple[str, int] | None:
        ctx = PostContext(
            prefix=request.prefix,
            suffix=request.suffix,
            language_id=request.language_id,
            multiline=plan.multiline,
            tree=request.tree,
            source_bytes=request.source_bytes,
        )
        candidate = postprocess(raw, ctx)
        if candidate is None:
            return None
        if candidate.notes:
            log.debug("post-processing: %s", ", ".join(candidate.notes))
        return candidate.text, candidate.replace_suffix_chars

    return run
