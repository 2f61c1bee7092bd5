"""What the lexer says at a cursor: the state at the cursor's line, and a completion's brackets
accounted for against the document around it (``PostContext``-aware; the scanner is
``scan.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..context import PostContext
from ..textutil import leading_ws, starts_top_level
from .patterns import CLOSERS, OPENERS, lexer_pattern
from .scan import Span, TailScan, reduce_brackets, scan, scan_tail, scan_to_end

PREFIX_SCAN_LINES = 400  # how far back the bracket stack is taken when the prefix is long
NEAR_SCAN_LINES = 60  # preferred distance of the scan's start from the cursor
SUFFIX_SCAN_CHARS = 8000  # how much of the suffix is checked for the closers it supplies


@dataclass(frozen=True)
class PrefixState:
    """The lexer's state at the start of the cursor's line (or of a string the cursor line is
    inside): the open brackets there, and the text from that point to the cursor."""

    stack: tuple[str, ...]
    resume_text: str
    # The scan starts at the document's start or at a top-level statement, so the stack is all
    # there is; otherwise closers beyond it may close brackets opened before the scan.
    complete: bool
    # When the cursor's line continues a statement inside brackets opened on earlier lines:
    # the indentation of the line where that statement starts.
    statement_indent: str | None = None
    # Lines above the cursor (indices into ``ctx.lines_above``) that start a top-level
    # statement outside any bracket: places where a parse window can start.
    top_level_lines: tuple[int, ...] = ()


PY_DEFINITION = re.compile(r"[ \t]*(?:async[ \t]+def|def|class)[ \t]|[ \t]*@\w")


def _safe_start(lines: list[str], last: int, family: str) -> int | None:
    """Index of an early line, within ``PREFIX_SCAN_LINES`` of ``last``, that starts a top-level
    statement (column 0, after a blank line) and so is unlikely to be inside a string or a
    bracket. In Python any ``def`` / ``class`` / decorator after a blank line will do: brackets
    never span statements there.

    The search starts ``NEAR_SCAN_LINES`` back and moves outwards before trying the far end:
    scanning 400 lines on every keystroke cost milliseconds that a nearby start saves."""
    near = max(0, last - NEAR_SCAN_LINES)
    far = max(0, last - PREFIX_SCAN_LINES)
    for index in [*range(near, far - 1, -1), *range(near + 1, last)]:
        if starts_top_level(lines, index):
            return index
        python_start = family == "indent" and PY_DEFINITION.match(lines[index]) is not None
        if python_start and index and not lines[index - 1].strip():
            return index
    return None


def _scan_start(lines: list[str], last: int, whole: bool, family: str) -> tuple[int, bool]:
    """The line the prefix scan starts at, and whether the scan is complete (starts at the
    document's start or at a top-level statement). ``lines[:last]`` are the lines above the
    cursor's line."""
    if whole and last + 1 <= PREFIX_SCAN_LINES:
        return 0, True
    start_line = _safe_start(lines, last, family)
    if start_line is None:
        return max(0, last - PREFIX_SCAN_LINES), False
    return start_line, True


def _offset_of_line(text: str, lines: list[str], index: int) -> int:
    """Offset in ``text`` of ``lines[index]`` (``lines`` are ``text`` split at ``\\n``),
    counted from the end: the scan starts near the cursor, so that is the short way."""
    return len(text) - sum(map(len, lines[index:])) - (len(lines) - index - 1)


def _open_brackets(
    lines: list[str],
    start_line: int,
    brackets: list[tuple[int, str]],
    spans: list[Span],
    resume: int,
) -> tuple[list[tuple[str, int]], list[int]]:
    """Brackets open at ``resume`` (char, offset in the window that starts at
    ``lines[start_line]``) and the lines above the cursor's line, from ``start_line`` on, that
    start a top-level statement outside any bracket or string."""
    stack: list[tuple[str, int]] = []
    line_start = 0
    top_level: list[int] = []
    span_index = bracket_index = 0
    for index in range(start_line, len(lines) - 1):
        while span_index < len(spans) and spans[span_index].end <= line_start:
            span_index += 1
        in_span = span_index < len(spans) and spans[span_index].start < line_start
        if not stack and not in_span and starts_top_level(lines, index):
            top_level.append(index)
        line_end = line_start + len(lines[index])
        while bracket_index < len(brackets) and brackets[bracket_index][0] < min(line_end, resume):
            pos, char = brackets[bracket_index]
            bracket_index += 1
            if char in OPENERS:
                stack.append((char, pos))
            elif stack:
                stack.pop()
        line_start = line_end + 1
    for pos, char in brackets[bracket_index:]:
        if pos >= resume:
            break
        if char in OPENERS:
            stack.append((char, pos))
        elif stack:
            stack.pop()
    return stack, top_level


def _statement_indent(window: str, stack: list[tuple[str, int]], family: str) -> str | None:
    """The indentation of the line where the statement the cursor continues starts, when the
    brackets open at the cursor are all continuation brackets; else None."""
    continuation = "([{" if family == "indent" else "(["
    outermost = None
    for char, pos in reversed(stack):
        if char not in continuation:
            break
        outermost = pos
    if outermost is None:
        return None
    line_start = window.rfind("\n", 0, outermost) + 1
    return leading_ws(window[line_start:outermost])


@dataclass(frozen=True)
class _AboveState:
    """The lexer's state at the start of the cursor's line, from the lines above alone; only
    valid when ``clean`` (no string or comment runs into the cursor's line)."""

    clean: bool
    stack: tuple[str, ...] = ()
    complete: bool = False
    statement_indent: str | None = None
    top_level_lines: tuple[int, ...] = ()


def _above_state(ctx: PostContext) -> _AboveState:
    """Scan the lines above the cursor's line (from a safe start) on their own.

    When that scan ends in plain code, scanning the window up to the cursor gives exactly the
    same tokens up to the cursor's line: every token that can run past a line end (block
    comments, multi-line strings, ``"…\\`` continuations) also runs to the end of the shorter
    text, which the clean check rejects, and all others end on their own line. So the result
    depends on the lines above only and is kept with them (``PrefixView.store``)."""
    view = ctx.prefix_view
    pattern = lexer_pattern(ctx.language)
    key = ("above_state", pattern.pattern, ctx.family, ctx.before_is_whole_prefix)
    state = view.store.get(key)
    if state is not None:
        return state
    lines = ctx.lines_above
    above = view.above
    start_line, complete = _scan_start(lines, len(lines), ctx.before_is_whole_prefix, ctx.family)
    window = above[_offset_of_line(above, [*lines, ""], start_line) :]
    brackets, spans, clean = scan_to_end(window, pattern)
    if not clean:
        state = _AboveState(False)
    else:
        stack, top_level = _open_brackets([*lines, ""], start_line, brackets, spans, len(window))
        state = _AboveState(
            True,
            tuple(char for char, _pos in stack),
            complete,
            _statement_indent(window, stack, ctx.family),
            tuple(top_level),
        )
    view.store[key] = state
    return state


def prefix_state(ctx: PostContext) -> PrefixState:
    """The lexer's state at the cursor's line, once per context (kept in ``ctx.memo``); reuses
    the scan of the lines above when an earlier request had the same ones."""
    state = ctx.memo.get("prefix_state")
    if state is None:
        state = ctx.memo["prefix_state"] = _prefix_state(ctx)
    return state


def _prefix_state(ctx: PostContext) -> PrefixState:
    above = _above_state(ctx)
    if not above.clean:
        return full_prefix_state(ctx)
    return PrefixState(
        above.stack,
        ctx.before[ctx.prefix_view.above_len :],
        above.complete,
        above.statement_indent,
        above.top_level_lines,
    )


def full_prefix_state(ctx: PostContext) -> PrefixState:
    """Scan the text before the cursor once; filters resume from the cursor's line."""
    before = ctx.before
    lines = before.split("\n")
    whole = ctx.before_is_whole_prefix
    start_line, complete = _scan_start(lines, len(lines) - 1, whole, ctx.family)
    window = before[_offset_of_line(before, lines, start_line) :]
    brackets, spans = scan(window, lexer_pattern(ctx.language))
    resume = window.rfind("\n") + 1
    for span in spans:
        if span.start <= resume - 1 < span.end:
            resume = span.start
            break
    stack, top_level = _open_brackets(lines, start_line, brackets, spans, resume)
    return PrefixState(
        tuple(char for char, _pos in stack),
        window[resume:],
        complete,
        _statement_indent(window, stack, ctx.family),
        tuple(top_level),
    )


def depth_zero_lines(ctx: PostContext) -> list[int]:
    """Indices into ``ctx.lines_below`` of lines (within the scanned suffix) at whose end no
    bracket is open (-1 is the cursor's own line): places where a parse window can end."""
    state = prefix_state(ctx)
    stack = list(state.stack)
    for _pos, char in scan(state.resume_text, lexer_pattern(ctx.language))[0]:
        _push_or_pop(stack, char)
    tail = ctx.after[:SUFFIX_SCAN_CHARS]
    brackets = _tailscan_to_end(ctx, 0).brackets
    ends: list[int] = []
    line, newline = -1, tail.find("\n")
    for pos, char in [*brackets, (len(tail) + 1, "")]:
        while 0 <= newline < pos:
            if not stack:
                ends.append(line)
            line += 1
            newline = tail.find("\n", newline + 1)
        if char:
            _push_or_pop(stack, char)
    return ends


def _push_or_pop(stack: list[str], char: str) -> bool:
    """Apply one bracket; False when a closer did not match the innermost opener."""
    if char in OPENERS:
        stack.append(char)
        return True
    if stack and stack[-1] == CLOSERS[char]:
        stack.pop()
        return True
    if stack:
        stack.pop()
    return False


@dataclass
class Analysis:
    """What the lexer says about a completion ``text`` inserted at the cursor."""

    line_in_string: list[bool] = field(default_factory=list)  # line i starts inside a string
    line_depth: list[int] = field(default_factory=list)  # completion's own open brackets there
    # Closers in the completion that close something opened before the cursor, in order:
    # (offset in text, closer, level); level 0 is the innermost bracket open at the cursor, -1
    # marks the quote ending a string that was open at the cursor.
    unmatched: list[tuple[int, str, int]] = field(default_factory=list)
    mismatches: int = 0  # closers of the wrong type for the opener they close
    own_mismatches: int = 0  # of those, closers in the completion
    overflow: int = 0  # closers with nothing left to close
    # Levels of brackets open at the cursor that the suffix closes (meaningful for the document
    # as it is: ``ctx.baseline``).
    suffix_closes: frozenset[int] = frozenset()
    unclosed: int = 0  # brackets still open at the document's end (when the scan got there)

    @property
    def score(self) -> int:
        """Bracket damage; compare with the score of the empty completion."""
        return self.mismatches + self.overflow + self.unclosed


def _tailscan_to_end(ctx: PostContext, replace_chars: int) -> TailScan:
    """The suffix after the ``replace_chars`` the completion replaces, scanned on its own."""
    cache = ctx.memo.setdefault("tail_scan", {})
    if replace_chars not in cache:
        tail = ctx.after[replace_chars : replace_chars + SUFFIX_SCAN_CHARS]
        cache[replace_chars] = scan_tail(tail, lexer_pattern(ctx.language))
    return cache[replace_chars]


def _line_starts(text: str, offset: int) -> list[int]:
    """Offsets (plus ``offset``) of the starts of ``text``'s lines after the first."""
    starts: list[int] = []
    newline = text.find("\n")
    while newline >= 0:
        starts.append(offset + newline + 1)
        newline = text.find("\n", newline + 1)
    return starts


def _close_from_suffix(
    result: Analysis,
    stack: list[str],
    base: int,
    floor_closers: tuple[str, ...],
    complete: bool,
) -> None:
    """Apply the suffix's ``floor_closers`` to the brackets open at the end of the completion:
    count mismatches and overflow, and record which levels open at the cursor they close."""
    closes: set[int] = set()
    for char in floor_closers:
        if not stack:
            result.overflow += complete
            continue
        # Recover from an opener or two the suffix leaves open (a `(` typed without its `)`).
        want = CLOSERS[char]
        depth = next((d for d in range(1, min(3, len(stack)) + 1) if stack[-d] == want), 0)
        if depth:
            result.mismatches += depth - 1
            del stack[len(stack) - depth :]
            if len(stack) < base:
                closes.add(base - 1 - len(stack))
        else:
            result.mismatches += 1
            stack.pop()
    result.suffix_closes = frozenset(closes)


def analyse(ctx: PostContext, text: str, replace_chars: int = 0) -> Analysis:
    """Scan (cursor line so far) + ``text`` + suffix and account for every bracket."""
    state = prefix_state(ctx)
    head = state.resume_text
    tail = ctx.after[replace_chars : replace_chars + SUFFIX_SCAN_CHARS]
    c0, c1 = len(head), len(head) + len(text)
    pattern = lexer_pattern(ctx.language)
    brackets, spans, clean = scan_to_end(head + text, pattern)
    if clean and text[-1:] not in ("/", "\\") and tail[:1] not in ("*", "/", "=", "'", '"'):
        # The suffix scans the same on its own: only its reduced brackets matter here.
        tail_scan = _tailscan_to_end(ctx, replace_chars)
        floor_closers, tail_depth = tail_scan.floor_closers, tail_scan.depth
    else:
        brackets, spans = scan(head + text + tail, pattern)
        floor_closers, tail_depth = reduce_brackets([b for b in brackets if b[0] >= c1])
    result = Analysis()

    line_starts = _line_starts(text, c0)
    near = [span for span in spans if span.start < c1 and span.end > c0]
    result.line_in_string = [False] + [
        any(span.start <= start - 1 < span.end for span in near) for start in line_starts
    ]
    unmatched = [
        (span.end - len(span.quote) - c0, span.quote, -1)
        for span in near
        if span.quote and span.start < c0 and span.end <= c1 and span.end - len(span.quote) >= c0
    ]

    stack = list(state.stack)
    index = 0
    while index < len(brackets) and brackets[index][0] < c0:
        _push_or_pop(stack, brackets[index][1])
        index += 1
    base = floor = len(stack)
    depths: list[int] = [0]
    level = 0
    for pos, char in brackets[index:]:
        if pos >= c1:
            break
        while len(depths) <= len(line_starts) and line_starts[len(depths) - 1] <= pos:
            depths.append(len(stack) - floor)
        if char in CLOSERS and len(stack) <= floor:
            unmatched.append((pos - c0, char, level))
            level += 1
            if not stack:
                result.overflow += state.complete
                continue
            if stack[-1] != CLOSERS[char]:
                result.mismatches += 1
            stack.pop()
            floor = len(stack)
        elif not _push_or_pop(stack, char):
            result.mismatches += 1
    depths += [len(stack) - floor] * (len(line_starts) + 1 - len(depths))
    result.own_mismatches = result.mismatches
    result.line_depth = depths
    result.unmatched = sorted(unmatched)

    _close_from_suffix(result, stack, base, floor_closers, state.complete)
    if ctx.after_is_whole_suffix and replace_chars + SUFFIX_SCAN_CHARS >= len(ctx.after):
        result.unclosed = len(stack) + tail_depth
    return result


def baseline(ctx: PostContext) -> Analysis:
    """The lexer's account of the document as it is (no completion inserted); once per
    context."""
    found = ctx.memo.get("baseline")
    if found is None:
        found = ctx.memo["baseline"] = analyse(ctx, "", 0)
    return found
