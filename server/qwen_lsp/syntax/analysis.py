"""Pure syntax questions about a tree: enclosing scopes, definitions, imports, nearby names,
errors, string/comment context.

All functions take a ``tree_sitter.Tree`` and its UTF-8 ``source``; byte offsets are UTF-8 and line
numbers are tree-sitter rows (0-based, split at ``\\n``; equal to LSP lines unless the text uses
lone ``\\r`` line endings). A tree whose language we have no tables for yields empty results.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache

from tree_sitter import Language, Node, Query, QueryCursor, Tree

from qwen_lsp.syntax.languages import SPECS, get_language
from qwen_lsp.syntax.queries import load_query
from qwen_lsp.syntax.tables import TABLES, SyntaxTable

MAX_SIGNATURE_CHARS = 400
_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# A node wrapping only this definition (``const f = () => {}``) belongs to its text.
_SINGLE_WRAPPERS = frozenset(
    {"lexical_declaration", "variable_declaration", "expression_statement"}
)
# Declarator chains (C/C++) end in one of these.
_DECLARATOR_NAMES = frozenset(
    {
        "identifier",
        "field_identifier",
        "type_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "namespace_identifier",
    }
)
# Parents that give an anonymous function or class its name (``const f = () => ...``).
_NAMING_PARENTS = {
    "variable_declarator": "name",
    "assignment": "left",
    "assignment_expression": "left",
    "pair": "key",
    "public_field_definition": "name",
    "field_definition": "property",
    "init_declarator": "declarator",
}
_CLOSERS = frozenset({"}", "end", ")", "]", "fi", "done", "esac"})
# Kinds a more specific capture of the same node wins over.
_KIND_RANK = {"variable": 0, "field": 1, "type": 1, "constant": 1}


@dataclass(frozen=True, slots=True)
class Scope:
    """A block-introducing construct around a position (function, class, impl, namespace...)."""

    kind: str
    name: str | None
    header: str  # whole lines from the construct's start up to its body ("def f(x):", "int f() {")
    node_type: str
    start_byte: int
    end_byte: int
    body_start_byte: int | None
    start_line: int
    end_line: int


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


# --------------------------------------------------------------------------------------------
# Language lookup


@cache
def _tables_by_language() -> dict[Language, SyntaxTable]:
    out: dict[Language, SyntaxTable] = {}
    for language_id in SPECS:
        language = get_language(language_id)
        table = TABLES.get(language_id)
        if language is not None and table is not None:
            out.setdefault(language, table)
    return out


def table_for_tree(tree: Tree | None, language_id: str | None = None) -> SyntaxTable | None:
    """The node-type table for ``tree`` (by its grammar, or by ``language_id`` if given)."""
    if language_id is not None:
        return TABLES.get(language_id)
    if tree is None:
        return None
    return _tables_by_language().get(tree.language)


def _text(node: Node | None, source: bytes) -> str:
    if node is None:
        return ""
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# Nodes


def node_at(tree: Tree, byte: int, *, named: bool = True) -> Node:
    """The smallest (named) node at ``byte``; at a token boundary the token that starts there."""
    root = tree.root_node
    byte = max(0, min(byte, root.end_byte))
    if named:
        return root.named_descendant_for_byte_range(byte, byte) or root
    return root.descendant_for_byte_range(byte, byte) or root


def _probe(tree: Tree, source: bytes, byte: int) -> Node:
    """The node the cursor belongs to: the token just before it unless that is whitespace."""
    root = tree.root_node
    if byte > 0 and not source[byte - 1 : byte].isspace():
        node = root.descendant_for_byte_range(byte - 1, byte)
    else:
        node = root.descendant_for_byte_range(byte, byte)
    return node or root


def _last_leaf(node: Node) -> Node:
    while node.child_count:
        last = node.child(node.child_count - 1)
        if last is None:
            break
        node = last
    return node


def _contains(node: Node, byte: int) -> bool:
    """Cursor inside ``node``: after its start and before its end, or at an unclosed end."""
    if not node.start_byte < byte <= node.end_byte:
        return False
    if byte < node.end_byte:
        return True
    leaf = _last_leaf(node)
    return leaf.is_named or leaf.type not in _CLOSERS


def _outer(node: Node, table: SyntaxTable) -> Node:
    """The node including decorators / export / template wrappers of a definition."""
    while (parent := node.parent) is not None:
        if parent.type in table.wrappers or (
            parent.type in _SINGLE_WRAPPERS and parent.named_child_count == 1
        ):
            node = parent
        else:
            break
    return node


def _name_node(node: Node) -> Node | None:
    """The node naming a definition or scope, by field, declarator chain or naming parent."""
    name = node.child_by_field_name("name")
    if name is not None:
        return name
    if node.type == "impl_item":
        impl_type = node.child_by_field_name("type")
        generic = impl_type.child_by_field_name("type") if impl_type is not None else None
        return generic or impl_type
    declarator = node.child_by_field_name("declarator")
    while declarator is not None:
        if declarator.type in _DECLARATOR_NAMES:
            return declarator
        nested = declarator.child_by_field_name("declarator")
        declarator = nested if nested is not None else declarator.named_child(0)
    parent = node.parent
    if parent is not None and parent.type in _NAMING_PARENTS:
        target = parent.child_by_field_name(_NAMING_PARENTS[parent.type])
        if target is not None and target.id != node.id:
            return target
    return None


def _leaf_name(name: Node, source: bytes) -> tuple[str, str | None]:
    """(name, qualifier) of a possibly qualified name (``A::out`` -> ("out", "A"))."""
    if name.type == "qualified_identifier":
        inner, scope = name.child_by_field_name("name"), name.child_by_field_name("scope")
        if inner is not None:
            leaf, qualifier = _leaf_name(inner, source)
            outer = _text(scope, source) if scope is not None else None
            return leaf, "::".join(q for q in (outer, qualifier) if q) or None
    return _text(name, source), None


def _body(node: Node, table: SyntaxTable) -> Node | None:
    """The body of a definition or scope: its ``body`` field, else a block node at most two levels
    down (Go ``type_spec``, ``const f = () => {...}``)."""
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    queue = list(node.named_children)
    for _depth in range(2):
        nxt: list[Node] = []
        for child in queue:
            if child.type in table.blocks:
                return child
            nxt.extend(child.named_children)
        queue = nxt
    return None


def _header_end(body: Node) -> int:
    """Header ends where the body starts, including a leading ``{`` (``int f() {``)."""
    for child in body.children:
        if child.is_named:
            break
        if child.type == "{":
            return child.end_byte
    return body.start_byte


def _line_start(source: bytes, byte: int) -> int:
    return source.rfind(b"\n", 0, byte) + 1


def _header_start(source: bytes, byte: int) -> int:
    """Start of the line when only indentation precedes ``byte``, else ``byte`` itself."""
    start = _line_start(source, byte)
    return start if not source[start:byte].strip() else byte


def _first_line(text: str) -> str:
    line = text.split("\n", 1)[0].rstrip()
    return line[:MAX_SIGNATURE_CHARS]


def _head_text(outer: Node, node: Node, table: SyntaxTable, source: bytes, start: int) -> str:
    """Text from ``start`` to the body start, or the first line when there is no body."""
    body = _body(node, table)
    if body is None or body.start_byte <= node.start_byte:
        return _first_line(source[start : outer.end_byte].decode("utf-8", "replace"))
    text = source[start : _header_end(body)].decode("utf-8", "replace").rstrip()
    return text[:MAX_SIGNATURE_CHARS]


# --------------------------------------------------------------------------------------------
# Scopes


def scope_of(node: Node, source: bytes, table: SyntaxTable) -> Scope:
    """Describe one scope node (its kind comes from the table)."""
    outer = _outer(node, table)
    name = _name_node(node)
    body = _body(node, table)
    kind = table.scopes.get(node.type, node.type)
    if node.type == "type_spec":  # Go: type X struct {...} / interface {...}
        inner = node.child_by_field_name("type")
        kind = {"struct_type": "struct", "interface_type": "interface"}.get(
            inner.type if inner is not None else "", kind
        )
    return Scope(
        kind=kind,
        name=_leaf_name(name, source)[0] if name is not None else None,
        header=_head_text(outer, node, table, source, _header_start(source, outer.start_byte)),
        node_type=node.type,
        start_byte=outer.start_byte,
        end_byte=node.end_byte,
        body_start_byte=body.start_byte if body is not None else None,
        start_line=outer.start_point[0],
        end_line=node.end_point[0],
    )


def enclosing_scopes(
    tree: Tree | None, source: bytes, byte: int, *, language_id: str | None = None
) -> list[Scope]:
    """Scopes around ``byte``, outermost first (innermost last)."""
    table = table_for_tree(tree, language_id)
    if tree is None or table is None:
        return []
    byte = max(0, min(byte, len(source)))
    if table.indent_scoped:
        anchored = _indent_scopes(tree, source, byte, table)
        if anchored is not None:
            return anchored
    found: list[Scope] = []
    node: Node | None = _probe(tree, source, byte)
    while node is not None:
        if node.type in table.scopes and _contains(node, byte):
            found.append(scope_of(node, source, table))
        node = node.parent
    return _as_methods(found[::-1], table)


def _as_methods(scopes: list[Scope], table: SyntaxTable) -> list[Scope]:
    """A function directly inside a class-like scope is a method."""
    out = list(scopes)
    for i in range(1, len(out)):
        if out[i].kind == "function" and out[i - 1].kind in table.containers:
            out[i] = replace(out[i], kind="method")
    return out


def _indent_scopes(tree: Tree, source: bytes, byte: int, table: SyntaxTable) -> list[Scope] | None:
    """On a whitespace-only line, indentation decides (Python bodies end at their last token)."""
    line_start = _line_start(source, byte)
    line_end = source.find(b"\n", byte)
    line = source[line_start : len(source) if line_end < 0 else line_end]
    if line.strip() or line_start == 0:
        return None
    column = len(source[line_start:byte].rstrip(b"\r").expandtabs(8))
    anchor = len(source[:line_start].rstrip())
    if anchor == 0:
        return []
    node: Node | None = tree.root_node.descendant_for_byte_range(anchor - 1, anchor)
    found: list[Scope] = []
    while node is not None:
        if node.type in table.scopes and node.start_byte < anchor:
            outer = _outer(node, table)
            header_line = source[_line_start(source, outer.start_byte) : outer.start_byte]
            if column > len(header_line.expandtabs(8)):
                found.append(scope_of(node, source, table))
        node = node.parent
    return _as_methods(found[::-1], table)


# --------------------------------------------------------------------------------------------
# Definitions


def _query(tree: Tree, table: SyntaxTable, section: str) -> Query | None:
    return load_query(tree.language, table.query_file, section)


def _matches(query: Query, node: Node) -> Iterator[dict[str, list[Node]]]:
    for _pattern, captures in QueryCursor(query).matches(node):
        yield captures


def definitions(
    tree: Tree | None, source: bytes, *, language_id: str | None = None
) -> list[Definition]:
    """All definitions in the file, in source order."""
    table = table_for_tree(tree, language_id)
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


def _container(node: Node, source: bytes, table: SyntaxTable) -> tuple[str | None, str | None]:
    """(name, kind) of the nearest enclosing named scope."""
    parent = node.parent
    while parent is not None:
        if parent.type in table.scopes:
            name = _name_node(parent)
            if name is not None:
                return _leaf_name(name, source)[0], table.scopes[parent.type]
        parent = parent.parent
    return None, None


def _table_qualifier(name_node: Node, node: Node, source: bytes) -> str | None:
    """Container named outside the nesting: Lua ``function M.g()``, Go ``func (s *S) m()``."""
    receiver = node.child_by_field_name("receiver") if node.type == "method_declaration" else None
    if receiver is not None:
        types = [n for n in _descendants(receiver) if n.type == "type_identifier"]
        return _text(types[0], source) if types else None
    parent = name_node.parent
    if parent is not None and parent.id != node.id and parent.type.endswith("index_expression"):
        table = parent.child_by_field_name("table")
        return _text(table, source) or None
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
    kind: str, node: Node, name_node: Node | None, source: bytes, table: SyntaxTable
) -> Definition | None:
    if name_node is None:
        name_node = _name_node(node)
    if name_node is None:
        return None
    name, qualifier = _leaf_name(name_node, source)
    if not name:
        return None
    container, container_kind = _container(node, source, table)
    qualifier = qualifier or _table_qualifier(name_node, node, source)
    if qualifier:
        container = qualifier
    if kind == "function" and (container_kind in table.containers or qualifier):
        kind = "method"
    if kind == "variable" and _CONSTANT_NAME.match(name):
        kind = "constant"
    outer = _outer(node, table)
    return Definition(
        name=name,
        kind=kind,
        signature=_head_text(outer, node, table, source, outer.start_byte),
        container=container,
        start_byte=outer.start_byte,
        end_byte=outer.end_byte,
        start_line=outer.start_point[0],
        end_line=_end_line(outer, source),
        name_start_byte=name_node.start_byte,
        name_end_byte=name_node.end_byte,
        node_type=node.type,
    )


# --------------------------------------------------------------------------------------------
# Imports


def imports(tree: Tree | None, source: bytes, *, language_id: str | None = None) -> list[Import]:
    """Import statements in source order, with the names/modules they mention where easy."""
    table = table_for_tree(tree, language_id)
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
            bucket[owner.id].append((node.start_byte, _text(node, source)))
    return [
        Import(
            text=_text(n, source).rstrip(),
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


# --------------------------------------------------------------------------------------------
# Identifiers near the cursor


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
    table = table_for_tree(tree, language_id)
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


# --------------------------------------------------------------------------------------------
# Errors and string/comment context


def _error_nodes(node: Node, start: int = 0, end: int | None = None) -> Iterator[Node]:
    """ERROR and MISSING nodes overlapping ``[start, end]``, visiting only erroneous subtrees."""
    stack = [node]
    while stack:
        current = stack.pop()
        if end is not None and (current.end_byte < start or current.start_byte > end):
            continue
        if current.is_error or current.is_missing:
            yield current
            if current.is_missing:
                continue
        if current.has_error:
            stack.extend(reversed(current.children))


def error_count(tree: Tree | None) -> int:
    """Number of ERROR and MISSING nodes in the tree (0 for no tree)."""
    if tree is None or not tree.root_node.has_error:
        return 0
    return sum(1 for _ in _error_nodes(tree.root_node))


def has_error_in_range(tree: Tree | None, start_byte: int, end_byte: int) -> bool:
    """Whether an ERROR or MISSING node overlaps ``[start_byte, end_byte]``."""
    if tree is None or not tree.root_node.has_error:
        return False
    return next(_error_nodes(tree.root_node, start_byte, end_byte), None) is not None


_BLOCK_COMMENT_OPENERS = ("/*", "--[[", "--[=", "<!--", "=begin")


def string_or_comment_at(
    tree: Tree | None, byte: int, source: bytes | None = None, *, language_id: str | None = None
) -> str | None:
    """ "string" or "comment" if typing at ``byte`` would extend a string or comment, else None.

    The position right after a closing quote or ``*/`` is outside; the end of a line comment is
    inside (typing there continues the comment).
    """
    table = table_for_tree(tree, language_id)
    if tree is None or table is None or byte <= 0:
        return None
    node: Node | None = tree.root_node.descendant_for_byte_range(byte - 1, byte)
    while node is not None:
        kind = (
            "comment"
            if node.type in table.comments
            else "string"
            if node.type in table.strings
            else None
        )
        if kind is not None and node.start_byte < byte:
            if byte < node.end_byte:
                return kind
            if kind == "comment" and _is_line_comment(node, source):
                return kind
            if kind == "string" and _unterminated(node):
                return kind
        node = node.parent
    return None


def _is_line_comment(node: Node, source: bytes | None) -> bool:
    text = (node.text or b"") if source is None else source[node.start_byte : node.end_byte]
    return not text.startswith(tuple(o.encode() for o in _BLOCK_COMMENT_OPENERS)) and (
        b"\n" not in text.rstrip(b"\n")
    )


def _unterminated(node: Node) -> bool:
    last = _last_leaf(node)
    return last.is_missing or node.has_error


def is_inside_string_or_comment(
    tree: Tree | None, byte: int, source: bytes | None = None, *, language_id: str | None = None
) -> bool:
    """Whether ``byte`` is inside a string or comment (see :func:`string_or_comment_at`).

    Pass ``source`` when the tree may have been edited since it was parsed.
    """
    return string_or_comment_at(tree, byte, source, language_id=language_id) is not None


def is_block_opener(tree: Tree | None, node: Node, *, language_id: str | None = None) -> bool:
    """Whether ``node`` is a statement/definition whose body is a block (if/for/def/class...)."""
    table = table_for_tree(tree, language_id)
    return table is not None and node.type in table.openers


def is_block_body(tree: Tree | None, node: Node, *, language_id: str | None = None) -> bool:
    """Whether ``node`` is a block body (``block``, ``statement_block``, ``class_body``...)."""
    table = table_for_tree(tree, language_id)
    return table is not None and node.type in table.blocks
