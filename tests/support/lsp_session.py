"""Start the real qwen-lsp server as a subprocess and drive it with a real LSP client.

The client is pytest-lsp's ``LanguageClient`` (a pygls client speaking JSON-RPC over the
server's stdin/stdout). The server gets a clean environment: no user config file, no API keys
from the developer's shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

SECRET_ENV = (
    "QWEN_LSP_API_KEY",
    "OPENAI_API_KEY",
    "DASHSCOPE_API_KEY",
    "OPENAI_BASE_URL",
    "QWEN_LSP_BASE_URL",
    "QWEN_LSP_MODEL",
    "QWEN_LSP_CONFIG",
    "QWEN_LSP_TRANSPORT",
)


def server_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def client_capabilities(
    inline: bool = True, configuration: bool = False, encodings: list[str] | None = None
) -> types.ClientCapabilities:
    general = (
        types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind(e) for e in encodings]
        )
        if encodings
        else None
    )
    return types.ClientCapabilities(
        general=general,
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities() if inline else None,
            completion=types.CompletionClientCapabilities(),
            synchronization=types.TextDocumentSyncClientCapabilities(),
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=[
                            types.CodeActionKind.QuickFix,
                            types.CodeActionKind.Refactor,
                            types.CodeActionKind.RefactorRewrite,
                            types.CodeActionKind.Source,
                        ]
                    )
                ),
                resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
                data_support=True,
            ),
        ),
        window=types.WindowClientCapabilities(
            work_done_progress=True,
            show_document=types.ShowDocumentClientCapabilities(support=True),
        ),
        workspace=types.WorkspaceClientCapabilities(
            configuration=configuration,
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=True,
                resource_operations=[types.ResourceOperationKind.Create],
            ),
        ),
    )


class Session:
    """A running server plus the client connected to it, with helpers for common steps."""

    def __init__(self, client: LanguageClient, root: Path, init_result: types.InitializeResult):
        self.client = client
        self.root = root
        self.init_result = init_result
        self.versions: dict[str, int] = {}
        self.statuses: list[dict[str, Any]] = []
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []

    def uri(self, relative: str) -> str:
        return (self.root / relative).as_uri()

    def open(self, relative: str, text: str, language_id: str = "python") -> str:
        uri = self.uri(relative)
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language_id, 1, text))
        )
        return uri

    def change(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(self.versions[uri], uri),
                [
                    types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(*start), types.Position(*end)), text=text
                    )
                ],
            )
        )

    async def inline(
        self, uri: str, line: int, character: int, invoked: bool = True, timeout: float = 10
    ) -> types.InlineCompletionList | None:
        kind = (
            types.InlineCompletionTriggerKind.Invoked
            if invoked
            else types.InlineCompletionTriggerKind.Automatic
        )
        result = await asyncio.wait_for(
            self.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    context=types.InlineCompletionContext(trigger_kind=kind),
                    text_document=types.TextDocumentIdentifier(uri),
                    position=types.Position(line, character),
                )
            ),
            timeout,
        )
        if isinstance(result, list):  # the spec allows a bare array of items
            return types.InlineCompletionList(items=result)
        return result

    async def ghost_text(self, uri: str, line: int, character: int, **kwargs: Any) -> str | None:
        result = await self.inline(uri, line, character, **kwargs)
        if not result or not result.items:
            return None
        text = result.items[0].insert_text
        return text if isinstance(text, str) else text.value

    async def cancel_inline(self, task: asyncio.Future[Any]) -> None:
        """Send a real `$/cancelRequest` for the newest pending request (pygls's client does not
        send one when a request future is cancelled)."""
        pending = [k for k, f in self.client.protocol._request_futures.items() if not f.done()]
        assert pending, "no pending request to cancel"
        self.client.cancel_request(types.CancelParams(id=pending[-1]))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)

    def messages(self, kind: types.MessageType | None = None) -> list[str]:
        return [m.message for m in self.client.messages if kind is None or m.type == kind]

    def logs(self) -> list[str]:
        return [m.message for m in self.client.log_messages]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.02)


def as_dict(params: Any) -> dict[str, Any]:
    """pygls hands custom notifications' params over as dicts, namedtuples or plain objects."""
    if isinstance(params, dict):
        return params
    if hasattr(params, "_asdict"):
        return dict(params._asdict())
    return dict(vars(params))


async def stop_client(client: LanguageClient) -> None:
    """Stop the client; kill the server process if it does not exit in time."""
    try:
        await asyncio.wait_for(client.stop(), 10)
    except (asyncio.TimeoutError, Exception):
        process = getattr(client, "_server", None)
        if process is not None and process.returncode is None:
            process.kill()


@contextlib.asynccontextmanager
async def start_session(
    base_url: str | None = None,
    init_options: dict[str, Any] | None = None,
    capabilities: types.ClientCapabilities | None = None,
    env: dict[str, str] | None = None,
    root: Path | None = None,
    configuration: dict[str, Any] | None = None,
) -> AsyncIterator[Session]:
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-test-") as tmp:
        tmp_path = Path(tmp)
        workspace = root or (tmp_path / "ws")
        workspace.mkdir(parents=True, exist_ok=True)
        home = tmp_path / "home"
        home.mkdir()
        options: dict[str, Any] = {"completion": {"debounceMs": 0}}
        if base_url:
            options["endpoint"] = {"baseUrl": base_url, "model": "qwen2.5-coder-test"}
        for key, value in (init_options or {}).items():
            if isinstance(value, dict) and isinstance(options.get(key), dict):
                options[key] = {**options[key], **value}
            else:
                options[key] = value
        client = make_test_lsp_client()
        if configuration is not None:
            client.set_configuration(configuration)
        statuses: list[dict[str, Any]] = []
        applied_edits: list[types.ApplyWorkspaceEditParams] = []

        @client.feature("qwen/status")
        def on_status(params: Any) -> None:
            statuses.append(as_dict(params))

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def on_apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            applied_edits.append(params)
            return types.ApplyWorkspaceEditResult(applied=True)

        await client.start_io(sys.executable, "-m", "qwen_lsp", env=server_env(home, env))
        try:
            init_result = await client.initialize_session(
                types.InitializeParams(
                    capabilities=capabilities
                    or client_capabilities(configuration=configuration is not None),
                    root_uri=workspace.as_uri(),
                    workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), "ws")],
                    initialization_options=options,
                )
            )
            session = Session(client, workspace, init_result)
            session.statuses = statuses
            session.applied_edits = applied_edits
            yield session
        finally:
            # Always shut down, even when the test failed: a server left without `shutdown`
            # and `exit` keeps `client.stop()` waiting forever.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.shutdown_session(), 10)
            await stop_client(client)
