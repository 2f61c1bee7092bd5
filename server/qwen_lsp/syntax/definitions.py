"""Names in a tree through the tree-sitter queries (``queries/<grammar>.scm``): the definitions
and imports of a file (what the workspace indexer keeps) and the identifiers near a point (what
the context builder looks up)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from tree_sitter import Language, Node, Query, QueryCursor, Tree

from .node_types import NodeTypes
from .nodes import head_text, leaf_name, name_node, node_text, node_types_for, outer_node
from .queries import load_query

_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Kinds a more specific capture of the same node wins over.
_KIND_RANK = {"variable": 0, "field": 1, "type": 1, "constant": 1}


@dataclass(frozen=True, slots=True)
class Definition:
    """A named definition: function, method, class, struct, interface, constant..."""

    name: str
    kind: str
    signature: str  # text from the definition start to its body (or its first line)
    container: str | None  # enclosing class/impl/namespace name
    start_byte: int  # full range, decorators/export/template included
    end_byte: int
    start_line: int
    end_line: int
    name_start_byte: int
    name_end_byte: int
    node_type: str


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement with the names it binds and the modules it names, where easy."""

    text: str
    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    names: tuple[str, ...]
    modules: tuple[str, ...]


def _query(tree: Tree, table: NodeTypes, section: str) -> Query | None:
    return load_query(tree.language, table.query_file, section)


def _matches(query: Query, node: Node) -> Iterator[dict[str, list[Node]]]:
    for _pattern, captures in QueryCursor(query).matches(node):
        yield captures


def definitions(
    tree: Tree | None, source: bytes, *, language_id: str | None = None
) -> list[Definition]:
    """All definitions in the file, in source order."""
    table = node_types_for(tree, language_id)
    if tree is None or table is None:
        return []
    query = _query(tree, table, "definitions")
    if query is None:
        return []
    # keyed by (definition node, name node): ``var x, y`` defines two names with one node
    chosen: dict[tuple[int, int], tuple[str, Node, Node | None]] = {}
    for captures in _matches(query, tree.root_node):
        for capture, nodes in captures.items():
            if not capture.startswith("definition."):
                continue
            kind, node = capture.split(".", 1)[1], nodes[0]
            name = captures["name"][0] if "name" in captures else None
            key = (node.id, name.id if name is not None else -1)
            previous = chosen.get(key)
            if previous is None or _KIND_RANK.get(kind, 2) > _KIND_RANK.get(previous[0], 2):
                chosen[key] = (kind, node, name)
    out = [_definition(kind, node, name, source, table) for kind, node, name in chosen.values()]
    result = [d for d in out if d is not None]
    result.sort(key=lambda d: (d.start_byte, d.name_start_byte))
    return result


def _container(node: Node, source: bytes, table: NodeTypes) -> tuple[str | None, str | None]:
    """(name, kind) of the nearest enclosing named scope."""
    parent = node.parent
    while parent is not None:
        if parent.type in table.scopes:
            name = name_node(parent)
            if name is not None:
                return leaf_name(name, source)[0], table.scopes[parent.type]
        parent = parent.parent
    return None, None


def _table_qualifier(name_at: Node, node: Node, source: bytes) -> str | None:
    """Container named outside the nesting: Lua ``function M.g()``, Go ``func (s *S) m()``."""
    receiver = node.child_by_field_name("receiver") if node.type == "method_declaration" else None
    if receiver is not None:
        types = [n for n in _descendants(receiver) if n.type == "type_identifier"]
        return node_text(types[0], source) if types else None
    parent = name_at.parent
    if parent is not None and parent.id != node.id and parent.type.endswith("index_expression"):
        table = parent.child_by_field_name("table")
        return node_text(table, source) or None
    return None


def _descendants(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.named_children))


def _end_line(node: Node, source: bytes) -> int:
    """Last row of ``node``, not counting a trailing newline some nodes (#define) include."""
    row = node.end_point[0]
    if row > node.start_point[0] and node.end_point[1] == 0:
        return row - 1
    return row


def _definition(
    kind: str, node: Node, name_at: Node | None, source: bytes, table: NodeTypes
) -> Definition | None:
    if name_at is None:
        name_at = name_node(node)
    if name_at is None:
        return None
    name, qualifier = leaf_name(name_at, source)
    if not name:
        return None
    container, container_kind = _container(node, source, table)
    qualifier = qualifier or _table_qualifier(name_at, node, source)
    if qualifier:
        container = qualifier
    if kind == "function" and (container_kind in table.containers or qualifier):
        kind = "method"
    if kind == "variable" and _CONSTANT_NAME.match(name):
        kind = "constant"
    outer = outer_node(node, table)
    return Definition(
        name=name,
        kind=kind,
        signature=head_text(outer, node, table, source, outer.start_byte),
        container=container,
        start_byte=outer.start_byte,
        end_byte=outer.end_byte,
        start_line=outer.start_point[0],
        end_line=_end_line(outer, source),
        name_start_byte=name_at.start_byte,
        name_end_byte=name_at.end_byte,
        node_type=node.type,
    )


def imports(tree: Tree | None, source: bytes, *, language_id: str | None = None) -> list[Import]:
    """Import statements in source order, with the names/modules they mention where easy."""
    table = node_types_for(tree, language_id)
    if tree is None or table is None:
        return []
    query = _query(tree, table, "imports")
    if query is None:
        return []
    statements: dict[int, Node] = {}
    parts: list[tuple[str, Node]] = []
    for capture, nodes in QueryCursor(query).captures(tree.root_node).items():
        for node in nodes:
            if capture == "import":
                statements[node.id] = node
            elif capture in ("import.name", "import.module"):
                parts.append((capture, node))
    ordered = sorted(statements.values(), key=lambda n: (n.start_byte, -n.end_byte))
    names: dict[int, list[tuple[int, str]]] = {n.id: [] for n in ordered}
    modules: dict[int, list[tuple[int, str]]] = {n.id: [] for n in ordered}
    for capture, node in parts:
        owner = _owner(ordered, node)
        if owner is not None:
            bucket = names if capture == "import.name" else modules
            bucket[owner.id].append((node.start_byte, node_text(node, source)))
    return [
        Import(
            text=node_text(n, source).rstrip(),
            start_byte=n.start_byte,
            end_byte=n.end_byte,
            start_line=n.start_point[0],
            end_line=_end_line(n, source),
            names=_unique(names[n.id]),
            modules=_unique(modules[n.id]),
        )
        for n in ordered
    ]


def _owner(statements: list[Node], node: Node) -> Node | None:
    """The innermost import statement containing ``node``."""
    best: Node | None = None
    for statement in statements:
        inside = statement.start_byte <= node.start_byte and node.end_byte <= statement.end_byte
        if inside and (best is None or statement.end_byte < best.end_byte):
            best = statement
    return best


def _unique(items: list[tuple[int, str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for _pos, text in sorted(items):
        seen.setdefault(text, None)
    return tuple(seen)


@cache
def _identifier_query(language: Language, types: frozenset[str]) -> Query | None:
    valid = sorted(t for t in types if language.id_for_node_kind(t, True))
    if not valid:
        return None
    return Query(language, "[" + " ".join(f"({t})" for t in valid) + "] @id")


def identifiers_near(
    tree: Tree | None,
    source: bytes,
    byte: int,
    before_lines: int = 20,
    after_lines: int = 5,
    *,
    min_length: int = 2,
    language_id: str | None = None,
    row: int | None = None,
) -> list[str]:
    """Identifier names used within the given lines around ``byte``, nearest first, deduplicated,
    keywords and names shorter than ``min_length`` left out. ``row`` is the line of ``byte`` when
    the caller knows it (counting newlines in a big source costs tens of µs)."""
    table = node_types_for(tree, language_id)
    if tree is None or table is None:
        return []
    query = _identifier_query(tree.language, table.identifiers)
    if query is None:
        return []
    if row is None:
        row = source.count(b"\n", 0, max(0, min(byte, len(source))))
    cursor = QueryCursor(query)
    cursor.set_point_range((max(0, row - before_lines), 0), (row + after_lines + 1, 0))
    # Nearest occurrence per name, on raw bytes: only the distinct names get decoded.
    nearest: dict[bytes, tuple[int, int]] = {}
    for node in cursor.captures(tree.root_node).get("id", ()):
        start, end = node.start_byte, node.end_byte
        if end - start < min_length:
            continue
        distance = 0 if start <= byte <= end else min(abs(start - byte), abs(end - byte))
        name = source[start:end]
        seen = nearest.get(name)
        if seen is None or (distance, start) < seen:
            nearest[name] = (distance, start)
    names = (raw.decode("utf-8", "replace") for raw in sorted(nearest, key=nearest.__getitem__))
    return [name for name in names if len(name) >= min_length and name not in table.keywords]
