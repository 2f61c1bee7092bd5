"""Credentials never reach what the server prints, end to end.

The real server (subprocess, stderr captured) and ``qwen-lsp doctor`` are configured with an API
key, a base URL with ``user:password@`` and ``?api-key=…``, and a proxy with a password. The
endpoint (behind that proxy, a real one on 127.0.0.1) refuses every request with an error that
echoes the key — placed across the 300-character cut of error messages — the URL it was asked
for and every header it got. No secret, nor any 4-character start of one, may appear in stderr,
``window/logMessage``, ``window/showMessage`` or doctor's output.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from pathlib import Path

from tests.support.http_servers import Peer, Proxy, RawServer, Seen, response
from tests.support.lsp_session import server_env
from tests.support.raw_lsp import INITIALIZE, spawn_server
from tests.support.raw_lsp import RawServer as RawLsp

API_KEY = "Kq7ZpX2vLmN9wRt4"
URL_PASSWORD = "Hj3Wq8ZxTu5Ev"
QUERY_KEY = "Qz6Rb1YvNc7Kp"
PROXY_PASSWORD = "Px4Mz9LwTe2Gs"
SECRETS = (API_KEY, URL_PASSWORD, QUERY_KEY, PROXY_PASSWORD)
SOURCE = "def add(a, b):\n    return \n"


async def echo_everything(request: Seen, peer: Peer) -> bool:
    """401 with the key across char 300 of the message, then the URL and the headers."""
    message = (
        "x" * 296 + API_KEY + f" asked for {request.target} with {json.dumps(request.headers)}"
    )
    await peer.send(response(401, json.dumps({"error": {"message": message}}).encode()))
    return True


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        for n in range(4, len(secret) + 1):
            assert secret[:n] not in text, (
                f"{where}: {secret[:n]!r} (start of a secret) in:\n{text}"
            )


def write_config(home: Path, endpoint_port: int, proxy_port: int) -> Path:
    config = home / "config.toml"
    base_url = (
        f"http://bob:{URL_PASSWORD}@127.0.0.1:{endpoint_port}/v1"
        f"?api-key={QUERY_KEY}&api-version=2024-06-01"
    )
    proxy = f"http://puser:{PROXY_PASSWORD}@127.0.0.1:{proxy_port}"
    config.write_text(
        f'[endpoint]\nbase_url = "{base_url}"\nproxy = "{proxy}"\nmodel = "m"\n'
        f"timeout_s = 5\n[completion]\ndebounce_ms = 0\n"
    )
    return config


async def run_server(home: Path, extra_env: dict[str, str]) -> tuple[list[dict], str]:
    """Start, ask for completions until the failure was reported, stop; (notifications, stderr)."""
    process = await spawn_server(home, extra_env, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    stderr = asyncio.ensure_future(process.stderr.read())
    lsp = RawLsp(process)
    try:
        assert "result" in await lsp.request("initialize", INITIALIZE)
        lsp.notify("initialized", {})
        uri = "file:///tmp/qwen-credentials/calc.py"
        document = {"uri": uri, "languageId": "python", "version": 1, "text": SOURCE}
        lsp.notify("textDocument/didOpen", {"textDocument": document})
        position = {"line": 1, "character": 11}
        for _ in range(40):
            await lsp.request(
                "textDocument/inlineCompletion",
                {"textDocument": {"uri": uri}, "position": position, "context": {"triggerKind": 1}},
            )
            shown = [n for n in lsp.notifications if n.get("method") == "window/showMessage"]
            if shown and any("endpoint:" in str(n) for n in lsp.notifications):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # the rate-limited log lines
        with contextlib.suppress(Exception):
            await asyncio.wait_for(lsp.request("shutdown", None), 5)
            lsp.notify("exit", None)
            await asyncio.wait_for(process.wait(), 5)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return lsp.notifications, (await stderr).decode("utf-8", "replace")


async def test_no_credential_reaches_logs_messages_or_doctor(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    async with (
        RawServer(echo_everything) as endpoint,
        Proxy(auth=f"puser:{PROXY_PASSWORD}") as proxy,
    ):
        config = write_config(home, endpoint.port, proxy.port)
        extra_env = {"QWEN_LSP_CONFIG": str(config), "QWEN_LSP_API_KEY": API_KEY}
        notifications, stderr = await run_server(home, extra_env)
        env = server_env(home, extra_env)
        doctor = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "qwen_lsp", "doctor"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    texts = {
        "stderr": stderr,
        "doctor": doctor.stdout + doctor.stderr,
        **{
            f"{n['method']} #{i}": n["params"]["message"]
            for i, n in enumerate(notifications)
            if n.get("method") in ("window/logMessage", "window/showMessage")
        },
    }
    # The scenario really happened: through the proxy, refused, reported, masked.
    assert endpoint.requests and proxy.seen
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in endpoint.requests)
    assert any(QUERY_KEY in r.target for r in endpoint.requests)
    assert "refused the API key" in " ".join(texts.values())
    assert "settings" in stderr and "***" in stderr
    assert doctor.returncode == 1 and "***" in doctor.stdout
    for where, text in texts.items():
        assert_no_secret(where, text)
