"""``stop_at_scope_end``: where the completion leaves the cursor's block."""

from __future__ import annotations

from qwen_lsp.completion.postprocess.filters.scope_end import stop_at_scope_end
from tests.unit.completion.postprocess.helpers import ctx, run


class TestScopeEnd:
    def test_python_stops_at_the_next_top_level_definition(self) -> None:
        context = ctx("def f(x):█\n\n\ndef g():\n    pass\n", multiline=True)
        raw = "\n    y = x * 2\n    return y\n\n\ndef h():\n    return 0"
        assert run(stop_at_scope_end, raw, context) == ("\n    y = x * 2\n    return y", 0)

    def test_python_stops_below_the_block_of_the_cursor(self) -> None:
        context = ctx("def f(x):\n    if x:\n        █\n    return x\n", multiline=True)
        raw = "x += 1\n        log(x)\n    return x"
        assert run(stop_at_scope_end, raw, context) == ("x += 1\n        log(x)", 0)

    def test_after_code_on_the_line_a_line_at_its_level_ends_it(self) -> None:
        context = ctx("def f():\n    value = █\n    return value\n", multiline=True)
        raw = "compute()\n    print(value)"
        assert run(stop_at_scope_end, raw, context) == ("compute()", 0)

    def test_a_closing_bracket_line_is_kept(self) -> None:
        context = ctx("CONFIG = {█\n", multiline=True)
        raw = "\n    'a': 1,\n    'b': 2,\n}\nprint(CONFIG)"
        assert run(stop_at_scope_end, raw, context) == ("\n    'a': 1,\n    'b': 2,\n}", 0)

    def test_lines_of_a_multiline_string_are_not_dedents(self) -> None:
        context = ctx("def f():█\n", multiline=True)
        raw = '\n    text = """\nat column zero\n"""\n    return text'
        assert run(stop_at_scope_end, raw, context) == (raw, 0)

    def test_continuation_header_uses_the_statement_indentation(self) -> None:
        context = ctx("def f(a,\n      b):█\n", multiline=True)
        raw = "\n    return a + b\ndef g():\n    pass"
        assert run(stop_at_scope_end, raw, context) == ("\n    return a + b", 0)

    def test_brace_the_suffix_already_has_is_dropped(self) -> None:
        context = ctx("int f(int a) {█\n}\n\nint g(void) {\n  return 0;\n}\n", "c", True)
        raw = "\n  int b = a * 2;\n  return b;\n}\n\nint h(void) {\n  return 1;\n}"
        assert run(stop_at_scope_end, raw, context) == ("\n  int b = a * 2;\n  return b;", 0)

    def test_brace_the_suffix_lacks_is_kept(self) -> None:
        context = ctx("function f(a) {█\n", "javascript", True)
        raw = "\n  return a + 1;\n}\n\nfunction g() {\n  return 2;\n}"
        assert run(stop_at_scope_end, raw, context) == ("\n  return a + 1;\n}", 0)

    def test_case_labels_and_preprocessor_lines_are_not_dedents(self) -> None:
        context = ctx("int f(int x) {\n  switch (x) {█\n  }\n}\n", "c", True)
        raw = (
            "\n  case 1:\n#ifdef DEBUG\n    log(x);\n#endif\n    return 1;"
            "\n  default:\n    return 0;"
        )
        assert run(stop_at_scope_end, raw, context) == (raw, 0)

    def test_a_block_whose_body_already_follows_gets_its_first_line_only(self) -> None:
        context = ctx("def f(x):\n    if █\n        return x\n", multiline=True)
        raw = "x > 0:\n        return -x"
        assert run(stop_at_scope_end, raw, context) == ("x > 0:", 0)

    def test_single_line_mode_is_untouched(self) -> None:
        context = ctx("def f(x):█\n")
        assert run(stop_at_scope_end, "a\nb", context) == ("a\nb", 0)
