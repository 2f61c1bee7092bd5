"""Keeping a prediction while the user types it.

A shown prediction stays valid while each of the user's edits brings the region closer to the
predicted text (fewer characters left to change: typing the predicted text, deleting what the
prediction deletes or replaces): then it is kept, its remaining edits recomputed, and no model
call is made.
Any other edit drops it (a new prediction follows once the editing settles); an edit that
completes it drops it as done.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from .diff import TextChange, change_size, minimal_edits, snap_to_words
from .predict import Prediction, text_digest

Followed = Literal["kept", "done", "diverged"]


def follow(
    prediction: Prediction, before: str, change: TextChange, after: str, version: int
) -> tuple[Followed, Prediction | None]:
    """The prediction after the user's ``change`` turned ``before`` into ``after``."""
    start, end = prediction.region_start, prediction.region_end
    if change.start < start or change.end > end:
        return "diverged", None
    delta = len(change.new_text) - (change.end - change.start)
    target = prediction.region_new
    old_distance = change_size(before[start:end], target)
    now_region = after[start : end + delta]
    new_distance = change_size(now_region, target)
    if new_distance == 0:
        return "done", None
    if new_distance >= old_distance:
        return "diverged", None
    kept = replace(
        prediction,
        version=version,
        digest=text_digest(after),
        changes=tuple(snap_to_words(after, minimal_edits(now_region, target, start))),
        region_end=end + delta,
        cursor=change.start + len(change.new_text),
    )
    return "kept", kept
