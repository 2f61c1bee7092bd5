"""The model HTTP client against real servers on 127.0.0.1: framing, streaming, keep-alive,
early stop, stale connections, failures, TLS and proxies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Callable

import pytest

from qwen_lsp.model import http as http_module
from qwen_lsp.model.client import GenerationRequest, ModelClient, TransportName
from qwen_lsp.model.errors import ModelError
from qwen_lsp.model.http import (
    MAX_IDLE_CONNECTIONS,
    Connection,
    HttpClient,
    HttpConfig,
    parse_proxy,
    parse_url,
)
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


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


async def ok(request: Seen, peer: Peer) -> bool:
    await peer.send(response(200, b'{"ok": true}', {"Content-Type": "application/json"}))
    return True


async def read_all_lines(http: HttpClient, url: str, deadline: float | None = None) -> list[str]:
    lines: list[str] = []
    async with http.request("POST", url, json={}, deadline=deadline or soon()) as answer:
        while batch := await answer.read_lines():
            lines += batch
    return lines


async def failure(http: HttpClient, url: str, timeout: float = 5.0) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await http.get(url, timeout=timeout)
    return caught.value


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
    async with RawServer(ok) as server, HttpClient(HttpConfig()) as http:
        for _ in range(5):
            reply = await http.get(server.url("/v1/models"), timeout=5)
            assert reply.status == 200
            assert reply.json() == {"ok": True}
        assert server.connections == 1
        assert http.connections_opened == 1
        assert http.idle_connections == 1


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
    ],
    ids=["connection-close", "http-1.0"],
)
async def test_a_connection_the_server_will_close_is_not_reused(head: bytes) -> None:
    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(head + b"ok")
        return False

    async with RawServer(answer) as server, HttpClient(HttpConfig()) as http:
        for _ in range(3):
            assert (await http.get(server.url(), timeout=5)).content == b"ok"
        assert server.connections == 3
        assert http.idle_connections == 0


async def test_aclose_closes_idle_connections_and_the_pool_is_bounded() -> None:
    async def slow(request: Seen, peer: Peer) -> bool:
        await asyncio.sleep(0.05)  # all requests in flight at once: one connection each
        await peer.send(response(200, b"ok"))
        return True

    async with RawServer(slow) as server:
        http = HttpClient(HttpConfig())
        replies = await asyncio.gather(*(http.get(server.url(), timeout=5) for _ in range(6)))
        assert [r.content for r in replies] == [b"ok"] * 6
        assert server.connections == 6
        assert http.idle_connections == MAX_IDLE_CONNECTIONS
        await http.aclose()
        assert http.idle_connections == 0
        # 2 closed when the pool overflowed, 4 by aclose
        await eventually(lambda: server.ended_by_client == 6)


# --- bodies -----------------------------------------------------------------------------------

LINES = b"line one\nline two\n"
FRAMINGS = {
    "content-length": (response(200, LINES), True),
    "chunked": (CHUNKED_HEAD + chunk(b"line one\nli") + chunk(b"ne two\n") + LAST_CHUNK, True),
    "close-delimited": (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + LINES, False),
}


@pytest.mark.parametrize("framing", FRAMINGS)
async def test_body_framings_read_whole_and_as_lines(framing: str) -> None:
    raw, keep = FRAMINGS[framing]

    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(raw)
        return keep

    async with RawServer(answer) as server, HttpClient(HttpConfig()) as http:
        assert (await http.get(server.url(), timeout=5)).content == LINES
        assert await read_all_lines(http, server.url()) == ["line one", "line two"]
        assert server.connections == (1 if keep else 2)


async def test_a_large_body_is_read_whole_through_flow_control() -> None:
    body = b"".join(b"%06d " % i + b"x" * 993 + b"\n" for i in range(3000))  # 3 MB

    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(response(200, body))
        return True

    async with RawServer(answer) as server, HttpClient(HttpConfig()) as http:
        assert (await http.get(server.url(), timeout=10)).content == body
        lines = await read_all_lines(http, server.url())
        assert len(lines) == 3000 and lines[-1].startswith("002999 ")
        assert server.connections == 1


async def test_lines_arrive_as_they_are_sent() -> None:
    release = asyncio.Event()

    async def stream(request: Seen, peer: Peer) -> bool:
        await peer.send(CHUNKED_HEAD + chunk(b"data: 1\n\n"))
        await release.wait()
        await peer.send(chunk(b"data: 2\n\n") + LAST_CHUNK)
        return True

    async with (
        RawServer(stream) as server,
        HttpClient(HttpConfig()) as http,
        http.request("POST", server.url(), json={}, deadline=soon()) as answer,
    ):
        assert await answer.read_lines() == ["data: 1", ""]
        release.set()
        assert await answer.read_lines() == ["data: 2", ""]
        assert await answer.read_lines() == []
        assert answer.complete


TEXT = "é€😀 naïve 中文 ü"


@pytest.mark.parametrize("step", [1, 2, 3, 5])
async def test_utf8_and_line_ends_cut_between_reads(step: int) -> None:
    payload = f"data: {TEXT}\r\ndata: two\rdata: three\n\ndata: end".encode()

    async def trickle(request: Seen, peer: Peer) -> bool:
        await peer.send(CHUNKED_HEAD)
        for i in range(0, len(payload), step):  # cuts inside characters and inside CRLF
            await peer.send(chunk(payload[i : i + step]), pause=0.001)
        await peer.send(LAST_CHUNK)
        return True

    async with RawServer(trickle) as server, HttpClient(HttpConfig()) as http:
        lines = await read_all_lines(http, server.url())
    assert lines == [f"data: {TEXT}", "data: two", "data: three", "", "data: end"]


# --- early stop and the end of an answer ------------------------------------------------------


async def endless(request: Seen, peer: Peer) -> bool:
    """One event, then nothing until the client leaves (a model still generating)."""
    await peer.send(CHUNKED_HEAD + chunk(b"data: 1\n\n"))
    await peer.disconnected(10)
    return False


@pytest.mark.parametrize("how", ["leave", "exception", "cancel"])
async def test_stopping_early_drops_the_connection_and_the_server_sees_it(how: str) -> None:
    async with RawServer(endless) as server, HttpClient(HttpConfig()) as http:
        got_line = asyncio.Event()

        async def consume() -> None:
            async with http.request("POST", server.url(), json={}, deadline=soon()) as answer:
                assert await answer.read_lines() == ["data: 1", ""]
                got_line.set()
                if how == "leave":
                    return
                if how == "exception":
                    raise ValueError("consumer failed")
                await answer.read_lines()  # waits: cancelled here

        task = asyncio.ensure_future(consume())
        await got_line.wait()
        started = time.monotonic()
        if how == "cancel":
            await asyncio.sleep(0.01)
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.wait_for(server.peers[0].gone.wait(), 2)
        assert time.monotonic() - started < 1.0
        assert http.idle_connections == 0


@pytest.mark.parametrize("terminator_delay", [0.0, 0.05], ids=["buffered", "late"])
async def test_after_the_last_event_the_connection_is_reused(terminator_delay: float) -> None:
    async def sse(request: Seen, peer: Peer) -> bool:
        events = chunk(b"data: x\n\n") + chunk(b"data: [DONE]\n\n")
        await peer.send(CHUNKED_HEAD + events, pause=terminator_delay)
        await peer.send(LAST_CHUNK)
        return True

    async with RawServer(sse) as server, HttpClient(HttpConfig()) as http:
        for _ in range(3):
            async with http.request("POST", server.url(), json={}, deadline=soon()) as answer:
                lines: list[str] = []
                while "data: [DONE]" not in lines:
                    lines += await answer.read_lines()
                answer.end_of_answer()  # stop reading here, as the model client does
            # A late end is read in the background, then the connection is pooled.
            await eventually(lambda: http.idle_connections == 1)
        assert server.connections == 1


async def test_an_end_that_never_comes_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_module, "DRAIN_TIMEOUT_S", 0.1)

    async def no_end(request: Seen, peer: Peer) -> bool:
        await peer.send(CHUNKED_HEAD + chunk(b"data: [DONE]\n\n"))
        await peer.disconnected(10)
        return False

    async with RawServer(no_end) as server, HttpClient(HttpConfig()) as http:
        async with http.request("POST", server.url(), json={}, deadline=soon()) as answer:
            assert await answer.read_lines() == ["data: [DONE]", ""]
            answer.end_of_answer()
        await asyncio.wait_for(server.peers[0].gone.wait(), 2)
        assert http.idle_connections == 0


async def test_a_cancel_that_lands_with_the_next_bytes_is_kept() -> None:
    # The wait for bytes is a future with a timer, not asyncio.wait_for: a cancellation that
    # arrives in the same loop turn as the data must still cancel (cancel-previous relies on it).
    conn = Connection(("http", "h", "80", ""))
    task = asyncio.ensure_future(conn.wait(soon(10), "slow"))
    await asyncio.sleep(0)
    conn.data_received(b"data: {}\n")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- stale connections ------------------------------------------------------------------------


async def test_a_pooled_connection_closed_as_it_is_reused_is_retried_once() -> None:
    async def first_only(request: Seen, peer: Peer) -> bool:
        if peer.requests == 0:
            await peer.send(response(200, b"one"))
            return True
        return False  # closes unanswered, as a server whose idle timeout hit as we sent

    async with RawServer(first_only) as server, HttpClient(HttpConfig()) as http:
        assert (await http.get(server.url(), timeout=5)).content == b"one"
        assert (await http.get(server.url(), timeout=5)).content == b"one"
        assert server.connections == 2
        assert len(server.requests) == 3  # the lost one, then the retry


async def test_a_fresh_connection_closed_unanswered_fails_without_retry() -> None:
    async def close(request: Seen, peer: Peer) -> bool:
        return False

    async with RawServer(close) as server, HttpClient(HttpConfig()) as http:
        error = await failure(http, server.url())
        assert error.kind == "connection"
        assert len(server.requests) == 1


async def test_an_idle_connection_the_server_closed_is_not_used() -> None:
    async def answer_then_close(request: Seen, peer: Peer) -> bool:
        await peer.send(response(200, b"ok"))  # no "Connection: close", but it closes
        return False

    async with RawServer(answer_then_close) as server, HttpClient(HttpConfig()) as http:
        assert (await http.get(server.url(), timeout=5)).content == b"ok"
        await asyncio.sleep(0.05)  # the EOF arrives while the connection is idle
        assert (await http.get(server.url(), timeout=5)).content == b"ok"
        assert len(server.requests) == 2  # nothing sent on the dead connection
        assert server.connections == 2


# --- failures ---------------------------------------------------------------------------------


async def test_connection_refused() -> None:
    port = free_port()
    async with HttpClient(HttpConfig()) as http:
        error = await failure(http, f"http://127.0.0.1:{port}/v1/models")
    assert error.kind == "connection"
    assert f"127.0.0.1:{port}" in error.detail


async def test_a_name_that_does_not_resolve() -> None:
    async with HttpClient(HttpConfig()) as http:
        error = await failure(http, "http://qwen-endpoint.invalid/v1/models", timeout=10)
    assert error.kind == "connection"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http://h:abc/v1", "not a url"])
async def test_urls_that_are_not_http_are_connection_errors(url: str) -> None:
    async with HttpClient(HttpConfig()) as http:
        assert (await failure(http, url)).kind == "connection"


async def test_no_answer_is_a_timeout_at_the_deadline() -> None:
    async def silent(request: Seen, peer: Peer) -> bool:
        await peer.disconnected(10)
        return False

    async with RawServer(silent) as server, HttpClient(HttpConfig()) as http:
        started = time.monotonic()
        error = await failure(http, server.url(), timeout=0.2)
        assert error.kind == "timeout"
        assert 0.15 < time.monotonic() - started < 1.0
        await asyncio.wait_for(server.peers[0].gone.wait(), 2)  # and the request is dropped


async def test_a_stalled_answer_is_a_timeout() -> None:
    async with RawServer(endless) as server, HttpClient(HttpConfig()) as http:
        with pytest.raises(ModelError) as caught:
            await read_all_lines(http, server.url(), deadline=soon(0.2))
        assert caught.value.kind == "timeout"
        assert "took longer" in caught.value.detail


async def test_connect_timeout_covers_a_proxy_that_never_answers() -> None:
    async with Proxy(hang=True) as proxy:
        config = HttpConfig(proxy=proxy.url, connect_timeout_s=0.2)
        async with HttpClient(config) as http:
            error = await failure(http, "https://127.0.0.1:9/v1/models")
    assert error.kind == "timeout"
    assert "endpoint.connect_timeout_s" in error.detail


@pytest.mark.parametrize(
    "raw",
    [
        b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\n",
        b"HI\n",
        b"HTTP/1.1 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    ],
    ids=["ssh", "short", "no-status", "bad-header"],
)
async def test_an_answer_that_is_not_http_is_a_protocol_error(raw: bytes) -> None:
    async def garbage(request: Seen, peer: Peer) -> bool:
        await peer.send(raw)
        return False

    async with RawServer(garbage) as server, HttpClient(HttpConfig()) as http:
        assert (await failure(http, server.url())).kind == "protocol"


@pytest.mark.parametrize(
    "raw",
    [
        CHUNKED_HEAD + chunk(b"data: 1\n\n"),  # cut before the last chunk
        CHUNKED_HEAD + b"zz\r\ndata\r\n",  # not a chunk size
        CHUNKED_HEAD + b"2\r\nabc\r\n0\r\n\r\n",  # a chunk longer than its size
        response(200, b"0123456789")[:-4],  # fewer bytes than Content-Length
        b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n1",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\n1",
    ],
    ids=["truncated", "bad-size", "overlong-chunk", "short-length", "bad-length", "gzip"],
)
async def test_a_broken_body_is_a_protocol_error(raw: bytes) -> None:
    async def broken(request: Seen, peer: Peer) -> bool:
        await peer.send(raw)
        return False

    async with RawServer(broken) as server, HttpClient(HttpConfig()) as http:
        assert (await failure(http, server.url())).kind == "protocol"
        with pytest.raises(ModelError) as caught:
            await read_all_lines(http, server.url())
        assert caught.value.kind == "protocol"


async def test_an_oversized_answer_is_refused() -> None:
    async def big(request: Seen, peer: Peer) -> bool:
        await peer.send(response(200, b"x" * 100_000))
        return True

    async with RawServer(big) as server, HttpClient(HttpConfig()) as http:
        with pytest.raises(ModelError) as caught:
            await http.fetch("GET", server.url(), timeout=5, max_bytes=1000)
        assert caught.value.kind == "protocol"


# --- what is sent -----------------------------------------------------------------------------


async def test_request_headers_and_json_body() -> None:
    headers = {
        "Authorization": "Bearer sk-1",
        "X-Extra": " 1 ",
        "user-agent": "custom-agent",
        "Host": "evil.example",  # framing headers are ours: these are dropped
        "Content-Length": "5",
    }
    async with RawServer(ok) as server, HttpClient(HttpConfig(headers=headers)) as http:
        body = {"prompt": "é\ud800x", "n": 1}  # a lone surrogate must not break encoding
        await http.fetch("POST", server.url("/v1/completions?a=1"), json=body, timeout=5)
        (seen,) = server.requests
    assert seen.method == "POST" and seen.target == "/v1/completions?a=1"
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"
    assert seen.headers["user-agent"] == "custom-agent"
    assert seen.headers["accept-encoding"] == "identity"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["content-length"] == str(len(seen.body))
    assert seen.headers["authorization"] == "Bearer sk-1"
    assert seen.headers["x-extra"] == "1"
    assert json.loads(seen.body) == body


async def test_a_header_value_with_a_line_break_is_refused() -> None:
    config = HttpConfig(headers={"X-Evil": "a\r\nInjected: 1"})
    async with RawServer(ok) as server, HttpClient(config) as http:
        error = await failure(http, server.url())
        assert error.kind == "bad_request" and "X-Evil" in error.detail
        assert server.requests == []


def test_urls_and_proxies_parse() -> None:
    target = parse_url("https://[::1]:8443/v1/models?x=1")
    assert (target.host, target.port, target.path) == ("::1", 8443, "/v1/models?x=1")
    assert target.host_header == "[::1]:8443"
    assert parse_url("http://example.com/v1").host_header == "example.com"
    assert parse_url("http://example.com").path == "/"
    proxy = parse_proxy("http://us%40er:p%3Ass@proxy.corp:3128")
    assert proxy is not None and proxy.where == "proxy.corp:3128"
    assert proxy.authorization == "Basic dXNAZXI6cDpzcw=="  # base64 of us@er:p:ss
    assert parse_proxy("") is None
    with pytest.raises(ModelError):
        parse_proxy("socks5://proxy:1080")


# --- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


async def test_an_untrusted_certificate_is_a_tls_error(tls: Tls) -> None:
    async with RawServer(ok, tls.server) as server, HttpClient(HttpConfig()) as http:
        error = await failure(http, server.url())
    assert error.kind == "tls"
    assert "certificate" in error.detail


async def test_ca_bundle_makes_it_trusted_and_connections_are_reused(tls: Tls) -> None:
    config = HttpConfig(ca_bundle=tls.ca_path)
    async with RawServer(ok, tls.server) as server, HttpClient(config) as http:
        for _ in range(3):
            assert (await http.get(server.url(), timeout=5)).json() == {"ok": True}
        assert server.connections == 1


async def test_verification_off_accepts_any_certificate(tls: Tls) -> None:
    config = HttpConfig(verify_tls=False, ca_bundle="/nonexistent/ca.pem")
    async with RawServer(ok, tls.wrong_name) as server, HttpClient(config) as http:
        assert (await http.get(server.url(), timeout=5)).status == 200


async def test_the_host_name_is_checked(tls: Tls) -> None:
    config = HttpConfig(ca_bundle=tls.ca_path)
    async with RawServer(ok, tls.wrong_name) as server, HttpClient(config) as http:
        error = await failure(http, server.url())
    assert error.kind == "tls"


async def test_a_ca_bundle_that_cannot_be_read_is_a_tls_error(tls: Tls) -> None:
    config = HttpConfig(ca_bundle="/nonexistent/ca.pem")
    async with RawServer(ok, tls.server) as server, HttpClient(config) as http:
        error = await failure(http, server.url())
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
        async with HttpClient(HttpConfig()) as http:
            error = await failure(http, f"https://127.0.0.1:{port}/v1/models")
    finally:
        server.close()
    assert error.kind == "tls"


# --- proxies ----------------------------------------------------------------------------------


async def test_http_goes_through_the_proxy_in_absolute_form() -> None:
    async with (
        RawServer(ok) as server,
        Proxy() as proxy,
        HttpClient(HttpConfig(proxy=proxy.url)) as http,
    ):
        url = server.url("/v1/models?x=1")
        for _ in range(2):
            assert (await http.get(url, timeout=5)).status == 200
    assert [(s.method, s.target) for s in proxy.seen] == [("GET", url)] * 2
    assert [r.target for r in server.requests] == ["/v1/models?x=1"] * 2
    assert proxy.connections == 1  # the second request reused the proxied connection


async def test_proxy_credentials_are_sent_to_the_proxy_only() -> None:
    async with RawServer(ok) as server, Proxy(auth="user:secret") as proxy:
        async with HttpClient(HttpConfig(proxy=proxy.url)) as http:
            assert (await http.get(server.url(), timeout=5)).status == 200
        without = proxy.url.replace("user:secret@", "")
        async with HttpClient(HttpConfig(proxy=without)) as http:
            assert (await http.get(server.url(), timeout=5)).status == 407
            error = await failure(http, server.url().replace("http://", "https://"))
    assert "proxy-authorization" in proxy.seen[0].headers
    assert all("proxy-authorization" not in r.headers for r in server.requests)
    assert error.kind == "connection" and "407" in error.detail
    assert "secret" not in error.detail


async def test_https_goes_through_a_connect_tunnel(tls: Tls) -> None:
    async with RawServer(ok, tls.server) as server, Proxy() as proxy:
        config = HttpConfig(proxy=proxy.url, ca_bundle=tls.ca_path)
        async with HttpClient(config) as http:
            for _ in range(2):
                assert (await http.get(server.url("/v1/models"), timeout=5)).status == 200
    assert [(s.method, s.target) for s in proxy.seen] == [("CONNECT", f"127.0.0.1:{server.port}")]
    assert proxy.tunnels == 1  # one tunnel, kept alive for both requests
    assert [r.target for r in server.requests] == ["/v1/models"] * 2


async def test_a_refused_tunnel_is_a_connection_error() -> None:
    async with (
        Proxy(refuse="403 Forbidden") as proxy,
        HttpClient(HttpConfig(proxy=proxy.url)) as http,
    ):
        error = await failure(http, "https://127.0.0.1:9/v1/models")
    assert error.kind == "connection" and "403" in error.detail


# --- through the model client -----------------------------------------------------------------


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
        assert model.http.idle_connections == 1
        await model.aclose()
        assert fake.connections_opened == 1
        assert [r.outcome for r in fake.requests] == ["completed"] * 3


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
        assert model.http.idle_connections == 0
        assert model.active_streams == 0
        await model.aclose()
