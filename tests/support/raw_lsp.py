"""The server subprocess with a hand-written JSON-RPC client on its pipes.

For what a client library cannot do or would distort: malformed frames, bytes split anywhere,
and latency measurements where the client's own (de)serialisation must not count. Messages are
plain dicts; Content-Length framing is done here.

    async with raw_lsp({"endpoint": {...}}) as server:
        reply = await server.request("workspace/executeCommand", {...})
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from tests.support.lsp_session import server_env

STATS = "qwen-lsp.debugStats"
INITIALIZE = {"processId": None, "rootUri": None, "capabilities": {}}


def frame_bytes(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def frame(message: dict[str, Any]) -> bytes:
    return frame_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())


async def spawn_server(
    home: Path,
    extra_env: dict[str, str] | None = None,
    *,
    args: Sequence[str] = ("-m", "qwen_lsp"),
    env: dict[str, str] | None = None,
    stderr: int = asyncio.subprocess.DEVNULL,
) -> asyncio.subprocess.Process:
    """``python -m qwen_lsp`` (or ``python *args``) on pipes, with ``home`` as its (empty) home
    directory and ``extra_env`` on top of the clean environment, unless ``env`` gives the whole
    environment."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        env=env if env is not None else server_env(home, extra_env),
    )


async def shut_down(server: RawServer, timeout: float = 5) -> None:
    """``shutdown`` and ``exit``; killed if it does not end in time."""
    process = server.process
    with contextlib.suppress(Exception):
        await asyncio.wait_for(server.request("shutdown", None), timeout)
        server.notify("exit", None)
        await asyncio.wait_for(process.wait(), timeout)
    if process.returncode is None:
        process.kill()
        await process.wait()


class RawServer:
    """Frames out, frames in; notifications and stray responses seen meanwhile are kept."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self.ids = iter(range(1000, 10**9))
        self.notifications: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    def send(self, message: dict[str, Any]) -> None:
        self.write(frame(message))

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def next_id(self) -> int:
        return next(self.ids)

    async def read(self) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        length = None
        while True:
            line = (await stdout.readline()).strip()
            if not line:
                if length is None:
                    raise EOFError("server closed stdout")
                break
            name, _, value = line.decode("ascii").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(await stdout.readexactly(length))

    async def response(self, request_id: int, timeout: float = 10) -> dict[str, Any]:
        """The response to ``request_id``; notifications seen meanwhile are kept."""
        while True:
            message = await asyncio.wait_for(self.read(), timeout)
            if message.get("id") == request_id and "method" not in message:
                return message
            self.notifications.append(message)

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        request_id = self.next_id()
        self.send({"id": request_id, "method": method, "params": params})
        return await self.response(request_id)

    async def alive(self) -> float:
        """Milliseconds to answer a valid request; fails if the server stopped answering."""
        started = time.perf_counter()
        reply = await self.request("workspace/executeCommand", {"command": STATS, "arguments": []})
        assert "result" in reply, reply
        assert self.process.returncode is None
        return (time.perf_counter() - started) * 1000


@contextlib.asynccontextmanager
async def raw_lsp(
    init_options: dict[str, Any] | None = None,
    root: Path | None = None,
    capabilities: dict[str, Any] | None = None,
) -> AsyncIterator[RawServer]:
    """An initialized server (with ``root`` as its workspace folder when given); shut down and
    exited (or killed) afterwards."""
    params: dict[str, Any] = {**INITIALIZE, "initializationOptions": init_options}
    if capabilities is not None:
        params["capabilities"] = capabilities
    if root is not None:
        params["rootUri"] = root.as_uri()
        params["workspaceFolders"] = [{"uri": root.as_uri(), "name": root.name}]
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-raw-") as tmp:
        process = await spawn_server(Path(tmp))
        server = RawServer(process)
        try:
            init = await server.request("initialize", params)
            assert "result" in init, init
            server.notify("initialized", {})
            yield server
        finally:
            await shut_down(server)
