"""The current file's part of the prompt: a prefix/suffix window cut at syntax boundaries, kept
stable between keystrokes, plus a sparse header of what lies above the window (imports, nearby
definitions, the enclosing scopes' headers) and a sparse tail below it.

Stability matters as much as content: model servers reuse the KV cache of the longest shared
prompt start, so the window's first line must not move on every keystroke. A fresh window is
cut with some slack below its budget and then reused while it still fits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .tokens import TokenCounter

# A fresh window fills this share of its budget, leaving room to type before it must move.
WINDOW_SLACK = 0.85
# How far (in lines) a cut may move to land on a boundary.
MAX_BOUNDARY_SHIFT = 12
CLOSING_STARTS = (")", "]", "}", ".", ",", "+", "-", "*", "/", "&", "|", "?", ":", "=", "<", ">")


@dataclass(frozen=True)
class Piece:
    """A piece of the current file shown outside the window (header above / tail below)."""

    start_line: int
    text: str
    kind: str  # "import" | "definition" | "scope"
    end_line: int = -1  # last line in the file (definitions), -1 when unknown


@dataclass(frozen=True)
class StickyStart:
    """Where the previous window of a document began (offset plus that line, to detect edits).

    ``body`` is the window's text up to the cursor's line and ``body_tokens`` its token count:
    while the next keystroke leaves that text as it was, only the cursor's line is re-counted.
    """

    offset: int
    first_line: str
    body: str = ""
    body_tokens: int = 0
    exact: bool = False  # counted with the real tokenizer (not the estimate used until it loads)


@dataclass(frozen=True)
class WindowCut:
    prefix: str  # the window's part before the cursor (whole lines + the cursor line's start)
    suffix: str
    prefix_tokens: int
    suffix_tokens: int
    start_offset: int  # str offset of the window's first character in the document
    start_line: int  # its line
    end_line: int  # the suffix window's last line
    prefix_truncated: bool
    suffix_truncated: bool


def _line_cost(counter: TokenCounter, text: str, start: int, end: int) -> int:
    return counter.count_piece(text[start:end])


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _is_boundary_start(line: str) -> bool:
    """A line a window may start (or a suffix may stop before): code at some indentation that
    does not continue the previous line."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(CLOSING_STARTS)


def _backward_fit(prefix: str, budget: int, counter: TokenCounter) -> tuple[int, int]:
    """Earliest line start in ``prefix`` such that the tail fits ``budget``: (offset, tokens).
    The cursor's own line is always kept."""
    cut = prefix.rfind("\n") + 1
    used = counter.count_piece(prefix[cut:])
    while cut > 0:
        start = prefix.rfind("\n", 0, cut - 1) + 1
        cost = _line_cost(counter, prefix, start, cut)
        if used + cost > budget:
            break
        used += cost
        cut = start
    return cut, used


def _forward_to_boundary(prefix: str, cut: int, cursor_line_start: int) -> int:
    """Move a cut forward (shrinking the window) to the least-indented boundary line within
    ``MAX_BOUNDARY_SHIFT`` lines, so the window starts at a statement, not mid-expression."""
    best, best_indent = cut, None
    position = cut
    for _ in range(MAX_BOUNDARY_SHIFT):
        if position >= cursor_line_start:
            break
        end = prefix.find("\n", position)
        if end < 0:
            break
        line = prefix[position:end]
        if _is_boundary_start(line):
            indent = _indent(line)
            if best_indent is None or indent < best_indent:
                best, best_indent = position, indent
                if indent == 0:
                    break
        position = end + 1
    return best


def _sticky_offset(text: str, offset: int, sticky: StickyStart | None) -> int | None:
    """The previous window start, if the text there is unchanged and still before the cursor."""
    if sticky is None or sticky.offset > offset:
        return None
    start = sticky.offset
    if start and text[start - 1 : start] != "\n":
        return None
    if not text.startswith(sticky.first_line, start):
        return None
    return start


def _cost_from(prefix: str, start: int, counter: TokenCounter, limit: int) -> int | None:
    """Tokens of ``prefix[start:]`` counted per line (memoised), None once over ``limit``."""
    cut = prefix.rfind("\n") + 1
    used = counter.count_piece(prefix[cut:])
    while cut > start:
        line_start = prefix.rfind("\n", 0, cut - 1) + 1
        line_start = max(line_start, start)
        used += _line_cost(counter, prefix, line_start, cut)
        if used > limit:
            return None
        cut = line_start
    return used


def _cost_after_sticky(
    prefix: str, start: int, sticky: StickyStart, counter: TokenCounter, limit: int
) -> int | None:
    """``_cost_from(prefix, start)``, reusing the previous window's count for unchanged text."""
    reusable = sticky.body and sticky.exact == counter.exact
    if reusable and prefix.startswith(sticky.body, start):
        rest = _cost_from(prefix, start + len(sticky.body), counter, limit - sticky.body_tokens)
        return None if rest is None else sticky.body_tokens + rest
    return _cost_from(prefix, start, counter, limit)


def cut_prefix(
    text: str,
    offset: int,
    budget: int,
    counter: TokenCounter,
    sticky: StickyStart | None = None,
) -> tuple[int, int]:
    """(start offset, tokens) of the prefix window ending at the cursor."""
    prefix = text[:offset]
    reuse = _sticky_offset(text, offset, sticky)
    if reuse is not None and sticky is not None:
        cost = _cost_after_sticky(prefix, reuse, sticky, counter, budget)
        # Reuse while it fits, unless the window has become much smaller than it could be
        # (the cursor jumped up) and more of the file would fit.
        if cost is not None and (reuse == 0 or cost >= budget * 0.5):
            return reuse, cost
    full_start, full_cost = _backward_fit(prefix, budget, counter)
    if full_start == 0:
        return 0, full_cost
    start, _cost = _backward_fit(prefix, int(budget * WINDOW_SLACK), counter)
    cursor_line_start = prefix.rfind("\n") + 1
    start = _forward_to_boundary(prefix, start, cursor_line_start)
    return start, _cost_from(prefix, start, counter, 10**9) or 0


def cut_suffix(suffix: str, budget: int, counter: TokenCounter) -> tuple[str, int, bool]:
    """The suffix window: whole lines within ``budget``, shortened to end before a boundary
    line when it was truncated. Returns (text, tokens, truncated)."""
    if budget <= 0:
        return "", 0, bool(suffix)
    kept, used = take_suffix_lines(suffix, budget, counter)
    if len(kept) >= len(suffix):
        return suffix, used, False
    # Cut short, so every kept line ends in a line break: those are the candidate ends.
    line_ends = [match.end() for match in re.finditer("\n", kept)]
    end = _backward_to_boundary(suffix, line_ends)
    text = suffix[:end]
    return text, _sum_lines(text, counter), True


def _backward_to_boundary(suffix: str, line_ends: Sequence[int]) -> int:
    """Among the last lines kept, end just before the least-indented boundary line."""
    best, best_indent = line_ends[-1], None
    for end in reversed(line_ends[-MAX_BOUNDARY_SHIFT:]):
        if end == line_ends[0]:
            break
        nxt = suffix.find("\n", end)
        line = suffix[end : len(suffix) if nxt < 0 else nxt]
        if _is_boundary_start(line):
            indent = _indent(line)
            if best_indent is None or indent < best_indent:
                best, best_indent = end, indent
                if indent == 0:
                    break
    return best


def _sum_lines(text: str, counter: TokenCounter) -> int:
    total, position = 0, 0
    while position < len(text):
        nxt = text.find("\n", position)
        nxt = len(text) if nxt < 0 else nxt + 1
        total += counter.count_piece(text[position:nxt])
        position = nxt
    return total


def cut_window(
    text: str,
    offset: int,
    cursor_line: int,
    budget: int,
    suffix_share: float,
    counter: TokenCounter,
    sticky: StickyStart | None = None,
    suffix_end: int | None = None,
) -> WindowCut:
    """The window around the cursor: suffix first (at most ``suffix_share`` of the budget, and
    not past ``suffix_end``), the rest for the prefix, which matters more for what comes next."""
    end = len(text) if suffix_end is None else max(offset, min(suffix_end, len(text)))
    suffix = text[offset:end]
    suffix_text, suffix_tokens, suffix_cut = cut_suffix(suffix, int(budget * suffix_share), counter)
    suffix_cut = suffix_cut or end < len(text)
    start, prefix_tokens = cut_prefix(text, offset, budget - suffix_tokens, counter, sticky)
    prefix_text = text[start:offset]
    return WindowCut(
        prefix=prefix_text,
        suffix=suffix_text,
        prefix_tokens=prefix_tokens,
        suffix_tokens=suffix_tokens,
        start_offset=start,
        start_line=cursor_line - prefix_text.count("\n"),
        end_line=cursor_line + suffix_text.count("\n"),
        prefix_truncated=start > 0,
        suffix_truncated=suffix_cut,
    )


def sticky_of(text: str, cut: WindowCut, counter: TokenCounter | None = None) -> StickyStart:
    """The start to reuse next time; with ``counter``, also the count of the lines above the
    cursor (``cut.prefix_tokens`` is a per-line sum, so the cursor line's count comes off)."""
    end = text.find("\n", cut.start_offset)
    end = len(text) if end < 0 else end
    first_line = text[cut.start_offset : end]
    if counter is None:
        return StickyStart(cut.start_offset, first_line)
    line_start = cut.prefix.rfind("\n") + 1
    body_tokens = cut.prefix_tokens - counter.count_piece(cut.prefix[line_start:])
    return StickyStart(
        cut.start_offset, first_line, cut.prefix[:line_start], body_tokens, counter.exact
    )


# --------------------------------------------------------------------------------------------
# Header and tail


def elision(comment: str, indent: str = "") -> str:
    return f"{indent}{comment} ..."


def render_pieces(pieces: Sequence[Piece], comment: str) -> str:
    """Pieces in file order; an elision line between pieces that are not adjacent."""
    out: list[str] = []
    last_end: int | None = None
    for piece in sorted(pieces, key=lambda p: (p.start_line, p.kind)):
        n_lines = piece.text.count("\n") + 1
        gap = last_end is not None and piece.start_line > last_end + 1
        # Imports separated by blank lines or other imports need no elision marker.
        after_import = bool(out) and out[-1].startswith(("import", "from", "use", "#include"))
        if gap and not (piece.kind == "import" and after_import):
            out.append(elision(comment, _indent_str(piece.text)))
        out.append(piece.text)
        last_end = piece.start_line + n_lines - 1
    return "\n".join(out)


def _indent_str(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def with_header(header: str, window_prefix: str, comment: str) -> str:
    """``header`` above the window, separated by an elision line at the window's indentation."""
    if not header:
        return window_prefix
    first = next((ln for ln in window_prefix.split("\n", 8) if ln.strip()), "")
    return f"{header}\n{elision(comment, _indent_str(first))}\n{window_prefix}"


def take_suffix_lines(suffix: str, budget: int, counter: TokenCounter) -> tuple[str, int]:
    """The longest head of ``suffix`` ending at a line end that fits ``budget`` tokens."""
    if budget <= 0:
        return "", 0
    end = suffix.find("\n")
    end = len(suffix) if end < 0 else end + 1
    used = counter.count_piece(suffix[:end])
    while end < len(suffix):
        nxt = suffix.find("\n", end)
        nxt = len(suffix) if nxt < 0 else nxt + 1
        cost = counter.count_piece(suffix[end:nxt])
        if used + cost > budget:
            break
        used += cost
        end = nxt
    return suffix[:end], used
