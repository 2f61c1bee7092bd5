"""The scanner: brackets outside strings and comments, per language family."""

from __future__ import annotations

from qwen_lsp.completion.postprocess.lexing.patterns import lexer_pattern
from qwen_lsp.completion.postprocess.lexing.scan import scan


class TestScan:
    @staticmethod
    def brackets(text: str, language: str) -> str:
        return "".join(char for _pos, char in scan(text, lexer_pattern(language))[0])

    def test_python_strings_and_comments_hide_brackets(self) -> None:
        text = 'f("(", \'[\', """\n{""")  # )\nx = {1: [2]}'
        assert self.brackets(text, "python") == "(){[]}"

    def test_javascript_templates_regexes_and_comments(self) -> None:
        text = "f(`a ${g({b: 1})} (`, /[(]/g) /* ) */ // ]"
        assert self.brackets(text, "javascript") == "(({}))"

    def test_rust_lifetimes_are_not_char_literals(self) -> None:
        text = "fn f<'a>(x: &'a str) -> char { '(' }"
        assert self.brackets(text, "rust") == "(){}"
