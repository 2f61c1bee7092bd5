"""The minimal edits of a region, word snapping, and that they turn old into new."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qwen_lsp.nextedit.diff import TextChange, apply_changes, minimal_edits, snap_to_words


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
