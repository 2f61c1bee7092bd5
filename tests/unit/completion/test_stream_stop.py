"""Reading the model's stream stops as soon as the rest would be thrown away."""

from __future__ import annotations

from qwen_lsp.completion.stream_stop import StreamStop


def test_stream_stop_single_line_stops_at_first_code_line_end():
    stop = StreamStop(multiline=False, base_indent=0)
    assert not stop.feed("foo(")
    assert stop.feed("a)\nbar")


def test_stream_stop_multiline_stops_when_scope_ends():
    stop = StreamStop(multiline=True, base_indent=4)
    assert not stop.feed("\n    x = 1\n    return x\n")
    assert stop.feed("def other():\n")
