"""Golden prompts of both formats (``fixtures/prompt-*.case``), prefix stability, the choice
of format."""

from __future__ import annotations

import pytest

from qwen_lsp.nextedit.predict import plan
from qwen_lsp.nextedit.prompts import choose_format, fence_for

from .golden import Case, cases


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
