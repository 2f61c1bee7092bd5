"""What the context layer is asked for and what it answers, in its own terms.

``CursorSnapshot`` is what the context builder reads of a request (``completion.snapshot.
CompletionSnapshot`` has it all, structurally, so the context layer never imports completion);
``ContextBundle`` is its answer: the current file's part and the other files, with their token
counts. ``RepoContext`` is the builder's interface as the prompt planner sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..prompts.fim import ContextFile


class CursorSnapshot(Protocol):
    """A document at a cursor, frozen: text and cursor, and the tree when there is one."""

    @property
    def uri(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def offset(self) -> int: ...  # str index of the cursor
    @property
    def language_id(self) -> str: ...
    @property
    def path(self) -> str | None: ...
    @property
    def version(self) -> int: ...
    @property
    def tree(self) -> Any: ...
    @property
    def source_bytes(self) -> bytes | None: ...
    @property
    def cursor_byte(self) -> int: ...
    @property
    def cursor_line(self) -> int: ...  # LSP line
    @property
    def cursor_row(self) -> int: ...  # tree-sitter row
    @property
    def prefix(self) -> str: ...
    @property
    def suffix(self) -> str: ...

    def offset_of_byte(self, byte: int) -> int: ...


@dataclass(frozen=True)
class ContextBundle:
    """Everything a context engine contributes: the current file's part (window cut at syntax
    boundaries, with a sparse header above it and tail below it) and the other files."""

    prefix: str
    suffix: str
    prefix_tokens: int
    suffix_tokens: int
    files: tuple[ContextFile, ...] = ()
    files_tokens: int = 0


class RepoContext(Protocol):
    """The current file's window and other files' context for a request, within a token budget
    (``context.engine.ContextEngine``)."""

    def build(
        self,
        request: CursorSnapshot,
        budget: int,
        local_budget: int,
        suffix_share: float,
        cross_file: bool = True,
    ) -> ContextBundle: ...
