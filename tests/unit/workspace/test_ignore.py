"""Ignore-file matching: git's own answer is the reference (random ignore files, nested, checked
against ``git ls-files --ignored`` on real files), and every match is bounded in time."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from qwen_lsp.context.file_policy import FilePolicy
from qwen_lsp.workspace.ignore import MAX_PATTERN_CHARS, IgnoreRules, compile_pattern

BACKTRACKING = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"  # the pattern from the report
ATOMS = ["a", "b", "ab", "*", "?", "[ab]", "[!a]", "[a-b]", "\\*", "c", "[[:alpha:]]"]
NAMES = ["a", "b", "ab", "ba", "aab", "c", "abc", "a*", "bb"]


def random_pattern(rng: random.Random) -> str:
    components = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.15:
            components.append("**")
        else:
            components.append("".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 3))))
    pattern = "/".join(components)
    pattern = ("/" if rng.random() < 0.2 else "") + pattern + ("/" if rng.random() < 0.2 else "")
    return ("!" if rng.random() < 0.25 else "") + pattern


def random_paths(rng: random.Random) -> list[str]:
    paths = sorted(
        {"/".join(rng.choice(NAMES) for _ in range(rng.randint(1, 4))) for _ in range(12)}
    )
    return sorted(p for p in paths if not any(q.startswith(p + "/") for q in paths))


def git_ignored(root: Path) -> set[str]:
    out = subprocess.run(
        ["git", "-c", "core.excludesFile=/dev/null", "ls-files", "-o", "-i", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line for line in out.splitlines() if not line.endswith(".gitignore")}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is the reference")
@pytest.mark.parametrize("seed", range(4))
def test_decisions_match_git_on_random_ignore_files(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    for trial in range(25):
        root = tmp_path / f"t{trial}"
        root.mkdir()
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        paths = random_paths(rng)
        for path in paths:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text("x\n")
        ignores = {"": [random_pattern(rng) for _ in range(rng.randint(1, 4))]}
        for nested in ("a/", "ab/", "a/b/"):  # nested ignore files, deeper ones decide first
            if (root / nested).is_dir():
                ignores[nested] = [random_pattern(rng) for _ in range(rng.randint(1, 3))]
        for where, lines in ignores.items():
            (root / where / ".gitignore").write_text("\n".join(lines) + "\n")
        policy = FilePolicy([str(root)])
        ours = {p for p in paths if not policy.allows_file(str(root / p))}
        assert ours == git_ignored(root), (ignores, paths)


@pytest.mark.parametrize(
    ("lines", "path", "is_dir", "ignored"),
    [
        (["*.log", "!keep.log"], "logs/keep.log", False, False),
        (["*.log", "!keep.log"], "logs/app.log", False, True),
        (["build/"], "build", True, True),
        (["build/"], "build", False, None),  # directory-only
        (["/top.py"], "sub/top.py", False, None),  # anchored
        (["top.py"], "sub/top.py", False, True),  # any level
        (["a/**/b"], "a/x/y/b", False, True),
        (["a/**/b"], "a/b", False, True),
        (["**/c"], "x/c", False, True),
        (["x/**"], "x", True, None),  # everything inside, not the directory
        (["x/**"], "x/y", False, True),
        (["\\#hash", "\\!bang"], "#hash", False, True),
        (["\\#hash", "\\!bang"], "!bang", False, True),
        (["# a comment", ""], "# a comment", False, None),
        (["trail   "], "trail", False, True),
        (["sp\\ "], "sp ", False, True),
        (["[0-9][[:alpha:]]?"], "1ab", False, True),
        (["[!0-9]*"], "9x", False, None),
        (["[z-a]x"], "ax", False, None),  # a reversed range matches nothing
        (["[abc"], "[abc", False, None),  # unterminated: never matches, as in git
    ],
)
def test_gitignore_semantics(lines: list[str], path: str, is_dir: bool, ignored: bool | None):
    assert IgnoreRules.from_lines(lines).decide(path, is_dir) is ignored


def test_nested_ignore_files(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    for path, text in {
        ".gitignore": "*.log\nbuild/\n",
        "logs/.gitignore": "!keep.log\n",
        "build/.gitignore": "!out.py\n",  # never read: its directory is ignored
        "logs/keep.log": "",
        "logs/app.log": "",
        "build/out.py": "",
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    policy = FilePolicy([str(root)])
    assert policy.allows_file(str(root / "logs" / "keep.log"))
    assert not policy.allows_file(str(root / "logs" / "app.log"))
    assert not policy.allows_file(str(root / "build" / "out.py"))


def test_the_backtracking_pattern_is_matched_in_bounded_time() -> None:
    rules = IgnoreRules.from_lines([BACKTRACKING, "**/x*y*z/**/q*r*s", "a/**/b/**/c*d*e*f"])
    names = ["a" * 28, "a" * 40, "a" * 254, "ab" * 120 + "a", "/".join(["a" * 40] * 50)]
    started = time.perf_counter()
    for _ in range(100):
        for name in names:
            assert rules.decide(name, False) is None
            assert rules.decide(name + "b", False) is True
    elapsed = time.perf_counter() - started
    # 1000 decisions; a backtracking translation takes 14-20 s for ONE 28-character name.
    assert elapsed < 2.0, f"{elapsed:.2f} s"


def test_long_patterns_are_skipped_with_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="qwen_lsp.workspace.ignore"):
        rules = IgnoreRules.from_lines(
            ["x" * (MAX_PATTERN_CHARS + 1)] * 3 + ["*.log"], "a/.gitignore"
        )
    assert len(rules.patterns) == 1
    (record,) = caplog.records
    assert "a/.gitignore: 3 pattern(s) skipped" in record.getMessage()


def test_regexes_have_no_nested_unbounded_repeats() -> None:
    """Structural check of the bound: the run after each star but the last is found by a lazy
    scan inside an atomic group; only the last star (``[^/]*b``) can backtrack."""
    regex = compile_pattern(BACKTRACKING).regex.pattern
    atomic = re.findall(r"\(\?=\(\?P<\w+>\[\^/\]\*\?a\)\)\(\?P=\w+\)", regex)
    assert len(atomic) == BACKTRACKING.count("*") - 1
    assert regex.count("[^/]*b") == 1


@pytest.mark.timeout(10)
def test_a_fifo_gitignore_is_skipped_not_opened(tmp_path: Path) -> None:
    (tmp_path / "ws" / "sub").mkdir(parents=True)
    os.mkfifo(tmp_path / "ws" / ".gitignore")
    (tmp_path / "ws" / "sub" / ".gitignore").symlink_to("/dev/zero")
    (tmp_path / "ws" / "sub" / "a.py").write_text("x = 1\n")
    os.mkfifo(tmp_path / "ws" / "sub" / "pipe.py")
    policy = FilePolicy([str(tmp_path / "ws")])
    assert list(policy.walk(10)) == [str(tmp_path / "ws" / "sub" / "a.py")]
    # What the engine reads on its event loop: the gateway's rules, no ignore files.
    assert policy.read_indexed_text(str(tmp_path / "ws" / "sub" / "a.py")) == "x = 1\n"
    assert policy.read_indexed_text(str(tmp_path / "ws" / "sub" / "pipe.py")) is None
