"""Workspace symbol index: name -> definitions (path, kind, container, byte/line ranges).

Built from the tree-sitter definition queries (``syntax.analysis.definitions``). The analysis of
one file (:func:`analyze_source`) is a pure function run by the background worker
(``context/worker.py``); this module's :class:`WorkspaceIndex` only stores the results and answers
lookups, so a request never parses anything. Symbols carry ranges, not text: snippet text is read
back from the file (or the open document's snapshot) when a snippet is rendered, which keeps the
index small (about 200 bytes per symbol).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from tree_sitter import Language, Parser, Query, QueryCursor, Tree

from ..syntax.analysis import definitions, imports, table_for_tree
from ..syntax.languages import get_language, language_id_for
from .bindings import local_bindings

log = logging.getLogger(__name__)

# A generated file with thousands of definitions must not crowd out the rest of the workspace.
MAX_SYMBOLS_PER_FILE = 2000
# Kinds that contain members: a class skeleton lists them, a method snippet shows their header.
CONTAINER_KINDS = frozenset(
    {"class", "struct", "interface", "trait", "impl", "enum", "union", "namespace", "module"}
)
# Languages that see each other's definitions (a C++ file includes C headers, TS imports JS).
LANGUAGE_FAMILY = {
    "c": "c",
    "cpp": "c",
    "javascript": "js",
    "javascriptreact": "js",
    "typescript": "js",
    "typescriptreact": "js",
}
# Trailing path parts that name their directory's module (``pkg/__init__.py`` is ``pkg``).
PACKAGE_FILES = frozenset({"__init__", "index", "mod", "lib", "main"})
# Extensions an import string may spell out (``#include "util.h"``, ``from "./x.js"``).
SOURCE_EXTENSIONS = frozenset(
    {"h", "hpp", "hh", "hxx", "js", "ts", "tsx", "jsx", "py", "rs", "go", "mjs", "cjs"}
)


def family(language_id: str) -> str:
    return LANGUAGE_FAMILY.get(language_id, language_id)


@dataclass(frozen=True, slots=True)
class Symbol:
    """One definition in one file. Byte offsets are UTF-8, lines 0-based."""

    name: str
    kind: str
    path: str
    container: str | None
    start_byte: int
    end_byte: int
    sig_end_byte: int  # end of the signature (header up to the body)
    start_line: int
    end_line: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.path, self.start_byte)


@dataclass(frozen=True, slots=True)
class ImportInfo:
    text: str
    start_line: int
    end_line: int
    names: tuple[str, ...]
    modules: tuple[str, ...]


@dataclass(frozen=True)
class FileData:
    """What the worker reports for one file (plain data: it crosses a process boundary)."""

    path: str
    language_id: str
    mtime_ns: int
    size: int
    symbols: tuple[Symbol, ...]
    imports: tuple[ImportInfo, ...] = ()
    identifier_counts: tuple[tuple[str, int], ...] = ()
    bound_names: frozenset[str] = frozenset()  # locals, parameters... (open documents only)
    # Modules whose names this file re-exports wholesale (``from m import *``, ``export * from``)
    star_modules: tuple[str, ...] = ()

    def to_wire(self) -> dict[str, object]:
        return {
            "path": self.path,
            "language_id": self.language_id,
            "mtime_ns": self.mtime_ns,
            "size": self.size,
            "symbols": [
                [
                    s.name,
                    s.kind,
                    s.container,
                    s.start_byte,
                    s.end_byte,
                    s.sig_end_byte,
                    s.start_line,
                    s.end_line,
                ]
                for s in self.symbols
            ],
            "imports": [
                [i.text, i.start_line, i.end_line, list(i.names), list(i.modules)]
                for i in self.imports
            ],
            "identifier_counts": [list(pair) for pair in self.identifier_counts],
            "bound_names": sorted(self.bound_names),
            "star_modules": list(self.star_modules),
        }

    @classmethod
    def from_wire(cls, data: dict[str, object]) -> FileData:
        path = str(data["path"])
        intern = sys.intern
        symbols = tuple(
            Symbol(intern(n), intern(k), path, intern(c) if c else None, sb, eb, se, sl, el)
            for n, k, c, sb, eb, se, sl, el in data.get("symbols", ())  # type: ignore[union-attr]
        )
        imports_ = tuple(
            ImportInfo(t, sl, el, tuple(ns), tuple(ms))
            for t, sl, el, ns, ms in data.get("imports", ())  # type: ignore[union-attr]
        )
        counts = tuple((str(n), int(c)) for n, c in data.get("identifier_counts", ()))  # type: ignore[union-attr]
        return cls(
            path=path,
            language_id=str(data["language_id"]),
            mtime_ns=int(data.get("mtime_ns", 0)),  # type: ignore[arg-type]
            size=int(data.get("size", 0)),  # type: ignore[arg-type]
            symbols=symbols,
            imports=imports_,
            identifier_counts=counts,
            bound_names=frozenset(str(n) for n in data.get("bound_names", ())),  # type: ignore[union-attr]
            star_modules=tuple(str(m) for m in data.get("star_modules", ())),  # type: ignore[union-attr]
        )


# --------------------------------------------------------------------------------------------
# Analysing one file (runs in the worker)


def indexable_language(path: str) -> str | None:
    """The canonical language of a file we can index (has a grammar), else None."""
    language_id = language_id_for(None, path)
    return language_id if get_language(language_id) is not None else None


@cache
def _parser(language: Language) -> Parser:
    return Parser(language)


def parse(source: bytes, language_id: str) -> Tree | None:
    language = get_language(language_id)
    if language is None:
        return None
    return _parser(language).parse(source)


def analyze_source(
    path: str,
    source: bytes,
    language_id: str,
    *,
    mtime_ns: int = 0,
    with_imports: bool = False,
    with_identifiers: bool = False,
    tree: Tree | None = None,
) -> FileData:
    """Definitions (and, for open documents, imports and identifier counts) of one file."""
    tree = tree if tree is not None else parse(source, language_id)
    symbols: list[Symbol] = []
    if tree is not None:
        for d in definitions(tree, source, language_id=language_id)[:MAX_SYMBOLS_PER_FILE]:
            sig_end = min(d.end_byte, d.start_byte + len(d.signature.encode("utf-8")))
            symbols.append(
                Symbol(
                    d.name,
                    d.kind,
                    path,
                    d.container,
                    d.start_byte,
                    d.end_byte,
                    sig_end,
                    d.start_line,
                    d.end_line,
                )
            )
    found_imports: tuple[ImportInfo, ...] = ()
    if with_imports and tree is not None:
        found_imports = tuple(
            ImportInfo(i.text, i.start_line, i.end_line, i.names, i.modules)
            for i in imports(tree, source, language_id=language_id)
        )
    counts: tuple[tuple[str, int], ...] = ()
    bound: frozenset[str] = frozenset()
    if with_identifiers and tree is not None:
        counts = tuple(identifier_counts(tree, source, language_id).most_common(2000))
        bound = local_bindings(tree, source, language_id)
    return FileData(
        path=path,
        language_id=language_id,
        mtime_ns=mtime_ns,
        size=len(source),
        symbols=tuple(symbols),
        imports=found_imports,
        identifier_counts=counts,
        bound_names=bound,
        star_modules=star_modules(source),
    )


_STAR_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import[ \t]+\*"
    rb"|export[ \t]+\*[ \t]+from[ \t]+[\"']([^\"']+)[\"'])",
    re.M,
)


def star_modules(source: bytes) -> tuple[str, ...]:
    """Modules re-exported wholesale: a name imported from this module may live there."""
    found = []
    for match in _STAR_IMPORT.finditer(source):
        module = (match.group(1) or match.group(2) or b"").decode("utf-8", "replace")
        if module and module not in found:
            found.append(module)
    return tuple(found[:16])


@cache
def _identifier_query(language: Language, types: frozenset[str]) -> Query | None:
    valid = sorted(t for t in types if language.id_for_node_kind(t, True))
    if not valid:
        return None
    return Query(language, "[" + " ".join(f"({t})" for t in valid) + "] @id")


def identifier_counts(tree: Tree, source: bytes, language_id: str) -> Counter[str]:
    """How often each identifier occurs in the whole file (keywords left out)."""
    table = table_for_tree(tree, language_id)
    counts: Counter[str] = Counter()
    if table is None:
        return counts
    query = _identifier_query(tree.language, table.identifiers)
    if query is None:
        return counts
    for node in QueryCursor(query).captures(tree.root_node).get("id", []):
        name = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
        if len(name) > 1 and name not in table.keywords:
            counts[name] += 1
    return counts


# --------------------------------------------------------------------------------------------
# Module paths (import resolution)


def module_parts(path: str, root: str | None = None) -> tuple[str, ...]:
    """The module name of a file as path parts: ``pkg/sub/__init__.py`` -> (pkg, sub)."""
    rel = os.path.relpath(path, root) if root else path
    parts = [p for p in rel.replace("\\", "/").split("/") if p and p != "."]
    if not parts:
        return ()
    stem = parts[-1].split(".", 1)[0]
    parts[-1] = stem
    if stem in PACKAGE_FILES and len(parts) > 1:
        parts.pop()
    return tuple(parts)


def import_parts(module: str) -> tuple[int, tuple[str, ...]]:
    """(relative depth, parts) of an import string.

    ``.x`` -> (1, (x,)); ``..a.b`` -> (2, (a, b)); ``./u/h`` -> (1, (u, h)); ``../x`` -> (2,
    (x,)); ``a::b::C`` -> (0, (a, b, C)); ``"pkg/util.h"`` -> (0, (pkg, util)).
    """
    text = module.strip().strip("\"'<>`")
    if not text:
        return 0, ()
    if text.startswith(("./", "../")) or text in (".", ".."):
        depth = 1
        pieces = text.split("/")
        parts: list[str] = []
        for piece in pieces:
            if piece == "..":
                depth += 1
            elif piece and piece != ".":
                parts.append(piece)
        if parts and "." in parts[-1]:
            stem, ext = parts[-1].rsplit(".", 1)
            if ext in SOURCE_EXTENSIONS:
                parts[-1] = stem
        return depth, tuple(parts)
    dots = len(text) - len(text.lstrip("."))
    text = text[dots:]
    for separator in ("::", "/", "\\"):
        text = text.replace(separator, ".")
    parts_ = tuple(p for p in text.split(".") if p and p not in ("crate", "self", "super"))
    return dots, _strip_suffix(parts_)


def _strip_suffix(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Drop a file extension from the last part (``util.h`` arrived as (util, h))."""
    if len(parts) >= 2 and parts[-1] in SOURCE_EXTENSIONS:
        return parts[:-1]
    return parts


# --------------------------------------------------------------------------------------------
# The index


@dataclass
class FileEntry:
    path: str
    language_id: str
    mtime_ns: int
    size: int
    symbols: tuple[Symbol, ...]
    module: tuple[str, ...]
    star_modules: tuple[str, ...] = ()


@dataclass
class IndexStats:
    files: int = 0
    symbols: int = 0
    scans_done: int = 0
    dropped_files: int = 0  # refused by the symbol bound
    ready: bool = False
    extra: dict[str, float] = field(default_factory=dict)


class WorkspaceIndex:
    """Thread-safe store of :class:`FileData` for the workspace, looked up by name and module."""

    def __init__(self, roots: Sequence[str] = (), max_symbols: int = 400_000):
        self.roots = [os.path.realpath(r) for r in roots if r]
        self.max_symbols = max_symbols
        self._lock = threading.Lock()
        self._files: dict[str, FileEntry] = {}
        self._by_name: dict[str, dict[str, tuple[Symbol, ...]]] = {}
        self._by_module_tail: dict[str, set[str]] = {}
        self._by_dir: dict[str, set[str]] = {}
        self._symbol_count = 0
        self.stats = IndexStats()
        self.generation = 0  # bumped on every change; cheap staleness check for caches

    # ---- updates

    def root_of(self, path: str) -> str | None:
        for root in sorted(self.roots, key=len, reverse=True):
            if path == root or path.startswith(root.rstrip("/") + "/"):
                return root
        return None

    def put(self, data: FileData) -> bool:
        """Add or replace one file; False when the symbol bound refuses it."""
        module = module_parts(data.path, self.root_of(data.path))
        with self._lock:
            old = self._files.get(data.path)
            old_count = len(old.symbols) if old else 0
            if self._symbol_count - old_count + len(data.symbols) > self.max_symbols:
                self.stats.dropped_files += 1
                return False
            if old is not None:
                self._remove_locked(old)
            entry = FileEntry(
                data.path,
                data.language_id,
                data.mtime_ns,
                data.size,
                data.symbols,
                module,
                data.star_modules,
            )
            self._files[data.path] = entry
            grouped: dict[str, list[Symbol]] = {}
            for symbol in data.symbols:
                grouped.setdefault(symbol.name, []).append(symbol)
            for name, symbols in grouped.items():
                self._by_name.setdefault(name, {})[data.path] = tuple(symbols)
            if module:
                self._by_module_tail.setdefault(module[-1], set()).add(data.path)
            self._by_dir.setdefault(os.path.dirname(data.path), set()).add(data.path)
            self._symbol_count += len(data.symbols)
            self._touch_locked()
        return True

    def remove(self, path: str) -> None:
        with self._lock:
            entry = self._files.get(path)
            if entry is not None:
                self._remove_locked(entry)
                self._touch_locked()

    def _remove_locked(self, entry: FileEntry) -> None:
        del self._files[entry.path]
        for name in {s.name for s in entry.symbols}:
            by_path = self._by_name.get(name)
            if by_path is not None:
                by_path.pop(entry.path, None)
                if not by_path:
                    del self._by_name[name]
        if entry.module:
            tails = self._by_module_tail.get(entry.module[-1])
            if tails is not None:
                tails.discard(entry.path)
        siblings = self._by_dir.get(os.path.dirname(entry.path))
        if siblings is not None:
            siblings.discard(entry.path)
        self._symbol_count -= len(entry.symbols)

    def _touch_locked(self) -> None:
        self.generation += 1
        self.stats.files = len(self._files)
        self.stats.symbols = self._symbol_count

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._by_name.clear()
            self._by_module_tail.clear()
            self._by_dir.clear()
            self._symbol_count = 0
            self._touch_locked()

    # ---- queries

    def __len__(self) -> int:
        return len(self._files)

    def entry(self, path: str) -> FileEntry | None:
        return self._files.get(path)

    def paths(self) -> list[str]:
        with self._lock:
            return list(self._files)

    def lookup(self, name: str) -> list[Symbol]:
        """Every definition of ``name`` (all files)."""
        with self._lock:
            by_path = self._by_name.get(name)
            if not by_path:
                return []
            return [s for symbols in by_path.values() for s in symbols]

    def count(self, name: str) -> int:
        """In how many files ``name`` is defined (its ambiguity)."""
        by_path = self._by_name.get(name)
        return len(by_path) if by_path else 0

    def members(self, container: Symbol) -> list[Symbol]:
        """Symbols of the same file inside ``container``'s range, in source order."""
        entry = self._files.get(container.path)
        if entry is None:
            return []
        return members_of(container, entry.symbols)

    def enclosing(self, symbol: Symbol) -> Symbol | None:
        """The innermost container symbol whose range holds ``symbol`` (a method's class)."""
        entry = self._files.get(symbol.path)
        return enclosing_container(symbol, entry.symbols) if entry else None

    def resolve_import(self, current_path: str, module: str, follow_stars: int = 2) -> list[str]:
        """Indexed files an import string may refer to (module files and package members),
        plus the modules they re-export with ``*`` (up to ``follow_stars`` levels)."""
        found = self._resolve(current_path, module)
        frontier = list(found)
        for _level in range(follow_stars):
            nxt: list[str] = []
            for path in frontier:
                entry = self._files.get(path)
                for star in entry.star_modules if entry is not None else ():
                    for target in self._resolve(path, star):
                        if target not in found:
                            found.append(target)
                            nxt.append(target)
            frontier = nxt
        return found

    def _resolve(self, current_path: str, module: str) -> list[str]:
        depth, parts = import_parts(module)
        if not parts and depth == 0:
            return []
        if depth:
            base = os.path.dirname(current_path)
            for _ in range(depth - 1):
                base = os.path.dirname(base)
            return self._files_under(base, parts)
        return self._files_by_module(parts, path_like="/" in module)

    def _files_under(self, base: str, parts: tuple[str, ...]) -> list[str]:
        """Relative import: the module file or package, or the file holding the imported item."""
        found: list[str] = []
        for cut in (len(parts), len(parts) - 1):
            if cut < 0:
                continue
            target = os.path.join(base, *parts[:cut]) if cut else base
            for path in self._module_candidates(target):
                if path not in found:
                    found.append(path)
            if found:
                break
        return found

    def _module_candidates(self, target: str) -> list[str]:
        """``target.py`` (any extension) or ``target/__init__.py``-like package files."""
        stem = os.path.basename(target)
        with self._lock:
            siblings = list(self._by_dir.get(os.path.dirname(target), ()))
            inside = list(self._by_dir.get(target, ()))
        found = [p for p in siblings if os.path.basename(p).split(".", 1)[0] == stem]
        found += [p for p in inside if os.path.basename(p).split(".", 1)[0] in PACKAGE_FILES]
        return sorted(found)

    def _files_by_module(self, parts: tuple[str, ...], path_like: bool = False) -> list[str]:
        """Absolute import: files whose module path ends with the import's parts (or, for item
        imports such as ``a.b.Item``, with all but the last part); Go-style package imports
        match every file of the directory."""
        for cut in (len(parts), len(parts) - 1):
            if cut <= 0:
                continue
            wanted = parts[:cut]
            with self._lock:
                candidates = list(self._by_module_tail.get(wanted[-1], ()))
                entries = [self._files[p] for p in candidates if p in self._files]
            matching = [e for e in entries if e.module[-len(wanted) :] == wanted]
            # ``import functools`` means the top-level module, not ``anyio/functools.py``.
            exact = [e for e in matching if e.module == wanted]
            found = sorted(e.path for e in (exact or matching))
            if not found:
                found = self._files_in_dir(wanted)
            if found:
                return found
        # Go-style module paths (``example.com/proj/util``): the leading parts name the module,
        # not directories; the package is the directory ending with the trailing parts.
        for start in range(1, len(parts) if path_like else 0):
            found = self._files_in_dir(parts[start:])
            if found:
                return found
        return []

    def _files_in_dir(self, wanted: tuple[str, ...]) -> list[str]:
        suffix = "/" + "/".join(wanted)
        with self._lock:
            dirs = [d for d in self._by_dir if d.endswith(suffix)]
            return sorted(p for d in dirs for p in self._by_dir[d])


def members_of(container: Symbol, symbols: Iterable[Symbol]) -> list[Symbol]:
    return [
        s
        for s in symbols
        if s is not container
        and container.start_byte <= s.start_byte
        and s.end_byte <= container.end_byte
        and s.key != container.key
    ]


def enclosing_container(symbol: Symbol, symbols: Iterable[Symbol]) -> Symbol | None:
    best: Symbol | None = None
    for s in symbols:
        if (
            s.kind in CONTAINER_KINDS
            and s.key != symbol.key
            and s.start_byte <= symbol.start_byte
            and symbol.end_byte <= s.end_byte
            and (best is None or s.start_byte >= best.start_byte)
        ):
            best = s
    return best
