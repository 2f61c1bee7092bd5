"""The context layer as the server sees it: one object for the workspace index's events and the
prompt's context.

``IndexService`` (``index_service.py``) runs the index; ``ContextBuilder`` (``builder.py``)
answers ``build`` for the prompt planner; ``SourceCache`` (``sources.py``) keeps other files'
text between requests. This class wires them and keeps their caches consistent when files or
settings change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..documents import Document, DocumentStore
from ..settings import Settings
from .build_state import BuildStats
from .builder import ContextBuilder
from .bundle import ContextBundle, CursorSnapshot
from .file_policy import FilePolicy
from .index import WorkspaceIndex
from .index_service import IndexService
from .open_documents import OpenDocuments
from .sources import SourceCache
from .tokens import TokenCounter


class ContextEngine:
    def __init__(
        self,
        settings: Settings,
        counter: TokenCounter,
        documents: DocumentStore | None = None,
        *,
        worker_mode: str = "process",
    ):
        self.counter = counter
        self.service = IndexService(settings, documents, worker_mode=worker_mode)
        self.sources = SourceCache(self.service)
        self.builder = ContextBuilder(counter, self.service, self.sources, documents)

    # ---- what the index holds (read by tests, benchmarks and the debug command) --------------

    @property
    def settings(self) -> Settings:
        return self.service.settings

    @property
    def index(self) -> WorkspaceIndex:
        return self.service.index

    @property
    def live(self) -> OpenDocuments:
        return self.service.live

    @property
    def policy(self) -> FilePolicy:
        return self.service.policy

    @property
    def scan_id(self) -> int:
        return self.service.scan_id

    @property
    def scans_done(self) -> dict[int, dict[str, Any]]:
        return self.service.scans_done

    @property
    def last_stats(self) -> BuildStats:
        return self.builder.last_stats

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self, roots: Sequence[str]) -> None:
        """(Re)build the workspace index for these folders in the background."""
        self.sources.clear()
        self.builder.candidates.clear()
        self.service.start(roots)

    def configure(self, settings: Settings) -> None:
        """New settings; the index is rebuilt only when its own settings changed."""
        reindex = self.service.reindex_needed(settings)
        self.service.settings = settings
        if reindex:
            self.start(self.service.roots)

    def shutdown(self) -> None:
        self.service.shutdown()

    def flush(self) -> None:
        """Analyse changed open documents now (synchronous mode: tests and benchmarks)."""
        self.service.flush()

    # ---- editor events -------------------------------------------------------------------------

    def did_open(self, doc: Document) -> None:
        self.service.did_open(doc)

    def did_change(self, doc: Document) -> None:
        self.service.did_change(doc)

    def did_save(self, uri: str) -> None:
        path = self.service.did_save(uri)
        if path is not None:
            self.sources.forget_file(path)

    def did_close(self, uri: str) -> None:
        self.builder.forget(uri)
        self.service.did_close(uri)

    def files_changed(self, changes: Iterable[tuple[str, str]]) -> None:
        """Watched-file events: (path, "created" | "changed" | "deleted")."""
        for path in self.service.files_changed(changes):
            self.sources.forget_file(path)

    # ---- the prompt's context ----------------------------------------------------------------

    def build(
        self,
        request: CursorSnapshot,
        budget: int,
        local_budget: int,
        suffix_share: float,
        cross_file: bool = True,
    ) -> ContextBundle:
        return self.builder.build(request, budget, local_budget, suffix_share, cross_file)
