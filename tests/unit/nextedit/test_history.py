"""Edit history as hunks: per file and across files, in time order, bounded."""

from __future__ import annotations

from qwen_lsp.documents import Document
from qwen_lsp.nextedit.history import HistoryLimits, edit_history, recent_edits


def edit(doc: Document, start: int, end: int, text: str) -> None:
    rng = {"start": doc.position_at(start), "end": doc.position_at(end)}
    doc.apply_changes([{"range": rng, "text": text}], doc.version + 1)


def typed(doc: Document, at: int, text: str) -> None:
    """Type ``text`` at ``at`` one character at a time (the store coalesces it)."""
    for i, ch in enumerate(text):
        edit(doc, at + i, at + i, ch)


def name(doc: Document) -> str:
    return doc.uri.rsplit("/", 1)[-1]


def test_typing_becomes_one_hunk_with_context():
    doc = Document("file:///w/a.py", "def f(a):\n    return a\n\nx = f(1)\n", 1, "python")
    typed(doc, 7, ", b")
    (event,) = edit_history([doc], name)
    assert event.hunk() == "@@ -1,3 +1,3 @@\n-def f(a):\n+def f(a, b):\n     return a\n \n"[:-1]
    assert event.path == "a.py"


def test_history_across_files_is_in_time_order_and_bounded():
    a = Document("file:///w/a.py", "one\ntwo\n", 1, "python")
    b = Document("file:///w/b.py", "three\nfour\n", 1, "python")
    edit(a, 0, 3, "ONE")
    b.coalesce_seconds = a.coalesce_seconds = 0  # each edit its own record
    edit(b, 0, 5, "THREE")
    edit(a, 4, 7, "TWO")
    events = edit_history([a, b], name)
    assert [(e.path, e.new_lines) for e in events] == [
        ("a.py", ("ONE",)),
        ("b.py", ("THREE",)),
        ("a.py", ("TWO",)),
    ]
    newest_two = edit_history([a, b], name, HistoryLimits(max_events=2))
    assert [e.new_lines for e in newest_two] == [("THREE",), ("TWO",)]
    tight = edit_history([a, b], name, HistoryLimits(max_total_chars=len(events[-1].hunk())))
    assert [e.new_lines for e in tight] == [("TWO",)]


def test_huge_edits_and_old_edits_are_left_out():
    doc = Document("file:///w/a.py", "x = 1\n", 1, "python")
    edit(doc, 0, 0, "y = 2\n" * 400)  # a paste
    assert edit_history([doc], name) == []
    assert edit_history([doc], name, HistoryLimits(max_event_chars=10**6)) != []
    late = recent_edits(doc)[0].time + 10_000
    assert edit_history([doc], name, HistoryLimits(max_event_chars=10**6), now=late) == []


def test_a_new_line_is_an_insertion_not_a_rewrite_of_the_line_above():
    doc = Document("file:///w/a.py", "a = 1\nb = 2\n", 1, "python")
    typed(doc, 5, "\nc = 3")
    (event,) = edit_history([doc], name)
    assert event.old_lines == () and event.new_lines == ("c = 3",)
    assert event.before == ("a = 1",) and event.after == ("b = 2",)
