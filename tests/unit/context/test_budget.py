"""Cross-file snippets fitted to the budget, in an order that stays stable between keystrokes."""

from __future__ import annotations

from qwen_lsp.context.budget import Item, Selection, assemble, select


def item(path: str, name: str, score: float, tokens: int = 20, line: int = 0) -> Item:
    return Item((path, name), path, path.lstrip("/"), line, f"def {name}(): ...", tokens, score)


def count(text: str) -> int:
    return 5


def test_fresh_selection_fits_budget_groups_files_most_relevant_last() -> None:
    items = [
        item("/a.py", "low", 0.2, line=5),
        item("/b.py", "top", 2.0),
        item("/a.py", "mid", 1.0, line=1),
        item("/c.py", "huge", 1.5, tokens=500),
    ]
    selection = select(items, 120, count)
    assert [i.key[1] for i in selection.items] == ["mid", "low", "top"]
    assert selection.tokens <= 120
    files = assemble(selection)
    assert [f.path for f in files] == ["a.py", "b.py"]
    assert files[0].content == "def mid(): ...\n\ndef low(): ...\n"


def test_sticky_selection_keeps_order_and_appends() -> None:
    first = select([item("/a.py", "one", 1.0), item("/b.py", "two", 0.9)], 200, count)
    order = [i.key for i in first.items]
    # The scores shuffle and a new, clearly better snippet arrives.
    again = select(
        [item("/a.py", "one", 0.5), item("/b.py", "two", 1.2), item("/c.py", "new", 3.0)],
        200,
        count,
        first,
        fresh=False,
    )
    assert [i.key for i in again.items][:2] == order
    assert again.items[-1].key == ("/c.py", "new")


def test_sticky_selection_evicts_only_for_clearly_better_snippets() -> None:
    first = select([item("/a.py", "old", 1.0, tokens=60)], 90, count)
    weak = select(
        [item("/a.py", "old", 1.0, tokens=60), item("/b.py", "new", 1.2, tokens=60)],
        90,
        count,
        first,
        fresh=False,
    )
    assert [i.key[1] for i in weak.items] == ["old"]
    strong = select(
        [item("/a.py", "old", 1.0, tokens=60), item("/b.py", "new", 5.0, tokens=60)],
        90,
        count,
        first,
        fresh=False,
    )
    assert [i.key[1] for i in strong.items] == ["new"]


def test_empty_selection_assembles_nothing() -> None:
    assert assemble(Selection((), 0)) == []
