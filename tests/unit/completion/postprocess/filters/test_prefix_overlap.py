"""``trim_prefix_overlap``: a restart of the cursor's line."""

from __future__ import annotations

import pytest

from qwen_lsp.completion.postprocess.filters.prefix_overlap import trim_prefix_overlap
from tests.unit.completion.postprocess.helpers import ctx, run


class TestPrefixOverlap:
    def test_restarted_line_is_dropped(self) -> None:
        context = ctx("def f(a, b):\n    return foo(█\n")
        assert run(trim_prefix_overlap, "return foo(a, b)", context) == ("a, b)", 0)
        assert run(trim_prefix_overlap, "    return foo(a, b)", context) == ("a, b)", 0)

    def test_partial_restart_of_several_words(self) -> None:
        context = ctx("if ready:\n    result = await fetch_all(█\n")
        assert run(trim_prefix_overlap, "await fetch_all(urls)", context) == ("urls)", 0)

    @pytest.mark.parametrize(
        ("doc", "raw"),
        [
            ("doc = getattr(█\n", "getattr(c, name), '__doc__')"),
            ("key = load(path, NULL, NULL█\n", ", NULL);"),
            ("x = [█\n", "[1, 2]]"),
        ],
    )
    def test_code_that_merely_looks_like_a_repeat_is_kept(self, doc: str, raw: str) -> None:
        assert run(trim_prefix_overlap, raw, ctx(doc)) == (raw, 0)
