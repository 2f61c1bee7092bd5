"""Workspace symbol index, background worker and import resolution on a real multi-language tree."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from qwen_lsp.context.index import (
    FileData,
    WorkspaceIndex,
    analyze_source,
    import_parts,
    module_parts,
)
from qwen_lsp.context.worker import IndexWorker, WorkerCore
from tests.unit.context_samples import FILES, write_workspace

EXPECTED = {
    "pkg/geometry.py": {
        ("Point", "class"),
        ("distance_to", "method"),
        ("area_of_circle", "function"),
    },
    "web/utils/format.js": {("formatPrice", "function")},
    "web/models.ts": {("User", "interface"), ("UserStore", "class"), ("add", "method")},
    "go/util/strings.go": {("Reverse", "function")},
    "rs/src/shapes.rs": {("Circle", "struct"), ("area", "method")},
    "java/com/acme/Inventory.java": {("Inventory", "class"), ("addItem", "method")},
    "c/vec.h": {("vec", "struct")},
    "cpp/matrix.hpp": {("Matrix", "class"), ("multiply", "method")},
}


def scan(root: Path, **config: object) -> WorkspaceIndex:
    index = WorkspaceIndex([str(root)])
    core = WorkerCore()
    list(core.handle({"op": "configure", "roots": [str(root)], **config}))
    for message in core.handle({"op": "scan", "id": 1}):
        if message["op"] == "file":
            index.put(FileData.from_wire(message["data"]))
    return index


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws").resolve()


def test_scan_indexes_every_language_and_nothing_secret(workspace: Path) -> None:
    index = scan(workspace)
    for relative, expected in EXPECTED.items():
        entry = index.entry(str(workspace / relative))
        assert entry is not None, relative
        assert expected <= {(s.name, s.kind) for s in entry.symbols}, relative
    assert index.entry(str(workspace / ".env")) is None
    assert index.entry(str(workspace / "notes/readme.txt")) is None  # no grammar: not indexed


def test_lookup_and_members(workspace: Path) -> None:
    index = scan(workspace)
    (point,) = [s for s in index.lookup("Point") if s.kind == "class"]
    assert point.path == str(workspace / "pkg/geometry.py")
    assert {m.name for m in index.members(point)} == {"__init__", "distance_to"}
    (method,) = index.lookup("distance_to")
    assert index.enclosing(method) == point
    assert index.count("Point") == 1 and index.count("nothing_here") == 0


@pytest.mark.parametrize(
    ("current", "module", "expected"),
    [
        ("app/main.py", "pkg.geometry", ["pkg/geometry.py"]),
        ("app/main.py", "pkg.geometry.Point", ["pkg/geometry.py"]),
        ("app/main.py", "pkg", ["pkg/__init__.py"]),
        ("pkg/__init__.py", ".geometry", ["pkg/geometry.py"]),
        ("web/app.js", "./utils/format", ["web/utils/format.js"]),
        ("web/view.tsx", "./models", ["web/models.ts"]),
        ("go/main.go", "example.com/proj/util", ["go/util/strings.go"]),
        ("rs/src/main.rs", "crate::shapes", ["rs/src/shapes.rs"]),
        ("c/main.c", "vec.h", ["c/vec.h"]),
        ("cpp/main.cpp", "matrix.hpp", ["cpp/matrix.hpp"]),
        ("app/main.py", "numpy.linalg", []),
    ],
)
def test_import_resolution(workspace: Path, current: str, module: str, expected: list[str]) -> None:
    index = scan(workspace)
    found = index.resolve_import(str(workspace / current), module)
    assert [os.path.relpath(p, workspace) for p in found] == expected


def test_module_and_import_parts() -> None:
    assert module_parts("/r/pkg/sub/__init__.py", "/r") == ("pkg", "sub")
    assert module_parts("/r/web/utils/format.js", "/r") == ("web", "utils", "format")
    assert import_parts("..a.b") == (2, ("a", "b"))
    assert import_parts("./u/h") == (1, ("u", "h"))
    assert import_parts("./utils/format.js") == (1, ("utils", "format"))
    assert import_parts("../x") == (2, ("x",))
    assert import_parts("std::collections::HashMap") == (0, ("std", "collections", "HashMap"))
    assert import_parts('"pkg/util.h"') == (0, ("pkg", "util"))


def test_put_replaces_and_remove_forgets(workspace: Path) -> None:
    index = scan(workspace)
    path = str(workspace / "pkg/units.py")
    source = b"def kilometers_to_miles(km):\n    return km / 1.609344\n"
    index.put(analyze_source(path, source, "python"))
    assert index.lookup("miles_to_meters") == []
    assert [s.name for s in index.lookup("kilometers_to_miles")] == ["kilometers_to_miles"]
    generation = index.generation
    index.remove(path)
    assert index.lookup("kilometers_to_miles") == [] and index.generation > generation


def test_symbol_bound_refuses_files(workspace: Path) -> None:
    index = WorkspaceIndex([str(workspace)], max_symbols=3)
    data = analyze_source(
        str(workspace / "pkg/geometry.py"), FILES["pkg/geometry.py"].encode(), "python"
    )
    assert len(data.symbols) > 3
    assert not index.put(data)
    assert index.stats.dropped_files == 1 and len(index) == 0


def test_scan_is_bounded_in_files(workspace: Path) -> None:
    index = scan(workspace, max_files=3)
    assert len(index) == 3


def test_wire_format_round_trip(workspace: Path) -> None:
    source = FILES["app/main.py"].encode()
    data = analyze_source("/x/main.py", source, "python", with_imports=True, with_identifiers=True)
    again = FileData.from_wire(data.to_wire())
    assert again == data
    assert "start" in data.bound_names and "Point" not in data.bound_names
    assert dict(data.identifier_counts)["Point"] == 3  # the import and two uses


def collect(mode: str, root: Path) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = []
    done = threading.Event()

    def on_message(message: dict[str, object]) -> None:
        messages.append(message)
        if message["op"] == "analysis":
            done.set()

    worker = IndexWorker(on_message, mode)
    worker.start()
    try:
        worker.send({"op": "configure", "roots": [str(root)]})
        worker.send({"op": "scan", "id": 7})
        worker.send(
            {
                "op": "text",
                "key": "u",
                "version": 3,
                "path": str(root / "x.py"),
                "language_id": "python",
                "text": "def live():\n    pass\n",
            }
        )
        assert done.wait(20)
        deadline = time.monotonic() + 20
        while not any(m["op"] == "scan_done" for m in messages):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        worker.close()
    return messages


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_background_worker_modes(workspace: Path, mode: str) -> None:
    messages = collect(mode, workspace)
    files = {FileData.from_wire(m["data"]).path for m in messages if m["op"] == "file"}  # type: ignore[arg-type]
    assert str(workspace / "pkg/geometry.py") in files
    assert not any(p.endswith(".env") for p in files)
    (analysis,) = [m for m in messages if m["op"] == "analysis"]
    assert analysis["version"] == 3
    assert [s.name for s in FileData.from_wire(analysis["data"]).symbols] == ["live"]  # type: ignore[arg-type]
    done = [m for m in messages if m["op"] == "scan_done"]
    assert done[0]["id"] == 7 and done[0]["files"] == len(files)
