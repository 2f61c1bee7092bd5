"""The context bench's prefix/suffix-only baseline window."""

from __future__ import annotations

from qwen_lsp.context.tokens import TokenCounter
from tests.bench.window_baseline import fit_window

COUNTER = TokenCounter(load_now=True)


def test_window_keeps_cursor_line_and_cuts_at_line_starts():
    prefix = "".join(f"line_{i} = {i}\n" for i in range(2000)) + "value = compu"
    suffix = "\n" + "".join(f"after_{i} = {i}\n" for i in range(2000))
    window = fit_window(prefix, suffix, 300, 0.25, COUNTER)
    assert window.prefix.endswith("value = compu")
    assert window.prefix.startswith("line_")  # starts at a line start
    assert window.prefix_truncated and window.suffix_truncated
    assert window.prefix_tokens + window.suffix_tokens <= 300
    assert COUNTER.count(window.prefix) <= 320  # line sums approximate whole-text counts
    assert window.suffix.endswith("\n")


def test_small_file_fits_whole():
    window = fit_window("a = 1\nb = ", "\nc = 3\n", 1000, 0.25, COUNTER)
    assert (window.prefix, window.suffix) == ("a = 1\nb = ", "\nc = 3\n")
    assert not window.prefix_truncated
