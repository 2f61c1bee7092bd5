"""The current file's window: cut at statement starts, kept stable while typing (its token count
too), the suffix bounded, the header rendered in file order."""

from __future__ import annotations

from qwen_lsp.context import current_file
from qwen_lsp.context.tokens import TokenCounter

COUNTER = TokenCounter(load_now=True)


def python_file(functions: int) -> str:
    return "".join(
        f"def function_{i}(value):\n    total = value * {i}\n    return total\n\n\n"
        for i in range(functions)
    )


def test_window_starts_at_a_statement_and_stays_put_while_typing() -> None:
    text = python_file(200) + "def tail():\n    x = "
    offset = len(text)
    line = text.count("\n")
    cut = current_file.cut_window(text, offset, line, 400, 0.15, COUNTER)
    assert cut.prefix_truncated
    assert cut.prefix.startswith("def function_")  # a top-level line, not mid-function
    assert cut.prefix_tokens <= 400
    sticky = current_file.sticky_of(text, cut)
    typed = text + "compute("
    again = current_file.cut_window(typed, len(typed), line, 400, 0.15, COUNTER, sticky)
    assert again.start_offset == cut.start_offset  # same first line: shared prompt start


def test_window_moves_when_the_cursor_jumps_up() -> None:
    text = python_file(200)
    end_cut = current_file.cut_window(text, len(text), text.count("\n"), 300, 0.15, COUNTER)
    offset = text.index("def function_20(")
    up = current_file.cut_window(
        text,
        offset,
        text[:offset].count("\n"),
        300,
        0.15,
        COUNTER,
        current_file.sticky_of(text, end_cut),
    )
    assert up.start_offset < offset and up.start_offset != end_cut.start_offset


def test_sticky_start_is_dropped_when_the_text_there_changed() -> None:
    text = python_file(50)
    cut = current_file.cut_window(text, len(text), text.count("\n"), 200, 0.15, COUNTER)
    sticky = current_file.sticky_of(text, cut)
    edited = text[: cut.start_offset] + "# inserted\n" + text[cut.start_offset :]
    assert current_file._sticky_offset(edited, len(edited), sticky) is None


def test_reused_window_counts_equal_a_fresh_count_through_edits() -> None:
    # The sticky window re-counts only the cursor's line while the lines above are unchanged;
    # any edit above must fall back to counting, so counts always match a from-scratch count.
    text = python_file(200) + "def tail():\n    x = "
    offset, line = len(text), text.count("\n")
    cut = current_file.cut_window(text, offset, line, 400, 0.15, COUNTER)
    sticky = current_file.sticky_of(text, cut, COUNTER)
    assert sticky.body and sticky.exact
    edits = [
        lambda t, o: (t[:o] + "compute(", o + 8),  # typing on the cursor line
        lambda t, o: (t[:o] + "\n    y = ", o + 9),  # a new line
        lambda t, o: (t.replace("total = value * 199", "total = value * 1999"), o + 1),  # above
        lambda t, o: (t[: o - 3], o - 3),  # backspace
    ]
    kept = 0
    for edit in edits:
        text, offset = edit(text, offset)
        line = text[:offset].count("\n")
        reused = current_file.cut_window(text, offset, line, 400, 0.15, COUNTER, sticky)
        fresh = current_file._cost_from(text[:offset], reused.start_offset, COUNTER, 10**9)
        assert reused.prefix_tokens == fresh
        kept += reused.start_offset == sticky.offset
        sticky = current_file.sticky_of(text, reused, COUNTER)
    assert kept == len(edits)  # the window never moved: every count went through the reuse


def test_counts_from_the_estimate_are_not_reused_once_the_tokenizer_is_loaded() -> None:
    estimating = TokenCounter()  # not loaded: character estimate
    text = python_file(100) + "def tail():\n    x = "
    cut = current_file.cut_window(text, len(text), text.count("\n"), 400, 0.15, estimating)
    sticky = current_file.sticky_of(text, cut, estimating)
    assert not sticky.exact
    typed = text + "1"
    again = current_file.cut_window(
        typed, len(typed), typed.count("\n"), 400, 0.15, COUNTER, sticky
    )
    assert again.start_offset == sticky.offset
    assert again.prefix_tokens == current_file._cost_from(typed, again.start_offset, COUNTER, 10**9)


def test_suffix_is_cut_before_a_boundary_and_bounded() -> None:
    suffix = "\n    return x\n\n\n" + python_file(40)
    text, tokens, truncated = current_file.cut_suffix(suffix, 60, COUNTER)
    assert truncated and tokens <= 60
    assert text.startswith("\n    return x\n")
    assert not text.rstrip("\n").endswith("total = value")  # not cut mid-function
    whole, _tokens, cut = current_file.cut_suffix("\nx = 1\n", 100, COUNTER)
    assert (whole, cut) == ("\nx = 1\n", False)


def test_suffix_end_limits_the_suffix() -> None:
    text = "def f():\n    a = \n    return a\n\ndef g():\n    pass\n"
    offset = text.index("a = ") + 4
    end = text.index("def g")
    cut = current_file.cut_window(text, offset, 1, 500, 0.5, COUNTER, suffix_end=end)
    assert cut.suffix == "\n    return a\n\n" and cut.suffix_truncated


def test_header_pieces_render_in_file_order_with_elisions() -> None:
    pieces = [
        current_file.Piece(40, "class Shape:", "scope"),
        current_file.Piece(0, "import os", "import"),
        current_file.Piece(1, "import sys", "import"),
        current_file.Piece(10, "def helper():\n    return 1", "definition"),
    ]
    rendered = current_file.render_pieces(pieces, "#")
    assert (
        rendered == "import os\nimport sys\n# ...\ndef helper():\n    return 1\n# ...\nclass Shape:"
    )
    assert current_file.with_header("import os", "    x = 1\n    y", "#") == (
        "import os\n    # ...\n    x = 1\n    y"
    )
