"""The stdio transport's reader: stdin as an asyncio pipe instead of a thread hop per line.

pygls 2 reads stdin with ``run_in_executor`` for every header line and every body, so each
message costs three round trips through a worker thread (and the GIL) before its handler runs —
a measurable share of a keystroke's latency. An asyncio pipe reader wakes the event loop directly
when bytes arrive. When stdin cannot be watched by the event loop (a regular file, some Windows
consoles) we fall back to pygls's threaded reader.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, Protocol

from pygls.exceptions import JsonRpcInvalidRequest, JsonRpcParseError
from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async
from pygls.server import JsonRPCServer

log = logging.getLogger(__name__)

# A header line or body larger than this is not LSP traffic we can use anyway.
READ_LIMIT = 64 * 1024 * 1024
# How often a silent server checks that the client still reads its output.
OUTPUT_CHECK_S = 1.0
# Exit status when the client stopped reading: the session ended without shutdown/exit.
CLIENT_GONE_STATUS = 1


class AsyncMessageReader(Protocol):
    """What pygls's message loop (``pygls.io_.run_async``) reads from."""

    async def readline(self) -> bytes: ...

    async def readexactly(self, n: int) -> bytes: ...


class PipeReader:
    """An ``asyncio.StreamReader`` with pygls's end-of-input convention (``b""``, no raise)."""

    def __init__(self, stream: asyncio.StreamReader):
        self.stream = stream

    async def readline(self) -> bytes:
        try:
            return await self.stream.readline()
        except ValueError:  # a header line over READ_LIMIT: not a client we can talk to
            log.error("stdin: header line longer than %d bytes; closing", READ_LIMIT)
            return b""

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""  # the client went away mid-message


async def open_stdin_reader(
    stdin: BinaryIO, executor: ThreadPoolExecutor | None = None
) -> AsyncMessageReader:
    """An event-loop reader on ``stdin`` when the platform allows it, else a threaded one."""
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=READ_LIMIT, loop=loop)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    except (OSError, ValueError, NotImplementedError) as exc:
        log.info("stdin is not a pipe the event loop can watch (%s); reading in a thread", exc)
        return StdinAsyncReader(stdin, executor)
    return PipeReader(stream)


class ClientGone(SystemExit):
    """The client closed its end of our output: nothing we write can arrive, so the server ends
    (raised from a loop callback, which asyncio lets through to ``asyncio.run``)."""


def end_session_for_gone_client() -> None:
    log.error("the client stopped reading the server's output; exiting")
    raise ClientGone(CLIENT_GONE_STATUS)


class PipeWriter(StdoutWriter):
    """pygls's stdout writer that ends the server when the client no longer reads: a write into
    a pipe nobody reads fails with EPIPE, and every later answer would be lost."""

    def __init__(self, stdout: BinaryIO):
        super().__init__(stdout)
        self.broken = False

    def write(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            super().write(data)
        except (BrokenPipeError, ConnectionResetError, ValueError):
            self.broken = True
            asyncio.get_running_loop().call_soon(end_session_for_gone_client)


def output_reader_gone(fd: int) -> bool:
    """Whether the read end of the pipe at ``fd`` was closed (poll reports POLLERR for it)."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def watch_output_pipe(stdout: BinaryIO) -> None:
    """While the server is quiet no write fails, so check the output pipe now and then: a client
    that closed only its reading end (its stdin to us stays open) must not leave us running."""
    try:
        fd = stdout.fileno()
        is_pipe = stat.S_ISFIFO(os.fstat(fd).st_mode)
    except (OSError, ValueError, AttributeError):
        return
    if not is_pipe or not hasattr(select, "poll"):
        return
    loop = asyncio.get_running_loop()

    def check() -> None:
        if output_reader_gone(fd):
            end_session_for_gone_client()
        loop.call_later(OUTPUT_CHECK_S, check)

    loop.call_later(OUTPUT_CHECK_S, check)


def answer_unreadable_message(server: JsonRPCServer, error: Exception) -> None:
    """A message the loop could not read or route gets a JSON-RPC error with a null id (its id
    is unknown), as the spec asks, instead of pygls's "Error in server" popup."""
    unparsable = isinstance(error, (ValueError, RecursionError))  # JSON, UTF-8, nesting depth
    problem = JsonRpcParseError() if unparsable else JsonRpcInvalidRequest()
    log.warning("unreadable message from the client (%s): %s", problem.message, error)
    # A plain dict: pygls's converter would drop the null id, which the spec requires.
    reply = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": problem.code, "message": problem.message},
    }
    server.protocol._send_data(reply)


def serve_stdio(server: JsonRPCServer, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """pygls's asynchronous stdio loop (``JsonRPCServer._start_io_async``) with our reader."""
    server._stop_event = threading.Event()  # pygls's shutdown/exit set it to end the loop
    server.protocol.set_writer(PipeWriter(stdout))

    async def serve() -> None:
        watch_output_pipe(stdout)
        reader = await open_stdin_reader(stdin, server.thread_pool)
        await run_async(
            stop_event=server._stop_event,
            reader=reader,
            protocol=server.protocol,
            logger=log,
            error_handler=lambda error, _source: answer_unreadable_message(server, error),
        )

    try:
        asyncio.run(serve())
    except BrokenPipeError:
        log.error("the client closed the connection; shutting down")
        raise SystemExit(CLIENT_GONE_STATUS) from None
    except KeyboardInterrupt:
        pass
    finally:
        # SystemExit (the exit notification: 0 after shutdown, 1 without; a client that went
        # away) passes through to the process's exit status.
        server.shutdown()
