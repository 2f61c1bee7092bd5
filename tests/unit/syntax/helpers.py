"""Small real snippets per language and how the syntax tests parse them; ``<|>`` marks the
cursor."""

from __future__ import annotations

from tree_sitter import Parser, Tree

from qwen_lsp.syntax.definitions import definitions
from qwen_lsp.syntax.languages import get_language
from qwen_lsp.syntax.scopes import enclosing_scopes

CURSOR = "<|>"


def parse(language_id: str, text: str) -> tuple[Tree, bytes, int]:
    """Tree, source and cursor byte for ``text`` (cursor marker removed; -1 if absent)."""
    cursor = text.encode().find(CURSOR.encode())
    source = text.replace(CURSOR, "").encode()
    language = get_language(language_id)
    assert language is not None
    return Parser(language).parse(source), source, cursor


def defs(language_id: str, text: str) -> set[tuple[str, str, str | None]]:
    tree, source, _ = parse(language_id, text)
    return {(d.kind, d.name, d.container) for d in definitions(tree, source)}


def scopes(language_id: str, text: str) -> list[tuple[str, str | None]]:
    tree, source, cursor = parse(language_id, text)
    return [(s.kind, s.name) for s in enclosing_scopes(tree, source, cursor)]


PYTHON = """import os
from a.b import c as d, e
MAX_SIZE: int = 10
counter = 0
type Alias = list[int]

@decorator
def top(a, b=1) -> int:
    return a

class Shape(Base):
    sides = 0

    def area(self,
             scale: float) -> float:
        def helper():
            pass
        return 0.0
"""
