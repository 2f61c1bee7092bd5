"""Errors in a range, strings and comments at a point, block openers and bodies."""

from __future__ import annotations

import pytest

from qwen_lsp.syntax.lexical import (
    error_count,
    has_error_in_range,
    is_block_body,
    is_block_opener,
    is_inside_string_or_comment,
    string_or_comment_at,
)
from qwen_lsp.syntax.nodes import node_at
from tests.unit.syntax.helpers import parse


def test_errors() -> None:
    tree, source, _ = parse("python", "def ok():\n    return 1\n")
    assert error_count(tree) == 0
    assert not has_error_in_range(tree, 0, len(source))
    bad = "def ok():\n    return 1\n\nx = (1,\ny = 2\n"
    tree, source, _ = parse("python", bad)
    assert error_count(tree) >= 1
    assert has_error_in_range(tree, bad.index("x ="), len(source))
    assert not has_error_in_range(tree, 0, bad.index("return") + 3)
    tree, source, _ = parse("c", "int f() { return 1 }\n")  # missing ';'
    assert error_count(tree) == 1
    assert error_count(None) == 0


STRING_COMMENT = [
    ("python", "x = 'ab<|>c'", "string"),
    ("python", "x = 'abc'<|>", None),
    ("python", "x = <|>'abc'", None),
    ("python", "x = f'{a}<|>'", "string"),
    ("python", "x = 1  # note<|>\n", "comment"),
    ("python", "x = 1  # note\n<|>", None),
    ("python", '"""doc<|>"""', "string"),
    ("javascript", "const s = `a ${b} <|>`;", "string"),
    ("javascript", "/* c<|> */ x;", "comment"),
    ("javascript", "/* c */<|> x;", None),
    ("javascript", "x; // c<|>", "comment"),
    ("go", 'package m\nvar s = "a<|>"\n', "string"),
    ("rust", 'let s = r"a<|>";', "string"),
    ("rust", "// doc<|>\nfn f() {}", "comment"),
    ("c", '#include "a<|>.h"\n', "string"),
    ("c", "int x; /* a<|> */", "comment"),
    ("ruby", 'x = "a<|>"', "string"),
    ("lua", "-- c<|>\nx = 1", "comment"),
    ("shellscript", 'echo "a<|>"', "string"),
]


@pytest.mark.parametrize(("language_id", "text", "expected"), STRING_COMMENT)
def test_string_or_comment(language_id: str, text: str, expected: str | None) -> None:
    tree, source, cursor = parse(language_id, text)
    assert string_or_comment_at(tree, cursor, source) == expected
    assert is_inside_string_or_comment(tree, cursor) == (expected is not None)


def test_node_at_and_block_tables() -> None:
    tree, _, cursor = parse("python", "def f():\n    if x:\n        <|>y = 1\n")
    node = node_at(tree, cursor)
    assert node.type == "identifier" and node.text == b"y"
    assert node_at(tree, 10_000).type == "module"
    parents = []
    current = node
    while current is not None:
        parents.append(current)
        current = current.parent
    assert any(is_block_opener(tree, p) for p in parents)
    assert any(is_block_body(tree, p) for p in parents)
