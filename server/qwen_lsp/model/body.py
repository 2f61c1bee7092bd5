"""A streamed response body read as lines under the request's deadline (see ``model/http.py``).

Lines are split on bytes (``\\n``, ``\\r\\n``, ``\\r`` — not the Unicode line separators that
may stand raw inside a JSON string, as httpx's ``aiter_lines`` would) before UTF-8 decoding, so
a character cut between two reads decodes whole. A body arriving all at once still gives the
event loop a turn every ``PAUSE_EVERY_S``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx

from .deadline import Deadline
from .errors import ModelError, describe

MAX_LINE_BYTES = 16 * 1024 * 1024  # one SSE / NDJSON line; past it the answer is not ours
PAUSE_EVERY_S = 0.005  # a stream arriving all at once still lets the event loop run
DRAIN_TIMEOUT_S = 2.0  # reading the rest of a complete answer's body, at most
DRAIN_MAX_BYTES = 64 * 1024


class LineSplitter:
    """Bytes in, complete lines out; a line end cut between two reads (``\\r`` | ``\\n``) is
    carried over."""

    def __init__(self) -> None:
        self.rest = b""
        self.after_cr = False

    def feed(self, data: bytes) -> list[bytes]:
        if self.after_cr and data[:1] == b"\n":
            data = data[1:]
        self.after_cr = False
        lines = (self.rest + data).splitlines(keepends=True) if self.rest else data.splitlines(True)
        self.rest = b""
        if lines and not lines[-1].endswith((b"\n", b"\r")):
            self.rest = lines.pop()
            if len(self.rest) > MAX_LINE_BYTES:
                raise ModelError("protocol", "a line of the answer is longer than 16 MB")
        elif lines and lines[-1].endswith(b"\r"):
            self.after_cr = True
        return [line[:-2] if line.endswith(b"\r\n") else line[:-1] for line in lines]


class Body:
    """A streamed response body, read as lines under the request's deadline."""

    def __init__(self, response: httpx.Response, deadline: float, limit_name: str):
        self.response = response
        self.deadline = deadline
        self.message = f"the answer took longer than {limit_name}"
        self.chunks = response.aiter_bytes()
        self.bytes_read = 0

    async def _next(self, deadline: float, message: str) -> bytes | None:
        try:
            async with Deadline(deadline, message):
                return await anext(self.chunks)
        except StopAsyncIteration:
            return None
        except httpx.HTTPError as exc:
            raise body_error(exc) from None

    async def lines(self) -> AsyncIterator[str]:
        split = LineSplitter()
        paused_at = time.perf_counter()
        while (data := await self._next(self.deadline, self.message)) is not None:
            self.bytes_read += len(data)
            for line in split.feed(data):
                yield line.decode("utf-8", "replace")
            if (now := time.perf_counter()) - paused_at > PAUSE_EVERY_S:
                await asyncio.sleep(0)  # the bytes were all there: let the loop run
                paused_at = now
        if split.rest:
            yield split.rest.decode("utf-8", "replace")

    async def read(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` (one more tells it was longer)."""
        data = bytearray()
        while len(data) <= max_bytes and (piece := await self._next(self.deadline, self.message)):
            data += piece
        return bytes(data[: max_bytes + 1])

    async def drain(self, seconds: float | None = None) -> bool:
        """Read the rest for nothing (bounded); True when the body really ended."""
        deadline = time.monotonic() + (DRAIN_TIMEOUT_S if seconds is None else seconds)
        size = 0
        while size <= DRAIN_MAX_BYTES:
            piece = await self._next(deadline, "draining")
            if piece is None:
                return True
            size += len(piece)
        return False

    async def close(self) -> None:
        """Close now: a body not read to its end closes its connection (the peer sees it)."""
        try:
            await self.chunks.aclose()  # type: ignore[attr-defined]
        finally:
            await self.response.aclose()


def body_error(exc: httpx.HTTPError) -> ModelError:
    """A failure while reading a body whose head arrived."""
    if isinstance(exc, httpx.DecodingError):
        return ModelError("protocol", f"the answer could not be decoded: {exc}")
    if isinstance(exc, httpx.TimeoutException):
        return ModelError("timeout", "the answer stalled")
    if isinstance(exc, httpx.ReadError) or "peer closed" in str(exc) or "incomplete" in str(exc):
        # The connection ended before the body did: the server died or dropped us mid-answer.
        return ModelError("dropped", f"the answer was cut short: {describe(exc)}")
    return ModelError("protocol", f"the answer's framing is broken: {describe(exc)}")
