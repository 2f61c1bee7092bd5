from qwen_lsp.completion.gate import decide
from qwen_lsp.completion.stream_stop import StreamStop
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


def test_gate_inside_identifier_declines():
    assert not decide("    pri", "nt(x)", "").complete


def test_gate_multiline_after_block_opener_and_on_empty_line():
    assert decide("def f(x):", "", "").multiline
    assert decide("    ", "", "def f(x):").multiline
    assert not decide("x = foo(", "a)", "").multiline


def test_stream_stop_single_line_stops_at_first_code_line_end():
    stop = StreamStop(multiline=False, base_indent=0)
    assert not stop.feed("foo(")
    assert stop.feed("a)\nbar")


def test_stream_stop_multiline_stops_when_scope_ends():
    stop = StreamStop(multiline=True, base_indent=4)
    assert not stop.feed("\n    x = 1\n    return x\n")
    assert stop.feed("def other():\n")
