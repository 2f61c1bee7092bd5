"""Drive the real qwen-lsp server (``python -m qwen_lsp`` over stdio) like an editor would.

A small JSON-RPC client on the server's pipes: requests with futures, server-to-client requests
answered the way a capable editor answers them (progress tokens accepted, ``workspace/applyEdit``
applied, ``window/showDocument`` shown), notifications and stderr kept. The workspace index is
ready when the server logs ``workspace index: N files`` on stderr (the only signal it gives today).

    async with qwen_lsp(workspace, {"endpoint": {...}}) as lsp:
        uri = lsp.open(path, text, "python")
        await lsp.wait_indexed()
        items = await lsp.inline(uri, line, character)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.support.lsp_session import server_env
from tests.support.raw_lsp import frame

INDEX_READY = "workspace index:"
CODE_ACTION_KINDS = ["quickfix", "refactor", "refactor.rewrite", "source"]
CAPABILITIES: dict[str, Any] = {
    "general": {"positionEncodings": ["utf-16"]},
    "textDocument": {
        "synchronization": {},
        "inlineCompletion": {},
        "completion": {},
        "codeAction": {
            "codeActionLiteralSupport": {"codeActionKind": {"valueSet": CODE_ACTION_KINDS}},
            "resolveSupport": {"properties": ["edit"]},
            "dataSupport": True,
        },
    },
    "window": {"workDoneProgress": True, "showDocument": {"support": True}},
    "workspace": {
        "applyEdit": True,
        "workspaceEdit": {"documentChanges": True, "resourceOperations": ["create"]},
    },
}


class LspError(Exception):
    def __init__(self, error: dict[str, Any]):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error


class QwenLsp:
    """The client side of one server process."""

    def __init__(self, process: asyncio.subprocess.Process, root: Path):
        self.process = process
        self.root = root
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.applied_edits: list[Any] = []
        self.shown_documents: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self.indexed = asyncio.Event()
        self.versions: dict[str, int] = {}
        self.tasks = [
            asyncio.ensure_future(self._read_stdout()),
            asyncio.ensure_future(self._read_stderr()),
        ]

    # ---- wire ---------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(frame(message))

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    async def request(self, method: str, params: Any, timeout: float = 60.0) -> Any:
        request_id = next(self.ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        self._send({"id": request_id, "method": method, "params": params})
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.pending.pop(request_id, None)

    async def _read_stdout(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = None
            while True:
                line = await stdout.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                continue
            self._dispatch(json.loads(await stdout.readexactly(length)))

    async def _read_stderr(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        while line := await stderr.readline():
            text = line.decode("utf-8", "replace").rstrip()
            self.stderr.append(text)
            if INDEX_READY in text:
                self.indexed.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" not in message:
            future = self.pending.get(message.get("id", -1))
            if future is not None and not future.done():
                if "error" in message:
                    future.set_exception(LspError(message["error"]))
                else:
                    future.set_result(message.get("result"))
            return
        if "id" in message:
            self._send({"id": message["id"], "result": self._answer(message)})
        else:
            self.notifications.append(message)

    def _answer(self, message: dict[str, Any]) -> Any:
        method, params = message["method"], message.get("params")
        if method == "workspace/applyEdit":
            self.applied_edits.append(params)
            return {"applied": True}
        if method == "window/showDocument":
            self.shown_documents.append(params)
            return {"success": True}
        if method == "workspace/configuration":
            return [None for _ in (params or {}).get("items", [])]
        return None  # progress tokens, capability registration

    # ---- editor actions -----------------------------------------------------------------------

    def uri(self, relative: str) -> str:
        return (self.root / relative).as_uri()

    def open(self, relative: str, text: str, language_id: str) -> str:
        uri = self.uri(relative)
        self.versions[uri] = 1
        item = {"uri": uri, "languageId": language_id, "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})
        return uri

    async def wait_indexed(self, timeout: float = 60.0) -> float:
        """Seconds until the server logged that its workspace index is ready."""
        started = time.perf_counter()
        await asyncio.wait_for(self.indexed.wait(), timeout)
        return time.perf_counter() - started

    async def inline(
        self, uri: str, line: int, character: int, timeout: float = 600.0
    ) -> list[dict[str, Any]]:
        """Items of an invoked ``textDocument/inlineCompletion`` (empty list: no suggestion)."""
        params = {
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": 1},  # Invoked
        }
        result = await self.request("textDocument/inlineCompletion", params, timeout)
        if isinstance(result, dict):
            result = result.get("items")
        return list(result or [])

    async def code_actions(
        self, uri: str, start: tuple[int, int], end: tuple[int, int], diagnostics: list[Any]
    ) -> list[dict[str, Any]]:
        params = {
            "textDocument": {"uri": uri},
            "range": {
                "start": {"line": start[0], "character": start[1]},
                "end": {"line": end[0], "character": end[1]},
            },
            "context": {"diagnostics": diagnostics, "triggerKind": 1},
        }
        return list(await self.request("textDocument/codeAction", params) or [])

    def messages(self) -> list[str]:
        return [
            n["params"].get("message", "")
            for n in self.notifications
            if n["method"] == "window/showMessage"
        ]


@contextlib.asynccontextmanager
async def qwen_lsp(root: Path, init_options: dict[str, Any]) -> AsyncIterator[QwenLsp]:
    """An initialized server whose only workspace folder is ``root``; shut down afterwards."""
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-bench-home-") as home:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "qwen_lsp",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=server_env(Path(home)),
        )
        lsp = QwenLsp(process, root)
        try:
            await lsp.request(
                "initialize",
                {
                    "processId": None,
                    "rootUri": root.as_uri(),
                    "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                    "capabilities": CAPABILITIES,
                    "initializationOptions": init_options,
                },
            )
            lsp.notify("initialized", {})
            yield lsp
        finally:
            with contextlib.suppress(Exception):
                await lsp.request("shutdown", None, timeout=10)
                lsp.notify("exit", None)
                await asyncio.wait_for(process.wait(), 10)
            if process.returncode is None:
                process.kill()
                await process.wait()
            for task in lsp.tasks:
                task.cancel()
