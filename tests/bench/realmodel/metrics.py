"""Scores of one completion against its target (CrossCodeEval's measures, plus harm).

- exact match of the first line and of the whole target (trailing whitespace ignored per line);
- edit similarity: 1 - Levenshtein distance / length of the longer text (first line and whole);
- identifiers: exact match of the identifier sequence, and F1 over identifier multisets;
- empty: no suggestion;
- harmful: the file with the suggestion inserted has more parse errors than the original file,
  or the suggestion ends by re-typing the text after it (its last lines equal the first lines of
  the suffix while the target's do not).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .syntax_facts import error_count, identifiers


@dataclass(frozen=True)
class Score:
    empty: bool
    exact_first_line: bool
    exact: bool
    es_first_line: float
    es: float
    id_exact: bool
    id_f1: float
    breaks_parse: bool
    duplicated_suffix_lines: int

    @property
    def harmful(self) -> bool:
        return not self.empty and (self.breaks_parse or self.duplicated_suffix_lines > 0)


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def edit_similarity(a: str, b: str) -> float:
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - levenshtein(a, b) / longest


def normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.rstrip().split("\n"))


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip()


def identifier_f1(predicted: list[str], expected: list[str]) -> float:
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def duplicated_suffix_lines(prediction: str, target: str, suffix: str) -> int:
    """How many of the suffix's first non-blank lines the prediction re-types at its end (0 when
    the target itself ends the same way: closing a nested block legitimately repeats a ``}``)."""

    def tail_overlap(text: str) -> int:
        mine = [ln.strip() for ln in text.split("\n") if ln.strip()]
        theirs = [ln.strip() for ln in suffix.split("\n") if ln.strip()]
        for size in range(min(len(mine), len(theirs)), 0, -1):
            if mine[-size:] == theirs[:size]:
                return size
        return 0

    found = tail_overlap(prediction)
    return found if found > tail_overlap(target) else 0


def score(prediction: str, target: str, prefix: str, suffix: str, language: str) -> Score:
    empty = not prediction.strip()
    pred, want = normalized(prediction), normalized(target)
    pred_ids, want_ids = identifiers(pred, language), identifiers(want, language)
    breaks = False
    if not empty:
        before = error_count(prefix + target + suffix, language)
        breaks = error_count(prefix + prediction + suffix, language) > before
    return Score(
        empty=empty,
        exact_first_line=first_line(pred) == first_line(want),
        exact=pred == want,
        es_first_line=edit_similarity(first_line(pred), first_line(want)),
        es=edit_similarity(pred, want),
        id_exact=pred_ids == want_ids,
        id_f1=identifier_f1(pred_ids, want_ids),
        breaks_parse=breaks,
        duplicated_suffix_lines=0 if empty else duplicated_suffix_lines(pred, want, suffix),
    )
