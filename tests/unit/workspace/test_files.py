"""The file gateway on real filesystem objects: symlinks (also dangling), FIFOs, sockets,
devices, oversized and secret-like files, and writes that must land exactly where checked."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from qwen_lsp.workspace.files import (
    FileMissing,
    FileRefused,
    PrivateDir,
    WorkspaceFiles,
    open_below,
    read_regular_file,
)
from qwen_lsp.workspace.names import is_secret_document

pytestmark = pytest.mark.timeout(10)  # a FIFO that blocks must fail the test, not hang it


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("x = 1\n")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "elsewhere" / "credentials"
    secret.parent.mkdir()
    secret.write_text("aws_secret_access_key = OUTSIDE-SECRET\n")
    return secret


def refused(call, *args, match: str, **kwargs) -> FileRefused:
    with pytest.raises(FileRefused, match=match) as info:
        call(*args, **kwargs)
    return info.value


# ---- reading -----------------------------------------------------------------------------


def test_reads_a_workspace_file_and_an_inner_link(ws: Path) -> None:
    files = WorkspaceFiles([str(ws)])
    (ws / "alias.py").symlink_to(ws / "src" / "app.py")
    assert files.read_text(str(ws / "src" / "app.py")) == "x = 1\n"
    assert files.read_text(str(ws / "alias.py")) == "x = 1\n"
    content = files.read(str(ws / "src" / "app.py"))
    assert content.size == 6 and content.mtime_ns == os.stat(ws / "src" / "app.py").st_mtime_ns


def test_links_and_dotdot_out_of_the_workspace_are_refused(ws: Path, outside: Path) -> None:
    files = WorkspaceFiles([str(ws)])
    (ws / "tests").mkdir()
    (ws / "tests" / "test_app.py").symlink_to(outside)
    (ws / "linkdir").symlink_to(outside.parent, target_is_directory=True)
    error = refused(files.read, str(ws / "tests" / "test_app.py"), match="leads outside")
    assert "OUTSIDE-SECRET" not in str(error) and "credentials" not in str(error)
    (outside.parent / "plain.py").write_text("y = 2\n")
    refused(files.read, str(ws / "linkdir" / "plain.py"), match="leads outside")
    refused(files.read, str(ws / "linkdir" / "credentials"), match="credentials")
    refused(files.read, str(ws / "src" / ".." / ".." / "elsewhere" / "x.py"), match="outside")
    refused(files.read, str(outside.parent / "plain.py"), match="outside the workspace")


@pytest.mark.parametrize(
    "relative", [".env", "config/.env.local", "keys/server.pem", ".git/config", ".aws/config"]
)
def test_secret_like_files_are_refused(ws: Path, relative: str) -> None:
    path = ws / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("TOKEN=abc\n")
    refused(WorkspaceFiles([str(ws)]).read, str(path), match="credentials")


def test_a_link_to_a_secret_or_named_like_one_is_refused(ws: Path) -> None:
    (ws / ".env").write_text("TOKEN=abc\n")
    (ws / "notes.txt").symlink_to(ws / ".env")
    (ws / "id_rsa").symlink_to(ws / "src" / "app.py")
    files = WorkspaceFiles([str(ws)])
    refused(files.read, str(ws / "notes.txt"), match="credentials")
    refused(files.read, str(ws / "id_rsa"), match="credentials")


def test_a_fifo_is_refused_without_blocking(ws: Path) -> None:
    os.mkfifo(ws / "src" / "pipe.py")
    os.mkfifo(ws / ".gitignore")
    files = WorkspaceFiles([str(ws)])
    refused(files.read, str(ws / "src" / "pipe.py"), match="is a FIFO, not a regular file")
    refused(files.read_text, str(ws / ".gitignore"), match="FIFO")


def test_a_link_to_dev_zero_and_a_device_are_refused(ws: Path) -> None:
    (ws / "zero.py").symlink_to("/dev/zero")
    files = WorkspaceFiles([str(ws)])
    refused(files.read, str(ws / "zero.py"), match="leads outside")
    # The device itself, seen as a workspace: never read, whatever its (zero) size says.
    refused(WorkspaceFiles(["/dev"]).read, "/dev/zero", match="character device")
    refused(read_regular_file, "/dev/zero", match="character device")


def test_a_device_node_inside_the_workspace_is_refused(ws: Path) -> None:
    try:
        os.mknod(ws / "dev.py", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # like /dev/zero
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here: {exc}")
    refused(WorkspaceFiles([str(ws)]).read, str(ws / "dev.py"), match="character device")


def test_a_socket_and_a_directory_are_refused(ws: Path) -> None:
    path = ws / "s.py"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        server.listen()
        refused(WorkspaceFiles([str(ws)]).read, str(path), match="socket")
    finally:
        server.close()
    refused(WorkspaceFiles([str(ws)]).read, str(ws / "src"), match="directory")
    refused(WorkspaceFiles([str(ws)]).read, str(ws), match="workspace folder, not a file")


def test_size_is_bounded(ws: Path) -> None:
    (ws / "big.py").write_text("y = 2\n" * 1000)
    files = WorkspaceFiles([str(ws)], max_bytes=5000)
    refused(files.read, str(ws / "big.py"), match="too large")
    assert files.read(str(ws / "big.py"), max_bytes=6000).size == 6000
    refused(read_regular_file, str(ws / "big.py"), 100, match="too large")


def test_binary_and_non_utf8_text_are_refused(ws: Path) -> None:
    (ws / "blob.py").write_bytes(b"\x00\x01binary")
    (ws / "latin.py").write_bytes(b"caf\xe9\n")
    files = WorkspaceFiles([str(ws)])
    refused(files.read_text, str(ws / "blob.py"), match="binary")
    refused(files.read_text, str(ws / "latin.py"), match="not UTF-8")
    assert files.read_text(str(ws / "latin.py"), errors="replace") == "caf\ufffd\n"


def test_missing_files_and_dangling_links(ws: Path, tmp_path: Path) -> None:
    files = WorkspaceFiles([str(ws)])
    with pytest.raises(FileMissing):
        files.read(str(ws / "nope.py"))
    assert files.read_if_exists(str(ws / "tests" / "test_app.py")) is None
    (ws / "inner_dangling.py").symlink_to(ws / "gone.py")
    (ws / "outer_dangling.py").symlink_to(tmp_path / "gone.py")
    refused(files.read_if_exists, str(ws / "inner_dangling.py"), match="link to a missing file")
    refused(files.read_if_exists, str(ws / "outer_dangling.py"), match="leads outside")


def test_a_directory_swapped_for_a_link_is_not_followed(ws: Path, outside: Path) -> None:
    """The parts below the folder come from a resolved path; if a link appears there before
    the open, the walk down with O_NOFOLLOW stops at it."""
    (ws / "sub").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(OSError):
        open_below(str(ws), ("sub", "credentials"), os.O_RDONLY)
    (ws / "last.txt").symlink_to(outside)
    with pytest.raises(OSError):
        open_below(str(ws), ("last.txt",), os.O_RDONLY)


# ---- writing -----------------------------------------------------------------------------


def test_create_writes_a_new_file_and_its_directories(ws: Path) -> None:
    files = WorkspaceFiles([str(ws)])
    files.create(str(ws / "tests" / "unit" / "test_app.py"), "def test(): pass\n")
    assert (ws / "tests" / "unit" / "test_app.py").read_text() == "def test(): pass\n"
    refused(files.create, str(ws / "tests" / "unit" / "test_app.py"), "x", match="already exists")
    assert (ws / "tests" / "unit" / "test_app.py").read_text() == "def test(): pass\n"


def test_create_never_writes_through_a_link(ws: Path, outside: Path, tmp_path: Path) -> None:
    files = WorkspaceFiles([str(ws)])
    (ws / "tests").mkdir()
    before = outside.read_text()
    # An existing link to a file outside: refused, the file unchanged.
    (ws / "tests" / "test_a.py").symlink_to(outside)
    refused(files.create, str(ws / "tests" / "test_a.py"), "PWNED", match="leads outside")
    # A dangling link, to outside and to inside: refused, no target created.
    target = tmp_path / "elsewhere" / "created_by_server"
    (ws / "tests" / "test_b.py").symlink_to(target)
    refused(files.create, str(ws / "tests" / "test_b.py"), "PWNED", match="leads outside")
    (ws / "tests" / "test_c.py").symlink_to(ws / "src" / "made.py")
    refused(files.create, str(ws / "tests" / "test_c.py"), "PWNED", match="already exists")
    # A directory link on the way out.
    (ws / "spec").symlink_to(outside.parent, target_is_directory=True)
    refused(files.create, str(ws / "spec" / "app_spec.rb"), "PWNED", match="leads outside")
    assert outside.read_text() == before
    assert not target.exists() and not (ws / "src" / "made.py").exists()
    assert not (outside.parent / "app_spec.rb").exists()


# ---- the user's own files and the private cache directory ---------------------------------


def test_read_regular_file_follows_links_but_never_opens_a_fifo(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text("a = 1\n")
    (tmp_path / "config.toml").symlink_to(real)
    assert read_regular_file(str(tmp_path / "config.toml")).data == b"a = 1\n"
    os.mkfifo(tmp_path / "fifo.toml")
    refused(read_regular_file, str(tmp_path / "fifo.toml"), match="FIFO")
    with pytest.raises(FileMissing):
        read_regular_file(str(tmp_path / "none.toml"))


def test_private_dir_is_0700_and_refuses_links_and_other_users(tmp_path: Path) -> None:
    cache = PrivateDir(str(tmp_path / "cache" / "explanations"))
    path = cache.write("a.md", "# A\n")
    assert Path(path).read_text() == "# A\n"
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o700
    # A link planted where the directory goes.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    planted = PrivateDir(str(tmp_path / "planted"))
    (tmp_path / "planted").symlink_to(elsewhere, target_is_directory=True)
    refused(planted.write, "a.md", "x", match="cannot use|link")
    assert list(elsewhere.iterdir()) == []
    # A link planted at the file name inside our directory.
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    os.symlink(victim, os.path.join(cache.path, "b.md"))
    refused(cache.write, "b.md", "x", match="symbolic link")
    assert victim.read_text() == "keep\n"
    # Too open a mode is tightened.
    os.chmod(cache.path, 0o777)
    cache.write("c.md", "c")
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o700


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root (chown)")
def test_private_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "theirs"
    other.mkdir(mode=0o777)
    os.chown(other, 65534, 65534)
    refused(PrivateDir(str(other)).write, "a.md", "x", match="another user")
    assert list(other.iterdir()) == []


def test_private_dir_prune_keeps_the_newest(tmp_path: Path) -> None:
    cache = PrivateDir(str(tmp_path / "c"))
    for i in range(5):
        path = cache.write(f"{i}.md", str(i))
        os.utime(path, (1000 + i, 1000 + i))
    cache.write("keep.txt", "other kinds stay")
    cache.prune(".md", 2)
    assert sorted(os.listdir(cache.path)) == ["3.md", "4.md", "keep.txt"]


# ---- secret documents --------------------------------------------------------------------


def test_secret_documents(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\n")
    (tmp_path / "settings.py").symlink_to(tmp_path / ".env")
    for path in (".env", "prod.env", "id_ed25519", ".aws/config", ".ssh/config", "settings.py"):
        assert is_secret_document(str(tmp_path / path)), path
    for path in ("main.py", "secrets.py", "env.rs", "docs/aws.md"):
        assert not is_secret_document(str(tmp_path / path)), path
    assert not is_secret_document(None)


def test_a_fifo_read_in_a_thread_would_have_blocked(ws: Path) -> None:
    """Control for the FIFO tests above: a plain open() of the same FIFO does block."""
    os.mkfifo(ws / "pipe.py")
    opened = threading.Event()

    def plain_open() -> None:
        with open(ws / "pipe.py", "rb"):
            opened.set()

    thread = threading.Thread(target=plain_open, daemon=True)
    thread.start()
    assert not opened.wait(0.3)
    os.close(os.open(ws / "pipe.py", os.O_WRONLY | os.O_NONBLOCK))  # release the reader
    thread.join(2)


def test_a_folder_opened_through_a_link_works_and_names_paths_as_given(
    ws: Path, outside: Path, tmp_path: Path
) -> None:
    (tmp_path / "ws_link").symlink_to(ws, target_is_directory=True)
    files = WorkspaceFiles([str(tmp_path / "ws_link")])
    assert files.read_text(str(tmp_path / "ws_link" / "src" / "app.py")) == "x = 1\n"
    (ws / "escape.py").symlink_to(outside.parent / "plain.py")
    error = refused(files.read, str(tmp_path / "ws_link" / "escape.py"), match="leads outside")
    assert str(error).startswith("escape.py is a symbolic link")
