"""Reading answers back, and the minimal edits of a region."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qwen_lsp.nextedit.answer import Unusable, instruct_region, zeta_region
from qwen_lsp.nextedit.diff import TextChange, apply_changes, minimal_edits, snap_to_words

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


# --- minimal edits ------------------------------------------------------------------------


def test_unchanged_lines_are_never_part_of_an_edit():
    old = "a = 1\nb = 2\nc = 3\n"
    new = "a = 1\nb = 20\nc = 3\n"
    assert minimal_edits(old, new) == [TextChange(11, 11, "0")]


def test_one_edit_per_changed_place():
    old = "x = width\ny = 1\nz = width\n"
    new = "x = w\ny = 1\nz = w\n"
    edits = snap_to_words(old, minimal_edits(old, new))
    assert [(old[e.start : e.end], e.new_text) for e in edits] == [("width", "w"), ("width", "w")]


def test_inserted_lines_are_one_insertion():
    old = "def f():\n    pass\n"
    new = "def f():\n    log()\n    pass\n"
    assert minimal_edits(old, new) == [TextChange(9, 9, "    log()\n")]


def test_edits_are_offset_into_the_document():
    assert minimal_edits("ab", "aXb", base=100) == [TextChange(101, 101, "X")]


def test_snapping_keeps_insertions_at_a_word_end():
    old = "call(wid)"
    edits = snap_to_words(old, minimal_edits(old, "call(width)"))
    assert edits == [TextChange(8, 8, "th")]  # ghost text after what was typed


texts = st.text(alphabet="ab_ \n(),x1", max_size=40)


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_minimal_edits_turn_old_into_new(old, new):
    edits = minimal_edits(old, new)
    assert apply_changes(old, edits) == new
    assert apply_changes(old, snap_to_words(old, edits)) == new
    for edit in edits:
        replaced = old[edit.start : edit.end]
        assert replaced != edit.new_text
        if replaced and edit.new_text:  # trimmed: no common first or last character
            assert replaced[0] != edit.new_text[0] and replaced[-1] != edit.new_text[-1]
    assert sum(e.size for e in edits) <= len(old) + len(new)
