"""Document model: LSP changes, incremental trees, edit history, guards, and the store."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from tree_sitter import Node, Parser, Tree

from qwen_lsp.documents import (
    Document,
    DocumentNotOpen,
    DocumentStore,
    common_affixes,
    uri_to_path,
)
from qwen_lsp.syntax.languages import get_language

EMOJI = "\U0001f600"
PY = "def f(x):\n    return x\n\n\nclass A:\n    pass\n"


def lsp_position(text: str, offset: int) -> types.Position:
    """Reference UTF-16 position, computed naively (independent of qwen_lsp.positions)."""
    before = text[:offset]
    parts = re.split(r"\r\n|\n|\r", before)
    return types.Position(line=len(parts) - 1, character=len(parts[-1].encode("utf-16-le")) // 2)


def change(text: str, start: int, end: int, new: str) -> types.TextDocumentContentChangePartial:
    rng = types.Range(start=lsp_position(text, start), end=lsp_position(text, end))
    return types.TextDocumentContentChangePartial(range=rng, text=new)


def shape(node: Node) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append((n.type, n.start_byte, n.end_byte, tuple(n.start_point), tuple(n.end_point)))
        stack.extend(n.children)
    return out


def scratch_tree(language_id: str, text: str) -> Tree:
    return Parser(get_language(language_id)).parse(text.encode("utf-8", "surrogatepass"))


def test_uri_to_path() -> None:
    assert uri_to_path("file:///home/u/a%20b.py") == "/home/u/a b.py"
    assert uri_to_path("file:///c%3A/x/y.py") == "c:/x/y.py"
    assert uri_to_path("untitled:Untitled-1") is None


def test_open_detects_language_and_parses() -> None:
    doc = Document("file:///p/m.py", PY, 1, None)
    assert doc.language_id == "python"
    assert doc.path == "/p/m.py"
    assert doc.tree is not None and not doc.tree.root_node.has_error
    assert doc.parse_skipped_reason is None
    assert doc.line_count == 7
    assert doc.line(1) == "    return x"
    assert doc.line(100) == ""


def test_incremental_and_full_changes_with_objects_and_dicts() -> None:
    doc = Document("file:///m.py", PY, 1, "python")
    at = PY.index("x\n\n")
    doc.apply_changes([change(doc.text, at, at + 1, "x + 1")], 2)
    assert doc.line(1) == "    return x + 1"
    doc.apply_changes(
        [
            {
                "range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 5}},
                "text": "g",
            }
        ],
        3,
    )
    assert doc.text.startswith("def g(x):")
    doc.apply_changes([types.TextDocumentContentChangeWholeDocument(text="y = 2\n")], 4)
    assert doc.text == "y = 2\n" and doc.version == 4
    assert str(doc.tree.root_node) == str(scratch_tree("python", "y = 2\n").root_node)


def test_utf16_positions_with_emoji_cjk_and_crlf() -> None:
    text = f"s = '{EMOJI}中'\r\nt = 1\r\n"
    doc = Document("file:///u.py", text, 1, "python")
    assert doc.offset_at(types.Position(line=0, character=7)) == text.index("中")
    assert doc.position_at(text.index("'", 5)) == types.Position(line=0, character=8)
    assert doc.byte_offset(text.index("中")) == len(f"s = '{EMOJI}".encode())
    # insert after the emoji, addressed in UTF-16 units
    doc.apply_changes([{"range": ((0, 7), (0, 7)), "text": "é"}], 2)
    assert doc.line(0) == f"s = '{EMOJI}é中'"
    assert doc.position_at_byte(doc.byte_at((1, 0))) == types.Position(line=1, character=0)
    assert str(doc.tree.root_node) == str(scratch_tree("python", doc.text).root_node)


def test_inserting_lf_after_cr_merges_line_endings() -> None:
    doc = Document("file:///c.py", "a = 1\rb = 2\r", 1, "python")
    assert doc.line_count == 3
    doc.apply_changes([change(doc.text, 6, 6, "\n")], 2)  # "\r" + "\n" is now one break
    assert doc.text == "a = 1\r\nb = 2\r"
    assert doc.line_count == 3
    assert doc.line(1) == "b = 2"


def test_positions_past_the_end_clamp() -> None:
    doc = Document("file:///m.py", PY, 1, "python")
    assert doc.offset_at((0, 999)) == len("def f(x):")
    assert doc.offset_at((999, 0)) == len(PY)
    doc.apply_changes([{"range": ((999, 0), (999, 5)), "text": "z = 3\n"}], 2)
    assert doc.text.endswith("pass\nz = 3\n")


def test_edits_update_the_tree_without_full_reparse() -> None:
    doc = Document("file:///m.py", PY, 1, "python")
    assert doc.tree is not None
    itree = doc.incremental_tree
    assert itree is not None and itree.full_parse_count == 1
    for i, ch in enumerate("value = 42\n"):
        doc.apply_changes([change(doc.text, len(doc.text), len(doc.text), ch)], 2 + i)
    doc.apply_changes([change(doc.text, 4, 5, "renamed")], 99)
    assert itree.full_parse_count == 1
    assert doc.tree is not None
    assert shape(doc.tree.root_node) == shape(scratch_tree("python", doc.text).root_node)


def test_reparse_is_lazy_and_batched() -> None:
    doc = Document("file:///m.py", PY, 1, "python")
    itree = doc.incremental_tree
    assert itree is not None
    _ = doc.tree
    parses = itree.parse_count
    for i in range(5):
        doc.apply_changes([change(doc.text, 0, 0, "#")], 2 + i)
    assert itree.parse_count == parses  # edits recorded, not parsed yet
    _ = doc.tree
    assert itree.parse_count == parses + 1


_PIECES = st.sampled_from(
    [
        *("x", "def ", "f(", ")", ":", "\n", "    ", " = ", "1", "'", '"', "#", "é", EMOJI),
        *("中", "\r\n", "[", "]", "class A:", "return ", "if x:", "{", "}", ",", "\t", "\r"),
    ]
)
_INSERTS = st.lists(_PIECES, max_size=4).map("".join)


@pytest.mark.parametrize("language_id", ["python", "javascript", "rust"])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.floats(0, 0.2), _INSERTS), min_size=1, max_size=12
    ),
    full_every=st.integers(0, 5),
)
def test_incremental_tree_equals_scratch_parse(
    language_id: str, edits: list[tuple[float, float, str]], full_every: int
) -> None:
    text = PY if language_id == "python" else "function f(x) {\n  return x;\n}\n"
    doc = Document("file:///t", text, 0, language_id)
    expected = text
    for i, (at, length, inserted) in enumerate(edits):
        start = int(at * len(expected))
        end = min(len(expected), start + int(length * len(expected)))
        # LSP cannot address the middle of a "\r\n"
        if expected[start - 1 : start + 1] == "\r\n":
            start -= 1
        if expected[end - 1 : end + 1] == "\r\n":
            end += 1
        if full_every and i % full_every == 0:
            new = expected[:start] + inserted + expected[end:]
            doc.apply_changes([{"text": new}], i + 1)
        else:
            doc.apply_changes([change(expected, start, end, inserted)], i + 1)
        expected = expected[:start] + inserted + expected[end:]
        if i % 3 == 0:
            assert doc.tree is not None  # interleave reparses with pending edits
    assert doc.text == expected
    assert doc.source == expected.encode()
    assert doc.tree is not None
    assert shape(doc.tree.root_node) == shape(scratch_tree(language_id, expected).root_node)
    assert str(doc.tree.root_node) == str(scratch_tree(language_id, expected).root_node)


def test_size_guard_binary_and_unknown_language() -> None:
    big = Document("file:///big.py", "x = 1\n" * 100, 1, "python", max_parse_bytes=300)
    assert big.tree is None and big.parse_skipped_reason is not None
    assert "too large" in big.parse_skipped_reason
    big.set_text("x = 1\n", 2)  # small again: parsing resumes
    assert big.tree is not None and big.parse_skipped_reason is None
    big.apply_changes([{"range": ((1, 0), (1, 0)), "text": "y = 2\n" * 100}], 3)
    assert big.tree is None and "too large" in (big.parse_skipped_reason or "")

    binary = Document("file:///b.py", "a\x00b", 1, "python")
    assert binary.tree is None and binary.parse_skipped_reason == "binary content"
    assert binary.text == "a\x00b"

    plain = Document("file:///notes.txt", "hello", 1, "plaintext")
    assert plain.tree is None and plain.language_id == "plaintext"
    plain.apply_changes([{"range": ((0, 5), (0, 5)), "text": "!"}], 2)
    assert plain.text == "hello!"


def test_memo_is_dropped_on_change() -> None:
    doc = Document("file:///m.py", "a\n", 1, "python")
    calls: list[int] = []

    def count_lines(d: Document) -> int:
        calls.append(1)
        return d.line_count

    assert doc.memo("lines", count_lines) == 2
    assert doc.memo("lines", count_lines) == 2 and len(calls) == 1
    doc.apply_changes([{"range": ((1, 0), (1, 0)), "text": "b\n"}], 2)
    assert doc.memo("lines", count_lines) == 3 and len(calls) == 2


def test_stale_version_is_applied_and_recorded() -> None:
    doc = Document("file:///m.py", "a\n", 5, "python")
    doc.apply_changes([{"range": ((0, 1), (0, 1)), "text": "b"}], 3)
    assert doc.text == "ab\n" and doc.version == 3 and doc.stale_versions == 1


def type_at_end(doc: Document, chars: str, line: int) -> None:
    for ch in chars:
        pos = (line, len(doc.line(line)))
        doc.apply_changes([{"range": (pos, pos), "text": ch}], doc.version + 1)


def test_edit_history_coalesces_typing() -> None:
    doc = Document("file:///m.py", PY, 1, "python")
    type_at_end(doc, "    y = 1", 2)
    assert len(doc.recent_edits) == 1
    record = doc.recent_edits[-1]
    assert record.inserted == "    y = 1" and record.removed == ""
    assert (record.start_line, record.end_line) == (2, 2)
    assert doc.text[record.start : record.end] == "    y = 1"
    # backspace twice, continue typing: still one record
    for _ in range(2):
        end = len(doc.line(2))
        doc.apply_changes([{"range": ((2, end - 1), (2, end)), "text": ""}], doc.version + 1)
    type_at_end(doc, "2 + 3", 2)
    assert [r.inserted for r in doc.recent_edits] == ["    y =2 + 3"]


def test_edit_history_separate_regions_and_shifting() -> None:
    doc = Document("file:///m.py", PY, 1, "python")
    type_at_end(doc, "  # tail", 5)
    tail = doc.recent_edits[-1]
    assert tail.start_line == 5
    # an edit in another region adds a record and shifts the older one down two lines
    doc.apply_changes([{"range": ((0, 0), (0, 0)), "text": "import os\n\n"}], doc.version + 1)
    assert len(doc.recent_edits) == 2
    shifted, newest = doc.recent_edits
    assert newest.inserted == "import os\n\n" and (newest.start_line, newest.end_line) == (0, 2)
    assert shifted.start_line == 7
    assert doc.text[shifted.start : shifted.end] == "  # tail"


def test_edit_history_drops_noops_and_is_bounded() -> None:
    doc = Document("file:///m.py", PY, 1, "python", history_size=3)
    type_at_end(doc, "abc", 0)
    for _ in range(3):
        end = len(doc.line(0))
        doc.apply_changes([{"range": ((0, end - 1), (0, end)), "text": ""}], doc.version + 1)
    assert list(doc.recent_edits) == []
    for line in (5, 3, 1, 0):
        doc.apply_changes([{"range": ((line, 0), (line, 0)), "text": "#"}], doc.version + 1)
    assert len(doc.recent_edits) == 3


def test_edit_history_time_window() -> None:
    doc = Document("file:///m.py", PY, 1, "python", coalesce_seconds=0.0)
    type_at_end(doc, "ab", 0)
    time.sleep(0.002)
    assert len(doc.recent_edits) == 2
    assert doc.recent_edits[0].time <= doc.recent_edits[1].time


def test_common_affixes() -> None:
    assert common_affixes("abcdef", "abXdef") == (2, 3)
    assert common_affixes("aaa", "aaaa") == (3, 0)
    assert common_affixes("", "x") == (0, 0)
    long_a = "x" * 10_000 + "A" + "y" * 9_000
    long_b = "x" * 10_000 + "BB" + "y" * 9_000
    assert common_affixes(long_a, long_b) == (10_000, 9_000)


def test_store_open_change_close_get() -> None:
    store = DocumentStore(encoding="utf-8")
    doc = store.open("file:///a.py", f"s = '{EMOJI}'\n", 1, "python")
    assert doc.encoding == "utf-8"
    assert "file:///a.py" in store and len(store) == 1
    store.change("file:///a.py", [{"range": ((0, 9), (0, 9)), "text": "!"}], 2)
    assert store.get("file:///a.py").line(0) == f"s = '{EMOJI}!'"
    assert [d.uri for d in store] == ["file:///a.py"]
    store.set_encoding("utf-16")
    assert doc.encoding == "utf-16"
    assert store.close("file:///a.py") is doc
    assert store.close("file:///a.py") is None
    with pytest.raises(DocumentNotOpen, match=r"not open: file:///a\.py"):
        store.get("file:///a.py")
    with pytest.raises(LookupError):
        store.change("file:///nope.py", [], 1)
    assert store.find("file:///nope.py") is None
