"""``keep_first_line``: single-line mode."""

from __future__ import annotations

from qwen_lsp.completion.postprocess.filters.single_line import keep_first_line
from tests.unit.completion.postprocess.helpers import ctx, run


class TestSingleLine:
    def test_keeps_the_first_line(self) -> None:
        assert run(keep_first_line, "foo(a)\nbar()", ctx("x = █\n")) == ("foo(a)", 0)

    def test_multiline_mode_is_untouched(self) -> None:
        context = ctx("x = █\n", multiline=True)
        assert run(keep_first_line, "foo(a)\nbar()", context) == ("foo(a)\nbar()", 0)

    def test_a_leading_line_break_leaves_nothing(self) -> None:
        assert run(keep_first_line, "\n    return 1", ctx("x = █\n")) == ("", 0)
