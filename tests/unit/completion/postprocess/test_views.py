"""The views of the text around the cursor, kept across requests, must never change a result:
each is exercised the way typing exercises it (keystrokes on one line, edits above the cursor,
multi-line strings, undo, switching documents) against the computation it replaces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qwen_lsp.completion.postprocess import views
from qwen_lsp.completion.postprocess.context import (
    PostContext,
)
from qwen_lsp.completion.postprocess.lexing.state import (
    full_prefix_state,
    prefix_state,
)
from qwen_lsp.completion.postprocess.views import MAX_BEFORE_CHARS, MAX_BEFORE_LINES, prefix_view
from tests.unit.completion.postprocess.helpers import SETTINGS


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
    assert prefix_state(ctx) == full_prefix_state(ctx)


def python_module(functions: int) -> str:
    return "".join(
        f"def f{i}(a, b):\n    x = [a,\n         b]\n    return x  # {i}\n\n\n"
        for i in range(functions)
    )


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
        assert prefix_state(ctx).stack == ("(",)

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


def reference_after(suffix: str) -> str:
    """``PostContext.after`` computed from scratch, one newline at a time."""
    text = suffix[: views.MAX_AFTER_CHARS]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if suffix[views.MAX_AFTER_CHARS - 1 : views.MAX_AFTER_CHARS + 1] == "\r\n":
        text = text[:-1]
    pos = -1
    for _ in range(views.MAX_AFTER_LINES):
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
        filler = "y" * (views.MAX_AFTER_CHARS - 1)
        for tail in ("\r\nz", "\rz", "z\r\n", "\n\r"):
            check_after(filler + tail)
