"""The gate at a snapshot: text rules everywhere, refined by the syntax tree when there is one."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_lsp.completion.gate import decide, decide_at
from qwen_lsp.completion.snapshot import CompletionSnapshot, snapshot_of
from qwen_lsp.documents import DocumentStore


def at(store: DocumentStore, path: Path, text: str, marker: str, language: str):  # type: ignore[no-untyped-def]
    doc = store.open(path.as_uri(), text, 1, language)
    return snapshot_of(doc, text.index(marker) + len(marker)).with_syntax()


@pytest.mark.parametrize(
    ("language", "text", "marker", "complete", "multiline"),
    [
        ("javascript", "function f() {}\n", "{", True, True),  # empty block body
        ("python", "x = 1  # explain the\n", "the", True, False),  # in a comment
        ("python", "s = 'hello wor'\n", "wor", True, False),  # in a string
        ("python", "total = 1\nvalue = \n", "value = ", True, False),  # after an assignment
        ("go", "func f() {\n}\n", "{", True, True),
        ("rust", "fn f() {}\n", "{", True, True),
    ],
)
def test_syntax_refines_the_text_decision(
    tmp_path: Path, language: str, text: str, marker: str, complete: bool, multiline: bool
) -> None:
    extension = {"javascript": "js", "python": "py", "go": "go", "rust": "rs"}[language]
    snapshot = at(DocumentStore(), tmp_path / f"g.{extension}", text, marker, language)
    assert snapshot.tree is not None
    decision = decide_at(snapshot)
    assert (decision.complete, decision.multiline) == (complete, multiline), decision.reason


def test_the_gate_declines_inside_a_word_by_syntax(tmp_path: Path) -> None:
    snapshot = at(
        DocumentStore(), tmp_path / "w.js", "const $value = 1;\n", "const $", "javascript"
    )
    assert decide("const $", "value = 1;", "").complete  # `$` is no word character to a regex
    assert not decide_at(snapshot).complete


def test_without_a_tree_the_text_decision_stands() -> None:
    text = "Notes on Point:\nuse area_of_circle(2) for "
    snapshot = CompletionSnapshot("file:///n.txt", text, len(text), "plaintext", None, 1)
    assert decide_at(snapshot) == decide("use area_of_circle(2) for ", "", "Notes on Point:")


def test_gate_inside_identifier_declines():
    assert not decide("    pri", "nt(x)", "").complete


def test_gate_multiline_after_block_opener_and_on_empty_line():
    assert decide("def f(x):", "", "").multiline
    assert decide("    ", "", "def f(x):").multiline
    assert not decide("x = foo(", "a)", "").multiline
