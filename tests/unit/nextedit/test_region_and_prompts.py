"""Golden region selection (``fixtures/region-*.case``) and prompts (``prompt-*.case``)."""

from __future__ import annotations

import pytest

from qwen_lsp.nextedit.predict import plan
from qwen_lsp.nextedit.prompts import choose_format, fence_for
from qwen_lsp.nextedit.region import RegionLimits, editable_region

from .golden import Case, cases


@pytest.mark.parametrize("case", cases("region-"), ids=lambda c: c.name)
def test_region_golden(case: Case):
    doc, cursor = case.document()
    region = editable_region(doc.line_index, cursor, doc.tree)
    assert region.text(doc.text) == case.sections["region"]
    assert region.start <= cursor <= region.end
    limits = RegionLimits()
    assert region.last - region.first + 1 <= limits.max_lines
    assert region.end - region.start <= limits.max_chars
    assert region.context_start <= region.start and region.end <= region.context_end


def test_a_node_that_fits_is_editable_whole():
    (case,) = [c for c in cases("region-") if c.name == "region-python-method"]
    doc, cursor = case.document()
    region = editable_region(doc.line_index, cursor, doc.tree).text(doc.text)
    assert "class Store:" in region and "out.write(str(self.items))" in region


def test_the_region_never_includes_the_empty_line_after_the_final_newline():
    from qwen_lsp.documents import Document

    doc = Document("file:///a.py", "x = 1\ny = 2\n", 1, "python")
    region = editable_region(doc.line_index, 3, doc.tree)
    assert region.text(doc.text) == "x = 1\ny = 2"


@pytest.mark.parametrize("case", cases("prompt-"), ids=lambda c: c.name)
def test_prompt_golden(case: Case):
    doc, cursor = case.document()
    fmt = case.header["format"]
    asked = plan(doc, cursor, fmt, "m", [doc], lambda d: case.header["path"])
    if fmt == "zeta":
        assert asked.request.prompt == case.sections["prompt"]
        assert "<|editable_region_end|>" in asked.request.stop
    else:
        system, user = asked.request.messages
        assert system == {"role": "system", "content": case.sections["system"]}
        assert user == {"role": "user", "content": case.sections["user"]}
    assert asked.request.temperature == 0.0


def test_instruct_prompt_keeps_stable_parts_first():
    """Consecutive predictions share their prompt's start: the system message is constant and
    the user message starts with the history, whose older events do not change."""
    (case,) = [c for c in cases("prompt-") if c.header["format"] == "instruct"]
    doc, cursor = case.document()
    first = plan(doc, cursor, "instruct", "m", [doc], lambda d: "p.py").request.messages
    later = plan(doc, cursor - 3, "instruct", "m", [doc], lambda d: "p.py").request.messages
    assert first[0] == later[0]
    user_a, user_b = first[1]["content"], later[1]["content"]
    shared = next(i for i, (a, b) in enumerate(zip(user_a, user_b, strict=False)) if a != b)
    assert shared > user_a.index("<|editable_region_start|>")


@pytest.mark.parametrize(
    ("setting", "model", "expected"),
    [
        ("auto", "zed-industries/zeta", "zeta"),
        ("auto", "nishtahir/zeta:7b-q4_K_M", "zeta"),
        ("auto", "qwen2.5-coder-7b-instruct", "instruct"),
        ("auto", "qwen3-coder-plus", "instruct"),
        ("zeta", "my-finetune", "zeta"),
        ("instruct", "zeta", "instruct"),
    ],
)
def test_format_choice(setting, model, expected):
    assert choose_format(setting, model) == expected


def test_fence_outgrows_backticks_in_code():
    assert fence_for("x = 1") == "```"
    assert fence_for('doc = """```python\n```"""') == "````"
