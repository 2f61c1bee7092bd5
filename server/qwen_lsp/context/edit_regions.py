"""Recently edited regions (from each document's edit history) as prompt snippets.

What the user just changed elsewhere is often what they are about to use here: a new function
in another file, a renamed parameter above the window. A region is the edited lines plus a
little context, taken from the document's current text.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..documents import Document, EditRecord

CONTEXT_LINES = 2
MAX_REGION_LINES = 16
MAX_REGIONS_PER_DOC = 3
# Edits older than this no longer say much about what comes next.
MAX_AGE_S = 15 * 60


@dataclass(frozen=True)
class EditRegion:
    path: str
    start_line: int
    end_line: int
    text: str
    age_s: float

    @property
    def recency(self) -> float:
        """1.0 for an edit made now, falling to 0 at ``MAX_AGE_S``."""
        return max(0.0, 1.0 - self.age_s / MAX_AGE_S)


def _merge_ranges(records: Iterable[EditRecord]) -> list[tuple[int, int, float]]:
    """(first line, last line, newest time) of overlapping/adjacent edited line ranges."""
    ranges: list[tuple[int, int, float]] = []
    for record in sorted(records, key=lambda r: r.start_line):
        lo = max(0, record.start_line - CONTEXT_LINES)
        hi = record.end_line + CONTEXT_LINES
        if ranges and lo <= ranges[-1][1] + 1:
            prev_lo, prev_hi, prev_time = ranges[-1]
            ranges[-1] = (prev_lo, max(prev_hi, hi), max(prev_time, record.time))
        else:
            ranges.append((lo, hi, record.time))
    return ranges


def edit_regions(
    doc: Document,
    path: str,
    exclude_lines: tuple[int, int] | None = None,
    now: float | None = None,
) -> list[EditRegion]:
    """The document's recently edited regions, newest first, outside ``exclude_lines`` (the
    window already shows those)."""
    now = time.monotonic() if now is None else now
    fresh = [r for r in doc.recent_edits if now - r.time <= MAX_AGE_S and not r.truncated]
    regions: list[EditRegion] = []
    for lo, hi, when in _merge_ranges(fresh):
        hi = min(hi, doc.line_count - 1, lo + MAX_REGION_LINES - 1)
        if exclude_lines is not None and lo <= exclude_lines[1] and hi >= exclude_lines[0]:
            continue
        text = "\n".join(doc.line(line) for line in range(lo, hi + 1)).rstrip()
        if text.strip():
            regions.append(EditRegion(path, lo, hi, text, now - when))
    regions.sort(key=lambda r: r.age_s)
    return regions[:MAX_REGIONS_PER_DOC]
