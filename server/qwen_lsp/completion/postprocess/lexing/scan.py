"""The scanner: brackets outside strings and comments, and the string/comment spans, of a text.

Pure: text and pattern in, positions out. ``scan_tail`` keeps the scans of recent suffixes
(found by their text), since typing before the cursor leaves the text after it unchanged.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from .patterns import OPENERS, TEMPLATE_REST, is_javascript

TAIL_CACHE_ENTRIES = 32  # suffix scans kept across requests (keyed by the text itself)


@dataclass(frozen=True)
class Span:
    """A string or comment: ``text[start:end]``; ``quote`` is its closing delimiter ('' for
    comments)."""

    start: int
    end: int
    quote: str


def _closing(token: str) -> str:
    """The closing delimiter of a complete string token, or '' (unterminated or a comment)."""
    if token.lstrip(" \t").startswith(("#", "/")):
        return ""
    if token.startswith("r#"):
        hashes = len(token) - len(token[1:].lstrip("#")) - 1
        delimiter = '"' + "#" * hashes
        return delimiter if len(token) >= 2 * hashes + 3 and token.endswith(delimiter) else ""
    delimiter = token[:3] if token[:3] in ('"""', "'''") else token[:1]
    if len(token) < 2 * len(delimiter) or not token.endswith(delimiter):
        return ""
    body = token[: len(token) - len(delimiter)]
    backslashes = len(body) - len(body.rstrip("\\"))
    return delimiter if backslashes % 2 == 0 else ""


def scan(text: str, pattern: re.Pattern[str]) -> tuple[list[tuple[int, str]], list[Span]]:
    """Brackets outside strings/comments as ``(pos, char)``, and the string/comment spans."""
    brackets, spans, _clean = scan_to_end(text, pattern)
    return brackets, spans


def scan_to_end(
    text: str, pattern: re.Pattern[str]
) -> tuple[list[tuple[int, str]], list[Span], bool]:
    """``scan``, plus whether the text ends in plain code (no string, comment or template
    substitution open at its end), after which a following text can be scanned on its own."""
    brackets: list[tuple[int, str]] = []
    spans: list[Span] = []
    substitutions: list[int] = []  # open `${`: the brace depth inside each
    pos = 0
    while True:
        match = pattern.search(text, pos)
        if match is None:
            clean = not substitutions and not (spans and spans[-1].end >= len(text))
            return brackets, spans, clean
        pos = match.end()
        bracket = match.group("b")
        if bracket is None:
            token = match.group(0)
            if token.startswith("`") and token.endswith("${") and is_javascript(pattern):
                spans.append(Span(match.start(), pos, ""))
                substitutions.append(0)
            else:
                spans.append(Span(match.start(), pos, _closing(token)))
            continue
        if substitutions:
            if bracket == "{":
                substitutions[-1] += 1
            elif bracket == "}":
                if substitutions[-1] == 0:  # the end of a `${…}`: back inside the template
                    substitutions.pop()
                    rest = TEMPLATE_REST.match(text, pos)
                    assert rest is not None  # the body pattern matches the empty string
                    end = rest.end()
                    if text[pos:end].endswith("${"):
                        substitutions.append(0)
                        spans.append(Span(match.start(), end, ""))
                    else:
                        closed = text[pos:end].endswith("`") and _closing("`" + text[pos:end])
                        spans.append(Span(match.start(), end, "`" if closed else ""))
                    pos = end
                    continue
                substitutions[-1] -= 1
        brackets.append((match.start(), bracket))


@dataclass(frozen=True)
class TailScan:
    """The suffix scanned on its own, and what its brackets do to brackets open before it.

    The suffix's own brackets only ever close each other (any closer closes the innermost
    bracket the suffix opened), so all that reaches the brackets open before the suffix is the
    ``floor_closers``: closers met while none of the suffix's own brackets is open, in order.
    ``depth`` is how many of its own are still open at its end."""

    brackets: list[tuple[int, str]]
    spans: list[Span]
    floor_closers: tuple[str, ...]
    depth: int


def reduce_brackets(brackets: list[tuple[int, str]]) -> tuple[tuple[str, ...], int]:
    """``TailScan.floor_closers`` and ``depth`` of a run of brackets."""
    floor: list[str] = []
    depth = 0
    for _pos, char in brackets:
        if char in OPENERS:
            depth += 1
        elif depth:
            depth -= 1
        else:
            floor.append(char)
    return tuple(floor), depth


_tail_cache: OrderedDict[tuple[str, str], TailScan] = OrderedDict()
_tail_lock = threading.Lock()


def scan_tail(tail: str, pattern: re.Pattern[str]) -> TailScan:
    """``scan`` of a suffix, kept across requests: typing before the cursor leaves the text after
    it as it is, so consecutive requests scan the same suffix (found by its text)."""
    key = (pattern.pattern, tail)
    with _tail_lock:
        found = _tail_cache.get(key)
        if found is not None:
            _tail_cache.move_to_end(key)
            return found
    brackets, spans = scan(tail, pattern)
    result = TailScan(brackets, spans, *reduce_brackets(brackets))
    with _tail_lock:
        _tail_cache[key] = result
        while len(_tail_cache) > TAIL_CACHE_ENTRIES:
            _tail_cache.popitem(last=False)
    return result


def clear_caches() -> None:
    """Forget the suffix scans kept across requests (tests)."""
    with _tail_lock:
        _tail_cache.clear()
