"""Which workspace files the server may read, and reading them safely.

One policy for everything that reads files the client did not send us (the workspace index, the
snippet reader): the gateway's rules (``workspace/files.py``: inside the workspace folders with
links resolved, a regular file of bounded size, not secret-like), plus what indexing skips:
tool/VCS/dependency directories, ``.gitignore`` and the user's ``context.ignore_globs`` (matched
in bounded time by ``workspace/ignore.py``), binary files. Kept free of LSP and tree-sitter so
other features (e.g. security hardening, code actions) can reuse it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ..workspace.files import FileContent, FileMissing, FileRefused, WorkspaceFiles, looks_binary
from ..workspace.ignore import IgnoreRules
from ..workspace.names import CREDENTIAL_DIRS, SECRET_FILE_GLOBS, is_secret_name

log = logging.getLogger(__name__)

__all__ = [
    "SECRET_FILE_GLOBS",
    "SKIPPED_DIRS",
    "FilePolicy",
    "is_secret_name",
    "is_secret_path",
    "looks_binary",
]

# Directories never entered: credential stores and VCS data (workspace/names.py), dependencies,
# virtualenvs, caches.
SKIPPED_DIRS: frozenset[str] = CREDENTIAL_DIRS | frozenset(
    {
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
    }
)
# A directory holding one of these is a virtualenv / conda env even under another name.
VENV_MARKERS: tuple[str, ...] = ("pyvenv.cfg", "conda-meta")
GITIGNORE_MAX_BYTES = 256_000
# Directories whose ignore decision is remembered (a walk asks about each one many times).
DIR_CACHE_LIMIT = 100_000


def is_skipped_dir_name(name: str) -> bool:
    return name in SKIPPED_DIRS


def is_secret_path(path: str) -> bool:
    """A secret-like file name, or any file inside a skipped directory (``.git/``, ``.ssh/``...)."""
    parts = path.replace("\\", "/").split("/")
    if any(is_skipped_dir_name(part) for part in parts[:-1]):
        return True
    return is_secret_name(parts[-1])


@dataclass
class FilePolicy:
    """Read access rules for one set of workspace folders."""

    roots: Sequence[str]
    max_file_bytes: int = 1_000_000
    ignore_globs: Sequence[str] = ()
    use_gitignore: bool = True
    files: WorkspaceFiles = field(init=False, repr=False)
    _user_rules: IgnoreRules = field(init=False, repr=False)
    _gitignores: dict[str, IgnoreRules | None] = field(init=False, repr=False)
    _dir_ignored: dict[str, bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.files = WorkspaceFiles(self.roots, self.max_file_bytes)
        self._user_rules = IgnoreRules.from_lines(self.ignore_globs, "context.ignore_globs")
        self._gitignores = {}
        self._dir_ignored = {}

    # ---- location

    def root_of(self, path: str) -> str | None:
        """The workspace folder containing ``path`` after resolving symlinks, else None."""
        return self.files.root_of(os.path.realpath(path))

    def relative(self, path: str) -> str | None:
        """``path`` relative to its workspace folder (``/`` separators), None when outside."""
        located = self._locate(path)
        return None if located is None else located[1]

    def _locate(self, path: str) -> tuple[str, str] | None:
        """(workspace folder, relative path) of ``path`` with links resolved (one realpath)."""
        real = os.path.realpath(path)
        root = self.files.root_of(real)
        if root is None:
            return None
        return root, os.path.relpath(real, root).replace(os.sep, "/")

    # ---- decisions

    def allows_dir(self, path: str) -> bool:
        """Whether a directory may be entered during a workspace walk."""
        located = self._locate(path)
        if located is None:
            return False
        root, rel = located
        if rel == ".":
            return True
        if is_skipped_dir_name(os.path.basename(path.rstrip(os.sep))):
            return False
        if any(os.path.lexists(os.path.join(path, marker)) for marker in VENV_MARKERS):
            return False
        return not self._ignored(root, rel, is_dir=True)

    def allows_file(self, path: str) -> bool:
        """Every rule except reading the content (size and binary checks need the file).

        Directory rules apply to the part of the path inside the workspace folder, so a
        workspace that itself lives under e.g. ``site-packages`` still works."""
        if is_secret_name(os.path.basename(path)):
            return False
        located = self._locate(path)
        if located is None or located[1] == "." or is_secret_path(located[1]):
            return False
        return not self._ignored(*located, is_dir=False)

    def _ignored(self, root: str, rel: str, *, is_dir: bool) -> bool:
        """Git semantics: a path inside an ignored directory is ignored; else the deepest ignore
        file with a matching pattern decides (the user's globs first)."""
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            if self._ignored_dir(root, parts[:depth]):
                return True
        return self._decide(root, parts, is_dir)

    def _ignored_dir(self, root: str, parts: list[str]) -> bool:
        key = os.path.join(root, *parts)
        ignored = self._dir_ignored.get(key)
        if ignored is None:
            ignored = self._decide(root, parts, True)
            if len(self._dir_ignored) >= DIR_CACHE_LIMIT:
                self._dir_ignored.clear()
            self._dir_ignored[key] = ignored
        return ignored

    def _decide(self, root: str, parts: list[str], is_dir: bool) -> bool:
        if self._user_rules.decide("/".join(parts), is_dir):
            return True
        if not self.use_gitignore:
            return False
        decision: bool | None = None
        for depth in range(len(parts)):
            rules = self._gitignore_at(os.path.join(root, *parts[:depth]))
            if rules is not None:
                result = rules.decide("/".join(parts[depth:]), is_dir)
                decision = decision if result is None else result
        return bool(decision)

    def _gitignore_at(self, directory: str) -> IgnoreRules | None:
        if directory not in self._gitignores:
            self._gitignores[directory] = self._load_gitignore(directory)
        return self._gitignores[directory]

    def _load_gitignore(self, directory: str) -> IgnoreRules | None:
        """A ``.gitignore`` is read like any other file: through the gateway (a FIFO or a link
        out of the workspace is refused, never opened), at most GITIGNORE_MAX_BYTES."""
        path = os.path.join(directory, ".gitignore")
        try:
            text = self.files.read_text(path, GITIGNORE_MAX_BYTES, errors="replace")
        except FileMissing:
            return None
        except FileRefused as exc:
            log.info("ignore file not used: %s", exc)
            return None
        return IgnoreRules.from_lines(text.splitlines(), path)

    def forget_gitignore(self, directory: str) -> None:
        """Drop a cached ``.gitignore`` (it changed on disk)."""
        self._gitignores.pop(directory, None)
        self._dir_ignored.clear()

    # ---- reading

    def read_file(self, path: str) -> FileContent | None:
        """The file's bytes when every rule allows it: inside the workspace, not secret, not
        ignored, a regular file no bigger than ``max_file_bytes``, not binary. Else None."""
        if not self.allows_file(path):
            return None
        try:
            content = self.files.read(path)
        except FileRefused:
            return None
        return None if looks_binary(content.data) else content

    def read_text(self, path: str) -> str | None:
        content = self.read_file(path)
        return None if content is None else content.data.decode("utf-8", "replace")

    def read_indexed_text(self, path: str) -> str | None:
        """A file the index worker already admitted: the gateway's rules only (folder, not
        secret, regular, bounded, not binary). No ignore files are read or matched, so this is
        cheap enough for the event loop."""
        try:
            content = self.files.read(path)
        except FileRefused:
            return None
        if is_secret_path(self.relative(path) or "") or looks_binary(content.data):
            return None
        return content.data.decode("utf-8", "replace")

    # ---- walking

    def walk(self, max_files: int) -> Iterator[str]:
        """Allowed files under the workspace folders (breadth-first per folder, sorted names so
        the choice under ``max_files`` is deterministic). Symlinked directories are not entered;
        symlinked files are yielded only when they resolve inside the workspace."""
        count = 0
        for root in sorted(self.files.roots):
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
