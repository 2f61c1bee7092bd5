"""The prediction pipeline on golden cases (``fixtures/predict-*.case``, ``refuse-*.case``):
a real document with the user's edit in its history, the region and prompt planned from it, the
model's answer read back, the minimal edits applied, and the refusal rules."""

from __future__ import annotations

import dataclasses

import pytest

from qwen_lsp.nextedit.checks import CheckLimits
from qwen_lsp.nextedit.predict import Limits, interpret, plan

from .golden import Case, cases

CASES = cases("predict-") + cases("refuse-")


def run(case: Case):
    doc, cursor = case.document()
    limits = Limits()
    if "far_lines" in case.header:
        limits = Limits(checks=CheckLimits(far_lines=int(case.header["far_lines"])))
    fmt = case.header["format"]
    asked = plan(doc, cursor, fmt, "model", [doc], lambda d: case.header["path"], limits=limits)
    finish = case.header.get("finish", "stop")
    return doc, asked, interpret(asked, case.sections["answer"], finish, doc, limits)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_golden_case(case: Case):
    doc, asked, outcome = run(case)
    if "region" in case.sections:
        assert asked.region.text(doc.text) == case.sections["region"]
    assert outcome.reason == case.header["expected"], outcome.refusal
    if outcome.prediction is not None:
        assert outcome.prediction.applied(doc.text) == case.sections["result"]


def test_there_are_cases_for_every_rule():
    expected = {c.header["expected"] for c in CASES}
    rules = {"truncated", "far_away", "rewrites_region", "deletes_typed", "reverts_edit"}
    assert rules | {"breaks_parse", "predicted", "no_change"} <= expected


def test_predicted_edits_are_the_changed_words_only():
    (case,) = [c for c in CASES if c.name == "predict-python-rename-instruct"]
    doc, _, outcome = run(case)
    prediction = outcome.prediction
    assert prediction is not None
    replaced = [(doc.text[c.start : c.end], c.new_text) for c in prediction.changes]
    assert replaced == [("width", "w"), ("width", "w")]  # not the whole region, not letters


def test_the_prediction_is_for_the_text_it_was_made_on():
    (case,) = [c for c in CASES if c.name == "predict-go-field-instruct"]
    doc, asked, outcome = run(case)
    prediction = outcome.prediction
    assert prediction is not None and prediction.version == doc.version
    assert prediction.uri == doc.uri and prediction.cursor == asked.cursor
    assert dataclasses.replace(prediction, changes=()).changes == ()
