"""The stdio transport: stdin read on the event loop, a thread fallback, and end of input.

The server process is driven with hand-written JSON-RPC frames so the tests control exactly how
bytes arrive (split mid-header, a regular file instead of a pipe, the client vanishing).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.lsp_session import server_env
from tests.support.raw_lsp import INITIALIZE, RawServer, frame, spawn_server


def request(id_: int, method: str, params: Any = None) -> bytes:
    return frame({"id": id_, "method": method, "params": params})


def notification(method: str, params: Any = None) -> bytes:
    return frame({"method": method, "params": params})


def responses(stdout: bytes) -> dict[int, dict[str, Any]]:
    """Every response in ``stdout`` by id (notifications are skipped)."""
    found: dict[int, dict[str, Any]] = {}
    rest = stdout
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        headers = dict(line.split(b":", 1) for line in head.split(b"\r\n"))
        length = int(headers[b"Content-Length"])
        message = json.loads(rest[:length])
        rest = rest[length:]
        if "id" in message and "method" not in message:
            found[message["id"]] = message
    return found


SESSION = (
    request(1, "initialize", INITIALIZE)
    + notification("initialized", {})
    + request(2, "shutdown")
    + notification("exit")
)


def test_stdin_from_a_regular_file_falls_back_to_the_threaded_reader(tmp_path: Path) -> None:
    # A regular file cannot be watched by epoll: the server must still read it.
    script = tmp_path / "session.lsp"
    script.write_bytes(SESSION)
    home = tmp_path / "home"
    home.mkdir()
    with script.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "qwen_lsp"],
            stdin=stdin,
            capture_output=True,
            env=server_env(home, None),
            timeout=60,
        )
    answered = responses(done.stdout)
    assert answered[1]["result"]["serverInfo"]["name"] == "qwen-lsp"
    assert answered[2]["result"] is None
    assert done.returncode == 0, done.stderr.decode()[-2000:]


async def test_messages_split_into_single_bytes_are_reassembled(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    process = await spawn_server(home)
    assert process.stdin is not None and process.stdout is not None
    for byte in request(1, "initialize", INITIALIZE):
        process.stdin.write(bytes([byte]))
        await process.stdin.drain()
    raw = RawServer(process)
    initialized = await raw.response(1, timeout=60)
    assert initialized["result"]["capabilities"]["inlineCompletionProvider"] is not None
    process.stdin.write(notification("initialized", {}) + request(2, "shutdown"))
    await process.stdin.drain()
    assert (await raw.response(2, timeout=60))["result"] is None
    process.stdin.write(notification("exit"))
    await process.stdin.drain()
    assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_the_server_exits_when_the_client_closes_stdin(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    process = await spawn_server(home)
    assert process.stdin is not None and process.stdout is not None
    # Half a message, then the editor dies: no exit notification ever comes.
    process.stdin.write(request(1, "initialize", INITIALIZE) + b"Content-Length: 50\r\n\r\n{")
    await process.stdin.drain()
    process.stdin.close()
    returncode = await asyncio.wait_for(process.wait(), 30)
    assert returncode is not None
    assert 1 in responses(await process.stdout.read())
