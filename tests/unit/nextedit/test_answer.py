"""Reading the model's answers back into the region's new text (both formats)."""

from __future__ import annotations

import pytest

from qwen_lsp.nextedit.answer import Unusable, instruct_region, zeta_region

REGION = "def f(a):\n    return a"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("```python\ndef f(a, b):\n    return a + b\n```", "def f(a, b):\n    return a + b"),
        ("Sure:\n\n```\ndef f(a, b):\n    return a\n```\nDone.", "def f(a, b):\n    return a"),
        ("<think>hmm</think>```py\ndef g():\n    pass\n```", "def g():\n    pass"),
        ("```python\ndef f(a<|user_cursor|>, b):\n    return a\n```", "def f(a, b):\n    return a"),
        (
            "<|editable_region_start|>\ndef f(a, b):\n    return a\n<|editable_region_end|>",
            "def f(a, b):\n    return a",
        ),
    ],
)
def test_instruct_answers(answer, expected):
    assert instruct_region(answer, REGION, "", "") == expected


def test_instruct_answer_without_echoed_context():
    before = "import os\n\n\nclass A:\n"
    after = "\n\n\nclass B:\n    pass"
    answer = "```python\nclass A:\ndef f(a, b):\n    return a\n```"  # one line echoed: kept
    assert instruct_region(answer, REGION, before, after).startswith("class A:")
    answer = "```python\n\n\nclass A:\ndef f(a, b):\n    return a\n\n\nclass B:\n```"
    assert instruct_region(answer, REGION, before, after) == "def f(a, b):\n    return a"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("Change b to c.", "no_code"),
        ("```python\ndef f(a, b):\n    return a", "unclosed"),
        ("<|editable_region_start|>\ndef f(a, b):\n", "unclosed"),
    ],
)
def test_unusable_instruct_answers(answer, reason):
    with pytest.raises(Unusable) as caught:
        instruct_region(answer, REGION, "", "")
    assert caught.value.reason == reason


def test_zeta_answers():
    stopped = "```a.py\n<|editable_region_start|>\ndef f(a, b):\n    return a\n"
    assert zeta_region(stopped) == "def f(a, b):\n    return a"
    whole = stopped + "<|editable_region_end|>\nrest\n```"
    assert zeta_region(whole) == "def f(a, b):\n    return a"
    cursor = stopped.replace("a, b", "a, b<|user_cursor_is_here|>")
    assert zeta_region(cursor) == "def f(a, b):\n    return a"
    for bad in ("def f(a):", "<|editable_region_start|>", stopped + stopped):
        with pytest.raises(Unusable):
            zeta_region(bad)
