"""Hostile endpoints against the real server over stdio: answers it cannot use are model errors.

A stream whose payloads have the wrong types (``"text": 12345``, ``"content": ["a"]``), are not
objects, or nest 200,000 levels deep is a ``protocol`` error: the backoff applies (requests
100 ms apart do not reach the endpoint again), the user is told once, every request gets an
answer (never a JSON-RPC internal error), and ``qwen/status`` does not stay busy. A redirect is
shown as a redirect (not followed, set endpoint.base_url), not as a transport problem.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.http_servers import Peer, RawServer, Seen, response
from tests.support.lsp_session import start_session

SOURCE = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"


def sse(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


DEEP = b"data: " + b"[" * 200_000 + b"]" * 200_000 + b"\n\n"
STREAMS = {
    "text-number": ("completions", sse({"choices": [{"text": 12345}]})),
    "content-list": ("chat", sse({"choices": [{"delta": {"content": ["a"]}}]})),
    "deep-json": ("completions", DEEP),
    "not-an-object": ("completions", sse([1, 2, 3])),
    "choices-text": ("completions", sse({"choices": "abc"})),
    "finish-number": ("completions", sse({"choices": [{"text": "a", "finish_reason": 7}]})),
}


@pytest.mark.parametrize("name", STREAMS)
async def test_malformed_streams_are_one_model_error_with_backoff(name: str) -> None:
    transport, stream = STREAMS[name]
    reply = Reply(raw_response=HEAD + stream + b"data: [DONE]\n\n")
    options = {
        "endpoint": {"transport": transport, "timeoutS": 5},
        "completion": {"completionItems": False, "speculative": False},
        "statusNotifications": True,
    }
    async with FakeOpenAI(default=reply) as fake, start_session(fake.base_url, options) as lsp:
        uri = lsp.open("calc.py", SOURCE)
        for _ in range(15):  # a user typing: one request every 100 ms
            result = await lsp.inline(uri, 1, 11, timeout=10)  # an answer, not an error
            assert result is None or not result.items
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        generations = [r for r in fake.requests if r.generation]
        shown = lsp.messages()
        states = [s["state"] for s in lsp.statuses]
    assert len(generations) == 1, f"{len(generations)} requests reached the endpoint"
    assert len(shown) == 1 and "not OpenAI-compatible" in shown[0], shown
    assert states and states[-1] != "busy", states


async def test_a_redirect_is_shown_as_a_redirect_not_a_transport_problem() -> None:
    async def moved(request: Seen, peer: Peer) -> bool:
        location = f"https://llm.example{request.target}"
        await peer.send(response(308, b"", {"Location": location}))
        return True

    options = {"completion": {"completionItems": False}}
    async with RawServer(moved) as server, start_session(server.url("/v1"), options) as lsp:
        uri = lsp.open("calc.py", SOURCE)
        await lsp.inline(uri, 1, 11, timeout=10)
        await lsp.wait_until(lambda: bool(lsp.messages()), timeout=10)
        shown = lsp.messages()
        logs = " ".join(lsp.logs())
    assert len(shown) == 1
    assert "redirect" in shown[0] and "endpoint.base_url" in shown[0], shown
    assert "transport" not in shown[0]
    assert "redirected to https://llm.example/v1/completions" in logs
    assert all(r.method != "POST" or r.target == "/v1/completions" for r in server.requests)
