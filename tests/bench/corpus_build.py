"""Rebuild ``tests/bench/corpus/`` from local git mirrors of the source repositories.

    python -m tests.bench.corpus_build /path/to/mirrors

``/path/to/mirrors/<owner>+<name>/repo`` must be a clone (bare or not) holding the commit named
below. Writes the extracts (gzip, byte-for-byte the files at that commit) and ``chunks.json``:
how many lines each insert-only hunk of the last 3,000 non-merge commits touching the same kind of
file added, per repository — real data on the size of the pieces code is written in. The
benchmark reads only the committed results; this script is here so anyone can check them.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
HISTORY_COMMITS = 3000
HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@", re.M)


@dataclass(frozen=True)
class Source:
    repo: str  # owner/name
    commit: str
    license: str
    files: tuple[str, ...]
    history: tuple[str, ...]  # pathspecs whose history gives the chunk sizes


SOURCES = (
    Source(
        "aio-libs/aiohttp",
        "495e778360d1924da63e16dba0f0d76baf56a56a",
        "Apache-2.0",
        (
            "aiohttp/client.py",
            "aiohttp/client_reqrep.py",
            "aiohttp/connector.py",
            "aiohttp/helpers.py",
            "aiohttp/http_parser.py",
            "aiohttp/multipart.py",
            "aiohttp/payload.py",
            "aiohttp/web_response.py",
        ),
        ("aiohttp/*.py",),
    ),
    Source(
        "microsoft/vscode-languageserver-node",
        "0da5527ddf79ec7b10c953a1b1e6e007c9678326",
        "MIT",
        ("client/src/common/client.ts",),
        ("*.ts",),
    ),
    Source(
        "gin-gonic/gin",
        "dcaa4296d111981ffb31ac3eba90bb63e1eb5ab9",
        "MIT",
        ("context.go",),
        ("*.go",),
    ),
    Source(
        "serde-rs/json",
        "827a315bf2198558f0325b07bcc1e2cd973aba2f",
        "MIT OR Apache-2.0",
        ("src/ser.rs",),
        ("src/*.rs",),
    ),
)


def extract_name(source: Source, path: str) -> str:
    """``aio-libs/aiohttp`` + ``aiohttp/client.py`` -> ``aiohttp__client.py.gz``."""
    return f"{source.repo.split('/')[1]}__{path.rsplit('/', 1)[-1]}.gz"


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


def insert_hunk_sizes(repo: Path, commit: str, pathspecs: tuple[str, ...]) -> Counter[int]:
    """Lines added per insert-only hunk (nothing removed) in recent history."""
    log = git(
        repo,
        "log",
        "--no-merges",
        f"-n{HISTORY_COMMITS}",
        "-p",
        "--unified=0",
        "--format=commit %H",
        commit,
        "--",
        *pathspecs,
    )
    sizes: Counter[int] = Counter()
    for match in HUNK.finditer(log):
        removed = int(match.group(1)) if match.group(1) is not None else 1
        added = int(match.group(2)) if match.group(2) is not None else 1
        if removed == 0 and added > 0:
            sizes[added] += 1
    return sizes


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    mirrors = Path(argv[0])
    CORPUS.mkdir(exist_ok=True)
    chunks: dict[str, dict[str, int]] = {}
    for source in SOURCES:
        repo = mirrors / source.repo.replace("/", "+") / "repo"
        for path in source.files:
            data = git(repo, "show", f"{source.commit}:{path}")
            # mtime=0: the same input gives the same bytes.
            (CORPUS / extract_name(source, path)).write_bytes(gzip.compress(data, mtime=0))
        sizes = insert_hunk_sizes(repo, source.commit, source.history)
        chunks[source.repo] = {str(k): v for k, v in sorted(sizes.items())}
    (CORPUS / "chunks.json").write_text(json.dumps(chunks, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
