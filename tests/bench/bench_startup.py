"""Start-up: spawn -> ``initialize`` answered, qwen-lsp against a bare pygls server, same run.

Both servers are spawned alternately (``ROUNDS`` times each, after one warm-up spawn that
writes their bytecode caches, as ``pip install`` does), sent ``initialize`` at once, and timed
until the answer is read. The bare pygls server (``tests/bench/bare_pygls.py``) pays the same
interpreter and ``lsprotocol``/pygls imports, so the ratio is what qwen-lsp adds. Also timed:
the interpreter alone and ``import lsprotocol.types`` alone, and, for qwen-lsp, the longest
wait for an answer to a trivial request in the first seconds after ``initialized`` (a stall of
the event loop by start-up work, e.g. building the tokenizer).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.report import percentile, table, write_section
from tests.support.lsp_session import server_env
from tests.support.raw_lsp import RawServer, shut_down, spawn_server

ROUNDS = 12
# Another checkout's server/ directory to time in the same run ("before"), e.g. main's.
BASELINE = os.environ.get("QWEN_BENCH_BASELINE_SERVER")
PROBE_S = 4.0  # how long after `initialized` the event loop is probed
PROBE_EVERY_S = 0.05
BARE = Path(__file__).with_name("bare_pygls.py")
DOCUMENT_STATE = "qwen-lsp.debugDocumentState"  # answered from the open document alone


def bench_env(home: Path, bytecode: Path | None) -> dict[str, str]:
    """The servers' environment: a clean home; bytecode cached in ``bytecode`` (None: never
    written or read, as with PYTHONDONTWRITEBYTECODE and no caches)."""
    env = server_env(home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if bytecode is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(home / "no-such-cache")
    else:
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    return env


async def time_initialize(command: list[str], env: dict[str, str], root: Path) -> float:
    """Seconds from spawn to the ``initialize`` answer; the server is then shut down."""
    started = time.perf_counter()
    server = RawServer(await spawn_server(root, args=command, env=env))
    try:
        reply = await server.request("initialize", initialize_params(root))
        elapsed = time.perf_counter() - started
        assert "result" in reply, reply
    finally:
        await shut_down(server, 10)
    return elapsed


def initialize_params(root: Path) -> dict[str, Any]:
    return {
        "processId": os.getpid(),
        "rootUri": root.as_uri(),
        "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
        "capabilities": {},
        "initializationOptions": {"endpoint": {"baseUrl": "http://127.0.0.1:9/v1"}},
    }


async def loop_stall(env: dict[str, str], root: Path) -> float:
    """Typing from the start: after ``initialized``, a file is opened and a key typed every
    PROBE_EVERY_S for PROBE_S, each followed by a trivial request; the longest answer time is
    how long start-up work (the completion core's imports, the tokenizer) held the loop."""
    server = RawServer(await spawn_server(root, env=env))
    worst = 0.0
    try:
        await server.request("initialize", initialize_params(root))
        server.notify("initialized", {})
        uri = (root / "main.py").as_uri()
        item = {"uri": uri, "languageId": "python", "version": 0, "text": "x = 1\n"}
        server.notify("textDocument/didOpen", {"textDocument": item})
        end = time.perf_counter() + PROBE_S
        version = 0
        while time.perf_counter() < end:
            version += 1
            at = {"line": 0, "character": 5}
            server.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": {"start": at, "end": at}, "text": "1"}],
                },
            )
            started = time.perf_counter()
            await server.request(
                "workspace/executeCommand", {"command": DOCUMENT_STATE, "arguments": [uri]}
            )
            worst = max(worst, time.perf_counter() - started)
            await asyncio.sleep(PROBE_EVERY_S)
    finally:
        await shut_down(server, 10)
    return worst


def time_command(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - started


async def measure() -> dict[str, list[float]]:
    qwen = ["-m", "qwen_lsp"]
    bare = [str(BARE)]
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-startup-") as tmp:
        home, root = Path(tmp) / "home", Path(tmp) / "ws"
        home.mkdir()
        root.mkdir()
        (root / "main.py").write_text("print('hello')\n", encoding="utf-8")
        cached = bench_env(home, Path(tmp) / "pycache")
        uncached = bench_env(home, None)
        servers = [("qwen-lsp", qwen, cached), ("bare pygls", bare, cached)]
        if BASELINE:
            before = {**bench_env(home, Path(tmp) / "pycache-before"), "PYTHONPATH": BASELINE}
            servers.append(("qwen-lsp before (baseline)", qwen, before))
        for _name, command, env in servers:  # warm-up: writes the bytecode caches
            await time_initialize(command, env, root)
        for round_ in range(ROUNDS):
            for name, command, env in servers if round_ % 2 == 0 else servers[::-1]:
                times.setdefault(name, []).append(await time_initialize(command, env, root))
            times.setdefault("interpreter", []).append(time_command("pass", cached))
            times.setdefault("import lsprotocol.types", []).append(
                time_command("import lsprotocol.types", cached)
            )
        for _ in range(ROUNDS // 3):
            for name, command in (("qwen-lsp", qwen), ("bare pygls", bare)):
                key = f"{name}, no bytecode cache"
                times.setdefault(key, []).append(await time_initialize(command, uncached, root))
        times["qwen-lsp event loop stall"] = [
            await loop_stall(cached, root) for _ in range(ROUNDS // 3)
        ]
        if BASELINE:
            times["qwen-lsp before: event loop stall"] = [
                await loop_stall(before, root) for _ in range(ROUNDS // 3)
            ]
    return times


def main() -> None:
    load = os.getloadavg()
    times = asyncio.run(measure())
    rows = [
        [name, len(v), statistics.median(v) * 1000, percentile(v, 95) * 1000, min(v) * 1000]
        for name, v in times.items()
    ]
    qwen, bare = statistics.median(times["qwen-lsp"]), statistics.median(times["bare pygls"])
    ratios = [q / b for q, b in zip(times["qwen-lsp"], times["bare pygls"], strict=True)]
    body = (
        "Spawn → `initialize` answered (the answer read by the client), both servers spawned "
        f"alternately {ROUNDS} times each after a warm-up spawn that writes their bytecode "
        "caches (as `pip install` does); `tests/bench/bare_pygls.py` is a pygls server with no "
        "features, paying the same interpreter, `lsprotocol` and pygls imports. *Event loop "
        f"stall*: typing from the start - a key (`didChange`) every {PROBE_EVERY_S * 1000:.0f} "
        f"ms for {PROBE_S:.0f} s after `initialized`, each followed by a request about the "
        "document (`qwen-lsp.debugDocumentState`); the "
        "longest answer (start-up work that holds the loop: imports, the tokenizer build). "
        f"Load average at start: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.\n\n"
        + table(["measure", "n", "p50 ms", "p95 ms", "min ms"], rows)
        + f"\n\n**Ratio qwen-lsp / bare pygls: {qwen / bare:.2f}x** (medians; per round: "
        f"median {statistics.median(ratios):.2f}x). Target ≤ 1.2x."
    )
    if BASELINE:
        before = statistics.median(times["qwen-lsp before (baseline)"])
        body += f" Before (baseline server in the same run): {before / bare:.2f}x."
    write_section("startup", "Start-up: initialize answered", body)
    print(body)
    print(json.dumps({k: [round(x * 1000, 1) for x in v] for k, v in times.items()}))


if __name__ == "__main__":
    main()
