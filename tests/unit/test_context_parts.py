"""The context engine's parts: window cutting, snippet rendering, budget/layout, recent edits,
retrieval helpers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from qwen_lsp.context import current_file
from qwen_lsp.context.budget import Item, Selection, assemble, select
from qwen_lsp.context.edit_regions import edit_regions
from qwen_lsp.context.index import WorkspaceIndex, analyze_source
from qwen_lsp.context.retrieval import (
    CurrentFile,
    module_aliases,
    names_by_regex,
    rank_definitions,
    weighted_names,
    word_at_cursor,
)
from qwen_lsp.context.snippets import module_summary, one_line_summary, render_symbol
from qwen_lsp.context.tokens import TokenCounter
from qwen_lsp.documents import Document

COUNTER = TokenCounter(load_now=True)


# --------------------------------------------------------------------------------------------
# Window


def python_file(functions: int) -> str:
    return "".join(
        f"def function_{i}(value):\n    total = value * {i}\n    return total\n\n\n"
        for i in range(functions)
    )


def test_window_starts_at_a_statement_and_stays_put_while_typing() -> None:
    text = python_file(200) + "def tail():\n    x = "
    offset = len(text)
    line = text.count("\n")
    cut = current_file.cut_window(text, offset, line, 400, 0.15, COUNTER)
    assert cut.prefix_truncated
    assert cut.prefix.startswith("def function_")  # a top-level line, not mid-function
    assert cut.prefix_tokens <= 400
    sticky = current_file.sticky_of(text, cut)
    typed = text + "compute("
    again = current_file.cut_window(typed, len(typed), line, 400, 0.15, COUNTER, sticky)
    assert again.start_offset == cut.start_offset  # same first line: shared prompt start


def test_window_moves_when_the_cursor_jumps_up() -> None:
    text = python_file(200)
    end_cut = current_file.cut_window(text, len(text), text.count("\n"), 300, 0.15, COUNTER)
    offset = text.index("def function_20(")
    up = current_file.cut_window(
        text,
        offset,
        text[:offset].count("\n"),
        300,
        0.15,
        COUNTER,
        current_file.sticky_of(text, end_cut),
    )
    assert up.start_offset < offset and up.start_offset != end_cut.start_offset


def test_sticky_start_is_dropped_when_the_text_there_changed() -> None:
    text = python_file(50)
    cut = current_file.cut_window(text, len(text), text.count("\n"), 200, 0.15, COUNTER)
    sticky = current_file.sticky_of(text, cut)
    edited = text[: cut.start_offset] + "# inserted\n" + text[cut.start_offset :]
    assert current_file._sticky_offset(edited, len(edited), sticky) is None


def test_reused_window_counts_equal_a_fresh_count_through_edits() -> None:
    # The sticky window re-counts only the cursor's line while the lines above are unchanged;
    # any edit above must fall back to counting, so counts always match a from-scratch count.
    text = python_file(200) + "def tail():\n    x = "
    offset, line = len(text), text.count("\n")
    cut = current_file.cut_window(text, offset, line, 400, 0.15, COUNTER)
    sticky = current_file.sticky_of(text, cut, COUNTER)
    assert sticky.body and sticky.exact
    edits = [
        lambda t, o: (t[:o] + "compute(", o + 8),  # typing on the cursor line
        lambda t, o: (t[:o] + "\n    y = ", o + 9),  # a new line
        lambda t, o: (t.replace("total = value * 199", "total = value * 1999"), o + 1),  # above
        lambda t, o: (t[: o - 3], o - 3),  # backspace
    ]
    kept = 0
    for edit in edits:
        text, offset = edit(text, offset)
        line = text[:offset].count("\n")
        reused = current_file.cut_window(text, offset, line, 400, 0.15, COUNTER, sticky)
        fresh = current_file._cost_from(text[:offset], reused.start_offset, COUNTER, 10**9)
        assert reused.prefix_tokens == fresh
        kept += reused.start_offset == sticky.offset
        sticky = current_file.sticky_of(text, reused, COUNTER)
    assert kept == len(edits)  # the window never moved: every count went through the reuse


def test_counts_from_the_estimate_are_not_reused_once_the_tokenizer_is_loaded() -> None:
    estimating = TokenCounter()  # not loaded: character estimate
    text = python_file(100) + "def tail():\n    x = "
    cut = current_file.cut_window(text, len(text), text.count("\n"), 400, 0.15, estimating)
    sticky = current_file.sticky_of(text, cut, estimating)
    assert not sticky.exact
    typed = text + "1"
    again = current_file.cut_window(
        typed, len(typed), typed.count("\n"), 400, 0.15, COUNTER, sticky
    )
    assert again.start_offset == sticky.offset
    assert again.prefix_tokens == current_file._cost_from(typed, again.start_offset, COUNTER, 10**9)


def test_suffix_is_cut_before_a_boundary_and_bounded() -> None:
    suffix = "\n    return x\n\n\n" + python_file(40)
    text, tokens, truncated = current_file.cut_suffix(suffix, 60, COUNTER)
    assert truncated and tokens <= 60
    assert text.startswith("\n    return x\n")
    assert not text.rstrip("\n").endswith("total = value")  # not cut mid-function
    whole, _tokens, cut = current_file.cut_suffix("\nx = 1\n", 100, COUNTER)
    assert (whole, cut) == ("\nx = 1\n", False)


def test_suffix_end_limits_the_suffix() -> None:
    text = "def f():\n    a = \n    return a\n\ndef g():\n    pass\n"
    offset = text.index("a = ") + 4
    end = text.index("def g")
    cut = current_file.cut_window(text, offset, 1, 500, 0.5, COUNTER, suffix_end=end)
    assert cut.suffix == "\n    return a\n\n" and cut.suffix_truncated


def test_header_pieces_render_in_file_order_with_elisions() -> None:
    pieces = [
        current_file.Piece(40, "class Shape:", "scope"),
        current_file.Piece(0, "import os", "import"),
        current_file.Piece(1, "import sys", "import"),
        current_file.Piece(10, "def helper():\n    return 1", "definition"),
    ]
    rendered = current_file.render_pieces(pieces, "#")
    assert (
        rendered == "import os\nimport sys\n# ...\ndef helper():\n    return 1\n# ...\nclass Shape:"
    )
    assert current_file.with_header("import os", "    x = 1\n    y", "#") == (
        "import os\n    # ...\n    x = 1\n    y"
    )


# --------------------------------------------------------------------------------------------
# Snippets

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


# --------------------------------------------------------------------------------------------
# Budget and layout


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


# --------------------------------------------------------------------------------------------
# Recent edits


def test_recent_edit_regions_outside_the_window(tmp_path: Path) -> None:
    text = "".join(f"line_{i} = {i}\n" for i in range(100))
    doc = Document((tmp_path / "r.py").as_uri(), text, 1, "python")
    doc.apply_changes(
        [
            {
                "range": {
                    "start": {"line": 10, "character": 0},
                    "end": {"line": 10, "character": 0},
                },
                "text": "new_name = 1\n",
            }
        ],
        2,
    )
    regions = edit_regions(doc, str(tmp_path / "r.py"))
    assert len(regions) == 1 and "new_name = 1" in regions[0].text
    assert regions[0].start_line == 8 and regions[0].recency > 0.9
    assert edit_regions(doc, "r.py", exclude_lines=(5, 20)) == []
    assert edit_regions(doc, "r.py", now=time.monotonic() + 3600) == []


# --------------------------------------------------------------------------------------------
# Retrieval helpers


def test_word_at_cursor_and_regex_names() -> None:
    assert word_at_cursor("    total = compu", "te(x)") == "compute"
    assert word_at_cursor("x = ", "") == ""
    assert names_by_regex("alpha = beta(gamma)\nresult = ", "\ndelta()", 5, 5)[:3] == [
        "result",
        "gamma",
        "beta",
    ]


def test_weights_prefer_near_names() -> None:
    weights = weighted_names(["near", "later"], ["Base"], ["imported"], [("often", 8)], ["typing"])
    assert weights["near"] > weights["later"] > weights["Base"] > weights["imported"]
    assert weights["often"] < weights["imported"] and "typing" not in weights


def build_index(tmp_path: Path, files: dict[str, str]) -> WorkspaceIndex:
    index = WorkspaceIndex([str(tmp_path)])
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        index.put(analyze_source(str(path), text.encode(), "python"))
    return index


def test_imported_module_wins_over_namesakes_and_builtins_are_skipped(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "lib/real.py": "def parse(text):\n    return text\n",
            "other/fake.py": "def parse(data):\n    return data\n",
            "other/shadow.py": "def len(x):\n    return 0\n",
        },
    )
    current = CurrentFile(
        str(tmp_path / "app.py"),
        "python",
        imported_files=frozenset({str(tmp_path / "lib/real.py")}),
    )
    ranked = rank_definitions({"parse": 1.0, "len": 1.0}, index, current)
    assert [c.path for c in ranked] == [str(tmp_path / "lib/real.py")]


def test_module_aliases(tmp_path: Path) -> None:
    index = build_index(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/units.py": "def miles(x):\n    return x\n",
            "pkg/geometry.py": "class Point:\n    pass\n",
        },
    )
    source = b"import pkg.units as u\nfrom pkg import geometry\nfrom pkg.geometry import Point\n"
    current = str(tmp_path / "app.py")
    imports = analyze_source(current, source, "python", with_imports=True).imports
    aliases = module_aliases(imports, current, "python", index)
    assert aliases == {
        "u": (str(tmp_path / "pkg/units.py"),),
        "geometry": (str(tmp_path / "pkg/geometry.py"),),
    }
