"""The snippets of the editor docs, exactly as a user copies them.

Every fenced block of docs/editors.md, README.md and clients/*/README.md carries a marker line
``<!-- run: ID -->`` right above it; a test runs it with ``doc_snippet("ID")`` in the editor the
doc names. tests/editors/test_doc_snippets.py checks that no block is left without a test.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tests.editors.conftest import REPO_ROOT

DOC_FILES = [
    REPO_ROOT / "README.md",
    REPO_ROOT / "docs" / "editors.md",
    REPO_ROOT / "docs" / "release.md",
    *sorted((REPO_ROOT / "clients").glob("*/README.md")),
]
# A block may sit in a list item (indented); the marker is the line right above its fence.
FENCE = re.compile(
    r"^(?:[ \t]*<!-- run: (?P<id>[\w-]+) -->\n)?(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)\n"
    r"(?P<body>.*?)^(?P=indent)```$",
    re.M | re.S,
)
# The endpoint every snippet names; tests point it at their scripted endpoint instead.
DOC_BASE_URL = "http://127.0.0.1:8000/v1"


@dataclass(frozen=True)
class Snippet:
    path: Path
    id: str | None
    lang: str
    body: str


def snippets(path: Path) -> list[Snippet]:
    text = path.read_text(encoding="utf-8")
    return [
        Snippet(path, m["id"], m["lang"], textwrap.dedent(m["body"])) for m in FENCE.finditer(text)
    ]


def doc_snippet(snippet_id: str, base_url: str | None = None) -> str:
    """The block marked ``snippet_id``, with the documented endpoint URL replaced by
    ``base_url`` when given (the only change a test makes)."""
    found = [s for path in DOC_FILES for s in snippets(path) if s.id == snippet_id]
    assert len(found) == 1, f"{snippet_id!r} marks {len(found)} blocks"
    body = found[0].body
    if base_url is not None:
        assert DOC_BASE_URL in body, f"{snippet_id}: no {DOC_BASE_URL} to point at the test"
        body = body.replace(DOC_BASE_URL, base_url)
    return body
