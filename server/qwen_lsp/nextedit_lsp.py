"""Next-edit prediction over LSP (docs/next-edit.md): the protocol side of ``qwen_lsp.nextedit``.

What a client gets, in standard LSP where it fits:

* an edit on the cursor's line comes back from ``textDocument/inlineCompletion`` as an
  ``InlineCompletionItem`` with a ``range`` (a replacement, which VS Code and Neovim 0.12 render
  and accept like ghost text);
* a code action **"Qwen: Apply predicted edit"** carries the prediction as a ``WorkspaceEdit``
  for the document's version (any client, e.g. Emacs with eglot, can take it);
* a client that says ``capabilities.experimental.qwenNextEdit = true`` also gets a
  ``qwen/nextEdit`` notification whenever the prediction appears, changes or goes
  (``prediction: null``), with the edit, where to jump and an accept command; and may ask for
  one with the ``qwen/nextEdit`` request (``{textDocument, position}`` → the same object);
* commands: ``qwen-lsp.applyNextEdit [id]`` (the server applies it with ``workspace/applyEdit``
  after checking the document is still the text it was made for), ``qwen-lsp.acceptNextEdit
  [id]`` (the client applied it: statistics) and ``qwen-lsp.rejectNextEdit [id]`` (dismissed:
  not offered again).

Predictions are asked for once edits settle (``next_edit.debounce_ms``), cancelled by the next
edit, and kept while the user types them (``nextedit/service.py``). The model calls go through
a client of their own. Off unless
``next_edit.enabled``. Hooks in ``server.py``: ``did_change``, ``did_close``, ``inline_item``
and ``shutdown``; ``register_next_edit`` adds the rest.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from lsprotocol.converters import get_converter

from .workspace.names import is_secret_document

if TYPE_CHECKING:
    from .documents import Document
    from .model.client import ModelClient
    from .model.request import Answer, GenerationRequest, TransportName
    from .nextedit.diff import TextChange
    from .nextedit.predict import Prediction
    from .nextedit.service import NextEditConfig, NextEditService
    from .server import QwenLanguageServer
    from .settings import EndpointSettings

log = logging.getLogger(__name__)

NEXT_EDIT_METHOD = "qwen/nextEdit"
CAPABILITY = "qwenNextEdit"  # in capabilities.experimental: the client shows the notification
APPLY_COMMAND = "qwen-lsp.applyNextEdit"
ACCEPT_COMMAND = "qwen-lsp.acceptNextEdit"
REJECT_COMMAND = "qwen-lsp.rejectNextEdit"
DEBUG_COMMAND = "qwen-lsp.debugNextEdit"
ACTION_TITLE = "Qwen: Apply predicted edit"
ACTION_KIND = types.CodeActionKind.RefactorRewrite


class NextEdit:
    """The server's next-edit state: the service (built on first use) and its delivery."""

    def __init__(self, ls: QwenLanguageServer):
        self.ls = ls
        self._service: NextEditService | None = None
        self._model: ModelClient | None = None  # next edit's own client, for these settings
        self._client_for: tuple[EndpointSettings, TransportName] | None = None

    # --- hooks from server.py ---------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.ls.settings.next_edit.enabled

    def did_change(self, doc: Document) -> None:
        if self.enabled and not is_secret_document(doc.path):
            self.service.did_change(doc)
        elif self._service is not None:
            self._service.close(doc.uri)

    def did_close(self, uri: str) -> None:
        if self._service is not None:
            self._service.close(uri)

    def inline_item(
        self, doc: Document, position: types.Position
    ) -> types.InlineCompletionItem | None:
        """The prediction as a replacement on the cursor's line, if it has one there."""
        if self._service is None or not self.enabled:
            return None
        offset = doc.offset_at(position)
        self._service.cursor_at(doc, offset)
        prediction = self._service.current(doc)
        if prediction is None:
            return None
        found = cursor_line_change(doc, prediction, offset)
        if found is None:
            return None
        start, end, text = found
        return types.InlineCompletionItem(
            insert_text=text,
            range=doc.range_at(start, end),
            command=command(ACCEPT_COMMAND, "Accept predicted edit", prediction.id),
        )

    async def shutdown(self) -> None:
        if self._service is not None:
            self._service.cancel_all()
        if self._model is not None:
            await self._model.aclose()
            self._model = None

    # --- the service ------------------------------------------------------------------------

    @property
    def service(self) -> NextEditService:
        if self._service is None:
            from .nextedit.service import NextEditService

            self._service = NextEditService(
                self.ls.documents,
                self.generate,
                self.config,
                self.display_path,
                self.on_update,
                on_error=self.on_error,
            )
        return self._service

    def config(self) -> NextEditConfig:
        from .nextedit.service import NextEditConfig

        settings = self.ls.settings
        chosen = settings.next_edit
        return NextEditConfig(
            enabled=chosen.enabled,
            model=chosen.model or settings.actions.model or settings.endpoint.model,
            format=chosen.format,
            debounce_s=chosen.debounce_ms / 1000,
            timeout_s=chosen.timeout_s,
        )

    def display_path(self, doc: Document) -> str:
        """The path the model sees: relative to its workspace folder, else the file name."""
        if doc.path is None:
            return doc.uri.rsplit("/", 1)[-1]
        path = Path(doc.path)
        for root in self.ls.workspace_roots():
            try:
                return path.relative_to(root).as_posix()
            except ValueError:
                continue
        return path.name

    async def generate(self, request: GenerationRequest) -> Answer:
        """One model call, on next edit's own client (its failures and backoff never pause
        completions): chat for the instruct format; for zeta a raw prompt on ``/completions``
        (Ollama: ``/api/generate``), whatever transport completions use."""
        from .model.errors import ModelError

        ls = self.ls
        transport = "ollama" if ls.resolve_transport(ls.settings) == "ollama" else "completions"
        client = self._client(ls.settings.endpoint, transport)
        try:
            answer = await client.answer(request)
        except ModelError as error:
            ls.report_model_error(error)
            raise
        ls.model_recovered()
        return answer

    def _client(self, endpoint: EndpointSettings, transport: TransportName) -> ModelClient:
        from .model.client import ModelClient

        if self._client_for != (endpoint, transport) or self._model is None:
            if self._model is not None:  # settings changed: the old one is closed
                self.ls.background(self._model.aclose())
            self._model, self._client_for = ModelClient(endpoint, transport), (endpoint, transport)
        return self._model

    def on_error(self, error: Exception) -> None:
        log.info("next-edit prediction failed: %s", error)

    # --- delivery ---------------------------------------------------------------------------

    def wants_notifications(self) -> bool:
        experimental = self.ls.client_capabilities.experimental
        return isinstance(experimental, dict) and bool(experimental.get(CAPABILITY))

    def on_update(self, uri: str, prediction: Prediction | None) -> None:
        if not self.wants_notifications():
            return
        doc = self.ls.documents.find(uri)
        if doc is None:
            return
        payload = None if prediction is None else self.describe(doc, prediction)
        self.ls.protocol.notify(
            NEXT_EDIT_METHOD, {"uri": uri, "version": doc.version, "prediction": payload}
        )

    def describe(self, doc: Document, prediction: Prediction) -> dict[str, Any]:
        """The prediction as a client sees it (positions in the negotiated encoding)."""
        edits = text_edits(doc, prediction.changes)
        first, last = prediction.changes[0], prediction.changes[-1]
        cursor_line = doc.line_index.line_of(prediction.cursor)
        converter = get_converter()
        return {
            "id": prediction.id,
            "edit": converter.unstructure(self.workspace_edit(doc, prediction)),
            "edits": [converter.unstructure(e) for e in edits],
            "range": converter.unstructure(doc.range_at(first.start, last.end)),
            "jump": converter.unstructure(doc.position_at(first.start)),
            "cursorLine": all(
                doc.line_index.line_of(c.start) == cursor_line == doc.line_index.line_of(c.end)
                for c in prediction.changes
            ),
            "command": converter.unstructure(command(APPLY_COMMAND, ACTION_TITLE, prediction.id)),
        }

    def workspace_edit(self, doc: Document, prediction: Prediction) -> types.WorkspaceEdit:
        edits = text_edits(doc, prediction.changes)
        workspace = self.ls.client_capabilities.workspace
        caps = workspace.workspace_edit if workspace else None
        if caps and caps.document_changes:
            identifier = types.OptionalVersionedTextDocumentIdentifier(doc.uri, doc.version)
            return types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(identifier, list(edits))]
            )
        return types.WorkspaceEdit(changes={doc.uri: list(edits)})

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        if self._service is None or not self.enabled:
            return []
        only = params.context.only
        if only and not any(ACTION_KIND.value.startswith(kind) for kind in only):
            return []
        doc = self.ls.documents.find(params.text_document.uri)
        prediction = self._service.current(doc) if doc is not None else None
        if doc is None or prediction is None:
            return []
        return [
            types.CodeAction(
                title=ACTION_TITLE,
                kind=ACTION_KIND,
                edit=self.workspace_edit(doc, prediction),
                command=command(ACCEPT_COMMAND, ACTION_TITLE, prediction.id),
                is_preferred=False,
            )
        ]

    async def request(self, params: Any) -> dict[str, Any] | None:
        """``qwen/nextEdit``: the prediction at a position (waits for one being made)."""
        uri = _get(_get(params, "textDocument") or {}, "uri")
        position = _get(params, "position") or {}
        doc = self.ls.documents.find(str(uri)) if uri else None
        if doc is None or not self.enabled or is_secret_document(doc.path):
            return None
        offset = doc.offset_at((int(_get(position, "line")), int(_get(position, "character"))))
        prediction = await self.service.request(doc, offset)
        live = self.ls.documents.find(doc.uri)
        if prediction is None or live is None:
            return None
        return self.describe(live, prediction)

    async def apply(self, prediction_id: str) -> dict[str, Any]:
        """``qwen-lsp.applyNextEdit``: apply it, if the document is still the text it was for."""
        found = self._service.find(prediction_id) if self._service is not None else None
        if found is None:
            self.ls.show(
                "the predicted edit is gone (the file changed since it was shown); "
                "nothing was applied",
                types.MessageType.Info,
            )
            return {"applied": False}
        doc, prediction = found
        result = await self.ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(
                edit=self.workspace_edit(doc, prediction), label=ACTION_TITLE
            )
        )
        if result.applied:
            self.service.accepted(prediction_id)
        return {"applied": bool(result.applied)}


def command(name: str, title: str, prediction_id: str) -> types.Command:
    return types.Command(title=title, command=name, arguments=[prediction_id])


def text_edits(doc: Document, changes: tuple[TextChange, ...]) -> list[types.TextEdit]:
    return [types.TextEdit(doc.range_at(c.start, c.end), c.new_text) for c in changes]


def cursor_line_change(
    doc: Document, prediction: Prediction, offset: int
) -> tuple[int, int, str] | None:
    """The prediction's changes on the cursor's line as one replacement that covers the
    cursor (``start``, ``end``, text), or None when none is wholly on that line."""
    index = doc.line_index
    line = index.line_of(offset)
    on_line = [
        c for c in prediction.changes if index.line_of(c.start) == line == index.line_of(c.end)
    ]
    if not on_line:
        return None
    text = doc.text
    start, end = min(on_line[0].start, offset), max(on_line[-1].end, offset)
    pieces, at = [], start
    for change in on_line:
        pieces += [text[at : change.start], change.new_text]
        at = change.end
    pieces.append(text[at:end])
    return start, end, "".join(pieces)


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _arg(args: Any) -> str:
    return str(args[0] if isinstance(args, (list, tuple)) and args else args)


def register_next_edit(server: QwenLanguageServer) -> None:
    """The ``qwen/nextEdit`` request, the commands, and the code action (added to the list the
    code-action handler already registered returns: pygls takes one handler per method)."""
    server.next_edit = NextEdit(server)

    @server.feature(NEXT_EDIT_METHOD)
    async def next_edit_request(ls: QwenLanguageServer, params: Any) -> Any:
        return await ls.next_edit.request(params)

    # Commands take ``Any``: pygls resolves their annotations at run time.
    @server.command(APPLY_COMMAND)
    async def apply_next_edit(ls: Any, args: Any) -> Any:
        return await ls.next_edit.apply(_arg(args))

    @server.command(ACCEPT_COMMAND)
    def accept_next_edit(ls: Any, args: Any) -> None:
        ls.next_edit.service.accepted(_arg(args))

    @server.command(REJECT_COMMAND)
    def reject_next_edit(ls: Any, args: Any) -> None:
        ls.next_edit.service.rejected(_arg(args))

    @server.command(DEBUG_COMMAND)
    def debug_next_edit(ls: Any, *args: Any) -> dict[str, Any]:
        service = ls.next_edit._service
        return {
            "stats": dict(service.stats) if service else {},
            "last_outcome": dict(service.last_outcome) if service else {},
        }

    features = server.protocol.fm.features
    listed = features.get(types.TEXT_DOCUMENT_CODE_ACTION)
    if listed is None or asyncio.iscoroutinefunction(listed):
        raise RuntimeError("next edit: the code-action handler must be registered first (sync)")

    @functools.wraps(listed)
    def code_action_with_next_edit(params: types.CodeActionParams) -> Any:
        actions = listed(params) or []
        return [*server.next_edit.code_actions(params), *actions] or None

    features[types.TEXT_DOCUMENT_CODE_ACTION] = code_action_with_next_edit
