"""The model endpoint: OpenAI-compatible transports, streamed and cancellable, with backoff.

Cancellation is structural: every stream is consumed inside ``async with client.stream(...)``, so
when the awaiting task is cancelled (cancel-previous, ``$/cancelRequest``, a time limit) the
response is closed and the HTTP connection dropped at once — the model server sees the disconnect
and stops generating.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx

from ..settings import EndpointSettings
from .errors import ModelError
from .sse import completion_delta, iter_sse_payloads, raise_for_payload_error

log = logging.getLogger(__name__)

TransportName = Literal["completions", "chat", "infill", "ollama"]
T = TypeVar("T")


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate. ``prompt`` feeds raw-prompt transports, ``messages`` the chat transport."""

    prompt: str = ""
    messages: tuple[dict[str, str], ...] = ()
    max_tokens: int = 64
    temperature: float = 0.1
    top_p: float = 0.95
    stop: tuple[str, ...] = ()
    model: str = ""
    # llama.cpp /infill and Ollama take the FIM parts separately.
    prefix: str = ""
    suffix: str = ""
    extra_context: tuple[tuple[str, str], ...] = ()  # (path, text) for /infill input_extra
    timeout_s: float | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)


class Backoff:
    """Pause model calls after failures so a dead endpoint causes no retry storm.

    Delays double from ``base_s`` to ``max_s``; a server's Retry-After wins. Success resets.
    """

    def __init__(
        self, base_s: float = 1.0, max_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ):
        self.base_s, self.max_s, self.clock = base_s, max_s, clock
        self.failures = 0
        self.until = 0.0
        self.last_error: ModelError | None = None

    def blocked_for(self) -> float:
        return max(0.0, self.until - self.clock())

    def failure(self, error: ModelError) -> None:
        self.failures += 1
        delay = min(self.max_s, self.base_s * 2 ** (self.failures - 1))
        if error.kind in ("auth", "not_found", "bad_request"):
            delay = max(delay, 5.0)  # will not fix itself quickly; settings changes reset
        if error.retry_after_s is not None:
            delay = min(max(error.retry_after_s, 0.0), 300.0)
        self.until = self.clock() + delay
        self.last_error = error

    def success(self) -> None:
        self.failures, self.until, self.last_error = 0, 0.0, None

    def reset(self) -> None:
        self.success()


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return re.sub(r"(Bearer\s+)[A-Za-z0-9._\-]+", r"\1***", text)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # HTTP-date form: rare for APIs; fall back to our own backoff


def classify_status(status: int, body: str, retry_after: str | None) -> ModelError:
    message = body
    try:
        payload = json.loads(body)
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message") or error)
        elif isinstance(error, str):
            message = error
    except (json.JSONDecodeError, AttributeError):
        pass
    message = message.strip()[:300] or f"HTTP {status}"
    if status in (401, 403):
        return ModelError("auth", message, status)
    if status == 404:
        return ModelError("not_found", message, status)
    if status == 429:
        return ModelError("rate_limited", message, status, parse_retry_after(retry_after))
    if status >= 500:
        return ModelError("server", message, status, parse_retry_after(retry_after))
    return ModelError("bad_request", message, status)


def classify_exception(exc: Exception) -> ModelError:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return ModelError("timeout", f"{type(exc).__name__}: {text}")
    if isinstance(exc, httpx.ConnectError):
        lowered = text.lower()
        if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
            return ModelError("tls", text)
        return ModelError("connection", text)
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return ModelError("protocol", f"connection broke mid-answer: {text}")
    if isinstance(exc, httpx.TransportError):
        return ModelError("connection", text)
    return ModelError("protocol", text)


def build_http_client(endpoint: EndpointSettings) -> httpx.AsyncClient:
    verify: bool | str = endpoint.verify_tls
    if endpoint.verify_tls and endpoint.ca_bundle:
        verify = endpoint.ca_bundle
    headers = {"User-Agent": "qwen-lsp", **endpoint.headers}
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    timeout = httpx.Timeout(endpoint.timeout_s, connect=endpoint.connect_timeout_s)
    # trust_env=False: the AI traffic uses only the proxy the user configured for it.
    return httpx.AsyncClient(
        headers=headers,
        timeout=timeout,
        verify=verify,
        proxy=endpoint.proxy or None,
        trust_env=False,
        limits=httpx.Limits(max_connections=16, max_keepalive_connections=4),
    )


class ModelClient:
    """Streams text from the configured endpoint through the chosen transport."""

    def __init__(self, endpoint: EndpointSettings, transport: TransportName = "completions"):
        self.endpoint = endpoint
        self.transport: TransportName = transport
        self.http = build_http_client(endpoint)
        self.backoff = Backoff()
        self.active_streams = 0

    @property
    def base_url(self) -> str:
        return self.endpoint.base_url.rstrip("/")

    def root_url(self) -> str:
        """The server root, without the trailing /v1 (llama.cpp /infill, Ollama /api)."""
        return re.sub(r"/v1$", "", self.base_url)

    async def aclose(self) -> None:
        await self.http.aclose()

    def _secrets(self) -> list[str]:
        return [self.endpoint.api_key, *self.endpoint.headers.values()]

    def _route(self, request: GenerationRequest) -> tuple[str, dict[str, Any], str]:
        """URL, JSON body and stream format for a request on the current transport."""
        model = request.model or self.endpoint.model
        common = {
            "model": model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stream": True,
        }
        if request.messages or self.transport == "chat":
            body = {**common, "messages": list(request.messages)}
            if request.stop:
                body["stop"] = list(request.stop)[:4]  # OpenAI-style APIs cap stop at 4
            return f"{self.base_url}/chat/completions", {**body, **request.extra_body}, "sse"
        if self.transport == "infill":
            body = {
                "input_prefix": request.prefix,
                "input_suffix": request.suffix,
                "input_extra": [{"filename": p, "text": t} for p, t in request.extra_context],
                "n_predict": request.max_tokens,
                "temperature": request.temperature,
                "top_p": request.top_p,
                "stream": True,
                "cache_prompt": True,
                "stop": list(request.stop),
            }
            return f"{self.root_url()}/infill", {**body, **request.extra_body}, "infill"
        if self.transport == "ollama":
            body = {
                "model": model,
                "prompt": request.prompt,
                "raw": True,
                "stream": True,
                "options": {
                    "num_predict": request.max_tokens,
                    "temperature": request.temperature,
                    "top_p": request.top_p,
                    "stop": list(request.stop),
                },
            }
            return f"{self.root_url()}/api/generate", {**body, **request.extra_body}, "ndjson"
        body = {**common, "prompt": request.prompt, "stop": list(request.stop)}
        return f"{self.base_url}/completions", {**body, **request.extra_body}, "sse"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        """Yield text deltas. Raises ModelError; cancellation closes the connection."""
        if (wait := self.backoff.blocked_for()) > 0:
            last = self.backoff.last_error
            kind = last.kind if last else "connection"
            raise ModelError(
                kind,
                f"paused after earlier failures; retrying in {wait:.1f}s",
                last.status if last else None,
            )
        url, body, fmt = self._route(request)
        deadline = time.monotonic() + (request.timeout_s or self.endpoint.timeout_s)
        self.active_streams += 1
        try:
            async with self._open(url, body, deadline) as response:
                if response.status_code != 200:
                    raw = await self._read_error_body(response, deadline)
                    raise classify_status(
                        response.status_code, raw, response.headers.get("retry-after")
                    )
                lines = _lines_until(response, deadline)
                if fmt == "sse":
                    async for payload in iter_sse_payloads(lines):
                        if text := completion_delta(payload):
                            yield text
                elif fmt == "infill":
                    async for payload in iter_sse_payloads(lines):
                        raise_for_payload_error(payload)
                        if text := _field(payload, "content"):
                            yield text
                        if isinstance(payload, dict) and payload.get("stop"):
                            break
                else:
                    async for line in lines:
                        payload = _json_line(line)
                        if payload is None:
                            continue
                        raise_for_payload_error(payload)
                        if text := _field(payload, "response"):
                            yield text
                        if payload.get("done"):
                            break
            self.backoff.success()
        except ModelError as error:
            error.detail = redact(error.detail, self._secrets())
            # Every failure counts, malformed streams too: an endpoint that always answers
            # garbage must not be hit on every keystroke (retry storm).
            self.backoff.failure(error)
            raise
        except (httpx.HTTPError, OSError) as exc:
            error = classify_exception(exc)
            error.detail = redact(error.detail, self._secrets())
            self.backoff.failure(error)
            raise error from None
        finally:
            self.active_streams -= 1

    @contextlib.asynccontextmanager
    async def _open(
        self, url: str, body: dict[str, Any], deadline: float
    ) -> AsyncIterator[httpx.Response]:
        """Send and wait for the headers within the deadline; always close the response."""
        http_request = self.http.build_request("POST", url, json=body)
        response = await _within(
            self.http.send(http_request, stream=True),
            max(0.05, deadline - time.monotonic()),
            "no answer from the endpoint within endpoint.timeout_s",
        )
        try:
            yield response
        finally:
            await response.aclose()

    async def complete(self, request: GenerationRequest) -> str:
        """The whole answer as one string (code actions, doctor)."""
        parts = [part async for part in self.stream(request)]
        return "".join(parts)

    async def _read_error_body(self, response: httpx.Response, deadline: float) -> str:
        try:
            raw = await _within(response.aread(), max(0.1, deadline - time.monotonic()), "")
        except (ModelError, httpx.HTTPError):
            return ""
        return raw[:2000].decode("utf-8", "replace")

    async def list_models(self) -> list[dict[str, Any]]:
        """GET /models (doctor and endpoint detection)."""
        try:
            response = await self.http.get(f"{self.base_url}/models", timeout=5.0)
        except httpx.HTTPError as exc:
            raise classify_exception(exc) from None
        if response.status_code != 200:
            raise classify_status(response.status_code, response.text, None)
        data = response.json()
        models = data.get("data") if isinstance(data, dict) else None
        return models if isinstance(models, list) else []


def _field(payload: Any, name: str) -> str:
    if not isinstance(payload, dict):
        raise ModelError("protocol", f"unexpected stream payload {str(payload)[:120]!r}")
    value = payload.get(name)
    return value if isinstance(value, str) else ""


def _json_line(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line:
        return None
    try:
        payload = json.loads(line)
    except json.JSONDecodeError:
        raise ModelError("protocol", f"stream line is not JSON: {line[:120]!r}") from None
    if not isinstance(payload, dict):
        raise ModelError("protocol", "stream line is not an object")
    return payload


async def _lines_until(response: httpx.Response, deadline: float) -> AsyncIterator[str]:
    """Response lines, failing with a timeout once the whole-request deadline has passed."""
    iterator = response.aiter_lines().__aiter__()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ModelError("timeout", "the answer took longer than endpoint.timeout_s")
        try:
            line = await _within(
                iterator.__anext__(), remaining, "the answer took longer than endpoint.timeout_s"
            )
        except StopAsyncIteration:
            return
        yield line


async def _within(awaitable: Awaitable[T], seconds: float, timeout_message: str) -> T:
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
