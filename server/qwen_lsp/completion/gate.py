"""Should we complete here, and one line or several? Decided before any model call.

Text rules cover every language; when a syntax tree is available the context engine refines the
decision (e.g. inside a string or comment, an empty block body).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..syntax.analysis import string_or_comment_at, table_for_tree

BLOCK_OPENER = re.compile(r"(:|\{|\(|\[|=>|->|\bthen|\bdo|=)\s*(#.*|//.*)?$")
IDENT_CHAR = re.compile(r"\w")


@dataclass(frozen=True)
class Gate:
    complete: bool
    multiline: bool
    reason: str = ""


def decide(line_before: str, line_after: str, prev_line: str, mode: str = "auto") -> Gate:
    """``line_before``/``line_after``: the cursor's line split at the cursor."""
    after = line_after.strip()
    # In the middle of a word (e.g. `pri|nt`) a suggestion would split the identifier.
    if (
        line_after[:1]
        and IDENT_CHAR.match(line_after[:1])
        and line_before[-1:]
        and IDENT_CHAR.match(line_before[-1:])
    ):
        return Gate(False, False, "inside an identifier")
    # Text after the cursor that is not just closing punctuation: finish this line only.
    rest_is_closers = re.fullmatch(r"[\)\]\}\"'`;,:]*", after) is not None
    if mode == "never":
        return Gate(True, False, "multiline disabled")
    if mode == "always":
        return Gate(True, rest_is_closers, "multiline always")
    if not rest_is_closers:
        return Gate(True, False, "text after the cursor")
    stripped = line_before.strip()
    if not stripped:
        # An empty line: a new statement or block body — let the model write a block.
        return Gate(True, True, "empty line")
    if BLOCK_OPENER.search(line_before.rstrip()) and not after:
        return Gate(True, True, "after a block opener")
    return Gate(True, False, "inside a line")


# --------------------------------------------------------------------------------------------
# Syntax refinement (the context engine calls this with the document's tree)

ASSIGNMENT_END = re.compile(r"(?<![=!<>:+\-*/%&|^])=\s*$")


def refine_with_syntax(
    decision: Gate,
    tree: Any,
    source: bytes,
    byte: int,
    language_id: str | None = None,
    line_before: str = "",
) -> Gate:
    """Sharpen the text decision with the syntax tree; without a tree (a language we have no
    grammar for) the text decision stands."""
    if tree is None or not decision.complete:
        return decision
    table = table_for_tree(tree, language_id)
    if table is None:
        return decision
    if _inside_word(tree, byte, table.identifiers):
        return Gate(False, False, "inside a word (syntax)")
    inside = string_or_comment_at(tree, byte, source, language_id=language_id)
    if inside is not None:
        # Finishing a comment or string line is useful; a block of code inside one is not.
        return Gate(True, False, f"in a {inside}")
    if _in_empty_block(tree, byte, table.blocks):
        return Gate(True, True, "empty block body")
    if decision.multiline and ASSIGNMENT_END.search(line_before):
        return Gate(True, False, "after an assignment")
    return decision


def _inside_word(tree: Any, byte: int, identifiers: frozenset[str]) -> bool:
    """The cursor strictly inside an identifier or number token."""
    node = tree.root_node.named_descendant_for_byte_range(byte, byte)
    if node is None or node.child_count:
        return False
    wordy = node.type in identifiers or node.type.endswith(("identifier", "number", "literal"))
    return wordy and node.start_byte < byte < node.end_byte


def _in_empty_block(tree: Any, byte: int, blocks: frozenset[str]) -> bool:
    """The cursor inside a block body that holds nothing yet (``{|}``, ``def f():`` + newline)."""
    node = tree.root_node.descendant_for_byte_range(byte, byte)
    while node is not None:
        if node.type in blocks and node.start_byte < byte < node.end_byte:
            return not any(
                c.type not in ("comment", "line_comment", "block_comment")
                for c in node.named_children
            )
        node = node.parent
    return False
