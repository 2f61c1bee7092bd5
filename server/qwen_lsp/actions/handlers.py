"""LSP glue for the AI code actions: list, resolve, run as a command, show, apply.

* ``textDocument/codeAction`` lists actions at once, without the model; each carries
  :class:`ActionData` and no edit.
* ``codeAction/resolve`` runs the model (with ``$/progress``, cancellable) and returns the action
  with a minimal ``WorkspaceEdit`` against the document version the action was listed for.
* Clients without resolve support get the same actions with a ``qwen-lsp.runAction`` command,
  which computes the edit and sends it with ``workspace/applyEdit``. Explanations always run as
  that command: they are shown (``window/showDocument`` of a markdown file), never applied.

Failures (stale document, model error, unusable answer) are shown with ``window/showMessage``
and answered with a JSON-RPC error; the server carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified, JsonRpcException
from pygls.uris import to_fs_path

from ..model.errors import ModelError
from ..model.request import GenerationRequest
from ..workspace.files import FileRefused, PrivateDir
from ..workspace.names import is_secret_document
from .answer import AnswerError
from .catalogue import KINDS, TITLE_PREFIX, ActionData, Offer, offered_actions
from .edits import text_edits
from .progress import ActionProgress
from .runner import (
    ActionError,
    FileChange,
    Outcome,
    Plan,
    StaleDocument,
    check_version,
    finish_action,
    plan_action,
)
from .testfiles import test_files

if TYPE_CHECKING:
    from ..server import QwenLanguageServer

log = logging.getLogger(__name__)

RUN_ACTION_COMMAND = "qwen-lsp.runAction"
MAX_EXPLANATIONS = 50  # markdown files kept in the cache directory
MAX_SLUG_CHARS = 100  # of an explanation's file name (names have a length limit)
CANCEL_ATTEMPTS = 100
CANCEL_RETRY_S = 0.05


class ActionFailed(JsonRpcException):
    """LSP ``RequestFailed``: the request was valid but could not be carried out."""

    CODE = -32803
    MESSAGE = "Request failed"


# ---- client capabilities ---------------------------------------------------------------


def _code_action_caps(ls: QwenLanguageServer) -> types.CodeActionClientCapabilities | None:
    text_document = ls.client_capabilities.text_document
    return text_document.code_action if text_document else None


def resolve_supported(ls: QwenLanguageServer) -> bool:
    """Resolve works only if the client resolves ``edit`` and keeps ``data`` for us."""
    caps = _code_action_caps(ls)
    support = caps.resolve_support if caps else None
    return bool(support and "edit" in support.properties and caps and caps.data_support)


def literals_supported(ls: QwenLanguageServer) -> bool:
    caps = _code_action_caps(ls)
    return bool(caps and caps.code_action_literal_support)


def _workspace_edit_caps(ls: QwenLanguageServer) -> types.WorkspaceEditClientCapabilities | None:
    workspace = ls.client_capabilities.workspace
    return workspace.workspace_edit if workspace else None


def document_changes_supported(ls: QwenLanguageServer) -> bool:
    caps = _workspace_edit_caps(ls)
    return bool(caps and caps.document_changes)


def create_supported(ls: QwenLanguageServer) -> bool:
    caps = _workspace_edit_caps(ls)
    operations = (caps.resource_operations if caps else None) or []
    return document_changes_supported(ls) and types.ResourceOperationKind.Create in operations


def show_document_supported(ls: QwenLanguageServer) -> bool:
    window = ls.client_capabilities.window
    return bool(window and window.show_document and window.show_document.support)


# ---- listing ----------------------------------------------------------------------------


def run_command(offer: Offer) -> types.Command:
    return types.Command(
        title=offer.title, command=RUN_ACTION_COMMAND, arguments=[offer.data.to_json()]
    )


def to_code_action(ls: QwenLanguageServer, offer: Offer) -> types.CodeAction:
    """Lazy: ``data`` for resolve-capable clients, a command for the others; never an edit."""
    action = types.CodeAction(
        title=offer.title,
        kind=offer.kind,
        diagnostics=list(offer.diagnostics) or None,
        is_preferred=False,  # AI output is never the editor's auto-fix
    )
    if offer.command_only or not resolve_supported(ls):
        action.command = run_command(offer)
    else:
        action.data = offer.data.to_json()
    return action


def list_actions(
    ls: QwenLanguageServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command] | None:
    doc = ls.documents.find(params.text_document.uri)
    if doc is None or is_secret_document(doc.path):  # no AI actions inside secret files
        return None
    offers = offered_actions(
        doc,
        params.range,
        params.context.diagnostics,
        ls.settings.actions,
        params.context.only,
        ls.workspace_roots(),
    )
    if not literals_supported(ls):
        return [run_command(o) for o in offers] or None  # pre-3.8 clients take bare commands
    return [to_code_action(ls, o) for o in offers] or None


# ---- running ----------------------------------------------------------------------------


def short_title(data: ActionData) -> str:
    title = data.title or f"{data.action} action"
    return title[len(TITLE_PREFIX) :] if title.startswith(TITLE_PREFIX) else title


async def generate(ls: QwenLanguageServer, plan: Plan, progress: ActionProgress) -> str:
    """Stream the chat answer; cancelling the caller closes the HTTP stream."""
    settings = ls.settings.actions
    request = GenerationRequest(
        messages=plan.messages,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        model=settings.model,
        timeout_s=settings.timeout_s,
        purpose="action",
    )
    model = ls.model
    # The user asked explicitly: try now even if completions are backing off after failures.
    model.backoff.reset()
    parts: list[str] = []
    size = 0
    async with contextlib.aclosing(model.stream(request)) as stream:
        async for delta in stream:
            parts.append(delta)
            size += len(delta)
            progress.received(size)
    ls.model_recovered()
    return "".join(parts)


async def compute(
    ls: QwenLanguageServer, data: ActionData, progress: ActionProgress
) -> tuple[Plan, Outcome]:
    doc = ls.documents.find(data.uri)
    if doc is None:
        raise ActionError(f"{data.uri} is not open in the editor")
    if is_secret_document(doc.path):
        raise ActionError("the file looks like it holds credentials; AI actions are off in it")
    plan = plan_action(doc, data, ls.settings.actions, ls.workspace_roots(), ls.documents.find)
    answer = await generate(ls, plan, progress)
    # Never hand out edits computed for text that has changed meanwhile.
    check_version(ls.documents.find(plan.uri), plan.version, plan.uri)
    if plan.test is not None and plan.test.version is not None:
        check_version(ls.documents.find(plan.test.uri), plan.test.version, plan.test.uri)
    return plan, finish_action(plan, answer)


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` until it has ended.

    One ``cancel()`` is not always enough: a cancellation that lands just as an awaited call
    completes (``asyncio.wait_for`` before Python 3.12, e.g. around the HTTP send) is swallowed
    and the model stream would run on. Cancelling again at the next await point ends it.
    """
    for _ in range(CANCEL_ATTEMPTS):
        if task.done():
            return
        task.cancel()
        await asyncio.wait([task], timeout=CANCEL_RETRY_S)
    log.warning("an action did not stop after %d cancellations", CANCEL_ATTEMPTS)


async def run_with_progress(
    ls: QwenLanguageServer, data: ActionData
) -> tuple[Plan, Outcome, ActionProgress]:
    progress = ActionProgress(ls, data.title or "Qwen")
    await progress.begin()
    work = asyncio.ensure_future(compute(ls, data, progress))
    progress.cancel_with(lambda: ls.background(cancel_and_wait(work)))
    try:
        # Wait without being work's awaiter, so our own cancellation always reaches us here.
        await asyncio.wait([work])
    except asyncio.CancelledError:
        await cancel_and_wait(work)
        progress.end("cancelled")
        raise
    if work.cancelled():
        progress.end("cancelled")
        raise asyncio.CancelledError
    if (error := work.exception()) is not None:
        progress.end(f"failed: {error}")
        raise error
    progress.end("done")
    plan, outcome = work.result()
    return plan, outcome, progress


async def run_reported(
    ls: QwenLanguageServer, data: ActionData
) -> tuple[Plan, Outcome, ActionProgress]:
    """Run an action; failures are shown to the user and raised as JSON-RPC errors."""
    title = short_title(data)
    try:
        return await run_with_progress(ls, data)
    except StaleDocument as exc:
        log.info("%s: %s", title, exc)
        ls.show(f"{title}: {exc}", types.MessageType.Warning)
        raise JsonRpcContentModified(str(exc)) from None
    except (ActionError, AnswerError) as exc:
        log.info("%s failed: %s", title, exc)
        ls.show(f"{title} failed: {exc}", types.MessageType.Error)
        raise ActionFailed(f"{title} failed: {exc}") from None
    except ModelError as exc:
        log.warning("%s failed: %s", title, exc)
        ls.log_to_client(f"{title}: model request failed: {exc}", types.MessageType.Warning)
        ls.show(f"{title} failed: {exc.user_message}", types.MessageType.Error)
        raise ActionFailed(f"{title} failed: {exc.user_message}") from None


# ---- results ----------------------------------------------------------------------------


def write_new_files(
    ls: QwenLanguageServer, plan: Plan, changes: list[FileChange]
) -> list[FileChange]:
    """For clients that cannot create files: write new files to disk, return the rest.

    Through the gateway: inside the workspace, never through a link, never over anything that
    is already there; a refusal is shown and nothing is written or returned."""
    if create_supported(ls):
        return changes
    kept = []
    for change in changes:
        if change.create and change.path is not None:
            files = test_files(Path(to_fs_path(plan.uri) or change.path), ls.workspace_roots())
            try:
                files.create(str(change.path), change.hunks[0].new_text)
            except FileRefused as exc:
                message = f"{short_title(plan.data)} failed: {exc}; nothing was written"
                ls.show(message, types.MessageType.Error)
                raise ActionFailed(message) from None
            ls.background(show_file(ls, change.path))
        else:
            kept.append(change)
    return kept


def workspace_edit(ls: QwenLanguageServer, changes: list[FileChange]) -> types.WorkspaceEdit:
    """Versioned ``documentChanges`` (plus CreateFile) when the client takes them."""
    encoding = ls.documents.encoding
    if not document_changes_supported(ls):
        return types.WorkspaceEdit(
            changes={c.uri: text_edits(c.original, c.hunks, encoding) for c in changes}
        )
    operations: list[Any] = []
    for change in changes:
        if change.create:
            options = types.CreateFileOptions(ignore_if_exists=True)
            operations.append(types.CreateFile(uri=change.uri, options=options))
        identifier = types.OptionalVersionedTextDocumentIdentifier(
            uri=change.uri, version=change.version
        )
        edits = text_edits(change.original, change.hunks, encoding)
        operations.append(types.TextDocumentEdit(text_document=identifier, edits=edits))
    return types.WorkspaceEdit(document_changes=operations)


def explanations_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qwen-lsp" / "explanations"


def explanation_dirs() -> list[PrivateDir]:
    """Where explanations go: the user's cache, else a per-user directory in the temp dir (both
    private: mode 0700, ours, never a link another user could have planted)."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    fallback = Path(tempfile.gettempdir()) / f"qwen-lsp-explanations-{user}"
    return [PrivateDir(str(explanations_dir())), PrivateDir(str(fallback))]


def write_explanation(plan: Plan, title: str, text: str) -> Path:
    """A markdown file for the explanation; old ones are pruned."""
    region = plan.region
    lines = f"lines {region.start_line + 1}-{region.end_line}"
    slug = re.sub(r"[^\w.-]+", "-", f"{Path(plan.display_path).stem}-{region.name or lines}")
    digest = hashlib.sha1(f"{plan.uri}:{plan.version}:{text}".encode()).hexdigest()[:8]
    body = f"# {title}\n\n*{plan.display_path}, {lines}*\n\n{text.strip()}\n"
    for directory in explanation_dirs():
        try:
            path = directory.write(f"{slug[:MAX_SLUG_CHARS]}-{digest}.md", body)
        except (FileRefused, OSError) as exc:
            log.info("cannot write explanation to %s: %s", directory.path, exc)
            continue
        directory.prune(".md", MAX_EXPLANATIONS)
        return Path(path)
    raise ActionError("cannot write the explanation to a file")


async def show_file(ls: QwenLanguageServer, path: Path) -> bool:
    if not show_document_supported(ls):
        return False
    try:
        result = await ls.window_show_document_async(
            types.ShowDocumentParams(uri=path.as_uri(), take_focus=True)
        )
    except Exception as exc:  # the client may refuse; fall back to a message
        log.info("showDocument failed: %s", exc)
        return False
    return bool(result and result.success)


async def show_explanation(ls: QwenLanguageServer, plan: Plan, title: str, text: str) -> None:
    """A markdown document when the client can show one, else a message."""
    if show_document_supported(ls):
        path = write_explanation(plan, title, text)
        if await show_file(ls, path):
            return
    ls.show(f"{title}:\n\n{text}", types.MessageType.Info)


# ---- handlers ---------------------------------------------------------------------------


async def resolve_action(ls: QwenLanguageServer, action: types.CodeAction) -> types.CodeAction:
    try:
        data = ActionData.from_json(action.data)
    except ValueError:
        return action  # not ours, or already resolved
    plan, outcome, _progress = await run_reported(ls, data)
    if outcome.explanation:
        await show_explanation(ls, plan, short_title(data), outcome.explanation)
        return action
    action.edit = workspace_edit(ls, write_new_files(ls, plan, list(outcome.changes)))
    return action


async def run_action_command(ls: QwenLanguageServer, arguments: tuple[Any, ...]) -> Any:
    """``qwen-lsp.runAction``: compute, then show or apply with ``workspace/applyEdit``."""
    try:
        data = ActionData.from_json(arguments[0] if arguments else None)
    except ValueError as exc:
        raise ActionFailed(str(exc)) from None
    try:
        plan, outcome, _progress = await run_reported(ls, data)
    except asyncio.CancelledError:
        # Cancelled from the progress UI: the command itself simply ends.
        return {"applied": False, "cancelled": True}
    title = short_title(data)
    if outcome.explanation:
        await show_explanation(ls, plan, title, outcome.explanation)
        return {"shown": True}
    edit = workspace_edit(ls, write_new_files(ls, plan, list(outcome.changes)))
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=data.title or title)
    )
    if not result.applied:
        reason = result.failure_reason or "the editor refused it (has the file changed?)"
        ls.show(f"{title}: the edit was not applied: {reason}", types.MessageType.Warning)
    return {"applied": bool(result.applied)}


def register_actions(server: QwenLanguageServer) -> None:
    """Register codeAction, codeAction/resolve and the qwen-lsp.runAction command."""
    options = types.CodeActionOptions(
        code_action_kinds=sorted({*KINDS.values(), types.CodeActionKind.Refactor.value}),
        resolve_provider=True,
    )

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(
        ls: QwenLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        return list_actions(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(
        ls: QwenLanguageServer, params: types.CodeAction
    ) -> types.CodeAction:
        return await resolve_action(ls, params)

    # Annotations pygls can resolve at run time (it inspects command signatures).
    @server.command(RUN_ACTION_COMMAND)
    async def run_action(ls: Any, *arguments: Any) -> Any:
        return await run_action_command(ls, arguments)
