"""A small asyncio HTTP/1.1 client for the model endpoint.

Why our own: the model call sits on the path of every keystroke, and a general-purpose client
costs milliseconds per request where a raw socket costs a fraction of one. What it does:

- POST a JSON body or GET; the status, case-insensitive headers, and the body read whole or as
  text lines as bytes arrive (SSE / NDJSON). Content-Length, chunked and close-delimited bodies.
- Keep-alive: a connection goes back to a small pool only when its response was read to the end
  and the server did not say ``Connection: close``. A pooled connection the server closed
  meanwhile is retried once on a fresh one (the server never saw the request).
- Early stop: leaving the ``request`` block before the body ended aborts the socket at once, so
  the model server sees the disconnect and stops generating.
- TLS with the system trust store plus ``ca_bundle``, or no verification; an ``http://`` proxy,
  in absolute form for http targets and through ``CONNECT`` for https ones. Environment proxy
  variables are never read: the AI traffic uses only the proxy configured for it.
- Every failure is a ``ModelError`` (connection, tls, timeout, protocol); waits use the caller's
  deadline, one timer per wait for bytes rather than per line.
"""

from __future__ import annotations

import asyncio
import base64
import json as jsonlib
import logging
import os
import socket
import ssl
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from .errors import ModelError

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_HEAD_BYTES = 64 * 1024
MAX_CHUNK_LINE_BYTES = 4096
MAX_LINE_BYTES = 16 * 1024 * 1024  # one SSE/NDJSON line; past it the answer is not ours
READ_HIGH_WATER = 256 * 1024  # stop reading the socket while this much waits unconsumed
READ_LOW_WATER = 64 * 1024
MAX_IDLE_CONNECTIONS = 4
MAX_IDLE_SECONDS = 60.0  # older idle connections may have been dropped silently by a middlebox
DRAIN_TIMEOUT_S = 2.0  # waiting for the end of a body whose answer is already complete
DRAIN_MAX_BYTES = 64 * 1024
JSON_ENCODER = jsonlib.JSONEncoder(separators=(",", ":"))  # ASCII: lone surrogates stay valid
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-type", "te"}
)


# --- time limits -----------------------------------------------------------------------------


async def within(awaitable: Awaitable[T], seconds: float, timeout_message: str) -> T:
    """Await with a time limit; past it raise ModelError("timeout", timeout_message).

    Not ``asyncio.wait_for``: before Python 3.12 it swallows a cancellation that lands in the
    loop turn in which the awaited result arrives, and the cancelled stream then ran to its end
    (against llama.cpp at ~4 ms a token, about one cancel in five was lost).
    """
    if sys.version_info >= (3, 11):
        try:
            async with asyncio.timeout(seconds):
                return await awaitable
        except TimeoutError:
            raise ModelError("timeout", timeout_message) from None
    task, expired = asyncio.current_task(), False  # pragma: no cover - Python 3.10 only

    def expire() -> None:  # pragma: no cover
        nonlocal expired
        expired = True
        if task is not None:
            task.cancel()

    handle = asyncio.get_running_loop().call_later(seconds, expire)  # pragma: no cover
    try:  # pragma: no cover
        return await awaitable
    except asyncio.CancelledError:  # pragma: no cover
        if expired:
            raise ModelError("timeout", timeout_message) from None
        raise
    finally:  # pragma: no cover
        handle.cancel()


# --- URLs, proxies, headers ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a request goes: scheme, host, port and the origin-form path (with its query)."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def authority(self) -> str:
        """host:port as written in a URL, a Host header or a CONNECT line."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def host_header(self) -> str:
        default = {"http": 80, "https": 443}[self.scheme]
        return self.authority if self.port != default else self.authority.rsplit(":", 1)[0]

    def absolute(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.path}"


def parse_url(url: str) -> Target:
    """An http(s) URL → Target; ModelError("connection") for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ModelError("connection", f"invalid URL {url!r}: {exc}") from None
    try:
        port = parts.port
    except ValueError:
        raise ModelError("connection", f"invalid port in URL {url!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ModelError("connection", f"not an http(s) URL: {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, parts.hostname, port or (443 if scheme == "https" else 80), path)


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    authorization: str = ""  # "Basic ..." when the proxy URL carries user:password

    @property
    def where(self) -> str:  # never the credentials: this goes into messages
        return f"{self.host}:{self.port}"


def parse_proxy(url: str) -> Proxy | None:
    """``http://[user:pass@]host:port`` → Proxy; None for an empty setting."""
    if not url:
        return None
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError:
        raise ModelError("connection", "endpoint.proxy is not a valid URL") from None
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ModelError("connection", "endpoint.proxy must be an http://host:port URL")
    authorization = ""
    if parts.username is not None:
        user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(user_pass.encode()).decode("ascii")
    return Proxy(parts.hostname, port or 80, authorization)


class Headers(Mapping[str, str]):
    """Response headers, looked up case-insensitively; repeated fields joined with ", "."""

    def __init__(self, fields: list[tuple[str, str]]):
        self.fields = fields
        self._map: dict[str, str] = {}
        for name, value in fields:
            key = name.lower()
            self._map[key] = f"{self._map[key]}, {value}" if key in self._map else value

    def __getitem__(self, name: str) -> str:
        return self._map[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def get(self, name: str, default: Any = None) -> Any:
        return self._map.get(name.lower(), default)

    def tokens(self, name: str) -> set[str]:
        """The comma-separated, lower-cased values of a header (Connection, Transfer-Encoding)."""
        return {t.strip().lower() for t in self._map.get(name.lower(), "").split(",") if t}


def header_block(defaults: dict[str, str], custom: dict[str, str]) -> str:
    """Fixed request header lines: ``custom`` overrides ``defaults`` whatever the case.

    Framing headers are ours to send. A value with a line break would smuggle another header
    (or request) into the stream: refused with an error naming only the header.
    """
    merged: dict[str, tuple[str, str]] = {}
    for name, value in [*defaults.items(), *custom.items()]:
        name, value = name.strip(), str(value).strip()
        if name.lower() in RESERVED_HEADERS:
            continue
        if not name or any(c in name for c in ":\r\n\0 \t") or any(c in value for c in "\r\n\0"):
            raise ModelError("bad_request", f"endpoint.headers: invalid header {name[:40]!r}")
        merged[name.lower()] = (name, value)
    return "".join(f"{name}: {value}\r\n" for name, value in merged.values())


# --- one connection --------------------------------------------------------------------------


class _StaleConnection(Exception):
    """The server closed the connection before sending a single byte of the response."""


class Connection(asyncio.Protocol):
    """One socket: the bytes received and not yet consumed, its EOF state, and deadline waits.

    A protocol rather than asyncio streams: one object for plain and TLS sockets on every
    Python version (``loop.start_tls`` swaps the transport under it), and waits that end with
    a timer setting a result instead of a cancellation (nothing to swallow, nothing to leak).
    """

    def __init__(self, key: tuple[str, ...]):
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False  # EOF or connection lost: no more bytes will come
        self.error: BaseException | None = None
        self.idle_since = 0.0
        self._waiter: asyncio.Future[bool] | None = None
        self._write_paused = False
        self._read_paused = False

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > READ_HIGH_WATER and not self._read_paused and self.transport:
            self._read_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = self.error or exc
        self._wake()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    # used by the client

    @property
    def usable(self) -> bool:
        """Idle and healthy: no EOF seen, nothing unexpected received, transport open."""
        transport = self.transport
        return (
            not self.closed
            and not self.buffer
            and transport is not None
            and (not transport.is_closing())
        )

    def consumed(self) -> None:
        """Call after taking bytes from ``buffer``: resumes a paused socket once drained."""
        if self._read_paused and len(self.buffer) < READ_LOW_WATER and self.transport:
            self._read_paused = False
            self.transport.resume_reading()

    async def wait(self, deadline: float, timeout_message: str) -> None:
        """Until something happens (bytes, EOF, writable again); a timeout past the deadline."""
        if self.closed:
            return
        self.consumed()
        loop = asyncio.get_running_loop()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ModelError("timeout", timeout_message)
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(remaining, _expire, waiter)
        try:
            woken = await waiter
        finally:
            timer.cancel()
            self._waiter = None
        if not woken:
            raise ModelError("timeout", timeout_message)

    def write(self, data: bytes) -> None:
        if self.transport is None or self.closed or self.transport.is_closing():
            raise _StaleConnection
        self.transport.write(data)

    async def drain(self, deadline: float, timeout_message: str) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        while self._write_paused and not self.closed:
            await self.wait(deadline, timeout_message)

    def abort(self) -> None:
        """Drop the socket now (no flush): the peer sees the disconnect at once."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


def _describe(exc: BaseException) -> str:
    """An OS or TLS error in a few words ("Connection refused", the certificate problem)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    if isinstance(exc, ssl.SSLError):
        return str(exc)
    if isinstance(exc, socket.gaierror) and exc.strerror:
        return exc.strerror
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


# --- reading a response ----------------------------------------------------------------------


def _split_head(buffer: bytearray) -> bytes | None:
    """Remove and return one complete head (status line + headers) from the buffer, if any."""
    crlf, lf = buffer.find(b"\r\n\r\n"), buffer.find(b"\n\n")
    ends = [(at, n) for at, n in ((crlf, 4), (lf, 2)) if at >= 0]
    if not ends:
        return None
    at, n = min(ends)
    head = bytes(buffer[:at])
    del buffer[: at + n]
    return head


def _parse_head(head: bytes) -> tuple[str, int, str, Headers]:
    lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
    try:
        version, status_text, *reason = lines[0].split(" ", 2)
        status = int(status_text)
    except ValueError:
        raise ModelError("protocol", f"bad HTTP status line {lines[0][:80]!r}") from None
    if not version.startswith("HTTP/1.") or not 100 <= status <= 999:
        raise ModelError("protocol", f"bad HTTP status line {lines[0][:80]!r}")
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and fields:  # obsolete line folding
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ModelError("protocol", f"bad HTTP header line {line[:80]!r}")
        fields.append((name.strip(), value.strip()))
    return version, status, reason[0] if reason else "", Headers(fields)


async def read_head(
    conn: Connection, deadline: float, timeout_message: str
) -> tuple[str, int, str, Headers]:
    """The next final response head on the connection (1xx interim answers skipped)."""
    while True:
        buffer = conn.buffer
        if len(buffer) >= 5 and not buffer.startswith(b"HTTP/"):
            raise ModelError("protocol", f"the answer is not HTTP: {bytes(buffer[:60])!r}")
        head = _split_head(buffer)
        if head is not None:
            version, status, reason, headers = _parse_head(head)
            if 100 <= status < 200 and status != 101:
                continue
            return version, status, reason, headers
        if len(buffer) > MAX_HEAD_BYTES:
            raise ModelError("protocol", "the response head is larger than 64 KB")
        if conn.closed:
            if not buffer:
                raise _StaleConnection
            raise ModelError("protocol", f"the connection closed mid-head: {bytes(buffer[:60])!r}")
        await conn.wait(deadline, timeout_message)


class Body:
    """The framing of one response body: Content-Length, chunked, close-delimited or none."""

    def __init__(self, conn: Connection, mode: str, length: int = 0):
        self.conn = conn
        self.mode = mode  # "length" | "chunked" | "close" | "none"
        self.left = length  # bytes left in the body ("length") or the current chunk
        self.state = "size"  # chunked: size | data | crlf | trailer
        self.done = mode == "none" or (mode == "length" and length == 0)

    def take(self) -> bytearray | None:
        """Body bytes already received (b"" once the body ended), or None: more must come."""
        if self.done:
            return bytearray()
        buffer = self.conn.buffer
        if self.mode == "chunked":
            return self._take_chunked(buffer)
        if not buffer:
            return None
        if self.mode == "close" or len(buffer) <= self.left:
            data = buffer[:]
            buffer.clear()
        else:
            data = buffer[: self.left]
            del buffer[: self.left]
        if self.mode == "length":
            self.left -= len(data)
            self.done = self.left == 0
        return data

    def _take_chunked(self, buffer: bytearray) -> bytearray | None:
        while True:
            if self.state == "data":
                if not buffer:
                    return None
                data = buffer[: self.left]
                del buffer[: len(data)]
                self.left -= len(data)
                if self.left == 0:
                    self.state = "crlf"
                return data
            line = _take_line(buffer)
            if line is None:
                return None
            if self.state == "crlf":
                if line:
                    raise ModelError("protocol", "a chunk of the answer is longer than its size")
                self.state = "size"
            elif self.state == "size":
                self.left = _chunk_size(line)
                self.state = "data" if self.left else "trailer"
            elif not line:  # the blank line after the (ignored) trailer fields
                self.done = True
                return bytearray()

    async def receive(self, deadline: float, timeout_message: str) -> bytearray:
        """Everything received so far (waiting for at least one byte); b"" at the end."""
        while True:
            parts: list[bytearray] = []
            piece = self.take()
            while piece:
                parts.append(piece)
                piece = self.take()
            self.conn.consumed()
            if parts:
                return parts[0] if len(parts) == 1 else bytearray().join(parts)
            if piece is not None:
                return piece  # the end
            if self.conn.closed:
                if self.mode == "close" and self.conn.error is None:
                    self.done = True
                    return bytearray()
                reason = f" ({_describe(self.conn.error)})" if self.conn.error else ""
                raise ModelError("protocol", f"connection broke mid-answer{reason}")
            await self.conn.wait(deadline, timeout_message)


def _take_line(buffer: bytearray) -> bytes | None:
    at = buffer.find(b"\n")
    if at < 0:
        if len(buffer) > MAX_CHUNK_LINE_BYTES:
            raise ModelError("protocol", "bad chunked encoding: no line end")
        return None
    line = bytes(buffer[:at]).rstrip(b"\r")
    del buffer[: at + 1]
    return line


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip()
    try:
        size = int(text, 16)
    except ValueError:
        raise ModelError("protocol", f"bad chunk size {text[:20]!r}") from None
    if size < 0:
        raise ModelError("protocol", f"bad chunk size {text[:20]!r}")
    return size


def body_framing(conn: Connection, method: str, status: int, headers: Headers) -> Body:
    """How the body of this response is delimited (RFC 9112 section 6.3)."""
    if method == "HEAD" or status < 200 or status in (204, 304):
        return Body(conn, "none")
    encodings = [t.strip().lower() for t in headers.get("transfer-encoding", "").split(",")]
    if encodings != [""]:
        return Body(conn, "chunked" if encodings[-1] == "chunked" else "close")
    if "content-length" in headers:
        values = {v.strip() for v in headers["content-length"].split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            raise ModelError("protocol", f"bad Content-Length {headers['content-length'][:40]!r}")
        return Body(conn, "length", int(values.pop()))
    return Body(conn, "close")


def _strip_eol(line: bytes | bytearray) -> bytes | bytearray:
    if line.endswith(b"\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith((b"\n", b"\r")) else line


class Response:
    """Status, headers and a body to read once: whole (``read``) or as lines (``lines``)."""

    def __init__(
        self,
        conn: Connection,
        version: str,
        status: int,
        reason: str,
        headers: Headers,
        body: Body,
        deadline: float,
        timeout_message: str,
    ):
        self.conn = conn
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.deadline = deadline
        self.timeout_message = timeout_message
        tokens = headers.tokens("connection")
        self.keep_alive = body.mode != "close" and (
            "keep-alive" in tokens if version == "HTTP/1.0" else "close" not in tokens
        )
        self.drain_later = False
        self._rest: bytes | bytearray = b""  # an unfinished line
        self._after_cr = False  # the last read ended in CR: a LF opening the next is its end

    @property
    def complete(self) -> bool:
        return self.body.done

    @property
    def reusable(self) -> bool:
        return self.keep_alive and self.body.done and self.conn.usable

    async def read(self, max_bytes: int = 16 << 20, deadline: float | None = None) -> bytes:
        """The body; reading stops once ``max_bytes`` are in (then ``complete`` may be False
        and the result a little longer than ``max_bytes``)."""
        parts: list[bytes] = []
        size = 0
        while size < max_bytes:
            piece = await self.body.receive(deadline or self.deadline, self.timeout_message)
            if not piece:
                break
            parts.append(piece)
            size += len(piece)
        return b"".join(parts)

    async def read_lines(self) -> list[str]:
        """The next text lines, without their ends (LF, CRLF or CR): all those whose end has
        arrived, waiting for at least one; [] once the body has ended.

        Lines are split on bytes before decoding, so a UTF-8 character cut between two
        network reads is decoded whole. One wait per socket read, not one per line.
        """
        while True:
            data: bytes | bytearray = await self.body.receive(self.deadline, self.timeout_message)
            if not data:
                rest, self._rest = self._rest, b""
                return [rest.decode("utf-8", "replace")] if rest else []
            if self._after_cr and data.startswith(b"\n"):
                data = data[1:]  # the LF of a CRLF cut between two reads
            if self._rest:
                data = self._rest + data
            lines = data.splitlines(keepends=True)
            self._rest, self._after_cr = b"", False
            if lines and not lines[-1].endswith((b"\n", b"\r")):
                self._rest = lines.pop()
                if len(self._rest) > MAX_LINE_BYTES:
                    raise ModelError("protocol", "a line of the answer is longer than 16 MB")
            elif lines:
                self._after_cr = lines[-1].endswith(b"\r")
            if lines:
                return [_strip_eol(line).decode("utf-8", "replace") for line in lines]

    async def lines(self) -> AsyncIterator[str]:
        """``read_lines`` one line at a time."""
        while batch := await self.read_lines():
            for line in batch:
                yield line

    def end_of_answer(self) -> None:
        """The caller has all it wants (``[DONE]``, a final payload): read on to the body's
        real end so the connection can be reused — now if that end is already buffered,
        else in the background when the request block exits."""
        piece = self.body.take()
        while piece:
            piece = self.body.take()
        self.conn.consumed()
        self.drain_later = not self.body.done

    async def drain(self) -> None:
        """Read the rest of the body for nothing, briefly and boundedly (then reusable)."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        size = 0
        while size <= DRAIN_MAX_BYTES:
            piece = await self.body.receive(deadline, "drain")
            if not piece:
                return
            size += len(piece)


# --- the client ------------------------------------------------------------------------------


@dataclass
class HttpConfig:
    connect_timeout_s: float = 3.0
    verify_tls: bool = True
    ca_bundle: str = ""
    proxy: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request


@dataclass
class FullResponse:
    status: int
    headers: Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class HttpClient:
    """Requests to one endpoint's servers over pooled keep-alive connections."""

    def __init__(self, config: HttpConfig):
        self.config = config
        defaults = {"User-Agent": "qwen-lsp", "Accept": "*/*", "Accept-Encoding": "identity"}
        self._fixed_headers = ""
        try:
            self._fixed_headers = header_block(defaults, config.headers)
            self._config_error: ModelError | None = None
            self._proxy = parse_proxy(config.proxy)
        except ModelError as error:  # reported on the first request, not at start-up
            self._config_error, self._proxy = error, None
        self._ssl: ssl.SSLContext | None = None
        self._idle: list[Connection] = []
        self._draining: set[asyncio.Task[None]] = set()
        self._closed = False
        self.connections_opened = 0

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close idle connections and stop background drains (requests in flight finish)."""
        self._closed = True
        for conn in self._idle:
            conn.close()
        self._idle.clear()
        for task in list(self._draining):
            task.cancel()
        if self._draining:
            await asyncio.gather(*self._draining, return_exceptions=True)

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        deadline: float,
        limit_name: str = "the time limit",
    ) -> RequestContext:
        """``async with client.request(...) as response``: leaving the block early aborts."""
        return RequestContext(self, method, url, json, deadline, limit_name)

    async def fetch(
        self, method: str, url: str, *, json: Any = None, timeout: float, max_bytes: int = 16 << 20
    ) -> FullResponse:
        """One request read whole (model lists, probes)."""
        deadline = time.monotonic() + timeout
        async with self.request(
            method, url, json=json, deadline=deadline, limit_name=f"{timeout:g} s"
        ) as response:
            content = await response.read(max_bytes)
            if len(content) > max_bytes or not response.complete:
                raise ModelError("protocol", f"the answer is larger than {max_bytes} bytes")
            return FullResponse(response.status, response.headers, content)

    async def get(self, url: str, *, timeout: float) -> FullResponse:
        return await self.fetch("GET", url, timeout=timeout)

    # sending

    def _head(self, method: str, target: Target, length: int | None) -> bytes:
        proxied = self._proxy is not None and target.scheme == "http"
        lines = [
            f"{method} {target.absolute() if proxied else target.path} HTTP/1.1\r\n",
            f"Host: {target.host_header}\r\n",
            self._fixed_headers,
        ]
        if proxied and self._proxy and self._proxy.authorization:
            lines.append(f"Proxy-Authorization: {self._proxy.authorization}\r\n")
        if length is not None:
            lines.append(f"Content-Type: application/json\r\nContent-Length: {length}\r\n")
        lines.append("\r\n")
        return "".join(lines).encode("utf-8")

    async def send(
        self, method: str, url: str, json: Any, deadline: float, limit_name: str
    ) -> Response:
        """Send one request and read its head; the caller must ``release`` the response."""
        if self._config_error is not None:
            raise self._config_error
        target = parse_url(url)
        payload = None if json is None else JSON_ENCODER.encode(json).encode()
        data = self._head(method, target, None if payload is None else len(payload))
        if payload is not None:
            data += payload
        message = f"no answer from the endpoint within {limit_name}"
        key = (target.scheme, target.host, str(target.port), self.config.proxy)
        conn = self._take_idle(key)
        if conn is not None:
            try:
                return await self._exchange(conn, method, data, deadline, message, limit_name)
            except _StaleConnection:
                log.debug("pooled connection to %s was closed by the server; retrying", key[1])
        conn = await self._connect(target, key, deadline, message)
        try:
            return await self._exchange(conn, method, data, deadline, message, limit_name)
        except _StaleConnection:
            raise ModelError(
                "connection", f"{target.authority} closed the connection without answering"
            ) from None

    async def _exchange(
        self,
        conn: Connection,
        method: str,
        data: bytes,
        deadline: float,
        message: str,
        limit_name: str,
    ) -> Response:
        try:
            conn.write(data)
            await conn.drain(deadline, message)
            version, status, reason, headers = await read_head(conn, deadline, message)
            encoding = headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise ModelError("protocol", f"the answer is compressed ({encoding})")
            body = body_framing(conn, method, status, headers)
        except BaseException:
            conn.abort()
            raise
        answer_message = f"the answer took longer than {limit_name}"
        return Response(conn, version, status, reason, headers, body, deadline, answer_message)

    def release(self, response: Response) -> None:
        """After the request block: pool the connection, drain it in the background, or abort."""
        conn = response.conn
        if response.reusable:
            self._put_idle(conn)
        elif response.drain_later and response.keep_alive and not conn.closed and not self._closed:
            task = asyncio.get_running_loop().create_task(self._drain(response))
            self._draining.add(task)
            task.add_done_callback(self._draining.discard)
        else:
            conn.abort()

    async def _drain(self, response: Response) -> None:
        try:
            await response.drain()
        except (ModelError, OSError):
            pass
        finally:
            self._release_drained(response)

    def _release_drained(self, response: Response) -> None:
        if response.reusable:
            self._put_idle(response.conn)
        else:
            response.conn.abort()

    # the pool

    def _take_idle(self, key: tuple[str, ...]) -> Connection | None:
        now = time.monotonic()
        found = None
        for conn in reversed(self._idle):  # most recently used first
            if conn.key == key and conn.usable and now - conn.idle_since < MAX_IDLE_SECONDS:
                found = conn
                break
        for conn in self._idle:  # dead or old ones go; the found one leaves the pool
            if conn is not found and not (conn.usable and now - conn.idle_since < MAX_IDLE_SECONDS):
                conn.close()
        self._idle = [c for c in self._idle if c is not found and not c.closed]
        return found

    def _put_idle(self, conn: Connection) -> None:
        if self._closed:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)
        while len(self._idle) > MAX_IDLE_CONNECTIONS:
            self._idle.pop(0).close()

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    # connecting

    async def _connect(
        self, target: Target, key: tuple[str, ...], deadline: float, message: str
    ) -> Connection:
        remaining = deadline - time.monotonic()
        limit = min(self.config.connect_timeout_s, remaining)
        if limit <= 0:
            raise ModelError("timeout", message)
        if limit < remaining:
            message = (
                f"no connection to {self._first_hop(target)} within endpoint.connect_timeout_s "
                f"({self.config.connect_timeout_s:g} s)"
            )
        conn = Connection(key)
        try:
            await within(self._open(conn, target, deadline), limit, message)
        except BaseException:
            conn.abort()
            raise
        self.connections_opened += 1
        return conn

    def _first_hop(self, target: Target) -> str:
        return self._proxy.where if self._proxy else target.authority

    async def _open(self, conn: Connection, target: Target, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        host, port = (
            (self._proxy.host, self._proxy.port) if self._proxy else (target.host, target.port)
        )
        try:
            await loop.create_connection(lambda: conn, host, port)
        except OSError as exc:
            what = "the proxy " if self._proxy else ""
            raise ModelError(
                "connection", f"cannot connect to {what}{host}:{port}: {_describe(exc)}"
            ) from None
        if target.scheme != "https":
            return
        if self._proxy is not None:
            await self._tunnel(conn, target, self._proxy, deadline)
        await self._start_tls(conn, target)

    async def _tunnel(
        self, conn: Connection, target: Target, proxy: Proxy, deadline: float
    ) -> None:
        """Ask the proxy for a raw TCP tunnel to the target (CONNECT), for TLS end to end."""
        lines = [f"CONNECT {target.authority} HTTP/1.1", f"Host: {target.authority}"]
        lines.append("User-Agent: qwen-lsp")
        if proxy.authorization:
            lines.append(f"Proxy-Authorization: {proxy.authorization}")
        conn.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        message = f"the proxy {proxy.where} did not answer CONNECT in time"
        try:
            _, status, reason, _ = await read_head(conn, deadline, message)
        except _StaleConnection:
            raise ModelError("connection", f"the proxy {proxy.where} closed the tunnel") from None
        if not 200 <= status < 300:
            raise ModelError(
                "connection",
                f"the proxy {proxy.where} refused a tunnel to {target.authority}: "
                f"HTTP {status} {reason}".rstrip(),
            )
        if conn.buffer:
            raise ModelError("protocol", f"the proxy {proxy.where} sent bytes before TLS")

    async def _start_tls(self, conn: Connection, target: Target) -> None:
        context = self._ssl_context()
        loop = asyncio.get_running_loop()
        assert conn.transport is not None
        try:
            transport = await loop.start_tls(
                conn.transport, conn, context, server_hostname=target.host
            )
        except (ssl.SSLError, ssl.CertificateError, OSError, EOFError) as exc:
            raise ModelError(
                "tls", f"TLS handshake with {target.authority} failed: {_describe(exc)}"
            ) from None
        if transport is None:  # the connection closed during the handshake
            raise ModelError("tls", f"TLS handshake with {target.authority} failed: closed")
        conn.transport = transport  # type: ignore[assignment]

    def _ssl_context(self) -> ssl.SSLContext:
        """Built on first https use (loading the trust store takes milliseconds)."""
        if self._ssl is None:
            context = ssl.create_default_context()
            if not self.config.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif self.config.ca_bundle:
                try:
                    context.load_verify_locations(cafile=self.config.ca_bundle)
                except (OSError, ssl.SSLError) as exc:
                    raise ModelError(
                        "tls", f"cannot load endpoint.ca_bundle: {_describe(exc)}"
                    ) from None
            context.set_alpn_protocols(["http/1.1"])
            self._ssl = context
        return self._ssl


class RequestContext:
    """``async with``: send, yield the response, then pool, drain or abort the connection."""

    def __init__(
        self,
        client: HttpClient,
        method: str,
        url: str,
        json: Any,
        deadline: float,
        limit_name: str,
    ):
        self.client, self.method, self.url, self.json = client, method, url, json
        self.deadline, self.limit_name = deadline, limit_name
        self.response: Response | None = None

    async def __aenter__(self) -> Response:
        self.response = await self.client.send(
            self.method, self.url, self.json, self.deadline, self.limit_name
        )
        return self.response

    async def __aexit__(self, *exc_info: object) -> None:
        if self.response is not None:
            self.client.release(self.response)  # never awaits: safe while a generator closes
