"""Real servers on 127.0.0.1 for the HTTP client's tests: a scriptable raw HTTP/1.1 server
(plain or TLS) and a forward proxy (absolute-form http requests and CONNECT tunnels).

    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
        return True  # keep the connection for the next request

    async with RawServer(answer) as server, Proxy() as proxy:
        ...  # server.url("/v1/models"), proxy.url; server.connections, proxy.seen

Handlers write the bytes themselves, so framing, pauses, cut-offs and garbage are exact; each
counts accepted connections and notes clients that went away while a handler waited for it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import trustme

MAX_HEAD = 64 * 1024


@dataclass
class Seen:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    connection: int


class Peer:
    """The server's side of one client connection, as a handler uses it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cid: int):
        self.reader, self.writer, self.id = reader, writer, cid
        self.requests = 0  # answered so far on this connection
        self.gone = asyncio.Event()  # set when ``disconnected`` saw the client leave

    async def send(self, data: bytes, pause: float = 0.0) -> None:
        """Write and flush (then sleep ``pause`` so the client reads it as a separate piece)."""
        self.writer.write(data)
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()
        if pause:
            await asyncio.sleep(pause)

    async def disconnected(self, timeout: float = 5.0) -> bool:
        """True once the client closes its side (EOF or reset) within ``timeout``."""
        try:
            gone = await asyncio.wait_for(self.reader.read(1), timeout) == b""
        except ConnectionError:
            gone = True
        except asyncio.TimeoutError:
            gone = False
        if gone:
            self.gone.set()
        return gone

    def close(self) -> None:
        self.writer.close()


Handler = Callable[[Seen, Peer], Awaitable[bool]]


async def read_request(reader: asyncio.StreamReader, cid: int) -> Seen | None:
    """One request (head and Content-Length body); None at a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    line, *fields = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, _ = line.split(" ", 2)
    headers: dict[str, str] = {}
    for field_line in fields:
        name, _, value = field_line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length") or 0))
    return Seen(method, target, headers, body, cid)


class Listener:
    """A server on an ephemeral port of 127.0.0.1; ``_serve`` handles each connection."""

    ssl_context: ssl.SSLContext | None = None

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self: L) -> L:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


L = TypeVar("L", bound=Listener)


class RawServer(Listener):
    """Accepts connections and hands every request to ``handler`` (keep-alive while it says)."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None):
        super().__init__()
        self.handler = handler
        self.ssl_context = ssl_context
        self.connections = 0
        self.ended_by_client = 0  # connections the client closed between requests
        self.peers: list[Peer] = []
        self.requests: list[Seen] = []

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        peer = Peer(reader, writer, self.connections)
        self.peers.append(peer)
        try:
            while (request := await read_request(reader, peer.id)) is not None:
                self.requests.append(request)
                keep = await self.handler(request, peer)
                peer.requests += 1
                if not keep:
                    break
            else:
                self.ended_by_client += 1
        except (ConnectionError, asyncio.CancelledError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


def response(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    """A Content-Length response."""
    fields = {"Content-Length": str(len(body)), **(headers or {})}
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return head.encode() + b"\r\n" + body


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)
LAST_CHUNK = b"0\r\n\r\n"


@dataclass
class Tls:
    """A test CA (its PEM file for ``ca_bundle``) and server contexts with certificates from it."""

    ca_path: str
    server: ssl.SSLContext  # for 127.0.0.1 and localhost
    wrong_name: ssl.SSLContext  # for another host name


def make_tls(directory: Path) -> Tls:
    ca = trustme.CA()
    path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(path))

    def server_context(*names: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)
        return context

    return Tls(str(path), server_context("127.0.0.1", "localhost"), server_context("other.test"))


class Proxy(Listener):
    """A forward proxy: ``GET http://host/...`` is passed on in origin form, ``CONNECT`` opens a
    tunnel. With ``auth`` ("user:pass") it answers 407 to requests without those credentials.
    ``refuse`` answers every CONNECT with that status line instead."""

    def __init__(self, auth: str = "", refuse: str = "", hang: bool = False):
        super().__init__()
        self.auth = auth
        self.refuse = refuse
        self.hang = hang
        self.seen: list[Seen] = []  # what clients sent to the proxy itself
        self.connections = 0
        self.tunnels = 0

    @property
    def url(self) -> str:
        credentials = f"{self.auth}@" if self.auth else ""
        return f"http://{credentials}127.0.0.1:{self.port}"

    def _authorized(self, request: Seen) -> bool:
        if not self.auth:
            return True
        expected = "Basic " + base64.b64encode(self.auth.encode()).decode()
        return request.headers.get("proxy-authorization") == expected

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            request = await read_request(reader, 0)
            if request is None:
                return
            self.seen.append(request)
            if self.hang:
                await reader.read()
                return
            if not self._authorized(request):
                writer.write(response(407, b"who are you", {"Proxy-Authenticate": "Basic"}))
                await writer.drain()
                return
            if request.method == "CONNECT":
                await self._tunnel(request, reader, writer)
            else:
                await self._forward(request, reader, writer)
        except (ConnectionError, asyncio.CancelledError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _tunnel(
        self, request: Seen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self.refuse:
            writer.write(f"HTTP/1.1 {self.refuse}\r\nContent-Length: 0\r\n\r\n".encode())
            await writer.drain()
            return
        host, _, port = request.target.rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        self.tunnels += 1
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await _pipe_both(reader, writer, up_reader, up_writer)

    async def _forward(
        self, request: Seen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Absolute-form requests, one after another on this connection, each passed on in
        origin form over one upstream connection; responses relayed back as they come."""
        scheme, _, rest = request.target.partition("://")
        assert scheme == "http", request.target
        host, _, port = rest.partition("/")[0].rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port or 80))
        try:
            while True:
                _, _, rest = request.target.partition("://")
                path = "/" + rest.partition("/")[2]
                fields = [
                    f"{k}: {v}" for k, v in request.headers.items() if k != "proxy-authorization"
                ]
                head = f"{request.method} {path} HTTP/1.1\r\n" + "\r\n".join(fields) + "\r\n\r\n"
                up_writer.write(head.encode() + request.body)
                if not await _relay_response(up_reader, writer):
                    return
                next_request = await read_request(reader, 0)
                if next_request is None:
                    return
                self.seen.append(next_request)
                request = next_request
        finally:
            up_writer.close()


async def _relay_response(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Copy one response (Content-Length, chunked or to EOF); False when the connection ends."""
    head = await reader.readuntil(b"\r\n\r\n")
    writer.write(head)
    lowered = head.decode("latin-1").lower()
    if "transfer-encoding: chunked" in lowered:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            writer.write(size_line)
            size = int(size_line.split(b";")[0], 16)
            writer.write(await reader.readexactly(size + 2))
            if size == 0:
                break
    elif "content-length:" in lowered:
        length = int(lowered.split("content-length:")[1].split("\r\n")[0])
        writer.write(await reader.readexactly(length))
    else:
        while data := await reader.read(65536):
            writer.write(data)
        await writer.drain()
        return False
    await writer.drain()
    return "connection: close" not in lowered


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until one side closes, then close both."""
    tasks = [
        asyncio.ensure_future(_pipe(reader, up_writer)),
        asyncio.ensure_future(_pipe(up_reader, writer)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        up_writer.close()
        writer.close()
