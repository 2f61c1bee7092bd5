"""The workspace index against a hostile repository, with the real server and its real worker
process: ignore files that are FIFOs or that make a backtracking matcher run for hours, FIFOs
and device links among the sources; and a worker that must die with its server however the
server ends (SIGKILL, even while the worker is stopped)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import start_session
from tests.support.raw_lsp import RawServer, spawn_server

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

ALLOWED = "compute_allowed_0001"
HIDDEN = "compute_hidden_0002"
BODY = "ALLOWED_BODY_MARKER_77"  # only in src/helpers.py: in a prompt means the index read it
# With the usual glob-to-regex translation this backtracks for hours on 40-character names.
BACKTRACKING = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"


def hostile_workspace(root: Path, ignore: str) -> None:
    """Sources the index must reach, next to ignore files and special files it must survive."""
    src = root / "src"
    (src / "gen").mkdir(parents=True)
    for i in range(5):  # names the backtracking pattern is tried against (they lack the b)
        (src / f"{'a' * 36}{i}.py").write_text(f"X{i} = {i}\n")
    (src / "helpers.py").write_text(f'def {ALLOWED}():\n    return "{BODY}"\n')
    (src / "gen" / "hidden.py").write_text(f"def {HIDDEN}():\n    return 2\n")
    (src / ".gitignore").write_text(f"{BACKTRACKING}\ngen/\n")
    os.mkfifo(src / "pipe.py")
    (src / "zero.py").symlink_to("/dev/zero")
    if ignore == "fifo":
        os.mkfifo(root / ".gitignore")
    else:
        (root / ".gitignore").write_text(f"{BACKTRACKING}\n*.log\n")


@pytest.mark.parametrize("ignore", ["fifo", "backtracking"])
async def test_the_index_finishes_in_a_hostile_workspace(ignore: str):
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-hostile-") as tmp:
        root = Path(tmp)
        hostile_workspace(root, ignore)
        source = f"from src.helpers import {ALLOWED}\n{ALLOWED}()\n{HIDDEN}()\nresult = \n"
        async with (
            FakeOpenAI(default=Reply(text="1")) as fake,
            start_session(fake.base_url, root=root) as session,
        ):
            uri = session.open("main.py", source)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            column = 9
            while loop.time() < deadline and not sent_with(fake, BODY):
                await session.ghost_text(uri, 3, column)
                session.change(uri, (3, column), (3, column), " ")
                column += 1
                await asyncio.sleep(0.3)
            prompts = [r.body.decode() for r in fake.requests if r.generation]
    assert any(BODY in p for p in prompts), "the index never reached src/helpers.py"
    assert not any(f"def {HIDDEN}" in p for p in prompts)  # the nested gen/ rule still holds


def sent_with(fake: FakeOpenAI, needle: str) -> bool:
    return any(needle in r.body.decode("utf-8", "replace") for r in fake.requests if r.generation)


# ---- the worker dies with the server ---------------------------------------------------------


def children(pid: int) -> list[tuple[int, str]]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_line = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat_line.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append((int(entry.name), cmdline))
    return out


def alive(pid: int) -> bool:
    """Running, and not a zombie left for its (dead) parent to reap."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return not alive(pid)


@contextlib.asynccontextmanager
async def server_with_worker(root: Path) -> AsyncIterator[tuple[RawServer, int]]:
    """The real server on ``root`` (initialized) and the pid of its index worker process."""
    home = root.parent / "home"
    home.mkdir(exist_ok=True)
    process = await spawn_server(home)
    server = RawServer(process)
    worker = None
    try:
        folder = {"uri": root.as_uri(), "name": "ws"}
        params = {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
        reply = await server.request("initialize", {**params, "workspaceFolders": [folder]})
        assert "result" in reply
        server.notify("initialized", {})
        deadline = time.monotonic() + 15
        while worker is None and time.monotonic() < deadline:
            found = [p for p, cmd in children(process.pid) if "qwen_lsp.context.worker" in cmd]
            worker = found[0] if found else None
            await asyncio.sleep(0.05)
        assert worker is not None, "the index worker process did not start"
        yield server, worker
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if worker is not None and alive(worker):  # never leave an orphan behind a failed test
            os.kill(worker, signal.SIGKILL)


@pytest.mark.parametrize("stop_worker", [False, True], ids=["busy", "stopped"])
async def test_the_worker_dies_when_the_server_is_killed(stop_worker: bool):
    """SIGKILL: no shutdown, no exit, pipes closed by the kernel. A worker that was busy (here:
    in front of a FIFO .gitignore, which used to block it for good) or even stopped (it cannot
    read its stdin: only the kernel's parent-death signal reaches it) is gone at once."""
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-orphan-") as tmp:
        root = Path(tmp) / "ws"
        root.mkdir()
        hostile_workspace(root, "fifo")
        async with server_with_worker(root) as (server, worker):
            await asyncio.sleep(0.5)  # let the scan start
            if stop_worker:
                os.kill(worker, signal.SIGSTOP)
            server.process.kill()
            await server.process.wait()
            assert await gone_within(worker, 2.0), "the index worker outlived its server"


async def test_the_worker_watches_its_parent_even_with_its_stdin_open():
    """The portable watchdog: the pid it was told to follow ends while its stdin stays open
    (another process still holds the pipe): it exits within a second or so."""
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker = subprocess.Popen(
        [sys.executable, "-m", "qwen_lsp.context.worker", "--parent-pid", str(parent.pid)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        await asyncio.sleep(1.0)
        assert worker.poll() is None, "the worker exited while its parent lived"
        parent.kill()
        parent.wait()
        assert await gone_within(worker.pid, 2.0)
    finally:
        for process in (parent, worker):
            if process.poll() is None:
                process.kill()
            process.wait()
        if worker.stdin is not None:
            worker.stdin.close()
