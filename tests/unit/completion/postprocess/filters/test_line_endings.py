"""``restore_line_endings``: back to the document's line ending."""

from __future__ import annotations

from qwen_lsp.completion.postprocess.filters.line_endings import restore_line_endings
from tests.unit.completion.postprocess.helpers import ctx, run


def test_restore_line_endings() -> None:
    context = ctx("def f():\r\n    █\r\n")
    assert run(restore_line_endings, "a = 1\n    return a", context) == (
        "a = 1\r\n    return a",
        0,
    )
    assert run(restore_line_endings, "a\nb", ctx("x█\n")) == ("a\nb", 0)
