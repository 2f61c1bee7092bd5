"""A settings typo gets one message that names the setting as typed, suggests the closest real
one, and — when more problems were found than the message shows — says in which log of this
client the rest is (the server knows the client from clientInfo)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.raw_lsp import INITIALIZE, RawServer, spawn_server


async def shown_messages(client_name: str, options: dict[str, Any]) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-typo-") as tmp:
        server = RawServer(await spawn_server(Path(tmp)))
        try:
            params = {
                **INITIALIZE,
                "clientInfo": {"name": client_name},
                "initializationOptions": options,
            }
            assert "result" in await server.request("initialize", params)
            server.notify("initialized", {})
            shown: list[str] = []
            while not shown:  # sent while `initialized` is handled; fails by timeout if never
                message = await asyncio.wait_for(server.read(), 10)
                if message.get("method") == "window/showMessage":
                    shown.append(message["params"]["message"])
            await server.alive()  # and no second message meanwhile
            shown += [
                m["params"]["message"]
                for m in server.notifications
                if m.get("method") == "window/showMessage"
            ]
            return shown
        finally:
            server.process.kill()
            await server.process.wait()


async def test_typo_names_the_setting_and_suggests_the_right_one() -> None:
    (message,) = await shown_messages("Neovim", {"completion": {"maxToken": 32}})
    assert "unknown setting 'completion.maxToken'" in message
    assert "did you mean 'completion.maxTokens'?" in message


@pytest.mark.parametrize(
    ("client", "where"),
    [
        ("Visual Studio Code", "Qwen: Show Log"),
        ("code-server", "Qwen: Show Log"),
        ("Neovim", "vim.lsp.log.get_filename()"),
        ("Eglot", "M-x eglot-events-buffer"),
        ("emacs", "*lsp-log*"),
        ("Helix", ":log-open"),
    ],
)
async def test_more_problems_point_at_this_clients_log(client: str, where: str) -> None:
    options = {"endpont": {}, "completion": {"debounce_ms": "soon", "max_token": 3}}
    (message,) = await asyncio.wait_for(shown_messages(client, options), 30)
    assert "unknown setting 'endpont' (did you mean 'endpoint'?)" in message
    assert f"(and 2 more: see {where}" in message or where in message.split("and 2 more")[1]
