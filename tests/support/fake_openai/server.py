"""A scriptable OpenAI-compatible HTTP server for end-to-end tests, benchmarks and editor runs.

Written on raw ``asyncio.start_server`` with its own small HTTP/1.1 parser (keep-alive,
Content-Length and chunked bodies) rather than a web framework, so that faults can be placed
exactly: a delay before the headers, a hang after the second chunk, a stream cut without its
terminating chunk, a line that is not JSON, bytes that are not HTTP at all. While a reply is being
sent (or withheld) the socket is watched for EOF, so a client that gives up is recorded as
"disconnected" at once, also while the server sleeps or hangs.

    async with FakeOpenAI() as fake:
        fake.script(Reply(text="a + b"), Reply.error(429, "slow down", retry_after=1))
        ...  # point the client at fake.base_url
        (request,) = await fake.wait_for_requests(1)

    with FakeOpenAI.run_in_thread(flavor="llamacpp") as fake:  # from synchronous code
        fake.default = Reply(text="x")
        fake.wait_for_requests(1)

    python -m tests.support.fake_openai --port 8012 --flavor llamacpp --text "a + b"
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http
import inspect
import itertools
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

Outcome = Literal["pending", "completed", "disconnected"]
Flavor = Literal["openai", "vllm", "llamacpp", "ollama", "lmstudio", "dashscope"]
Responder = Callable[["RecordedRequest"], "Reply | Awaitable[Reply | None] | None"]

DEFAULT_TEXT = "return a + b"
GENERATION_ROUTES = frozenset({"completions", "chat", "infill", "ollama"})
MAX_HEAD_BYTES = 64 * 1024
CREATED = 1_700_000_000  # a fixed "created" for model lists: stable across runs


@dataclass
class Reply:
    """What the server does with one generation request."""

    text: str = ""
    chunks: list[str] | None = None  # explicit stream pieces; their join is the text
    chunk_size: int = 4  # piece size when ``chunks`` is None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_body: dict[str, Any] | str | None = None  # body when status != 200
    delay_before_headers: float = 0.0
    delay_per_chunk: float = 0.0
    hang_before_headers: bool = False  # never answer; wait for the client to leave
    hang_after_chunks: int | None = None  # send N content chunks, then hang
    truncate_after_chunks: int | None = None  # send N content chunks, then close the socket
    malformed: bool = False  # a stream line (or a whole body) that is not JSON
    raw_response: bytes | None = None  # written verbatim instead of HTTP, then closed
    finish_reason: str = "stop"  # "" for a stream that ends without one
    repeat: int = 1  # the text repeated, for huge answers
    ignore_max_tokens: bool = False  # a runaway server: the whole text whatever the limit
    final_extra: dict[str, Any] | None = None  # merged into the last payload (e.g. "timings")

    @classmethod
    def error(
        cls,
        status: int,
        message: str,
        retry_after: float | None = None,
        *,
        type: str | None = None,
        code: str | None = None,
    ) -> Reply:
        """An error in OpenAI's shape: ``{"error": {"message", "type", "code"}}``."""
        default_type, default_code = _ERROR_KINDS.get(status, ("server_error", None))
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        body = {"message": message, "type": type or default_type, "code": code or default_code}
        return cls(status=status, headers=headers, error_body={"error": body})

    def full_text(self) -> str:
        base = "".join(self.chunks) if self.chunks is not None else self.text
        return base * self.repeat


_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


@dataclass(eq=False)  # identity semantics: two identical requests are still two requests
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    json: Any  # parsed body, or None
    received_at: float  # time.monotonic() once the body was read
    connection_id: int
    route: str = ""  # completions, chat, infill, ollama, models, static, or "" (no route)
    outcome: Outcome = "pending"
    status: int | None = None
    chunks_sent: int = 0  # content chunks written (streams only)
    finished_at: float | None = None
    disconnected_at: float | None = None
    reply: Reply | None = None

    @property
    def generation(self) -> bool:
        """True for requests answered from the script (completions, chat, infill, generate)."""
        return self.route in GENERATION_ROUTES


@dataclass(frozen=True)
class Traffic:
    """Counters of what reached the server (``FakeOpenAI.traffic()``)."""

    received: int  # generation requests read in full
    completed: int  # answered to the end
    dropped: int  # started, then the client went away before the answer was complete
    connections_opened: int  # TCP connections accepted, ever
    active_connections: int  # open now


# --- flavours: what each kind of server adds on top of the OpenAI routes ---------------------

JsonBuilder = Callable[[list[str]], Any]


@dataclass(frozen=True)
class _FlavorSpec:
    owned_by: str
    models: tuple[str, ...]
    model_extra: dict[str, Any] = field(default_factory=dict)
    gets: dict[str, JsonBuilder] = field(default_factory=dict)  # exact path -> JSON body
    posts: dict[str, str] = field(default_factory=dict)  # exact path -> generation route
    prefix: str = ""  # OpenAI routes only under this path prefix ("" = under any prefix)


def _ollama_tags(models: list[str]) -> Any:
    details = {
        "format": "gguf",
        "family": "qwen2",
        "parameter_size": "1.5B",
        "quantization_level": "Q4_K_M",
    }
    return {
        "models": [
            {
                "name": m,
                "model": m,
                "modified_at": "2025-01-01T00:00:00Z",
                "size": 986_061_892,
                "digest": "0" * 64,
                "details": details,
            }
            for m in models
        ]
    }


def _lmstudio_models(models: list[str]) -> Any:
    return {
        "object": "list",
        "data": [
            {
                "id": m,
                "object": "model",
                "type": "llm",
                "publisher": "lmstudio-community",
                "arch": "qwen2",
                "compatibility_type": "gguf",
                "quantization": "Q4_K_M",
                "state": "loaded",
                "max_context_length": 32768,
            }
            for m in models
        ],
    }


def _llamacpp_props(models: list[str]) -> Any:
    settings = {"n_ctx": 32768, "params": {"n_predict": -1, "temperature": 0.8, "top_p": 0.95}}
    return {
        "default_generation_settings": settings,
        "total_slots": 1,
        "model_path": f"/models/{models[0]}",
        "build_info": "b5600-fake",
    }


FLAVORS: dict[str, _FlavorSpec] = {
    "openai": _FlavorSpec("openai", ("qwen2.5-coder-1.5b",)),
    "vllm": _FlavorSpec(
        "vllm",
        ("Qwen/Qwen2.5-Coder-1.5B",),
        model_extra={"max_model_len": 32768, "parent": None},
        gets={"/version": lambda _: {"version": "0.9.2"}},
    ),
    "llamacpp": _FlavorSpec(
        "llamacpp",
        ("qwen2.5-coder-1.5b-q8_0.gguf",),
        gets={"/health": lambda _: {"status": "ok"}, "/props": _llamacpp_props},
        posts={"/infill": "infill"},
    ),
    "ollama": _FlavorSpec(
        "library",
        ("qwen2.5-coder:1.5b",),
        gets={"/api/version": lambda _: {"version": "0.9.6"}, "/api/tags": _ollama_tags},
        posts={"/api/generate": "ollama"},
    ),
    "lmstudio": _FlavorSpec(
        "organization_owner",
        ("qwen2.5-coder-1.5b-instruct",),
        gets={"/api/v0/models": _lmstudio_models},
    ),
    "dashscope": _FlavorSpec(
        "system",
        ("qwen2.5-coder-32b-instruct", "qwen2.5-coder-7b-instruct", "qwen3-coder-plus"),
        prefix="/compatible-mode/v1/",
    ),
}


# --- building answers ----------------------------------------------------------------------


@dataclass
class _Generation:
    """One answer being produced: the request's limits applied to the scripted text."""

    route: str
    request: dict[str, Any]
    reply: Reply
    text: str
    finish_reason: str
    stopping_word: str
    model: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:24])
    created: int = field(default_factory=lambda: int(time.time()))

    def usage(self) -> dict[str, int]:
        # Rough token counts (4 characters a token): enough for clients that read the fields.
        prompt_source = self.request.get("prompt") or self.request.get("messages") or ""
        prompt = _rough_tokens(
            json.dumps(prompt_source) if not isinstance(prompt_source, str) else prompt_source
        )
        completion = _rough_tokens(self.text)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def pieces(self) -> Iterator[str]:
        """The stream's content pieces; together exactly ``self.text``."""
        if self.reply.chunks is None:
            size = max(1, self.reply.chunk_size)
            yield from (self.text[i : i + size] for i in range(0, len(self.text), size))
            return
        left = len(self.text)
        for chunk in itertools.chain.from_iterable(
            itertools.repeat(self.reply.chunks, self.reply.repeat)
        ):
            if left <= 0:
                return
            yield chunk[:left]
            left -= len(chunk)


def _rough_tokens(text: str) -> int:
    return -(-len(text) // 4)


def _limits(route: str, body: dict[str, Any]) -> tuple[list[str], int | None]:
    """The request's stop strings and its length limit in characters."""
    options = body.get("options") if route == "ollama" else body
    options = options if isinstance(options, dict) else {}
    stop = options.get("stop")
    stops = [stop] if isinstance(stop, str) else [s for s in stop or [] if isinstance(s, str)]
    key = {"infill": "n_predict", "ollama": "num_predict"}.get(route, "max_tokens")
    tokens = options.get(key)
    if route == "chat" and tokens is None:
        tokens = options.get("max_completion_tokens")
    # Models count tokens, we count characters: 4 per token is close enough for a fake.
    limit = tokens * 4 if isinstance(tokens, int) and tokens > 0 else None
    return [s for s in stops if s], limit


def _generation(route: str, body: dict[str, Any], reply: Reply, model: str) -> _Generation:
    text = reply.full_text()
    stops, limit = _limits(route, body)
    cut, finish, word = len(text), reply.finish_reason, ""
    for stop in stops:
        at = text.find(stop)
        if 0 <= at < cut:
            cut, finish, word = at, "stop", stop
    if limit is not None and limit < cut and not reply.ignore_max_tokens:
        cut, finish, word = limit, "length", ""
    return _Generation(route, body, reply, text[:cut], finish, word, model)


def _sse(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _ollama_final(g: _Generation, text: str) -> dict[str, Any]:
    usage = g.usage()
    final = {
        "model": g.model,
        "created_at": _iso_now(),
        "response": text,
        "done": True,
        "done_reason": "length" if g.finish_reason == "length" else "stop",
        "total_duration": 1_000_000,
        "prompt_eval_count": usage["prompt_tokens"],
        "eval_count": usage["completion_tokens"],
    }
    if not g.request.get("raw"):
        final["context"] = [1, 2, 3]  # Ollama returns token context only for templated prompts
    return final


def _infill_final(g: _Generation, text: str) -> dict[str, Any]:
    stop_type = {"stop": "word" if g.stopping_word else "eos", "length": "limit"}
    return {
        "content": text,
        "stop": True,
        "stop_type": stop_type.get(g.finish_reason, "eos"),
        "stopping_word": g.stopping_word,
        "tokens_predicted": _rough_tokens(g.text),
        "tokens_evaluated": g.usage()["prompt_tokens"],
    }


def _full_body(g: _Generation) -> dict[str, Any]:
    """The non-streamed answer."""
    if g.route == "infill":
        return _infill_final(g, g.text)
    if g.route == "ollama":
        return _ollama_final(g, g.text)
    if g.route == "chat":
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": g.text},
            "logprobs": None,
            "finish_reason": g.finish_reason,
        }
        return {
            "id": f"chatcmpl-{g.id}",
            "object": "chat.completion",
            "created": g.created,
            "model": g.model,
            "choices": [choice],
            "usage": g.usage(),
        }
    choice = {"index": 0, "text": g.text, "logprobs": None, "finish_reason": g.finish_reason}
    return {
        "id": f"cmpl-{g.id}",
        "object": "text_completion",
        "created": g.created,
        "model": g.model,
        "choices": [choice],
        "usage": g.usage(),
    }


def _frames(g: _Generation) -> Iterator[tuple[str, bytes]]:
    """The streamed answer as (kind, bytes) with kind "head", "content" or "tail"."""
    if g.route == "ollama":  # NDJSON, no [DONE]
        for piece in g.pieces():
            line = {"model": g.model, "created_at": _iso_now(), "response": piece, "done": False}
            yield "content", json.dumps(line).encode() + b"\n"
        yield "tail", json.dumps(_ollama_final(g, "")).encode() + b"\n"
        return
    if g.route == "infill":  # llama.cpp's own SSE: no [DONE] either
        for piece in g.pieces():
            yield "content", _sse({"content": piece, "stop": False})
        yield "tail", _sse({**_infill_final(g, ""), **(g.reply.final_extra or {})})
        return
    chat = g.route == "chat"
    base = {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{g.id}",
        "object": "chat.completion.chunk" if chat else "text_completion",
        "created": g.created,
        "model": g.model,
    }

    def chunk(content: str | None, finish: str | None, role: bool = False, **extra: Any) -> bytes:
        if chat:
            delta: dict[str, Any] = {"role": "assistant"} if role else {}
            if content is not None:
                delta["content"] = content
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": content or "", "logprobs": None, "finish_reason": finish}
        return _sse({**base, "choices": [choice], **extra})

    if chat:
        yield "head", chunk("", None, role=True)  # OpenAI opens chat streams with the role
    for piece in g.pieces():
        yield "content", chunk(piece, None)
    yield "tail", chunk(None, g.finish_reason or None, **(g.reply.final_extra or {}))
    stream_options = g.request.get("stream_options")
    if isinstance(stream_options, dict) and stream_options.get("include_usage"):
        yield "tail", _sse({**base, "choices": [], "usage": g.usage()})
    yield "tail", b"data: [DONE]\n\n"


def _iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _error_body(route: str, status: int, message: str, type_: str, code: str | None) -> Any:
    if route == "ollama":
        return {"error": message}
    if route == "infill":  # llama.cpp puts the numeric status in "code"
        return {"error": {"code": status, "message": message, "type": type_}}
    return {"error": {"message": message, "type": type_, "code": code}}


# --- the connection -------------------------------------------------------------------------


class _Disconnected(Exception):
    """The client went away while we were answering."""


class _BadRequest(Exception):
    pass


class _Connection:
    """One client socket: a pushback buffer in front of the reader, plus an EOF watcher.

    The watcher reads while a reply is in progress; anything it gets (a pipelined request) goes
    into the buffer for the next parse, and EOF sets ``eof`` so sleeps and hangs end at once.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cid: int):
        self.reader, self.writer, self.id = reader, writer, cid
        self.buffer = bytearray()
        self.eof = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    async def _fill(self) -> bool:
        try:
            data = await self.reader.read(65536)
        except (ConnectionError, OSError):
            data = b""
        self.buffer += data
        return bool(data)

    async def read_until(self, marker: bytes, limit: int = MAX_HEAD_BYTES) -> bytes | None:
        """Bytes up to and including ``marker``; None at a clean EOF before any byte."""
        while (at := self.buffer.find(marker)) < 0:
            if len(self.buffer) > limit:
                raise _BadRequest("request head too large")
            if not await self._fill():
                if self.buffer:
                    raise _Disconnected
                return None
        data = bytes(self.buffer[: at + len(marker)])
        del self.buffer[: at + len(marker)]
        return data

    async def read_exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            if not await self._fill():
                raise _Disconnected
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    async def read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = await self.read_until(b"\r\n")
            if line is None:
                raise _Disconnected
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BadRequest("bad chunk size") from None
            if size == 0:
                while True:  # skip trailers up to the blank line
                    if await self.read_until(b"\r\n") in (b"\r\n", None):
                        return bytes(body)
            body += await self.read_exactly(size)
            await self.read_exactly(2)

    def watch(self, on_eof: Callable[[], None]) -> None:
        async def run() -> None:
            while await self._fill():
                pass
            self.eof.set()
            on_eof()

        self._watcher = asyncio.ensure_future(run())

    async def unwatch(self) -> None:
        if self._watcher is not None:
            watcher, self._watcher = self._watcher, None
            watcher.cancel()  # cancelling a pending read loses no bytes
            # Let it finish: the StreamReader refuses a second reader while the first waits.
            await asyncio.wait([watcher])

    async def sleep(self, seconds: float) -> None:
        if self.eof.is_set():
            raise _Disconnected
        if seconds > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.eof.wait(), seconds)
                raise _Disconnected

    async def hang(self) -> None:
        await self.eof.wait()
        raise _Disconnected

    async def send(self, data: bytes) -> None:
        if self.eof.is_set() or self.writer.is_closing():
            raise _Disconnected
        self.writer.write(data)
        try:
            await self.writer.drain()
        except (ConnectionError, OSError):
            raise _Disconnected from None


def _head(status: int, headers: dict[str, str]) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [f"HTTP/1.1 {status} {phrase}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _merge(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """Header dicts merged case-insensitively, ``extra`` winning."""
    lowered = {k.lower() for k in extra}
    return {**{k: v for k, v in base.items() if k.lower() not in lowered}, **extra}


def _chunk(frame: bytes) -> bytes:
    return f"{len(frame):x}\r\n".encode() + frame + b"\r\n"


# --- the server -----------------------------------------------------------------------------


class FakeOpenAI:
    """The scriptable server. Scripting and recording are safe to use from other threads."""

    def __init__(
        self,
        *,
        port: int = 0,
        flavor: Flavor | str = "openai",
        api_key: str | None = None,
        models: list[str] | None = None,
        default: Reply | None = None,
        responder: Responder | None = None,
    ):
        if flavor not in FLAVORS:
            raise ValueError(f"unknown flavor {flavor!r}; one of {sorted(FLAVORS)}")
        self.flavor = flavor
        self.api_key = api_key
        self.models = models
        self.default = default or Reply(text=DEFAULT_TEXT)
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self.active_connections = 0
        self.connections_opened = 0
        self.port = port
        self._spec = FLAVORS[flavor]
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # for waits from other threads
        self._waiters: set[asyncio.Event] = set()  # for waits on the server's own loop
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ids = itertools.count(1)

    # lifecycle

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + (self._spec.prefix.rstrip("/") or "/v1")

    async def start(self) -> FakeOpenAI:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close the listener and every open connection (hanging replies included)."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)

    async def __aenter__(self) -> FakeOpenAI:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # scripting

    def script(self, *replies: Reply | str) -> None:
        """Queue replies for the next generation requests, one each, in order."""
        with self._lock:
            self._queue.extend(r if isinstance(r, Reply) else Reply(text=r) for r in replies)

    def reset(self) -> None:
        """Forget queued replies and recorded requests (default and responder stay)."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def generations(self) -> list[RecordedRequest]:
        """The generation requests so far, oldest first (the server's probes left out)."""
        with self._lock:
            return [r for r in self.requests if r.generation]

    def traffic(self) -> Traffic:
        """Generation requests received / completed / dropped, and connections opened."""
        generations = self.generations
        return Traffic(
            received=len(generations),
            completed=sum(1 for r in generations if r.outcome == "completed"),
            dropped=sum(1 for r in generations if r.outcome == "disconnected"),
            connections_opened=self.connections_opened,
            active_connections=self.active_connections,
        )

    # waiting

    def _notify(self) -> None:
        """Wake waiters; called on the server's loop after every recorded change."""
        with self._changed:
            self._changed.notify_all()
        for event in self._waiters:
            event.set()

    def _first_requests(self, n: int, all_routes: bool) -> list[RecordedRequest] | None:
        found = [r for r in self.requests if all_routes or r.generation]
        return found[:n] if len(found) >= n else None

    @staticmethod
    def _outcome_check(request: RecordedRequest, outcome: Outcome) -> RecordedRequest | None:
        if request.outcome == outcome:
            return request
        if request.outcome != "pending":  # final: waiting longer cannot help
            raise AssertionError(
                f"{request.method} {request.path} ended {request.outcome!r}, not {outcome!r}"
            )
        return None

    async def _wait(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                result = check()
            if result is not None:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"fake OpenAI server: no {what} within {timeout} s")
            event = asyncio.Event()
            self._waiters.add(event)
            try:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
            finally:
                self._waiters.discard(event)

    def _wait_sync(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        found: list[Any] = []

        def ready() -> bool:
            if (result := check()) is not None:
                found.append(result)
            return bool(found)

        with self._changed:
            if not self._changed.wait_for(ready, timeout):
                raise TimeoutError(f"fake OpenAI server: no {what} within {timeout} s")
        return found[0]

    async def wait_for_requests(
        self, n: int, timeout: float = 5.0, *, all_routes: bool = False
    ) -> list[RecordedRequest]:
        """The first ``n`` generation requests (any request with ``all_routes``), once there."""
        return await self._wait(
            lambda: self._first_requests(n, all_routes), timeout, f"{n} request(s)"
        )

    async def wait_for_outcome(
        self, request: RecordedRequest, outcome: Outcome, timeout: float = 5.0
    ) -> RecordedRequest:
        return await self._wait(
            lambda: self._outcome_check(request, outcome), timeout, f"{outcome!r} outcome"
        )

    # running on a thread, for synchronous callers

    @classmethod
    @contextlib.contextmanager
    def run_in_thread(cls, **kwargs: Any) -> Iterator[FakeOpenAIThread]:
        """Serve on a fresh event loop in a daemon thread; yields a thread-safe handle."""
        fake = cls(**kwargs)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fake-openai", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
            yield FakeOpenAIThread(fake, loop)
        finally:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    # serving

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Connection(reader, writer, next(self._ids))
        self.active_connections += 1
        self.connections_opened += 1
        self._notify()
        try:
            while await self._one_request(conn):
                pass
        except (_Disconnected, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            # Only stop() cancels handlers. Ending quietly keeps asyncio (3.11) from logging
            # the cancellation as an error in start_server's done-callback.
            pass
        except _BadRequest as exc:
            with contextlib.suppress(_Disconnected):
                body = json.dumps(
                    {"error": {"message": str(exc), "type": "invalid_request_error", "code": None}}
                ).encode()
                headers = {"Content-Type": "application/json", "Connection": "close"}
                await conn.send(_head(400, {**headers, "Content-Length": str(len(body))}) + body)
        except Exception:
            log.exception("fake OpenAI server: handler failed")
        finally:
            await conn.unwatch()
            writer.close()
            self.active_connections -= 1
            self._tasks.discard(task)
            self._notify()

    async def _one_request(self, conn: _Connection) -> bool:
        """Read and answer one request; False when the connection should close."""
        head = await conn.read_until(b"\r\n\r\n")
        if head is None:
            return False
        request_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        try:
            method, target, version = request_line.split(" ")
        except ValueError:
            raise _BadRequest(f"bad request line {request_line[:80]!r}") from None
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            await conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")  # curl waits for this
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await conn.read_chunked()
        else:
            try:
                body = await conn.read_exactly(int(headers.get("content-length") or 0))
            except ValueError:
                raise _BadRequest("bad Content-Length") from None
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection and (
            version == "HTTP/1.1" or "keep-alive" in connection
        )

        if "://" in target:  # absolute form, as sent to proxies
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, query = target.partition("?")
        path = path.rstrip("/") or "/"
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        rec = RecordedRequest(method, path, query, headers, body, parsed, time.monotonic(), conn.id)
        with self._lock:
            self.requests.append(rec)
        self._notify()
        return await self._answer(conn, rec, keep_alive)

    def _resolve(self, path: str) -> tuple[str, str, JsonBuilder | None] | None:
        """(method, route, JSON builder) for a path under this flavour, or None."""
        spec = self._spec
        if path in spec.gets:
            return "GET", "static", spec.gets[path]
        if path in spec.posts:
            return "POST", spec.posts[path], None
        if spec.prefix and not path.startswith(spec.prefix):
            return None
        if path.startswith("/api/"):  # Ollama's and LM Studio's native APIs: not OpenAI's
            return None
        for suffix, method, route in (
            ("/chat/completions", "POST", "chat"),
            ("/completions", "POST", "completions"),
            ("/models", "GET", "models"),
        ):
            if path.endswith(suffix):
                return method, route, None
        return None

    async def _answer(self, conn: _Connection, rec: RecordedRequest, keep_alive: bool) -> bool:
        resolved = self._resolve(rec.path)
        rec.route = resolved[1] if resolved else ""

        async def error(status: int, message: str, type_: str, code: str | None = None) -> bool:
            body = _error_body(rec.route, status, message, type_, code)
            return await self._send_json(conn, rec, status, body, {}, keep_alive)

        if resolved is None:
            return await error(
                404, f"Invalid URL ({rec.method} {rec.path})", "invalid_request_error"
            )
        method, route, builder = resolved
        if rec.method != method:
            return await error(405, f"Method {rec.method} not allowed", "invalid_request_error")
        authorized = rec.headers.get("authorization") == f"Bearer {self.api_key}"
        if self.api_key is not None and rec.path != "/health" and not authorized:
            message = "Incorrect API key provided."
            return await error(401, message, "invalid_request_error", "invalid_api_key")
        models = list(self.models or self._spec.models)
        if builder is not None:
            return await self._send_json(conn, rec, 200, builder(models), {}, keep_alive)
        if route == "models":
            entries = [
                {
                    "id": m,
                    "object": "model",
                    "created": CREATED,
                    "owned_by": self._spec.owned_by,
                    **self._spec.model_extra,
                }
                for m in models
            ]
            return await self._send_json(
                conn, rec, 200, {"object": "list", "data": entries}, {}, keep_alive
            )

        body = rec.json
        if not isinstance(body, dict):
            return await error(
                400, "The request body is not a JSON object.", "invalid_request_error"
            )
        required = {"completions": "prompt", "chat": "messages", "ollama": "model"}.get(route)
        if required and required not in body:
            message = f"you must provide a {required} parameter"
            return await error(400, message, "invalid_request_error")
        model = body.get("model")
        if self.models is not None and route != "infill" and model not in self.models:
            if route == "ollama":
                return await error(404, f'model "{model}" not found, try pulling it first', "")
            message = f"The model `{model}` does not exist."
            return await error(404, message, "invalid_request_error", "model_not_found")

        reply = await self._next_reply(rec)
        rec.reply = reply
        generation = _generation(route, body, reply, str(model or models[0]))

        def on_eof() -> None:
            if rec.outcome == "pending":
                rec.outcome, rec.disconnected_at = "disconnected", time.monotonic()
                self._notify()

        conn.watch(on_eof)
        try:
            keep_alive = await self._serve(conn, rec, generation, keep_alive)
        finally:
            await conn.unwatch()
        return keep_alive

    async def _next_reply(self, rec: RecordedRequest) -> Reply:
        with self._lock:
            reply = self._queue.popleft() if self._queue else None
        if reply is None and self.responder is not None:
            result = self.responder(rec)
            reply = await result if inspect.isawaitable(result) else result
        return reply or self.default

    def _done(self, rec: RecordedRequest, status: int) -> None:
        rec.status = status
        if rec.outcome == "pending":
            rec.outcome, rec.finished_at = "completed", time.monotonic()
        self._notify()

    async def _send_json(
        self,
        conn: _Connection,
        rec: RecordedRequest,
        status: int,
        payload: Any,
        extra_headers: dict[str, str],
        keep_alive: bool,
        content_type: str = "application/json",
    ) -> bool:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(len(body)),
            "Connection": "keep-alive" if keep_alive else "close",
        }
        await conn.send(_head(status, _merge(headers, extra_headers)) + body)
        self._done(rec, status)
        return keep_alive

    async def _serve(
        self, conn: _Connection, rec: RecordedRequest, g: _Generation, keep_alive: bool
    ) -> bool:
        """Answer a generation request as its Reply says; False to close the connection."""
        reply = g.reply
        if reply.raw_response is not None:
            await conn.send(reply.raw_response)
            self._done(rec, 0)
            return False
        if reply.hang_before_headers:
            await conn.hang()
        await conn.sleep(reply.delay_before_headers)

        if reply.status != 200:
            body = reply.error_body
            if body is None:
                body = _error_body(
                    g.route, reply.status, f"fake error {reply.status}", "server_error", None
                )
            elif (
                g.route == "ollama"
                and isinstance(body, dict)
                and isinstance(body.get("error"), dict)
            ):
                body = {"error": body["error"].get("message", "")}  # Ollama's error is a string
            if isinstance(body, str):
                return await self._send_json(
                    conn, rec, reply.status, body.encode(), reply.headers, keep_alive, "text/plain"
                )
            return await self._send_json(conn, rec, reply.status, body, reply.headers, keep_alive)

        stream = g.request.get("stream", g.route == "ollama")  # Ollama streams unless told not to
        if not stream:
            return await self._serve_whole(conn, rec, g, keep_alive)

        ndjson = g.route == "ollama"
        headers = {
            "Content-Type": "application/x-ndjson" if ndjson else "text/event-stream",
            "Transfer-Encoding": "chunked",
            "Cache-Control": "no-cache",
            "Connection": "keep-alive" if keep_alive else "close",
        }
        await conn.send(_head(200, _merge(headers, reply.headers)))
        frames: Iterable[tuple[str, bytes]] = _frames(g)
        if reply.malformed:
            bad = b"this is not json {\n" if ndjson else b"data: this is not json {\n\n"
            frames = itertools.chain([("head", bad)], frames)
        tail: list[bytes] = []
        for kind, frame in frames:
            if kind == "tail":
                tail.append(frame)
                continue
            if kind == "content":
                if await self._cut_short(conn, rec, reply, at_end=False):
                    return False
                await conn.sleep(reply.delay_per_chunk)
            await conn.send(_chunk(frame))
            if kind == "content":
                rec.chunks_sent += 1
        if await self._cut_short(conn, rec, reply, at_end=True):
            return False
        # One write for the end, so a client that stops at [DONE] sees a completed reply.
        await conn.send(b"".join(_chunk(f) for f in tail) + b"0\r\n\r\n")
        self._done(rec, 200)
        return keep_alive

    async def _cut_short(
        self, conn: _Connection, rec: RecordedRequest, reply: Reply, at_end: bool
    ) -> bool:
        """Hang or truncate here if the reply says so (after N chunks, or before the end)."""
        hang, cut = reply.hang_after_chunks, reply.truncate_after_chunks
        if hang is not None and (at_end or rec.chunks_sent >= hang):
            await conn.hang()
        if cut is not None and (at_end or rec.chunks_sent >= cut):
            self._done(rec, 200)
            return True
        return False

    async def _serve_whole(
        self, conn: _Connection, rec: RecordedRequest, g: _Generation, keep_alive: bool
    ) -> bool:
        """Non-streamed answer. Hang / truncate apply to the body: none of it / half of it."""
        reply = g.reply
        body = json.dumps(_full_body(g)).encode()
        if reply.malformed:
            body = body[: len(body) // 2]
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "Connection": "keep-alive" if keep_alive else "close",
        }
        head = _head(200, _merge(headers, reply.headers))
        if reply.hang_after_chunks is not None:
            await conn.send(head)
            await conn.hang()
        if reply.truncate_after_chunks is not None:
            await conn.send(head + body[: len(body) // 2])
            self._done(rec, 200)
            return False
        await conn.sleep(reply.delay_per_chunk)
        await conn.send(head + body)
        self._done(rec, 200)
        return keep_alive


class FakeOpenAIThread:
    """Handle on a FakeOpenAI served by ``run_in_thread``: blocking waits, snapshot reads."""

    def __init__(self, fake: FakeOpenAI, loop: asyncio.AbstractEventLoop):
        self.fake, self.loop = fake, loop

    port = property(lambda self: self.fake.port)
    base_url = property(lambda self: self.fake.base_url)
    root_url = property(lambda self: self.fake.root_url)
    active_connections = property(lambda self: self.fake.active_connections)
    connections_opened = property(lambda self: self.fake.connections_opened)

    @property
    def default(self) -> Reply:
        return self.fake.default

    @default.setter
    def default(self, reply: Reply) -> None:
        self.fake.default = reply  # one attribute store: atomic

    @property
    def responder(self) -> Responder | None:
        return self.fake.responder

    @responder.setter
    def responder(self, responder: Responder | None) -> None:
        self.fake.responder = responder  # called on the server's thread

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot copy; the request objects themselves keep updating."""
        with self.fake._lock:
            return list(self.fake.requests)

    def script(self, *replies: Reply | str) -> None:
        self.fake.script(*replies)

    def reset(self) -> None:
        self.fake.reset()

    def wait_for_requests(
        self, n: int, timeout: float = 5.0, *, all_routes: bool = False
    ) -> list[RecordedRequest]:
        return self.fake._wait_sync(
            lambda: self.fake._first_requests(n, all_routes), timeout, f"{n} request(s)"
        )

    def wait_for_outcome(
        self, request: RecordedRequest, outcome: Outcome, timeout: float = 5.0
    ) -> RecordedRequest:
        return self.fake._wait_sync(
            lambda: FakeOpenAI._outcome_check(request, outcome), timeout, f"{outcome!r} outcome"
        )


# --- command line: a fixed reply for editors in other processes ----------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_openai",
        description=(
            "Serve a fixed OpenAI-compatible reply on 127.0.0.1 until killed; prints the base URL."
        ),
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--flavor", choices=sorted(FLAVORS), default="openai")
    parser.add_argument("--text", default=DEFAULT_TEXT, help="the reply to every request")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before headers")
    parser.add_argument("--chunk-size", type=int, default=4, help="characters per stream chunk")
    parser.add_argument("--repeat", type=int, default=1, help="the text repeated N times")
    parser.add_argument(
        "--ignore-max-tokens", action="store_true", help="a runaway server: ignore max_tokens"
    )
    parser.add_argument(
        "--hang-after", type=int, default=None, help="send N chunks, then wait for the client"
    )
    parser.add_argument("--api-key", default=None, help="require this bearer token")
    parser.add_argument("--model", action="append", help="accepted model (repeatable)")
    args = parser.parse_args(argv)
    reply = Reply(
        text=args.text,
        chunk_size=args.chunk_size,
        delay_before_headers=args.latency_ms / 1000,
        repeat=args.repeat,
        ignore_max_tokens=args.ignore_max_tokens,
        hang_after_chunks=args.hang_after,
    )

    async def serve() -> None:
        fake = FakeOpenAI(
            port=args.port,
            flavor=args.flavor,
            api_key=args.api_key,
            models=args.model,
            default=reply,
        )
        async with fake:
            print(fake.base_url, flush=True)
            await asyncio.Event().wait()  # until killed

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
