"""Answer parsing (think blocks, fences, prose) and minimal line edits for the code actions."""

from __future__ import annotations

import pytest
from lsprotocol import types

from qwen_lsp.actions.answer import (
    AnswerError,
    code_blocks,
    extract_code,
    extract_text,
    looks_like_code,
    strip_thinking,
)
from qwen_lsp.actions.edits import (
    Hunk,
    apply_hunks,
    line_hunks,
    normalize_replacement,
    reindent,
    split_lines,
    syntax_regression,
    text_edits,
)

# --- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("<think>plan</think>\ncode", "\ncode"),
        ("<think>a</think>x<think>b</think>y", "xy"),
        ("reasoning the template opened</think>code", "code"),
        ("code<think>never closed", "code"),
        ("no thinking", "no thinking"),
    ],
)
def test_strip_thinking(answer: str, expected: str):
    assert strip_thinking(answer) == expected


def test_code_blocks_with_labels_tildes_longer_fences_and_unclosed_blocks():
    text = (
        "Intro\n```python\nx = 1\n```\n~~~\ny = 2\n~~~\n"
        "````md\n```js\ninner\n```\n````\n```go\nfunc f() {"
    )
    blocks = code_blocks(text)
    assert [(b.info, b.code, b.closed) for b in blocks] == [
        ("python", "x = 1", True),
        ("", "y = 2", True),
        ("md", "```js\ninner\n```", True),
        ("go", "func f() {", False),
    ]


def test_extract_prefers_the_documents_language_then_the_longest_block():
    answer = (
        "```bash\npip install x\n```\n```py\nshort = 1\n```\n```python\nlonger = 1\nmore = 2\n```"
    )
    assert extract_code(answer, "python") == "longer = 1\nmore = 2"


def test_extract_accepts_language_families_and_unlabelled_blocks():
    assert extract_code("```js\nconst a = 1;\n```", "javascriptreact") == "const a = 1;"
    assert extract_code("```\nconst a = 1;\n```", "typescript") == "const a = 1;"


def test_extract_takes_another_label_only_when_the_code_parses():
    assert extract_code("```text\ndef f():\n    return 1\n```", "python") == (
        "def f():\n    return 1"
    )
    with pytest.raises(AnswerError, match="```diff"):
        extract_code("```diff\n@@ -1 +1 @@\n-x = 1\n+x = 2\n```", "python")


def test_extract_keeps_indentation_and_drops_thinking():
    answer = "<think>x</think>```python\n    return a + b\n```"
    assert extract_code(answer, "python") == "    return a + b"


def test_fence_less_answer_is_used_only_when_it_plainly_is_code():
    assert extract_code("def add(a, b):\n    return a + b\n", "python") == (
        "def add(a, b):\n    return a + b"
    )
    with pytest.raises(AnswerError, match="did not answer with a code block"):
        extract_code("You should rename c to b in the return statement.", "python")
    with pytest.raises(AnswerError, match="did not answer with a code block"):
        extract_code("Here is the fixed code:\nreturn a + b", "python")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("", "empty answer"),
        ("   \n", "empty answer"),
        ("<think>only reasoning</think>", "only its reasoning"),
        ("```python\n\n```", "code block is empty"),
    ],
)
def test_extract_failures_say_why(answer: str, message: str):
    with pytest.raises(AnswerError, match=message):
        extract_code(answer, "python")


def test_looks_like_code_rejects_prose_and_unparseable_text():
    assert looks_like_code("x = compute(1)\n", "python")
    assert not looks_like_code("Sorry, I cannot help with that.", "python")
    assert not looks_like_code("def broken(:\n", "python")
    assert looks_like_code("a = 1;", "plaintext")  # no grammar: the prose check decides


def test_extract_text_for_explanations():
    assert extract_text("<think>x</think>\n**It** adds.\n") == "**It** adds."
    with pytest.raises(AnswerError, match="empty"):
        extract_text("<think>x</think>")


# --- edits -----------------------------------------------------------------------------------


def test_split_lines_uses_lsp_line_breaks_only():
    assert split_lines("a\r\nb\rc\nd") == ["a\r\n", "b\r", "c\n", "d"]
    assert split_lines("form\x0cfeed\n") == ["form\x0cfeed\n"]
    assert split_lines("") == []


def test_line_hunks_touch_only_changed_lines():
    original = "def f(a):\n    x = 1\n    y = 2\n    return x + y\n"
    replacement = "def f(a):\n    x = 1\n    y = 3\n    return x + y\n"
    (hunk,) = line_hunks(original, replacement, base=100)
    assert hunk == Hunk(
        100 + original.index("    y"), 100 + original.index("    return"), "    y = 3\n"
    )


def test_line_hunks_insertions_and_deletions():
    original = "a\nb\nc\n"
    assert line_hunks(original, "a\nnew\nb\nc\n") == [Hunk(2, 2, "new\n")]
    assert line_hunks(original, "a\nc\n") == [Hunk(2, 4, "")]
    assert line_hunks(original, original) == []


def test_line_hunks_without_final_newline():
    original = "a\nb"
    hunks = line_hunks(original, "a\nb\nc")
    assert apply_hunks(original, hunks) == "a\nb\nc"


def test_reindent_restores_a_dropped_base_indentation():
    original = "    def m(self):\n        return 1\n"
    assert reindent(original, "def m(self):\n    return 2") == "    def m(self):\n        return 2"
    assert reindent(original, "    def m(self):\n        return 2") == (
        "    def m(self):\n        return 2"
    )
    assert reindent("\tx = 1\n", "x = 2\n\ny = 3") == "\tx = 2\n\n\ty = 3"


def test_normalize_keeps_line_endings_and_the_final_newline():
    assert normalize_replacement("a\r\nb\r\n", "a\nc\n\n") == "a\r\nc\r\n"
    assert normalize_replacement("a\nb", "a\nc\n") == "a\nc"


def test_text_edits_use_the_clients_position_encoding():
    text = "s = '😀'\nx = 1\n"
    hunk = Hunk(text.index("x"), len(text), "x = 2\n")
    (edit,) = text_edits(text, [hunk], "utf-16")
    assert edit.range == types.Range(types.Position(1, 0), types.Position(2, 0))
    (same_line,) = text_edits(text, [Hunk(text.index("'", 5), text.index("'", 5) + 1, '"')])
    assert same_line.range.start == types.Position(0, 7)  # the emoji is two UTF-16 units
    (utf8,) = text_edits(text, [Hunk(text.index("'", 5), text.index("'", 5) + 1, '"')], "utf-8")
    assert utf8.range.start == types.Position(0, 9)


def test_syntax_regression_counts_new_errors_only():
    assert syntax_regression("def f():\n    return 1\n", "python", 0) is None
    problem = syntax_regression("x = 1\ndef f(:\n    pass\n", "python", 0)
    assert problem is not None and problem.line == 1 and "def f(" in problem.snippet
    # Already broken before: as broken is fine, more broken is not.
    assert syntax_regression("def f(:\n", "python", 5) is None
    assert syntax_regression("anything", "plaintext", 0) is None  # no grammar
