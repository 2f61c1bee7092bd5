"""The completion snapshot: its syntax fetched lazily (never another text's tree), its cursor
positions from the line index equal to counting them in the text."""

from __future__ import annotations

import pytest

from qwen_lsp.completion.snapshot import CompletionSnapshot
from qwen_lsp.completion.snapshot import snapshot_of as snapshot
from qwen_lsp.documents import Document


def insert(doc: Document, offset: int, text: str, version: int) -> None:
    doc.apply_changes([{"range": ((0, offset), (0, offset)), "text": text}], version)


def test_the_tree_is_parsed_when_asked_for_not_at_snapshot_time() -> None:
    doc = Document("file:///a.py", "x = 1\n", 1, "python")
    assert doc.tree is not None
    insert(doc, 5, "0", 2)
    itree = doc.incremental_tree
    assert itree is not None and itree.dirty
    request = snapshot(doc, 6)
    assert itree.dirty and request.tree is None  # nothing parsed yet
    resolved = request.with_syntax()
    assert resolved.tree is not None and not itree.dirty
    assert resolved.source_bytes == b"x = 10\n"
    assert resolved.prefix == "x = 10" and resolved.with_syntax() is resolved


def test_a_snapshot_that_outlived_its_text_gets_no_tree() -> None:
    doc = Document("file:///b.py", "y = 2\n", 1, "python")
    request = snapshot(doc, 5)
    insert(doc, 5, "3", 2)  # the user typed on before the request got to parse
    resolved = request.with_syntax()
    assert resolved.tree is None and resolved.source_bytes is None


def test_a_given_tree_is_kept() -> None:
    doc = Document("file:///c.py", "z = 3\n", 1, "python")
    request = CompletionSnapshot(
        doc.uri, doc.text, 5, "python", doc.path, 1, tree=doc.tree, source_bytes=doc.source
    )
    assert request.with_syntax() is request


def test_the_resolved_snapshot_keeps_the_slices_already_made() -> None:
    doc = Document("file:///d.py", "w = 4\n", 1, "python")
    request = snapshot(doc, 4)
    prefix, suffix = request.prefix, request.suffix
    resolved = request.with_syntax()
    assert resolved.prefix is prefix and resolved.suffix is suffix
    assert (resolved.prefix, resolved.suffix) == ("w = ", "4\n")


TEXTS = [
    "x = 1\ny = 2\n",
    "naïve = 'café'\r\nπ = 3.14\r\n",  # non-ASCII, CRLF
    "a = 1\rb = 2\nc = 3\n",  # a lone CR: a line break for LSP, not for tree-sitter
    "s = '\U0001f600 \ud800'\nt = 1\n",  # astral character, lone surrogate
]


@pytest.mark.parametrize("text", TEXTS)
def test_cursor_positions_from_the_line_index_match_the_text(text: str) -> None:
    doc = Document("file:///p.py", text, 1, "python")
    for offset in range(len(text) + 1):
        fast = snapshot(doc, offset)
        counted = CompletionSnapshot(doc.uri, text, offset, "python", doc.path, 1)
        assert fast.cursor_byte == counted.cursor_byte == doc.byte_offset(offset)
        assert fast.cursor_row == counted.cursor_row == doc.line_index.point_at(offset)[0]
        assert fast.cursor_line == doc.line_index.line_of(offset)


@pytest.mark.parametrize("text", TEXTS)
def test_a_byte_offset_maps_back_to_the_same_character(text: str) -> None:
    doc = Document("file:///q.py", text, 1, "python")
    for cursor in range(len(text) + 1):
        resolved = snapshot(doc, cursor).with_syntax()
        assert resolved.source_bytes == doc.source
        for offset in range(len(text) + 1):
            byte = doc.byte_offset(offset)
            assert resolved.offset_of_byte(byte) == doc.str_offset(byte) == offset


def test_the_snapshot_after_an_insertion_has_its_cursor_moved() -> None:
    doc = Document("file:///r.py", "def f():\n    return \n", 1, "python")
    before = snapshot(doc, len("def f():\n    return "))
    after = before.after_inserting("é\n    x")
    expected = CompletionSnapshot(
        doc.uri, after.text, after.offset, "python", doc.path, 1, automatic=False
    )
    assert after.text == "def f():\n    return é\n    x\n"
    assert (after.cursor_byte, after.cursor_line) == (expected.cursor_byte, expected.cursor_line)
    assert not after.automatic and after.tree is None
