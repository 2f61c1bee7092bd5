"""A recording HTTP proxy between qwen-lsp and the model server, on 127.0.0.1.

Bytes pass through as they arrive (streams stay streams, a client that hangs up closes the
upstream connection, so the model server sees the disconnect); each exchange is kept: the request
body (the prompt qwen-lsp built, its ``max_tokens`` and ``stop``), the streamed answer text, its
``finish_reason``, the number of streamed chunks (llama-cpp-python streams one token a chunk),
timings, and whether the client closed the stream before the server finished.

One upstream connection per request (``Connection: close`` both ways), so framing never has to be
understood while relaying; it is parsed afterwards for the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

HEAD_END = b"\r\n\r\n"


@dataclass
class Exchange:
    method: str
    path: str
    request: Any  # parsed JSON body, or None
    started: float
    first_byte: float | None = None
    finished: float | None = None
    status: int = 0
    raw_response: bytes = b""
    client_closed_early: bool = False
    text: str = ""
    finish_reason: str | None = None
    chunks: int = 0
    error: str = ""

    @property
    def generation(self) -> bool:
        return self.path.endswith(("/completions", "/chat/completions"))

    @property
    def seconds(self) -> float:
        return (self.finished or self.started) - self.started


@dataclass
class Recorder:
    upstream: str  # root URL of the model server, e.g. http://127.0.0.1:8080
    exchanges: list[Exchange] = field(default_factory=list)
    port: int = 0

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def generations(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.generation]

    def mark(self) -> int:
        return len(self.exchanges)

    def since(self, mark: int, timeout: float = 30.0) -> list[Exchange]:
        """Generation exchanges started after ``mark``, once each has finished relaying (the
        client may have its answer a moment before the proxy saw the upstream close)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.exchanges[mark:] if e.generation]
            if all(e.finished is not None for e in found):
                return found
            time.sleep(0.02)
        return [e for e in self.exchanges[mark:] if e.generation]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            head = await reader.readuntil(HEAD_END)
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = [line.split(":", 1) for line in lines[1:] if ":" in line]
        length = next((int(v) for k, v in headers if k.strip().lower() == "content-length"), 0)
        body = await reader.readexactly(length) if length else b""
        exchange = Exchange(method, path, _json(body), time.monotonic())
        self.exchanges.append(exchange)
        target = urlsplit(self.upstream)
        up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
        kept = [f"{k}:{v}" for k, v in headers if k.strip().lower() not in ("connection", "host")]
        up_head = [lines[0], f"Host: {target.netloc}", *kept, "Connection: close", "", ""]
        up_writer.write("\r\n".join(up_head).encode("latin-1") + body)
        await up_writer.drain()
        watcher = asyncio.ensure_future(reader.read(1))  # EOF: the client hung up
        received = bytearray()
        try:
            while True:
                reading = asyncio.ensure_future(up_reader.read(65536))
                done, _ = await asyncio.wait(
                    {reading, watcher}, return_when=asyncio.FIRST_COMPLETED
                )
                if watcher in done and reading not in done:
                    reading.cancel()
                    exchange.client_closed_early = True
                    break
                data = reading.result()
                if not data:
                    break
                if exchange.first_byte is None:
                    exchange.first_byte = time.monotonic()
                received += data
                writer.write(data)
                await writer.drain()
        except ConnectionError as exc:
            exchange.client_closed_early = True
            exchange.error = str(exc)
        finally:
            exchange.finished = time.monotonic()
            up_writer.close()
            watcher.cancel()
            exchange.raw_response = bytes(received)
            _parse_response(exchange)
        return False  # one exchange per client connection: we answered with Connection: close


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


def _parse_response(exchange: Exchange) -> None:
    head, _, body = exchange.raw_response.partition(HEAD_END)
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    with contextlib.suppress(ValueError, IndexError):
        exchange.status = int(status_line.split(" ")[1])
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    text = []
    payloads = []
    if b"text/event-stream" in head.lower():
        for line in body.decode("utf-8", "replace").splitlines():
            if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]"):
                payloads.append(_json(line[5:].strip().encode()))
    else:
        payloads.append(_json(body))
    for payload in payloads:
        for choice in (payload or {}).get("choices", []) if isinstance(payload, dict) else []:
            piece = choice.get("text")
            if piece is None:
                piece = (choice.get("delta") or choice.get("message") or {}).get("content")
            if piece:
                text.append(piece)
                exchange.chunks += 1
            if choice.get("finish_reason"):
                exchange.finish_reason = choice["finish_reason"]
    exchange.text = "".join(text)


@contextlib.contextmanager
def recording_proxy(upstream: str) -> Iterator[Recorder]:
    """Run a Recorder in a thread with its own event loop."""
    recorder = Recorder(upstream)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    server_box: list[asyncio.AbstractServer] = []

    async def serve() -> None:
        server = await asyncio.start_server(recorder.handle, "127.0.0.1", 0)
        recorder.port = server.sockets[0].getsockname()[1]
        server_box.append(server)
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve())
        loop.run_forever()

    thread = threading.Thread(target=run, name="recording-proxy", daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield recorder
    finally:

        async def close() -> None:
            for server in server_box:
                server.close()

        asyncio.run_coroutine_threadsafe(close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
