"""Position conversion: encodings, line endings, clamping, and the incremental line index."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from qwen_lsp.positions import (
    LineIndex,
    byte_offset,
    character_to_index,
    index_to_character,
    line_starts,
    negotiate_encoding,
    normalize_encoding,
    offset_at,
    point_to_position,
    position_at,
    position_to_point,
    str_offset,
    unit_length,
)

EMOJI = "\U0001f600"  # 2 UTF-16 units, 4 UTF-8 bytes
TEXT = f"a{EMOJI}b\r\n中文x\ré\n"


def test_line_starts_follow_lsp_line_endings() -> None:
    assert line_starts("a\nb\r\nc\rd") == [0, 2, 5, 7]
    assert line_starts("") == [0]
    assert line_starts("\r\n") == [0, 2]
    assert line_starts("\r\r\n\n") == [0, 1, 3, 4]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-16", [0, 1, 3, 4]), ("utf-8", [0, 1, 5, 6]), ("utf-32", [0, 1, 2, 3])],
)
def test_columns_per_encoding(encoding: str, expected: list[int]) -> None:
    line = f"a{EMOJI}b"
    assert [index_to_character(line, i, encoding) for i in range(4)] == expected  # type: ignore[arg-type]
    assert [character_to_index(line, c, encoding) for c in expected] == [0, 1, 2, 3]  # type: ignore[arg-type]


def test_unit_length_non_ascii() -> None:
    assert unit_length("é中" + EMOJI, "utf-16") == 4
    assert unit_length("é中" + EMOJI, "utf-8") == 2 + 3 + 4
    assert unit_length("é中" + EMOJI, "utf-32") == 3


def test_inside_a_character_snaps_to_its_start() -> None:
    line = f"a{EMOJI}b"
    assert character_to_index(line, 2, "utf-16") == 1  # between the surrogates
    assert character_to_index(line, 3, "utf-8") == 1  # inside the 4-byte sequence
    assert character_to_index("é", 1, "utf-8") == 0


def test_offset_and_position_round_trip_with_crlf_and_cr() -> None:
    index = LineIndex(TEXT)
    assert index.line_count == 4
    assert index.line_text(0) == f"a{EMOJI}b"
    assert index.line_text(1) == "中文x"
    assert index.line_text(2) == "é"
    assert index.line_text(3) == ""
    for offset in range(len(TEXT) + 1):
        if TEXT[offset - 1 : offset + 1] == "\r\n":
            continue  # between \r and \n is not a position
        line, character = index.position_at(offset)
        assert index.offset_at(line, character) == offset


def test_clamping_past_line_and_document_end() -> None:
    index = LineIndex(TEXT)
    assert index.offset_at(0, 99) == TEXT.index("\r")  # line end, before the terminator
    assert index.offset_at(1, 99) == TEXT.index("\r", 5)
    assert index.offset_at(99, 0) == len(TEXT)
    assert index.offset_at(-1, 5) == 0
    assert index.offset_at(0, -3) == 0
    assert index.position_at(10_000) == (3, 0)
    assert offset_at("abc", 0, 10) == 3
    assert position_at("ab\ncd", 99) == (1, 2)


def test_byte_and_str_offsets() -> None:
    text = f"é{EMOJI}x"
    assert [byte_offset(text, i) for i in range(4)] == [0, 2, 6, 7]
    assert [str_offset(text, b) for b in (0, 2, 6, 7)] == [0, 1, 2, 3]
    assert str_offset(text, 1) == 0  # inside é
    assert str_offset(text, 4) == 1  # inside the emoji
    index = LineIndex("ab\n" + text)
    assert index.byte_offset(4) == 5
    assert index.str_offset(5) == 4
    assert index.byte_length == len(("ab\n" + text).encode())


def test_points_and_positions() -> None:
    text = f"x\r\n{EMOJI}y = 1\n"
    # tree-sitter column of "y" is 4 bytes, LSP utf-16 character is 2
    assert point_to_position(text, 1, 4) == (1, 2)
    assert position_to_point(text, 1, 2) == (1, 4)
    assert point_to_position(text, 1, 4, "utf-8") == (1, 4)


def test_points_with_lone_cr_lines() -> None:
    text = "a\rb\nc"  # LSP lines: a | b | c ; tree-sitter rows: "a\rb" | "c"
    index = LineIndex(text)
    assert index.has_lone_cr()
    assert index.point_at(2) == (0, 2)
    assert index.point_to_position(0, 2) == (1, 0)
    assert index.point_to_position(1, 0) == (2, 0)


def test_encoding_names() -> None:
    assert normalize_encoding(types.PositionEncodingKind.Utf8) == "utf-8"
    assert normalize_encoding("UTF-32") == "utf-32"
    assert normalize_encoding(None) == "utf-16"
    assert normalize_encoding("latin-1") == "utf-16"
    assert negotiate_encoding(["utf-16", "utf-8"]) == "utf-8"
    assert negotiate_encoding([types.PositionEncodingKind.Utf32, "utf-8"]) == "utf-32"
    assert negotiate_encoding(None) == "utf-16"


_CHARS = st.sampled_from(["a", "b", " ", "\n", "\r", "\r\n", "é", "中", EMOJI])
_TEXTS = st.lists(_CHARS, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    text=_TEXTS,
    edits=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60), _TEXTS), max_size=8),
)
def test_incremental_line_index_matches_fresh(text: str, edits: list[tuple[int, int, str]]) -> None:
    index = LineIndex(text)
    for a, b, inserted in edits:
        start, end = sorted((min(a, len(index.text)), min(b, len(index.text))))
        expected = index.text[:start] + inserted + index.text[end:]
        index.apply_edit(start, end, inserted)
        fresh = LineIndex(expected)
        assert index.text == expected
        assert index.line_starts() == fresh.line_starts()
        assert index.line_byte_starts() == fresh.line_byte_starts()
        for offset in range(0, len(expected) + 1, 3):
            assert index.byte_offset(offset) == len(expected[:offset].encode())
            assert index.position_at(offset) == fresh.position_at(offset)
