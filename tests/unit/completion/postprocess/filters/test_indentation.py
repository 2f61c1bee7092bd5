"""``fix_indentation``: the first line's indentation."""

from __future__ import annotations

from qwen_lsp.completion.postprocess.filters.indentation import fix_indentation
from tests.unit.completion.postprocess.helpers import ctx, run


class TestIndentation:
    def test_repeated_indentation_is_removed(self) -> None:
        context = ctx("def f():\n    x = 1\n    █\n", multiline=True)
        assert run(fix_indentation, "    return x", context) == ("return x", 0)

    def test_indentation_the_line_still_needs_is_kept(self) -> None:
        context = ctx("def f():\n    if x:\n    █\n", multiline=True)
        assert run(fix_indentation, "    return x", context) == ("    return x", 0)

    def test_following_lines_written_relative_to_the_wrong_first_line_move_too(self) -> None:
        context = ctx("def f():\n    x = 1\n    █\n", multiline=True)
        raw = "    if x:\n            return x"
        assert run(fix_indentation, raw, context) == ("if x:\n        return x", 0)

    def test_following_lines_already_right_stay(self) -> None:
        context = ctx("def f():\n    x = 1\n    █\n", multiline=True)
        raw = "    if x:\n        return x"
        assert run(fix_indentation, raw, context) == ("if x:\n        return x", 0)

    def test_leading_line_break_on_a_blank_line_is_dropped(self) -> None:
        context = ctx("def f():\n    x = 1\n    █\n", multiline=True)
        assert run(fix_indentation, "\n    return x", context) == ("return x", 0)

    def test_cursor_at_column_zero_keeps_indentation(self) -> None:
        context = ctx("def f():\n    x = 1\n█\n", multiline=True)
        assert run(fix_indentation, "    return x", context) == ("    return x", 0)
