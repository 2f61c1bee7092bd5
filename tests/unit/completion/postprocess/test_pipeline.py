"""The filter pipeline: its documented order, the notes it leaves, a failing filter, and
properties over random and real code (hypothesis, derandomized so CI runs are repeatable)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import qwen_lsp.completion.postprocess.pipeline as pipeline_module
from qwen_lsp.completion.postprocess.context import (
    QWEN_STOP_SEQUENCES,
    PostContext,
    Suggestion,
)
from qwen_lsp.completion.postprocess.pipeline import FILTERS, run_filters
from qwen_lsp.syntax.languages import language_id_for
from tests.unit.completion.postprocess.helpers import ctx

TESTS = Path(__file__).resolve().parents[3]


def test_filter_order_is_documented() -> None:
    assert pipeline_module.__doc__ is not None
    positions = [pipeline_module.__doc__.index(f"``{step.__name__}``") for step in FILTERS]
    assert positions == sorted(positions)


def test_notes_name_the_filters_that_changed_the_text() -> None:
    context = ctx("def f(a, b):\n    return foo(█)\n")
    result = run_filters("return foo(a, b)<|endoftext|>", context)
    assert result is not None
    assert result.notes == ("stop_tokens", "prefix_overlap", "suffix_overlap")


def test_a_failing_filter_is_skipped_unless_strict() -> None:
    def broken(_candidate: Suggestion, _ctx: PostContext) -> Suggestion | None:
        raise RuntimeError("bug")

    context = ctx("x = █\n")
    steps = (broken, *FILTERS)
    result = run_filters("compute()", context, filters=steps)
    assert result is not None and result.text == "compute()"
    with pytest.raises(RuntimeError):
        run_filters("compute()", context, filters=steps, strict=True)


def test_crlf_document_end_to_end() -> None:
    context = ctx("def f(x):\r\n    if x:\r\n        █\r\n    return x\r\n", multiline=True)
    result = run_filters("x += 1\r\n        log(x)\r\n    return x\r\n", context, strict=True)
    assert result is not None
    assert result.text == "x += 1\r\n        log(x)"


SAMPLES = TESTS / "bench" / "samples"
LANGUAGES = ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp", "plaintext")
FRAGMENTS = (
    "(", ")", "{", "}", "[", "]", "'", '"', '"""', "`", "${", "\n", "\r\n", "\t", "    ", " ",
    "def f(x):", "if x:", "return", "x", "foo", "=", ",", ";", ":", "\\", "#", "//", "/*", "*/",
    "<think>", "</think>", "```", "```python\n", "<|endoftext|>", "<|file_sep|>", "<|fim_middle|>",
    "<|im_end|>", "}\n", "end", "é", "\u2028",
)  # fmt: skip
SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

code_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=25).map(
    "".join
)


@SETTINGS
@given(
    prefix=code_text,
    suffix=code_text,
    raw=code_text,
    language=st.sampled_from(LANGUAGES),
    multiline=st.booleans(),
)
def test_never_raises_and_never_shows_a_stop_token(
    prefix: str, suffix: str, raw: str, language: str, multiline: bool
) -> None:
    ctx = PostContext(prefix=prefix, suffix=suffix, language_id=language, multiline=multiline)
    result = run_filters(raw, ctx, strict=True)  # strict: a filter bug would raise here
    if result is not None:
        assert not any(stop in result.text for stop in QWEN_STOP_SEQUENCES)
        assert "<think>" not in result.text
        assert 0 <= result.replace_suffix_chars <= len(suffix.split("\n", 1)[0])
        assert result.text.strip()


def _samples() -> list[tuple[str, str]]:
    files = sorted(SAMPLES.iterdir())
    return [(language_id_for(None, str(path)), path.read_text(encoding="utf-8")) for path in files]


SOURCES = _samples()


@st.composite
def line_ends(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(language, prefix, truth, suffix): the rest of a real line after a token boundary."""
    language, text = draw(st.sampled_from(SOURCES))
    lines = text.split("\n")
    row = draw(st.integers(0, len(lines) - 1))
    line = lines[row]
    assume(line.strip() and line == line.rstrip())
    starts = [
        i
        for i in range(len(line) - len(line.lstrip()) + 1, len(line))
        if line[i - 1] in " (,[{=." and line[i] != " "
    ]
    assume(starts)
    col = draw(st.sampled_from(starts))
    truth = line[col:]
    assume(any(ch.isalnum() or ch == "_" for ch in truth))
    offset = sum(len(previous) + 1 for previous in lines[:row]) + col
    return language, text[:offset], truth, text[offset + len(truth) :]


@SETTINGS
@given(case=line_ends())
def test_clean_rest_of_line_is_returned_unchanged(case: tuple[str, str, str, str]) -> None:
    language, prefix, truth, suffix = case
    ctx = PostContext(prefix=prefix, suffix=suffix, language_id=language, multiline=False)
    result = run_filters(truth, ctx, strict=True)
    assert result is not None
    assert (result.text, result.replace_suffix_chars) == (truth, 0)


@st.composite
def block_bodies(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(language, prefix, truth, suffix): a real block body after its opener line."""
    language, text = draw(st.sampled_from(SOURCES))
    lines = text.split("\n")
    openers = [i for i, line in enumerate(lines[:-1]) if line.rstrip().endswith(("{", ":"))]
    row = draw(st.sampled_from(openers))
    indent = len(lines[row]) - len(lines[row].lstrip())
    end = row + 1
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
    ):
        end += 1
    while end > row + 1 and not lines[end - 1].strip():
        end -= 1
    assume(end > row + 1)
    body = lines[row + 1 : end]
    assume(all(line == line.rstrip() for line in body))
    start = sum(len(line) + 1 for line in lines[: row + 1]) - 1
    truth = "\n" + "\n".join(body)
    return language, text[:start], truth, text[start + len(truth) :]


@SETTINGS
@given(case=block_bodies())
def test_clean_block_body_is_returned_unchanged(case: tuple[str, str, str, str]) -> None:
    language, prefix, truth, suffix = case
    ctx = PostContext(prefix=prefix, suffix=suffix, language_id=language, multiline=True)
    result = run_filters(truth, ctx, strict=True)
    assert result is not None
    assert (result.text, result.replace_suffix_chars) == (truth, 0)
