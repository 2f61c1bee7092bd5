"""The sparse header above the window when the window leaves part of the current file out: its
imports, the definitions the cursor needs (from above or below the window), and the enclosing
scopes' headers, in file order with elisions between them."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from . import current_file
from .build_state import BuildState
from .open_documents import DocAnalysis
from .retrieval import SnippetCandidate, snippet_identity
from .sources import SourceCache
from .tokens import TokenCounter


def header_for(
    state: BuildState,
    cut: current_file.WindowCut,
    candidates: Sequence[SnippetCandidate],
    budget: int,
    comment: str,
    sources: SourceCache,
    counter: TokenCounter,
) -> tuple[str, int]:
    """The header text and its token count, within ``budget`` (the definitions shown are
    remembered in the session)."""
    session = state.session
    if not budget:
        session.header = {}
        return "", 0
    imports = _import_pieces(state.analysis, cut)
    scopes = _scope_pieces(state, cut)
    used = sum(counter.count_piece(p.text) + 1 for p in (*imports, *scopes))
    while used > budget and imports:
        dropped = imports.pop()
        used -= counter.count_piece(dropped.text) + 1
    definitions = _definition_pieces(
        state, cut, candidates, budget - used, scopes, sources, counter
    )
    used += sum(counter.count_piece(p.text) + 2 for p in definitions.values())
    pieces = [*imports, *sorted(definitions.values(), key=lambda p: p.start_line)]
    above = current_file.render_pieces(pieces, comment)
    scope_text = current_file.render_pieces(_without_overlaps(scopes), comment)
    header_text = "\n".join(part for part in (above, scope_text) if part)
    if above and scope_text:
        header_text = f"{above}\n{current_file.elision(comment)}\n{scope_text}"
    state.stats.header_pieces = len(pieces) + len(scopes)
    header_tokens = used + (counter.count_piece(comment + " ...") + 2 if header_text else 0)
    return header_text, header_tokens


def _import_pieces(
    analysis: DocAnalysis | None, cut: current_file.WindowCut
) -> list[current_file.Piece]:
    if analysis is None:
        return []
    return [
        current_file.Piece(imp.start_line, imp.text, "import")
        for imp in analysis.data.imports
        if imp.end_line < cut.start_line and imp.text not in cut.prefix
    ]


def _scope_pieces(state: BuildState, cut: current_file.WindowCut) -> list[current_file.Piece]:
    request = state.request
    if request.tree is None or request.source_bytes is None:
        return []
    return [
        current_file.Piece(scope.start_line, scope.header, "scope")
        for scope in state.scopes
        if scope.start_line < cut.start_line
    ]


def _definition_pieces(
    state: BuildState,
    cut: current_file.WindowCut,
    candidates: Sequence[SnippetCandidate],
    budget: int,
    scopes: Sequence[current_file.Piece],
    sources: SourceCache,
    counter: TokenCounter,
) -> dict[Hashable, current_file.Piece]:
    """This file's definitions outside the window. While typing, the ones shown last time
    stay (the header precedes the window: changing it costs the window's cache) and new
    ones join while room is left."""
    request, analysis, session = state.request, state.analysis, state.session
    chosen: dict[Hashable, current_file.Piece] = {}
    used = 0
    if not session.fresh:
        for key, piece in session.header.items():
            cost = counter.count_piece(piece.text) + 2
            outside = piece.end_line < cut.start_line or piece.start_line > cut.end_line
            if outside and used + cost <= budget:
                chosen[key] = piece
                used += cost
    if analysis is None:
        session.header = chosen
        return chosen
    for cand in sorted(candidates, key=lambda c: (-c.score, c.key)):
        if snippet_identity(cand) in chosen:
            continue
        if cand.end_line >= cut.start_line and cand.start_line <= cut.end_line:
            continue  # visible in the window
        if cand.symbol is None:
            text = cand.text or ""  # a recently edited region
        else:
            text = sources.render(
                cand.symbol,
                analysis.source,
                analysis.data.symbols,
                request.language_id,
                ("doc", request.uri, analysis.version),
                cand.brief,
                state.relevant,
            )
        cost = counter.count_piece(text) + 2
        if any(text in p.text for p in scopes) or used + cost > budget:
            continue
        chosen[snippet_identity(cand)] = current_file.Piece(
            cand.start_line, text, "definition", cand.end_line
        )
        used += cost
    session.header = chosen
    return chosen


def _without_overlaps(pieces: Sequence[current_file.Piece]) -> list[current_file.Piece]:
    """Drop pieces whose text another piece already contains (a scope header inside a
    definition shown in full)."""
    out: list[current_file.Piece] = []
    for piece in sorted(pieces, key=lambda p: (p.start_line, -len(p.text))):
        if any(piece.text in other.text for other in out):
            continue
        out.append(piece)
    return out
