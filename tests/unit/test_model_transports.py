"""The four transports: the request each builds, and how each reads a stream line — real
servers' shapes, and anything else (wrong types anywhere, nesting too deep to parse) only ever
as a ``protocol`` ModelError, never a TypeError or RecursionError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qwen_lsp.model.errors import ModelError
from qwen_lsp.model.request import GenerationRequest, ServerTimings, Usage
from qwen_lsp.model.transports import TRANSPORTS
from qwen_lsp.model.transports.fields import Event

REQUEST = GenerationRequest(
    prompt="P",
    messages=({"role": "user", "content": "M"},),
    max_tokens=9,
    stop=("a", "b", "c", "d", "e"),
    prefix="pre",
    suffix="suf",
    extra_context=(("u.py", "U"),),
    extra_body={"seed": 1},
)


def decode(transport: str, line: str) -> Event | None:
    return TRANSPORTS[transport].decode(line)  # type: ignore[index]


def sse(payload: Any) -> str:
    return "data: " + json.dumps(payload)


def test_requests_per_transport() -> None:
    path, body = TRANSPORTS["completions"].build(REQUEST, "m")
    assert path == "/completions" and body["prompt"] == "P" and body["stop"] == list("abcde")
    assert body["max_tokens"] == 9 and body["stream"] is True and body["seed"] == 1
    path, body = TRANSPORTS["chat"].build(REQUEST, "m")
    assert path == "/chat/completions" and body["messages"] == [{"role": "user", "content": "M"}]
    assert body["stop"] == list("abcd")  # OpenAI-style APIs take 4 at most
    path, body = TRANSPORTS["infill"].build(REQUEST, "m")
    assert path == "/infill" and TRANSPORTS["infill"].on_root
    assert (body["input_prefix"], body["input_suffix"], body["n_predict"]) == ("pre", "suf", 9)
    assert body["input_extra"] == [{"filename": "u.py", "text": "U"}] and body["cache_prompt"]
    path, body = TRANSPORTS["ollama"].build(REQUEST, "m")
    assert path == "/api/generate" and body["raw"] is True and body["options"]["num_predict"] == 9


def test_openai_streams() -> None:
    assert decode("completions", sse({"choices": [{"text": "a"}]})) == Event("a")
    assert decode("completions", ": keep-alive") is None
    assert decode("completions", "event: ping") is None
    assert decode("completions", "data: [DONE]") == Event(end=True)
    last = {
        "choices": [{"text": "", "finish_reason": "length"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 9},
        "timings": {"prompt_n": 5, "prompt_ms": 12.5, "predicted_n": 9, "predicted_ms": 40},
    }
    event = decode("completions", sse(last))
    assert event is not None and event.finish_reason == "length"
    assert event.usage == Usage(5, 9)
    assert event.timings == ServerTimings(5, 12.5, None, 9, 40.0)
    assert decode("completions", sse({"choices": [], "usage": {"prompt_tokens": 1}})) == Event(
        usage=Usage(1, None)
    )
    chat = {"choices": [{"delta": {"role": "assistant", "content": "x", "reasoning": "…"}}]}
    assert decode("chat", sse(chat)) == Event("x")
    assert decode("chat", sse({"choices": [{"delta": {}, "finish_reason": "stop"}]})) == Event(
        finish_reason="stop"
    )


def test_llamacpp_infill_stream() -> None:
    assert decode("infill", sse({"content": "a", "stop": False})) == Event("a")
    final = {
        "content": "",
        "stop": True,
        "stop_type": "limit",
        "tokens_predicted": 9,
        "tokens_evaluated": 30,
        "timings": {"prompt_n": 4, "cache_n": 26, "prompt_ms": 8.0, "predicted_n": 9},
    }
    event = decode("infill", sse(final))
    assert event is not None and event.end and event.finish_reason == "length"
    assert event.usage == Usage(30, 9)
    assert event.timings == ServerTimings(4, 8.0, 26, 9, None)
    eos = decode("infill", sse({"content": "", "stop": True, "stop_type": "eos"}))
    assert eos is not None and eos.finish_reason == "stop"


def test_ollama_stream() -> None:
    assert decode("ollama", json.dumps({"response": "a", "done": False})) == Event("a")
    assert decode("ollama", "   ") is None
    final = {
        "response": "",
        "done": True,
        "done_reason": "length",
        "prompt_eval_count": 30,
        "prompt_eval_duration": 8_000_000,
        "eval_count": 9,
        "eval_duration": 40_000_000,
    }
    event = decode("ollama", json.dumps(final))
    assert event is not None and event.end and event.finish_reason == "length"
    assert event.usage == Usage(30, 9)
    assert event.timings == ServerTimings(30, 8.0, None, 9, 40.0)


def test_error_payloads_inside_a_stream_are_server_errors() -> None:
    for transport, line in [
        ("completions", sse({"error": {"message": "out of memory"}})),
        ("infill", sse({"error": {"code": 500, "message": "out of memory"}})),
        ("ollama", json.dumps({"error": "out of memory"})),
    ]:
        with pytest.raises(ModelError) as caught:
            decode(transport, line)
        assert caught.value.kind == "server" and "out of memory" in caught.value.detail


DEEP = "[" * 200_000 + "]" * 200_000
MALFORMED = {
    "completions": [
        sse({"choices": [{"text": 12345}]}),
        sse({"choices": [{"text": "a", "finish_reason": 7}]}),
        sse({"choices": "abc"}),
        sse({"choices": [5]}),
        sse([1, 2, 3]),
        sse("text"),
        "data: " + DEEP,
        'data: {"choices": [{"text": "a"',
    ],
    "chat": [
        sse({"choices": [{"delta": {"content": ["a"]}}]}),
        sse({"choices": [{"delta": "a"}]}),
        sse({"choices": [{"message": 3}]}),
        "data: " + DEEP,
    ],
    "infill": [
        sse({"content": 12345, "stop": False}),
        sse({"content": "a", "stop": "yes"}),
        sse({"content": "", "stop": True, "stop_type": 1}),
        sse(None),
        "data: " + DEEP,
    ],
    "ollama": [
        json.dumps({"response": ["a"], "done": False}),
        json.dumps({"response": "a", "done": "false"}),
        json.dumps([{"response": "a"}]),
        "not json",
        DEEP,
    ],
}


@pytest.mark.parametrize(
    ("transport", "line"),
    [(t, line) for t, lines in MALFORMED.items() for line in lines],
    ids=[f"{t}-{i}" for t, lines in MALFORMED.items() for i in range(len(lines))],
)
def test_malformed_payloads_are_protocol_errors(transport: str, line: str) -> None:
    with pytest.raises(ModelError) as caught:
        decode(transport, line)
    assert caught.value.kind == "protocol"
    assert len(caught.value.detail) < 5000  # never the whole (maybe huge) line


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
FIELDS = ("choices", "text", "delta", "content", "message", "finish_reason", "usage", "timings")
SHAPES = {
    "completions": lambda v: {"choices": [{"text": v, "finish_reason": v}], "usage": v},
    "chat": lambda v: {"choices": [{"delta": {"content": v}, "finish_reason": v}]},
    "infill": lambda v: {"content": v, "stop": v, "stop_type": v, "timings": v},
    "ollama": lambda v: {"response": v, "done": v, "done_reason": v, "eval_count": v},
}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SHAPES)), JSON, st.sampled_from(FIELDS))
def test_any_value_anywhere_is_an_event_or_a_protocol_error(
    transport: str, value: Any, field: str
) -> None:
    payloads = [SHAPES[transport](value), {field: value}, value]
    for payload in payloads:
        text = json.dumps(payload)
        line = text if transport == "ollama" else "data: " + text
        try:
            event = decode(transport, line)
        except ModelError as error:
            assert error.kind in ("protocol", "server")
            continue
        assert event is None or isinstance(event.text, str)
