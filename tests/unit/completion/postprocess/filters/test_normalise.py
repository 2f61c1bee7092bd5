"""``normalise``: line endings, the document's indentation style, trailing whitespace."""

from __future__ import annotations

from qwen_lsp.completion.postprocess.filters.normalise import normalise
from tests.unit.completion.postprocess.helpers import ctx, run


class TestNormalise:
    def test_crlf_and_trailing_whitespace(self) -> None:
        context = ctx("def f():\r\n    █\r\n")
        assert run(normalise, "x = 1  \r\n    return x\t\r\n", context) == (
            "x = 1\n    return x",
            0,
        )

    def test_tabs_become_the_documents_spaces(self) -> None:
        context = ctx("def f():\n    if x:\n        pass\n█\n")
        assert run(normalise, "\treturn 1\n\t\treturn 2", context) == (
            "    return 1\n        return 2",
            0,
        )

    def test_spaces_become_the_documents_tabs(self) -> None:
        context = ctx("func f() {\n\tif x {\n\t\ty()\n\t}\n█\n}\n", language="go")
        assert run(normalise, "    return 1\n        return 2", context) == (
            "\treturn 1\n\t\treturn 2",
            0,
        )

    def test_gnu_alignment_is_left_alone(self) -> None:
        context = ctx("int f(void)\n{\n  if (x)\n    {\n      █\n", language="c")
        raw = 'fprintf (stderr, "%s",\n\t       name);'
        assert run(normalise, raw, context) == (raw, 0)

    def test_trailing_space_inside_a_multiline_string_is_content(self) -> None:
        context = ctx("x = █\n")
        raw = '"""first  \nsecond"""'
        assert run(normalise, raw, context) == (raw, 0)

    def test_trailing_space_before_text_on_the_line_is_kept(self) -> None:
        context = ctx("return █+ 1\n")
        assert run(normalise, "x ", context) == ("x ", 0)
