"""The one guarded way the server reads and writes files.

Every file the server reads or writes for a feature goes through :class:`WorkspaceFiles`: the
path must lie inside a workspace folder once links are resolved, must not look like it holds
credentials, and must be a regular file of bounded size. Opening never blocks (``O_NONBLOCK``:
a FIFO cannot stall the server), never follows a link swapped in after the check (each directory
below the folder is opened with ``O_NOFOLLOW`` relative to its parent), and the opened descriptor
is checked with ``fstat``, so what was checked is what is read. At most ``max_bytes + 1`` bytes
are ever read (a link to ``/dev/zero`` cannot grow memory). A refusal is a :class:`FileRefused`
whose message says why, for the user; nothing was read or written then.

Files the server owns outside the workspace use the same rules minus the folder rule:
:func:`read_regular_file` (the settings file) and :class:`PrivateDir` (the explanations cache: a
directory only we may use, mode 0700, never a link).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from .names import in_credential_dir, is_secret_name

DEFAULT_MAX_BYTES = 1_000_000
BINARY_PROBE_BYTES = 8192
READ_CHUNK = 1 << 16

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
# Opening relative to a directory descriptor (POSIX) closes the gap between check and use.
HAS_DIR_FD = {os.open, os.mkdir, os.unlink, os.stat} <= os.supports_dir_fd
OPEN_DIR = os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC


class FileRefused(Exception):
    """The gateway will not read or write a path; the message says why, for the user."""


class FileMissing(FileRefused):
    """Nothing exists at the path."""


@dataclass(frozen=True)
class FileContent:
    data: bytes
    mtime_ns: int
    size: int


def looks_binary(data: bytes) -> bool:
    """NUL bytes near the start mean binary content (the same rule git uses)."""
    return b"\x00" in data[:BINARY_PROBE_BYTES]


def kind_of(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def refusal(exc: OSError, shown: str) -> FileRefused:
    """An OSError from opening ``shown`` as the message a user reads."""
    if exc.errno == errno.ENOENT:
        return FileMissing(f"{shown} does not exist")
    if exc.errno in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR):  # O_NOFOLLOW met a link
        return FileRefused(f"{shown} is or passes through a symbolic link that changed meanwhile")
    if exc.errno == errno.EEXIST:
        return FileRefused(f"{shown} already exists")
    if exc.errno == errno.ENXIO:
        return FileRefused(f"{shown} is a socket or a device, not a regular file")
    return FileRefused(f"{shown} cannot be opened: {exc.strerror or exc}")


def read_fd(fd: int, max_bytes: int, shown: str) -> FileContent:
    """The content of an open descriptor if it is a regular file of at most ``max_bytes``."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused(f"{shown} is {kind_of(info.st_mode)}, not a regular file")
    if info.st_size > max_bytes:
        raise FileRefused(f"{shown} is too large ({info.st_size} bytes; the limit is {max_bytes})")
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:  # st_size may lie (procfs, a file growing): the bound is ours
        chunk = os.read(fd, min(READ_CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise FileRefused(f"{shown} is too large (more than {max_bytes} bytes)")
    return FileContent(b"".join(chunks), info.st_mtime_ns, size)


def read_regular_file(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> FileContent:
    """A file the user named (the settings file): links are followed, but it must be a regular
    file, opening it never blocks and at most ``max_bytes`` are read."""
    try:
        fd = os.open(path, os.O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_BINARY)
    except OSError as exc:
        raise refusal(exc, path) from None
    try:
        return read_fd(fd, max_bytes, path)
    finally:
        os.close(fd)


def enter_dir(parent: int, name: str, create: bool) -> int:
    """Open directory ``name`` below the open directory ``parent`` without following a link
    (creating it when asked); closes ``parent`` once the child is open."""
    try:
        child = os.open(name, OPEN_DIR, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
        os.mkdir(name, 0o777, dir_fd=parent)  # EEXIST if anything (a link) appeared there
        child = os.open(name, OPEN_DIR, dir_fd=parent)
    os.close(parent)
    return child


def open_below(
    root: str, parts: tuple[str, ...], flags: int, mode: int = 0o666, make_dirs: bool = False
) -> int:
    """Open ``root/parts...`` walking down from ``root`` one directory at a time, never following
    a link below ``root`` (the parts come from a resolved path: a link there is a change)."""
    flags |= O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_BINARY
    if not HAS_DIR_FD:  # Windows: no descriptor-relative calls; the fstat check still holds
        if make_dirs:
            os.makedirs(os.path.join(root, *parts[:-1]), exist_ok=True)
        return os.open(os.path.join(root, *parts), flags, mode)
    fd = os.open(root, os.O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC)
    try:
        for part in parts[:-1]:
            fd = enter_dir(fd, part, make_dirs)
        return os.open(parts[-1], flags, mode, dir_fd=fd)
    finally:
        os.close(fd)


def longest_first(paths: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(paths, key=len, reverse=True))


def folder_of(path: str, folders: tuple[str, ...]) -> str | None:
    """The innermost of ``folders`` (longest first) that is or contains ``path``."""
    for folder in folders:
        if path == folder or path.startswith(folder.rstrip(os.sep) + os.sep):
            return folder
    return None


@dataclass(frozen=True)
class Located:
    """A path checked against the rules: its workspace folder and the resolved parts below it."""

    root: str
    parts: tuple[str, ...]
    shown: str  # the path as the user knows it (workspace-relative), for messages


class WorkspaceFiles:
    """Reads and writes inside the workspace folders, and nowhere else."""

    def __init__(self, roots: Iterable[str], max_bytes: int = DEFAULT_MAX_BYTES):
        given = {os.path.abspath(r) for r in roots if r}
        self.roots: tuple[str, ...] = longest_first({os.path.realpath(r) for r in given})
        self._given_roots = longest_first(given | set(self.roots))  # as the user names them
        self.max_bytes = max_bytes

    def root_of(self, real: str) -> str | None:
        """The workspace folder containing the resolved path ``real``, else None."""
        return folder_of(real, self.roots)

    def shown(self, path: str) -> str:
        """``path`` relative to its workspace folder when it is in one (as given, links not
        resolved: the name the user sees), else as given."""
        given = os.path.abspath(path)
        root = folder_of(given, self._given_roots)
        return path if root is None else os.path.relpath(given, root).replace(os.sep, "/")

    def locate(self, path: str) -> Located:
        """Check ``path`` against every rule that needs no opening; raises FileRefused."""
        given = os.path.abspath(path)
        shown = self.shown(given)
        if is_secret_name(os.path.basename(given)):
            raise FileRefused(f"{shown} looks like it holds credentials")
        real = os.path.realpath(given)
        root = self.root_of(real)
        if root is None:
            if folder_of(given, self._given_roots) is not None:
                raise FileRefused(
                    f"{shown} is a symbolic link (or passes through one) that leads outside the "
                    "workspace folders"
                )
            raise FileRefused(f"{shown} is outside the workspace folders")
        parts = tuple(os.path.relpath(real, root).split(os.sep)) if real != root else ()
        if not parts:
            raise FileRefused(f"{shown} is a workspace folder, not a file")
        if is_secret_name(parts[-1]) or in_credential_dir(parts[:-1]):
            raise FileRefused(f"{shown} looks like it holds credentials")
        return Located(root, parts, shown)

    def read(self, path: str, max_bytes: int | None = None) -> FileContent:
        """The file's bytes when every rule allows it; raises FileRefused (FileMissing when
        nothing is there)."""
        located = self.locate(path)
        limit = self.max_bytes if max_bytes is None else max_bytes
        try:
            fd = open_below(located.root, located.parts, os.O_RDONLY)
        except OSError as exc:
            raise refusal(exc, located.shown) from None
        try:
            return read_fd(fd, limit, located.shown)
        finally:
            os.close(fd)

    def read_text(self, path: str, max_bytes: int | None = None, errors: str = "strict") -> str:
        """The file as UTF-8 text; binary files and (with ``errors="strict"``) files that are
        not UTF-8 are refused."""
        data = self.read(path, max_bytes).data
        if looks_binary(data):
            raise FileRefused(f"{self.shown(path)} is a binary file")
        try:
            return data.decode("utf-8", errors)
        except UnicodeDecodeError:
            raise FileRefused(f"{self.shown(path)} is not UTF-8 text") from None

    def read_if_exists(self, path: str, max_bytes: int | None = None) -> str | None:
        """The file's text, or None when nothing at all is at the path (a file may be created
        there). A dangling link is refused: writing through it would create its target."""
        try:
            return self.read_text(path, max_bytes)
        except FileMissing:
            if os.path.islink(path):
                raise FileRefused(
                    f"{self.shown(path)} is a symbolic link to a missing file (writing through "
                    "it would create the file it points to)"
                ) from None
            return None  # read() checked the path's rules before it found nothing there

    def create(self, path: str, text: str) -> None:
        """Write a new file (and its missing directories) inside the workspace. Refused when
        anything, even a dangling link, is at the path already: nothing is overwritten and no
        link is followed, so the write lands exactly where it was checked."""
        located = self.locate(path)
        if os.path.lexists(os.path.abspath(path)):
            what = "a symbolic link" if os.path.islink(path) else "a file"
            raise FileRefused(f"{located.shown} already exists ({what})")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            fd = open_below(located.root, located.parts, flags, make_dirs=True)
        except OSError as exc:
            raise refusal(exc, located.shown) from None
        try:
            write_all(fd, text.encode("utf-8", "surrogatepass"))
        except OSError as exc:
            raise FileRefused(f"cannot write {located.shown}: {exc.strerror or exc}") from None
        finally:
            os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class PrivateDir:
    """A directory outside the workspace that only this user may use (the explanations cache):
    created with mode 0700, refused when it is a link, not a directory, or another user's."""

    def __init__(self, path: str):
        self.path = path

    def _check(self) -> int | None:
        """Create the directory if needed and check it; on POSIX returns a descriptor on it, so
        what later calls use is what was checked (Windows: None, the path is used)."""
        fd = None
        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(self.path, 0o700)
            fd = os.open(self.path, OPEN_DIR) if HAS_DIR_FD else None
            info = os.fstat(fd) if fd is not None else os.lstat(self.path)
        except OSError as exc:
            if fd is not None:
                os.close(fd)
            raise FileRefused(f"cannot use {self.path}: {exc.strerror or exc}") from None
        problem = None
        if not stat.S_ISDIR(info.st_mode):
            problem = f"{self.path} is {kind_of(info.st_mode)}, not a directory"
        elif hasattr(os, "getuid") and info.st_uid != os.getuid():
            problem = f"{self.path} belongs to another user"
        if problem is not None:
            if fd is not None:
                os.close(fd)
            raise FileRefused(problem)
        if fd is not None and info.st_mode & 0o077:
            os.fchmod(fd, 0o700)
        return fd

    def write(self, name: str, text: str) -> str:
        """Write (or replace) the file ``name`` in the directory; returns its path."""
        if os.sep in name or "/" in name or name in ("", ".", ".."):
            raise FileRefused(f"{name!r} is not a plain file name")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        path = os.path.join(self.path, name)
        dir_fd = self._check()
        try:
            if dir_fd is None:
                fd = os.open(path, flags | O_BINARY, 0o600)
            else:
                fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
        except OSError as exc:
            raise refusal(exc, path) from None
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise FileRefused(f"{path} is {kind_of(info.st_mode)}, not a regular file")
            write_all(fd, text.encode("utf-8", "surrogatepass"))
        finally:
            os.close(fd)
        return path

    def prune(self, suffix: str, keep: int) -> None:
        """Delete all but the ``keep`` newest regular files ending in ``suffix``."""
        try:
            entries = [
                (entry.stat(follow_symlinks=False).st_mtime, entry.name)
                for entry in os.scandir(self.path)
                if entry.name.endswith(suffix) and entry.is_file(follow_symlinks=False)
            ]
        except OSError:
            return
        for _mtime, name in sorted(entries, reverse=True)[keep:]:
            try:
                os.unlink(os.path.join(self.path, name))  # unlink never follows a link
            except OSError:
                continue
