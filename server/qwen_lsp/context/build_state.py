"""What one context build works with: the request, its document's analysis and session, and
what several parts of the build ask for (computed once, never kept past the build)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..syntax.scopes import Scope, scopes_at
from . import current_file
from .budget import Selection
from .bundle import CursorSnapshot
from .open_documents import DocAnalysis


@dataclass
class Session:
    """What the previous request of a document chose (for a stable prompt start)."""

    sticky: current_file.StickyStart | None = None
    selection: Selection = field(default_factory=lambda: Selection((), 0))  # prompt order
    header: dict[Hashable, current_file.Piece] = field(default_factory=dict)  # definitions shown
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


@dataclass
class BuildState:
    request: CursorSnapshot
    path: str | None  # the document's real path
    session: Session
    stats: BuildStats = field(default_factory=BuildStats)
    analysis: DocAnalysis | None = None
    # Names the current file uses, keyed by document version: class skeletons list them first.
    relevant: tuple[Hashable, frozenset[str]] = (None, frozenset())

    @cached_property
    def scopes(self) -> list[Scope]:
        """The enclosing scopes at the cursor (three parts of the build ask)."""
        request = self.request
        if request.tree is None or request.source_bytes is None:
            return []
        return scopes_at(
            request.tree, request.source_bytes, request.cursor_byte, request.language_id
        )


def relevant_names(uri: str, analysis: DocAnalysis | None) -> tuple[Hashable, frozenset[str]]:
    """Names the current file uses: class skeletons list these members first."""
    if analysis is None:
        return None, frozenset()
    return (uri, analysis.version), frozenset(n for n, _ in analysis.data.identifier_counts)
