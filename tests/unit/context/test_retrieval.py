"""Names near the cursor, their weights, and the definitions they resolve to (ranked)."""

from __future__ import annotations

from pathlib import Path

from qwen_lsp.context.index import WorkspaceIndex, analyze_source
from qwen_lsp.context.retrieval import (
    CurrentFile,
    module_aliases,
    names_by_regex,
    rank_definitions,
    weighted_names,
    word_at_cursor,
)


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
