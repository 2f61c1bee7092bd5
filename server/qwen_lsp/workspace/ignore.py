"""Gitignore patterns, matched in time bounded by pattern length times path length.

Why not a library: the usual translation of a glob into a regular expression gives one
backtracking ``[^/]*`` per star, so ``*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b`` against a
40-character name runs for hours in Python's ``re``, and a hostile repository chooses both the
pattern and the names. (RE2 would be linear, but its wheels do not cover every platform we
install on: none for musl Linux, for one.)

The translation here keeps ``re`` and removes the backtracking that matters. Between two stars
a glob is a run of single characters, and if a match exists then one exists where every such
run sits at its leftmost possible place; so each middle run is found by a lazy scan inside an
atomic group (``(?=(?P<g>[^/]*?run))(?P=g)``: a lookahead that has matched is never re-entered)
and only the last star may backtrack, over one path component. ``**`` is the same idea one level
up, over whole components. A match costs O(pattern length * path length) steps, whatever the
input.

Semantics follow git (``gitignore(5)``): ``#`` comments, trailing spaces unless escaped, ``!``
negation, a trailing ``/`` for directories only, a ``/`` at the start or in the middle anchors
the pattern to the ignore file's directory, ``*``/``?``/``[...]`` never match ``/``, ``**/``,
``/**/`` and ``/**`` span directories, the last matching pattern wins. Paths are matched one
level at a time (see ``FilePolicy``): a file inside an ignored directory is ignored whatever
comes after, as in git.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Longer lines are skipped (with one log line per file): no real pattern is that long, and the
# match cost grows with the pattern's length.
MAX_PATTERN_CHARS = 1024
DOUBLE_STAR = None  # a token standing for zero or more whole path components
POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


class InvalidPattern(ValueError):
    """A pattern git would never match (an unterminated ``[``, a trailing backslash)."""


@dataclass(frozen=True)
class IgnorePattern:
    line: str
    negated: bool
    dir_only: bool
    regex: re.Pattern[str]  # matched against the relative path plus a trailing "/"


@dataclass(frozen=True)
class IgnoreRules:
    """The patterns of one ignore file (or of the user's ignore globs), in file order."""

    patterns: tuple[IgnorePattern, ...]

    @classmethod
    def from_lines(cls, lines: Iterable[str], source: str = "ignore patterns") -> IgnoreRules:
        patterns, skipped = [], []
        for line in lines:
            try:
                pattern = compile_pattern(line)
            except InvalidPattern as exc:
                skipped.append(str(exc))
                continue
            if pattern is not None:
                patterns.append(pattern)
        if skipped:
            log.info("%s: %d pattern(s) skipped, e.g. %s", source, len(skipped), skipped[0])
        return cls(tuple(patterns))

    def decide(self, relative: str, is_dir: bool) -> bool | None:
        """Whether ``relative`` (``/``-separated, below the rules' directory) is ignored: True,
        re-included by a negation: False, no pattern matches: None."""
        probe = relative + "/"
        for pattern in reversed(self.patterns):  # the last matching pattern wins
            if pattern.dir_only and not is_dir:
                continue
            if pattern.regex.match(probe):
                return not pattern.negated
        return None


def compile_pattern(line: str) -> IgnorePattern | None:
    """One line of an ignore file; None for blank lines and comments."""
    text = trim_trailing_spaces(line.rstrip("\r\n"))
    if not text or text.startswith("#"):
        return None
    if len(text) > MAX_PATTERN_CHARS:
        raise InvalidPattern(f"a pattern longer than {MAX_PATTERN_CHARS} characters")
    negated = text.startswith("!")
    body = text[1:] if negated else text
    dir_only = body.endswith("/")
    body = body.rstrip("/") if dir_only else body
    anchored = "/" in body
    components = [c for c in body.split("/") if c]
    if not components:
        return None
    names = (f"g{i}" for i in itertools.count())
    tokens: list[str | None] = [] if anchored else [DOUBLE_STAR]
    for component in components:
        whole = len(component) > 1 and component.strip("*") == ""
        tokens.append(DOUBLE_STAR if whole else component_regex(component, names))
    if tokens[-1] is DOUBLE_STAR:  # "dir/**": everything inside, not the directory itself
        tokens[-1:] = ["[^/]+", DOUBLE_STAR]
    regex = path_regex(tokens, names)
    return IgnorePattern(text, negated, dir_only, re.compile(regex, re.DOTALL))


def trim_trailing_spaces(text: str) -> str:
    """Drop trailing spaces that are not escaped with a backslash."""
    end = index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text):
            index += 2
            end = index
        else:
            index += 1
            if text[index - 1] != " ":
                end = index
    return text[:end]


def atomic(names: Iterable[str], body: str) -> str:
    """``body`` matched once, at its first place, never revisited on backtracking."""
    name = next(iter(names))
    return f"(?=(?P<{name}>{body}))(?P={name})"


def component_regex(glob: str, names: Iterable[str]) -> str:
    """A regex for exactly one path component (no ``/``)."""
    runs: list[list[str]] = [[]]
    index = 0
    while index < len(glob):
        char = glob[index]
        if char == "*":
            while index < len(glob) and glob[index] == "*":
                index += 1
            runs.append([])
            continue
        if char == "?":
            unit = "[^/]"
        elif char == "[":
            unit, index = bracket_regex(glob, index)
        elif char == "\\":
            if index + 1 >= len(glob):
                raise InvalidPattern(f"{glob!r} ends with a backslash")
            index += 1
            unit = re.escape(glob[index])
        else:
            unit = re.escape(char)
        runs[-1].append(unit)
        index += 1
    if len(runs) == 1:
        return "".join(runs[0])
    first, *middle, last = ("".join(run) for run in runs)
    out = first
    for run in middle:  # never empty: consecutive stars were merged
        out += atomic(names, f"[^/]*?{run}")
    return out + "[^/]*" + last


def bracket_regex(glob: str, start: int) -> tuple[str, int]:
    """``[...]`` at ``glob[start]`` as a regex that never matches ``/``; returns it and the
    index of the closing ``]``."""
    index = start + 1
    negated = index < len(glob) and glob[index] in "!^"
    index += negated
    items: list[str] = []
    first = True
    while index < len(glob) and (glob[index] != "]" or first):
        first = False
        char = glob[index]
        if char == "[" and glob.startswith("[:", index):
            close = glob.find(":]", index + 2)
            name = glob[index + 2 : close] if close > 0 else ""
            if name not in POSIX_CLASSES:
                raise InvalidPattern(f"{glob!r} has an unknown class [:{name}:]")
            items.append(POSIX_CLASSES[name])
            index = close + 2
            continue
        if char == "\\":
            index += 1
            if index >= len(glob):
                break
            char = glob[index]
        low = char
        if glob.startswith("-", index + 1) and index + 2 < len(glob) and glob[index + 2] != "]":
            index += 2
            high = glob[index]
            if high == "\\" and index + 1 < len(glob):
                index += 1
                high = glob[index]
            if low <= high:  # git ignores a reversed range
                items.append(f"{re.escape(low)}-{re.escape(high)}")
        else:
            items.append(re.escape(low))
        index += 1
    if index >= len(glob):
        raise InvalidPattern(f"{glob!r} has an unterminated [")
    if negated:
        return f"[^/{''.join(items)}]", index
    if not items:
        return "(?!)", index
    return f"(?!/)[{''.join(items)}]", index


def path_regex(tokens: list[str | None], names: Iterable[str]) -> str:
    """Component regexes and DOUBLE_STARs as one regex over ``relative + "/"``."""
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token is DOUBLE_STAR:
            groups.append([])
        else:
            groups[-1].append(token)
    if len(groups) == 1:
        return "^" + "".join(f"{c}/" for c in groups[0]) + "$"
    out = "^" + "".join(f"{c}/" for c in groups[0])
    for group in groups[1:-1]:  # each found at its first place, then never revisited
        if group:
            out += atomic(names, "(?:[^/]+/)*?" + "".join(f"{c}/" for c in group))
    return out + "(?:[^/]+/)*" + "".join(f"{c}/" for c in groups[-1]) + "$"
