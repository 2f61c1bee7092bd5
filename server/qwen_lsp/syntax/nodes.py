"""Node-level helpers over a tree: the node-type table of its grammar, a node's text, the node
at a byte, and the parts of a definition (its wrapper, name, body and one-line head).

All functions take a ``tree_sitter.Tree`` (or its nodes) and its UTF-8 ``source``; byte offsets are
UTF-8 and line numbers are tree-sitter rows (0-based, split at ``\\n``; equal to LSP lines unless
the text uses lone ``\\r`` line endings). A tree whose language we have no node types for yields
empty results.
"""

from __future__ import annotations

from functools import cache

from tree_sitter import Language, Node, Tree

from .languages import SPECS, get_language
from .node_types import NODE_TYPES, NodeTypes

MAX_SIGNATURE_CHARS = 400
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


@cache
def _node_types_by_language() -> dict[Language, NodeTypes]:
    out: dict[Language, NodeTypes] = {}
    for language_id in SPECS:
        language = get_language(language_id)
        table = NODE_TYPES.get(language_id)
        if language is not None and table is not None:
            out.setdefault(language, table)
    return out


def node_types_for(tree: Tree | None, language_id: str | None = None) -> NodeTypes | None:
    """The node-type table for ``tree`` (by its grammar, or by ``language_id`` if given)."""
    if language_id is not None:
        return NODE_TYPES.get(language_id)
    if tree is None:
        return None
    return _node_types_by_language().get(tree.language)


def node_text(node: Node | None, source: bytes) -> str:
    if node is None:
        return ""
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def node_at(tree: Tree, byte: int, *, named: bool = True) -> Node:
    """The smallest (named) node at ``byte``; at a token boundary the token that starts there."""
    root = tree.root_node
    byte = max(0, min(byte, root.end_byte))
    if named:
        return root.named_descendant_for_byte_range(byte, byte) or root
    return root.descendant_for_byte_range(byte, byte) or root


def last_leaf(node: Node) -> Node:
    while node.child_count:
        last = node.child(node.child_count - 1)
        if last is None:
            break
        node = last
    return node


def outer_node(node: Node, table: NodeTypes) -> Node:
    """The node including decorators / export / template wrappers of a definition."""
    while (parent := node.parent) is not None:
        if parent.type in table.wrappers or (
            parent.type in _SINGLE_WRAPPERS and parent.named_child_count == 1
        ):
            node = parent
        else:
            break
    return node


def name_node(node: Node) -> Node | None:
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


def leaf_name(name: Node, source: bytes) -> tuple[str, str | None]:
    """(name, qualifier) of a possibly qualified name (``A::out`` -> ("out", "A"))."""
    if name.type == "qualified_identifier":
        inner, scope = name.child_by_field_name("name"), name.child_by_field_name("scope")
        if inner is not None:
            leaf, qualifier = leaf_name(inner, source)
            outer = node_text(scope, source) if scope is not None else None
            return leaf, "::".join(q for q in (outer, qualifier) if q) or None
    return node_text(name, source), None


def body_node(node: Node, table: NodeTypes) -> Node | None:
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


def line_start(source: bytes, byte: int) -> int:
    return source.rfind(b"\n", 0, byte) + 1


def header_start(source: bytes, byte: int) -> int:
    """Start of the line when only indentation precedes ``byte``, else ``byte`` itself."""
    start = line_start(source, byte)
    return start if not source[start:byte].strip() else byte


def _first_line(text: str) -> str:
    line = text.split("\n", 1)[0].rstrip()
    return line[:MAX_SIGNATURE_CHARS]


def head_text(outer: Node, node: Node, table: NodeTypes, source: bytes, start: int) -> str:
    """Text from ``start`` to the body start, or the first line when there is no body."""
    body = body_node(node, table)
    if body is None or body.start_byte <= node.start_byte:
        return _first_line(source[start : outer.end_byte].decode("utf-8", "replace"))
    text = source[start : _header_end(body)].decode("utf-8", "replace").rstrip()
    return text[:MAX_SIGNATURE_CHARS]
