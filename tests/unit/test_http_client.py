"""The model client's HTTP behaviour against real servers on 127.0.0.1: keep-alive, body
framings, streaming, early stop, stale connections, failures, TLS and proxies.

These test the contract (what a server sees, what the client returns), through ``ModelClient``,
whatever HTTP library is underneath."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from qwen_lsp.model import body as body_module
from qwen_lsp.model.body import LineSplitter
from qwen_lsp.model.client import GenerationRequest, ModelClient, TransportName
from qwen_lsp.model.errors import ModelError
from qwen_lsp.model.http import HttpClient, proxy_url
from qwen_lsp.model.urls import BaseUrl
from qwen_lsp.settings import EndpointSettings
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.http_servers import (
    CHUNKED_HEAD,
    LAST_CHUNK,
    Peer,
    Proxy,
    RawServer,
    Seen,
    Tls,
    chunk,
    make_tls,
    response,
)

REQUEST = GenerationRequest(prompt="def f():", max_tokens=64)


def event(text: str, **extra: Any) -> bytes:
    return b"data: " + json.dumps({"choices": [{"text": text}], **extra}).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"
SSE_OK = event("a + ") + event("b") + DONE  # "a + b"


def model_for(url: str, **endpoint: Any) -> ModelClient:
    return ModelClient(EndpointSettings(base_url=url, model="m", **endpoint))


async def complete(model: ModelClient, request: GenerationRequest = REQUEST) -> str:
    return await model.complete(request)


async def failure(model: ModelClient, request: GenerationRequest = REQUEST) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await model.complete(request)
    return caught.value


async def sse(request: Seen, peer: Peer) -> bool:
    await peer.send(CHUNKED_HEAD + chunk(SSE_OK) + LAST_CHUNK)
    return True


async def eventually(check: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait until ``check()`` holds (for what the client does in the background)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- keep-alive -------------------------------------------------------------------------------


async def test_keep_alive_reuses_one_connection() -> None:
    async with RawServer(sse) as server:
        model = model_for(server.url("/v1"))
        for _ in range(5):
            assert await complete(model) == "a + b"
        await model.aclose()
    assert server.connections == 1
    assert [r.target for r in server.requests] == ["/v1/completions"] * 5


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n",
    ],
    ids=["connection-close", "http-1.0"],
)
async def test_a_connection_the_server_will_close_is_not_reused(head: bytes) -> None:
    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(head % len(SSE_OK) + SSE_OK)
        return False

    async with RawServer(answer) as server:
        model = model_for(server.url("/v1"))
        for _ in range(3):
            assert await complete(model) == "a + b"
        await model.aclose()
    assert server.connections == 3


async def test_the_pool_is_bounded_and_aclose_closes_idle_connections() -> None:
    async def slow(request: Seen, peer: Peer) -> bool:
        await asyncio.sleep(0.05)  # all requests in flight at once: one connection each
        return await sse(request, peer)

    async with RawServer(slow) as server:
        model = model_for(server.url("/v1"))
        answers = await asyncio.gather(*(complete(model) for _ in range(6)))
        assert answers == ["a + b"] * 6
        assert server.connections == 6
        await eventually(lambda: server.ended_by_client == 2)  # 4 idle kept, 2 closed
        await model.aclose()
        await eventually(lambda: server.ended_by_client == 6)


# --- bodies -----------------------------------------------------------------------------------

FRAMINGS = {
    "content-length": (response(200, SSE_OK), True),
    "chunked": (CHUNKED_HEAD + chunk(SSE_OK[:20]) + chunk(SSE_OK[20:]) + LAST_CHUNK, True),
    "close-delimited": (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + SSE_OK,
        False,
    ),
}


@pytest.mark.parametrize("framing", FRAMINGS)
async def test_every_body_framing_is_read(framing: str) -> None:
    raw, keep = FRAMINGS[framing]

    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(raw)
        return keep

    async with RawServer(answer) as server:
        model = model_for(server.url("/v1"))
        assert [await complete(model) for _ in range(2)] == ["a + b"] * 2
        await model.aclose()
    assert server.connections == (1 if keep else 2)


async def test_a_large_body_is_read_whole_through_flow_control() -> None:
    pad = "x" * 990  # 3 MB of events whose text is one digit each
    body = b"".join(event(str(i % 10), pad=pad) for i in range(3000)) + DONE

    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(response(200, body))
        return True

    async with RawServer(answer) as server:
        model = model_for(server.url("/v1"))
        text = await complete(model, GenerationRequest(prompt="x", max_tokens=4096))
        assert text == "".join(str(i % 10) for i in range(3000))
        assert await complete(model, GenerationRequest(prompt="x", max_tokens=4096)) == text
        await model.aclose()
    assert server.connections == 1


async def test_text_arrives_as_it_is_sent() -> None:
    release = asyncio.Event()

    async def stream(request: Seen, peer: Peer) -> bool:
        await peer.send(CHUNKED_HEAD + chunk(event("one")))
        await release.wait()
        await peer.send(chunk(event("two") + DONE) + LAST_CHUNK)
        return True

    async with RawServer(stream) as server:
        model = model_for(server.url("/v1"))
        async with contextlib.aclosing(model.stream(REQUEST)) as deltas:
            assert await anext(deltas) == "one"
            release.set()
            assert [d async for d in deltas] == ["two"]
        await model.aclose()


TEXT = "é€😀 naïve 中文 ü \u2028 \u0085 end"  # line separators raw inside the JSON string


@pytest.mark.parametrize("step", [1, 2, 3, 5])
async def test_utf8_and_line_ends_cut_between_reads(step: int) -> None:
    line = json.dumps({"choices": [{"text": TEXT}]}, ensure_ascii=False).encode()
    payload = b"data: " + line + b"\r\n\r\n: keep-alive\rdata: " + line + b"\n\ndata: [DONE]\n\n"

    async def trickle(request: Seen, peer: Peer) -> bool:
        await peer.send(CHUNKED_HEAD)
        for i in range(0, len(payload), step):  # cuts inside characters and inside CRLF
            await peer.send(chunk(payload[i : i + step]), pause=0.001)
        await peer.send(LAST_CHUNK)
        return True

    async with RawServer(trickle) as server:
        model = model_for(server.url("/v1"))
        assert await complete(model) == TEXT * 2
        await model.aclose()


def test_lines_split_on_ascii_line_ends_only() -> None:
    split = LineSplitter()
    assert split.feed(b"a\r") == [b"a"]
    assert split.feed(b"\nb\xe2\x80") == []  # the \n completes the \r\n; "b" waits
    assert split.feed(b"\xa8c\rd\n\n") == [b"b\xe2\x80\xa8c", b"d", b""]


# --- early stop and the end of an answer ------------------------------------------------------


async def endless(request: Seen, peer: Peer) -> bool:
    """One event, then nothing until the client leaves (a model still generating)."""
    await peer.send(CHUNKED_HEAD + chunk(event("a + b\n")))
    await peer.disconnected(10)
    return False


@pytest.mark.parametrize("how", ["leave", "exception", "cancel"])
async def test_stopping_early_drops_the_connection_and_the_server_sees_it(how: str) -> None:
    async with RawServer(endless) as server:
        model = model_for(server.url("/v1"))
        got_text = asyncio.Event()

        async def consume() -> None:
            async with contextlib.aclosing(model.stream(REQUEST)) as deltas:
                async for _ in deltas:
                    got_text.set()
                    if how == "leave":
                        return
                    if how == "exception":
                        raise ValueError("consumer failed")

        task = asyncio.ensure_future(consume())
        await got_text.wait()
        started = time.monotonic()
        if how == "cancel":
            await asyncio.sleep(0.01)
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.wait_for(server.peers[0].gone.wait(), 2)
        assert time.monotonic() - started < 1.0
        assert model.active_streams == 0
        await model.aclose()


@pytest.mark.parametrize("terminator_delay", [0.0, 0.5], ids=["buffered", "late"])
async def test_after_the_last_event_the_connection_is_reused(terminator_delay: float) -> None:
    async def late_end(request: Seen, peer: Peer) -> bool:
        await peer.send(CHUNKED_HEAD + chunk(SSE_OK), pause=terminator_delay)
        await peer.send(LAST_CHUNK)
        return True

    async with RawServer(late_end) as server:
        model = model_for(server.url("/v1"))
        for _ in range(3):
            started = time.monotonic()
            assert await complete(model) == "a + b"
            # The reader does not wait for a late end: it is read in the background.
            assert time.monotonic() - started < 0.4
            await asyncio.sleep(terminator_delay + 0.1)
        await model.aclose()
    assert server.connections == 1


async def test_an_end_that_never_comes_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(body_module, "DRAIN_TIMEOUT_S", 0.1)

    async def no_end(request: Seen, peer: Peer) -> bool:
        await peer.send(CHUNKED_HEAD + chunk(SSE_OK))
        await peer.disconnected(10)
        return False

    async with RawServer(no_end) as server:
        model = model_for(server.url("/v1"))
        assert await complete(model) == "a + b"
        await asyncio.wait_for(server.peers[0].gone.wait(), 1)  # at the drain limit, not 2 s
        await model.aclose()


# --- stale connections ------------------------------------------------------------------------


async def test_a_pooled_connection_closed_as_it_is_reused_is_retried_once() -> None:
    async def first_only(request: Seen, peer: Peer) -> bool:
        if peer.requests == 0:
            return await sse(request, peer)
        return False  # closes unanswered, as a server whose idle timeout hit as we sent

    async with RawServer(first_only) as server:
        model = model_for(server.url("/v1"))
        assert await complete(model) == "a + b"
        assert await complete(model) == "a + b"
        await model.aclose()
    assert server.connections == 2
    assert len(server.requests) == 3  # the lost one, then the retry


async def test_a_fresh_connection_closed_unanswered_fails_without_retry() -> None:
    async def close(request: Seen, peer: Peer) -> bool:
        return False

    async with RawServer(close) as server:
        error = await failure(model_for(server.url("/v1")))
    assert error.kind == "connection"
    assert len(server.requests) == 1


async def test_an_idle_connection_the_server_closed_is_not_used() -> None:
    async def answer_then_close(request: Seen, peer: Peer) -> bool:
        await peer.send(response(200, SSE_OK))  # no "Connection: close", but it closes
        return False

    async with RawServer(answer_then_close) as server:
        model = model_for(server.url("/v1"))
        assert await complete(model) == "a + b"
        await asyncio.sleep(0.05)  # the EOF arrives while the connection is idle
        assert await complete(model) == "a + b"
        await model.aclose()
    assert len(server.requests) == 2  # nothing sent on the dead connection
    assert server.connections == 2


# --- failures ---------------------------------------------------------------------------------


async def test_connection_refused() -> None:
    port = free_port()
    error = await failure(model_for(f"http://127.0.0.1:{port}/v1"))
    assert error.kind == "connection"
    assert f"127.0.0.1:{port}" in error.detail
    assert "refused" in error.detail.lower()


async def test_a_name_that_does_not_resolve() -> None:
    error = await failure(model_for("http://qwen-endpoint.invalid/v1", timeout_s=10))
    assert error.kind == "connection"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http://h:abc/v1", "not a url"])
async def test_urls_that_are_not_http_are_connection_errors(url: str) -> None:
    assert (await failure(model_for(url))).kind == "connection"


async def test_no_answer_is_a_timeout_at_the_deadline() -> None:
    async def silent(request: Seen, peer: Peer) -> bool:
        await peer.disconnected(10)
        return False

    async with RawServer(silent) as server:
        started = time.monotonic()
        error = await failure(model_for(server.url("/v1"), timeout_s=0.5))
        assert error.kind == "timeout"
        assert 0.45 < time.monotonic() - started < 1.5
        assert "endpoint.timeout_s" in error.detail
        await asyncio.wait_for(server.peers[0].gone.wait(), 2)  # and the request is dropped


async def test_a_stalled_answer_is_a_timeout() -> None:
    async with RawServer(endless) as server:
        error = await failure(model_for(server.url("/v1"), timeout_s=0.5))
    assert error.kind == "timeout"
    assert "took longer" in error.detail


async def test_connect_timeout_covers_a_proxy_that_never_answers() -> None:
    async with Proxy(hang=True) as proxy:
        model = model_for("https://127.0.0.1:9/v1", proxy=proxy.url, connect_timeout_s=0.2)
        started = time.monotonic()
        error = await failure(model)
    assert error.kind == "timeout"
    assert "endpoint.connect_timeout_s" in error.detail
    assert time.monotonic() - started < 1.5  # not endpoint.timeout_s (20 s)


@pytest.mark.parametrize(
    "raw",
    [b"HTTP/1.1 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"],
    ids=["no-status", "bad-header"],
)
async def test_an_answer_that_is_not_http_is_a_protocol_error(raw: bytes) -> None:
    async def garbage(request: Seen, peer: Peer) -> bool:
        await peer.send(raw)
        return False

    async with RawServer(garbage) as server:
        assert (await failure(model_for(server.url("/v1")))).kind == "protocol"


@pytest.mark.parametrize(
    "raw", [b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\n", b"HI\n"], ids=["ssh", "short"]
)
async def test_bytes_that_never_become_an_http_answer_say_so(raw: bytes) -> None:
    # A close before a complete response head looks the same to httpx with or without bytes.
    async def garbage(request: Seen, peer: Peer) -> bool:
        await peer.send(raw)
        return False

    async with RawServer(garbage) as server:
        error = await failure(model_for(server.url("/v1")))
    assert error.kind == "connection" and "without an HTTP answer" in error.detail
    assert len(server.requests) == 1  # a fresh connection: not retried


@pytest.mark.parametrize(
    "raw",
    [
        response(200, b"<html><body>Sign in to the Wi-Fi</body></html>"),
        response(200, b""),
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\n1",
    ],
    ids=["html", "empty", "bad-gzip"],
)
async def test_a_200_without_a_stream_in_it_is_a_protocol_error(raw: bytes) -> None:
    async def page(request: Seen, peer: Peer) -> bool:
        await peer.send(raw)
        return False

    async with RawServer(page) as server:
        assert (await failure(model_for(server.url("/v1")))).kind == "protocol"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        # The connection ends before the body does: a server that died mid-answer.
        (CHUNKED_HEAD + chunk(event("a")), "dropped"),  # cut before [DONE] and the last chunk
        (response(200, SSE_OK)[:-4], "dropped"),  # fewer bytes than Content-Length
        # Bytes that are not valid framing: not a server we can talk to.
        (CHUNKED_HEAD + b"zz\r\ndata\r\n", "protocol"),  # not a chunk size
        (CHUNKED_HEAD + b"2\r\nabc\r\n0\r\n\r\n", "protocol"),  # a chunk longer than its size
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n1", "protocol"),
    ],
    ids=["truncated", "short-length", "bad-size", "overlong-chunk", "bad-length"],
)
async def test_a_broken_body_is_a_dropped_answer_or_a_protocol_error(raw: bytes, kind: str) -> None:
    async def broken(request: Seen, peer: Peer) -> bool:
        await peer.send(raw)
        return False

    async with RawServer(broken) as server:
        assert (await failure(model_for(server.url("/v1")))).kind == kind


async def test_an_oversized_json_answer_is_refused() -> None:
    async def big(request: Seen, peer: Peer) -> bool:
        await peer.send(response(200, b'"' + b"x" * 100_000 + b'"'))
        return True

    async with RawServer(big) as server:
        http = HttpClient(EndpointSettings(base_url=server.url("/v1")))
        with pytest.raises(ModelError) as caught:
            await http.get_json(server.url("/v1/models"), timeout=5, max_bytes=1000)
        await http.aclose()
    assert caught.value.kind == "protocol"


# --- what is sent -----------------------------------------------------------------------------


async def test_request_headers_and_json_body() -> None:
    headers = {
        "X-Extra": " 1 ",
        "user-agent": "custom-agent",
        "Host": "evil.example",  # framing headers are ours: these are dropped
        "Content-Length": "5",
    }
    async with RawServer(sse) as server:
        model = model_for(server.url("/v1?a=1"), api_key="sk-1", headers=headers)
        prompt = "é\ud800x"  # a lone surrogate must not break encoding
        assert await complete(model, GenerationRequest(prompt=prompt, max_tokens=7)) == "a + b"
        await model.aclose()
    (seen,) = server.requests
    assert seen.method == "POST" and seen.target == "/v1/completions?a=1"
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"
    assert seen.headers["user-agent"] == "custom-agent"
    assert seen.headers["accept-encoding"] == "identity"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["content-length"] == str(len(seen.body))
    assert seen.headers["authorization"] == "Bearer sk-1"
    assert seen.headers["x-extra"] == "1"
    body = json.loads(seen.body)
    assert (body["prompt"], body["max_tokens"], body["stream"]) == (prompt, 7, True)


async def test_a_header_value_with_a_line_break_is_refused() -> None:
    async with RawServer(sse) as server:
        model = model_for(server.url("/v1"), headers={"X-Evil": "a\r\nInjected: 1"})
        error = await failure(model)
        assert error.kind == "bad_request" and "X-Evil" in error.detail
        assert server.requests == []


def test_base_urls_and_proxies_parse() -> None:
    base = BaseUrl.parse("https://us%40er:p%3Ass@[::1]:8443/openai/v1/?api-version=2")
    assert base.join("/completions") == "https://[::1]:8443/openai/v1/completions?api-version=2"
    assert base.join("/props", on_root=True) == "https://[::1]:8443/openai/props?api-version=2"
    assert (base.username, base.password) == ("us@er", "p:ss")
    assert BaseUrl.parse("http://example.com").join("/models") == "http://example.com/models"
    assert proxy_url("proxy.corp:3128") == "http://proxy.corp:3128"
    assert proxy_url("") is None
    with pytest.raises(ModelError):
        proxy_url("socks5://proxy:1080")


# --- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


async def test_an_untrusted_certificate_is_a_tls_error(tls: Tls) -> None:
    async with RawServer(sse, tls.server) as server:
        error = await failure(model_for(server.url("/v1")))
    assert error.kind == "tls"
    assert "certificate" in error.detail
    assert server.requests == []


async def test_ca_bundle_makes_it_trusted_and_connections_are_reused(tls: Tls) -> None:
    async with RawServer(sse, tls.server) as server:
        model = model_for(server.url("/v1"), ca_bundle=tls.ca_path)
        for _ in range(3):
            assert await complete(model) == "a + b"
        await model.aclose()
    assert server.connections == 1


async def test_verification_off_accepts_any_certificate(tls: Tls) -> None:
    async with RawServer(sse, tls.wrong_name) as server:
        model = model_for(server.url("/v1"), verify_tls=False, ca_bundle="/nonexistent/ca.pem")
        assert await complete(model) == "a + b"
        await model.aclose()


async def test_the_host_name_is_checked(tls: Tls) -> None:
    async with RawServer(sse, tls.wrong_name) as server:
        error = await failure(model_for(server.url("/v1"), ca_bundle=tls.ca_path))
    assert error.kind == "tls"


async def test_a_ca_bundle_that_cannot_be_read_is_a_tls_error(tls: Tls) -> None:
    async with RawServer(sse, tls.server) as server:
        error = await failure(model_for(server.url("/v1"), ca_bundle="/nonexistent/ca.pem"))
    assert error.kind == "tls" and "endpoint.ca_bundle" in error.detail


async def test_plain_http_on_an_https_url_is_a_tls_error() -> None:
    async def plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Answer the ClientHello with plain HTTP, as a misconfigured https:// URL would get.
        writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain_http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        error = await failure(model_for(f"https://127.0.0.1:{port}/v1"))
    finally:
        server.close()
    assert error.kind == "tls"


# --- proxies ----------------------------------------------------------------------------------


async def test_http_goes_through_the_proxy_in_absolute_form() -> None:
    async with RawServer(sse) as server, Proxy() as proxy:
        model = model_for(server.url("/v1?x=1"), proxy=proxy.url)
        for _ in range(2):
            assert await complete(model) == "a + b"
        await model.aclose()
    url = server.url("/v1/completions?x=1")
    assert [(s.method, s.target) for s in proxy.seen] == [("POST", url)] * 2
    assert [r.target for r in server.requests] == ["/v1/completions?x=1"] * 2
    assert proxy.connections == 1  # the second request reused the proxied connection


@pytest.mark.parametrize("auth", ["user:s3cr3t-pw", "us%40er:p%3Ass"], ids=["plain", "encoded"])
async def test_proxy_credentials_are_sent_to_the_proxy_only(auth: str) -> None:
    expected = auth.replace("%40", "@").replace("%3A", ":")
    async with RawServer(sse) as server, Proxy(auth=expected) as proxy:
        with_auth = proxy.url.replace(f"{expected}@", f"{auth}@")
        assert await complete(model_for(server.url("/v1"), proxy=with_auth)) == "a + b"
        without = proxy.url.replace(f"{expected}@", "")
        refused = await failure(model_for(server.url("/v1"), proxy=without))
        tunnel = await failure(
            model_for(server.url("/v1").replace("http:", "https:"), proxy=without)
        )
    assert "proxy-authorization" in proxy.seen[0].headers
    assert all("proxy-authorization" not in r.headers for r in server.requests)
    for error in (refused, tunnel):
        assert error.kind == "connection" and "407" in str(error)
        assert expected.split(":", 1)[1] not in str(error)


async def test_https_goes_through_a_connect_tunnel(tls: Tls) -> None:
    async with RawServer(sse, tls.server) as server, Proxy() as proxy:
        model = model_for(server.url("/v1"), proxy=proxy.url, ca_bundle=tls.ca_path)
        for _ in range(2):
            assert await complete(model) == "a + b"
        await model.aclose()
    assert [(s.method, s.target) for s in proxy.seen] == [("CONNECT", f"127.0.0.1:{server.port}")]
    assert proxy.tunnels == 1  # one tunnel, kept alive for both requests
    assert [r.target for r in server.requests] == ["/v1/completions"] * 2


async def test_a_refused_tunnel_is_a_connection_error() -> None:
    async with Proxy(refuse="403 Forbidden") as proxy:
        error = await failure(model_for("https://127.0.0.1:9/v1", proxy=proxy.url))
    assert error.kind == "connection" and "403" in error.detail


# --- every transport, and the SDK -------------------------------------------------------------


@pytest.mark.parametrize(
    ("flavor", "transport"),
    [("openai", "completions"), ("openai", "chat"), ("llamacpp", "infill"), ("ollama", "ollama")],
)
async def test_the_model_client_reuses_its_connection_after_each_answer(
    flavor: str, transport: TransportName
) -> None:
    async with FakeOpenAI(flavor=flavor, default=Reply(text="a + b", chunk_size=2)) as fake:
        model = ModelClient(EndpointSettings(base_url=fake.base_url, model="m"), transport)
        request = GenerationRequest(prompt="x", prefix="x", suffix="y")
        for _ in range(3):
            assert await model.complete(request) == "a + b"
        await model.aclose()
        assert fake.connections_opened == 1
        assert [r.outcome for r in fake.requests] == ["completed"] * 3


@pytest.mark.parametrize("api_key", ["", "sk-sdk-7"], ids=["no-key", "key"])
async def test_action_chat_goes_through_the_sdk_on_the_same_connection(api_key: str) -> None:
    async with FakeOpenAI(default=Reply(text="def f():\n    return 1\n", chunk_size=3)) as fake:
        model = model_for(fake.base_url, api_key=api_key, headers={"X-Team": "t1"})
        request = GenerationRequest(
            messages=({"role": "user", "content": "x"},), max_tokens=99, purpose="action"
        )
        answers = [await model.answer(request) for _ in range(3)]
        assert await model.list_models() == [
            {
                "id": "qwen2.5-coder-1.5b",
                "created": 1_700_000_000,
                "object": "model",
                "owned_by": "openai",
            }
        ]
        await model.aclose()
        assert fake.connections_opened == 1
    assert [a.text for a in answers] == ["def f():\n    return 1\n"] * 3
    assert answers[0].outcome.finish_reason == "stop" and answers[0].outcome.complete
    chat = fake.requests[0]
    assert chat.path == "/v1/chat/completions"
    assert chat.json["max_tokens"] == 99 and chat.json["stream"] is True
    assert chat.headers["x-team"] == "t1"
    for seen in fake.requests:
        assert seen.headers.get("authorization") == (f"Bearer {api_key}" if api_key else None)


@pytest.mark.parametrize("how", ["break", "cancel"])
async def test_the_model_client_drops_the_connection_when_its_reader_stops(how: str) -> None:
    reply = Reply(chunks=["a + ", "b\n", "more"], hang_after_chunks=2)  # still generating
    async with FakeOpenAI(default=reply) as fake:
        model = ModelClient(EndpointSettings(base_url=fake.base_url, model="m"))
        first = asyncio.Event()

        async def read() -> None:
            async with contextlib.aclosing(model.stream(GenerationRequest(prompt="x"))) as stream:
                async for delta in stream:
                    first.set()
                    if how == "break" and "\n" in delta:
                        break

        task = asyncio.ensure_future(read())
        await first.wait()
        if how == "cancel":
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        (request,) = await fake.wait_for_requests(1)
        await fake.wait_for_outcome(request, "disconnected", timeout=2)
        assert model.active_streams == 0
        await model.aclose()


async def test_an_early_stop_keeps_the_connection_when_the_answer_is_already_all_here() -> None:
    # Nothing to stop at the server: the rest is read (briefly, in the background) and the
    # connection kept, as after a complete answer. (A server still generating: see above.)
    async with RawServer(sse) as server:
        model = model_for(server.url("/v1"))
        for _ in range(3):
            async with contextlib.aclosing(model.stream(REQUEST)) as deltas:
                async for delta in deltas:
                    assert delta == "a + "
                    break
            await asyncio.sleep(0.05)
        await model.aclose()
    assert server.connections == 1
