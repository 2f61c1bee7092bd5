"""The edit-replay set for next-edit prediction: real commits that change one file in several
nearby places.

``python -m tests.bench.nextedit_cases build MIRROR... `` mines git mirrors (``fetch``) and
writes ``tests/bench/nextedit_set/cases.jsonl`` (+ SOURCES.md by hand); the benchmark only
loads the file. A case is one file of one commit, cut to the lines around its hunks (the
extract), with the hunks in file order: the first is what the user did, the second what they
did next. Picked (deterministically, newest commits first):

* a non-merge commit whose diff changes the file in 2-5 hunks, each of at most
  ``MAX_HUNK_LINES`` lines removed and added, not whitespace-only;
* the second hunk starts within ``MAX_GAP_LINES`` lines of the first one's end;
* at most one case per commit, ``PER_PATH`` per file and ``PER_REPO`` per repository;
* the extract: the top-level statements from ``EXTRACT_MARGIN`` lines above the first hunk to
  as far below the second, with no syntax errors the whole file does not have.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

SET_DIR = Path(__file__).parent / "nextedit_set"
CASES_FILE = SET_DIR / "cases.jsonl"
LANGUAGES = {".py": "python", ".go": "go", ".js": "javascript", ".ts": "typescript", ".rs": "rust"}
MAX_HUNK_LINES = 6
MAX_GAP_LINES = 30
MAX_FILE_LINES = 1500
EXTRACT_MARGIN = 40  # lines kept above the first hunk and below the second
MAX_EXTRACT_LINES = 300
PER_REPO = 12
PER_PATH = 2  # repositories touch a few files over and over: keep the set varied
HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Hunk:
    """Lines ``start .. start+len(old)`` (0-based, in the extract before the commit) replaced
    by ``new``."""

    start: int
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    repo: str
    commit: str
    path: str
    language: str
    first_line: int  # of the extract in the real file (0-based)
    before: str  # the extract before the commit
    hunks: tuple[Hunk, ...]

    @property
    def name(self) -> str:
        return f"{self.repo.split('/')[-1]}-{self.commit[:8]}"

    def lines(self) -> list[str]:
        return self.before.split("\n")

    def apply(self, count: int) -> str:
        """The extract with the first ``count`` hunks applied."""
        lines = self.lines()
        for hunk in sorted(self.hunks[:count], key=lambda h: h.start, reverse=True):
            lines[hunk.start : hunk.start + len(hunk.old)] = list(hunk.new)
        return "\n".join(lines)

    def shift_after_first(self, hunk: Hunk) -> Hunk:
        """``hunk`` (later in the file than the first) in the text with the first applied."""
        first = self.hunks[0]
        return Hunk(hunk.start + len(first.new) - len(first.old), hunk.old, hunk.new)


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        hunks = tuple(Hunk(h["start"], tuple(h["old"]), tuple(h["new"])) for h in raw["hunks"])
        out.append(Case(**{**raw, "hunks": hunks}))
    return out


# --- mining --------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def parse_hunks(diff: str) -> list[Hunk]:
    """Hunks of a ``-U0`` diff of one file (0-based old line numbers)."""
    hunks: list[Hunk] = []
    start, old, new = -1, [], []
    for line in diff.split("\n"):
        header = HUNK_HEADER.match(line)
        if header:
            if start >= 0:
                hunks.append(Hunk(start, tuple(old), tuple(new)))
            count = int(header.group(2)) if header.group(2) is not None else 1
            start = int(header.group(1)) - (1 if count else 0)
            old, new = [], []
        elif start >= 0 and line.startswith("-") and not line.startswith("---"):
            old.append(line[1:])
        elif start >= 0 and line.startswith("+") and not line.startswith("+++"):
            new.append(line[1:])
    if start >= 0:
        hunks.append(Hunk(start, tuple(old), tuple(new)))
    return hunks


def usable(hunks: list[Hunk]) -> bool:
    if not 2 <= len(hunks) <= 5:
        return False
    for hunk in hunks:
        if len(hunk.old) > MAX_HUNK_LINES or len(hunk.new) > MAX_HUNK_LINES:
            return False
        if "".join(hunk.old).split() == "".join(hunk.new).split():
            return False  # whitespace only
    first, second = hunks[0], hunks[1]
    return 0 <= second.start - (first.start + len(first.old)) <= MAX_GAP_LINES


def _top_level_start(lines: list[str], row: int) -> bool:
    """A top-level statement starts here: column 0, not a closer, after a blank line."""
    line = lines[row] if row < len(lines) else ""
    opens = bool(line.strip()) and not line[0].isspace() and line[0] not in ")]}"
    return row == 0 or (opens and not lines[row - 1].strip())


def extract(before: str, hunks: list[Hunk]) -> tuple[int, str, list[Hunk]]:
    """The top-level statements around the first two hunks (with ``EXTRACT_MARGIN`` lines
    more on each side), and the hunks inside them renumbered."""
    lines = before.split("\n")
    top = max(0, hunks[0].start - EXTRACT_MARGIN)
    bottom = min(len(lines), hunks[1].start + len(hunks[1].old) + EXTRACT_MARGIN)
    while not _top_level_start(lines, top):
        top -= 1
    while bottom < len(lines) and not _top_level_start(lines, bottom):
        bottom += 1
    while bottom > top and not lines[bottom - 1].strip():
        bottom -= 1
    inside = [h for h in hunks if h.start + len(h.old) <= bottom]
    moved = [Hunk(h.start - top, h.old, h.new) for h in inside]
    return top, "\n".join(lines[top:bottom]), moved


def parses_as_well(whole: str, part: str, language: str) -> bool:
    """The extract has no syntax errors the whole file does not have."""
    from tests.bench.nextedit_score import errors_of

    return errors_of(part, language) <= errors_of(whole, language)


def candidates(repo: Path, name: str) -> Iterator[Case]:
    log = git(repo, "log", "--no-merges", "--format=%H", "-n", "3000", "HEAD")
    per_path: dict[str, int] = {}
    for commit in log.split():
        files = git(repo, "diff-tree", "--no-commit-id", "-r", "--name-status", commit)
        for row in files.splitlines():
            status, _, path = row.partition("\t")
            language = LANGUAGES.get(Path(path).suffix)
            if status != "M" or language is None or "vendor/" in path:
                continue
            if per_path.get(path, 0) >= PER_PATH:
                continue
            diff = git(repo, "diff", "-U0", f"{commit}^", commit, "--", path)
            hunks = parse_hunks(diff)
            if not usable(hunks):
                continue
            before = git(repo, "show", f"{commit}^:{path}")
            if before.count("\n") > MAX_FILE_LINES or "\r" in before:
                continue
            top, text, moved = extract(before, hunks)
            if len(moved) < 2 or text.count("\n") >= MAX_EXTRACT_LINES:
                continue
            if not parses_as_well(before, text, language):
                continue
            per_path[path] = per_path.get(path, 0) + 1
            yield Case(name, commit, path, language, top, text, tuple(moved))
            break  # one case per commit


def build(mirrors: list[tuple[Path, str]]) -> list[Case]:
    cases = []
    for repo, name in mirrors:
        for picked, case in enumerate(candidates(repo, name), 1):
            cases.append(case)
            if picked >= PER_REPO:
                break
    return cases


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "build":
        print("usage: python -m tests.bench.nextedit_cases build OWNER/NAME=MIRROR ...")
        return 2
    mirrors = [(Path(spec.split("=", 1)[1]), spec.split("=", 1)[0]) for spec in argv[1:]]
    cases = build(mirrors)
    SET_DIR.mkdir(exist_ok=True)
    with CASES_FILE.open("w", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps(asdict(case), ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases written to {CASES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
