"""Completion cases: a cursor in a real file of a committed repository extract, and the text that
followed it (the target), CrossCodeEval-style.

``data/cases.json`` is written by ``make_cases.py`` from ``data/repos/`` (see ``data/SOURCES``);
both are committed, so the benchmark needs no network. A case's workspace is a copy of its
repository extract in which the target was removed from the file, as if the user were about to
type it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

DATA = Path(__file__).parent / "data"
REPOS = DATA / "repos"
CASES_FILE = DATA / "cases.json"

Kind = Literal["line", "multiline"]
Scope = Literal["cross_file", "in_file"]


@dataclass(frozen=True)
class Case:
    id: str
    repo: str  # directory under data/repos
    path: str  # file inside the repo extract
    language: str
    kind: Kind
    scope: Scope
    line: int  # 0-based cursor line in the original file
    character: int  # cursor column (UTF-16 units == code points here: the extracts are ASCII)
    target: str  # what followed the cursor, up to the end of the line (or of the block)
    cross_names: tuple[str, ...] = ()  # target identifiers that only other files declare
    local_names: tuple[str, ...] = ()  # target identifiers this file declares
    cursor: str = "line_start"  # line_start, mid_line or block_start
    notes: dict[str, str] = field(default_factory=dict)

    def source(self) -> str:
        return (REPOS / self.repo / self.path).read_text(encoding="utf-8")

    def offset(self, text: str | None = None) -> int:
        text = self.source() if text is None else text
        lines = text.split("\n")
        return sum(len(line) + 1 for line in lines[: self.line]) + self.character

    def split(self) -> tuple[str, str]:
        """(prefix, suffix): the file before the cursor and after the target."""
        text = self.source()
        start = self.offset(text)
        end = start + len(self.target)
        if text[start:end] != self.target:
            raise ValueError(f"case {self.id}: the target no longer matches {self.path}")
        return text[:start], text[end:]


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        Case(
            **{
                **item,
                "cross_names": tuple(item.get("cross_names", ())),
                "local_names": tuple(item.get("local_names", ())),
            }
        )
        for item in raw["cases"]
    ]


def save_cases(cases: list[Case], path: Path = CASES_FILE, note: str = "") -> None:
    payload = {"note": note, "cases": [asdict(c) for c in cases]}
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def make_workspace(case: Case, parent: Path) -> Path:
    """A copy of the case's repo extract under ``parent`` with the target removed from its file;
    returns the workspace root."""
    root = parent / case.repo
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPOS / case.repo, root)
    prefix, suffix = case.split()
    (root / case.path).write_text(prefix + suffix, encoding="utf-8")
    return root
