"""Should we complete here, and one line or several? Decided before any model call.

Text rules cover every language; when the snapshot has a syntax tree the decision is refined
with it (e.g. inside a string or comment, an empty block body).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from ..syntax.lexical import string_or_comment_at
from ..syntax.nodes import node_types_for
from .snapshot import CompletionSnapshot

log = logging.getLogger(__name__)

BLOCK_OPENER = re.compile(r"(:|\{|\(|\[|=>|->|\bthen|\bdo|=)\s*(#.*|//.*)?$")
IDENT_CHAR = re.compile(r"\w")


@dataclass(frozen=True)
class GateDecision:
    complete: bool
    multiline: bool
    reason: str = ""


def decide(line_before: str, line_after: str, prev_line: str, mode: str = "auto") -> GateDecision:
    """``line_before``/``line_after``: the cursor's line split at the cursor."""
    after = line_after.strip()
    # In the middle of a word (e.g. `pri|nt`) a suggestion would split the identifier.
    if (
        line_after[:1]
        and IDENT_CHAR.match(line_after[:1])
        and line_before[-1:]
        and IDENT_CHAR.match(line_before[-1:])
    ):
        return GateDecision(False, False, "inside an identifier")
    # Text after the cursor that is not just closing punctuation: finish this line only.
    rest_is_closers = re.fullmatch(r"[\)\]\}\"'`;,:]*", after) is not None
    if mode == "never":
        return GateDecision(True, False, "multiline disabled")
    if mode == "always":
        return GateDecision(True, rest_is_closers, "multiline always")
    if not rest_is_closers:
        return GateDecision(True, False, "text after the cursor")
    stripped = line_before.strip()
    if not stripped:
        # An empty line: a new statement or block body — let the model write a block.
        return GateDecision(True, True, "empty line")
    if BLOCK_OPENER.search(line_before.rstrip()) and not after:
        return GateDecision(True, True, "after a block opener")
    return GateDecision(True, False, "inside a line")


def decide_at(snapshot: CompletionSnapshot, mode: str = "auto") -> GateDecision:
    """The text rules at the snapshot's cursor, refined with its tree when it has one."""
    lines_before = snapshot.prefix.rsplit("\n", 2)
    line_before = lines_before[-1]
    prev_line = lines_before[-2] if len(lines_before) > 1 else ""
    line_after = snapshot.suffix.split("\n", 1)[0]
    decision = decide(line_before, line_after, prev_line, mode)
    if snapshot.tree is None or snapshot.source_bytes is None:
        return decision
    try:
        return refine_with_syntax(
            decision,
            snapshot.tree,
            snapshot.source_bytes,
            snapshot.cursor_byte,
            snapshot.language_id,
            line_before,
        )
    except Exception:  # a grammar surprise must not stop completions
        log.debug("syntax gate failed", exc_info=True)
        return decision


# --------------------------------------------------------------------------------------------
# Syntax refinement

ASSIGNMENT_END = re.compile(r"(?<![=!<>:+\-*/%&|^])=\s*$")


def refine_with_syntax(
    decision: GateDecision,
    tree: Any,
    source: bytes,
    byte: int,
    language_id: str | None = None,
    line_before: str = "",
) -> GateDecision:
    """Sharpen the text decision with the syntax tree; without a tree (a language we have no
    grammar for) the text decision stands."""
    if tree is None or not decision.complete:
        return decision
    table = node_types_for(tree, language_id)
    if table is None:
        return decision
    if _inside_word(tree, byte, table.identifiers):
        return GateDecision(False, False, "inside a word (syntax)")
    inside = string_or_comment_at(tree, byte, source, language_id=language_id)
    if inside is not None:
        # Finishing a comment or string line is useful; a block of code inside one is not.
        return GateDecision(True, False, f"in a {inside}")
    if _in_empty_block(tree, byte, table.blocks):
        return GateDecision(True, True, "empty block body")
    if decision.multiline and ASSIGNMENT_END.search(line_before):
        return GateDecision(True, False, "after an assignment")
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
