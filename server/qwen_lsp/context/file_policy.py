"""Which workspace files the server may read, and reading them safely.

One policy for everything that reads files the client did not send us (the workspace index, the
snippet reader): stay inside the workspace folders (symlinks resolved, no ``..`` escape), never
touch secret-like files or tool/VCS/dependency directories, respect ``.gitignore`` and the user's
``context.ignore_globs``, skip binary and oversized files. Kept free of LSP and tree-sitter so
other features (e.g. security hardening, code actions) can reuse it.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pathspec import GitIgnoreSpec

log = logging.getLogger(__name__)

# File names (matched case-insensitively against the base name) that may hold credentials.
SECRET_FILE_GLOBS: tuple[str, ...] = (
    ".env",
    ".env*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p8",
    "*.p12",
    "*.pfx",
    "*.crt",
    "*.cer",
    "*.der",
    "*.csr",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.gpg",
    "*.asc",
    "*.ovpn",
    "*.tfvars",
    "*.tfstate",
    "*.tfstate.*",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.ppk",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".htpasswd",
    ".git-credentials",
    ".dockercfg",
    "credentials",
    "*credential*",
    "secrets.json",
    "secrets.yml",
    "secrets.yaml",
    "secrets.toml",
    "secrets.ini",
    "*.secret",
    "*.secrets",
    "known_hosts",
    "authorized_keys",
)

# Directories never entered: VCS data, dependencies, virtualenvs, caches, credential stores.
SKIPPED_DIRS: frozenset[str] = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "_darcs",
        "node_modules",
        "bower_components",
        ".venv",
        "venv",
        ".virtualenv",
        "virtualenv",
        ".virtualenvs",
        ".direnv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        "site-packages",
        "dist-packages",
        ".ssh",
        ".gnupg",
        ".aws",
        ".azure",
        ".kube",
        ".docker",
        ".terraform",
    }
)
# A directory holding one of these is a virtualenv / conda env even under another name.
VENV_MARKERS: tuple[str, ...] = ("pyvenv.cfg", "conda-meta")
BINARY_PROBE_BYTES = 8192


def _lower_globs(globs: Iterable[str]) -> tuple[str, ...]:
    return tuple(g.lower() for g in globs)


_SECRET_GLOBS = _lower_globs(SECRET_FILE_GLOBS)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a file's base name looks like it holds credentials."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in _SECRET_GLOBS)


def is_skipped_dir_name(name: str) -> bool:
    return name in SKIPPED_DIRS


def is_secret_path(path: str) -> bool:
    """A secret-like file name, or any file inside a skipped directory (``.git/``, ``.ssh/``...)."""
    parts = path.replace("\\", "/").split("/")
    if any(is_skipped_dir_name(part) for part in parts[:-1]):
        return True
    return is_secret_name(parts[-1])


def looks_binary(data: bytes) -> bool:
    """NUL bytes near the start mean binary content (the same rule git uses)."""
    return b"\x00" in data[:BINARY_PROBE_BYTES]


@dataclass
class _IgnoreLevel:
    """The ``.gitignore`` rules of one directory (paths matched relative to it)."""

    base: str
    spec: GitIgnoreSpec | None


@dataclass
class FilePolicy:
    """Read access rules for one set of workspace folders."""

    roots: Sequence[str]
    max_file_bytes: int = 1_000_000
    ignore_globs: Sequence[str] = ()
    use_gitignore: bool = True
    _real_roots: tuple[str, ...] = field(init=False, repr=False)
    _user_spec: GitIgnoreSpec | None = field(init=False, repr=False)
    _gitignores: dict[str, GitIgnoreSpec | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        real = {os.path.realpath(r) for r in self.roots if r}
        self._real_roots = tuple(sorted(real, key=len, reverse=True))
        patterns = [g for g in self.ignore_globs if g.strip()]
        self._user_spec = GitIgnoreSpec.from_lines(patterns) if patterns else None
        self._gitignores = {}

    # ---- location

    def root_of(self, path: str) -> str | None:
        """The workspace folder containing ``path`` after resolving symlinks, else None."""
        real = os.path.realpath(path)
        for root in self._real_roots:
            if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                return root
        return None

    def relative(self, path: str) -> str | None:
        """``path`` relative to its workspace folder (``/`` separators), None when outside."""
        root = self.root_of(path)
        if root is None:
            return None
        rel = os.path.relpath(os.path.realpath(path), root)
        return rel.replace(os.sep, "/")

    # ---- decisions

    def allows_dir(self, path: str) -> bool:
        """Whether a directory may be entered during a workspace walk."""
        rel = self.relative(path)
        if rel is None:
            return False
        if rel == ".":
            return True
        if is_skipped_dir_name(os.path.basename(path.rstrip(os.sep))):
            return False
        if any(os.path.exists(os.path.join(path, marker)) for marker in VENV_MARKERS):
            return False
        return not self._ignored(path, rel, is_dir=True)

    def allows_file(self, path: str) -> bool:
        """Every rule except reading the content (size and binary checks need the file).

        Directory rules apply to the part of the path inside the workspace folder, so a
        workspace that itself lives under e.g. ``site-packages`` still works."""
        if is_secret_name(os.path.basename(path)):
            return False
        rel = self.relative(path)
        if rel is None or rel == "." or is_secret_path(rel):
            return False
        return not self._ignored(path, rel, is_dir=False)

    def _ignored(self, path: str, rel: str, *, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        if self._user_spec is not None and self._user_spec.match_file(rel + suffix):
            return True
        if not self.use_gitignore:
            return False
        return self._gitignored(path, rel, suffix)

    def _gitignored(self, path: str, rel: str, suffix: str) -> bool:
        """Git semantics: the deepest ``.gitignore`` with a matching rule decides."""
        root = self.root_of(path)
        assert root is not None
        parts = rel.split("/")
        decision: bool | None = None
        for depth in range(len(parts)):
            base = os.path.join(root, *parts[:depth])
            spec = self._gitignore_at(base)
            if spec is None:
                continue
            result = spec.check_file("/".join(parts[depth:]) + suffix)
            if result.include is not None:
                decision = result.include
        return bool(decision)

    def _gitignore_at(self, directory: str) -> GitIgnoreSpec | None:
        if directory not in self._gitignores:
            self._gitignores[directory] = _load_gitignore(directory)
        return self._gitignores[directory]

    def forget_gitignore(self, directory: str) -> None:
        """Drop a cached ``.gitignore`` (it changed on disk)."""
        self._gitignores.pop(directory, None)

    # ---- reading

    def read_text(self, path: str) -> str | None:
        """The file's text when every rule allows it: inside the workspace, not secret, not
        ignored, a regular file no bigger than ``max_file_bytes``, not binary. Else None."""
        if not self.allows_file(path):
            return None
        data = self._read_bytes(path)
        if data is None or looks_binary(data):
            return None
        return data.decode("utf-8", "replace")

    def _read_bytes(self, path: str) -> bytes | None:
        real = os.path.realpath(path)
        try:
            info = os.stat(real)
            if not stat.S_ISREG(info.st_mode) or info.st_size > self.max_file_bytes:
                return None
            with open(real, "rb") as handle:
                data = handle.read(self.max_file_bytes + 1)
        except OSError:
            return None
        return data if len(data) <= self.max_file_bytes else None

    # ---- walking

    def walk(self, max_files: int) -> Iterator[str]:
        """Allowed files under the workspace folders (breadth-first per folder, sorted names so
        the choice under ``max_files`` is deterministic). Symlinked directories are not entered;
        symlinked files are yielded only when they resolve inside the workspace."""
        count = 0
        for root in sorted({os.path.realpath(r) for r in self.roots if r}):
            for path in self._walk_root(root):
                if count >= max_files:
                    return
                count += 1
                yield path

    def _walk_root(self, root: str) -> Iterator[str]:
        queue = [root]
        while queue:
            directory = queue.pop(0)
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                continue
            subdirs: list[str] = []
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if self.allows_dir(entry.path):
                            subdirs.append(entry.path)
                    elif entry.is_file() and self.allows_file(entry.path):
                        yield entry.path
                except OSError:
                    continue
            queue.extend(subdirs)


def _load_gitignore(directory: str) -> GitIgnoreSpec | None:
    path = os.path.join(directory, ".gitignore")
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(256_000).splitlines()
    except OSError:
        return None
    try:
        return GitIgnoreSpec.from_lines(lines)
    except Exception as exc:  # a malformed pattern must not stop indexing
        log.info("ignoring unreadable %s: %s", path, exc)
        return None
