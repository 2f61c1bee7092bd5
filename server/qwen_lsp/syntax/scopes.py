"""The scopes enclosing a point (functions, classes, blocks), innermost last: what the context
builder puts in the header above the window and what code actions act on."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tree_sitter import Node, Tree

from .node_types import NodeTypes
from .nodes import (
    body_node,
    head_text,
    header_start,
    last_leaf,
    leaf_name,
    line_start,
    name_node,
    node_types_for,
    outer_node,
)

_CLOSERS = frozenset({"}", "end", ")", "]", "fi", "done", "esac"})


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


def scope_of(node: Node, source: bytes, table: NodeTypes) -> Scope:
    """Describe one scope node (its kind comes from the table)."""
    outer = outer_node(node, table)
    name = name_node(node)
    body = body_node(node, table)
    kind = table.scopes.get(node.type, node.type)
    if node.type == "type_spec":  # Go: type X struct {...} / interface {...}
        inner = node.child_by_field_name("type")
        kind = {"struct_type": "struct", "interface_type": "interface"}.get(
            inner.type if inner is not None else "", kind
        )
    return Scope(
        kind=kind,
        name=leaf_name(name, source)[0] if name is not None else None,
        header=head_text(outer, node, table, source, header_start(source, outer.start_byte)),
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
    table = node_types_for(tree, language_id)
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


def _probe(tree: Tree, source: bytes, byte: int) -> Node:
    """The node the cursor belongs to: the token just before it unless that is whitespace."""
    root = tree.root_node
    if byte > 0 and not source[byte - 1 : byte].isspace():
        node = root.descendant_for_byte_range(byte - 1, byte)
    else:
        node = root.descendant_for_byte_range(byte, byte)
    return node or root


def _contains(node: Node, byte: int) -> bool:
    """Cursor inside ``node``: after its start and before its end, or at an unclosed end."""
    if not node.start_byte < byte <= node.end_byte:
        return False
    if byte < node.end_byte:
        return True
    leaf = last_leaf(node)
    return leaf.is_named or leaf.type not in _CLOSERS


def _as_methods(scopes: list[Scope], table: NodeTypes) -> list[Scope]:
    """A function directly inside a class-like scope is a method."""
    out = list(scopes)
    for i in range(1, len(out)):
        if out[i].kind == "function" and out[i - 1].kind in table.containers:
            out[i] = replace(out[i], kind="method")
    return out


def _indent_scopes(tree: Tree, source: bytes, byte: int, table: NodeTypes) -> list[Scope] | None:
    """On a whitespace-only line, indentation decides (Python bodies end at their last token)."""
    line_begin = line_start(source, byte)
    line_end = source.find(b"\n", byte)
    line = source[line_begin : len(source) if line_end < 0 else line_end]
    if line.strip() or line_begin == 0:
        return None
    column = len(source[line_begin:byte].rstrip(b"\r").expandtabs(8))
    anchor = len(source[:line_begin].rstrip())
    if anchor == 0:
        return []
    node: Node | None = tree.root_node.descendant_for_byte_range(anchor - 1, anchor)
    found: list[Scope] = []
    while node is not None:
        if node.type in table.scopes and node.start_byte < anchor:
            outer = outer_node(node, table)
            header_line = source[line_start(source, outer.start_byte) : outer.start_byte]
            if column > len(header_line.expandtabs(8)):
                found.append(scope_of(node, source, table))
        node = node.parent
    return _as_methods(found[::-1], table)


def scopes_at(tree: Tree, source: bytes, byte: int, language_id: str) -> list[Scope]:
    """``enclosing_scopes`` at a cursor. After trailing blanks (``return |``) the tree may put
    the cursor in no node; the end of the line's last token is inside the same scopes."""
    scopes = enclosing_scopes(tree, source, byte, language_id=language_id)
    if scopes:
        return scopes
    start = line_start(source, byte)
    last_token_end = start + len(source[start:byte].rstrip())
    if start < last_token_end < byte:
        return enclosing_scopes(tree, source, last_token_end, language_id=language_id)
    return scopes
