"""The LSP lifecycle at its edges: requests after ``shutdown``, ``exit`` without ``shutdown``, and a
client that stops reading the server's output.

Driven with hand-written frames over real pipes (``tests/support/raw_lsp.py``), so the tests see
exactly what the server writes and how the process ends.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.support.raw_lsp import INITIALIZE, STATS, RawServer, spawn_server

INVALID_REQUEST = -32600


async def initialized_server(home: Path) -> RawServer:
    server = RawServer(await spawn_server(home))
    reply = await server.request("initialize", INITIALIZE)
    assert "result" in reply, reply
    server.notify("initialized", {})
    return server


async def test_a_request_after_shutdown_gets_an_error_not_silence(tmp_path: Path) -> None:
    server = await initialized_server(tmp_path)
    try:
        assert (await server.request("shutdown", None))["result"] is None
        reply = await server.request(
            "workspace/executeCommand", {"command": STATS, "arguments": []}
        )
        assert reply["error"]["code"] == INVALID_REQUEST, reply
        assert "shut" in reply["error"]["message"].lower()
        # A notification after shutdown is dropped without an answer; exit still works.
        server.notify("textDocument/didOpen", {})
        server.notify("exit", None)
        assert await asyncio.wait_for(server.process.wait(), 30) == 0
    finally:
        if server.process.returncode is None:
            server.process.kill()


async def test_exit_without_shutdown_ends_the_process_with_code_1(tmp_path: Path) -> None:
    server = await initialized_server(tmp_path)
    try:
        assert await server.alive() > 0
        server.notify("exit", None)
        assert await asyncio.wait_for(server.process.wait(), 30) == 1
    finally:
        if server.process.returncode is None:
            server.process.kill()


async def test_exit_after_shutdown_ends_the_process_with_code_0(tmp_path: Path) -> None:
    server = await initialized_server(tmp_path)
    try:
        assert (await server.request("shutdown", None))["result"] is None
        server.notify("exit", None)
        assert await asyncio.wait_for(server.process.wait(), 30) == 0
    finally:
        if server.process.returncode is None:
            server.process.kill()


def close_our_end_of_the_servers_stdout(server: RawServer) -> None:
    transport = server.process._transport  # type: ignore[attr-defined]
    transport.get_pipe_transport(1).close()


async def test_the_server_exits_when_the_client_stops_reading_and_asks_again(
    tmp_path: Path,
) -> None:
    server = await initialized_server(tmp_path)
    try:
        close_our_end_of_the_servers_stdout(server)
        # The next answer cannot be delivered: the server must notice and end.
        server.send(
            {
                "id": 7,
                "method": "workspace/executeCommand",
                "params": {"command": STATS, "arguments": []},
            }
        )
        assert await asyncio.wait_for(server.process.wait(), 15) is not None
    finally:
        if server.process.returncode is None:
            server.process.kill()


async def test_the_server_exits_when_the_client_stops_reading_even_if_it_sends_nothing(
    tmp_path: Path,
) -> None:
    server = await initialized_server(tmp_path)
    try:
        close_our_end_of_the_servers_stdout(server)
        started = time.monotonic()
        # stdin stays open and silent: only the closed output can tell the server to go.
        assert await asyncio.wait_for(server.process.wait(), 15) is not None
        assert time.monotonic() - started < 15
    finally:
        if server.process.returncode is None:
            server.process.kill()
