"""The workspace file policy: what the server may read, and never reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qwen_lsp.context.file_policy import FilePolicy, is_secret_name, is_secret_path

SECRET_NAMES = [
    ".env",
    ".env.local",
    ".env.production",
    "prod.env",
    "server.pem",
    "tls.key",
    "id_rsa",
    "id_rsa.pub",
    "id_ed25519",
    "cert.p12",
    "cert.pfx",
    "ca.crt",
    "ca.cer",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "credentials",
    "credentials.json",
    "aws_credentials.ini",
    ".git-credentials",
    "secrets.yaml",
    "terraform.tfstate",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_like_names(name: str) -> None:
    assert is_secret_name(name)
    assert is_secret_name(name.upper())


@pytest.mark.parametrize("name", ["main.py", "secrets.py", "environment.ts", "keys.go", "env.rs"])
def test_ordinary_source_names_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        "a/node_modules/x/index.js",
        ".venv/lib/x.py",
        "x/.ssh/config",
        "src/__pycache__/m.py",
        ".aws/config",
    ],
)
def test_paths_inside_skipped_directories(path: str) -> None:
    assert is_secret_path(path)


def write(root: Path, relative: str, text: str = "x = 1\n") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    write(root, "src/app.py")
    write(root, "src/util.ts", "export const x = 1;\n")
    write(root, ".env", "API_KEY=sk-live-secret\n")
    write(root, "config/.env.local", "TOKEN=abc\n")
    write(root, "keys/server.pem", "-----BEGIN PRIVATE KEY-----\n")
    write(root, ".git/HEAD", "ref: refs/heads/main\n")
    write(root, "node_modules/lib/index.js", "module.exports = 1;\n")
    write(root, "env/pyvenv.cfg", "home = /usr\n")
    write(root, "env/lib/site.py")
    write(root, "build/out.py")
    write(root, "logs/app.log", "noise\n")
    write(root, "logs/keep.log", "kept\n")
    write(root, "src/gen/big.py", "x = 1\n" * 5000)
    (root / "src/blob.py").write_bytes(b"\x00\x01binary")
    write(root, ".gitignore", "build/\n*.log\n!keep.log\n")
    write(root, "src/.gitignore", "gen/\n")
    return root


def walked(policy: FilePolicy, root: Path, limit: int = 1000) -> set[str]:
    return {os.path.relpath(p, os.path.realpath(root)) for p in policy.walk(limit)}


def test_walk_respects_every_rule(workspace: Path) -> None:
    policy = FilePolicy([str(workspace)], max_file_bytes=10_000)
    found = walked(policy, workspace)
    assert "src/app.py" in found and "src/util.ts" in found
    assert "logs/keep.log" in found  # re-included by a negated pattern
    for hidden in (
        ".env",
        "config/.env.local",
        "keys/server.pem",
        ".git/HEAD",
        "node_modules/lib/index.js",
        "env/lib/site.py",
        "build/out.py",
        "logs/app.log",
        "src/gen/big.py",
    ):
        assert hidden not in found, hidden


def test_read_text_refuses_secrets_binary_and_big_files(workspace: Path) -> None:
    policy = FilePolicy([str(workspace)], max_file_bytes=10_000)
    assert policy.read_text(str(workspace / "src/app.py")) == "x = 1\n"
    assert policy.read_text(str(workspace / ".env")) is None
    assert policy.read_text(str(workspace / "keys/server.pem")) is None
    assert policy.read_text(str(workspace / "src/blob.py")) is None
    (workspace / "src/huge.py").write_text("y = 2\n" * 5000)
    assert policy.read_text(str(workspace / "src/huge.py")) is None


def test_user_ignore_globs(workspace: Path) -> None:
    policy = FilePolicy([str(workspace)], ignore_globs=["*.ts"])
    found = walked(policy, workspace)
    assert "src/util.ts" not in found and "src/app.py" in found


def test_gitignore_can_be_disabled(workspace: Path) -> None:
    policy = FilePolicy([str(workspace)], use_gitignore=False)
    assert "build/out.py" in walked(policy, workspace)
    assert ".env" not in walked(policy, workspace)  # secrets stay out regardless


def test_no_escape_through_symlinks_or_dotdot(tmp_path: Path, workspace: Path) -> None:
    outside = write(tmp_path, "outside/private.py", "TOKEN = 'x'\n")
    (workspace / "src/link.py").symlink_to(outside)
    (workspace / "linked_dir").symlink_to(outside.parent, target_is_directory=True)
    (workspace / "src/env_alias.txt").symlink_to(workspace / ".env")
    policy = FilePolicy([str(workspace)])
    found = walked(policy, workspace)
    assert "src/link.py" not in found
    assert not any(p.startswith("linked_dir") for p in found)
    assert policy.read_text(str(workspace / "src/link.py")) is None
    assert policy.read_text(str(workspace / "src/../../outside/private.py")) is None
    assert policy.read_text(str(workspace / "src/env_alias.txt")) is None
    assert policy.read_text(str(outside)) is None


def test_inner_symlink_to_a_workspace_file_is_allowed(workspace: Path) -> None:
    (workspace / "src/alias.py").symlink_to(workspace / "src/app.py")
    policy = FilePolicy([str(workspace)])
    assert policy.read_text(str(workspace / "src/alias.py")) == "x = 1\n"


def test_walk_is_bounded_and_deterministic(workspace: Path) -> None:
    for i in range(30):
        write(workspace, f"many/m{i:02}.py")
    policy = FilePolicy([str(workspace)])
    first = list(policy.walk(5))
    assert len(first) == 5
    assert first == list(FilePolicy([str(workspace)]).walk(5))


def test_relative_paths_and_roots(workspace: Path, tmp_path: Path) -> None:
    policy = FilePolicy([str(workspace)])
    assert policy.relative(str(workspace / "src/app.py")) == "src/app.py"
    assert policy.relative(str(tmp_path / "elsewhere.py")) is None
