"""``PostContext``: the indentation unit and style, tallied once per distinct text around the
cursor, equal one pass over the lines."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qwen_lsp.completion.postprocess.context import (
    DEFAULT_INDENT,
    SPACE_INDENT,
    TAB_INDENT,
    PostContext,
)
from qwen_lsp.completion.postprocess.textutil import detect_indent_unit
from tests.unit.completion.postprocess.helpers import SETTINGS


@SETTINGS
@given(
    above=st.lists(st.sampled_from(["", "x", "  x", "    x", "\tx", "\t\tx", "   x", "  \tx"])),
    below=st.lists(st.sampled_from(["", "y", "  y", "    y", "\ty", "        y", "\t  y"])),
    typed=st.lists(st.sampled_from(["", "a", "  ", "\t"]), min_size=1, max_size=3),
    language=st.sampled_from(["python", "go", "c"]),
)
def test_indentation_unit_and_styles_match_one_pass_over_the_lines(
    above: list[str], below: list[str], typed: list[str], language: str
) -> None:
    prefix = "\n".join(above) + ("\n" if above else "")
    suffix = "\n" + "\n".join(below)
    for line in typed:  # keystrokes: the tallies of the lines above and below are reused
        ctx = PostContext(prefix=prefix + line, suffix=suffix, language_id=language)
        expected = detect_indent_unit(
            ctx.lines_above[-400:] + ctx.lines_below[:100], DEFAULT_INDENT.get(language, "    ")
        )
        assert ctx.unit == expected
        sample = ctx.before[-12_000:] + "\n" + ctx.after[:4000]
        styles = (TAB_INDENT.search(sample) is not None, SPACE_INDENT.search(sample) is not None)
        assert ctx.indent_styles == styles


@pytest.mark.parametrize("key_line", ["        x", "\tx"])
def test_indentation_step_across_the_cursor(key_line: str) -> None:
    # The first line below is measured against the last line above, not against column 0.
    for typed in ("", "a"):
        ctx = PostContext(prefix=f"{key_line}\n{typed}", suffix="\n    y\n        y\n")
        assert ctx.unit == detect_indent_unit(ctx.lines_above + ctx.lines_below)


def test_indentation_of_a_suffix_shared_by_different_lines_above() -> None:
    for prefix in ("x\n", "        x\n", "x\n"):
        ctx = PostContext(prefix=prefix, suffix="\n    y\n        y\n")
        assert ctx.unit == detect_indent_unit(ctx.lines_above + ctx.lines_below)


def test_indentation_ties_are_broken_by_first_occurrence() -> None:
    # Steps 2 and 4 occur equally often; the one seen first (below the cursor here) wins.
    above = "a\n" * 3
    below = "\n  b\nc\n    d\nc\n  b\nc\n    d\n"
    ctx = PostContext(prefix=above, suffix=below)
    assert ctx.unit == detect_indent_unit(ctx.lines_above + ctx.lines_below) == "  "
