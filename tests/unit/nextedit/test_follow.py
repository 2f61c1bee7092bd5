"""Keeping a prediction while the user types it, dropping it otherwise."""

from __future__ import annotations

from qwen_lsp.nextedit.diff import TextChange
from qwen_lsp.nextedit.follow import follow
from qwen_lsp.nextedit.predict import Prediction, text_digest

TEXT = "def f(a):\n    return a\n"


def prediction(region_new: str) -> Prediction:
    return Prediction(
        "ne-1",
        "file:///w/a.py",
        1,
        text_digest(TEXT),
        (),
        0,
        len(TEXT) - 1,
        region_new,
        0,
        "instruct",
        "m",
    )


def step(pred: Prediction, before: str, change: TextChange):
    after = before[: change.start] + change.new_text + before[change.end :]
    return after, follow(pred, before, change, after, 2)


def test_typing_the_prediction_keeps_it_with_what_is_left():
    pred = prediction("def f(a, b):\n    return a + b")
    after, (state, kept) = step(pred, TEXT, TextChange(7, 7, ","))
    assert state == "kept" and kept is not None
    assert kept.applied(after) == "def f(a, b):\n    return a + b\n"
    assert kept.version == 2 and kept.digest == text_digest(after)


def test_typing_something_else_drops_it():
    pred = prediction("def f(a, b):\n    return a + b")
    _, (state, kept) = step(pred, TEXT, TextChange(7, 7, "x"))
    assert (state, kept) == ("diverged", None)


def test_an_edit_outside_the_region_drops_it():
    pred = prediction("def f(a, b):\n    return a + b")
    _, (state, _) = step(pred, TEXT, TextChange(len(TEXT), len(TEXT), "x = 1\n"))
    assert state == "diverged"


def test_typing_all_of_it_is_done():
    pred = prediction("def f(ab):\n    return a")
    _, (state, kept) = step(pred, TEXT, TextChange(7, 7, "b"))
    assert (state, kept) == ("done", None)
