"""Completion post-processing: raw model text in, the suggestion to show (or None) out.

Post-processing is the biggest quality lever of a completion server: the model is asked for the
middle of a file and answers with the middle plus whatever came next in its mind. The pipeline is
a fixed sequence of small pure filters ``(Candidate, PostContext) -> Candidate | None`` (None
rejects); each one lives in ``completion/filters/`` with its own tests and golden fixtures.

The order, and why:

 1. ``strip_stop_tokens``    stop sequences, ``<think>`` reasoning, a markdown fence — before
                             anything looks at the text, since none of it is code.
 2. ``normalise``            ``\\n`` line endings (restored in step 12), the document's tabs or
                             spaces, no trailing whitespace — so later filters compare like with
                             like.
 3. ``trim_prefix_overlap``  the model restarted the current line; works on the first line, so it
                             runs before anything cuts lines.
 4. ``keep_first_line``      single-line mode (``multiline=False``).
 5. ``fix_indentation``      the first line must not repeat the cursor's indentation; before the
                             scope filter, which measures indentation.
 6. ``remove_repetition``    loops: a line 3+ times, a block twice, a copy of the line above —
                             before the scope filter, whose cut could land inside a repeat.
 7. ``stop_at_scope_end``    multi-line mode: stop where the completion leaves the cursor's block
                             (dedent, or the brace closing the scope).
 8. ``trim_suffix_overlap``  lines that already follow the cursor are cut; characters on the
                             cursor's line that the completion retypes set
                             ``replace_suffix_chars``. After the cuts above, so the end it looks
                             at is the real end.
 9. ``drop_unbalanced_closers``  trailing closers the suffix already supplies; uses the replace
                             range from step 8 (and recomputes it when it drops closers).
10. ``reject_tiny``          blank or punctuation-only results.
11. ``check_syntax``         reparse with the completion; trim line by line or reject when it adds
                             syntax errors. Last of the quality filters: it is the most expensive
                             and sees the final text.
12. ``restore_line_endings`` back to the document's line ending.

``postprocess(raw, snapshot, plan)`` is what the engine calls; ``run_filters(raw, ctx)`` runs the
chain on a ``PostContext`` made by hand (tests, benchmarks). A filter that raises is skipped
(and logged) in production; ``strict=True`` re-raises, for tests.
"""

from __future__ import annotations

import logging

from .filters.base import QWEN_STOP_SEQUENCES, Candidate, Filter, PostContext
from .filters.brackets import drop_unbalanced_closers
from .filters.overlap import trim_prefix_overlap, trim_suffix_overlap
from .filters.repetition import remove_repetition
from .filters.scope import fix_indentation, keep_first_line, stop_at_scope_end
from .filters.syntax import check_syntax
from .filters.text import normalise, reject_tiny, restore_line_endings, strip_stop_tokens
from .planner import PromptPlan
from .snapshot import CompletionSnapshot

log = logging.getLogger(__name__)

__all__ = [
    "FILTERS",
    "QWEN_STOP_SEQUENCES",
    "Candidate",
    "Filter",
    "PostContext",
    "check_syntax",
    "drop_unbalanced_closers",
    "fix_indentation",
    "keep_first_line",
    "normalise",
    "postprocess",
    "reject_tiny",
    "remove_repetition",
    "restore_line_endings",
    "run_filters",
    "stop_at_scope_end",
    "strip_stop_tokens",
    "trim_prefix_overlap",
    "trim_suffix_overlap",
]

MAX_RAW_CHARS = 20_000

FILTERS: tuple[Filter, ...] = (
    strip_stop_tokens,
    normalise,
    trim_prefix_overlap,
    keep_first_line,
    fix_indentation,
    remove_repetition,
    stop_at_scope_end,
    trim_suffix_overlap,
    drop_unbalanced_closers,
    reject_tiny,
    check_syntax,
    restore_line_endings,
)


def postprocess(raw_text: str, snapshot: CompletionSnapshot, plan: PromptPlan) -> Candidate | None:
    """The suggestion to show for the model's ``raw_text`` at the snapshot's cursor (None when
    nothing is worth showing). The document's tree, when the snapshot has it, lets the syntax
    check reparse incrementally."""
    ctx = PostContext(
        prefix=snapshot.prefix,
        suffix=snapshot.suffix,
        language_id=snapshot.language_id,
        multiline=plan.multiline,
        tree=snapshot.tree,
        source_bytes=snapshot.source_bytes,
    )
    candidate = run_filters(raw_text, ctx)
    if candidate is not None and candidate.notes:
        log.debug("post-processing: %s", ", ".join(candidate.notes))
    return candidate


def run_filters(
    raw_text: str,
    ctx: PostContext,
    *,
    filters: tuple[Filter, ...] = FILTERS,
    strict: bool = False,
) -> Candidate | None:
    """Run ``filters`` in order over the model's ``raw_text``; None when nothing is worth
    showing."""
    candidate = Candidate(raw_text[:MAX_RAW_CHARS])
    for step in filters:
        try:
            result = step(candidate, ctx)
        except Exception:
            if strict:
                raise
            log.exception("post-processing filter %s failed; skipped", step.__name__)
            continue
        if result is None:
            log.debug("post-processing: rejected by %s", step.__name__)
            return None
        candidate = result
    return candidate
