"""The model endpoint: streamed, cancellable generation over the chosen transport, with backoff.

Two ways to read an answer:

- ``stream(request) -> AsyncIterator[str]`` yields text deltas (``complete(request) -> str``
  joins them). The completion engine uses it.
- ``open_stream(request) -> AnswerStream`` yields the same deltas and fills in
  ``answer.outcome`` (a ``StreamOutcome``) as it goes; ``answer(request) -> Answer`` reads it
  whole::

      async with model.open_stream(request) as answer:
          async for delta in answer:
              ...
      if answer.outcome.finish_reason != "stop":
          ...  # "length" / "cap": cut at a size limit; None: ended without a reason

  The outcome says how the answer ended (``finish_reason``: the server's, ``"cap"`` when this
  client cut a runaway answer, None when the stream ended without one, e.g. an interrupted
  ``[DONE]``), the token counts and server timings when the server sent them, and wall times
  (to the response head, to the first text, to the end).

Cancellation is structural: every stream is read inside its request, so when the reader stops
early or its task is cancelled (cancel-previous, ``$/cancelRequest``, a time limit) the
connection is closed at once — the model server sees the disconnect and stops generating. A
stream read to the end of its answer leaves its connection in the pool.

An answer is cut (``finish_reason = "cap"``, connection closed, one log line) past
``CAP_CHUNKS_PER_TOKEN`` text pieces or ``CAP_CHARS_PER_TOKEN`` characters per requested token
(plus a margin): a server that ignores ``max_tokens`` cannot flood the editor.

Chat requests of code actions (``purpose="action"``) are sent by the ``openai`` SDK on the same
HTTP client (imported on first use, in a worker thread); their stream is read like the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

from ..redaction import Redactor, endpoint_secrets, mask_url, shorten
from ..settings import EndpointSettings
from . import sdk
from .errors import ModelError
from .http import Body, HttpClient, StatusAnswer
from .request import Answer, GenerationRequest, StreamOutcome, TransportName
from .transports import TRANSPORTS, Transport

log = logging.getLogger(__name__)

__all__ = [
    "Answer",
    "AnswerStream",
    "Backoff",
    "GenerationRequest",
    "ModelClient",
    "StreamOutcome",
    "TransportName",
]

CAP_CHUNKS_PER_TOKEN = 2
CAP_CHARS_PER_TOKEN = 64
CAP_MARGIN_CHUNKS = 16
CAP_MARGIN_CHARS = 16 * 1024
MESSAGE_CHARS = 300  # of an error text shown to the user, cut after redaction


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
        if error.kind in ("auth", "not_found", "bad_request", "protocol", "redirect"):
            # Will not fix itself quickly (a wrong key, URL, model or server; answers we cannot
            # read): one try every 5 s at most. A settings change resets the backoff.
            delay = max(delay, 5.0)
        if error.retry_after_s is not None:
            delay = min(max(error.retry_after_s, 0.0), 300.0)
        self.until = self.clock() + delay
        self.last_error = error

    def success(self) -> None:
        self.failures, self.until, self.last_error = 0, 0.0, None

    def reset(self) -> None:
        self.success()


def endpoint_redactor(endpoint: EndpointSettings) -> Redactor:
    """Masks every secret of the endpoint's settings (and URLs, tokens) in a text."""
    return Redactor(
        endpoint_secrets(endpoint.api_key, endpoint.headers, endpoint.base_url, endpoint.proxy)
    )


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
    except (ValueError, RecursionError):
        pass
    message = message.strip() or f"HTTP {status}"
    if status == 407:
        return ModelError(
            "connection",
            "the proxy wants credentials: set them in endpoint.proxy as "
            "http://user:password@host:port",
            status,
        )
    if status in (401, 403):
        return ModelError("auth", message, status)
    if status == 404:
        return ModelError("not_found", message, status)
    if status == 429:
        return ModelError("rate_limited", message, status, parse_retry_after(retry_after))
    if status >= 500:
        return ModelError("server", message, status, parse_retry_after(retry_after))
    return ModelError("bad_request", message, status)


def sends_credentials(endpoint: EndpointSettings) -> bool:
    """Whether requests carry credentials: the API key, any extra header (they are mostly auth
    headers), or user:password in the base URL."""
    return bool(endpoint.api_key or endpoint.headers or urlsplit(endpoint.base_url).username)


def status_error(answer: StatusAnswer) -> ModelError:
    if 300 <= answer.status < 400:
        return redirect_error(answer.status, answer.redirect_target)
    return classify_status(answer.status, answer.text, answer.headers.get("retry-after"))


def redirect_error(status: int, target: str) -> ModelError:
    """A 3xx, said as what happened: where it pointed, and that it was not followed."""
    where = "another URL"
    if target:
        parts = urlsplit(target)
        where = mask_url(f"{parts.scheme}://{parts.netloc}{parts.path}") if parts.netloc else where
    return ModelError(
        "redirect",
        f"redirected to {where} — not followed, so the key is not sent there; "
        "set endpoint.base_url to the final URL",
        status,
    )


class AnswerStream:
    """Text deltas of one answer, and how it ended (``outcome``, filled in as it streams)."""

    def __init__(self, deltas: AsyncIterator[str], outcome: StreamOutcome):
        self._deltas, self.outcome = deltas, outcome

    def __aiter__(self) -> AsyncIterator[str]:
        return self._deltas

    async def __aenter__(self) -> AnswerStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._deltas.aclose()  # type: ignore[attr-defined]


class ModelClient:
    """Streams text from the configured endpoint through the chosen transport."""

    def __init__(self, endpoint: EndpointSettings, transport: TransportName = "completions"):
        self.endpoint = endpoint
        self.transport: TransportName = transport
        self.http = HttpClient(endpoint)
        self.backoff = Backoff()
        self.redact = endpoint_redactor(endpoint)
        self.active_streams = 0
        self._sdk: Any = None

    async def aclose(self) -> None:
        await self.http.aclose()

    def _redacted(self, error: ModelError) -> ModelError:
        """Secrets out of the error's text first, then the text cut for display."""
        error.detail = shorten(self.redact(error.detail), MESSAGE_CHARS)
        error.credentials_sent = sends_credentials(self.endpoint)
        return error

    def _transport(self, request: GenerationRequest) -> Transport:
        return TRANSPORTS["chat" if request.messages else self.transport]

    # --- reading answers ------------------------------------------------------------------

    def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        """Yield text deltas. Raises ModelError; cancellation closes the connection."""
        return self._generate(request, StreamOutcome())

    async def complete(self, request: GenerationRequest) -> str:
        """The whole answer as one string (code actions, doctor)."""
        parts = [part async for part in self.stream(request)]
        return "".join(parts)

    def open_stream(self, request: GenerationRequest) -> AnswerStream:
        """Like ``stream``, with ``.outcome`` telling how the answer ended."""
        outcome = StreamOutcome()
        return AnswerStream(self._generate(request, outcome), outcome)

    async def answer(self, request: GenerationRequest) -> Answer:
        """The whole answer and how it ended."""
        async with self.open_stream(request) as stream:
            parts = [part async for part in stream]
        return Answer("".join(parts), stream.outcome)

    async def _generate(
        self, request: GenerationRequest, outcome: StreamOutcome
    ) -> AsyncIterator[str]:
        if (wait := self.backoff.blocked_for()) > 0:
            last = self.backoff.last_error
            kind = last.kind if last else "connection"
            raise ModelError(
                kind,
                f"paused after earlier failures; retrying in {wait:.1f}s",
                last.status if last else None,
            )
        transport = self._transport(request)
        started = time.perf_counter()
        self.active_streams += 1
        try:
            body = await self._open(request, transport)
            outcome.ttfb_s = time.perf_counter() - started
            ended = stopped = False
            try:
                texts = self._read(body, transport, request, outcome, started)
                async with contextlib.aclosing(texts):
                    async for text in texts:
                        try:
                            yield text
                        except GeneratorExit:  # the reader stopped early
                            stopped = True
                            raise
                ended = outcome.complete
            except asyncio.CancelledError:  # cancelled (cancel-previous, $/cancelRequest)
                stopped = True
                raise
            finally:
                outcome.total_s = time.perf_counter() - started
                if ended:
                    await self.http.finish(body)  # the rest of the body read, then pooled
                elif stopped:
                    self.http.release_early(body)  # closed unless the rest is already here
                else:
                    await body.close()  # cap, error: closed, the server sees it
            self.backoff.success()
        except ModelError as error:
            # Every failure counts, malformed streams too: an endpoint that always answers
            # garbage must not be hit on every keystroke (retry storm).
            self.backoff.failure(self._redacted(error))
            raise
        except OSError as exc:  # the HTTP layer converts its own failures; this is a stray one
            error = self._redacted(ModelError("connection", str(exc) or type(exc).__name__))
            self.backoff.failure(error)
            raise error from None
        finally:
            self.active_streams -= 1

    async def _open(self, request: GenerationRequest, transport: Transport) -> Body:
        """Send the request; the body to read (the caller releases it)."""
        model = request.model or self.endpoint.model
        deadline = time.monotonic() + (request.timeout_s or self.endpoint.timeout_s)
        limit = "actions.timeout_s" if request.purpose == "action" else "endpoint.timeout_s"
        try:
            if transport.name == "chat" and request.purpose == "action":
                client = await self._sdk_client()
                body = await self.http.send(
                    "POST",
                    self.http.base.join(sdk.CHAT_PATH),
                    deadline=deadline,
                    limit_name=limit,
                    send=lambda: sdk.send_chat(client, request, model, self.endpoint.api_key),
                )
            else:
                path, payload = transport.build(request, model)
                url = self.http.base.join(path, transport.on_root)
                body = await self.http.send(
                    "POST", url, json=payload, deadline=deadline, limit_name=limit
                )
        except StatusAnswer as answer:
            raise status_error(answer) from None
        return body

    async def _read(
        self,
        body: Body,
        transport: Transport,
        request: GenerationRequest,
        outcome: StreamOutcome,
        started: float,
    ) -> AsyncIterator[str]:
        max_chunks = CAP_CHUNKS_PER_TOKEN * request.max_tokens + CAP_MARGIN_CHUNKS
        max_chars = CAP_CHARS_PER_TOKEN * request.max_tokens + CAP_MARGIN_CHARS
        decode = transport.decode
        events = 0
        async for line in body.lines():
            event = decode(line)
            if event is None:
                continue
            events += 1
            if event.text:
                outcome.chunks += 1
                outcome.chars += len(event.text)
                if outcome.ttft_s is None:
                    outcome.ttft_s = time.perf_counter() - started
                if outcome.chunks > max_chunks or outcome.chars > max_chars:
                    outcome.finish_reason = "cap"
                    log.warning(
                        "the answer was cut at %d pieces / %d characters: the endpoint did not "
                        "stop at max_tokens = %d",
                        outcome.chunks,
                        outcome.chars,
                        request.max_tokens,
                    )
                    return
                yield event.text
            if event.finish_reason is not None:
                outcome.finish_reason = event.finish_reason
            if event.usage is not None:
                outcome.usage = event.usage
            if event.timings is not None:
                outcome.timings = event.timings
            if event.end:
                outcome.complete = True
                return
        if not events:  # a 200 with no stream in it: an HTML page, a proxy's notice, garbage
            raise ModelError("protocol", "the answer held no stream events")

    # --- the openai SDK -------------------------------------------------------------------

    async def _sdk_client(self) -> Any:
        if self._sdk is None:
            self._sdk = await sdk.make_client(self.http, self.endpoint)
        return self._sdk

    async def list_models(self) -> list[dict[str, Any]]:
        """The server's model list (``GET /models`` through the openai SDK)."""
        try:
            client = await self._sdk_client()
            return await sdk.list_models(self.http, client, self.endpoint.api_key)
        except StatusAnswer as answer:
            raise self._redacted(status_error(answer)) from None
        except ModelError as error:
            raise self._redacted(error) from None
