"""Pick the completion cases from the committed repository extracts (run once; the result,
``data/cases.json``, is committed). Deterministic: ``python -m tests.bench.realmodel.make_cases``.

CrossCodeEval-style: a target is the rest of a line (from its indentation or from a point inside
it) or the body of a small block (2-6 lines); it is *cross-file* when it uses a name that another
file of the extract declares and its own file does not, *in-file* when every declared name it uses
is the file's own. Declarations are found by ``syntax_facts`` (not by qwen-lsp). Lines that are
comments, strings, imports or definition headers are skipped, and so are targets whose text
already appears verbatim earlier in the file (a copy, not a completion).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from .cases import REPOS, Case, save_cases
from .syntax_facts import (
    bound_names,
    declared_names,
    identifiers,
    language_of,
    parse,
    walk,
    words,
)

SEED = 14
MIN_LINE = 12  # skip the top of a file (imports, module docs)
QUOTAS = {  # per repository
    ("line", "cross_file"): 5,
    ("line", "in_file"): 3,
    ("multiline", "cross_file"): 2,
    ("multiline", "in_file"): 2,
}
SKIP_LINE = re.compile(
    r"^\s*(#|//|/\*|\*|\"\"\"|'''|import\b|from\b|use\b|package\b|mod\b|@|"
    r"def\b|class\b|async def\b|func\b|fn\b|pub\b|impl\b|struct\b|enum\b|trait\b|type\b|"
    r"interface\b|export\b|const \w+ = \(|#\[)"
)
CLOSERS_ONLY = re.compile(r"^[\s})\];,]*$")
SPLITS = re.compile(r"(?:=|:=|return|=>)\s|\(")
NOISE_START = re.compile(r"^\s*(#|//|/\*|\"\"\"|\'\'\'|\")")
BLOCKS = {"python": "block", "go": "block", "rust": "block", "typescript": "statement_block"}
MIN_BLOCK_LINES, MAX_BLOCK_LINES = 2, 6
# Names a repository declares that are also standard-library methods or types the code mostly
# means instead (``http.HandlerFunc``, ``io.Writer.Write``, ``FromStr::from_str``): a use of
# them is no evidence of a cross-file dependency.
NAMESAKES: dict[str, frozenset[str]] = {
    "go": words(
        "New Write ServeHTTP Value HandlerFunc Handler Error String Header WriteHeader Flush "
        "Hijack Read Close Context Len Less Swap Get Set Del Add Method WithValue"
    ),
    "rust": words("fmt from_str cmp partial_cmp eq hash new len is_empty clone default Error"),
    "python": words("get format encode decode update"),
    "typescript": words("then catch get set has delete json text fetch"),
}
# Reviewed by hand: (repo, path, 0-based line) of cases that are not what they claim.
VETO: frozenset[tuple[str, str, int]] = frozenset()


@dataclass(frozen=True)
class Candidate:
    path: str
    kind: str
    scope: str
    line: int
    character: int
    target: str
    cross: tuple[str, ...]
    local: tuple[str, ...]
    cursor: str


def source_files(repo: Path) -> dict[str, str]:
    files = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if path.is_file() and language_of(rel):
            files[rel] = path.read_text(encoding="utf-8")
    return files


def classify(target: str, language: str, own: set[str], others: set[str]) -> tuple:
    """(scope, cross-file names, own names); ``own`` holds what the file declares or binds."""
    names = list(dict.fromkeys(identifiers(target, language)))
    namesakes = NAMESAKES[language]
    cross = tuple(
        n for n in names if n in others and n not in own and n not in namesakes and len(n) >= 3
    )
    local = tuple(n for n in names if n in own)
    scope = "cross_file" if cross else ("in_file" if local else "")
    return scope, cross, local


NOISE = ("string", "string_content", "raw_string_literal", "template_string")
PARAMETER_LISTS = ("parameters", "formal_parameters", "parameter_list", "type_parameters")
IMPORTS = ("import_statement", "import_from_statement", "import_declaration", "use_declaration")


def _noise_rows(text: str, language: str) -> set[int]:
    """Rows inside a comment or string (docstrings, block comments) or a parameter list that
    spans lines (part of a definition header)."""
    rows: set[int] = set()
    for node in walk(parse(text, language).root_node):
        if "comment" in node.type or node.type in NOISE:
            rows.update(range(node.start_point[0] + 1, node.end_point[0] + 1))
        elif node.type in PARAMETER_LISTS or node.type in IMPORTS or _re_export(node):
            rows.update(range(node.start_point[0], node.end_point[0] + 1))
    return rows


def _re_export(node: Node) -> bool:
    return node.type == "export_statement" and any(
        c.type == "export_clause" for c in node.named_children
    )


def line_candidates(
    path: str, text: str, language: str, own: set[str], others: set[str], rng: random.Random
) -> Iterator[Candidate]:
    lines = text.split("\n")
    noise = _noise_rows(text, language)
    for row, line in enumerate(lines):
        stripped = line.strip()
        if row < MIN_LINE or row in noise or not 8 <= len(stripped) <= 100:
            continue
        if SKIP_LINE.match(line) or CLOSERS_ONLY.match(line) or not line.isascii():
            continue
        indent = len(line) - len(line.lstrip())
        starts = [indent]
        starts += [m.end() for m in SPLITS.finditer(line, indent) if len(line) - m.end() >= 6]
        start = starts[0] if len(starts) == 1 or rng.random() < 0.4 else rng.choice(starts[1:])
        target = line[start:]
        scope, cross, local = classify(target, language, own, others)
        prefix = "\n".join(lines[:row]) + "\n" + line[:start]
        if scope and stripped not in prefix:
            cursor = "line_start" if start == indent else "mid_line"
            yield Candidate(path, "line", scope, row, start, target, cross, local, cursor)


def block_candidates(
    path: str, text: str, language: str, own: set[str], others: set[str]
) -> Iterator[Candidate]:
    lines = text.split("\n")
    for node in walk(parse(text, language).root_node):
        if node.type != BLOCKS[language]:
            continue
        if language == "python":
            first, last = node.start_point[0], node.end_point[0]
            if node.parent is None or node.parent.start_point[0] == first:
                continue  # a one-line compound statement
        else:
            opened, closed = node.start_point[0], node.end_point[0]
            if not lines[opened].rstrip().endswith("{") or lines[closed].strip() != "}":
                continue
            first, last = opened + 1, closed - 1
        if first < MIN_LINE or not MIN_BLOCK_LINES <= last - first + 1 <= MAX_BLOCK_LINES:
            continue
        body = lines[first : last + 1]
        if not all(line.isascii() for line in body) or any(not line.strip() for line in body):
            continue
        if NOISE_START.match(body[0]):
            continue  # a docstring or comment first: not code to complete
        indent = len(body[0]) - len(body[0].lstrip())
        target = "\n".join(body)[indent:]
        scope, cross, local = classify(target, language, own, others)
        prefix = "\n".join(lines[:first])
        if scope and target.strip() not in prefix:
            yield Candidate(
                path, "multiline", scope, first, indent, target, cross, local, "block_start"
            )


def pick(candidates: list[Candidate], quota: int, rng: random.Random) -> list[Candidate]:
    """``quota`` candidates, spread over files (round robin over a seeded shuffle)."""
    by_file: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_file.setdefault(c.path, []).append(c)
    for group in by_file.values():
        rng.shuffle(group)
    files = sorted(by_file)
    rng.shuffle(files)
    chosen: list[Candidate] = []
    while len(chosen) < quota and any(by_file[f] for f in files):
        for f in files:
            if by_file[f] and len(chosen) < quota:
                chosen.append(by_file[f].pop())
    return chosen


def repo_cases(repo: str, rng: random.Random) -> list[Case]:
    files = source_files(REPOS / repo)
    declared = {p: declared_names(t, language_of(p) or "") for p, t in files.items()}
    found: list[Candidate] = []
    for path, text in files.items():
        language = language_of(path) or ""
        own = declared[path] | bound_names(text, language)
        others = set().union(*(names for p, names in declared.items() if p != path))
        found += line_candidates(path, text, language, own, others, rng)
        found += block_candidates(path, text, language, own, others)
    found = [c for c in found if (repo, c.path, c.line) not in VETO]
    cases = []
    taken: set[tuple[str, int]] = set()
    for (kind, scope), quota in QUOTAS.items():
        pool = [
            c
            for c in found
            if c.kind == kind and c.scope == scope and (c.path, c.line) not in taken
        ]
        for c in sorted(pick(pool, quota, rng), key=lambda c: (c.path, c.line)):
            taken.add((c.path, c.line))
            cases.append(
                Case(
                    id=f"{repo}-{kind}-{scope}-{len(cases):02d}",
                    repo=repo,
                    path=c.path,
                    language=language_of(c.path) or "",
                    kind=c.kind,  # type: ignore[arg-type]
                    scope=c.scope,  # type: ignore[arg-type]
                    line=c.line,
                    character=c.character,
                    target=c.target,
                    cross_names=c.cross,
                    local_names=c.local,
                    cursor=c.cursor,
                )
            )
    return cases


def main() -> None:
    rng = random.Random(SEED)
    cases: list[Case] = []
    for repo in sorted(p.name for p in REPOS.iterdir() if p.is_dir()):
        found = repo_cases(repo, rng)
        print(f"{repo}: {len(found)} cases")
        cases += found
    for case in cases:
        case.split()  # the target matches its file
    save_cases(cases, note=f"written by tests/bench/realmodel/make_cases.py (seed {SEED})")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
