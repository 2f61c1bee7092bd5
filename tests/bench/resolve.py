"""Ground truth for the context benchmark: which definition a Python identifier refers to.

A small static resolver, written for the benchmark and independent of the context engine's
retrieval: it follows ``from m import n`` (through package re-exports), ``module.attr`` for
imported workspace modules, ``self.attr`` / ``cls.attr`` through the enclosing class's workspace
base classes, and otherwise accepts a name only when exactly one workspace file defines it.
Anything else (an attribute of an object of unknown type with several candidate definitions,
a builtin, a local) has no attributable definition and is not scored.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from qwen_lsp.context.index import Symbol, WorkspaceIndex, parse

MAX_DEPTH = 4


@dataclass(frozen=True)
class Imports:
    modules: dict[str, str]  # alias -> dotted module (``import a.b as c``)
    names: dict[str, tuple[str, str]]  # alias -> (module spec with leading dots, name)
    stars: list[str]  # ``from m import *`` module specs


def _text(node: Node | None, source: bytes) -> str:
    return (
        "" if node is None else source[node.start_byte : node.end_byte].decode("utf-8", "replace")
    )


def imports_of(root: Node, source: bytes) -> Imports:
    modules: dict[str, str] = {}
    names: dict[str, tuple[str, str]] = {}
    stars: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type == "import_statement":
            for child in node.named_children:
                if child.type == "dotted_name":
                    dotted = _text(child, source)
                    modules[dotted.split(".")[0]] = dotted.split(".")[0]
                elif child.type == "aliased_import":
                    modules[_text(child.child_by_field_name("alias"), source)] = _text(
                        child.child_by_field_name("name"), source
                    )
        elif node.type == "import_from_statement":
            module = _text(node.child_by_field_name("module_name"), source)
            if any(c.type == "wildcard_import" for c in node.children):
                stars.append(module)
            for child in node.children_by_field_name("name"):
                if child.type == "aliased_import":
                    original = _text(child.child_by_field_name("name"), source)
                    alias = _text(child.child_by_field_name("alias"), source)
                else:
                    original = alias = _text(child, source)
                names[alias] = (module, original.split(".")[-1])
    return Imports(modules, names, stars)


class Resolver:
    def __init__(self, root: Path, index: WorkspaceIndex, read: Callable[[str], bytes]):
        self.root = root
        self.index = index
        self.read = read
        self._imports: dict[str, Imports] = {}
        self._trees: dict[str, Node] = {}

    # ---- files and modules

    def module_file(self, current: str, spec: str) -> str | None:
        level = len(spec) - len(spec.lstrip("."))
        parts = [p for p in spec.lstrip(".").split(".") if p]
        base = Path(current).parent if level else self.root
        for _ in range(max(0, level - 1)):
            base = base.parent
        target = base.joinpath(*parts) if parts else base
        for candidate in (target.with_suffix(".py"), target / "__init__.py"):
            if self.index.entry(str(candidate)) is not None:
                return str(candidate)
        return None

    def tree(self, path: str) -> Node:
        if path not in self._trees:
            tree = parse(self.read(path), "python")
            assert tree is not None
            self._trees[path] = tree.root_node
        return self._trees[path]

    def imports(self, path: str) -> Imports:
        if path not in self._imports:
            self._imports[path] = imports_of(self.tree(path), self.read(path))
        return self._imports[path]

    # ---- definitions

    def top_level(self, path: str, name: str, depth: int = 0) -> Symbol | None:
        """``name`` defined at the top of module ``path``, following re-exports."""
        entry = self.index.entry(path)
        if entry is None or depth > MAX_DEPTH:
            return None
        for symbol in entry.symbols:
            if symbol.name == name and symbol.container is None:
                return symbol
        imports = self.imports(path)
        if name in imports.names:
            spec, original = imports.names[name]
            found = self.module_file(path, spec)
            return None if found is None else self.top_level(found, original, depth + 1)
        for spec in imports.stars:
            found = self.module_file(path, spec)
            if found is not None:
                symbol = self.top_level(found, name, depth + 1)
                if symbol is not None:
                    return symbol
        return None

    def member(self, cls: Symbol, name: str, depth: int = 0) -> Symbol | None:
        """``name`` defined in class ``cls`` or its workspace base classes."""
        entry = self.index.entry(cls.path)
        if entry is None or depth > MAX_DEPTH:
            return None
        for symbol in entry.symbols:
            if (
                symbol.name == name
                and symbol.container == cls.name
                and cls.start_byte <= symbol.start_byte <= cls.end_byte
            ):
                return symbol
        for base in self.bases(cls):
            found = self.member(base, name, depth + 1)
            if found is not None:
                return found
        return None

    def bases(self, cls: Symbol) -> list[Symbol]:
        node = self.tree(cls.path).descendant_for_byte_range(cls.start_byte, cls.start_byte)
        while node is not None and node.type not in ("class_definition", "decorated_definition"):
            node = node.parent
        if node is not None and node.type == "decorated_definition":
            node = node.child_by_field_name("definition")
        if node is None or node.type != "class_definition":
            return []
        superclasses = node.child_by_field_name("superclasses")
        if superclasses is None:
            return []
        found = []
        for arg in superclasses.named_children:
            symbol = self.expression(cls.path, arg)
            if symbol is not None and symbol.kind == "class":
                found.append(symbol)
        return found

    def expression(self, path: str, node: Node) -> Symbol | None:
        """The definition a name or ``module.name`` expression in ``path`` stands for."""
        source = self.read(path)
        if node.type == "identifier":
            name = _text(node, source)
            return self.top_level(path, name)
        if node.type == "attribute":
            owner = node.child_by_field_name("object")
            attr = _text(node.child_by_field_name("attribute"), source)
            if owner is not None and owner.type == "identifier":
                module = self.imports(path).modules.get(_text(owner, source))
                found = self.module_file(path, module) if module else None
                if found is not None:
                    return self.top_level(found, attr)
        return None

    def enclosing_class(self, path: str, byte: int, source: bytes) -> Symbol | None:
        node = self.tree(path).descendant_for_byte_range(byte, byte)
        while node is not None and node.type != "class_definition":
            node = node.parent
        if node is None:
            return None
        name = _text(node.child_by_field_name("name"), source)
        entry = self.index.entry(path)
        if entry is None:
            return None
        return next(
            (
                s
                for s in entry.symbols
                if s.name == name
                and s.kind == "class"
                and s.start_byte <= node.start_byte <= s.end_byte
            ),
            None,
        )

    # ---- identifiers in a span

    def resolve(self, path: str, node: Node, source: bytes, span_start: int) -> Symbol | None:
        """The workspace definition (in another file) ``node`` refers to, or None."""
        name = _text(node, source)
        parent = node.parent
        symbol: Symbol | None = None
        if (
            parent is not None
            and parent.type == "attribute"
            and (parent.child_by_field_name("attribute") == node)
        ):
            owner = parent.child_by_field_name("object")
            owner_name = _text(owner, source) if owner is not None else ""
            if owner is not None and owner.type == "identifier" and owner_name in ("self", "cls"):
                cls = self.enclosing_class(path, span_start, source)
                symbol = self.member(cls, name) if cls is not None else None
            elif (
                owner is not None
                and owner.type == "identifier"
                and (owner_name in self.imports(path).modules)
            ):
                symbol = self.expression(path, parent)
            else:
                symbol = self.unique(name, path)
        elif name in self.imports(path).modules:
            return None  # a module: its "definition" is the whole file
        elif name in self.imports(path).names:
            symbol = self.top_level(path, name)
        else:
            symbol = self.unique(name, path)
        if symbol is None or os.path.samefile(symbol.path, path):
            return None
        return symbol

    def unique(self, name: str, current: str) -> Symbol | None:
        """The definition of ``name`` when exactly one other workspace file has one."""
        symbols = [s for s in self.index.lookup(name) if s.path != current]
        if len({s.path for s in symbols}) != 1:
            return None
        return symbols[0] if len(symbols) == 1 else None
