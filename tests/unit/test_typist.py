"""The typing-replay harness (tests/bench/typist.py, replay.py): its traces must be what they
claim, or every figure built on them is wrong."""

from __future__ import annotations

import random

import pytest

from tests.bench.corpus import FILES, chunk_sizes, python_10k, real_file
from tests.bench.replay import Oracle, completion_trigger, offset_after, position
from tests.bench.typist import PAUSE_S, Cadence, Change, Key, lex_pairs, pick_regions, retype
from tests.bench.typist import Syntax as TypistSyntax


@pytest.mark.parametrize("language", sorted(FILES))
def test_retyping_reproduces_the_file_and_tracks_the_cursor(language: str) -> None:
    real = real_file(language)
    rng = random.Random(3)
    for region in pick_regions(real.text, chunk_sizes(real.repo), 1500, rng):
        trace = retype(real.text, region, real.language_id, real.indent, Cadence(), rng)
        text = trace.removal.apply(real.text)
        for key in trace.keys:
            text = key.change.apply(text)
            if key.target is not None:  # "the text before the cursor is the file's"
                assert key.cursor == key.target
                assert text[: key.cursor] == real.text[: key.target]
        assert text == real.text


def test_the_typist_pauses_makes_typos_and_autocloses() -> None:
    real = python_10k()
    rng = random.Random(5)
    keys: list[Key] = []
    for region in pick_regions(real.text, chunk_sizes(real.repo), 3000, rng):
        keys += retype(real.text, region, "python", real.indent, Cadence(), rng).keys
    kinds = {k.kind for k in keys}
    assert {"char", "enter", "typo", "backspace", "autoclose", "overtype"} <= kinds
    bursts = [k.delay_s for k in keys if 0 < k.delay_s < PAUSE_S]
    assert min(bursts) >= 0.012 and sorted(bursts)[len(bursts) // 2] < 0.12
    assert sum(k.delay_s >= PAUSE_S for k in keys) >= 10


def test_continuous_typing_has_no_pauses() -> None:
    real = real_file("python")
    rng = random.Random(2)
    region = pick_regions(real.text, chunk_sizes(real.repo), 300, rng)[0]
    trace = retype(real.text, region, "python", real.indent, Cadence.continuous(80), rng)
    delays = [k.delay_s for k in trace.keys[1:]]
    assert all(0.05 < d < 0.13 for d in delays)
    assert "typo" not in {k.kind for k in trace.keys}


def test_pairs_are_same_line_code_brackets_and_quotes() -> None:
    text = 'f(a, "x)", [1])  # (no\ns = """\n(doc\n"""\ng(\n)'
    pairs = lex_pairs(text, TypistSyntax.of("python"))
    assert pairs == {1: 14, 5: 8, 11: 13}


def test_positions_count_utf16_units() -> None:
    document = "a\n😀b = 1\n"
    offset = document.index("b")
    at = position(document, offset)
    assert at == {"line": 1, "character": 2}
    end = offset_after(document, offset, at, {"line": 1, "character": 4})
    assert document[offset:end] == "b "


def test_completion_requests_follow_vscodes_suggest_widget() -> None:
    def key(kind: str, text: str) -> Key:
        return Key(0.05, kind, Change(0, 0, text), len(text), None)

    triggers = [".", "(", " ", "\n"]
    assert completion_trigger(key("char", "."), triggers, False) == {
        "triggerKind": 2,
        "triggerCharacter": ".",
    }
    assert completion_trigger(key("char", "a"), triggers, False) == {"triggerKind": 1}
    assert completion_trigger(key("char", "a"), triggers, True) == {"triggerKind": 3}
    assert completion_trigger(key("char", ")"), triggers, False) is None
    assert completion_trigger(key("backspace", ""), triggers, True) == {"triggerKind": 3}


def test_oracle_answers_the_true_continuation_near_the_focus() -> None:
    truth = "x = 1\ny = 2\nx = 1\ny = 3\n"
    oracle = Oracle(truth, 0.0)
    oracle.focus = truth.rindex("x = 1")
    assert oracle.continuation("x = 1\n") == "y = 3\n"
    assert oracle.continuation("nothing like it") == ""
