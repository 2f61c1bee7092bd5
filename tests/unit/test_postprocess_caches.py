"""Post-processing work kept across requests must never change a result.

Three shortcuts are checked against the computation they replace: the view of the lines above
the cursor (``prefixview``, with the lexer state at their end), the suffix scans (``lexer``), and
the syntax check's parse of the statements around the cursor instead of the whole document
(``syntax.Snippet``). Each is exercised the way typing exercises it — keystrokes on one line,
edits above the cursor, multi-line strings, undo, switching documents — and against a reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Parser

from qwen_lsp.completion.filters import lexer, prefixview, suffixview, syntax
from qwen_lsp.completion.filters.base import (
    DEFAULT_INDENT,
    SPACE_INDENT,
    TAB_INDENT,
    detect_indent_unit,
)
from qwen_lsp.completion.filters.lexer import Analysis, analyse, full_prefix_state
from qwen_lsp.completion.filters.prefixview import MAX_BEFORE_CHARS, MAX_BEFORE_LINES, prefix_view
from qwen_lsp.completion.filters.syntax import SyntaxChecker, find_snippet
from qwen_lsp.completion.postprocess import Candidate, PostContext, check_syntax, run_filters
from qwen_lsp.syntax.languages import get_language

DEFAULT_SNIPPET_SHARE = syntax.SNIPPET_SHARE
SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(autouse=True)
def _empty_caches() -> Iterator[None]:
    prefixview.clear()
    suffixview.clear()
    lexer.clear_caches()
    yield
    prefixview.clear()
    suffixview.clear()
    lexer.clear_caches()


# ----- references: the computations as they were before anything was kept --------------------


def reference_before(prefix: str) -> str:
    """``PostContext.before`` computed from scratch, one newline at a time."""
    text = prefix[-MAX_BEFORE_CHARS:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.count("\n") > MAX_BEFORE_LINES:
        pos = len(text)
        for _ in range(MAX_BEFORE_LINES):
            pos = text.rfind("\n", 0, pos)
        text = text[pos + 1 :]
    elif len(text) < len(prefix):
        text = text[text.find("\n") + 1 :] if "\n" in text else text
    return text


def check_view(prefix: str, language: str = "python") -> None:
    """The (possibly cached) view and lexer state of ``prefix`` equal fresh ones."""
    ctx = PostContext(prefix=prefix, suffix="\n", language_id=language)
    expected = reference_before(prefix)
    assert ctx.before == expected
    assert ctx.lines_above == expected.split("\n")[:-1]
    assert ctx.prefix_state == full_prefix_state(ctx)


def python_module(functions: int) -> str:
    return "".join(
        f"def f{i}(a, b):\n    x = [a,\n         b]\n    return x  # {i}\n\n\n"
        for i in range(functions)
    )


# ----- the lines above the cursor ---------------------------------------------------------------


class TestPrefixView:
    def test_typing_on_one_line_reuses_the_lines_above(self) -> None:
        head = python_module(200) + "def g():\n    value = "
        first = prefix_view(head + "x")
        for typed in ("xy", "xyz", "xyz(", "xyz(a, [b"):
            view = prefix_view(head + typed)
            assert view.store is first.store
            check_view(head + typed)

    def test_an_edit_above_the_cursor_is_seen(self) -> None:
        head = python_module(200)
        check_view(head + "def g():\n    value = x")
        edited = head.replace("return x  # 199", "return (x  # 199", 1)
        assert prefix_view(edited + "def g():\n    value = x").store is not (
            prefix_view(head + "def g():\n    value = x").store
        )
        check_view(edited + "def g():\n    value = x")
        ctx = PostContext(prefix=edited + "def g():\n    value = x", suffix="\n")
        assert ctx.prefix_state.stack == ("(",)

    def test_joining_the_lines_before_the_cut(self) -> None:
        # The same 800 lines above, but no newline before them any more: the whole prefix.
        head = "x = 1\n" * 900
        check_view(head + "y")
        cut = head.rfind("\n", 0, len(head) - 6 * (MAX_BEFORE_LINES - 1))
        check_view("q" * cut + head[cut:] + "y")
        check_view(head[:cut] + "q" + head[cut + 1 :] + "y")  # the line before joined to them

    def test_undo_and_switching_documents(self) -> None:
        first = python_module(300) + "def g():\n    v = "
        second = "import os\n" * 1000 + "x = ("
        for prefix in (first, second, first + "a", second + "b", first, second):
            check_view(prefix)
        edited = first.replace("def f5(", "def f5(\n", 1)
        check_view(edited)
        check_view(first)  # the undo: the original lines above again

    def test_inside_a_multi_line_string(self) -> None:
        head = python_module(150) + 'def g():\n    doc = """first line\n    ( second\n'
        for typed in ("", "a", "ab)", 'ab"""', 'ab""" + f(['):
            check_view(head + typed)

    @pytest.mark.parametrize("newlines", [MAX_BEFORE_LINES - 1, MAX_BEFORE_LINES, 801, 900])
    def test_around_the_line_limit(self, newlines: int) -> None:
        head = "x = 1\n" * newlines
        for typed in ("", "y", "y = (", "y = (1"):
            check_view(head + typed)

    def test_around_the_character_limit(self) -> None:
        long_lines = ("# " + "z" * 118 + "\n") * 600  # fewer lines than the line limit
        for prefix in (long_lines, long_lines + "a", long_lines + "a" * 200):
            check_view(prefix)
        short = "x = 1\n" * 100
        grown = short + "s = '" + "a" * (MAX_BEFORE_CHARS - len(short))
        for prefix in (short + "s = '", grown, grown + "b", short + "s = '"):
            check_view(prefix)

    def test_typing_moves_the_window_start_past_a_newline(self) -> None:
        # 810 lines fit the character limit; typing 800 characters leaves fewer than 801
        # newlines in it, and the cut moves from the line limit to the character limit.
        head = ("a" * 73 + "\n") * 1000
        for typed in range(0, 900, 50):
            check_view(head + "b" * typed)

    def test_carriage_returns_are_never_cached(self) -> None:
        head = "x = (1,\r\n" * 1000
        for typed in ("", "2", "2)\r", "2)\r\ny"):
            check_view(head + typed)
        plain = "x = (1,\n" * 1000
        for typed in ("y", "y\rz", "y\r\nz"):  # a lone \r on the cursor's line ends it too
            check_view(plain + typed)

    @SETTINGS
    @given(
        edits=st.lists(
            st.tuples(
                st.sampled_from(["type", "newline", "above", "undo", "switch"]),
                st.integers(0, 10_000),
                st.sampled_from([*"x(){}[]'\"#`\\/*", '"""', "/*", "*/", "${", "\n"]),
            ),
            min_size=1,
            max_size=12,
        ),
        language=st.sampled_from(["python", "javascript", "rust", "go", "c", "plaintext"]),
    )
    def test_any_sequence_of_edits(self, edits: list[tuple[str, int, str]], language: str) -> None:
        documents = ["def f(a):\n    return (a,\n" * 450, "let s = `a ${b} (`;\n" * 420]
        prefix, history = documents[0], [documents[0]]
        for kind, at, text in edits:
            if kind == "type":
                prefix += text
            elif kind == "newline":
                prefix += "\n    "
            elif kind == "above":
                cut = at % max(1, prefix.rfind("\n") + 1)
                prefix = prefix[:cut] + text + prefix[cut:]
            elif kind == "undo" and len(history) > 1:
                history.pop()
                prefix = history[-1]
            elif kind == "switch":
                prefix = documents[at % 2]
            history.append(prefix)
            check_view(prefix, language)


# ----- the suffix -------------------------------------------------------------------------------


def reference_after(suffix: str) -> str:
    """``PostContext.after`` computed from scratch, one newline at a time."""
    text = suffix[: suffixview.MAX_AFTER_CHARS]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if suffix[suffixview.MAX_AFTER_CHARS - 1 : suffixview.MAX_AFTER_CHARS + 1] == "\r\n":
        text = text[:-1]
    pos = -1
    for _ in range(suffixview.MAX_AFTER_LINES):
        pos = text.find("\n", pos + 1)
        if pos < 0:
            return text
    return text[:pos]


def check_after(suffix: str) -> None:
    ctx = PostContext(prefix="x = ", suffix=suffix)
    expected = reference_after(suffix)
    assert ctx.after == expected
    assert ctx.lines_below == expected.split("\n")[1:]
    assert ctx.line_after == expected.split("\n")[0]


class TestSuffixView:
    def test_typing_before_the_cursor_keeps_the_suffix_view(self) -> None:
        suffix = "\n    return (a, [b])\n" * 400
        first = PostContext(prefix="def f(a):\n    x = ", suffix=suffix)
        second = PostContext(prefix="def f(a):\n    x = y", suffix=suffix)
        assert first.lines_below is second.lines_below
        check_after(suffix)

    def test_an_edit_after_the_cursor_is_seen(self) -> None:
        suffix = "\n    return (a, [b])\n" * 400
        check_after(suffix)
        check_after(suffix.replace("return", "yield", 1))
        check_after(suffix[:-1])  # beyond the window: the same view is right
        check_after(suffix)  # undo

    @pytest.mark.parametrize("lines", [299, 300, 301])
    def test_around_the_limits(self, lines: int) -> None:
        check_after("x\n" * lines)
        filler = "y" * (suffixview.MAX_AFTER_CHARS - 1)
        for tail in ("\r\nz", "\rz", "z\r\n", "\n\r"):
            check_after(filler + tail)


# ----- indentation --------------------------------------------------------------------------------


@SETTINGS
@given(
    above=st.lists(st.sampled_from(["", "x", "  x", "    x", "\tx", "\t\tx", "   x", "  \tx"])),
    below=st.lists(st.sampled_from(["", "y", "  y", "    y", "\ty", "        y", "\t  y"])),
    typed=st.lists(st.sampled_from(["", "a", "  ", "\t"]), min_size=1, max_size=3),
    language=st.sampled_from(["python", "go", "c"]),
)
def test_indentation_unit_and_styles_match_one_pass_over_the_lines(
    above: list[str], below: list[str], typed: list[str], language: str
) -> None:
    prefix = "\n".join(above) + ("\n" if above else "")
    suffix = "\n" + "\n".join(below)
    for line in typed:  # keystrokes: the tallies of the lines above and below are reused
        ctx = PostContext(prefix=prefix + line, suffix=suffix, language_id=language)
        expected = detect_indent_unit(
            ctx.lines_above[-400:] + ctx.lines_below[:100], DEFAULT_INDENT.get(language, "    ")
        )
        assert ctx.unit == expected
        sample = ctx.before[-12_000:] + "\n" + ctx.after[:4000]
        styles = (TAB_INDENT.search(sample) is not None, SPACE_INDENT.search(sample) is not None)
        assert ctx.indent_styles == styles


@pytest.mark.parametrize("key_line", ["        x", "\tx"])
def test_indentation_step_across_the_cursor(key_line: str) -> None:
    # The first line below is measured against the last line above, not against column 0.
    for typed in ("", "a"):
        ctx = PostContext(prefix=f"{key_line}\n{typed}", suffix="\n    y\n        y\n")
        assert ctx.unit == detect_indent_unit(ctx.lines_above + ctx.lines_below)


def test_indentation_of_a_suffix_shared_by_different_lines_above() -> None:
    for prefix in ("x\n", "        x\n", "x\n"):
        ctx = PostContext(prefix=prefix, suffix="\n    y\n        y\n")
        assert ctx.unit == detect_indent_unit(ctx.lines_above + ctx.lines_below)


def test_indentation_ties_are_broken_by_first_occurrence() -> None:
    # Steps 2 and 4 occur equally often; the one seen first (below the cursor here) wins.
    above = "a\n" * 3
    below = "\n  b\nc\n    d\nc\n  b\nc\n    d\n"
    ctx = PostContext(prefix=above, suffix=below)
    assert ctx.unit == detect_indent_unit(ctx.lines_above + ctx.lines_below) == "  "


def reference_analyse(ctx: PostContext, text: str, replace_chars: int = 0) -> Analysis:
    """``analyse`` as it was before suffix scans were kept and reduced: every bracket of line +
    text + suffix accounted for one by one."""
    state = ctx.prefix_state
    head = state.resume_text
    tail = ctx.after[replace_chars : replace_chars + lexer.SUFFIX_SCAN_CHARS]
    c0, c1 = len(head), len(head) + len(text)
    pattern = lexer.lexer_pattern(ctx.language)
    brackets, spans, clean = lexer._scan(head + text, pattern)
    if clean and text[-1:] not in ("/", "\\") and tail[:1] not in ("*", "/", "=", "'", '"'):
        tail_brackets, tail_spans = lexer.scan(tail, pattern)
        brackets += [(pos + c1, char) for pos, char in tail_brackets]
        spans += [lexer.Span(s.start + c1, s.end + c1, s.quote) for s in tail_spans]
    else:
        brackets, spans = lexer.scan(head + text + tail, pattern)
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
        lexer._push_or_pop(stack, brackets[index][1])
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
        if char in lexer.CLOSERS and len(stack) <= floor:
            unmatched.append((pos - c0, char, level))
            level += 1
            if not stack:
                result.overflow += state.complete
                continue
            if stack[-1] != lexer.CLOSERS[char]:
                result.mismatches += 1
            stack.pop()
            floor = len(stack)
        elif not lexer._push_or_pop(stack, char):
            result.mismatches += 1
    depths += [len(stack) - floor] * (len(line_starts) + 1 - len(depths))
    result.own_mismatches = result.mismatches
    result.line_depth = depths
    result.unmatched = sorted(unmatched)
    closes: set[int] = set()
    sfloor = len(stack)
    for _pos, char in brackets[index:]:
        if char in lexer.OPENERS or len(stack) > sfloor:
            lexer._push_or_pop(stack, char)
            continue
        if not stack:
            result.overflow += state.complete
            continue
        want = lexer.CLOSERS[char]
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
    if ctx.after_is_whole_suffix and replace_chars + lexer.SUFFIX_SCAN_CHARS >= len(ctx.after):
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


# ----- the syntax check: statements around the cursor instead of the whole document ----------


def _tree_context(prefix: str, suffix: str, multiline: bool = True) -> PostContext:
    language = get_language("python")
    assert language is not None
    source = (prefix + suffix).encode()
    tree = Parser(language).parse(source)
    return PostContext(
        prefix=prefix,
        suffix=suffix,
        language_id="python",
        multiline=multiline,
        tree=tree,
        source_bytes=source,
    )


def _without_snippet(ctx: PostContext) -> PostContext:
    """The same request, checked on the whole document only."""
    fresh = PostContext(
        prefix=ctx.prefix,
        suffix=ctx.suffix,
        language_id=ctx.language_id,
        multiline=ctx.multiline,
        tree=ctx.tree,
        source_bytes=ctx.source_bytes,
    )
    language = get_language("python")
    assert language is not None
    checker = fresh.memo["syntax"] = SyntaxChecker(fresh, language)
    checker.snippet = None
    return fresh


def _class_module() -> str:
    return "import os\n\n\n" + "".join(
        f"class C{i}:\n    def m(self, a):\n        b = a\n        if a:\n            return [a,\n"
        f"                    {i}]\n        return None\n\n"
        for i in range(40)
    )


class TestSyntaxSnippet:
    @pytest.fixture(autouse=True)
    def _any_size(self) -> Iterator[None]:
        # Small documents: let the snippet be any share of them (size only decides speed).
        with mock.patch.object(syntax, "SNIPPET_SHARE", 1.0):
            yield

    def test_the_snippet_is_a_small_share_of_the_document(self) -> None:
        text = "def f(a):\n    b = a\n    return b\n\n\ny = 2\n"
        source = text.encode()
        language = get_language("python")
        assert language is not None
        tree = Parser(language).parse(source)
        cursor = text.index("b = a") + 5
        assert find_snippet(tree, source, cursor) is not None
        with mock.patch.object(syntax, "SNIPPET_SHARE", DEFAULT_SNIPPET_SHARE):
            assert find_snippet(tree, source, cursor) is None
            big = (text * 40).encode()
            assert find_snippet(Parser(language).parse(big), big, cursor) is not None

    def test_a_clean_completion_skips_the_whole_document_reparse(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        text = _class_module()
        cursor = text.index("b = a", len(text) // 2) + len("b = a")
        context = _tree_context(text[:cursor], text[cursor:], multiline=False)

        def no_full_parse(*_args: object) -> int:
            raise AssertionError("the whole document was reparsed")

        monkeypatch.setattr(SyntaxChecker, "errors", no_full_parse)
        assert check_syntax(Candidate(" + 1"), context) == Candidate(" + 1")
        snippet = context.memo["syntax"].snippet
        assert snippet is not None and snippet.nested
        assert context.source_bytes is not None
        assert context.source_bytes[snippet.start : snippet.end] == b"        b = a\n"

    @pytest.mark.parametrize(
        ("anchor", "raw"),
        [
            # A dedented clause whose body is the rest of the statement: in the document it
            # belongs to nothing, but in a block under an `if` header it would be that if's else.
            ("if a:", "\n            pass\nelse:"),
            ("if a:", "\n            pass\n    else:"),
            ("if a:", "\n            pass\n        else:"),
            ("return None", "\n    else:\n        pass"),
            ("return None", "\nelse:"),
            ("return None", "\n        x = 1\n    def n(self):"),
            ("b = a", "\n        x = 1\n\ny = 2"),
            ("b = a", " \\"),  # joins the next statement: `b = a if a:`
        ],
    )
    def test_a_completion_leaving_the_block_agrees_with_the_whole_document(
        self, anchor: str, raw: str
    ) -> None:
        text = _class_module()
        cursor = text.index(anchor, len(text) // 2) + len(anchor)
        context = _tree_context(text[:cursor], text[cursor:])
        expected = check_syntax(Candidate(raw), _without_snippet(context))
        assert check_syntax(Candidate(raw), context) == expected
        assert context.memo["syntax"].snippet is not None

    def test_no_snippet_when_the_document_has_errors(self) -> None:
        context = _tree_context("def f(:\n    x = ", "\n")
        language = get_language("python")
        assert language is not None
        assert SyntaxChecker(context, language).snippet is None

    def test_a_trailing_line_continuation_is_not_trusted(self) -> None:
        text = "def f(a):\n    x = 1\n    y = 2\n\n\ndef g():\n    pass\n"
        cursor = text.index("y = 2") + len("y = 2")
        context = _tree_context(text[:cursor], text[cursor:])
        language = get_language("python")
        assert language is not None
        checker = SyntaxChecker(context, language)
        assert checker.snippet is not None
        assert not checker._snippet_clean(" \\", 0)  # parses alone, not before `def g`

    def test_statements_leaving_the_block_are_not_trusted(self) -> None:
        # The grammar accepts `y = 2` at column 0 followed by the method's indented lines, but
        # the snippet's proof needs the completion to stay inside the block it was cut from.
        text = _class_module()
        cursor = text.index("b = a", len(text) // 2) + len("b = a")
        context = _tree_context(text[:cursor], text[cursor:])
        language = get_language("python")
        assert language is not None
        checker = SyntaxChecker(context, language)
        assert checker.snippet is not None and checker.snippet.nested
        assert checker._snippet_clean("\n        y = 2", 0)
        assert not checker._snippet_clean("\n\ny = 2", 0)

    def test_snippet_bounds_on_a_tree(self) -> None:
        text = "x = 1\n\n\ndef f(a):\n    b = a\n    return b\n\n\ny = 2\n"
        source = text.encode()
        language = get_language("python")
        assert language is not None
        tree = Parser(language).parse(source)
        snippet = find_snippet(tree, source, text.index("b = a") + 5)
        assert snippet is not None
        assert source[snippet.start : snippet.end] == b"    b = a\n"
        at_end = find_snippet(tree, source, text.index("return b") + 8)
        assert at_end is not None and not at_end.nested
        assert source[at_end.start : at_end.end] == b"def f(a):\n    b = a\n    return b\n\n\n"


FRAGMENTS = (
    "x", "foo(", ")", "]", "[", ":", "'", '"', '"""', "\\", "# c", "return x", "pass", "if x:",
    "def f():", "lambda: 0", ", ", " = ", "\n", "\n    ", "\n        ", "\n\t", "\n  ",
    "\nelse:", "\n    else:", "\n        else:", "\nexcept E:", "\n    finally:", "\n@d",
    "\n# note", "\n    elif y:", "\n\ndef h():",
)  # fmt: skip
PYTHON_SOURCES = [
    Path(__file__).parents[1] / "bench" / "samples.py",
    Path(__file__).parents[2] / "server" / "qwen_lsp" / "completion" / "filters" / "lexer.py",
]


@st.composite
def python_requests(draw: st.DrawFn) -> tuple[str, str, str, int]:
    """(prefix, suffix, completion, replace_chars) at a real place in real Python code."""
    text = draw(st.sampled_from(PYTHON_SOURCES)).read_text(encoding="utf-8")
    lines = text.split("\n")
    row = draw(st.integers(0, len(lines) - 1))
    line = lines[row]
    indent = len(line) - len(line.lstrip())
    col = draw(st.sampled_from([len(line), indent, draw(st.integers(0, len(line)))]))
    offset = sum(len(previous) + 1 for previous in lines[:row]) + col
    completion = "".join(draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=5)))
    replace = draw(st.integers(0, min(2, len(line) - col)))
    return text[:offset], text[offset:], completion, replace


@SETTINGS
@given(request=python_requests())
def test_the_snippet_never_disagrees_with_the_whole_document(
    request: tuple[str, str, str, int],
) -> None:
    prefix, suffix, completion, replace = request
    context = _tree_context(prefix, suffix)
    language = get_language("python")
    assert language is not None
    with mock.patch.object(syntax, "SNIPPET_SHARE", 1.0):
        checker = SyntaxChecker(context, language)
        if checker.snippet is not None and checker._snippet_clean(completion, replace):
            assert checker.errors(completion, replace) <= checker.before_errors
        fast = run_filters(completion, context, strict=True)
    exact = run_filters(completion, _without_snippet(context), strict=True)
    assert fast == exact
