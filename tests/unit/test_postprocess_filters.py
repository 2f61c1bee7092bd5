"""Unit tests for each post-processing filter (``qwen_lsp.completion.filters``)."""

from __future__ import annotations

import pytest
from tree_sitter import Parser

from qwen_lsp.completion.filters.lexer import analyse, lexer_pattern, scan
from qwen_lsp.completion.postprocess import (
    FILTERS,
    Candidate,
    PostContext,
    check_syntax,
    drop_unbalanced_closers,
    fix_indentation,
    keep_first_line,
    normalise,
    reject_tiny,
    remove_repetition,
    restore_line_endings,
    run_filters,
    stop_at_scope_end,
    strip_stop_tokens,
    trim_prefix_overlap,
    trim_suffix_overlap,
)
from qwen_lsp.syntax.languages import get_language

CURSOR = "█"


def ctx(
    doc: str, language: str = "python", multiline: bool = False, **extra: object
) -> PostContext:
    """A context from a document with ``█`` at the cursor."""
    prefix, suffix = doc.split(CURSOR)
    return PostContext(
        prefix=prefix, suffix=suffix, language_id=language, multiline=multiline, **extra
    )


def run(step, raw: str, context: PostContext) -> tuple[str, int] | None:  # type: ignore[no-untyped-def]
    result = step(Candidate(raw), context)
    return None if result is None else (result.text, result.replace_suffix_chars)


# ----- 1. stop tokens ------------------------------------------------------------------------


class TestStopTokens:
    c = ctx("x = █\n")

    @pytest.mark.parametrize(
        "raw",
        [
            "compute()<|endoftext|>import os",
            "compute()<|file_sep|>src/other.py\nimport os",
            "compute()<|fim_middle|>",
            "compute()<|im_end|>\n<|im_start|>user",
            "compute()<|box_start|>",  # any Qwen-style special token
        ],
    )
    def test_cuts_at_the_first_special_token(self, raw: str) -> None:
        assert run(strip_stop_tokens, raw, self.c) == ("compute()", 0)

    def test_custom_stop_sequence(self) -> None:
        context = ctx("x = █\n", stop_sequences=("\n\n\n",))
        assert run(strip_stop_tokens, "a\n\n\nb", context) == ("a", 0)

    def test_think_block_and_its_separator_are_removed(self) -> None:
        raw = "<think>\nThe user wants a call.\n</think>\n\ncompute()"
        assert run(strip_stop_tokens, raw, self.c) == ("compute()", 0)

    def test_think_keeps_the_completions_own_leading_newline(self) -> None:
        raw = "<think>ok</think>\n\n\n    return 1"
        assert run(strip_stop_tokens, raw, self.c) == ("\n    return 1", 0)

    def test_unterminated_leading_think_rejects(self) -> None:
        assert run(strip_stop_tokens, "<think>\nLet me consider the options", self.c) is None

    def test_think_started_later_cuts_there(self) -> None:
        assert run(strip_stop_tokens, "compute()\n<think>hmm", self.c) == ("compute()\n", 0)

    def test_markdown_fence_and_trailing_prose_are_removed(self) -> None:
        raw = "```python\ncompute()\n```\nThis calls compute."
        assert run(strip_stop_tokens, raw, self.c) == ("compute()", 0)

    def test_fence_content_keeps_its_leading_newline(self) -> None:
        raw = "```py\n\n    return 1\n```"
        assert run(strip_stop_tokens, raw, self.c) == ("\n    return 1", 0)

    def test_a_lone_closing_fence_at_the_end_is_removed(self) -> None:
        assert run(strip_stop_tokens, "compute()\n```", self.c) == ("compute()", 0)

    def test_markdown_documents_keep_fences(self) -> None:
        context = ctx("# Title\n█\n", language="markdown")
        raw = "```python\nx = 1\n```"
        assert run(strip_stop_tokens, raw, context) == (raw, 0)

    def test_clean_text_is_untouched_and_unnoted(self) -> None:
        result = strip_stop_tokens(Candidate("compute()"), self.c)
        assert result == Candidate("compute()")


# ----- 2. normalise --------------------------------------------------------------------------


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


# ----- 3. prefix overlap ---------------------------------------------------------------------


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


# ----- 4. single line ------------------------------------------------------------------------


class TestSingleLine:
    def test_keeps_the_first_line(self) -> None:
        assert run(keep_first_line, "foo(a)\nbar()", ctx("x = █\n")) == ("foo(a)", 0)

    def test_multiline_mode_is_untouched(self) -> None:
        context = ctx("x = █\n", multiline=True)
        assert run(keep_first_line, "foo(a)\nbar()", context) == ("foo(a)\nbar()", 0)

    def test_a_leading_line_break_leaves_nothing(self) -> None:
        assert run(keep_first_line, "\n    return 1", ctx("x = █\n")) == ("", 0)


# ----- 5. indentation ------------------------------------------------------------------------


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


# ----- 6. repetition -------------------------------------------------------------------------


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


# ----- 7. scope end --------------------------------------------------------------------------


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


# ----- 8. suffix overlap ---------------------------------------------------------------------


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


# ----- 9. unbalanced closers -----------------------------------------------------------------


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
        result = drop_unbalanced_closers(Candidate("a))", 1), context)
        assert result is not None
        assert (result.text, result.replace_suffix_chars) == ("a)", 1)


# ----- 10. tiny ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kept"), [("", False), ("  \n ", False), (");", False), ("x", True)]
)
def test_reject_tiny(raw: str, kept: bool) -> None:
    assert (run(reject_tiny, raw, ctx("f(█\n")) is not None) == kept


# ----- 11. syntax ----------------------------------------------------------------------------


class TestSyntax:
    def test_valid_completion_passes(self) -> None:
        context = ctx("def f(x):█\n\n\ndef g():\n    pass\n", multiline=True)
        raw = "\n    return x + 1"
        assert run(check_syntax, raw, context) == (raw, 0)

    def test_broken_tail_is_trimmed(self) -> None:
        context = ctx("def f(x):█\n\n\ndef g():\n    pass\n", multiline=True)
        raw = "\n    y = x + 1\n    return (y +"
        assert run(check_syntax, raw, context) == ("\n    y = x + 1", 0)

    def test_unclosed_block_in_c_is_trimmed(self) -> None:
        doc = "int f(int a) {\n  █\n  return a;\n}\n"
        raw = "a += 1;\n  if (a > 2) {\n    a = 0;"
        assert run(check_syntax, raw, ctx(doc, "c", True)) == ("a += 1;", 0)

    def test_broken_single_line_is_rejected(self) -> None:
        assert run(check_syntax, "1 +* 2 (", ctx("x = █\ny = 2\n")) is None

    def test_languages_without_a_grammar_are_skipped(self) -> None:
        context = ctx("a = █\n", language="cobol")
        assert run(check_syntax, "(((", context) == ("(((", 0)

    def test_incremental_reparse_with_the_documents_tree(self) -> None:
        prefix = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(300))
        prefix += "def g(x):"
        suffix = "\n\n\ndef h():\n    pass\n"
        source = (prefix + suffix).encode()
        language = get_language("python")
        assert language is not None
        tree = Parser(language).parse(source)
        context = PostContext(
            prefix=prefix,
            suffix=suffix,
            language_id="python",
            multiline=True,
            tree=tree,
            source_bytes=source,
        )
        assert run(check_syntax, "\n    return x", context) == ("\n    return x", 0)
        assert run(check_syntax, "\n    y = x\n    return (y +", context) == ("\n    y = x", 0)
        assert context.memo["syntax"].tree is tree  # the incremental path was taken
        assert not tree.root_node.has_error  # the caller's tree is not edited

    def test_a_stale_tree_falls_back_to_a_window(self) -> None:
        language = get_language("python")
        assert language is not None
        tree = Parser(language).parse(b"something else entirely\n")
        context = ctx(
            "def f(x):█\n", multiline=True, tree=tree, source_bytes=b"something else entirely\n"
        )
        assert run(check_syntax, "\n    return x", context) == ("\n    return x", 0)
        assert context.memo["syntax"].tree is None


# ----- 12. line endings ----------------------------------------------------------------------


def test_restore_line_endings() -> None:
    context = ctx("def f():\r\n    █\r\n")
    assert run(restore_line_endings, "a = 1\n    return a", context) == (
        "a = 1\r\n    return a",
        0,
    )
    assert run(restore_line_endings, "a\nb", ctx("x█\n")) == ("a\nb", 0)


# ----- lexer ---------------------------------------------------------------------------------


class TestLexer:
    @staticmethod
    def brackets(text: str, language: str) -> str:
        return "".join(char for _pos, char in scan(text, lexer_pattern(language))[0])

    def test_python_strings_and_comments_hide_brackets(self) -> None:
        text = 'f("(", \'[\', """\n{""")  # )\nx = {1: [2]}'
        assert self.brackets(text, "python") == "(){[]}"

    def test_javascript_templates_regexes_and_comments(self) -> None:
        text = "f(`a ${g({b: 1})} (`, /[(]/g) /* ) */ // ]"
        assert self.brackets(text, "javascript") == "(({}))"

    def test_rust_lifetimes_are_not_char_literals(self) -> None:
        text = "fn f<'a>(x: &'a str) -> char { '(' }"
        assert self.brackets(text, "rust") == "(){}"

    def test_unmatched_closers_of_a_completion(self) -> None:
        context = ctx('print(foo("█")\n')
        analysis = analyse(context, 'x"), 1)')
        assert [char for _offset, char, _level in analysis.unmatched] == ['"', ")", ")"]


# ----- the pipeline --------------------------------------------------------------------------


def test_filter_order_is_documented() -> None:
    import qwen_lsp.completion.postprocess as module

    assert module.__doc__ is not None
    positions = [module.__doc__.index(f"``{step.__name__}``") for step in FILTERS]
    assert positions == sorted(positions)


def test_notes_name_the_filters_that_changed_the_text() -> None:
    context = ctx("def f(a, b):\n    return foo(█)\n")
    result = run_filters("return foo(a, b)<|endoftext|>", context)
    assert result is not None
    assert result.notes == ("stop_tokens", "prefix_overlap", "suffix_overlap")


def test_a_failing_filter_is_skipped_unless_strict() -> None:
    def broken(_candidate: Candidate, _ctx: PostContext) -> Candidate | None:
        raise RuntimeError("bug")

    context = ctx("x = █\n")
    steps = (broken, *FILTERS)
    result = run_filters("compute()", context, filters=steps)
    assert result is not None and result.text == "compute()"
    with pytest.raises(RuntimeError):
        run_filters("compute()", context, filters=steps, strict=True)


def test_crlf_document_end_to_end() -> None:
    context = ctx("def f(x):\r\n    if x:\r\n        █\r\n    return x\r\n", multiline=True)
    result = run_filters("x += 1\r\n        log(x)\r\n    return x\r\n", context, strict=True)
    assert result is not None
    assert result.text == "x += 1\r\n        log(x)"
