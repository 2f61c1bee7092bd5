"""``trim_suffix_overlap``: the completion retypes the text after the cursor."""

from __future__ import annotations

from qwen_lsp.completion.postprocess.filters.suffix_overlap import trim_suffix_overlap
from tests.unit.completion.postprocess.helpers import ctx, run


class TestSuffixOverlap:
    def test_lines_that_follow_the_cursor_are_cut(self) -> None:
        context = ctx("def f():\n    x = 1\n    █\n    return x\n", multiline=True)
        raw = "y = x + 1\n    return x"
        assert run(trim_suffix_overlap, raw, context) == ("y = x + 1", 0)

    def test_regenerated_lines_and_what_comes_after_them(self) -> None:
        context = ctx("def f():\n    █\n    size = 2\n    count = 3\n", multiline=True)
        raw = "first = 1\n    size = 2\n    count = 3\n    last = 4"
        assert run(trim_suffix_overlap, raw, context) == ("first = 1", 0)

    def test_auto_closed_paren_is_replaced(self) -> None:
        context = ctx("result = compute(█)\n")
        assert run(trim_suffix_overlap, "a, b)", context) == ("a, b)", 1)

    def test_retyped_paren_in_the_middle(self) -> None:
        context = ctx("def f(█)\n")
        assert run(trim_suffix_overlap, "a, b):", context) == ("a, b):", 1)

    def test_auto_closed_quote_and_paren(self) -> None:
        context = ctx('print("█")\n')
        assert run(trim_suffix_overlap, 'hello")', context) == ('hello")', 2)

    def test_the_whole_rest_of_the_line(self) -> None:
        context = ctx("total = █ * rate\n")
        assert run(trim_suffix_overlap, "price * rate", context) == ("price * rate", 7)

    def test_a_closer_that_closes_an_inner_call_is_not_a_retype(self) -> None:
        context = ctx("return wrap(opts, inner(opts, self█)\n")
        assert run(trim_suffix_overlap, ".npm)", context) == (".npm)", 0)

    def test_nothing_to_do(self) -> None:
        context = ctx("x = █\n\ny = 2\n")
        assert run(trim_suffix_overlap, "compute()", context) == ("compute()", 0)
