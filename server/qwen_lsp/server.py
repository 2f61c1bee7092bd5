"""The pygls language server: capabilities, feature registration and thin handlers.

Handlers only translate between LSP types and the pure core (documents, engine, actions).
Nothing here writes to stdout: on the stdio transport stdout is the protocol channel.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
import re
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from . import __version__
from .notify import MessageThrottle, client_log_hint
from .settings import (
    EndpointSettings,
    Settings,
    check_consistency,
    load_base_settings,
    merge,
    redacted,
)
from .stdio import serve_stdio
from .workspace.names import is_secret_document

# The completion core (documents and trees, tokenizer, model client, context engine, actions)
# is imported when first used, after the `initialize` answer: start-up pays only for pygls.
if TYPE_CHECKING:
    from .completion.engine import Completion, CompletionEngine
    from .completion.planner import PromptPlanner
    from .completion.snapshot import CompletionSnapshot
    from .context.engine import ContextEngine
    from .context.tokens import TokenCounter
    from .documents import Document, DocumentStore
    from .model.client import ModelClient, TransportName
    from .model.detect import Detection
    from .model.errors import ModelError
    from .nextedit_lsp import NextEdit

log = logging.getLogger("qwen_lsp")

ACCEPT_COMMAND = "qwen-lsp.acceptCompletion"
STATUS_NOTIFICATION = "qwen/status"
DID_SHOW_COMPLETION = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"
# Diagnostics for tests and benchmarks (robustness fuzzing, soak): read-only, no side effects.
DEBUG_DOCUMENT_STATE_COMMAND = "qwen-lsp.debugDocumentState"
DEBUG_STATS_COMMAND = "qwen-lsp.debugStats"
CONFIG_SECTION = "qwen-lsp"
WORD_AT_END = re.compile(r"[\w$]+$")
# Shown completions remembered for accept/telemetry commands; bounded.
MAX_REMEMBERED = 256
# The tokenizer is built once the editor has been quiet this long (or after TOKENIZER_LATEST_S):
# tiktoken builds its tables holding the GIL for ~0.1 s, which would delay a keystroke.
TOKENIZER_QUIET_S = 1.0
TOKENIZER_LATEST_S = 20.0


class QwenProtocol(LanguageServerProtocol):
    """pygls's protocol, minus its own copy of every open document.

    We keep documents in ``DocumentStore`` (line index, incremental tree); pygls's copy re-splits
    the whole text on every change (~5 ms per keystroke on a 10k-line file) and nobody reads it.
    After ``shutdown`` a request gets an InvalidRequest error (pygls drops it unanswered, and the
    client waits forever); notifications other than ``exit`` are dropped.
    """

    def handle_message(self, message: Any) -> None:
        is_request = getattr(message, "id", None) is not None and hasattr(message, "method")
        if self._shutdown and is_request and message.method != types.EXIT:
            error = JsonRpcInvalidRequest(f"the server is shutting down; {message.method} refused")
            self._send_response(message.id, error=error.to_response_error())
            return
        super().handle_message(message)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class QwenLanguageServer(LanguageServer):
    """Holds the state shared by handlers; behaviour lives in the core modules."""

    def __init__(self, base_settings: Settings | None = None, base_errors: Sequence[str] = ()):
        super().__init__(
            "qwen-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=QwenProtocol,
        )
        if base_settings is None:
            base_settings, errors = load_base_settings()
            base_errors = [*base_errors, *errors]
        self.base_settings = base_settings
        self.init_options: Any = None
        self.client_settings: Any = None
        self.settings = base_settings
        self.pending_problems: list[str] = list(base_errors)
        self.messages = MessageThrottle()
        self.position_encoding: str = "utf-16"
        self._documents: DocumentStore | None = None
        self._core: _Core | None = None
        self.status_notifications = False
        self.client_name = ""  # clientInfo.name: says where the user finds our log lines
        self.shown: dict[str, Completion] = {}
        self.detection: tuple[EndpointSettings, Detection] | None = None
        self.initialized_done = False
        self.redetecting = False
        self.tasks: set[asyncio.Task[Any]] = set()
        self.last_activity = 0.0  # time.monotonic() of the latest edit or completion request
        self.next_edit: NextEdit  # set by register_next_edit (nextedit_lsp.py)

    # --- the completion core, built on first use -------------------------------------------

    @property
    def core(self) -> _Core:
        if self._core is None:
            self._core = _Core.build(self)
        return self._core

    @property
    def documents(self) -> DocumentStore:
        """Open documents: needed from the first didOpen, light (no grammar, no core)."""
        if self._documents is None:
            from .documents import DocumentStore

            self._documents = DocumentStore()
            self._documents.set_encoding(self.position_encoding)
        return self._documents

    @property
    def core_ready(self) -> bool:
        """The core exists: document events go to the context engine too (until then it
        catches up when built)."""
        return self._core is not None

    counter = property(lambda self: self.core.counter)
    context_engine = property(lambda self: self.core.context_engine)
    planner = property(lambda self: self.core.planner)
    engine = property(lambda self: self.core.engine)

    @property
    def model(self) -> ModelClient:
        return self.core.model

    @model.setter
    def model(self, client: ModelClient) -> None:
        self.core.model = client

    def _start_io_async(
        self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
    ) -> None:
        # pygls reads stdin through a worker thread per line; stdio.py reads it on the loop.
        serve_stdio(self, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)

    def background(self, coro: Any) -> None:
        """Run a coroutine detached, keeping a reference so it is not garbage collected."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- settings -------------------------------------------------------------------------

    def resolve_transport(self, settings: Settings) -> TransportName:
        """Settings win; else the probed kind for this endpoint; else a guess from the URL."""
        from .model.detect import guess_from_url

        detection = getattr(self, "detection", None)
        auto = settings.endpoint.transport == "auto"
        if auto and detection is not None and detection[0] == settings.endpoint:
            return detection[1].transport
        return guess_from_url(settings.endpoint).transport

    async def detect_transport(self) -> None:
        """Probe the endpoint once per endpoint setting, in the background."""
        from .model.detect import detect_endpoint

        endpoint = self.settings.endpoint
        try:
            detected = await detect_endpoint(endpoint)
        except Exception as exc:  # detection is an optimisation; never fatal
            log.info("endpoint detection failed: %s", exc)
            return
        finally:
            self.redetecting = False
        if endpoint != self.settings.endpoint:
            return  # settings changed meanwhile; a newer probe runs
        self.detection = (endpoint, detected)
        log.info("endpoint detected: %s", detected.describe())
        notes = "".join(f"\n  {note}" for note in detected.notes)
        self.log_to_client(f"endpoint: {detected.describe()}{notes}", types.MessageType.Info)
        self.model.transport = self.resolve_transport(self.settings)

    def apply_settings(self) -> list[str]:
        """Recompute effective settings from every layer; returns problems to show."""
        settings, problems = self.base_settings, []
        for layer_name, layer in (
            ("initializationOptions", self.init_options),
            ("client settings", self.client_settings),
        ):
            if isinstance(layer, dict):
                layer = {k: v for k, v in layer.items() if k != "statusNotifications"}
            settings, errors = merge(settings, layer)
            problems += [f"{layer_name}: {e}" for e in errors]
        consistency = check_consistency(settings)
        if consistency:
            problems += consistency
            # Keep the endpoint that worked rather than one we know is broken.
            settings = dataclasses.replace(settings, endpoint=self.settings.endpoint)
        endpoint_changed = settings.endpoint != self.settings.endpoint
        self.settings = settings
        core = self._core  # not built yet: it is built with these settings
        if core is not None:
            core.planner.settings = settings
            core.context_engine.configure(settings)  # reindexes only if index settings changed
        transport_changed = core is not None and (
            core.model.transport != self.resolve_transport(settings)
        )
        if endpoint_changed or transport_changed:
            self.messages.recovered()
            if core is not None:
                from .model.client import ModelClient

                old, core.model = (
                    core.model,
                    ModelClient(settings.endpoint, self.resolve_transport(settings)),
                )
                if _loop_running():
                    self.background(old.aclose())
            if endpoint_changed and self.initialized_done and _loop_running():
                self.background(self.detect_transport())
        if core is not None:
            core.engine.configure(settings, core.model)
        logging.getLogger("qwen_lsp").setLevel(settings.log_level.upper())
        return problems

    # --- user messages --------------------------------------------------------------------

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"qwen-lsp: {message}"))

    def log_to_client(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def report_problems(self, problems: Sequence[str]) -> None:
        for problem in problems:
            log.warning("settings: %s", problem)
            self.log_to_client(f"settings: {problem}", types.MessageType.Warning)
        if problems:
            summary = (
                problems[0]
                if len(problems) == 1
                else f"{problems[0]} (and {len(problems) - 1} more: see "
                f"{client_log_hint(self.client_name)})"
            )
            self.show(f"invalid settings ignored: {summary}", types.MessageType.Warning)

    def report_model_error(self, error: ModelError) -> None:
        should_log, swallowed = self.messages.should_log(error.kind)
        if should_log:
            extra = f" ({swallowed} similar since last report)" if swallowed else ""
            log.warning("model request failed: %s%s", error, extra)
            self.log_to_client(f"model request failed: {error}{extra}", types.MessageType.Warning)
        if self.messages.should_show(error.kind):
            self.show(error.user_message, types.MessageType.Error)

    def model_recovered(self) -> None:
        if self.messages.recovered():
            self.log_to_client("model endpoint is answering again", types.MessageType.Info)
        # The server was down when we probed it: the transport is only a URL guess. Probe again
        # now that it answers (once: the new detection is marked reachable).
        detection = self.detection[1] if self.detection else None
        if detection is not None and detection.reachable is False and not self.redetecting:
            self.redetecting = True
            self.background(self.detect_transport())

    def send_status(self, state: str, message: str) -> None:
        if self.status_notifications:
            self.protocol.notify(
                STATUS_NOTIFICATION, {"state": state, "busy": state == "busy", "message": message}
            )

    def workspace_roots(self) -> list[str]:
        try:
            workspace = self.workspace
        except RuntimeError:
            return []
        roots = [to_fs_path(f.uri) for f in workspace.folders.values()]
        if not roots and workspace.root_path:
            roots = [workspace.root_path]
        return [r for r in roots if r]

    def remember_shown(self, completion: Completion) -> None:
        self.shown[completion.id] = completion
        while len(self.shown) > MAX_REMEMBERED:
            self.shown.pop(next(iter(self.shown)))

    # --- documents ------------------------------------------------------------------------

    def document_or_error(self, uri: str) -> Document:
        from .documents import DocumentNotOpen

        try:
            return self.documents.get(uri)
        except DocumentNotOpen:
            raise JsonRpcInvalidParams(
                f"document {uri} is not open (send textDocument/didOpen first)"
            ) from None

    def completion_input(
        self, doc: Document, position: types.Position, automatic: bool
    ) -> CompletionSnapshot:
        if position.line < 0 or position.character < 0:
            raise JsonRpcInvalidParams(f"invalid position {position.line}:{position.character}")
        if position.line >= doc.line_count + 1:
            raise JsonRpcInvalidParams(
                f"position {position.line}:{position.character} is past the end of {doc.uri} "
                f"({doc.line_count} lines)"
            )
        from .completion.snapshot import snapshot_of

        return snapshot_of(doc, doc.offset_at(position), automatic)


@dataclasses.dataclass
class _Core:
    """What completions need, built together with the server's settings at that moment."""

    counter: TokenCounter
    model: ModelClient
    context_engine: ContextEngine
    planner: PromptPlanner
    engine: CompletionEngine

    @classmethod
    def build(cls, ls: QwenLanguageServer) -> _Core:
        from .completion.engine import CompletionEngine
        from .completion.planner import PromptPlanner
        from .context.engine import ContextEngine
        from .context.tokens import TokenCounter
        from .model.client import ModelClient

        settings = ls.settings
        documents = ls.documents
        counter = TokenCounter(settings.endpoint.model)
        model = ModelClient(settings.endpoint, ls.resolve_transport(settings))
        # Context engine (context/engine.py): workspace symbol index built in a background
        # process, cross-file snippets for repo-level prompts.
        context_engine = ContextEngine(settings, counter, documents)
        planner = PromptPlanner(
            settings,
            transport=lambda: ls.model.transport,
            roots=ls.workspace_roots,
            context_provider=context_engine,
        )
        engine = CompletionEngine(
            settings,
            model,
            planner,
            on_error=ls.report_model_error,
            on_success=ls.model_recovered,
            on_status=ls.send_status,
        )
        for doc in documents:  # opened before the core existed
            context_engine.did_open(doc)
        return cls(counter, model, context_engine, planner, engine)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def accept_command(completion_id: str) -> types.Command:
    return types.Command(
        title="Accept Qwen completion", command=ACCEPT_COMMAND, arguments=[completion_id]
    )


def end_position(doc: Document, position: types.Position, extra_chars: int) -> types.Position:
    if extra_chars <= 0:
        return position
    offset = doc.offset_at(position)
    return doc.position_at(offset + extra_chars)


def build_server(
    base_settings: Settings | None = None, base_errors: Sequence[str] = ()
) -> QwenLanguageServer:
    server = QwenLanguageServer(base_settings, base_errors)

    @server.feature(types.INITIALIZE)
    def initialize(ls: QwenLanguageServer, params: types.InitializeParams) -> None:
        ls.init_options = params.initialization_options
        ls.client_name = params.client_info.name if params.client_info else ""
        if isinstance(ls.init_options, dict):
            ls.status_notifications = bool(ls.init_options.get("statusNotifications"))
        ls.position_encoding = ls.workspace.position_encoding or "utf-16"
        ls.pending_problems += ls.apply_settings()
        if ls._documents is not None:  # made early (only tests do that): catch up
            ls.documents.set_encoding(ls.position_encoding)
        if ls._core is not None:
            ls.core.counter.model = ls.settings.endpoint.model

    @server.feature(types.INITIALIZED)
    async def initialized(ls: QwenLanguageServer, params: types.InitializedParams) -> None:
        log.info("qwen-lsp %s ready; settings %s", __version__, redacted(ls.settings))
        problems, ls.pending_problems = ls.pending_problems, []
        ls.report_problems(problems)
        ls.initialized_done = True
        # The completion core's modules load in a thread meanwhile: the loop keeps answering.
        core_imported = asyncio.ensure_future(asyncio.to_thread(import_core_modules))
        await pull_configuration(ls)
        await core_imported
        ls.background(ls.detect_transport())
        # Settings are final now: index the workspace in the background, watch its files.
        ls.context_engine.start(ls.workspace_roots())
        ls.background(watch_workspace_files(ls))
        ls.background(load_tokenizer_when_quiet(ls))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: QwenLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if params.settings:
            ls.client_settings = params.settings
            ls.report_problems(ls.apply_settings())
        else:
            await pull_configuration(ls)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: QwenLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.last_activity = time.monotonic()
        item = params.text_document
        doc = ls.documents.open(item.uri, item.text, item.version, item.language_id)
        if ls.core_ready:
            ls.context_engine.did_open(doc)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: QwenLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        from .documents import DocumentNotOpen

        ls.last_activity = time.monotonic()
        uri = params.text_document.uri
        try:
            doc = ls.documents.change(uri, params.content_changes, params.text_document.version)
        except DocumentNotOpen:
            log.warning("didChange for %s, which was never opened; ignored", uri)
            return
        if ls.core_ready:
            ls.context_engine.did_change(doc)
        ls.next_edit.did_change(doc)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: QwenLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        if ls.core_ready:
            ls.context_engine.did_save(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: QwenLanguageServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        kinds = {1: "created", 2: "changed", 3: "deleted"}
        ls.context_engine.files_changed(
            (path, kinds.get(int(change.type), "changed"))
            for change in params.changes
            if (path := to_fs_path(change.uri))
        )

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(
        ls: QwenLanguageServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        ls.context_engine.start(ls.workspace_roots())  # pygls already updated the folders

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: QwenLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if ls.core_ready:
            ls.engine.cancel(uri)
            ls.engine.cache.forget(uri)
            ls.context_engine.did_close(uri)
        ls.next_edit.did_close(uri)
        ls.documents.close(uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: QwenLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        ls.last_activity = time.monotonic()
        doc = ls.document_or_error(params.text_document.uri)
        if is_secret_document(doc.path):  # its text would become the prompt
            return types.InlineCompletionList(items=[])
        if (predicted := ls.next_edit.inline_item(doc, params.position)) is not None:
            return types.InlineCompletionList(items=[predicted])  # the next edit, on this line
        automatic = params.context.trigger_kind != types.InlineCompletionTriggerKind.Invoked
        request = ls.completion_input(doc, params.position, automatic)
        completions = await ls.engine.complete(request)
        if completions:
            ls.engine.speculate(request, completions[0])
        items = []
        for completion in completions:
            ls.remember_shown(completion)
            end = end_position(doc, params.position, completion.replace_suffix_chars)
            items.append(
                types.InlineCompletionItem(
                    insert_text=completion.text,
                    range=types.Range(params.position, end),
                    command=accept_command(completion.id),
                )
            )
        return types.InlineCompletionList(items=items)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "(", " ", "\n"], resolve_provider=False),
    )
    async def completion(
        ls: QwenLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        if not ls.settings.completion.completion_items:
            return None
        ls.last_activity = time.monotonic()
        doc = ls.document_or_error(params.text_document.uri)
        if is_secret_document(doc.path):
            return types.CompletionList(is_incomplete=False, items=[])
        automatic = (
            params.context is None
            or params.context.trigger_kind != types.CompletionTriggerKind.Invoked
        )
        request = ls.completion_input(doc, params.position, automatic)
        completions = await ls.engine.complete(request)
        return types.CompletionList(
            is_incomplete=True,
            items=[
                completion_item(doc, request, params.position, c, markdown_docs(ls))
                for c in completions
            ],
        )

    @server.command(ACCEPT_COMMAND)
    def accept_completion(ls: QwenLanguageServer, args: Any) -> None:
        completion_id = args[0] if isinstance(args, (list, tuple)) and args else args
        completion = ls.shown.pop(str(completion_id), None)
        ls.engine.accepted(completion)
        log.debug("accepted %s (%s)", completion_id, "known" if completion else "unknown")

    @server.feature(DID_SHOW_COMPLETION)
    def did_show_completion(ls: QwenLanguageServer, params: Any) -> None:
        log.debug("client showed a completion: %s", params)

    @server.feature(DID_PARTIALLY_ACCEPT)
    def did_partially_accept(ls: QwenLanguageServer, params: Any) -> None:
        log.debug("client partially accepted a completion: %s", params)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: QwenLanguageServer, params: Any) -> None:
        await ls.next_edit.shutdown()
        if ls._core is None:
            return  # nothing was started
        ls.engine.cancel_all()
        ls.context_engine.shutdown()  # stops the index worker process
        await ls.model.aclose()

    # Debug commands: what the server holds for a document (to compare with the client's
    # text after fuzzed edits) and leak counters (engine stats, asyncio tasks) for soak runs.
    @server.command(DEBUG_DOCUMENT_STATE_COMMAND)
    def debug_document_state(ls: QwenLanguageServer, uri: str) -> dict[str, Any]:
        return document_state(ls.document_or_error(str(uri)))

    @server.command(DEBUG_STATS_COMMAND)
    def debug_stats(ls: QwenLanguageServer) -> dict[str, Any]:
        return {
            "engine": dataclasses.asdict(ls.engine.stats),
            "generations": len(ls.engine._generations),
            "active_streams": ls.model.active_streams,
            "asyncio_tasks": len(asyncio.all_tasks()),
            "background_tasks": len(ls.tasks),
            "documents": len(ls.documents),
            "shown": len(ls.shown),
            "tokenizer_exact": ls.counter.exact,
        }

    from .actions.handlers import register_actions

    register_actions(server)  # AI code actions (actions/handlers.py)
    from .nextedit_lsp import register_next_edit

    register_next_edit(server)  # next-edit prediction (nextedit_lsp.py), after the actions
    return server


def document_state(doc: Document) -> dict[str, Any]:
    """Text and version the server holds, whether the incrementally edited syntax tree equals a
    from-scratch parse of that text (None when the document is not parsed), and how many
    parses the document had before this check."""
    from tree_sitter import Parser

    matches: bool | None = None
    itree = doc.incremental_tree
    parses = itree.parse_count if itree is not None else 0  # before the check below parses
    if itree is not None:
        scratch = Parser(itree.language).parse(doc.source)
        matches = str(doc.tree.root_node) == str(scratch.root_node) if doc.tree else False
    return {
        "text": doc.text,
        "version": doc.version,
        "tree_sexp_matches_scratch": matches,
        "parse_skipped_reason": doc.parse_skipped_reason,
        "parse_count": parses,
    }


# What `_Core.build`, the first completion and endpoint detection import.
CORE_MODULES = (
    "qwen_lsp.documents",
    "qwen_lsp.model.client",
    "qwen_lsp.model.detect",
    "qwen_lsp.context.engine",
    "qwen_lsp.completion.engine",
    "qwen_lsp.completion.planner",
    "qwen_lsp.completion.pipeline",
)


def import_core_modules() -> None:
    """Import the completion core (run in a thread: a handler that needs a module first waits
    for it, everything else goes on)."""
    for name in CORE_MODULES:
        importlib.import_module(name)


async def load_tokenizer_when_quiet(ls: QwenLanguageServer) -> None:
    """Build the Qwen tokenizer (in a thread) once the editor has been quiet for a moment, or
    at the latest after TOKENIZER_LATEST_S; token counts are estimates until it is ready.

    tiktoken builds its BPE tables holding the GIL for ~0.1 s: started on a keystroke's heels,
    that stalls the event loop while the next keys arrive."""
    started = time.monotonic()
    while True:
        now = time.monotonic()
        quiet_for = now - max(ls.last_activity, started)
        if quiet_for >= TOKENIZER_QUIET_S or now - started >= TOKENIZER_LATEST_S:
            break
        await asyncio.sleep(TOKENIZER_QUIET_S / 4)
    ls.counter.model = ls.settings.endpoint.model
    ls.counter.start_loading()


async def watch_workspace_files(ls: QwenLanguageServer) -> None:
    """Ask the client to report file changes (the index follows edits made outside the
    editor), when it supports registering file watchers."""
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps else None
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
    )
    registration = types.Registration(
        id="qwen-lsp-watch",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )
    try:
        await asyncio.wait_for(
            ls.client_register_capability_async(types.RegistrationParams([registration])), 5
        )
    except Exception as exc:  # without watchers the index still follows open documents
        log.info("file watching unavailable: %s", exc)


async def pull_configuration(ls: QwenLanguageServer) -> None:
    """Ask the client for our settings section when it supports workspace/configuration."""
    caps = ls.client_capabilities.workspace
    if not (caps and caps.configuration):
        return
    try:
        result = await asyncio.wait_for(
            ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=CONFIG_SECTION)])
            ),
            timeout=5,
        )
    except Exception as exc:  # a client that fails here must not break start-up
        log.info("workspace/configuration unavailable: %s", exc)
        return
    if result and isinstance(result[0], dict) and result[0]:
        ls.client_settings = result[0]
        ls.report_problems(ls.apply_settings())


def markdown_docs(ls: QwenLanguageServer) -> bool:
    """Whether the client renders markdown in completion item documentation."""
    try:
        formats = (
            ls.client_capabilities.text_document.completion.completion_item.documentation_format
        )
    except AttributeError:
        return False
    return bool(formats) and types.MarkupKind.Markdown in formats


def completion_item(
    doc: Document,
    request: CompletionSnapshot,
    position: types.Position,
    completion: Completion,
    markdown: bool = False,
) -> types.CompletionItem:
    """A plain completion item for clients without inline completion.

    The edit starts at the beginning of the word being typed so clients' fuzzy filtering (which
    matches the word against ``filterText``) keeps the item while the user types on.
    """
    line_before = request.prefix.rsplit("\n", 1)[-1]
    match = WORD_AT_END.search(line_before)
    word = match.group(0) if match else ""
    start = doc.position_at(request.offset - len(word))
    end = end_position(doc, position, completion.replace_suffix_chars)
    new_text = word + completion.text
    first_line = new_text.strip().split("\n", 1)[0]
    label = first_line if len(first_line) <= 60 else first_line[:57] + "…"
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Snippet,
        detail="Qwen",
        documentation=(
            types.MarkupContent(types.MarkupKind.Markdown, f"```{doc.language_id}\n{new_text}\n```")
            if markdown
            else new_text
        ),
        filter_text=word + completion.text.split("\n", 1)[0],
        sort_text="0000",
        preselect=True,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(types.Range(start, end), new_text),
        command=accept_command(completion.id),
    )
