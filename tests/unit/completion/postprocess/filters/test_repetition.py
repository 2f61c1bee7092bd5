"""``remove_repetition``: a model stuck in a loop."""

from __future__ import annotations

from qwen_lsp.completion.postprocess.filters.repetition import remove_repetition
from tests.unit.completion.postprocess.helpers import ctx, run


class TestRepetition:
    def test_a_line_three_times_in_a_row(self) -> None:
        context = ctx("def f():\n    █\n", multiline=True)
        raw = "x.append(1)\n    x.append(1)\n    x.append(1)\n    x.append(1)"
        assert run(remove_repetition, raw, context) == ("x.append(1)", 0)

    def test_the_cursor_line_counts(self) -> None:
        context = ctx("items = []\nitems = █\n", multiline=True)
        raw = "load()\nitems = load()\nitems = load()"
        assert run(remove_repetition, raw, context) == ("load()", 0)

    def test_a_block_repeated(self) -> None:
        context = ctx("def f():\n    █\n", multiline=True)
        raw = "a = read()\n    b = parse(a)\n    a = read()\n    b = parse(a)\n    c = 1"
        assert run(remove_repetition, raw, context) == ("a = read()\n    b = parse(a)", 0)

    def test_a_copy_of_the_line_above(self) -> None:
        context = ctx("def f():\n    total += value\n    █\n", multiline=True)
        assert run(remove_repetition, "total += value\n    return total", context) == ("", 0)

    def test_two_equal_lines_are_fine(self) -> None:
        context = ctx("def f():\n    █\n", multiline=True)
        raw = "self.step()\n    self.step()\n    return self"
        assert run(remove_repetition, raw, context) == (raw, 0)
