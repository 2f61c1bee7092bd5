"""A grammar without node types yields empty answers, never an error."""

from __future__ import annotations

from tree_sitter import Parser

from qwen_lsp.syntax.definitions import definitions, identifiers_near, imports
from qwen_lsp.syntax.languages import get_language
from qwen_lsp.syntax.lexical import (
    has_error_in_range,
    is_inside_string_or_comment,
)
from qwen_lsp.syntax.scopes import enclosing_scopes


def test_unknown_language_is_empty_not_an_error() -> None:
    language = get_language("python")
    assert language is not None
    tree = Parser(language).parse(b"x = 1\n")
    for result in (
        definitions(None, b""),
        imports(None, b""),
        enclosing_scopes(None, b"", 0),
        identifiers_near(None, b"", 0),
        definitions(tree, b"x = 1\n", language_id="cobol"),
        enclosing_scopes(tree, b"x = 1\n", 3, language_id="cobol"),
    ):
        assert result == []
    assert not is_inside_string_or_comment(None, 0)
    assert not has_error_in_range(None, 0, 1)
