"""The HTTP layer under the transports: one shared ``httpx.AsyncClient`` per endpoint.

- Connections: a few keep-alive connections per endpoint (``POOL``); environment proxy
  variables are never read (``trust_env=False``), only ``endpoint.proxy``; TLS through an
  ``ssl.SSLContext`` with the system trust store plus ``endpoint.ca_bundle``, or none at all
  with ``verify_tls = false``; redirects are not followed (a redirect to another host must not
  take the API key along).
- Time limits: ``endpoint.connect_timeout_s`` covers the TCP connect, a proxy's ``CONNECT``
  tunnel and the TLS handshake; the request's deadline covers everything up to the last byte
  (``Deadline``: each wait, never a swallowed cancellation).
- Bodies are read as lines by ``model/body.py``. When the answer is complete (``[DONE]``, the
  final ``/infill`` or Ollama payload), the rest of the body is read, briefly and boundedly (in
  the background if it is late), so the connection goes back to the pool; a reader that stops
  early has its connection closed, so the model server sees the disconnect and stops
  generating — unless the rest of the answer had already arrived (``release_early``).
- A pooled connection the server closed just as it was reused (no response byte) is retried
  once on a new one. Error bodies are read up to 64 KiB. Every failure is a ``ModelError``.
"""

from __future__ import annotations

import asyncio
import contextvars
import json as jsonlib
import logging
import os
import ssl
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from ..settings import EndpointSettings
from .body import Body
from .deadline import Deadline
from .errors import ModelError, describe, find_cause
from .urls import BaseUrl, check_url

log = logging.getLogger(__name__)
T = TypeVar("T")
# Their debug and info lines carry raw URLs and response heads (an endpoint may echo the key):
# never below warning, whatever the root logger says.
for _name in ("httpx", "httpcore", "openai"):
    logging.getLogger(_name).setLevel(logging.WARNING)

POOL = httpx.Limits(max_connections=None, max_keepalive_connections=4, keepalive_expiry=60.0)
ERROR_BODY_BYTES = 64 * 1024
DRAIN_WAIT_S = 0.05  # the reader waits this long for the end of a complete answer's body
# (then it is read in the background: body.DRAIN_TIMEOUT_S, body.DRAIN_MAX_BYTES)
# A reader that stops early: what the server already sent of the rest is read for this long
# (an instant server's whole answer: the connection is kept); else the connection is closed.
EARLY_RELEASE_S = 0.005
JSON_ENCODER = jsonlib.JSONEncoder(separators=(",", ":"))  # ASCII: lone surrogates stay valid
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-type", "te"}
)


class StatusAnswer(Exception):
    """The server answered with a status other than 2xx (the body read, up to a bound)."""

    def __init__(self, status: int, body: bytes, headers: httpx.Headers, url: str = ""):
        super().__init__(f"HTTP {status}")
        self.status, self.body, self.headers, self.url = status, body, headers, url

    @property
    def redirect_target(self) -> str:
        """Where a 3xx points (resolved against the request URL), or ""."""
        location = self.headers.get("location", "")
        return urljoin(self.url, location) if location else ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


# --- configuration ---------------------------------------------------------------------------


def request_headers(endpoint: EndpointSettings) -> dict[str, str]:
    """Headers for every request: ours, the key, then ``endpoint.headers`` (framing headers are
    the client's; a value with a line break would smuggle another header in: refused, naming
    only the header)."""
    headers = {"User-Agent": "qwen-lsp", "Accept": "*/*", "Accept-Encoding": "identity"}
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    merged = {name.lower(): (name, value) for name, value in headers.items()}
    for name, value in endpoint.headers.items():
        name, value = name.strip(), str(value).strip()
        if name.lower() in RESERVED_HEADERS:
            continue
        if not name or any(c in name for c in ":\r\n\0 \t") or any(c in value for c in "\r\n\0"):
            raise ModelError("bad_request", f"endpoint.headers: invalid header {name[:40]!r}")
        merged[name.lower()] = (name, value)
    return dict(merged.values())


def proxy_url(setting: str) -> str | None:
    """``endpoint.proxy`` (``http://[user:pass@]host:port``, scheme optional) or None."""
    if not setting:
        return None
    url = setting if "://" in setting else f"http://{setting}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError:
        raise ModelError("connection", "endpoint.proxy is not a valid URL") from None
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ModelError("connection", "endpoint.proxy must be an http://host:port URL")
    return url


def ssl_context(endpoint: EndpointSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not endpoint.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif endpoint.ca_bundle:
        try:
            context.load_verify_locations(cafile=os.path.expanduser(endpoint.ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ModelError("tls", f"cannot load endpoint.ca_bundle: {describe(exc)}") from None
    return context


def _hop(url: str) -> str:
    """host:port of a URL, for messages (never userinfo, path or query)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "the endpoint"
    host = parts.hostname or "the endpoint"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --- one request on the wire -----------------------------------------------------------------

WIRE: contextvars.ContextVar[Wire | None] = contextvars.ContextVar("qwen_lsp_wire", default=None)


@dataclass
class Wire:
    """What one request did on the wire, from httpcore's trace events: whether it made a new
    connection, whether it is still connecting (then the connect time limit applies), and
    whether a response head arrived."""

    deadline: float
    connect_limit: float
    connect_message: str
    scope: Deadline | None = None
    new_connection: bool = False
    got_head: bool = False

    async def trace(self, name: str, info: dict[str, Any]) -> None:
        if name == "connection.connect_tcp.started":
            self.new_connection = True
            if self.scope is not None:
                limit = min(self.deadline, time.monotonic() + self.connect_limit)
                if limit < self.deadline:
                    self.scope.reschedule(limit, self.connect_message)
        elif name == "http11.send_request_headers.started":
            request = info.get("request")
            if self.scope is not None and getattr(request, "method", b"") != b"CONNECT":
                self.scope.reschedule(self.deadline)  # connected: the request's own limit
        elif name == "http11.receive_response_headers.complete":
            request = info.get("request")
            if getattr(request, "method", b"") != b"CONNECT":
                self.got_head = True

    @property
    def stale(self) -> bool:
        """A pooled connection that failed before any answer: the server never saw it."""
        return not self.new_connection and not self.got_head


# --- the client ------------------------------------------------------------------------------


class HttpClient:
    """The endpoint's shared ``httpx.AsyncClient`` (built on first use) and how requests on it
    are sent, read, drained and turned into ``ModelError``s."""

    def __init__(self, endpoint: EndpointSettings):
        self.endpoint = endpoint
        self.base = BaseUrl.parse(endpoint.base_url)
        # Built in a worker thread from the start: loading the trust store and what httpx
        # imports on its first request (httpcore, h11, anyio's parts) takes 50-250 ms, which
        # must stall neither the event loop nor the first request.
        self._built: Future[httpx.AsyncClient] = _builder().submit(self._build)
        self._draining: set[asyncio.Task[None]] = set()
        self._closed = False

    async def client(self) -> httpx.AsyncClient:
        """The shared client; a ModelError for settings it cannot use (on first request)."""
        if self._closed:
            raise ModelError("connection", "the model client was closed")
        if not self._built.done():  # normally long done by the first request
            await asyncio.shield(asyncio.wrap_future(self._built))
        return self._built.result()

    def _build(self) -> httpx.AsyncClient:
        _load_lazy_modules()
        endpoint = self.endpoint
        auth = None
        if self.base.username and not endpoint.api_key:
            auth = httpx.BasicAuth(self.base.username, self.base.password)
        https = self.base.origin.lower().startswith("https:")
        return httpx.AsyncClient(
            headers=request_headers(endpoint),
            auth=auth,
            # Plain http needs no trust store (nothing would verify against it).
            verify=ssl_context(endpoint) if https else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT),
            proxy=proxy_url(endpoint.proxy),
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(None, connect=endpoint.connect_timeout_s),
            limits=POOL,
            event_hooks={"request": [_attach_wire], "response": [_refuse_status]},
        )

    async def aclose(self) -> None:
        """Close idle connections and stop background drains (requests in flight finish)."""
        self._closed = True
        for task in list(self._draining):
            task.cancel()
        if self._draining:
            await asyncio.gather(*self._draining, return_exceptions=True)
        # A client still being built has no connection yet: nothing to close, nothing to wait
        # for (shutdown must not wait for the worker thread).
        built = self._built
        if not built.done() or built.cancelled() or built.exception() is not None:
            built.cancel()
            return
        await built.result().aclose()

    def wire(self, deadline: float, url: str) -> Wire:
        hop = _hop(self.endpoint.proxy or url)
        limit = self.endpoint.connect_timeout_s
        message = f"no connection to {hop} within endpoint.connect_timeout_s ({limit:g} s)"
        return Wire(deadline, limit, message)

    async def call(
        self, url: str, send: Callable[[], Awaitable[T]], *, deadline: float, limit_name: str
    ) -> T:
        """Run ``send`` (one request on this client, up to its response head) under the
        deadline, the connect limit and the stale-connection retry; failures as ModelError,
        a non-2xx answer as StatusAnswer."""
        check_url(url)
        for attempt in (1, 2):
            wire = self.wire(deadline, url)
            token = WIRE.set(wire)
            try:
                message = f"no answer from the endpoint within {limit_name}"
                async with Deadline(deadline, message) as scope:
                    wire.scope = scope
                    return await send()
            except Exception as raised:
                exc = _unwrap(raised)
                if isinstance(exc, (StatusAnswer, ModelError)):
                    raise exc from None
                if attempt == 1 and wire.stale and _is_stale(exc):
                    log.debug("pooled connection to %s was closed by the server; retrying", url)
                    continue
                raise self.error(exc, url) from None
            finally:
                WIRE.reset(token)
        raise AssertionError("unreachable")

    async def send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        deadline: float,
        limit_name: str,
        send: Callable[[], Awaitable[httpx.Response]] | None = None,
    ) -> Body:
        """Send one request and read its head; the caller must ``finish`` or close the body.

        ``send`` replaces the plain request (the openai SDK sends it on this same client).
        """
        client = await self.client()
        content = None if json is None else JSON_ENCODER.encode(json).encode()
        headers = None if content is None else {"Content-Type": "application/json"}

        async def plain() -> httpx.Response:
            request = client.build_request(method, url, content=content, headers=headers)
            return await client.send(request, stream=True)

        response = await self.call(url, send or plain, deadline=deadline, limit_name=limit_name)
        return Body(response, deadline, limit_name)

    async def finish(self, body: Body) -> None:
        """The answer is complete: read the rest of the body (normally just the chunked
        terminator, already here), then release the connection to the pool. The reader waits
        for that at most ``DRAIN_WAIT_S``; a later end is read in the background."""
        task = self._background(self._drain(body))
        await asyncio.wait([task], timeout=DRAIN_WAIT_S)

    def release_early(self, body: Body) -> None:
        """The reader stopped before the end of the answer. The connection is closed (the model
        server sees the disconnect and stops generating) unless the rest of the body is
        already here — an endpoint that answered at once — or arrives within
        ``EARLY_RELEASE_S``: then it is read and the connection kept. In the background: the
        reader does not wait."""
        self._background(self._drain(body, EARLY_RELEASE_S))

    def _background(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)  # type: ignore[arg-type]
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)
        return task

    async def _drain(self, body: Body, seconds: float | None = None) -> None:
        try:
            await body.drain(seconds)
        except (ModelError, OSError):
            pass  # a read cut by the time limit closes its connection
        finally:
            await body.close()

    async def get_json(self, url: str, timeout: float, max_bytes: int = 16 << 20) -> Any:
        """GET a JSON document (model lists, probes); StatusAnswer for a non-2xx status."""
        deadline = time.monotonic() + timeout
        body = await self.send("GET", url, deadline=deadline, limit_name=f"{timeout:g} s")
        try:
            content = await body.read(max_bytes)
        finally:
            await body.close()
        if len(content) > max_bytes:
            raise ModelError("protocol", f"the answer is larger than {max_bytes} bytes")
        try:
            return jsonlib.loads(content)
        except (ValueError, RecursionError):
            raise ModelError("protocol", f"GET {urlsplit(url).path} did not answer JSON") from None

    def error(self, exc: BaseException, url: str) -> ModelError:
        """A failure to send or to get a response head, as a ModelError."""
        if isinstance(exc, ModelError):
            return exc
        target = _hop(url)
        proxy = _hop(self.endpoint.proxy) if self.endpoint.proxy else ""
        if isinstance(exc, httpx.ConnectTimeout):
            return ModelError("timeout", self.wire(0, url).connect_message)
        if isinstance(exc, httpx.TimeoutException):
            return ModelError("timeout", f"no answer from {target} in time")
        if isinstance(exc, httpx.ProxyError):
            return ModelError(
                "connection", f"the proxy {proxy} refused a tunnel to {target}: HTTP {exc}"
            )
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return ModelError("connection", f"not an http(s) URL: {target}")
        if isinstance(exc, httpx.ConnectError):
            if find_cause(exc, (ssl.SSLError, ssl.CertificateError)) is not None:
                return ModelError("tls", f"TLS handshake with {target} failed: {describe(exc)}")
            where = f"the proxy {proxy}" if proxy else target
            return ModelError("connection", f"cannot connect to {where}: {describe(exc)}")
        if isinstance(exc, httpx.LocalProtocolError):
            return ModelError("bad_request", "the request could not be sent (invalid header?)")
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            # Closed before a complete response head: nothing, or bytes that never became one
            # (an SSH banner) — httpx cannot tell these apart.
            if "without sending" in str(exc) or not isinstance(exc, httpx.RemoteProtocolError):
                return ModelError(
                    "connection", f"{target} closed the connection without an HTTP answer"
                )
            return ModelError("protocol", f"the answer from {target} is not HTTP: {exc}")
        if isinstance(exc, httpx.HTTPError):
            return ModelError("protocol", f"{type(exc).__name__}: {exc}")
        if isinstance(exc, OSError):
            return ModelError("connection", f"{target}: {describe(exc)}")
        return ModelError("protocol", f"{type(exc).__name__}: {exc}")


_BUILDER: ThreadPoolExecutor | None = None
_LOADED = False


def _builder() -> ThreadPoolExecutor:
    global _BUILDER
    if _BUILDER is None:
        _BUILDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qwen-lsp-http")
    return _BUILDER


def _load_lazy_modules() -> None:
    """Load what httpx, httpcore and anyio import only on their first request (anyio loads its
    parts lazily, by attribute), so that it happens in this worker thread (once)."""
    global _LOADED
    if _LOADED:
        return
    import anyio
    import anyio.abc
    import anyio.streams.tls
    import h11  # noqa: F401

    async def touch() -> None:
        async with anyio.Lock():
            with anyio.fail_after(1):
                await anyio.sleep(0)
        for name in ("connect_tcp", "Semaphore", "Event", "EndOfStream", "BrokenResourceError"):
            getattr(anyio, name)
        anyio.abc.SocketStream  # noqa: B018
        anyio.streams.tls.TLSStream  # noqa: B018

    anyio.run(touch)  # on this thread's own loop: loads anyio's asyncio backend too
    httpx.AsyncClient(trust_env=False)  # httpx loads its transport (httpcore) here
    _LOADED = True


async def _attach_wire(request: httpx.Request) -> None:
    wire = WIRE.get()
    if wire is not None:
        request.extensions["trace"] = wire.trace


async def _refuse_status(response: httpx.Response) -> None:
    """Non-2xx answers become StatusAnswer with the body read up to ERROR_BODY_BYTES (whole,
    the connection stays usable; cut, it is closed)."""
    if 200 <= response.status_code < 300:
        return
    data = bytearray()
    try:
        async for piece in response.aiter_bytes():
            data += piece
            if len(data) > ERROR_BODY_BYTES:
                break
    except httpx.HTTPError:
        pass  # what arrived is enough to say what went wrong
    finally:
        await response.aclose()
    body = bytes(data[:ERROR_BODY_BYTES])
    raise StatusAnswer(response.status_code, body, response.headers, str(response.request.url))


def _unwrap(exc: BaseException) -> BaseException:
    """The openai SDK wraps what the HTTP layer raised (APIConnectionError from ...)."""
    cause = exc.__cause__
    wrapped = cause is not None and not isinstance(exc, httpx.HTTPError)
    ours = (ModelError, StatusAnswer, httpx.HTTPError, OSError)
    return cause if wrapped and isinstance(cause, ours) else exc


def _is_stale(exc: BaseException) -> bool:
    stale = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
    return find_cause(exc, stale) is not None
