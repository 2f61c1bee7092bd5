"""Completion post-processing: raw model text in, the suggestion to show (or None) out.

Post-processing is the biggest quality lever of a completion server: the model is asked for the
middle of a file and answers with the middle plus whatever came next in its mind. The pipeline is
a fixed sequence of small pure filters ``(Suggestion, PostContext) -> Suggestion | None`` (None
rejects); each one lives in ``filters/<its note>.py``, with its tests in
``tests/unit/completion/postprocess/filters/test_<its note>.py`` next to the golden fixtures.

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

from ..planner import PromptPlan
from ..snapshot import CompletionSnapshot
from .context import Filter, PostContext, Suggestion
from .filters.brackets import drop_unbalanced_closers
from .filters.indentation import fix_indentation
from .filters.line_endings import restore_line_endings
from .filters.normalise import normalise
from .filters.prefix_overlap import trim_prefix_overlap
from .filters.reject_tiny import reject_tiny
from .filters.repetition import remove_repetition
from .filters.scope_end import stop_at_scope_end
from .filters.single_line import keep_first_line
from .filters.stop_tokens import strip_stop_tokens
from .filters.suffix_overlap import trim_suffix_overlap
from .filters.syntax import check_syntax

log = logging.getLogger(__name__)

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


def postprocess(raw_text: str, snapshot: CompletionSnapshot, plan: PromptPlan) -> Suggestion | None:
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
    suggestion = run_filters(raw_text, ctx)
    if suggestion is not None and suggestion.notes:
        log.debug("post-processing: %s", ", ".join(suggestion.notes))
    return suggestion


def run_filters(
    raw_text: str,
    ctx: PostContext,
    *,
    filters: tuple[Filter, ...] = FILTERS,
    strict: bool = False,
) -> Suggestion | None:
    """Run ``filters`` in order over the model's ``raw_text``; None when nothing is worth
    showing."""
    suggestion = Suggestion(raw_text[:MAX_RAW_CHARS])
    for step in filters:
        try:
            result = step(suggestion, ctx)
        except Exception:
            if strict:
                raise
            log.exception("post-processing filter %s failed; skipped", step.__name__)
            continue
        if result is None:
            log.debug("post-processing: rejected by %s", step.__name__)
            return None
        suggestion = result
    return suggestion
