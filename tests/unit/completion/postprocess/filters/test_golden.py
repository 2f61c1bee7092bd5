"""Golden fixtures for the filters: ``golden/<language>/*.case`` next to this file, each run
through the whole pipeline.

A case file is a header of ``# key: value`` lines, then sections that start with a line
``==== name``: ``prefix``, ``suffix``, ``raw`` and ``expected``. A section's text is every line
up to the next marker, joined with ``\\n`` (so a section starting with an empty line starts with
a line break). Header keys:

* ``language`` (required), ``multiline`` (``true``/``false``, default false);
* ``replace_suffix_chars`` of the expected result (default 0);
* ``expected: none`` when the completion must be rejected (no ``expected`` section then);
* ``filters``: filters that must have changed the text (``Suggestion.notes``), ``-`` for none;
* ``crlf: true`` to turn every ``\\n`` into ``\\r\\n`` (the document and the texts);
* ``description``: what the case is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from qwen_lsp.completion.postprocess.context import PostContext
from qwen_lsp.completion.postprocess.pipeline import run_filters

FIXTURES = Path(__file__).parent / "golden"
LANGUAGES = ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp")


@dataclass(frozen=True)
class GoldenCase:
    path: Path
    header: dict[str, str]
    sections: dict[str, str]

    def text(self, name: str) -> str:
        value = self.sections[name]
        return value.replace("\n", "\r\n") if self.header.get("crlf") == "true" else value


def load(path: Path) -> GoldenCase:
    header: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("==== "):
            current = sections.setdefault(line[5:].strip(), [])
        elif current is not None:
            current.append(line)
        elif line.startswith("# ") and ":" in line:
            key, _, value = line[2:].partition(":")
            header[key.strip()] = value.strip()
    if sections and path.read_text(encoding="utf-8").endswith("\n"):
        last = list(sections)[-1]
        if sections[last] and sections[last][-1] == "":
            sections[last].pop()  # the file's own final newline
    return GoldenCase(path, header, {name: "\n".join(lines) for name, lines in sections.items()})


CASES = sorted(FIXTURES.glob("*/*.case"))


def test_fixtures_cover_every_language_and_filter() -> None:
    cases = [load(path) for path in CASES]
    assert {case.header["language"] for case in cases} >= set(LANGUAGES)
    noted = {name for case in cases for name in case.header.get("filters", "").split(",")}
    expected = {
        "stop_tokens",
        "normalise",
        "prefix_overlap",
        "single_line",
        "indentation",
        "repetition",
        "scope_end",
        "suffix_overlap",
        "brackets",
        "syntax",
        "line_endings",
    }
    assert expected <= {name.strip() for name in noted}
    assert any(case.header.get("expected") == "none" for case in cases)  # reject_tiny & co.


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_golden(path: Path) -> None:
    case = load(path)
    ctx = PostContext(
        prefix=case.text("prefix"),
        suffix=case.text("suffix"),
        language_id=case.header["language"],
        multiline=case.header.get("multiline", "false") == "true",
    )
    result = run_filters(case.text("raw"), ctx, strict=True)
    if case.header.get("expected") == "none":
        assert result is None, case.header.get("description")
        return
    assert result is not None, case.header.get("description")
    assert result.text == case.text("expected")
    assert result.replace_suffix_chars == int(case.header.get("replace_suffix_chars", "0"))
    wanted = {name.strip() for name in case.header.get("filters", "-").split(",")} - {"-"}
    assert wanted <= set(result.notes), result.notes
    if case.header.get("filters") == "-":
        assert result.notes == ()
