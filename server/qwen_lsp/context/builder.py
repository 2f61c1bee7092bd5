"""The prompt's context for one request, within a token budget.

1. the window around the cursor, cut at syntax boundaries and kept stable between keystrokes
   (``current_file.py``, with the document's session);
2. names near the cursor, in the enclosing scopes' headers, imported, or frequent in the file,
   and their definitions, module summaries and recent edits (``candidates.py``);
3. the current file's own definitions and imports in a sparse header above the window
   (``header.py``);
4. other files' snippets (``cross_file.py``) fitted into the rest of the budget, one
   ``<|file_sep|>`` section per file, in an order that is stable between keystrokes
   (``budget.py``).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence

from ..documents import DocumentStore
from ..syntax.languages import line_comment_for
from . import current_file
from .budget import Selection, assemble, select
from .build_state import BuildState, BuildStats, Session, relevant_names
from .bundle import ContextBundle, CursorSnapshot
from .candidates import CandidateFinder
from .cross_file import drop_redundant, items_for
from .header import header_for
from .index_service import IndexService
from .retrieval import SnippetCandidate
from .sources import SourceCache
from .tokens import TokenCounter

log = logging.getLogger(__name__)

# Share of the local budget for the header above the window (imports, definitions, scopes).
HEADER_SHARE = 0.25
# No code averages more characters per Qwen token: a longer file cannot fit a budget whole.
MAX_CHARS_PER_TOKEN = 12
MAX_SESSIONS = 64
# The cross-file budget moves in steps of this many tokens, so typing (which grows the local
# part token by token) does not change which snippets fit on every keystroke.
BUDGET_STEP = 256
# A cursor that moved further than this many lines gets a freshly ordered context.
FRESH_AFTER_LINES = 3


class ContextBuilder:
    def __init__(
        self,
        counter: TokenCounter,
        service: IndexService,
        sources: SourceCache,
        documents: DocumentStore | None = None,
    ):
        self.counter = counter
        self.service = service
        self.sources = sources
        self.candidates = CandidateFinder(service, documents)
        self.last_stats = BuildStats()
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def forget(self, uri: str) -> None:
        """The document closed: its session goes."""
        self._sessions.pop(uri, None)

    def build(
        self,
        request: CursorSnapshot,
        budget: int,
        local_budget: int,
        suffix_share: float,
        cross_file: bool = True,
    ) -> ContextBundle:
        """The current file's window (and header) within ``local_budget`` and, with
        ``cross_file``, other files within the rest of ``budget``; the plain window if anything
        goes wrong (context is an optimisation)."""
        started = time.perf_counter()
        try:
            bundle, stats = self._build(request, budget, local_budget, suffix_share, cross_file)
        except Exception:
            log.exception("context build failed; using the plain window")
            bundle, stats = self._window_only(request, local_budget, suffix_share), BuildStats()
        stats.ms = (time.perf_counter() - started) * 1000
        self.last_stats = stats
        return bundle

    def _window_only(
        self, request: CursorSnapshot, budget: int, suffix_share: float
    ) -> ContextBundle:
        cut = current_file.cut_window(
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
        path = self.service.realpath(request.path) if request.path else None
        state = BuildState(request, path, self._session(request.uri))
        session = state.session
        cursor_line = request.cursor_line
        comment = line_comment_for(request.language_id)
        cut, header_budget = self._window(state, local_budget, suffix_share)
        session.fresh = session.sticky is None or session.sticky.offset != cut.start_offset
        session.fresh = session.fresh or abs(cursor_line - session.cursor_line) > FRESH_AFTER_LINES
        state.analysis = self.candidates.analysis_for(request, path)
        state.relevant = relevant_names(request.uri, state.analysis)
        candidates = self.candidates.find(state, cut)
        local_cands = [c for c in candidates if c.path == path]
        local_cands += self.candidates.own_edits(state, cut)
        header, header_tokens = header_for(
            state, cut, local_cands, header_budget, comment, self.sources, self.counter
        )
        prefix_tokens = cut.prefix_tokens + header_tokens
        selection = Selection((), 0)
        if cross_file:
            # Quantised, so that typing (which grows the window) does not change what fits.
            used = _quantise_tokens(prefix_tokens + cut.suffix_tokens)
            others = [c for c in candidates if c.path != path]
            selection = self._select(state, others, budget - max(local_budget, used))
        self._remember(session, request.text, cut, selection, cursor_line)
        files = tuple(assemble(selection))
        stats = state.stats
        stats.files, stats.snippets = len(files), len(selection.items)
        stats.context_tokens = selection.tokens
        prefix = current_file.with_header(header, cut.prefix, comment)
        bundle = ContextBundle(
            prefix, cut.suffix, prefix_tokens, cut.suffix_tokens, files, selection.tokens
        )
        return bundle, stats

    def _window(
        self, state: BuildState, local_budget: int, suffix_share: float
    ) -> tuple[current_file.WindowCut, int]:
        """The window, and the header budget when the window leaves part of the file out."""
        request = state.request
        suffix_end = _suffix_end(state)

        def cut_with(budget: int) -> current_file.WindowCut:
            return current_file.cut_window(
                request.text,
                request.offset,
                request.cursor_line,
                budget,
                suffix_share,
                self.counter,
                state.session.sticky,
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
        self, state: BuildState, candidates: Sequence[SnippetCandidate], budget: int
    ) -> Selection:
        """Other files' snippets within ``budget``, in the session's stable order."""
        items = items_for(state, candidates, self.sources, self.counter)
        session = state.session
        previous = session.selection
        selection = select(items, max(0, budget), self.counter.count_piece, previous, session.fresh)
        keep = frozenset() if session.fresh else frozenset(previous.keys)
        language_id = state.request.language_id
        return drop_redundant(selection, language_id, keep, self.sources, self.counter)

    def _session(self, uri: str) -> Session:
        session = self._sessions.get(uri)
        if session is None:
            session = Session()
            self._sessions[uri] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(uri)
        return session

    def _remember(
        self,
        session: Session,
        text: str,
        cut: current_file.WindowCut,
        selection: Selection,
        cursor_line: int,
    ) -> None:
        session.sticky = current_file.sticky_of(text, cut, self.counter)
        session.selection = selection
        session.cursor_line = cursor_line


def _suffix_end(state: BuildState) -> int | None:
    """Where the suffix may stop: after the enclosing function, plus the next line of code
    (it shows the model where the function ends). Text past it rarely shapes the completion,
    and a short suffix keeps more of the prompt shared between keystrokes."""
    request = state.request
    if request.tree is None or request.source_bytes is None:
        return None
    functions = [s for s in state.scopes if s.kind in ("function", "method")]
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


def _quantise_tokens(tokens: int) -> int:
    return -(-tokens // BUDGET_STEP) * BUDGET_STEP
