"""Reading the model's answer back into the editable region's new text.

Both formats answer with the region rewritten; what surrounds it differs. A reader returns the
region's new text or raises ``Unusable`` with what was wrong. Markers the model echoes (the
cursor, the region's bounds) are removed; an answer that is plainly cut off is unusable.
"""

from __future__ import annotations

import re

from .prompts import INSTRUCT_CURSOR, REGION_END, REGION_START, START_OF_FILE, ZETA_CURSOR

_THINK = re.compile(r"<think>.*?</think>\s*", re.DOTALL)
_FENCE = re.compile(r"^(`{3,})[^\n`]*\n", re.MULTILINE)


class Unusable(ValueError):
    """The answer holds no region we can use; ``reason`` is a short code for statistics."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


def zeta_region(answer: str) -> str:
    """The region from a zeta answer: after the start marker's line, up to the end marker (or
    the answer's end, when generation stopped at the end marker)."""
    text = answer.replace(ZETA_CURSOR, "")
    starts = text.count(REGION_START)
    if starts != 1:
        raise Unusable("markers", f"expected one region start marker, found {starts}")
    body = text.split(REGION_START, 1)[1]
    newline = body.find("\n")
    if newline < 0:
        raise Unusable("markers", "nothing after the region start marker")
    body = body[newline + 1 :]
    if REGION_END in body:
        body = body.split(REGION_END, 1)[0]
    if START_OF_FILE in body:
        raise Unusable("markers", "a start-of-file marker inside the region")
    return body[:-1] if body.endswith("\n") else body


def instruct_region(answer: str, region: str, before: str, after: str) -> str:
    """The region from a chat answer: the first fenced block (or the text between echoed
    region markers), without echoed context. ``region`` is the region's text in the prompt,
    ``before``/``after`` the context next to it."""
    text = _THINK.sub("", answer).replace(INSTRUCT_CURSOR, "").replace(ZETA_CURSOR, "")
    if REGION_START in text:
        inner = text.split(REGION_START, 1)[1]
        if REGION_END not in inner:
            raise Unusable("unclosed", "the answer's region has no end marker")
        body = inner.split(REGION_END, 1)[0]
        return _strip_newlines(body)
    opened = _FENCE.search(text)
    if opened is None:
        raise Unusable("no_code", "the answer holds no code block")
    rest = text[opened.end() :]
    closing = re.search(rf"^{opened.group(1)}\s*$", rest, re.MULTILINE)
    if closing is None:
        raise Unusable("unclosed", "the answer's code block is not closed")
    body = rest[: closing.start()]
    body = body[:-1] if body.endswith("\n") else body
    return _drop_echoed_context(body, region, before, after)


def _strip_newlines(body: str) -> str:
    body = body[1:] if body.startswith("\n") else body
    return body[:-1] if body.endswith("\n") else body


def _drop_echoed_context(body: str, region: str, before: str, after: str) -> str:
    """Context lines the model wrote back around the region are not part of it (at least two
    lines, which the region itself does not start or end with)."""
    lines, region_lines = body.split("\n"), region.split("\n")
    above = before.split("\n")[:-1] if before else []  # ends with the region's line break
    below = after.split("\n")[1:] if after else []  # starts with the region's line break
    for size in range(min(len(above), len(lines) - 1), 1, -1):
        if lines[:size] == above[-size:] and region_lines[:size] != above[-size:]:
            lines = lines[size:]
            break
    for size in range(min(len(below), len(lines) - 1), 1, -1):
        echoed = lines[len(lines) - size :]
        if echoed == below[:size] and region_lines[len(region_lines) - size :] != echoed:
            lines = lines[: len(lines) - size]
            break
    return "\n".join(lines)
