"""The context engine: workspace index lifecycle and the prompt's context.

Plugged into ``PromptPlanner`` as its context provider (``build``); the server forwards document
and workspace events (``did_open``, ``did_change``, ``did_save``, ``did_close``,
``files_changed``) and calls ``start`` once the workspace folders are known. Nothing here blocks
a request on indexing: the index fills in the background (``context/worker.py``) and a request
uses whatever is there.

Per request (see ``build``):
1. the window around the cursor, cut at syntax boundaries and kept stable between keystrokes;
2. names near the cursor, in the enclosing scopes' headers, imported, or frequent in the file;
3. their definitions: the current file's own first, else the workspace index, ranked by import
   relation, directory, recency and ambiguity;
4. recently edited regions of other open documents;
5. everything fitted into the token budget; the current file's own definitions and imports go
   into a sparse header above the window, the rest into one
   ``<|file_sep|>`` section per file, in an order that is stable between keystrokes.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..documents import Document, DocumentStore
from ..settings import ContextSettings, Settings
from ..syntax.analysis import enclosing_scopes, identifiers_near
from ..syntax.languages import line_comment_for
from . import local
from .budget import Item, Selection, assemble, merged, select
from .bundle import ContextBundle, CursorSnapshot
from .file_policy import FilePolicy, is_secret_path
from .index import (
    CONTAINER_KINDS,
    PACKAGE_FILES,
    FileData,
    Symbol,
    WorkspaceIndex,
    analyze_source,
)
from .live import DocAnalysis, OpenDocuments
from .recent import edit_regions
from .retrieval import (
    SUMMARY_KEY,
    Candidate,
    CurrentFile,
    module_aliases,
    module_candidates,
    names_by_regex,
    rank_definitions,
    scope_words,
    weighted_names,
    word_at_cursor,
)
from .snippets import brief, member_text, module_summary, render_symbol
from .tokens import TokenCounter
from .worker import IndexWorker

log = logging.getLogger(__name__)

# Share of the local budget for the header above the window (imports, definitions, scopes).
HEADER_SHARE = 0.25
# No code averages more characters per Qwen token: a longer file cannot fit a budget whole.
MAX_CHARS_PER_TOKEN = 12
NEAR_BEFORE_LINES = 40
NEAR_AFTER_LINES = 12
MAX_CANDIDATES = 48
FREQUENT_NAMES = 60
FREQUENT_MIN = 3
# Files smaller than this are analysed on the request path when no analysis exists yet.
SYNC_ANALYSIS_BYTES = 64 * 1024
MAX_SESSIONS = 64
FILE_CACHE_BYTES = 16 * 1024 * 1024
RENDER_CACHE_ITEMS = 4096
# The cross-file budget moves in steps of this many tokens, so typing (which grows the local
# part token by token) does not change which snippets fit on every keystroke.
BUDGET_STEP = 256
RECENT_FILES = 32
# A cursor that moved further than this many lines gets a freshly ordered context.
FRESH_AFTER_LINES = 3
# Recently edited regions: weight against definitions (which score about 0.3 to 3).
EDIT_WEIGHT = 0.5
OWN_EDIT_WEIGHT = 0.3


@dataclass
class _Session:
    """What the previous request of a document chose (for a stable prompt start)."""

    sticky: local.StickyStart | None = None
    selection: Selection = field(default_factory=lambda: Selection((), 0))  # prompt order
    header: dict[Hashable, local.Piece] = field(default_factory=dict)  # definitions shown
    cursor_line: int = -1
    fresh: bool = True  # this request starts a new ordering (new session, or the window moved)


@dataclass
class BuildStats:
    """Figures of the last ``build`` (for logs and benchmarks)."""

    ms: float = 0.0
    names: int = 0
    candidates: int = 0
    files: int = 0
    snippets: int = 0
    header_pieces: int = 0
    context_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ContextEngine:
    def __init__(
        self,
        settings: Settings,
        counter: TokenCounter,
        documents: DocumentStore | None = None,
        *,
        worker_mode: str = "process",
    ):
        self.settings = settings
        self.counter = counter
        self.documents = documents
        self.worker_mode = worker_mode
        self.roots: list[str] = []
        self.index = WorkspaceIndex()
        self.policy = FilePolicy(roots=())
        self.worker: IndexWorker | None = None
        self.last_stats = BuildStats()
        self.scan_id = 0
        self.scans_done: dict[int, dict[str, Any]] = {}
        self.live = OpenDocuments()
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._recent: OrderedDict[str, float] = OrderedDict()
        self._file_cache: OrderedDict[str, tuple[int, int, bytes]] = OrderedDict()
        self._file_cache_bytes = 0
        self._render_cache: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._import_cache: dict[tuple[str, int, int], tuple[frozenset[str], frozenset[str]]] = {}
        self._realpaths: dict[str, str] = {}
        self._display_paths: dict[str, str] = {}
        self._alias_cache: dict[tuple[Any, ...], dict[str, tuple[str, ...]]] = {}
        # The last request and its enclosing scopes (several parts of one build need them).
        self._scopes_memo: tuple[CursorSnapshot, list[Any]] | None = None
        self._relevant: tuple[Hashable, frozenset[str]] = (None, frozenset())

    # ---- lifecycle ---------------------------------------------------------------------------

    @property
    def context_settings(self) -> ContextSettings:
        return self.settings.context

    def start(self, roots: Sequence[str]) -> None:
        """(Re)build the workspace index for these folders in the background."""
        self.roots = [os.path.realpath(r) for r in roots if r]
        cs = self.context_settings
        self.policy = FilePolicy(
            roots=self.roots, max_file_bytes=cs.max_file_bytes, ignore_globs=cs.ignore_globs
        )
        self.index = WorkspaceIndex(self.roots, max_symbols=cs.max_index_symbols)
        self._file_cache.clear()
        self._file_cache_bytes = 0
        self._render_cache.clear()
        self._import_cache.clear()
        self._display_paths.clear()
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

    def configure(self, settings: Settings) -> None:
        """New settings; the index is rebuilt only when its own settings changed."""
        old = self.context_settings
        self.settings = settings
        new = settings.context
        index_keys = (
            "workspace_index",
            "max_index_files",
            "max_file_bytes",
            "ignore_globs",
            "max_index_symbols",
        )
        if self.roots and any(getattr(old, k) != getattr(new, k) for k in index_keys):
            self.start(self.roots)

    def shutdown(self) -> None:
        self.live.stop()
        if self.worker is not None:
            self.worker.close()
            self.worker = None

    def wait_until_indexed(self, timeout: float = 30.0) -> bool:
        """Block until the current scan finished (tests and benchmarks only)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.scan_id in self.scans_done or self.worker is None:
                return True
            time.sleep(0.01)
        return False

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
        path = self._real(doc.path) if doc.path else None
        if path is None or is_secret_path(path):
            return
        self._touch(path)
        self.live.open(doc.uri, path, doc.version, doc.language_id, doc.text)
        if self.worker_mode == "sync":
            self.live.flush()

    def did_change(self, doc: Document) -> None:
        if self.live.change(doc.uri, doc.version, doc.language_id, doc.text):
            path = self.live.path_of(doc.uri)
            if path is not None:
                self._touch(path)

    def did_save(self, uri: str) -> None:
        path = self.live.path_of(uri)
        if path is not None:
            self._touch(path)
            self._forget_file(path)

    def did_close(self, uri: str) -> None:
        path = self.live.close(uri)
        self._sessions.pop(uri, None)
        if path is not None and self.worker is not None:
            self.worker.send({"op": "file", "path": path})  # back to the disk version

    def files_changed(self, changes: Iterable[tuple[str, str]]) -> None:
        """Watched-file events: (path, "created" | "changed" | "deleted")."""
        for raw_path, kind in changes:
            path = self._real(raw_path)
            self._forget_file(path)
            if os.path.basename(path) == ".gitignore" and self.worker is not None:
                self.worker.send({"op": "forget_gitignore", "dir": os.path.dirname(path)})
            if self.live.has_path(path):
                continue  # the editor's text is authoritative while open
            if kind == "deleted":
                self.index.remove(path)
            elif self.worker is not None:
                self.worker.send({"op": "file", "path": path})

    def _requeue(self, uri: str) -> None:
        """Analyse an open document again (the worker restarted with a new configuration)."""
        doc = self.documents.find(uri) if self.documents is not None else None
        if doc is not None:
            self.live.change(uri, doc.version, doc.language_id, doc.text)

    def flush(self) -> None:
        """Analyse changed open documents now (synchronous mode: tests and benchmarks)."""
        self.live.flush()

    def _touch(self, path: str) -> None:
        self._recent[path] = time.monotonic()
        self._recent.move_to_end(path)
        while len(self._recent) > RECENT_FILES:
            self._recent.popitem(last=False)

    def _real(self, path: str) -> str:
        real = self._realpaths.get(path)
        if real is None:
            real = os.path.realpath(path)
            if len(self._realpaths) > 10_000:
                self._realpaths.clear()
            self._realpaths[path] = real
        return real

    # ---- context -----------------------------------------------------------------------------

    def build(
        self,
        request: CursorSnapshot,
        budget: int,
        local_budget: int,
        suffix_share: float,
        cross_file: bool = True,
    ) -> ContextBundle:
        started = time.perf_counter()
        try:
            bundle, stats = self._build(request, budget, local_budget, suffix_share, cross_file)
        except Exception:  # context is an optimisation: fall back to the plain window
            log.exception("context build failed; using the plain window")
            bundle, stats = self._plain(request, local_budget, suffix_share), BuildStats()
        stats.ms = (time.perf_counter() - started) * 1000
        self.last_stats = stats
        return bundle

    def _plain(self, request: CursorSnapshot, budget: int, suffix_share: float) -> ContextBundle:
        cut = local.cut_window(
            request.text,
            request.offset,
            request.prefix.count("\n"),
            budget,
            suffix_share,
            self.counter,
        )
        return ContextBundle(cut.prefix, cut.suffix, cut.prefix_tokens, cut.suffix_tokens)

    def _build(
        self,
        request: CursorSnapshot,
        budget: int,
        local_budget: int,
        suffix_share: float,
        cross_file: bool,
    ) -> tuple[ContextBundle, BuildStats]:
        stats = BuildStats()
        session = self._session(request.uri)
        path = self._real(request.path) if request.path else None
        cursor_line = request.cursor_line
        comment = line_comment_for(request.language_id)
        cut, header_budget = self._window(request, session, cursor_line, local_budget, suffix_share)
        session.fresh = session.sticky is None or session.sticky.offset != cut.start_offset
        session.fresh = session.fresh or abs(cursor_line - session.cursor_line) > FRESH_AFTER_LINES
        analysis = self._analysis_for(request, path)
        self._relevant = _relevant_names(request.uri, analysis)
        candidates = self._candidates(request, path, analysis, cut, stats)
        local_cands = [c for c in candidates if c.path == path]
        local_cands += self._own_edit_candidates(request, path, cut)
        header, header_tokens = self._local_parts(
            request, analysis, cut, local_cands, header_budget, session, comment, stats
        )
        prefix_tokens = cut.prefix_tokens + header_tokens
        selection = Selection((), 0)
        if cross_file:
            # Quantised, so that typing (which grows the window) does not change what fits.
            used = _step_up(prefix_tokens + cut.suffix_tokens)
            others = [c for c in candidates if c.path != path]
            selection = self._select(request, session, others, budget - max(local_budget, used))
        self._remember(request.uri, request.text, cut, selection, cursor_line)
        files = tuple(assemble(selection))
        stats.files, stats.snippets = len(files), len(selection.items)
        stats.context_tokens = selection.tokens
        prefix = local.with_header(header, cut.prefix, comment)
        bundle = ContextBundle(
            prefix, cut.suffix, prefix_tokens, cut.suffix_tokens, files, selection.tokens
        )
        return bundle, stats

    def _window(
        self,
        request: CursorSnapshot,
        session: _Session,
        cursor_line: int,
        local_budget: int,
        suffix_share: float,
    ) -> tuple[local.WindowCut, int]:
        """The window, and the header budget when the window leaves part of the file out."""
        suffix_end = self._suffix_end(request)

        def cut_with(budget: int) -> local.WindowCut:
            return local.cut_window(
                request.text,
                request.offset,
                cursor_line,
                budget,
                suffix_share,
                self.counter,
                session.sticky,
                suffix_end,
            )

        header_budget = int(local_budget * HEADER_SHARE)
        if len(request.text) > local_budget * MAX_CHARS_PER_TOKEN:
            return cut_with(local_budget - header_budget), header_budget  # cannot fit whole
        cut = cut_with(local_budget)
        if not (cut.prefix_truncated or cut.suffix_truncated):
            return cut, 0
        return cut_with(local_budget - header_budget), header_budget

    def _select(
        self,
        request: CursorSnapshot,
        session: _Session,
        candidates: Sequence[Candidate],
        budget: int,
    ) -> Selection:
        """Other files' snippets within ``budget``, in the session's stable order."""
        items = self._items(request, candidates)
        previous = session.selection
        selection = select(items, max(0, budget), self.counter.count_piece, previous, session.fresh)
        keep = frozenset() if session.fresh else frozenset(previous.keys)
        return self._drop_redundant(selection, request.language_id, keep)

    # ---- request helpers -----------------------------------------------------------------

    def _session(self, uri: str) -> _Session:
        session = self._sessions.get(uri)
        if session is None:
            session = _Session()
            self._sessions[uri] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(uri)
        return session

    def _remember(
        self,
        uri: str,
        text: str,
        cut: local.WindowCut,
        selection: Selection,
        cursor_line: int,
    ) -> None:
        session = self._session(uri)
        session.sticky = local.sticky_of(text, cut, self.counter)
        session.selection = selection
        session.cursor_line = cursor_line

    def _suffix_end(self, request: CursorSnapshot) -> int | None:
        """Where the suffix may stop: after the enclosing function, plus the next line of code
        (it shows the model where the function ends). Text past it rarely shapes the
        completion, and a short suffix keeps more of the prompt shared between keystrokes."""
        tree, source = request.tree, request.source_bytes
        if tree is None or source is None:
            return None
        scopes = self._scopes(request)
        functions = [s for s in scopes if s.kind in ("function", "method")]
        if not functions:
            return None
        end = request.offset_of_byte(functions[-1].end_byte)
        text = request.text
        line_end = text.find("\n", end)
        if line_end < 0:
            return None
        # Skip blank lines, then keep one more line of code.
        position = line_end + 1
        while position < len(text):
            nxt = text.find("\n", position)
            nxt = len(text) if nxt < 0 else nxt
            if text[position:nxt].strip():
                return min(len(text), nxt + 1)
            position = nxt + 1
        return None

    def _document(self, request: CursorSnapshot) -> Document | None:
        """The open document at the snapshot's version (for its edit history)."""
        if self.documents is None:
            return None
        doc = self.documents.find(request.uri)
        return doc if doc is not None and doc.version == request.version else None

    def _scopes(self, request: CursorSnapshot) -> list[Any]:
        """``scopes_at`` the cursor, once per request (three parts of the build ask)."""
        memo = self._scopes_memo
        if memo is not None and memo[0] is request:
            return memo[1]
        scopes: list[Any] = []
        if request.tree is not None and request.source_bytes is not None:
            scopes = scopes_at(
                request.tree, request.source_bytes, request.cursor_byte, request.language_id
            )
        self._scopes_memo = (request, scopes)
        return scopes

    def _analysis_for(self, request: CursorSnapshot, path: str | None) -> DocAnalysis | None:
        analysis = self.live.analysis(request.uri)
        if analysis is not None or path is None:
            return analysis
        source = request.source_bytes
        if source is None or request.tree is None or len(source) > SYNC_ANALYSIS_BYTES:
            return None
        # Small file, nothing from the background yet (just opened): analyse here, once.
        data = analyze_source(
            path,
            source,
            request.language_id,
            with_imports=True,
            with_identifiers=True,
            tree=request.tree,
        )
        analysis = DocAnalysis(request.version, path, source, data)
        self.live.set_analysis(request.uri, analysis)
        return analysis

    def _current_file(
        self, path: str | None, language_id: str, analysis: DocAnalysis | None
    ) -> CurrentFile:
        files, dirs = self._imported(path, analysis)
        now = time.monotonic()
        recent = {p: max(0.0, 1.0 - (now - t) / 600) for p, t in self._recent.items()}
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
        key = (path, analysis.version, self.index.generation)
        cached = self._import_cache.get(key)
        if cached is not None:
            return cached
        files: set[str] = set()
        for imp in analysis.data.imports:
            for module in imp.modules or imp.names:
                files.update(self.index.resolve_import(path, module))
        files.discard(path)
        # A package's __init__/index/mod re-exports its siblings: they count as imported too.
        packages = {os.path.dirname(f) for f in files if _is_package_file(f)}
        result = frozenset(files), frozenset(packages)
        if len(self._import_cache) > 256:
            self._import_cache.clear()
        self._import_cache[key] = result
        return result

    def _candidates(
        self,
        request: CursorSnapshot,
        path: str | None,
        analysis: DocAnalysis | None,
        cut: local.WindowCut,
        stats: BuildStats,
    ) -> list[Candidate]:
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
            headers = [s.header for s in self._scopes(request)]
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
        ranked = rank_definitions(
            weights, self.index, current, local_symbols, visible, near=set(near)
        )
        if path is not None and analysis is not None:
            aliases = self._module_aliases(path, request.language_id, analysis)
            ranked += module_candidates(weights, aliases)
            ranked.sort(key=lambda c: (-c.score, c.path, c.start_line))
        stats.names = len(weights)
        stats.candidates = len(ranked)
        ranked = ranked[:MAX_CANDIDATES]
        ranked += self._edit_candidates(request.uri)
        return ranked

    def _module_aliases(
        self, path: str, language_id: str, analysis: DocAnalysis
    ) -> dict[str, tuple[str, ...]]:
        key = (path, analysis.version, self.index.generation)
        cached = self._alias_cache.get(key)
        if cached is None:
            cached = module_aliases(analysis.data.imports, path, language_id, self.index)
            if len(self._alias_cache) > 256:
                self._alias_cache.clear()
            self._alias_cache[key] = cached
        return cached

    def _own_edit_candidates(
        self, request: CursorSnapshot, path: str | None, cut: local.WindowCut
    ) -> list[Candidate]:
        """This document's recently edited regions outside the window (for the header)."""
        doc = self._document(request)
        if doc is None or path is None:
            return []
        return [
            Candidate(
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

    def _edit_candidates(self, current_uri: str) -> list[Candidate]:
        """Recently edited regions of the other open documents."""
        if self.documents is None:
            return []
        out: list[Candidate] = []
        for uri, path in self.live.items():
            if uri == current_uri:
                continue
            doc = self.documents.find(uri)
            if doc is None or self.policy.root_of(path) is None:
                continue  # only workspace documents are context for other files
            for region in edit_regions(doc, path):
                score = EDIT_WEIGHT * region.recency
                out.append(
                    Candidate(
                        (path, -1 - region.start_line),
                        path,
                        region.start_line,
                        region.end_line,
                        score,
                        "recent edit",
                        text=region.text,
                    )
                )
        return out

    # ---- local header ------------------------------------------------------------------------

    def _local_parts(
        self,
        request: CursorSnapshot,
        analysis: DocAnalysis | None,
        cut: local.WindowCut,
        candidates: Sequence[Candidate],
        header_budget: int,
        session: _Session,
        comment: str,
        stats: BuildStats,
    ) -> tuple[str, int]:
        """The sparse header above the window: imports, this file's definitions the cursor
        needs (from above or below the window), then the enclosing scopes' headers."""
        if not header_budget:
            session.header = {}
            return "", 0
        imports = self._import_pieces(analysis, cut)
        scopes = self._scope_pieces(request, cut)
        used = sum(self.counter.count_piece(p.text) + 1 for p in (*imports, *scopes))
        while used > header_budget and imports:
            dropped = imports.pop()
            used -= self.counter.count_piece(dropped.text) + 1
        definitions = self._definition_pieces(
            request, analysis, cut, candidates, header_budget - used, session, scopes
        )
        used += sum(self.counter.count_piece(p.text) + 2 for p in definitions.values())
        pieces = [*imports, *sorted(definitions.values(), key=lambda p: p.start_line)]
        above = local.render_pieces(pieces, comment)
        scope_text = local.render_pieces(_without_overlaps(scopes), comment)
        header_text = "\n".join(part for part in (above, scope_text) if part)
        if above and scope_text:
            header_text = f"{above}\n{local.elision(comment)}\n{scope_text}"
        stats.header_pieces = len(pieces) + len(scopes)
        header_tokens = used + (
            self.counter.count_piece(comment + " ...") + 2 if header_text else 0
        )
        return header_text, header_tokens

    def _import_pieces(
        self, analysis: DocAnalysis | None, cut: local.WindowCut
    ) -> list[local.Piece]:
        if analysis is None:
            return []
        return [
            local.Piece(imp.start_line, imp.text, "import")
            for imp in analysis.data.imports
            if imp.end_line < cut.start_line and imp.text not in cut.prefix
        ]

    def _scope_pieces(self, request: CursorSnapshot, cut: local.WindowCut) -> list[local.Piece]:
        if request.tree is None or request.source_bytes is None:
            return []
        scopes = self._scopes(request)
        return [
            local.Piece(scope.start_line, scope.header, "scope")
            for scope in scopes
            if scope.start_line < cut.start_line
        ]

    def _definition_pieces(
        self,
        request: CursorSnapshot,
        analysis: DocAnalysis | None,
        cut: local.WindowCut,
        candidates: Sequence[Candidate],
        budget: int,
        session: _Session,
        scopes: Sequence[local.Piece],
    ) -> dict[Hashable, local.Piece]:
        """This file's definitions outside the window. While typing, the ones shown last time
        stay (the header precedes the window: changing it costs the window's cache) and new
        ones join while room is left."""
        chosen: dict[Hashable, local.Piece] = {}
        used = 0
        if not session.fresh:
            for key, piece in session.header.items():
                cost = self.counter.count_piece(piece.text) + 2
                outside = piece.end_line < cut.start_line or piece.start_line > cut.end_line
                if outside and used + cost <= budget:
                    chosen[key] = piece
                    used += cost
        if analysis is None:
            session.header = chosen
            return chosen
        for cand in sorted(candidates, key=lambda c: (-c.score, c.key)):
            if identity(cand) in chosen:
                continue
            if cand.end_line >= cut.start_line and cand.start_line <= cut.end_line:
                continue  # visible in the window
            if cand.symbol is None:
                text = cand.text or ""  # a recently edited region
            else:
                text = self._render(
                    cand.symbol,
                    analysis.source,
                    analysis.data.symbols,
                    request.language_id,
                    ("doc", request.uri, analysis.version),
                    cand.brief,
                )
            cost = self.counter.count_piece(text) + 2
            if any(text in p.text for p in scopes) or used + cost > budget:
                continue
            chosen[identity(cand)] = local.Piece(cand.start_line, text, "definition", cand.end_line)
            used += cost
        session.header = chosen
        return chosen

    # ---- cross-file items -------------------------------------------------------------------

    def _items(self, request: CursorSnapshot, candidates: Sequence[Candidate]) -> list[Item]:
        items: list[Item] = []
        by_file: dict[str, list[Candidate]] = {}
        for cand in candidates:
            by_file.setdefault(cand.path, []).append(cand)
        for file_path, group in by_file.items():
            if is_secret_path(file_path):
                continue
            display = self._display_path(file_path)
            source_info = self._source_for(file_path)
            for cand in group:
                text = cand.text
                if text is None and source_info is not None:
                    source, symbols, version_key = source_info
                    if cand.symbol is not None:
                        text = self._render(
                            cand.symbol,
                            source,
                            symbols,
                            request.language_id,
                            version_key,
                            cand.brief,
                        )
                    elif cand.key[1] == SUMMARY_KEY:
                        text = self._summary(
                            file_path, source, symbols, request.language_id, version_key
                        )
                if not text:
                    continue
                items.append(
                    Item(
                        identity(cand),
                        file_path,
                        display,
                        cand.start_line,
                        text,
                        self.counter.count_piece(text),
                        cand.score,
                        cand.symbol,
                    )
                )
        return _drop_contained(items)

    def _drop_redundant(
        self, selection: Selection, language_id: str, keep: frozenset[Hashable]
    ) -> Selection:
        """Drop a newly chosen member whose text a selected class already shows whole (old
        choices stay: removing them would change the prompt's start)."""
        boxes = [
            i for i in selection.items if i.symbol is not None and i.symbol.kind in CONTAINER_KINDS
        ]
        if not boxes:
            return selection
        out: list[Item] = []
        for item in selection.items:
            if (
                item.key not in keep
                and item.symbol is not None
                and self._inside_shown(item, boxes, language_id)
            ):
                continue
            out.append(item)
        if len(out) == len(selection.items):
            return selection
        return merged(selection, out, self.counter.count_piece)

    def _inside_shown(self, item: Item, boxes: Sequence[Item], language_id: str) -> bool:
        for box in boxes:
            if box is item or box.path != item.path:
                continue
            if not (
                box.symbol.start_byte <= item.symbol.start_byte
                and item.symbol.end_byte <= box.symbol.end_byte
            ):
                continue
            info = self._source_for(item.path)
            if info is None:
                return False
            body = member_text(item.symbol, info[0], self._language_of(item.path, language_id))
            if body in box.text:
                return True
        return False

    def _display_path(self, path: str) -> str:
        shown = self._display_paths.get(path)
        if shown is None:
            relative = self.policy.relative(path) if self.roots else None
            shown = relative if relative and relative != "." else os.path.basename(path)
            if len(self._display_paths) > 10_000:
                self._display_paths.clear()
            self._display_paths[path] = shown
        return shown

    def _source_for(self, path: str) -> tuple[bytes, Sequence[Symbol], tuple[Any, ...]] | None:
        """The bytes a file's index entry refers to: an open document's analysed snapshot, or
        the file on disk when it is unchanged since it was indexed."""
        found = self.live.analysis_for_path(path)
        if found is not None:
            uri, analysis = found
            return analysis.source, analysis.data.symbols, ("doc", uri, analysis.version)
        entry = self.index.entry(path)
        if entry is None:
            return None
        data = self._read_cached(path, entry.mtime_ns, entry.size)
        if data is None:
            return None
        return data, entry.symbols, ("disk", path, entry.mtime_ns, entry.size)

    def _read_cached(self, path: str, mtime_ns: int, size: int) -> bytes | None:
        cached = self._file_cache.get(path)
        if cached is not None and cached[0] == mtime_ns and cached[1] == size:
            self._file_cache.move_to_end(path)
            return cached[2]
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if stat.st_mtime_ns != mtime_ns or stat.st_size != size:
            # Changed since indexed: the ranges no longer fit. Reindex; skip it this time.
            if self.worker is not None:
                self.worker.send({"op": "file", "path": path})
            return None
        text = self.policy.read_text(path)
        if text is None:
            return None
        data = text.encode("utf-8", "surrogatepass")
        self._file_cache[path] = (mtime_ns, size, data)
        self._file_cache_bytes += len(data)
        while self._file_cache_bytes > FILE_CACHE_BYTES and len(self._file_cache) > 1:
            _p, (_m, _s, old) = self._file_cache.popitem(last=False)
            self._file_cache_bytes -= len(old)
        return data

    def _forget_file(self, path: str) -> None:
        cached = self._file_cache.pop(path, None)
        if cached is not None:
            self._file_cache_bytes -= len(cached[2])

    def _render(
        self,
        symbol: Symbol,
        source: bytes,
        symbols: Sequence[Symbol],
        language_id: str,
        version_key: tuple[Any, ...],
        one_line: bool = False,
    ) -> str:
        relevant_key, relevant = self._relevant
        container = symbol.kind in CONTAINER_KINDS
        key = (
            version_key,
            symbol.start_byte,
            symbol.end_byte,
            one_line,
            relevant_key if container else None,
        )
        text = self._render_cache.get(key)
        if text is None:
            lang = self._language_of(symbol.path, language_id)
            if one_line:
                text = brief(symbol, source, symbols, lang)
            else:
                text = render_symbol(symbol, source, symbols, lang, relevant=relevant).text
            self._render_cache[key] = text
            if len(self._render_cache) > RENDER_CACHE_ITEMS:
                self._render_cache.popitem(last=False)
        return text

    def _summary(
        self,
        path: str,
        source: bytes,
        symbols: Sequence[Symbol],
        language_id: str,
        version_key: tuple[Any, ...],
    ) -> str:
        key = (version_key, "summary")
        text = self._render_cache.get(key)
        if text is None:
            text = module_summary(symbols, source, self._language_of(path, language_id))
            self._render_cache[key] = text
        return text

    def _language_of(self, path: str, fallback: str) -> str:
        entry = self.index.entry(path)
        return entry.language_id if entry is not None else fallback


def scopes_at(tree: Any, source: bytes, byte: int, language_id: str) -> list[Any]:
    """Enclosing scopes at the cursor. After trailing blanks (``return |``) the tree may put
    the cursor in no node; the end of the line's last token is inside the same scopes."""
    scopes = enclosing_scopes(tree, source, byte, language_id=language_id)
    if scopes:
        return scopes
    line_start = source.rfind(b"\n", 0, byte) + 1
    last_token_end = line_start + len(source[line_start:byte].rstrip())
    if line_start < last_token_end < byte:
        return enclosing_scopes(tree, source, last_token_end, language_id=language_id)
    return scopes


def identity(candidate: Candidate) -> Hashable:
    """A snippet's identity across edits: byte offsets move while the user types, so a
    definition is known by its file, container, name and kind."""
    symbol = candidate.symbol
    if symbol is not None:
        return (candidate.path, symbol.container or "", symbol.name, symbol.kind)
    if candidate.key[1] == SUMMARY_KEY:
        return (candidate.path, "<module>")
    return (candidate.path, f"<edit {candidate.start_line}>")


def _is_package_file(path: str) -> bool:
    return os.path.basename(path).split(".", 1)[0] in PACKAGE_FILES


def _relevant_names(uri: str, analysis: DocAnalysis | None) -> tuple[Hashable, frozenset[str]]:
    """Names the current file uses: class skeletons list these members first."""
    if analysis is None:
        return None, frozenset()
    return (uri, analysis.version), frozenset(n for n, _ in analysis.data.identifier_counts)


def _step_up(tokens: int) -> int:
    return -(-tokens // BUDGET_STEP) * BUDGET_STEP


def _without_overlaps(pieces: Sequence[local.Piece]) -> list[local.Piece]:
    """Drop pieces whose text another piece already contains (a scope header inside a
    definition shown in full)."""
    out: list[local.Piece] = []
    for piece in sorted(pieces, key=lambda p: (p.start_line, -len(p.text))):
        if any(piece.text in other.text for other in out):
            continue
        out.append(piece)
    return out


def _drop_contained(items: Sequence[Item]) -> list[Item]:
    """A method whose text is wholly inside its selected class's text adds nothing."""
    by_path: dict[str, list[Item]] = {}
    for item in items:
        by_path.setdefault(item.path, []).append(item)
    out: list[Item] = []
    for item in items:
        siblings = by_path[item.path]
        if any(o is not item and o.score >= item.score and item.text in o.text for o in siblings):
            continue
        out.append(item)
    return out
