"""A hostile repository against the real server: links out of the workspace (also dangling),
FIFOs and devices where the server reads or writes, a FIFO settings file, a planted link in the
explanations cache, ignore files that are FIFOs or backtrack. Every file goes through the
gateway (server/qwen_lsp/workspace/files.py): the action says why and does nothing, the server
keeps answering, and nothing from outside the workspace reaches the endpoint."""

from __future__ import annotations

import asyncio
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.test_code_actions import (
    CALC,
    REQUEST_FAILED,
    chat_requests,
    list_actions,
    pick,
    resolve,
    rng,
    session_for,
)
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import Session, client_capabilities
from tests.support.raw_lsp import RawServer, spawn_server

pytestmark = pytest.mark.timeout(90)

MARKER = "OUTSIDE_SECRET_4242"
TESTS_ANSWER = (
    "```python\nfrom calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n```"
)


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside the workspace holding a real credentials file."""
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-outside-") as tmp:
        path = Path(tmp)
        (path / "credentials").write_text(f"[default]\naws_secret_access_key = {MARKER}\n")
        yield path


@pytest.fixture
async def fake() -> Iterator[FakeOpenAI]:
    async with FakeOpenAI(default=Reply(text=TESTS_ANSWER)) as server:
        yield server


def no_create_capabilities() -> types.ClientCapabilities:
    """A client that takes versioned edits but cannot create files (the server writes them)."""
    caps = client_capabilities()
    caps.workspace.workspace_edit.resource_operations = []
    return caps


async def generate_tests(session: Session) -> types.CodeAction:
    uri = session.open("calc.py", CALC)
    action = pick(await list_actions(session, uri, rng((4, 4))), "Qwen: Generate tests")
    return await resolve(session, action)


async def refused(session: Session, needle: str) -> str:
    with pytest.raises(JsonRpcException) as failure:
        await generate_tests(session)
    assert failure.value.code == REQUEST_FAILED, failure.value
    assert needle in failure.value.message, failure.value.message
    (shown,) = session.messages(types.MessageType.Error)
    assert needle in shown and "Generate tests" in shown
    assert "nothing was" in shown  # says what happened: nothing read or written
    return shown


def everything_sent(fake: FakeOpenAI) -> str:
    return "\n".join(r.body.decode("utf-8", "replace") for r in fake.requests)


async def assert_alive(session: Session) -> None:
    stats = await asyncio.wait_for(
        session.client.workspace_execute_command_async(
            types.ExecuteCommandParams("qwen-lsp.debugStats", [])
        ),
        5,
    )
    assert stats is not None


# ---- generate tests: reads ------------------------------------------------------------------


async def test_a_test_file_linked_out_of_the_workspace_is_never_read(fake, outside: Path):
    async with session_for(fake.base_url) as session:
        (session.root / "tests").mkdir()
        (session.root / "tests" / "test_calc.py").symlink_to(outside / "credentials")
        shown = await refused(session, "leads outside the workspace folders")
        assert "tests/test_calc.py" in shown
        assert chat_requests(fake) == []  # refused before the model was asked
    assert MARKER not in everything_sent(fake)
    assert (outside / "credentials").read_text().endswith(f"{MARKER}\n")  # untouched


async def test_a_tests_directory_linked_out_of_the_workspace_is_never_written(fake, outside):
    async with session_for(fake.base_url, capabilities=no_create_capabilities()) as session:
        (session.root / "tests").symlink_to(outside, target_is_directory=True)
        await refused(session, "leads outside the workspace folders")
        assert chat_requests(fake) == []
    assert sorted(p.name for p in outside.iterdir()) == ["credentials"]


@pytest.mark.parametrize("kind", ["fifo", "dev-zero-link", "device-node"])
async def test_a_fifo_or_device_as_test_file_does_not_freeze_the_server(fake, kind: str):
    needle = {
        "fifo": "is a FIFO, not a regular file",
        "dev-zero-link": "leads outside the workspace folders",
        "device-node": "is a character device, not a regular file",
    }[kind]
    async with session_for(fake.base_url) as session:
        target = session.root / "tests" / "test_calc.py"
        target.parent.mkdir()
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "dev-zero-link":
            target.symlink_to("/dev/zero")
        else:
            try:
                os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
            except OSError as exc:
                pytest.skip(f"cannot create a device node here: {exc}")
        await refused(session, needle)
        await assert_alive(session)
        assert chat_requests(fake) == []
        rss_kb = server_rss_kb(session)
        assert rss_kb < 400_000, f"server memory grew to {rss_kb} kB"


def server_rss_kb(session: Session) -> int:
    process = session.client._server  # pytest-lsp keeps the server subprocess here
    status = Path(f"/proc/{process.pid}/status")
    if not status.exists():
        return 0
    line = next(x for x in status.read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1])


async def test_a_fifo_package_json_does_not_freeze_javascript_tests(fake):
    js = "export function add(a, b) {\n  return a + b;\n}\n"
    answer = "```javascript\nimport { add } from './calc';\ntest('a', () => {});\n```"
    fake.default = Reply(text=answer)
    async with session_for(fake.base_url) as session:
        os.mkfifo(session.root / "package.json")
        uri = session.open("calc.js", js, "javascript")
        action = pick(await list_actions(session, uri, rng((1, 4))), "Qwen: Generate tests")
        resolved = await resolve(session, action)  # within resolve()'s 15 s, not forever
        create, _change = resolved.edit.document_changes
        assert create.uri == session.uri("calc.test.js")
        assert "Jest" in chat_requests(fake)[0].json["messages"][-1]["content"]


# ---- generate tests: writes -----------------------------------------------------------------


async def test_a_dangling_link_is_never_written_through(fake, outside: Path):
    """A client without CreateFile support: the server writes new test files itself."""
    async with session_for(fake.base_url, capabilities=no_create_capabilities()) as session:
        (session.root / "tests").mkdir()
        (session.root / "tests" / "test_calc.py").symlink_to(outside / "planted.py")
        await refused(session, "leads outside the workspace folders")
        assert chat_requests(fake) == []
    assert not (outside / "planted.py").exists()


@pytest.mark.parametrize("where", ["outside", "inside"])
async def test_a_link_planted_while_the_model_works_is_never_written_through(
    fake, outside: Path, where: str
):
    """The path was free when the action was planned; a dangling link appears before the
    write. The write refuses (the link leads out, or O_EXCL|O_NOFOLLOW finds it there):
    nothing is created, neither outside nor at the link's target inside."""
    holder: list[Session] = []
    targets: list[Path] = []

    def plant_link(_request) -> Reply:
        root = holder[0].root
        target = outside / "planted.py" if where == "outside" else root / "src" / "planted.py"
        targets.append(target)
        (root / "tests").mkdir(exist_ok=True)
        (root / "tests" / "test_calc.py").symlink_to(target)
        return Reply(text=TESTS_ANSWER)

    fake.responder = plant_link
    fake.default = None
    needle = "leads outside" if where == "outside" else "already exists (a symbolic link)"
    async with session_for(fake.base_url, capabilities=no_create_capabilities()) as session:
        holder.append(session)
        shown = await refused(session, needle)
        assert "tests/test_calc.py" in shown
        assert len(chat_requests(fake)) == 1
        assert not targets[0].exists()


async def test_new_test_files_are_still_written_for_clients_without_create(fake):
    async with session_for(fake.base_url, capabilities=no_create_capabilities()) as session:
        resolved = await generate_tests(session)
        written = session.root / "tests" / "test_calc.py"
        assert written.read_text().startswith("from calc import add")
        assert not resolved.edit.document_changes  # nothing left for the client to do


# ---- files outside the workspace the server owns ----------------------------------------------


async def test_explanations_never_follow_a_link_planted_in_the_cache(fake):
    fake.default = Reply(text="It adds two numbers.")
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-cache-") as tmp:
        cache, elsewhere, temp = Path(tmp) / "cache", Path(tmp) / "elsewhere", Path(tmp) / "tmp"
        for directory in (cache / "qwen-lsp", elsewhere, temp):
            directory.mkdir(parents=True)
        (cache / "qwen-lsp" / "explanations").symlink_to(elsewhere, target_is_directory=True)
        env = {"XDG_CACHE_HOME": str(cache), "TMPDIR": str(temp)}
        async with session_for(fake.base_url, env=env) as session:
            uri = session.open("calc.py", CALC)
            action = pick(await list_actions(session, uri, rng((4, 4))), "Qwen: Explain")
            await asyncio.wait_for(
                session.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(action.command.command, action.command.arguments)
                ),
                15,
            )
            (shown,) = session.client.shown_documents
        path = Path(unquote(urlparse(shown.uri).path))
        assert list(elsewhere.iterdir()) == []  # nothing written through the planted link
        assert path.parent.parent == temp and "It adds two numbers." in path.read_text()
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_a_fifo_settings_file_does_not_block_start_up():
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-fifo-config-") as tmp:
        config = Path(tmp) / "config.toml"
        os.mkfifo(config)
        process = await spawn_server(Path(tmp), {"QWEN_LSP_CONFIG": str(config)})
        server = RawServer(process)
        try:
            request_id = server.next_id()
            server.send(
                {
                    "id": request_id,
                    "method": "initialize",
                    "params": {"processId": None, "rootUri": None, "capabilities": {}},
                }
            )
            reply = await server.response(request_id, timeout=10)
            assert "result" in reply
            server.notify("initialized", {})
            message = await asyncio.wait_for(next_show_message(server), 10)
            assert "config file" in message and "is a FIFO, not a regular file" in message
        finally:
            process.kill()
            await process.wait()


async def next_show_message(server: RawServer) -> str:
    while True:
        message = await server.read()
        if message.get("method") == "window/showMessage":
            return message["params"]["message"]
