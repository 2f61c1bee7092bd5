"""The workspace index's life: its worker process, the worker's messages, editor events, recency.

Nothing here blocks a request on indexing: the index fills in the background
(``context/worker.py``) and a request uses whatever is there. The server forwards document and
workspace events (through ``ContextEngine``) and starts the index once the workspace folders are
known.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from ..documents import Document, DocumentStore
from ..settings import ContextSettings, Settings
from .file_policy import FilePolicy, is_secret_path
from .index import FileData, WorkspaceIndex
from .open_documents import OpenDocuments
from .worker import IndexWorker

log = logging.getLogger(__name__)

RECENT_FILES = 32
# Recency weight of a file touched this long ago is 0.
RECENCY_HORIZON_S = 600
# Settings whose change rebuilds the index.
INDEX_KEYS = (
    "workspace_index",
    "max_index_files",
    "max_file_bytes",
    "ignore_globs",
    "max_index_symbols",
)


class IndexService:
    def __init__(
        self,
        settings: Settings,
        documents: DocumentStore | None = None,
        *,
        worker_mode: str = "process",
    ):
        self.settings = settings
        self.documents = documents
        self.worker_mode = worker_mode
        self.roots: list[str] = []
        self.index = WorkspaceIndex()
        self.policy = FilePolicy(roots=())
        self.worker: IndexWorker | None = None
        self.scan_id = 0
        self.scans_done: dict[int, dict[str, Any]] = {}
        self.live = OpenDocuments()
        self._recent: OrderedDict[str, float] = OrderedDict()
        self._realpaths: dict[str, str] = {}

    @property
    def context_settings(self) -> ContextSettings:
        return self.settings.context

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self, roots: Sequence[str]) -> None:
        """(Re)build the workspace index for these folders in the background."""
        self.roots = [os.path.realpath(r) for r in roots if r]
        cs = self.context_settings
        self.policy = FilePolicy(
            roots=self.roots, max_file_bytes=cs.max_file_bytes, ignore_globs=cs.ignore_globs
        )
        self.index = WorkspaceIndex(self.roots, max_symbols=cs.max_index_symbols)
        self.scan_id += 1  # answers of an earlier scan are dropped from now on
        if not cs.workspace_index or not self.roots:
            return
        self._ensure_worker()
        assert self.worker is not None
        self.worker.send(
            {
                "op": "configure",
                "roots": self.roots,
                "max_files": cs.max_index_files,
                "max_file_bytes": cs.max_file_bytes,
                "ignore_globs": list(cs.ignore_globs),
            }
        )
        self.worker.send({"op": "scan", "id": self.scan_id})
        for uri, _path in self.live.items():
            self._requeue(uri)

    def _ensure_worker(self) -> None:
        if self.worker is not None and self.worker.alive:
            return
        self.worker = IndexWorker(self._on_worker_message, self.worker_mode)
        self.worker.start()
        self.live.send = self.worker.send
        if self.worker_mode != "sync":
            self.live.start()

    def reindex_needed(self, settings: Settings) -> bool:
        """Whether these settings change what the index holds (its folders stay)."""
        old, new = self.context_settings, settings.context
        return bool(self.roots) and any(getattr(old, k) != getattr(new, k) for k in INDEX_KEYS)

    def shutdown(self) -> None:
        self.live.stop()
        if self.worker is not None:
            self.worker.close()
            self.worker = None

    def reindex(self, path: str) -> None:
        """Ask the worker to index ``path`` again (it changed since it was indexed)."""
        if self.worker is not None:
            self.worker.send({"op": "file", "path": path})

    # ---- worker messages (reader thread) -----------------------------------------------------

    def _on_worker_message(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if "scan" in message and message["scan"] != self.scan_id:
            return  # from a scan that settings or folders have replaced
        if op == "file":
            data = FileData.from_wire(message["data"])
            if not self.live.has_path(data.path):  # the editor's text wins over the disk
                self.index.put(data)
        elif op == "removed":
            path = str(message["path"])
            if not self.live.has_path(path):
                self.index.remove(path)
        elif op == "analysis":
            analysis = self.live.receive(message)
            # Only workspace documents become context for other files (the editor may open
            # anything; the policy's folder rule applies to its text too).
            if analysis is not None and self.policy.root_of(analysis.path) is not None:
                self.index.put(analysis.data)
        elif op == "scan_done":
            self.scans_done[int(message["id"])] = message
            self.index.stats.scans_done += 1
            self.index.stats.ready = True
            log.info(
                "workspace index: %s files, %s symbols in %.1fs",
                message.get("files"),
                self.index.stats.symbols,
                message.get("seconds", 0.0),
            )
        elif op == "error":
            log.info("index worker: %s", message.get("message"))

    # ---- document events (event loop thread) --------------------------------------------------

    def did_open(self, doc: Document) -> None:
        path = self.realpath(doc.path) if doc.path else None
        if path is None or is_secret_path(path):
            return
        self._mark_recent(path)
        self.live.open(doc.uri, path, doc.version, doc.language_id, doc.text)
        if self.worker_mode == "sync":
            self.live.flush()

    def did_change(self, doc: Document) -> None:
        if self.live.change(doc.uri, doc.version, doc.language_id, doc.text):
            path = self.live.path_of(doc.uri)
            if path is not None:
                self._mark_recent(path)

    def did_save(self, uri: str) -> str | None:
        """The saved document's path, if it is one the index follows."""
        path = self.live.path_of(uri)
        if path is not None:
            self._mark_recent(path)
        return path

    def did_close(self, uri: str) -> None:
        path = self.live.close(uri)
        if path is not None:
            self.reindex(path)  # back to the disk version

    def files_changed(self, changes: Iterable[tuple[str, str]]) -> list[str]:
        """Watched-file events: (path, "created" | "changed" | "deleted"); returns the changed
        files' real paths."""
        changed: list[str] = []
        for raw_path, kind in changes:
            path = self.realpath(raw_path)
            changed.append(path)
            if os.path.basename(path) == ".gitignore" and self.worker is not None:
                self.worker.send({"op": "forget_gitignore", "dir": os.path.dirname(path)})
            if self.live.has_path(path):
                continue  # the editor's text is authoritative while open
            if kind == "deleted":
                self.index.remove(path)
            else:
                self.reindex(path)
        return changed

    def _requeue(self, uri: str) -> None:
        """Analyse an open document again (the worker restarted with a new configuration)."""
        doc = self.documents.find(uri) if self.documents is not None else None
        if doc is not None:
            self.live.change(uri, doc.version, doc.language_id, doc.text)

    def flush(self) -> None:
        """Analyse changed open documents now (synchronous mode: tests and benchmarks)."""
        self.live.flush()

    # ---- recency and paths ---------------------------------------------------------------------

    def _mark_recent(self, path: str) -> None:
        self._recent[path] = time.monotonic()
        self._recent.move_to_end(path)
        while len(self._recent) > RECENT_FILES:
            self._recent.popitem(last=False)

    def recency(self) -> dict[str, float]:
        """Recently opened or edited files: 1.0 for now, falling to 0 over ten minutes."""
        now = time.monotonic()
        return {p: max(0.0, 1.0 - (now - t) / RECENCY_HORIZON_S) for p, t in self._recent.items()}

    def realpath(self, path: str) -> str:
        real = self._realpaths.get(path)
        if real is None:
            real = os.path.realpath(path)
            if len(self._realpaths) > 10_000:
                self._realpaths.clear()
            self._realpaths[path] = real
        return real
