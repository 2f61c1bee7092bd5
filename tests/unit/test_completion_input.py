"""The completion snapshot's syntax: fetched lazily, and never another text's tree."""

from __future__ import annotations

from qwen_lsp.completion.engine import CompletionInput
from qwen_lsp.documents import Document
from qwen_lsp.server import document_snapshot as snapshot


def insert(doc: Document, offset: int, text: str, version: int) -> None:
    doc.apply_changes([{"range": ((0, offset), (0, offset)), "text": text}], version)


def test_the_tree_is_parsed_when_asked_for_not_at_snapshot_time() -> None:
    doc = Document("file:///a.py", "x = 1\n", 1, "python")
    assert doc.tree is not None
    insert(doc, 5, "0", 2)
    itree = doc.incremental_tree
    assert itree is not None and itree.dirty
    request = snapshot(doc, 6)
    assert itree.dirty and request.tree is None  # nothing parsed yet
    resolved = request.with_syntax()
    assert resolved.tree is not None and not itree.dirty
    assert resolved.source_bytes == b"x = 10\n"
    assert resolved.prefix == "x = 10" and resolved.with_syntax() is resolved


def test_a_snapshot_that_outlived_its_text_gets_no_tree() -> None:
    doc = Document("file:///b.py", "y = 2\n", 1, "python")
    request = snapshot(doc, 5)
    insert(doc, 5, "3", 2)  # the user typed on before the request got to parse
    resolved = request.with_syntax()
    assert resolved.tree is None and resolved.source_bytes is None


def test_a_given_tree_is_kept() -> None:
    doc = Document("file:///c.py", "z = 3\n", 1, "python")
    request = CompletionInput(
        doc.uri, doc.text, 5, "python", doc.path, 1, tree=doc.tree, source_bytes=doc.source
    )
    assert request.with_syntax() is request


def test_the_resolved_snapshot_keeps_the_slices_already_made() -> None:
    doc = Document("file:///d.py", "w = 4\n", 1, "python")
    request = snapshot(doc, 4)
    prefix, suffix = request.prefix, request.suffix
    resolved = request.with_syntax()
    assert resolved.prefix is prefix and resolved.suffix is suffix
    assert (resolved.prefix, resolved.suffix) == ("w = ", "4\n")
