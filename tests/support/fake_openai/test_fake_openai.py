"""The scripted OpenAI-compatible server that the e2e tests, benchmarks and editor tests use.

Real sockets and a real HTTP client (httpx): if the fake drifts from OpenAI's shapes or its
fault injection stops working, every test built on it would silently test less.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.fake_openai import FakeOpenAI, RecordedRequest, Reply

REPO = Path(__file__).resolve().parents[3]
PROMPT = {"model": "qwen-test", "prompt": "def add(a, b):\n    return "}
CHAT = {"model": "qwen-test", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def fake():
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


def sse_events(raw: bytes) -> list[str]:
    """Split an SSE body into its ``data:`` payload strings, checking the framing."""
    text = raw.decode()
    assert text.endswith("\n\n"), text[-40:]
    events = text[:-2].split("\n\n")
    assert all(e.startswith("data: ") for e in events), events
    return [e[len("data: ") :] for e in events]


async def stream(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> list[str]:
    async with client.stream("POST", url, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["transfer-encoding"] == "chunked"
        raw = b"".join([part async for part in response.aiter_raw()])
    return sse_events(raw)


async def wait_until(condition, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


# --- OpenAI shapes ---------------------------------------------------------------------------


async def test_completion_not_streamed_has_openai_shape(
    fake: FakeOpenAI, client: httpx.AsyncClient
):
    fake.script(Reply(text="a + b"))
    response = await client.post(f"{fake.base_url}/completions", json={**PROMPT, "max_tokens": 9})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["object"] == "text_completion"
    assert body["id"].startswith("cmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "qwen-test"
    assert body["choices"] == [
        {"index": 0, "text": "a + b", "logprobs": None, "finish_reason": "stop"}
    ]
    assert body["usage"]["completion_tokens"] == 2
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + 2

    (request,) = fake.requests
    assert (request.method, request.path, request.route) == (
        "POST",
        "/v1/completions",
        "completions",
    )
    assert request.json == {**PROMPT, "max_tokens": 9}
    assert request.body == response.request.content
    assert request.headers["content-type"] == "application/json"
    assert request.outcome == "completed" and request.status == 200
    assert request.received_at <= request.finished_at <= time.monotonic()


async def test_completion_streamed_in_chunks_ends_with_done(
    fake: FakeOpenAI, client: httpx.AsyncClient
):
    fake.script(Reply(text="return a + b"))
    events = await stream(client, f"{fake.base_url}/completions", PROMPT)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert [c["choices"][0]["text"] for c in chunks] == ["retu", "rn a", " + b", ""]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, None, "stop"]
    assert {c["object"] for c in chunks} == {"text_completion"}
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["model"] == "qwen-test"
    assert fake.requests[0].chunks_sent == 3


async def test_stream_usage_chunk_when_asked(fake: FakeOpenAI, client: httpx.AsyncClient):
    body = {**PROMPT, "stream_options": {"include_usage": True}}
    events = await stream(client, f"{fake.base_url}/completions", body)
    usage_chunk = json.loads(events[-2])
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["completion_tokens"] > 0


async def test_chat_streamed_uses_deltas(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(text="a + b", chunks=["a", " + ", "b"]))
    events = await stream(client, f"{fake.base_url}/chat/completions", CHAT)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["id"].startswith("chatcmpl-")
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "a"},
        {"content": " + "},
        {"content": "b"},
        {},
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_chat_not_streamed_has_message(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(text="hello"))
    body = (await client.post(f"{fake.base_url}/chat/completions", json=CHAT)).json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "hello"}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert body["model"] == "qwen-test" and isinstance(body["created"], int)


@pytest.mark.parametrize(
    ("stop", "expected"),
    [("\n", "a + b"), (["zz", "+", "b"], "a "), ([], "a + b\nprint(x)")],
    ids=["string", "earliest-of-list", "none"],
)
async def test_stop_cuts_the_text(fake: FakeOpenAI, client: httpx.AsyncClient, stop, expected):
    fake.default = Reply(text="a + b\nprint(x)")
    url = f"{fake.base_url}/completions"
    whole = (await client.post(url, json={**PROMPT, "stop": stop})).json()["choices"][0]
    assert whole["text"] == expected
    assert whole["finish_reason"] == "stop"
    events = await stream(client, url, {**PROMPT, "stop": stop})
    streamed = "".join(json.loads(e)["choices"][0]["text"] for e in events[:-1])
    assert streamed == expected


async def test_stop_inside_an_explicit_chunk(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(chunks=["a +", " b\npr", "int(x)"]))
    events = await stream(client, f"{fake.base_url}/completions", {**PROMPT, "stop": ["\n"]})
    assert [json.loads(e)["choices"][0]["text"] for e in events[:-1]] == ["a +", " b", ""]


async def test_max_tokens_cuts_at_four_chars_a_token(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(text="x" * 100))
    body = {**CHAT, "max_tokens": 5}
    choice = (await client.post(f"{fake.base_url}/chat/completions", json=body)).json()["choices"][
        0
    ]
    assert choice["message"]["content"] == "x" * 20
    assert choice["finish_reason"] == "length"


async def test_repeat_makes_big_answers(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(text="abc", repeat=10_000, chunk_size=1000), Reply(text="abc", repeat=10_000))
    events = await stream(client, f"{fake.base_url}/completions", PROMPT)
    assert len(events) == 30 + 2  # content chunks, the finish chunk, [DONE]
    whole = (await client.post(f"{fake.base_url}/completions", json=PROMPT)).json()
    assert whole["choices"][0]["text"] == "abc" * 10_000


# --- errors and auth -------------------------------------------------------------------------


async def test_api_key_is_required(client: httpx.AsyncClient):
    async with FakeOpenAI(api_key="sk-right") as fake:
        fake.script(Reply(text="ok"))
        url = f"{fake.base_url}/completions"
        missing = await client.post(url, json=PROMPT)
        wrong = await client.post(url, json=PROMPT, headers={"Authorization": "Bearer sk-wrong"})
        for response in (missing, wrong):
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "invalid_api_key"
        right = await client.post(url, json=PROMPT, headers={"Authorization": "Bearer sk-right"})
        # A rejected request does not use up the script.
        assert right.json()["choices"][0]["text"] == "ok"
        assert fake.requests[-1].headers["authorization"] == "Bearer sk-right"


async def test_unknown_model_is_404(client: httpx.AsyncClient):
    async with FakeOpenAI(models=["qwen-a"]) as fake:
        response = await client.post(f"{fake.base_url}/completions", json={**PROMPT, "model": "x"})
        assert response.status_code == 404
        assert response.json() == {
            "error": {
                "message": "The model `x` does not exist.",
                "type": "invalid_request_error",
                "code": "model_not_found",
            }
        }
        ok = await client.post(f"{fake.base_url}/completions", json={**PROMPT, "model": "qwen-a"})
        assert ok.status_code == 200
        listed = (await client.get(f"{fake.base_url}/models")).json()
        assert [m["id"] for m in listed["data"]] == ["qwen-a"]


@pytest.mark.parametrize(
    ("reply", "status", "retry_after"),
    [
        (Reply.error(429, "slow down", retry_after=2), 429, "2"),
        (Reply.error(500, "boom"), 500, None),
        (Reply.error(401, "Incorrect API key provided"), 401, None),
    ],
    ids=["429", "500", "401"],
)
async def test_scripted_errors(fake, client, reply: Reply, status: int, retry_after):
    fake.script(reply)
    async with client.stream(
        "POST", f"{fake.base_url}/completions", json={**PROMPT, "stream": True}
    ) as r:
        await r.aread()
    assert r.status_code == status
    assert r.headers.get("retry-after") == retry_after
    error = r.json()["error"]
    assert error["message"] == reply.error_body["error"]["message"]
    assert error["type"] and "code" in error
    # The connection stays usable after an error.
    assert (await client.post(f"{fake.base_url}/completions", json=PROMPT)).status_code == 200


async def test_text_error_body_and_unknown_route(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(status=502, error_body="<html>bad gateway</html>"))
    response = await client.post(f"{fake.base_url}/completions", json=PROMPT)
    assert response.status_code == 502 and response.text == "<html>bad gateway</html>"
    assert response.headers["content-type"] == "text/plain"
    missing = await client.post(f"{fake.root_url}/v1/embeddings", json={})
    assert missing.status_code == 404 and "Invalid URL" in missing.json()["error"]["message"]
    wrong_method = await client.get(f"{fake.base_url}/completions")
    assert wrong_method.status_code == 405


async def test_paths_without_v1_or_with_a_prefix(fake: FakeOpenAI, client: httpx.AsyncClient):
    for path in ("/completions", "/compatible-mode/v1/completions", "/v1/completions/"):
        response = await client.post(fake.root_url + path, json=PROMPT)
        assert response.json()["object"] == "text_completion", path
    chat = await client.post(f"{fake.root_url}/openai/chat/completions", json=CHAT)
    assert chat.json()["object"] == "chat.completion"


# --- timing and faults -----------------------------------------------------------------------


async def test_delays(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(text="abcdef", chunk_size=2, delay_before_headers=0.2, delay_per_chunk=0.1))
    started = time.monotonic()
    async with client.stream(
        "POST", f"{fake.base_url}/completions", json={**PROMPT, "stream": True}
    ) as r:
        headers_at = time.monotonic()
        await r.aread()
    done_at = time.monotonic()
    assert headers_at - started >= 0.2
    assert done_at - headers_at >= 0.3  # three chunks, 0.1 s before each


async def test_hang_before_headers_then_client_gives_up(fake: FakeOpenAI):
    fake.script(Reply(hang_before_headers=True))
    async with httpx.AsyncClient(timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(f"{fake.base_url}/completions", json=PROMPT)
        gave_up = time.monotonic()
    (request,) = fake.requests
    await fake.wait_for_outcome(request, "disconnected", timeout=1)
    assert request.disconnected_at - gave_up < 1.0
    assert request.status is None and request.finished_at is None
    await wait_until(lambda: fake.active_connections == 0)


async def test_disconnect_during_a_chunk_delay_is_seen_at_once(fake: FakeOpenAI, client):
    fake.script(Reply(text="abcdef", chunk_size=2, delay_per_chunk=5))
    async with client.stream(
        "POST", f"{fake.base_url}/completions", json={**PROMPT, "stream": True}
    ):
        pass  # headers only; leaving closes the connection
    closed = time.monotonic()
    (request,) = await fake.wait_for_requests(1)
    await fake.wait_for_outcome(request, "disconnected", timeout=1)
    assert request.disconnected_at - closed < 0.5 and request.chunks_sent == 0


async def test_hang_mid_stream_then_disconnect(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(text="abcdefgh", chunk_size=2, hang_after_chunks=2))
    got: list[str] = []
    async with client.stream(
        "POST", f"{fake.base_url}/completions", json={**PROMPT, "stream": True}
    ) as r:
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                got.append(json.loads(line[6:])["choices"][0]["text"])
            if len(got) == 2:
                break
    assert got == ["ab", "cd"]
    request = await fake.wait_for_outcome(fake.requests[0], "disconnected", timeout=1)
    assert request.chunks_sent == 2


async def test_truncated_stream_has_no_end(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(text="abcdefgh", chunk_size=2, truncate_after_chunks=2))
    lines: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream(
            "POST", f"{fake.base_url}/completions", json={**PROMPT, "stream": True}
        ) as r:
            async for line in r.aiter_lines():
                lines.append(line)
    data = [line[6:] for line in lines if line.startswith("data: ")]
    assert [json.loads(d)["choices"][0]["text"] for d in data] == ["ab", "cd"]
    assert fake.requests[0].chunks_sent == 2 and fake.requests[0].outcome == "completed"


async def test_hang_and_truncate_without_streaming(fake: FakeOpenAI):
    fake.script(Reply(text="a + b", truncate_after_chunks=0), Reply(text="a", hang_after_chunks=0))
    async with httpx.AsyncClient(timeout=0.3) as http:
        with pytest.raises(httpx.RemoteProtocolError):  # fewer bytes than Content-Length
            await http.post(f"{fake.base_url}/completions", json=PROMPT)
        async with http.stream("POST", f"{fake.base_url}/completions", json=PROMPT) as r:
            assert r.status_code == 200  # headers arrive, the body never does
            with pytest.raises(httpx.ReadTimeout):
                await r.aread()
    truncated, hung = fake.requests
    assert truncated.outcome == "completed"
    await fake.wait_for_outcome(hung, "disconnected", timeout=1)


async def test_malformed_stream_line(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(text="ab", malformed=True), Reply(text="ab", malformed=True))
    events = await stream(client, f"{fake.base_url}/completions", PROMPT)
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[0])
    assert [json.loads(e)["choices"][0]["text"] for e in events[1:-1]] == ["ab", ""]
    whole = await client.post(f"{fake.base_url}/completions", json=PROMPT)
    with pytest.raises(json.JSONDecodeError):
        whole.json()


async def test_raw_garbage_is_not_http(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(raw_response=b"\x00\x01 this is no HTTP\r\n\r\n"))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(f"{fake.base_url}/completions", json=PROMPT)


async def test_keep_alive_reuses_one_connection(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script(Reply(text="one"), Reply(text="two"), Reply(text="three"))
    first = await stream(client, f"{fake.base_url}/completions", PROMPT)
    second = await client.post(f"{fake.base_url}/completions", json=PROMPT)
    third = await client.post(f"{fake.base_url}/chat/completions", json=CHAT)
    assert json.loads(first[0])["choices"][0]["text"] == "one"
    assert second.json()["choices"][0]["text"] == "two"
    assert third.json()["choices"][0]["message"]["content"] == "three"
    assert len({r.connection_id for r in fake.requests}) == 1
    assert fake.connections_opened == 1 and fake.active_connections == 1


async def test_traffic_counts_received_dropped_and_connections(fake: FakeOpenAI):
    # One answered on a kept-alive connection, one dropped by its client during the latency.
    fake.script(Reply(text="one"), Reply(text="two", delay_before_headers=5))
    async with httpx.AsyncClient(timeout=5) as http:
        await http.post(f"{fake.base_url}/completions", json=PROMPT)
        await http.get(f"{fake.base_url}/models")  # not a generation: not counted as one
    async with httpx.AsyncClient(timeout=0.2) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post(f"{fake.base_url}/completions", json=PROMPT)
    await fake.wait_for_outcome(fake.generations[1], "disconnected", timeout=2)
    await wait_until(lambda: fake.active_connections == 0)
    traffic = fake.traffic()
    assert (traffic.received, traffic.completed, traffic.dropped) == (2, 1, 1)
    assert traffic.connections_opened == 2 and traffic.active_connections == 0


async def test_chunked_request_body_and_expect_continue(fake: FakeOpenAI):
    reader, writer = await asyncio.open_connection("127.0.0.1", fake.port)
    payload = json.dumps(PROMPT).encode()
    writer.write(
        b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload))
    answer = await reader.read()  # the server closes: we asked for Connection: close
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close" in answer
    assert fake.requests[0].json == PROMPT


async def test_stop_ends_hanging_requests(client: httpx.AsyncClient):
    fake = await FakeOpenAI().start()
    fake.default = Reply(hang_before_headers=True)
    pending = asyncio.ensure_future(client.post(f"{fake.base_url}/completions", json=PROMPT))
    await fake.wait_for_requests(1)
    started = time.monotonic()
    await fake.stop()
    assert time.monotonic() - started < 1.0
    assert fake.active_connections == 0
    with pytest.raises(httpx.HTTPError):
        await pending
    await fake.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        await client.post(f"{fake.base_url}/completions", json=PROMPT)


# --- scripting API ---------------------------------------------------------------------------


async def test_script_then_responder_then_default(fake: FakeOpenAI, client: httpx.AsyncClient):
    seen: list[RecordedRequest] = []

    async def responder(request: RecordedRequest) -> Reply | None:
        seen.append(request)
        return Reply(text=f"echo {request.json['prompt']}") if request.json["prompt"] else None

    fake.default = Reply(text="default")
    fake.responder = responder
    fake.script("scripted")  # a plain string is a text reply
    assert fake.queued == 1

    async def ask(prompt: str) -> str:
        body = {**PROMPT, "prompt": prompt}
        return (await client.post(f"{fake.base_url}/completions", json=body)).json()["choices"][0][
            "text"
        ]

    assert [await ask("p"), await ask("q"), await ask("")] == ["scripted", "echo q", "default"]
    assert [r.json["prompt"] for r in seen] == ["q", ""]
    fake.responder = lambda request: Reply(text="sync")
    assert await ask("z") == "sync"


async def test_reset_and_waits(fake: FakeOpenAI, client: httpx.AsyncClient):
    fake.script("a", "b")
    await client.get(f"{fake.base_url}/models")
    await client.post(f"{fake.base_url}/completions", json=PROMPT)
    # Waits count generation requests unless told otherwise: probes do not consume a slot.
    (generation,) = await fake.wait_for_requests(1)
    assert generation.path == "/v1/completions"
    assert [r.route for r in await fake.wait_for_requests(2, all_routes=True)] == [
        "models",
        "completions",
    ]
    with pytest.raises(TimeoutError):
        await fake.wait_for_requests(2, timeout=0.1)
    with pytest.raises(AssertionError, match="completed"):
        await fake.wait_for_outcome(generation, "disconnected", timeout=1)
    fake.reset()
    assert fake.requests == [] and fake.queued == 0


# --- flavours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flavor", "owned_by", "extras"),
    [
        ("openai", "openai", {}),
        ("vllm", "vllm", {"/version": "version"}),
        ("llamacpp", "llamacpp", {"/health": "status", "/props": "build_info"}),
        ("ollama", "library", {"/api/version": "version", "/api/tags": "models"}),
        ("lmstudio", "organization_owner", {"/api/v0/models": "data"}),
    ],
)
async def test_flavor_routes(client: httpx.AsyncClient, flavor: str, owned_by: str, extras):
    async with FakeOpenAI(flavor=flavor) as fake:
        assert fake.base_url == f"http://127.0.0.1:{fake.port}/v1"
        models = (await client.get(f"{fake.base_url}/models")).json()
        assert models["object"] == "list"
        assert {m["owned_by"] for m in models["data"]} == {owned_by}
        assert all(m["object"] == "model" and m["id"] for m in models["data"])
        for path, key in extras.items():
            response = await client.get(fake.root_url + path)
            assert response.status_code == 200 and key in response.json(), path
        # Other flavours' extras are absent, so detection can tell them apart.
        for path in {"/props", "/api/version", "/version", "/api/v0/models"} - set(extras):
            assert (await client.get(fake.root_url + path)).status_code == 404, path
    if flavor == "vllm":
        assert models["data"][0]["max_model_len"] > 0


async def test_dashscope_only_under_compatible_mode(client: httpx.AsyncClient):
    async with FakeOpenAI(flavor="dashscope") as fake:
        assert fake.base_url == f"http://127.0.0.1:{fake.port}/compatible-mode/v1"
        ok = await client.post(f"{fake.base_url}/completions", json=PROMPT)
        assert ok.json()["object"] == "text_completion"
        assert (
            await client.post(f"{fake.root_url}/v1/completions", json=PROMPT)
        ).status_code == 404
        ids = [m["id"] for m in (await client.get(f"{fake.base_url}/models")).json()["data"]]
        assert "qwen2.5-coder-32b-instruct" in ids and "qwen3-coder-plus" in ids


async def test_llamacpp_infill(client: httpx.AsyncClient):
    async with FakeOpenAI(flavor="llamacpp") as fake:
        props = (await client.get(f"{fake.root_url}/props")).json()
        assert "default_generation_settings" in props and "build_info" in props
        body = {
            "input_prefix": "def add(a, b):\n    return ",
            "input_suffix": "\n",
            "input_extra": [{"filename": "util.py", "text": "X = 1\n"}],
            "prompt": "",
            "n_predict": 16,
            "cache_prompt": True,
            "stop": ["\n"],
        }
        fake.script(Reply(text="a + b\nmore"), Reply(text="x" * 100))
        async with client.stream(
            "POST", f"{fake.root_url}/infill", json={**body, "stream": True}
        ) as r:
            raw = b"".join([part async for part in r.aiter_raw()])
        events = [json.loads(e) for e in sse_events(raw)]  # no [DONE] from llama.cpp
        assert events[:-1] == [{"content": "a + ", "stop": False}, {"content": "b", "stop": False}]
        assert events[-1]["stop"] is True and events[-1]["stop_type"] == "word"
        assert events[-1]["stopping_word"] == "\n"
        whole = (await client.post(f"{fake.root_url}/infill", json=body)).json()
        assert whole["content"] == "x" * 64 and whole["stop"] is True  # n_predict 16 → 64 chars
        assert whole["stop_type"] == "limit"
        assert fake.requests[-1].route == "infill"
        assert fake.requests[-1].json["input_extra"][0]["filename"] == "util.py"


async def test_ollama_generate(client: httpx.AsyncClient):
    async with FakeOpenAI(flavor="ollama") as fake:
        fake.script(Reply(text="a + b\nx"), Reply(text="hello"))
        body = {
            "model": "qwen2.5-coder:1.5b",
            "prompt": "p",
            "suffix": "s",
            "raw": True,
            "options": {"stop": ["\n"], "num_predict": 50},
        }
        async with client.stream("POST", f"{fake.root_url}/api/generate", json=body) as r:
            assert r.headers["content-type"] == "application/x-ndjson"
            lines = [json.loads(line) async for line in r.aiter_lines() if line]
        assert [line["response"] for line in lines] == ["a + ", "b", ""]
        assert [line["done"] for line in lines] == [False, False, True]
        assert lines[-1]["done_reason"] == "stop" and "context" not in lines[-1]  # raw
        whole = await client.post(
            f"{fake.root_url}/api/generate", json={"model": "m", "prompt": "p", "stream": False}
        )
        assert whole.json()["response"] == "hello" and whole.json()["done"] is True
        assert "context" in whole.json()  # templated (not raw) prompts return a context
        assert fake.requests[0].json["suffix"] == "s"


async def test_ollama_errors_use_its_shape(client: httpx.AsyncClient):
    async with FakeOpenAI(flavor="ollama", models=["qwen2.5-coder:1.5b"]) as fake:
        body = {"model": "nope", "prompt": "p"}
        missing = await client.post(f"{fake.root_url}/api/generate", json=body)
        assert missing.status_code == 404 and "not found" in missing.json()["error"]
        fake.script(Reply.error(500, "out of memory"))
        body["model"] = "qwen2.5-coder:1.5b"
        failed = await client.post(f"{fake.root_url}/api/generate", json=body)
        assert failed.json() == {"error": "out of memory"}


# --- synchronous use and the command line ----------------------------------------------------


def test_run_in_thread_from_sync_code():
    with FakeOpenAI.run_in_thread(flavor="vllm") as fake, httpx.Client(timeout=5) as http:
        assert threading.current_thread() is threading.main_thread()
        fake.default = Reply(text="from a thread")
        fake.script(Reply(text="first"))
        url = f"{fake.base_url}/completions"
        texts = [http.post(url, json=PROMPT).json()["choices"][0]["text"] for _ in range(2)]
        assert texts == ["first", "from a thread"]
        assert len(fake.wait_for_requests(2)) == 2
        snapshot = fake.requests
        snapshot.clear()  # a copy: the server's record is untouched
        assert len(fake.requests) == 2

        fake.script(Reply(hang_before_headers=True))
        with pytest.raises(httpx.ReadTimeout):
            http.post(url, json=PROMPT, timeout=0.2)
        hung = fake.wait_for_requests(3)[2]
        assert fake.wait_for_outcome(hung, "disconnected", timeout=1) is hung
        with pytest.raises(TimeoutError):
            fake.wait_for_requests(4, timeout=0.05)
        fake.reset()
        assert fake.requests == []
        port = fake.port
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"http://127.0.0.1:{port}/v1/completions", json=PROMPT, timeout=1)


def test_cli_prints_url_and_serves():
    args = ["--port", "0", "--flavor", "llamacpp", "--text", "hello world", "--chunk-size", "5"]
    command = [sys.executable, "-m", "tests.support.fake_openai", *args, "--latency-ms", "50"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as process:
        try:
            line = process.stdout.readline().strip()
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", line), line
            with httpx.Client(timeout=5) as http:
                started = time.monotonic()
                body = http.post(f"{line}/completions", json=PROMPT).json()
                assert time.monotonic() - started >= 0.05
                assert body["choices"][0]["text"] == "hello world"
                streamed = {**PROMPT, "stream": True}
                with http.stream("POST", f"{line}/completions", json=streamed) as r:
                    events = sse_events(r.read())
                texts = [json.loads(e)["choices"][0]["text"] for e in events[:2]]
                assert texts == ["hello", " worl"]
                assert http.get(line.removesuffix("/v1") + "/health").json() == {"status": "ok"}
        finally:
            process.terminate()
            process.wait(5)
