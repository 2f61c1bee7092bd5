"""The model endpoint: OpenAI-compatible transports, streamed and cancellable, with backoff.

Cancellation is structural: every stream is read inside the HTTP client's request block, so when
the consumer stops early or its task is cancelled (cancel-previous, ``$/cancelRequest``, a time
limit) the HTTP connection is dropped at once — the model server sees the disconnect and stops
generating. A stream read to the end of its answer leaves its connection in the pool.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..settings import EndpointSettings
from .errors import ModelError
from .http import HttpClient, HttpConfig, Response
from .sse import DONE, completion_delta, parse_sse_data, raise_for_payload_error

log = logging.getLogger(__name__)

TransportName = Literal["completions", "chat", "infill", "ollama"]
ERROR_BODY_BYTES = 64 * 1024  # read whole (the connection stays reusable); 2,000 shown


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


def build_http_client(endpoint: EndpointSettings) -> HttpClient:
    headers = dict(endpoint.headers)
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    # Only the proxy configured for the AI traffic; environment proxy variables are not read.
    return HttpClient(
        HttpConfig(
            connect_timeout_s=endpoint.connect_timeout_s,
            verify_tls=endpoint.verify_tls,
            ca_bundle=endpoint.ca_bundle,
            proxy=endpoint.proxy,
            headers=headers,
        )
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
            async with self.http.request(
                "POST", url, json=body, deadline=deadline, limit_name="endpoint.timeout_s"
            ) as response:
                if response.status != 200:
                    raw = await self._read_error_body(response, deadline)
                    raise classify_status(response.status, raw, response.headers.get("retry-after"))
                decode = DECODERS[fmt]
                ended = False
                while not ended and (lines := await response.read_lines()):
                    for line in lines:
                        text, ended = decode(line)
                        if text:
                            yield text
                        if ended:
                            break
                # The answer is complete: the rest of the body (normally just the chunked
                # terminator, already here) is read so the connection can be reused.
                response.end_of_answer()
            self.backoff.success()
        except ModelError as error:
            error.detail = redact(error.detail, self._secrets())
            # Every failure counts, malformed streams too: an endpoint that always answers
            # garbage must not be hit on every keystroke (retry storm).
            self.backoff.failure(error)
            raise
        except OSError as exc:  # the HTTP client converts its own failures; this is a stray one
            error = ModelError("connection", str(exc) or type(exc).__name__)
            error.detail = redact(error.detail, self._secrets())
            self.backoff.failure(error)
            raise error from None
        finally:
            self.active_streams -= 1

    async def complete(self, request: GenerationRequest) -> str:
        """The whole answer as one string (code actions, doctor)."""
        parts = [part async for part in self.stream(request)]
        return "".join(parts)

    async def _read_error_body(self, response: Response, deadline: float) -> str:
        try:
            raw = await response.read(ERROR_BODY_BYTES, max(deadline, time.monotonic() + 0.1))
        except ModelError:
            return ""
        return raw[:2000].decode("utf-8", "replace")

    async def list_models(self) -> list[dict[str, Any]]:
        """GET /models (doctor and endpoint detection)."""
        try:
            response = await self.http.get(f"{self.base_url}/models", timeout=5.0)
        except ModelError as error:
            error.detail = redact(error.detail, self._secrets())
            raise
        if response.status != 200:
            error = classify_status(response.status, response.text, None)
            error.detail = redact(error.detail, self._secrets())
            raise error
        try:
            data = response.json()
        except ValueError:
            raise ModelError("protocol", "GET /models did not answer JSON") from None
        models = data.get("data") if isinstance(data, dict) else None
        return models if isinstance(models, list) else []


def _sse_line(line: str) -> tuple[str, bool]:
    """(text, the answer ended) for one line of an OpenAI SSE stream."""
    payload = parse_sse_data(line)
    if payload is None:
        return "", False
    if payload is DONE:
        return "", True
    return completion_delta(payload), False


def _infill_line(line: str) -> tuple[str, bool]:
    """llama.cpp's /infill stream: SSE without [DONE]; the last payload says ``stop``."""
    payload = parse_sse_data(line)
    if payload is None:
        return "", False
    if payload is DONE:
        return "", True
    raise_for_payload_error(payload)
    return _field(payload, "content"), bool(payload.get("stop"))


def _ndjson_line(line: str) -> tuple[str, bool]:
    """Ollama's /api/generate stream: one JSON object a line, the last with ``done``."""
    payload = _json_line(line)
    if payload is None:
        return "", False
    raise_for_payload_error(payload)
    return _field(payload, "response"), bool(payload.get("done"))


DECODERS: dict[str, Callable[[str], tuple[str, bool]]] = {
    "sse": _sse_line,
    "infill": _infill_line,
    "ndjson": _ndjson_line,
}


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
