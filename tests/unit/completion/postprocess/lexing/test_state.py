"""The lexer at a cursor: a completion's brackets accounted for against the document, with the
suffix's scan kept across requests equal to scanning it one bracket at a time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qwen_lsp.completion.postprocess.context import (
    PostContext,
)
from qwen_lsp.completion.postprocess.lexing import patterns
from qwen_lsp.completion.postprocess.lexing import scan as scanner
from qwen_lsp.completion.postprocess.lexing import state as lexer_state
from qwen_lsp.completion.postprocess.lexing.state import (
    Analysis,
    analyse,
    prefix_state,
)
from tests.unit.completion.postprocess.helpers import SETTINGS, ctx


def test_unmatched_closers_of_a_completion() -> None:
    context = ctx('print(foo("█")\n')
    analysis = analyse(context, 'x"), 1)')
    assert [char for _offset, char, _level in analysis.unmatched] == ['"', ")", ")"]


def reference_analyse(ctx: PostContext, text: str, replace_chars: int = 0) -> Analysis:
    """``analyse`` as it was before suffix scans were kept and reduced: every bracket of line +
    text + suffix accounted for one by one."""
    state = prefix_state(ctx)
    head = state.resume_text
    tail = ctx.after[replace_chars : replace_chars + lexer_state.SUFFIX_SCAN_CHARS]
    c0, c1 = len(head), len(head) + len(text)
    pattern = patterns.lexer_pattern(ctx.language)
    brackets, spans, clean = scanner.scan_to_end(head + text, pattern)
    if clean and text[-1:] not in ("/", "\\") and tail[:1] not in ("*", "/", "=", "'", '"'):
        tail_brackets, tail_spans = scanner.scan(tail, pattern)
        brackets += [(pos + c1, char) for pos, char in tail_brackets]
        spans += [scanner.Span(s.start + c1, s.end + c1, s.quote) for s in tail_spans]
    else:
        brackets, spans = scanner.scan(head + text + tail, pattern)
    result = Analysis()
    line_starts = [c0 + i + 1 for i, ch in enumerate(text) if ch == "\n"]
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
        lexer_state._push_or_pop(stack, brackets[index][1])
        index += 1
    base = floor = len(stack)
    depths: list[int] = [0]
    level = 0
    for pos, char in brackets[index:]:
        if pos >= c1:
            break
        index += 1
        while len(depths) <= len(line_starts) and line_starts[len(depths) - 1] <= pos:
            depths.append(len(stack) - floor)
        if char in patterns.CLOSERS and len(stack) <= floor:
            unmatched.append((pos - c0, char, level))
            level += 1
            if not stack:
                result.overflow += state.complete
                continue
            if stack[-1] != patterns.CLOSERS[char]:
                result.mismatches += 1
            stack.pop()
            floor = len(stack)
        elif not lexer_state._push_or_pop(stack, char):
            result.mismatches += 1
    depths += [len(stack) - floor] * (len(line_starts) + 1 - len(depths))
    result.own_mismatches = result.mismatches
    result.line_depth = depths
    result.unmatched = sorted(unmatched)
    closes: set[int] = set()
    sfloor = len(stack)
    for _pos, char in brackets[index:]:
        if char in patterns.OPENERS or len(stack) > sfloor:
            lexer_state._push_or_pop(stack, char)
            continue
        if not stack:
            result.overflow += state.complete
            continue
        want = patterns.CLOSERS[char]
        depth = next((d for d in range(1, min(3, len(stack)) + 1) if stack[-d] == want), 0)
        if depth:
            result.mismatches += depth - 1
            del stack[len(stack) - depth :]
            if len(stack) < base:
                closes.add(base - 1 - len(stack))
        else:
            result.mismatches += 1
            stack.pop()
        sfloor = len(stack)
    result.suffix_closes = frozenset(closes)
    if ctx.after_is_whole_suffix and replace_chars + lexer_state.SUFFIX_SCAN_CHARS >= len(
        ctx.after
    ):
        result.unclosed = len(stack)
    return result


class TestSuffix:
    def test_the_same_suffix_is_scanned_once(self) -> None:
        suffix = "\n    return (a, [b])\n" * 100
        first = PostContext(prefix="def f(a):\n    x = ", suffix=suffix)
        second = PostContext(prefix="def f(a):\n    x = y", suffix=suffix)
        analyse(first, "g(a)")
        analyse(second, "g(a)")
        assert first.memo["tail_scan"][0] is second.memo["tail_scan"][0]

    @SETTINGS
    @given(
        prefix=st.text(alphabet="ab ()[]{}\n'\"#`$/*\\", max_size=40),
        text=st.text(alphabet="ab ()[]{}\n'\"#`$/*\\", max_size=20),
        suffix=st.text(alphabet="ab ()[]{}\n'\"#`$/*;\\", max_size=60),
        replace=st.integers(0, 3),
        language=st.sampled_from(["python", "javascript", "rust", "c"]),
    )
    def test_reduced_suffix_brackets_match_one_by_one_accounting(
        self, prefix: str, text: str, suffix: str, replace: int, language: str
    ) -> None:
        ctx = PostContext(prefix=prefix, suffix=suffix, language_id=language)
        replace = min(replace, len(ctx.line_after))
        assert analyse(ctx, text, replace) == reference_analyse(ctx, text, replace)
        assert analyse(ctx, text, replace) == reference_analyse(ctx, text, replace)  # cached
