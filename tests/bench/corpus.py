"""Real source files for typing replays (``tests/bench/corpus/``, see its SOURCES.md).

real = real_file("go")          # gin's context.go, with its language id and indent unit
big = python_10k()              # 10,000 lines of aiohttp modules joined into one file
sizes = chunk_sizes("go")       # the sizes code is added in, from gin's git history
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
BIG_LINES = 10_000


@dataclass(frozen=True)
class RealFile:
    name: str  # file name for the workspace (extension picks the language)
    language_id: str
    text: str
    repo: str  # where it comes from (key of chunks.json)
    indent: str  # one indentation level as the file writes it

    @property
    def lines(self) -> int:
        return self.text.count("\n")


# language -> (extract, file name, LSP language id, repository)
FILES: dict[str, tuple[str, str, str, str]] = {
    "python": ("aiohttp__client.py.gz", "client.py", "python", "aio-libs/aiohttp"),
    "typescript": (
        "vscode-languageserver-node__client.ts.gz",
        "client.ts",
        "typescript",
        "microsoft/vscode-languageserver-node",
    ),
    "go": ("gin__context.go.gz", "context.go", "go", "gin-gonic/gin"),
    "rust": ("json__ser.rs.gz", "ser.rs", "rust", "serde-rs/json"),
}
BIG_PARTS = (
    "client",
    "client_reqrep",
    "connector",
    "helpers",
    "http_parser",
    "multipart",
    "payload",
    "web_response",
)


def _read(extract: str) -> str:
    return gzip.decompress((CORPUS / extract).read_bytes()).decode("utf-8")


def indent_unit(text: str) -> str:
    """The file's indentation step: a tab, or the most common smallest step of spaces."""
    steps: dict[int, int] = {}
    previous = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        if line.startswith("\t"):
            return "\t"
        width = len(line) - len(line.lstrip(" "))
        if width > previous:
            steps[width - previous] = steps.get(width - previous, 0) + 1
        previous = width
    return " " * max(steps, key=steps.__getitem__) if steps else "    "


@functools.cache
def real_file(language: str) -> RealFile:
    extract, name, language_id, repo = FILES[language]
    text = _read(extract)
    return RealFile(name, language_id, text, repo, indent_unit(text))


@functools.cache
def python_10k() -> RealFile:
    """aiohttp modules joined in order, cut at the first top-level statement from line 10,000."""
    lines: list[str] = []
    for part in BIG_PARTS:
        lines += _read(f"aiohttp__{part}.py.gz").split("\n")
        if len(lines) >= BIG_LINES:
            break
    cut = BIG_LINES
    while cut < len(lines) and not (lines[cut][:1].isalpha() and lines[cut - 1] == ""):
        cut += 1
    text = "\n".join(lines[:cut]).rstrip("\n") + "\n"
    return RealFile("big.py", "python", text, "aio-libs/aiohttp", "    ")


@functools.cache
def chunk_sizes(repo: str) -> dict[int, int]:
    """Lines added per insert-only hunk in ``repo``'s history -> how many hunks."""
    data = json.loads((CORPUS / "chunks.json").read_text(encoding="utf-8"))
    return {int(size): count for size, count in data[repo].items()}
