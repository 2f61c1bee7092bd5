"""A model of a person typing code into an editor: which keys, when, and what the editor sends.

Pure and deterministic (a seeded ``random.Random``): ``retype(text, region, ...)`` returns the
content changes an editor would send while someone removes ``region`` (whole lines of ``text``)
and types it back, each with the pause before it. The replayer (``tests/bench/replay.py``) sends
them to the server; other benchmarks (next-edit) can replay the same traces.

The typist (see docs/benchmarks.md, "Real typing"):

* **Speed.** Keys come in bursts. Each burst has its own median inter-key interval, drawn
  log-uniformly from 30-120 ms (fast to ordinary typists: transcription typing studies put the
  average around 240 ms and fast typists near 120 ms per key, and people type familiar code in
  faster runs than that); single intervals scatter log-normally around it (sigma 0.3), clipped
  below the 400 ms that counts as a pause.
* **Pauses** (>= 400 ms) end bursts: after most line ends (a new statement is a new thought) and
  sometimes after punctuation (``(``, ``,``, ``.``, ``:``, ``=``, ``{``), longer after lines.
* **Typos**: about 2 % of word characters are a neighbouring key; the typist notices after 0-2
  more characters, stops briefly, deletes back with backspace and retypes.
* **The editor** (VS Code's defaults): brackets and quotes whose partner is on the same line are
  auto-closed and the typed closer overtypes the auto-inserted one; Enter keeps the line's
  indentation (one level more after an opening bracket, or ``:`` in Python) and removes
  indentation it inserted on a line left empty; Tab inserts one indentation level and backspace
  in indentation removes one; a closing bracket typed into fresh indentation outdents it.
* **Continuous** mode (``Cadence.continuous(ms)``): one fixed speed (sigma 0.1), no pauses, no
  typos - the worst case for a debounce.

Chunk sizes (how many lines are removed and retyped at once) come from real git history:
``chunks.json`` in the corpus holds insert-only hunk sizes of the files' own repositories.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

PAUSE_S = 0.4  # an interval at least this long is a pause (the definition)
CLOSERS = {"(": ")", "[": "]", "{": "}"}
QWERTY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


@dataclass(frozen=True)
class Change:
    """One LSP content change in str offsets of the document before it."""

    start: int
    end: int
    text: str

    def apply(self, document: str) -> str:
        return document[: self.start] + self.text + document[self.end :]


@dataclass(frozen=True)
class Key:
    """One key press: the wait before it, what it was, what the editor sent, where the cursor is.

    ``target`` is the cursor's offset in the final text when everything before the cursor is
    what the final text has there (no uncorrected typo), else None.
    """

    delay_s: float
    kind: str  # char, typo, backspace, enter, tab, overtype, autoclose, outdent
    change: Change
    cursor: int
    target: int | None


@dataclass(frozen=True)
class Trace:
    """``text`` with ``lines`` (a range) removed by ``removal``, then retyped by ``keys``.

    ``removal`` takes the lines and the newline before them: the cursor is left at the end of
    the line above, where the first key (Enter) opens the first retyped line."""

    text: str  # the file as it is before and after
    lines: tuple[int, int]
    removal: Change
    keys: tuple[Key, ...]


@dataclass(frozen=True)
class Cadence:
    """When keys come: burst speeds, pauses and typos."""

    burst_ms: tuple[float, float] = (30.0, 120.0)  # range of burst median intervals
    jitter: float = 0.3  # log-normal sigma of single intervals around the burst median
    line_pause_p: float = 0.7  # a pause before the next line's first key
    line_pause_ms: float = 900.0  # median of such a pause (log-normal, sigma 0.5)
    punct_pause_p: float = 0.12
    punct_pause_ms: float = 500.0
    typo_p: float = 0.02  # per word character
    react_ms: float = 250.0  # noticing a typo, before the backspaces

    @classmethod
    def continuous(cls, ms: float) -> Cadence:
        return cls((ms, ms), 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, ms)


@dataclass(frozen=True)
class Syntax:
    """What the editor's language configuration knows."""

    line_comment: str
    quotes: tuple[str, ...]
    colon_indents: bool  # Python: Enter after ':' indents

    @classmethod
    def of(cls, language_id: str) -> Syntax:
        if language_id == "python":
            return cls("#", ('"', "'"), True)
        if language_id == "rust":
            return cls("//", ('"',), False)  # ' is a lifetime as often as a char
        if language_id == "go":
            return cls("//", ('"', "'", "`"), False)
        return cls("//", ('"', "'", "`"), False)


def lex_pairs(text: str, syntax: Syntax) -> dict[int, int]:
    """Opening bracket or quote offset -> its partner's offset, for pairs on one line in code.

    A small lexer (strings with escapes, line and block comments, Python triple quotes): just
    enough to know which brackets an editor would auto-close.
    """
    pairs: dict[int, int] = {}
    stack: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith(syntax.line_comment, i):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        if syntax.line_comment == "//" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch in syntax.quotes or ch == '"' or ch == "'":
            triple = syntax.colon_indents and text.startswith(ch * 3, i)
            delimiter = ch * 3 if triple else ch
            j = i + len(delimiter)
            while j < n and not text.startswith(delimiter, j):
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n" and not triple and ch != "`":
                    break
                j += 1
            closed = j < n and text.startswith(delimiter, j)
            same_line = closed and "\n" not in text[i:j]
            if ch in syntax.quotes and not triple and same_line:
                pairs[i] = j
            i = j + len(delimiter) if closed else j
            continue
        if ch in CLOSERS:
            stack.append((ch, i))
        elif ch in CLOSERS.values():
            while stack and CLOSERS[stack[-1][0]] != ch:
                stack.pop()
            if stack:
                _, start = stack.pop()
                if "\n" not in text[start:i]:
                    pairs[start] = i
        i += 1
    return pairs


@dataclass
class _Editor:
    """The buffer while typing: text, cursor, and the closers the editor inserted."""

    text: str
    cursor: int
    indent: str
    syntax: Syntax
    keys: list[Key] = field(default_factory=list)

    def press(self, delay: float, kind: str, change: Change, target: int | None) -> None:
        self.text = change.apply(self.text)
        # After an auto-closed pair the cursor sits between the two characters.
        self.cursor = change.start + (1 if kind == "autoclose" else len(change.text))
        self.keys.append(Key(delay, kind, change, self.cursor, target))

    def line_start(self) -> int:
        return self.text.rfind("\n", 0, self.cursor) + 1

    def current_indent(self) -> str:
        """The text between the line's start and the cursor (indentation, before any code)."""
        return self.text[self.line_start() : self.cursor]

    def auto_indent(self) -> str:
        """Indentation Enter gives the next line."""
        line = self.text[self.line_start() : self.cursor]
        ws = line[: len(line) - len(line.lstrip())]
        code = line.split(self.syntax.line_comment, 1)[0].rstrip()
        opens = code.endswith(tuple(CLOSERS)) or (self.syntax.colon_indents and code.endswith(":"))
        return ws + self.indent if opens else ws


class _Timer:
    """Intervals between keys: bursts with their own speed, pauses that end them."""

    def __init__(self, cadence: Cadence, rng: random.Random):
        self.cadence, self.rng = cadence, rng
        self.burst_s = self._new_burst()

    def _new_burst(self) -> float:
        low, high = self.cadence.burst_ms
        return math.exp(self.rng.uniform(math.log(low), math.log(high))) / 1000

    def key(self) -> float:
        interval = self.burst_s * math.exp(self.rng.gauss(0, self.cadence.jitter))
        return min(max(interval, 0.012), PAUSE_S - 0.05)

    def pause(self, median_ms: float) -> float:
        """A pause (>= PAUSE_S); the next keys are a new burst."""
        self.burst_s = self._new_burst()
        return max(PAUSE_S + 0.01, median_ms / 1000 * math.exp(self.rng.gauss(0, 0.5)))

    def maybe_pause(self, p: float, median_ms: float) -> float:
        return self.pause(median_ms) if p > 0 and self.rng.random() < p else self.key()

    def react(self) -> float:
        return min(self.cadence.react_ms / 1000 * math.exp(self.rng.gauss(0, 0.3)), PAUSE_S - 0.05)


def neighbour(ch: str, rng: random.Random) -> str:
    """A key next to ``ch`` on a QWERTY keyboard (same case)."""
    lower = ch.lower()
    for row in QWERTY_ROWS:
        at = row.find(lower)
        if at >= 0:
            options = [row[j] for j in (at - 1, at + 1) if 0 <= j < len(row)]
            wrong = rng.choice(options)
            return wrong.upper() if ch.isupper() else wrong
    return "x"


def region_text(text: str, lines: tuple[int, int]) -> tuple[int, str]:
    """(offset, content) of whole lines ``[first, last)`` without the final newline."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    first, last = lines
    start = starts[first]
    end = starts[last] - 1  # the newline ending the region stays
    return start, text[start:end]


def retype(
    text: str,
    lines: tuple[int, int],
    language_id: str,
    indent: str,
    cadence: Cadence,
    rng: random.Random,
) -> Trace:
    """Remove lines ``[first, last)`` of ``text`` and type them back: Enter at the end of the
    line above (the editor indents), then the lines, as someone adds code there."""
    start, content = region_text(text, lines)
    base = start - 1  # the newline ending the line above: typing starts right before it
    removal = Change(base, start + len(content), "")
    syntax = Syntax.of(language_id)
    editor = _Editor(removal.apply(text), base, indent, syntax)
    timer = _Timer(cadence, rng)
    typed = "\n" + content
    pairs = lex_pairs(typed, syntax)
    pending: list[int] = []  # offsets (in ``typed``) of closers the editor inserted, innermost last
    offset = 0  # in ``typed``
    wait = 0.0  # before the next key; the caller decides the wait before a region
    for line in content.split("\n"):
        body = line.lstrip(" \t")
        wanted = line[: len(line) - len(body)]
        _enter(editor, wait, wanted, base + offset)
        offset += 1
        wait = timer.maybe_pause(cadence.line_pause_p, cadence.line_pause_ms)
        if body:
            wait = _indent_to(editor, timer, wanted, wait, body[0], base + offset)
        offset += len(wanted)
        for column, ch in enumerate(body):
            at = offset + column
            if ch.isalnum() and rng.random() < cadence.typo_p:
                wait = _typo(editor, timer, body, column, base + at, rng, wait)
            after = base + at + 1
            if pending and pending[-1] == at and editor.text[editor.cursor] == ch:
                pending.pop()
                editor.press(wait, "overtype", Change(editor.cursor, editor.cursor + 1, ch), after)
            elif at in pairs and (ch in CLOSERS or not editor.text[editor.cursor - 1].isalnum()):
                pending.append(pairs[at])
                change = Change(editor.cursor, editor.cursor, ch + CLOSERS.get(ch, ch))
                editor.press(wait, "autoclose", change, after)
            elif ch in CLOSERS.values() and column == 0 and editor.current_indent() != wanted:
                change = Change(editor.line_start(), editor.cursor, wanted + ch)
                editor.press(wait, "outdent", change, after)
            else:
                editor.press(wait, "char", Change(editor.cursor, editor.cursor, ch), after)
            pause = ch in "(,.:={"
            wait = (
                timer.maybe_pause(cadence.punct_pause_p, cadence.punct_pause_ms)
                if pause
                else timer.key()
            )
        offset += len(body)
    if editor.text != text:
        raise AssertionError(f"the typist did not reproduce lines {lines}")
    return Trace(text, lines, removal, tuple(editor.keys))


def _enter(editor: _Editor, wait: float, wanted: str, target: int) -> None:
    """Enter before a line indented ``wanted``; ``target`` is the newline's offset in the text."""
    indent = editor.auto_indent()
    start = editor.line_start()
    # Leaving a line that holds only indentation the editor inserted removes it.
    begin = start if not editor.text[start : editor.cursor].strip() else editor.cursor
    landed = target + 1 + len(indent) if wanted.startswith(indent) else None
    editor.press(wait, "enter", Change(begin, editor.cursor, "\n" + indent), landed)


def _indent_to(
    editor: _Editor, timer: _Timer, wanted: str, wait: float, first: str, target: int
) -> float:
    """Backspace / Tab / spaces until the line's indentation is ``wanted``; returns the next
    wait. ``target`` is where the line starts in the text. A closing bracket typed into deeper
    indentation outdents by itself (no keys here)."""
    unit = editor.indent
    have = editor.current_indent()
    if first in CLOSERS.values() and len(have) > len(wanted) and have.startswith(wanted):
        return wait
    while not wanted.startswith(have):
        cut = len(unit) if have.endswith(unit) else 1
        have = have[:-cut]
        landed = target + len(have) if wanted.startswith(have) else None
        editor.press(wait, "backspace", Change(editor.cursor - cut, editor.cursor, ""), landed)
        wait = timer.key()
    while have != wanted:
        missing = wanted[len(have) :]
        piece = unit if missing.startswith(unit) else missing[0]
        have += piece
        change = Change(editor.cursor, editor.cursor, piece)
        editor.press(wait, "tab" if piece == unit else "char", change, target + len(have))
        wait = timer.key()
    return wait


def _typo(
    editor: _Editor,
    timer: _Timer,
    body: str,
    column: int,
    target: int,
    rng: random.Random,
    wait: float,
) -> float:
    """Type a wrong key and maybe a correct one or two more, notice, delete them; returns the
    wait before the correct key."""
    typed = neighbour(body[column], rng)
    editor.press(wait, "typo", Change(editor.cursor, editor.cursor, typed), None)
    extra = 0
    for ahead in range(1, 1 + rng.choice((0, 0, 1, 2))):
        if column + ahead >= len(body) or not body[column + ahead].isalnum():
            break
        ch = body[column + ahead]
        editor.press(timer.key(), "char", Change(editor.cursor, editor.cursor, ch), None)
        extra += 1
    wait = timer.react()
    for left in range(extra + 1, 0, -1):
        target_after = target if left == 1 else None
        editor.press(wait, "backspace", Change(editor.cursor - 1, editor.cursor, ""), target_after)
        wait = timer.key()
    return wait


def pick_regions(
    text: str,
    chunk_sizes: dict[int, int],
    keys_wanted: int,
    rng: random.Random,
    max_lines: int = 12,
) -> list[tuple[int, int]]:
    """Non-overlapping line ranges to retype, sizes drawn from ``chunk_sizes`` (real hunks),
    until their characters add up to about ``keys_wanted``. Only ranges a person would type as
    one piece: no trailing whitespace, ending on a non-empty line, not inside a block comment's
    or string's first line."""
    lines = text.split("\n")
    sizes = [s for s in chunk_sizes for _ in range(chunk_sizes[s]) if s <= max_lines]
    taken: set[int] = set()
    regions: list[tuple[int, int]] = []
    total = 0
    attempts = 0
    while total < keys_wanted and attempts < 10_000:
        attempts += 1
        size = rng.choice(sizes)
        first = rng.randrange(20, len(lines) - size - 20)
        span = range(first - 1, first + size + 1)
        chosen = lines[first : first + size]
        if any(i in taken for i in span) or not chosen[-1].strip():
            continue
        if any(ln != ln.rstrip() for ln in chosen) or not "".join(chosen).strip():
            continue
        taken.update(span)
        regions.append((first, first + size))
        total += sum(len(ln.strip()) + 1 for ln in chosen)
    return sorted(regions)


def traces(
    text: str,
    language_id: str,
    indent: str,
    chunk_sizes: dict[int, int],
    keys_wanted: int,
    cadence: Cadence,
    seed: int,
) -> Iterator[Trace]:
    """Retyping traces for regions of ``text`` adding up to about ``keys_wanted`` keys."""
    rng = random.Random(seed)
    for region in pick_regions(text, chunk_sizes, keys_wanted, rng):
        yield retype(text, region, language_id, indent, cadence, rng)
