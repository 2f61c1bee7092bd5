"""``drop_unbalanced_closers``: closers the suffix already supplies."""

from __future__ import annotations

from qwen_lsp.completion.postprocess.context import (
    Suggestion,
)
from qwen_lsp.completion.postprocess.filters.brackets import drop_unbalanced_closers
from tests.unit.completion.postprocess.helpers import ctx, run


class TestBrackets:
    def test_extra_paren_at_module_level(self) -> None:
        context = ctx("value = compute(█\n")
        assert run(drop_unbalanced_closers, "a, b))", context) == ("a, b)", 0)

    def test_closers_the_suffix_provides(self) -> None:
        context = ctx("function f() {\n  g(function () {\n    █\n  });\n}\n", "javascript", True)
        assert run(drop_unbalanced_closers, "return 1;\n  });", context) == ("return 1;", 0)

    def test_own_bracket_closed_with_the_wrong_type(self) -> None:
        context = ctx("function f(a) {\n  if (█\n    g()\n  }\n}\n", "javascript")
        assert run(drop_unbalanced_closers, "a) {]", context) == ("a) {", 0)

    def test_a_needed_closer_is_kept(self) -> None:
        context = ctx("def f():\n    return max(█\n")
        assert run(drop_unbalanced_closers, "a, b)", context) == ("a, b)", 0)

    def test_retyped_closer_keeps_its_replace_range(self) -> None:
        context = ctx("x = f(█)\n")
        result = drop_unbalanced_closers(Suggestion("a))", 1), context)
        assert result is not None
        assert (result.text, result.replace_suffix_chars) == ("a)", 1)
