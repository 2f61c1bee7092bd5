"""Scoring a next-edit prediction against what the commit did next (pure functions).

For a case: ``first`` is the extract with the commit's first hunk applied (the user's edit),
``expected`` with the first two applied. A prediction is the text it would make of ``first``.

* **exact**: the prediction turns ``first`` into ``expected``, nothing more, nothing less;
* **similarity**: 1 - normalised edit distance between the predicted change and the expected
  change, each written as its changed lines with their line numbers (``-12 old`` / ``+12 new``),
  so the place counts as much as the text; no prediction scores 0;
* **located**: the predicted change touches the lines the expected one touches;
* **harmful**: the prediction adds syntax errors (tree-sitter error count of the whole extract),
  or removes text of the user's own edit (a line of the first hunk that the prediction deletes
  or rewrites).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from tree_sitter import Parser

from qwen_lsp.documents import Document
from qwen_lsp.syntax.analysis import error_count
from qwen_lsp.syntax.languages import get_language
from tests.bench.nextedit_cases import Case
from tests.bench.realmodel.metrics import edit_similarity


@dataclass(frozen=True)
class Replay:
    """A case set up for prediction: the document after the user's edit (recorded in its
    history), where the cursor is, and the text the commit reached next."""

    case: Case
    doc: Document
    cursor: int
    first: str
    expected: str
    expected_lines: tuple[int, int]  # lines of ``first`` the next hunk replaces (end exclusive)


def replay(case: Case) -> Replay:
    """Open the extract, apply the first hunk as one edit, put the cursor after it."""
    before, first, expected = case.before, case.apply(1), case.apply(2)
    doc = Document(f"file:///replay/{case.path}", before, 1, case.language)
    hunk = case.hunks[0]
    lines = before.split("\n")
    start = sum(len(line) + 1 for line in lines[: hunk.start])
    old = "\n".join(hunk.old)
    new = "\n".join(hunk.new)
    if hunk.old and hunk.new:
        end, text = start + len(old), new
    elif hunk.new:  # inserted lines
        end, text = start, new + "\n"
    else:  # deleted lines
        end, text = start + len(old) + 1, ""
    end = min(end, len(before))
    rng = {"start": doc.position_at(start), "end": doc.position_at(end)}
    doc.apply_changes([{"range": rng, "text": text}], 2)
    assert doc.text == first, f"{case.name}: the first hunk did not reproduce the commit"
    cursor = start + len(text.rstrip("\n")) if hunk.new else start
    second = case.shift_after_first(case.hunks[1])
    return Replay(
        case, doc, cursor, first, expected, (second.start, second.start + len(second.old))
    )


def changed_lines(old: str, new: str) -> list[str]:
    """The change from ``old`` to ``new`` as numbered lines: ``-N text`` and ``+N text``."""
    a, b = old.split("\n"), new.split("\n")
    out = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        out += [f"-{i1 + k + 1} {line}" for k, line in enumerate(a[i1:i2])]
        out += [f"+{i1 + 1} {line}" for line in b[j1:j2]]
    return out


def changed_spans(old: str, new: str) -> list[tuple[int, int]]:
    a, b = old.split("\n"), new.split("\n")
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(i1, i2) for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal"]


@dataclass(frozen=True)
class Score:
    predicted: bool
    exact: bool
    similarity: float
    located: bool
    breaks_parse: bool
    deletes_typed: bool

    @property
    def harmful(self) -> bool:
        return self.breaks_parse or self.deletes_typed


def errors_of(text: str, language_id: str) -> int:
    language = get_language(language_id)
    if language is None:
        return 0
    return error_count(Parser(language).parse(text.encode("utf-8", "surrogatepass")))


def score(r: Replay, predicted: str | None) -> Score:
    if predicted is None or predicted == r.first:
        return Score(False, False, 0.0, False, False, False)
    expected_change = "\n".join(changed_lines(r.first, r.expected))
    predicted_change = "\n".join(changed_lines(r.first, predicted))
    spans = changed_spans(r.first, predicted)
    lo, hi = r.expected_lines
    located = any(a <= max(hi, lo + 1) - 1 and lo <= max(b, a + 1) - 1 for a, b in spans)
    hunk = r.case.hunks[0]
    typed = range(hunk.start, hunk.start + len(hunk.new))
    deletes = any(
        line in typed and r.first.split("\n")[line].strip()
        for a, b in spans
        for line in range(a, b)
    )
    breaks = errors_of(predicted, r.case.language) > errors_of(r.first, r.case.language)
    return Score(
        True,
        predicted == r.expected,
        edit_similarity(predicted_change, expected_change),
        located,
        breaks,
        deletes,
    )
