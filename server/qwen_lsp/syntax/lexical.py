"""Lexical questions at a point, from the tree: syntax errors in a range, inside a string or a
comment, block openers and bodies (the completion gate, the syntax check and code actions ask)."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node, Tree

from .nodes import last_leaf, node_types_for

_BLOCK_COMMENT_OPENERS = ("/*", "--[[", "--[=", "<!--", "=begin")


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


def string_or_comment_at(
    tree: Tree | None, byte: int, source: bytes | None = None, *, language_id: str | None = None
) -> str | None:
    """ "string" or "comment" if typing at ``byte`` would extend a string or comment, else None.

    The position right after a closing quote or ``*/`` is outside; the end of a line comment is
    inside (typing there continues the comment).
    """
    table = node_types_for(tree, language_id)
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
    last = last_leaf(node)
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
    table = node_types_for(tree, language_id)
    return table is not None and node.type in table.openers


def is_block_body(tree: Tree | None, node: Node, *, language_id: str | None = None) -> bool:
    """Whether ``node`` is a block body (``block``, ``statement_block``, ``class_body``...)."""
    table = node_types_for(tree, language_id)
    return table is not None and node.type in table.blocks
