"""What might go into the prompt for a request: definitions of the names around the cursor (this
file's own, else the workspace index's, ranked), module summaries, and recently edited regions
of open documents."""

from __future__ import annotations

import os

from ..documents import Document, DocumentStore
from ..syntax.definitions import identifiers_near
from . import current_file
from .build_state import BuildState
from .bundle import CursorSnapshot
from .edit_regions import edit_regions
from .index import PACKAGE_FILES, analyze_source
from .index_service import IndexService
from .open_documents import DocAnalysis
from .retrieval import (
    CurrentFile,
    SnippetCandidate,
    module_aliases,
    module_candidates,
    names_by_regex,
    rank_definitions,
    scope_words,
    weighted_names,
    word_at_cursor,
)

NEAR_BEFORE_LINES = 40
NEAR_AFTER_LINES = 12
MAX_CANDIDATES = 48
FREQUENT_NAMES = 60
FREQUENT_MIN = 3
# Files smaller than this are analysed on the request path when no analysis exists yet.
SYNC_ANALYSIS_BYTES = 64 * 1024
# Recently edited regions: weight against definitions (which score about 0.3 to 3).
EDIT_WEIGHT = 0.5
OWN_EDIT_WEIGHT = 0.3
MEMO_ENTRIES = 256


class CandidateFinder:
    def __init__(self, service: IndexService, documents: DocumentStore | None):
        self.service = service
        self.documents = documents
        self._import_cache: dict[tuple[str, int, int], tuple[frozenset[str], frozenset[str]]] = {}
        self._alias_cache: dict[tuple[str, int, int], dict[str, tuple[str, ...]]] = {}

    def clear(self) -> None:
        """Forget resolved imports (the index was rebuilt)."""
        self._import_cache.clear()

    def analysis_for(self, request: CursorSnapshot, path: str | None) -> DocAnalysis | None:
        """The open document's analysis; for a small file that has none yet (just opened),
        made here, once."""
        live = self.service.live
        analysis = live.analysis(request.uri)
        if analysis is not None or path is None:
            return analysis
        source = request.source_bytes
        if source is None or request.tree is None or len(source) > SYNC_ANALYSIS_BYTES:
            return None
        data = analyze_source(
            path,
            source,
            request.language_id,
            with_imports=True,
            with_identifiers=True,
            tree=request.tree,
        )
        analysis = DocAnalysis(request.version, path, source, data)
        live.set_analysis(request.uri, analysis)
        return analysis

    def find(self, state: BuildState, cut: current_file.WindowCut) -> list[SnippetCandidate]:
        """Candidates for the request, best first: definitions and module summaries (at most
        ``MAX_CANDIDATES``), then other open documents' recent edits."""
        request, path, analysis = state.request, state.path, state.analysis
        tree, source = request.tree, request.source_bytes
        line_before = request.prefix.rsplit("\n", 1)[-1]
        line_after = request.suffix.split("\n", 1)[0]
        typing = word_at_cursor(line_before, line_after)
        headers: list[str] = []
        if tree is not None and source is not None:
            near = identifiers_near(
                tree,
                source,
                request.cursor_byte,
                NEAR_BEFORE_LINES,
                NEAR_AFTER_LINES,
                language_id=request.language_id,
                row=request.cursor_row,
            )
            headers = [s.header for s in state.scopes]
        else:
            near = names_by_regex(
                request.prefix[-20000:], request.suffix[:8000], NEAR_BEFORE_LINES, NEAR_AFTER_LINES
            )
        imported = [n for imp in analysis.data.imports for n in imp.names] if analysis else []
        frequent = (
            [
                (n, c)
                for n, c in analysis.data.identifier_counts[:FREQUENT_NAMES]
                if c >= FREQUENT_MIN
            ]
            if analysis
            else []
        )
        weights = weighted_names(near, scope_words(headers), imported, frequent, exclude=[typing])
        current = self._current_file(path, request.language_id, analysis)
        local_symbols = analysis.data.symbols if analysis else ()
        visible = {
            s.key
            for s in local_symbols
            if s.end_line >= cut.start_line and s.start_line <= cut.end_line
        }
        index = self.service.index
        ranked = rank_definitions(weights, index, current, local_symbols, visible, near=set(near))
        if path is not None and analysis is not None:
            aliases = self._module_aliases(path, request.language_id, analysis)
            ranked += module_candidates(weights, aliases)
            ranked.sort(key=lambda c: (-c.score, c.path, c.start_line))
        state.stats.names = len(weights)
        state.stats.candidates = len(ranked)
        ranked = ranked[:MAX_CANDIDATES]
        ranked += self._edit_candidates(request.uri)
        return ranked

    def own_edits(self, state: BuildState, cut: current_file.WindowCut) -> list[SnippetCandidate]:
        """This document's recently edited regions outside the window (for the header)."""
        doc = self._document(state.request)
        path = state.path
        if doc is None or path is None:
            return []
        return [
            SnippetCandidate(
                (path, -1 - region.start_line),
                path,
                region.start_line,
                region.end_line,
                OWN_EDIT_WEIGHT * region.recency,
                "recent edit",
                text=region.text,
            )
            for region in edit_regions(doc, path, exclude_lines=(cut.start_line, cut.end_line))
        ]

    def _document(self, request: CursorSnapshot) -> Document | None:
        """The open document at the snapshot's version (for its edit history)."""
        if self.documents is None:
            return None
        doc = self.documents.find(request.uri)
        return doc if doc is not None and doc.version == request.version else None

    def _current_file(
        self, path: str | None, language_id: str, analysis: DocAnalysis | None
    ) -> CurrentFile:
        files, dirs = self._imported(path, analysis)
        recent = self.service.recency()
        if analysis is None:
            return CurrentFile(
                path, language_id, imported_files=files, imported_dirs=dirs, recent=recent
            )
        data = analysis.data
        return CurrentFile(
            path,
            language_id,
            local_names=frozenset(s.name for s in data.symbols),
            bound_names=data.bound_names,
            imported_names=frozenset(n for imp in data.imports for n in imp.names),
            imported_files=files,
            imported_dirs=dirs,
            recent=recent,
        )

    def _imported(
        self, path: str | None, analysis: DocAnalysis | None
    ) -> tuple[frozenset[str], frozenset[str]]:
        if path is None or analysis is None:
            return frozenset(), frozenset()
        index = self.service.index
        key = (path, analysis.version, index.generation)
        cached = self._import_cache.get(key)
        if cached is not None:
            return cached
        files: set[str] = set()
        for imp in analysis.data.imports:
            for module in imp.modules or imp.names:
                files.update(index.resolve_import(path, module))
        files.discard(path)
        # A package's __init__/index/mod re-exports its siblings: they count as imported too.
        packages = {os.path.dirname(f) for f in files if _is_package_file(f)}
        result = frozenset(files), frozenset(packages)
        if len(self._import_cache) > MEMO_ENTRIES:
            self._import_cache.clear()
        self._import_cache[key] = result
        return result

    def _module_aliases(
        self, path: str, language_id: str, analysis: DocAnalysis
    ) -> dict[str, tuple[str, ...]]:
        index = self.service.index
        key = (path, analysis.version, index.generation)
        cached = self._alias_cache.get(key)
        if cached is None:
            cached = module_aliases(analysis.data.imports, path, language_id, index)
            if len(self._alias_cache) > MEMO_ENTRIES:
                self._alias_cache.clear()
            self._alias_cache[key] = cached
        return cached

    def _edit_candidates(self, current_uri: str) -> list[SnippetCandidate]:
        """Recently edited regions of the other open documents."""
        if self.documents is None:
            return []
        out: list[SnippetCandidate] = []
        for uri, path in self.service.live.items():
            if uri == current_uri:
                continue
            doc = self.documents.find(uri)
            if doc is None or self.service.policy.root_of(path) is None:
                continue  # only workspace documents are context for other files
            for region in edit_regions(doc, path):
                out.append(
                    SnippetCandidate(
                        (path, -1 - region.start_line),
                        path,
                        region.start_line,
                        region.end_line,
                        EDIT_WEIGHT * region.recency,
                        "recent edit",
                        text=region.text,
                    )
                )
        return out


def _is_package_file(path: str) -> bool:
    return os.path.basename(path).split(".", 1)[0] in PACKAGE_FILES
