"""Should we complete here, and one line or several? Decided before any model call.

Text rules cover every language; when a syntax tree is available the context engine refines the
decision (e.g. inside a string or comment, an empty block body).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
