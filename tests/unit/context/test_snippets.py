"""Definitions rendered as snippets: whole, shortened, as class skeletons, one line; module
summaries."""

from __future__ import annotations

import pytest

from qwen_lsp.context.index import analyze_source
from qwen_lsp.context.snippets import module_summary, one_line_summary, render_symbol

PY = b'''class Store:
    """Keeps things."""

    limit = 10

    def __init__(self, items):
        self.items = items

    def add(self, item):
        self.items.append(item)

    def _private(self):
        pass

    def long_method(self, a,
                    b):
        """Does a lot.

        More text.
        """
        x = a
        y = b
        z = x + y
        w = z * 2
        v = w - 1
        return v


def short(x):
    return x + 1
'''
GO = b"""package store

// Store keeps things.
type Store struct {
\titems []string
}

// Add appends an item.
func (s *Store) Add(item string) {
\ts.items = append(s.items, item)
\ts.count()
\ts.count()
\ts.count()
\ts.count()
\ts.count()
}
"""
JAVA = b"""public class Store {
    private int count;

    public void add(String item) {
        count++;
        count++;
        count++;
        count++;
        count++;
        count++;
    }
}
"""


def symbols_of(source: bytes, language: str):
    return analyze_source("/x/file", source, language).symbols


def by_name(symbols, name: str):
    return next(s for s in symbols if s.name == name)


def test_python_class_skeleton_and_method_under_its_class() -> None:
    symbols = symbols_of(PY, "python")
    store = render_symbol(by_name(symbols, "Store"), PY, symbols, "python")
    assert store.mode == "skeleton"
    assert store.text.startswith('class Store:\n    """Keeps things."""\n    limit = 10\n')
    assert "    def add(self, item): ..." in store.text
    assert "    def long_method(self, a, b): ..." in store.text  # parameters joined on one line
    method = render_symbol(by_name(symbols, "long_method"), PY, symbols, "python")
    assert method.mode == "signature"
    assert method.text == (
        "class Store:\n    def long_method(self, a,\n                    b):\n"
        '        """Does a lot."""\n        ...'
    )
    assert render_symbol(by_name(symbols, "short"), PY, symbols, "python").text == (
        "def short(x):\n    return x + 1"
    )
    assert one_line_summary(by_name(symbols, "add"), PY, symbols, "python") == (
        "class Store:\n    def add(self, item): ..."
    )


def test_skeleton_keeps_relevant_members_when_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    from qwen_lsp.context import snippets

    monkeypatch.setattr(snippets, "MAX_SKELETON_MEMBERS", 2)
    symbols = symbols_of(PY, "python")
    text = render_symbol(
        by_name(symbols, "Store"), PY, symbols, "python", relevant=frozenset({"_private"})
    ).text
    assert "def _private(self): ..." in text and "more" in text


def test_go_method_with_doc_comment_and_elided_body() -> None:
    symbols = symbols_of(GO, "go")
    text = render_symbol(by_name(symbols, "Add"), GO, symbols, "go").text
    assert text == ("// Add appends an item.\nfunc (s *Store) Add(item string) {\n    // ...\n}")


def test_java_method_under_class_header_with_closing_brace() -> None:
    symbols = symbols_of(JAVA, "java")
    text = render_symbol(by_name(symbols, "add"), JAVA, symbols, "java").text
    assert text == (
        "public class Store {\n    public void add(String item) {\n        // ...\n    }\n}"
    )


def test_module_summary_lists_public_top_level_definitions() -> None:
    symbols = symbols_of(PY, "python")
    assert module_summary(symbols, PY, "python") == "class Store: ...\ndef short(x): ..."
