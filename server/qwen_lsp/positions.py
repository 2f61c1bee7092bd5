"""Conversion between LSP positions, string indices, UTF-8 byte offsets and tree-sitter points.

Vocabulary used throughout:

* *index* / *offset*: an index into the Python ``str`` (code points).
* *byte*: an offset into the UTF-8 encoding of the text (what tree-sitter uses).
* *character*: an LSP column, counted in code units of the negotiated position encoding
  ("utf-16" by default; "utf-8" counts bytes; "utf-32" counts code points).
* *line*: an LSP line. LSP ends lines at ``\\n``, ``\\r\\n`` and a lone ``\\r``.
* *point*: a tree-sitter ``(row, byte column)``. Tree-sitter ends rows at ``\\n`` only, so rows
  equal LSP lines unless the text contains a lone ``\\r``.

Out-of-range input is clamped the way LSP asks: a character past the end of a line means the line
end, a line past the end means the document end. A character that lands inside a surrogate pair
(UTF-16) or inside a multi-byte sequence (UTF-8) snaps back to the start of that character.

Every conversion that needs line starts is O(log n) through :class:`LineIndex`; the column part is
O(line length) with C-speed fast paths for ASCII and BMP-only lines.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from typing import Literal, cast

PositionEncoding = Literal["utf-8", "utf-16", "utf-32"]
UTF8: PositionEncoding = "utf-8"
UTF16: PositionEncoding = "utf-16"
UTF32: PositionEncoding = "utf-32"
DEFAULT_ENCODING: PositionEncoding = UTF16
ENCODINGS: tuple[PositionEncoding, ...] = (UTF8, UTF16, UTF32)

# Lone surrogates can reach us from JSON ("\ud800"); encode them rather than crash.
_ERRORS = "surrogatepass"
_LINE_BREAK = re.compile(r"\r\n|\n|\r")


def normalize_encoding(value: object) -> PositionEncoding:
    """The encoding named by ``value`` (a str, an lsprotocol ``PositionEncodingKind`` or None).

    Unknown values fall back to UTF-16, which every LSP client must support.
    """
    raw = getattr(value, "value", value)
    if isinstance(raw, str):
        lowered = raw.lower().replace("_", "-")
        if lowered in ENCODINGS:
            return cast(PositionEncoding, lowered)
    return DEFAULT_ENCODING


def negotiate_encoding(client_supported: Iterable[object] | None) -> PositionEncoding:
    """Pick the server's position encoding from the client's ``general.positionEncodings``.

    UTF-32 is cheapest for Python strings and UTF-8 matches tree-sitter; UTF-16 is the mandatory
    fallback.
    """
    offered = {normalize_encoding(item) for item in client_supported or ()}
    for preferred in (UTF32, UTF8):
        if preferred in offered:
            return preferred
    return UTF16


# --------------------------------------------------------------------------------------------
# Column conversion within one line (the line text excludes its terminator).


def unit_length(text: str, encoding: PositionEncoding = DEFAULT_ENCODING) -> int:
    """Length of ``text`` in code units of ``encoding``."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", _ERRORS))
    return len(text.encode("utf-16-le", _ERRORS)) // 2


def index_to_character(line_text: str, index: int, encoding: PositionEncoding = UTF16) -> int:
    """LSP character of the string index ``index`` within ``line_text`` (clamped to the line)."""
    index = max(0, min(index, len(line_text)))
    return unit_length(line_text[:index], encoding)


def character_to_index(line_text: str, character: int, encoding: PositionEncoding = UTF16) -> int:
    """String index within ``line_text`` of LSP ``character``.

    Clamps to the line end; inside a multi-unit character it snaps to that character's start.
    """
    if character <= 0:
        return 0
    if encoding == UTF32 or line_text.isascii():
        return min(character, len(line_text))
    if encoding == UTF8:
        return _utf8_units_to_index(line_text, character)
    return _utf16_units_to_index(line_text, character)


def _utf8_units_to_index(line_text: str, units: int) -> int:
    data = line_text.encode("utf-8", _ERRORS)
    if units >= len(data):
        return len(line_text)
    try:
        return len(data[:units].decode("utf-8", _ERRORS))
    except UnicodeDecodeError as exc:  # cut inside a multi-byte sequence: keep the whole chars
        return len(data[: exc.start].decode("utf-8", _ERRORS))


def _utf16_units_to_index(line_text: str, units: int) -> int:
    data = line_text.encode("utf-16-le", _ERRORS)
    if 2 * units >= len(data):
        return len(line_text)
    prefix = data[: 2 * units].decode("utf-16-le", _ERRORS)
    count = len(prefix)
    # A high surrogate at the cut is half of an astral character: snap to its start.
    if count and "\ud800" <= prefix[-1] <= "\udbff" and line_text[count - 1] != prefix[-1]:
        count -= 1
    return count


# --------------------------------------------------------------------------------------------
# Whole-text helpers.


def line_starts(text: str) -> list[int]:
    """String index of the start of every LSP line (always at least ``[0]``)."""
    return [0, *(m.end() for m in _LINE_BREAK.finditer(text))]


def line_end(text: str, start: int, next_start: int) -> int:
    """Index where the line ``[start, next_start)`` ends, excluding its terminator."""
    end = next_start
    if end > start and text[end - 1] == "\n":
        end -= 1
    if end > start and text[end - 1] == "\r":
        end -= 1
    return end


def byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of string index ``index`` (clamped). O(index); see LineIndex for speed."""
    index = max(0, min(index, len(text)))
    prefix = text[:index]
    return index if prefix.isascii() else len(prefix.encode("utf-8", _ERRORS))


def str_offset(text: str, byte: int) -> int:
    """String index of UTF-8 byte offset ``byte`` (clamped; snaps back inside a character)."""
    if byte <= 0:
        return 0
    if text.isascii():
        return min(byte, len(text))
    return _utf8_units_to_index(text, byte)


def offset_at(
    text: str, line: int, character: int, encoding: PositionEncoding = DEFAULT_ENCODING
) -> int:
    """String index of an LSP position in ``text`` (builds a throwaway index: O(n))."""
    return LineIndex(text).offset_at(line, character, encoding)


def position_at(
    text: str, offset: int, encoding: PositionEncoding = DEFAULT_ENCODING
) -> tuple[int, int]:
    """LSP ``(line, character)`` of a string index in ``text`` (O(n); see LineIndex)."""
    return LineIndex(text).position_at(offset, encoding)


def point_to_position(
    text: str, row: int, column: int, encoding: PositionEncoding = DEFAULT_ENCODING
) -> tuple[int, int]:
    """LSP position of a tree-sitter point (rows split at ``\\n`` only, column in bytes)."""
    return LineIndex(text).point_to_position(row, column, encoding)


def position_to_point(
    text: str, line: int, character: int, encoding: PositionEncoding = DEFAULT_ENCODING
) -> tuple[int, int]:
    """Tree-sitter ``(row, byte column)`` of an LSP position."""
    return LineIndex(text).position_to_point(line, character, encoding)


# --------------------------------------------------------------------------------------------
# The maintained index.


class LineIndex:
    """Line starts (as string indices and UTF-8 byte offsets) of one text, updatable in place.

    Lookups bisect the start lists (O(log n)). :meth:`apply_edit` splices the lists after a text
    edit instead of rescanning the text. Shifting every later line start on each keystroke would
    cost O(lines), so an edit that adds or removes no line break records a pending shift of the
    starts from one line on; typing on one line keeps adding to it, and anything else applies it.
    """

    __slots__ = (
        "_byte_shift",
        "_byte_starts",
        "_lone_cr",
        "_shift",
        "_shift_from",
        "_starts",
        "text",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = line_starts(text)
        self._byte_starts = self._bytes_for(0, 0, self._starts)
        self._lone_cr: bool | None = None
        # starts[i] for i >= _shift_from are stored without the pending shift
        self._shift_from = len(self._starts)
        self._shift = 0
        self._byte_shift = 0

    # ---- stored values, corrected for the pending shift

    def _start(self, line: int) -> int:
        return self._starts[line] + (self._shift if line >= self._shift_from else 0)

    def _byte_start(self, line: int) -> int:
        return self._byte_starts[line] + (self._byte_shift if line >= self._shift_from else 0)

    def _next_start(self, line: int) -> int:
        """Start of the line after ``line``, or the text end."""
        return self._start(line + 1) if line + 1 < len(self._starts) else len(self.text)

    def _line_of(self, index: int) -> int:
        """Line containing string index ``index`` (already clamped)."""
        p = self._shift_from
        if p < len(self._starts) and index >= self._starts[p] + self._shift:
            return bisect_right(self._starts, index - self._shift, p) - 1
        return bisect_right(self._starts, index, 0, p) - 1

    def _line_of_byte_raw(self, byte: int) -> int:
        p = self._shift_from
        if p < len(self._byte_starts) and byte >= self._byte_starts[p] + self._byte_shift:
            return bisect_right(self._byte_starts, byte - self._byte_shift, p) - 1
        return bisect_right(self._byte_starts, byte, 0, p) - 1

    def _flush(self) -> None:
        """Apply the pending shift to the stored starts."""
        p, shift, byte_shift = self._shift_from, self._shift, self._byte_shift
        if p < len(self._starts) and (shift or byte_shift):
            self._starts[p:] = [s + shift for s in self._starts[p:]]
            self._byte_starts[p:] = [b + byte_shift for b in self._byte_starts[p:]]
        self._shift_from, self._shift, self._byte_shift = len(self._starts), 0, 0

    # ---- maintenance

    def _bytes_for(self, anchor: int, anchor_byte: int, starts: list[int]) -> list[int]:
        """Byte offsets of ascending string indices ``starts``, all >= ``anchor``."""
        out: list[int] = []
        index, byte = anchor, anchor_byte
        for start in starts:
            byte += _utf8_len(self.text, index, start)
            index = start
            out.append(byte)
        return out

    def apply_edit(self, start: int, old_end: int, new_text: str) -> None:
        """Replace ``text[start:old_end]`` with ``new_text`` and update the line starts."""
        text = self.text
        removed_bytes = _utf8_len(text, start, old_end)
        # A start at i depends on text[i-1] and text[i] (\r\n vs lone \r), so starts in
        # [start, old_end] are recomputed and the later ones are shifted.
        lo = max(1, self._line_of(max(0, start - 1)) + 1)  # line 0 always starts at 0
        hi = self._line_of(old_end) + 1
        old_fresh = [self._start(i) for i in range(lo, hi)]
        self.text = text = "".join((text[:start], new_text, text[old_end:]))
        self._lone_cr = None
        delta = len(new_text) - (old_end - start)
        byte_delta = len(new_text.encode("utf-8", _ERRORS)) - removed_bytes
        new_hi = start + len(new_text)
        window = _LINE_BREAK.finditer(text, max(0, start - 1), new_hi + 1)
        fresh = [m.end() for m in window if start <= m.end() <= new_hi]
        # Typing within a line (or at its start) leaves every line start up to the edit alone.
        unchanged = fresh == old_fresh and all(f == start for f in fresh)
        if unchanged and self._pend(hi, delta, byte_delta):
            return
        self._flush()
        fresh_bytes = self._bytes_for(self._starts[lo - 1], self._byte_starts[lo - 1], fresh)
        self._starts[lo:] = fresh + [s + delta for s in self._starts[hi:]]
        self._byte_starts[lo:] = fresh_bytes + [b + byte_delta for b in self._byte_starts[hi:]]
        self._shift_from = len(self._starts)

    def _pend(self, first: int, delta: int, byte_delta: int) -> bool:
        """Record a shift of the starts from line ``first`` on, if it can stay pending."""
        if first >= len(self._starts):
            return True  # no line after the edit
        if self._shift_from == first:
            self._shift += delta
            self._byte_shift += byte_delta
            return True
        if self._shift_from == len(self._starts):
            self._shift_from, self._shift, self._byte_shift = first, delta, byte_delta
            return True
        return False

    # ---- lines

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_start(self, line: int) -> int:
        """String index where ``line`` starts (clamped to the document)."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        return self._start(line)

    def line_end(self, line: int, *, keep_terminator: bool = False) -> int:
        """String index where ``line`` ends (before its terminator unless asked)."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        nxt = self._next_start(line)
        return nxt if keep_terminator else line_end(self.text, self._start(line), nxt)

    def line_text(self, line: int, *, keep_terminator: bool = False) -> str:
        """Text of ``line`` ('' past the end)."""
        if line < 0 or line >= len(self._starts):
            return ""
        return self.text[self._start(line) : self.line_end(line, keep_terminator=keep_terminator)]

    def line_of(self, index: int) -> int:
        """Line containing string index ``index`` (clamped)."""
        return self._line_of(max(0, min(index, len(self.text))))

    def line_of_byte(self, byte: int) -> int:
        return max(0, self._line_of_byte_raw(byte))

    def line_starts(self) -> list[int]:
        """All line starts as string indices (a copy)."""
        return [self._start(i) for i in range(len(self._starts))]

    def line_byte_starts(self) -> list[int]:
        """All line starts as UTF-8 byte offsets (a copy)."""
        return [self._byte_start(i) for i in range(len(self._starts))]

    # ---- offsets

    def offset_at(self, line: int, character: int, encoding: PositionEncoding = UTF16) -> int:
        """String index of an LSP position, clamped as LSP prescribes."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        start = self._start(line)
        end = self.line_end(line)
        if character <= 0:
            return start
        return start + character_to_index(self.text[start:end], character, encoding)

    def position_at(self, index: int, encoding: PositionEncoding = UTF16) -> tuple[int, int]:
        """LSP ``(line, character)`` of a string index; inside a ``\\r\\n`` it is the line end."""
        index = max(0, min(index, len(self.text)))
        line = self._line_of(index)
        start = self._start(line)
        index = min(index, self.line_end(line))
        return line, unit_length(self.text[start:index], encoding)

    def byte_offset(self, index: int) -> int:
        """UTF-8 byte offset of string index ``index`` (clamped)."""
        index = max(0, min(index, len(self.text)))
        line = self._line_of(index)
        return self._byte_start(line) + _utf8_len(self.text, self._start(line), index)

    def str_offset(self, byte: int) -> int:
        """String index of UTF-8 byte offset ``byte`` (clamped; snaps back inside a character)."""
        if byte <= 0:
            return 0
        line = self._line_of_byte_raw(byte)
        start = self._start(line)
        chunk = self.text[start : self._next_start(line)]
        return start + str_offset(chunk, byte - self._byte_start(line))

    @property
    def byte_length(self) -> int:
        last = len(self._starts) - 1
        return self._byte_start(last) + _utf8_len(self.text, self._start(last), len(self.text))

    # ---- tree-sitter points

    def has_lone_cr(self) -> bool:
        """Whether some line ends with a lone ``\\r`` (then tree-sitter rows differ from lines)."""
        if self._lone_cr is None:
            self._lone_cr = "\r" in self.text and re.search(r"\r(?!\n)", self.text) is not None
        return self._lone_cr

    def point_at(self, index: int) -> tuple[int, int]:
        """Tree-sitter ``(row, byte column)`` of a string index."""
        index = max(0, min(index, len(self.text)))
        if not self.has_lone_cr():
            line = self._line_of(index)
            return line, _utf8_len(self.text, self._start(line), index)
        prefix = self.text[:index]
        row_start = prefix.rfind("\n") + 1
        return prefix.count("\n"), _utf8_len(prefix, row_start, len(prefix))

    def point_to_offset(self, row: int, column: int) -> int:
        """String index of a tree-sitter point."""
        if row < 0:
            return 0
        if not self.has_lone_cr():
            if row >= len(self._starts):
                return len(self.text)
            start = self._start(row)
            return start + str_offset(self.text[start : self._next_start(row)], column)
        rows = self.text.split("\n")
        if row >= len(rows):
            return len(self.text)
        start = sum(len(r) + 1 for r in rows[:row])
        return start + str_offset(rows[row], column)

    def point_to_position(
        self, row: int, column: int, encoding: PositionEncoding = UTF16
    ) -> tuple[int, int]:
        return self.position_at(self.point_to_offset(row, column), encoding)

    def position_to_point(
        self, line: int, character: int, encoding: PositionEncoding = UTF16
    ) -> tuple[int, int]:
        return self.point_at(self.offset_at(line, character, encoding))


def _utf8_len(text: str, start: int, end: int) -> int:
    """UTF-8 length of ``text[start:end]`` without encoding ASCII runs."""
    if end <= start:
        return 0
    chunk = text[start:end]
    return len(chunk) if chunk.isascii() else len(chunk.encode("utf-8", _ERRORS))
