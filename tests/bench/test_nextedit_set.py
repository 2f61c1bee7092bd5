"""The next-edit replay set (tests/bench/nextedit_set) is what the benchmark says it is."""

from __future__ import annotations

from collections import Counter

from tests.bench.nextedit_cases import Hunk, load_cases, parse_hunks, usable
from tests.bench.nextedit_score import errors_of, replay, score

CASES = load_cases()


def test_every_case_replays_its_commit():
    for case in CASES:
        r = replay(case)  # asserts the first hunk reproduces the commit's text
        assert r.first != r.expected and r.doc.recent_edits, case.name
        assert errors_of(case.before, case.language) == 0 or case.name.startswith("anyhow")


def test_the_set_mixes_languages_and_repositories():
    assert len(CASES) >= 40
    assert min(Counter(c.repo for c in CASES).values()) >= 10
    assert {"python", "go", "rust", "javascript"} <= {c.language for c in CASES}
    assert len({(c.repo, c.commit) for c in CASES}) == len(CASES)


def test_scores():
    r = replay(CASES[0])
    assert score(r, r.expected).exact and score(r, r.expected).similarity == 1.0
    assert not score(r, None).predicted and score(r, None).similarity == 0.0
    wrong = r.first.replace("\n", "\n\n", 1)
    assert not score(r, wrong).exact and score(r, wrong).similarity < 1.0


def test_hunk_parsing_of_git_zero_context_diffs():
    diff = "@@ -3 +3 @@\n-a\n+b\n@@ -9,0 +10,2 @@\n+c\n+d\n@@ -20,2 +22,0 @@\n-e\n-f\n"
    assert parse_hunks(diff) == [
        Hunk(2, ("a",), ("b",)),
        Hunk(9, (), ("c", "d")),
        Hunk(19, ("e", "f"), ()),
    ]
    assert usable(parse_hunks(diff)) is True
    assert usable(parse_hunks("@@ -3 +3 @@\n-a\n+b\n")) is False  # one hunk: no next edit
