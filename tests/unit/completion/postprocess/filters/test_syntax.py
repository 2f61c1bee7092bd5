"""``check_syntax``: a completion must not add syntax errors, and its shortcut (the statements
around the cursor parsed alone, ``Snippet``) never disagrees with parsing the whole document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tree_sitter import Parser

from qwen_lsp.completion.postprocess.context import (
    PostContext,
    Suggestion,
)
from qwen_lsp.completion.postprocess.filters import syntax
from qwen_lsp.completion.postprocess.filters.syntax import SyntaxChecker, check_syntax, find_snippet
from qwen_lsp.completion.postprocess.pipeline import run_filters
from qwen_lsp.syntax.languages import get_language
from tests.unit.completion.postprocess.helpers import SETTINGS, ctx, run

TESTS = Path(__file__).resolve().parents[4]

DEFAULT_SNIPPET_SHARE = syntax.SNIPPET_SHARE


class TestSyntax:
    def test_valid_completion_passes(self) -> None:
        context = ctx("def f(x):█\n\n\ndef g():\n    pass\n", multiline=True)
        raw = "\n    return x + 1"
        assert run(check_syntax, raw, context) == (raw, 0)

    def test_broken_tail_is_trimmed(self) -> None:
        context = ctx("def f(x):█\n\n\ndef g():\n    pass\n", multiline=True)
        raw = "\n    y = x + 1\n    return (y +"
        assert run(check_syntax, raw, context) == ("\n    y = x + 1", 0)

    def test_unclosed_block_in_c_is_trimmed(self) -> None:
        doc = "int f(int a) {\n  █\n  return a;\n}\n"
        raw = "a += 1;\n  if (a > 2) {\n    a = 0;"
        assert run(check_syntax, raw, ctx(doc, "c", True)) == ("a += 1;", 0)

    def test_broken_single_line_is_rejected(self) -> None:
        assert run(check_syntax, "1 +* 2 (", ctx("x = █\ny = 2\n")) is None

    def test_languages_without_a_grammar_are_skipped(self) -> None:
        context = ctx("a = █\n", language="cobol")
        assert run(check_syntax, "(((", context) == ("(((", 0)

    def test_incremental_reparse_with_the_documents_tree(self) -> None:
        prefix = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(300))
        prefix += "def g(x):"
        suffix = "\n\n\ndef h():\n    pass\n"
        source = (prefix + suffix).encode()
        language = get_language("python")
        assert language is not None
        tree = Parser(language).parse(source)
        context = PostContext(
            prefix=prefix,
            suffix=suffix,
            language_id="python",
            multiline=True,
            tree=tree,
            source_bytes=source,
        )
        assert run(check_syntax, "\n    return x", context) == ("\n    return x", 0)
        assert run(check_syntax, "\n    y = x\n    return (y +", context) == ("\n    y = x", 0)
        assert context.memo["syntax"].tree is tree  # the incremental path was taken
        assert not tree.root_node.has_error  # the caller's tree is not edited

    def test_a_stale_tree_falls_back_to_a_window(self) -> None:
        language = get_language("python")
        assert language is not None
        tree = Parser(language).parse(b"something else entirely\n")
        context = ctx(
            "def f(x):█\n", multiline=True, tree=tree, source_bytes=b"something else entirely\n"
        )
        assert run(check_syntax, "\n    return x", context) == ("\n    return x", 0)
        assert context.memo["syntax"].tree is None


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
        assert check_syntax(Suggestion(" + 1"), context) == Suggestion(" + 1")
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
        expected = check_syntax(Suggestion(raw), _without_snippet(context))
        assert check_syntax(Suggestion(raw), context) == expected
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
    TESTS / "bench" / "samples.py",
    TESTS.parent / "server" / "qwen_lsp" / "completion" / "postprocess" / "lexing" / "state.py",
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
