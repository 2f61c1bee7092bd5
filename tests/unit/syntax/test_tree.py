"""IncrementalTree, edit computation, grammar loading and query compilation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Parser

from qwen_lsp.syntax.languages import SPECS, get_language, language_id_for
from qwen_lsp.syntax.node_types import NODE_TYPES
from qwen_lsp.syntax.queries import SECTIONS, load_query, query_source
from qwen_lsp.syntax.tree import IncrementalTree, advance_point, compute_edit, point_of


def test_point_helpers() -> None:
    src = "ab\ncé\nx".encode()
    assert point_of(src, 0) == (0, 0)
    assert point_of(src, 3) == (1, 0)
    assert point_of(src, 6) == (1, 3)  # bytes, not characters
    assert advance_point((1, 2), b"xy") == (1, 4)
    assert advance_point((1, 2), b"x\nyz") == (2, 2)


def test_compute_edit() -> None:
    edit = compute_edit(b"ab\ncd\nef", 4, 7, b"X\nYZ")
    assert (edit.start_byte, edit.old_end_byte, edit.new_end_byte) == (4, 7, 8)
    assert edit.start_point == (1, 1)
    assert edit.old_end_point == (2, 1)
    assert edit.new_end_point == (2, 2)


def test_incremental_tree_replace_and_lazy_parse() -> None:
    language = get_language("python")
    assert language is not None
    itree = IncrementalTree(language, b"x = 1\n")
    assert str(itree.tree.root_node).startswith("(module (expression_statement")
    itree.replace(4, 5, b"[1, 2]")
    assert itree.dirty and itree.source == b"x = [1, 2]\n"
    assert "list" in str(itree.tree.root_node)
    assert not itree.dirty
    assert itree.full_parse_count == 1 and itree.parse_count == 2
    itree.reset(b"def f(): pass\n")
    assert "function_definition" in str(itree.tree.root_node)
    assert itree.full_parse_count == 2


_SNIPPETS = st.sampled_from(["x", " ", "\n", "(", ")", "é", "def ", ":", "1", "\U0001f600"])


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 200), st.integers(0, 10), st.lists(_SNIPPETS, max_size=3)),
        max_size=10,
    )
)
def test_byte_level_edits_match_scratch(edits: list[tuple[int, int, list[str]]]) -> None:
    language = get_language("python")
    assert language is not None
    text = "def f(a):\n    return a\n"
    itree = IncrementalTree(language, text.encode())
    _ = itree.tree
    for at, length, pieces in edits:
        start = min(at, len(text))
        end = min(len(text), start + length)
        new = "".join(pieces)
        itree.replace(len(text[:start].encode()), len(text[:end].encode()), new.encode())
        text = text[:start] + new + text[end:]
    scratch = Parser(language).parse(text.encode())
    assert str(itree.tree.root_node) == str(scratch.root_node)


@pytest.mark.parametrize("language_id", sorted(SPECS))
def test_every_grammar_loads_and_has_tables(language_id: str) -> None:
    language = get_language(language_id)
    assert language is not None, f"grammar for {language_id} did not load"
    tree = Parser(language).parse(b"x")
    assert tree.root_node is not None
    assert language_id in NODE_TYPES


@pytest.mark.parametrize("language_id", sorted(NODE_TYPES))
def test_every_query_section_compiles(language_id: str) -> None:
    language = get_language(language_id)
    assert language is not None
    name = NODE_TYPES[language_id].query_file
    for section in SECTIONS:
        assert query_source(name).get(section), f"{name}.scm has no {section} section"
        assert load_query(language, name, section) is not None, f"{name}/{section}"


def test_every_table_node_type_exists_in_its_grammar() -> None:
    problems = []
    for language_id, table in NODE_TYPES.items():
        language = get_language(language_id)
        assert language is not None
        groups = (table.scopes.keys(), table.blocks, table.openers, table.strings, table.comments)
        groups += (table.identifiers,)
        for group in groups:
            for node_type in group:
                if not language.id_for_node_kind(node_type, True):
                    problems.append(f"{language_id}: {node_type}")
    assert problems == []


def test_language_ids() -> None:
    assert language_id_for("ruby") == "ruby"
    assert language_id_for("bash") == "shellscript"
    assert language_id_for(None, "/x/y.cs") == "csharp"
    assert language_id_for("whatever", "/x/y.lua") == "lua"
    assert language_id_for("cobol") == "cobol"
    assert get_language("cobol") is None
