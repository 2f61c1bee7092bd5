"""Where generated tests go, how they reach the code, and how they join an existing test file.

Each language follows its ecosystem's convention: ``tests/test_<module>.py`` (pytest),
``<name>.test.ts`` next to the source (Jest/Vitest), ``<name>_test.go`` in the same package,
``tests/<name>.rs`` in the crate (Cargo integration tests), ``src/test/java/.../<Name>Test.java``
(Maven/Gradle layout), and so on.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node, Tree

from ..prompts.actions import TEST_FRAMEWORKS
from ..syntax.analysis import Import, imports
from ..workspace.files import FileRefused, WorkspaceFiles
from .edits import Hunk, apply_hunks, parse

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

TEST_NAME = re.compile(
    r"^(test_.*\.py|.*_test\.py|conftest\.py|.*\.(test|spec)\.[cm]?[jt]sx?|.*_test\.go"
    r"|.*Tests?\.(java|cs|php)|.*_spec\.(rb|lua)|test_.*\.rb|.*\.bats)$"
)
GO_PACKAGE = re.compile(r"^package\s+(\w+)", re.M)
JAVA_PACKAGE = re.compile(r"^package\s+([\w.]+)\s*;", re.M)
HEADER_NODES = frozenset({"package_clause", "package_declaration"})
# Blank lines between the existing tests and the appended ones.
SEPARATOR = {"python": "\n\n\n"}


@dataclass(frozen=True)
class TestTarget:
    path: Path
    framework: str
    import_hint: str


def is_test_file(path: str | None) -> bool:
    if not path:
        return False
    p = Path(path)
    return bool(TEST_NAME.match(p.name)) or (
        p.suffix in (".rs", ".c", ".cpp") and "tests" in p.parent.parts
    )


MAX_MANIFEST_BYTES = 1_000_000


def workspace_root(path: Path, roots: Sequence[str]) -> Path:
    """The (innermost) workspace root holding ``path``, else the file's directory."""
    best: Path | None = None
    for root in roots:
        candidate = Path(root)
        if path.is_relative_to(candidate) and (
            best is None or len(candidate.parts) > len(best.parts)
        ):
            best = candidate
    return best or path.parent


def test_files(source: Path, roots: Sequence[str]) -> WorkspaceFiles:
    """The gateway a test action reads and writes through: the workspace folders, or the
    source's own directory when it is in none (a file opened without a folder)."""
    root = workspace_root(source, roots)
    inside = any(source.is_relative_to(r) for r in roots)
    return WorkspaceFiles(roots if inside else [str(root)])


def read_manifest(path: Path, files: WorkspaceFiles) -> str | None:
    """A package.json or Cargo.toml, through the gateway; None when absent or refused."""
    try:
        return files.read_text(str(path), MAX_MANIFEST_BYTES)
    except FileRefused:
        return None


def nearest(path: Path, root: Path, marker: str) -> Path | None:
    """The closest directory from ``path`` up to ``root`` that holds ``marker``."""
    for directory in path.parents:
        if (directory / marker).exists():
            return directory
        if directory == root or root not in directory.parents:
            break
    return None


def python_module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts) if path.is_relative_to(root) else []
    parts = parts or [path.stem]
    if len(parts) > 1 and parts[0] in ("src", "lib"):
        parts = parts[1:]
    if len(parts) > 1 and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def js_framework(path: Path, root: Path, files: WorkspaceFiles) -> str:
    """Vitest when the nearest package.json depends on it, else Jest."""
    package_dir = nearest(path, root, "package.json")
    if package_dir is not None:
        try:
            manifest = json.loads(read_manifest(package_dir / "package.json", files) or "{}")
        except ValueError:
            manifest = {}
        if not isinstance(manifest, dict):
            manifest = {}
        deps = {
            **(manifest.get("dependencies") or {}),
            **(manifest.get("devDependencies") or {}),
        }
        if "vitest" in deps:
            return "Vitest (import { describe, it, expect } from 'vitest')"
    return "Jest (describe/it/expect are globals)"


def crate_name(crate_dir: Path, files: WorkspaceFiles) -> str | None:
    try:
        manifest = tomllib.loads(read_manifest(crate_dir / "Cargo.toml", files) or "")
    except tomllib.TOMLDecodeError:
        return None
    name = (manifest.get("package") or {}).get("name")
    return name.replace("-", "_") if isinstance(name, str) else None


def relative(target: Path, start: Path) -> str:
    """``target`` relative to directory ``start`` (with ../ as needed), POSIX style."""
    return Path(os.path.relpath(target, start)).as_posix()


def test_target(
    language_id: str,
    source: Path,
    roots: Sequence[str],
    text: str,
    name: str | None,
    *,
    details: bool = True,
) -> TestTarget | None:
    """Where tests for ``name`` in ``source`` go; None for languages without a convention.

    ``details=False`` skips reading manifests (package.json, Cargo.toml) for the framework and
    crate name: listing actions must stay instant.
    """
    root = workspace_root(source, roots)
    stem, what = source.stem, name or "the code"
    framework = TEST_FRAMEWORKS.get(language_id, "")
    if language_id == "python":
        module = python_module(source, root)
        hint = f"from {module} import {name}" if name else f"import {module}"
        return TestTarget(
            root / "tests" / f"test_{stem}.py", framework, f"Import it with `{hint}`."
        )
    if language_id in ("javascript", "javascriptreact", "typescript", "typescriptreact"):
        path = source.with_name(f"{stem}.test{source.suffix}")
        hint = f'Import {what} from "./{stem}".'
        framework = js_framework(source, root, test_files(source, roots)) if details else framework
        return TestTarget(path, framework, hint)
    if language_id == "go":
        match = GO_PACKAGE.search(text)
        package = match.group(1) if match else "main"
        hint = (
            f"Use `package {package}` (the same package, so unexported identifiers are visible) "
            'and import "testing".'
        )
        return TestTarget(source.with_name(f"{stem}_test.go"), framework, hint)
    if language_id == "rust":
        crate = nearest(source, root, "Cargo.toml")
        if crate is None:
            return TestTarget(source.with_name(f"{stem}_test.rs"), framework, "")
        crate_id = (
            crate_name(crate, test_files(source, roots)) if details else None
        ) or "crate_name"
        hint = (
            f"These are Cargo integration tests: they see the public API via `use {crate_id}::…`."
        )
        return TestTarget(crate / "tests" / f"{stem}.rs", framework, hint)
    if language_id == "java":
        match = JAVA_PACKAGE.search(text)
        hint = f"Put the test class in package {match.group(1)}." if match else ""
        posix = source.as_posix()
        if "/src/main/java/" in posix:
            source = Path(posix.replace("/src/main/java/", "/src/test/java/", 1))
        return TestTarget(source.with_name(f"{stem}Test.java"), framework, hint)
    if language_id in ("c", "cpp"):
        header = source.with_suffix(".h") if source.with_suffix(".h").exists() else source
        tests = root / "tests"
        ext = ".c" if language_id == "c" else ".cpp"
        hint = f'Include the code under test with #include "{relative(header, tests)}".'
        return TestTarget(tests / f"test_{stem}{ext}", framework, hint)
    if language_id == "csharp":
        return TestTarget(source.with_name(f"{stem}Tests.cs"), framework, "")
    if language_id == "ruby":
        spec = root / "spec"
        hint = f'Load the code with require_relative "{relative(source.with_suffix(""), spec)}".'
        return TestTarget(spec / f"{stem}_spec.rb", framework, hint)
    if language_id == "php":
        return TestTarget(root / "tests" / f"{stem[:1].upper()}{stem[1:]}Test.php", framework, "")
    if language_id == "lua":
        module = python_module(source, root)
        hint = f'Load the module with require("{module}").'
        return TestTarget(root / "spec" / f"{stem}_spec.lua", framework, hint)
    if language_id == "shellscript":
        tests = root / "test"
        hint = f'Load the script with source "$BATS_TEST_DIRNAME/{relative(source, tests)}".'
        return TestTarget(tests / f"{stem}.bats", framework, hint)
    return None


# ---- appending to an existing test file ---------------------------------------------------


def split_header(generated: str, language_id: str) -> tuple[list[Import], str]:
    """The generated code's leading imports, and the code after them (package clause dropped)."""
    tree = parse(generated, language_id)
    if tree is None:
        return [], generated
    source = generated.encode("utf-8", "surrogatepass")
    found = imports(tree, source, language_id=language_id)
    import_starts = {i.start_byte for i in found}
    body_start: Node | None = None
    pending_comment: Node | None = None
    for node in tree.root_node.named_children:
        if node.start_byte in import_starts or node.type in HEADER_NODES:
            pending_comment = None
            continue
        if "comment" in node.type:
            pending_comment = pending_comment or node
            continue
        body_start = pending_comment or node
        break
    if body_start is None:
        body_start = pending_comment
    cut = body_start.start_byte if body_start is not None else len(source)
    header = [i for i in found if i.start_byte < cut]
    if not header:
        return [], generated
    cut = source.rfind(b"\n", 0, cut) + 1  # keep the first body line's indentation
    return header, source[cut:].decode("utf-8", "replace")


def missing_imports(wanted: Sequence[Import], existing: Sequence[Import]) -> list[str]:
    """Import statements (as text) the existing file lacks. Python ``from m import a, b`` keeps
    only the new names and Go groups only the new paths, so nothing is imported twice."""
    known_text = {" ".join(i.text.split()) for i in existing}
    known = {n for i in existing for n in (*i.names, *i.modules)}
    out: list[str] = []
    for statement in wanted:
        if " ".join(statement.text.split()) in known_text:
            continue
        keys = statement.names or statement.modules
        if keys and all(k in known for k in keys):
            continue
        python_from = statement.text.startswith("from ") and len(statement.modules) == 1
        if python_from and " as " not in statement.text and "(" not in statement.text:
            names = [n for n in statement.names if n not in known]
            out.append(f"from {statement.modules[0]} import {', '.join(names)}")
            continue
        if statement.text.startswith("import (") and not statement.names:  # Go group
            specs = [
                line.strip()
                for line in statement.text.splitlines()[1:-1]
                if any(f'"{m}"' in line for m in statement.modules if m not in known)
            ]
            out.append(
                "import (\n\t" + "\n\t".join(specs) + "\n)"
                if len(specs) > 1
                else f"import {specs[0]}"
            )
            continue
        out.append(statement.text)
    return out


def imports_hunk(text: str, language_id: str, wanted: Sequence[Import]) -> Hunk | None:
    """An insertion of the ``wanted`` imports that ``text`` lacks, after its last import (or its
    package clause, or at the top); None when nothing is missing."""
    tree = parse(text, language_id)
    source = text.encode("utf-8", "surrogatepass")
    present = imports(tree, source, language_id=language_id) if tree is not None else []
    new_imports = missing_imports(wanted, present)
    if not new_imports:
        return None
    anchor, after_clause = _import_anchor(text, present, tree)
    block = "\n".join(new_imports) + "\n"
    if after_clause:
        block = "\n" + block  # "package x", blank line, imports
    elif anchor == 0 and text.strip():
        block += "\n"
    return Hunk(anchor, anchor, block)


def merge_tests(existing: str, generated: str, language_id: str) -> str:
    """The existing test file with the generated tests appended and their missing imports added
    after the file's last import (or its package clause)."""
    header, body = split_header(generated, language_id)
    hunk = imports_hunk(existing, language_id, header)
    text = apply_hunks(existing, [hunk]) if hunk is not None else existing
    separator = SEPARATOR.get(language_id, "\n\n")
    return text.rstrip("\n") + separator + body.strip("\n") + "\n"


def _import_anchor(existing: str, present: Sequence[Import], tree: Tree | None) -> tuple[int, bool]:
    """String offset of the line after the last import, else after the package clause (then
    True), else 0."""
    source = existing.encode("utf-8", "surrogatepass")
    end_byte = max((i.end_byte for i in present), default=None)
    after_clause = False
    if end_byte is None and tree is not None:
        clauses = [n for n in tree.root_node.named_children if n.type in HEADER_NODES]
        end_byte = clauses[0].end_byte if clauses else None
        after_clause = bool(clauses)
    if end_byte is None:
        return 0, False
    line_end = source.find(b"\n", end_byte)
    cut = len(source) if line_end < 0 else line_end + 1
    return len(source[:cut].decode("utf-8", "replace")), after_clause
