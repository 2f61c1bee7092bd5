"""The package is release-ready: sdist and wheel build and pass `twine check --strict`, and there
is one version (``qwen_lsp.__version__``) that the package metadata, the editor clients and the
changelog all agree on. docs/release.md describes the release these tests guard.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from qwen_lsp import __version__

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / ".ci" / "build-dist.sh"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        ["bash", str(BUILD), str(out)], capture_output=True, text=True, timeout=300, cwd=REPO
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sdist, wheel = (Path(line) for line in done.stdout.strip().splitlines()[-2:])
    return sdist, wheel, done.stdout


def test_sdist_and_wheel_pass_twine_check(dist: tuple[Path, Path, str]) -> None:
    sdist, wheel, output = dist
    assert sdist.name == f"qwen_lsp-{__version__}.tar.gz"
    assert wheel.name == f"qwen_lsp-{__version__}-py3-none-any.whl"
    checks = re.findall(r"Checking (\S+): \W*(\w+)", re.sub(r"\x1b\[[0-9;]*m", "", output))
    assert sorted((Path(path).name, verdict) for path, verdict in checks) == sorted(
        [(sdist.name, "PASSED"), (wheel.name, "PASSED")]
    )


def test_wheel_has_the_server_its_data_and_the_command(dist: tuple[Path, Path, str]) -> None:
    _, wheel, _ = dist
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        meta = archive.read(f"qwen_lsp-{__version__}.dist-info/METADATA").decode()
        entry_points = archive.read(f"qwen_lsp-{__version__}.dist-info/entry_points.txt").decode()
    assert "qwen_lsp/py.typed" in names
    assert "qwen_lsp/syntax/queries/python.scm" in names
    assert f"qwen_lsp-{__version__}.dist-info/licenses/LICENSE" in names
    assert f"\nVersion: {__version__}\n" in meta
    assert "Description-Content-Type: text/markdown" in meta
    assert "qwen-lsp = qwen_lsp.cli:main" in entry_points


def test_sdist_builds_from_its_own_files(dist: tuple[Path, Path, str]) -> None:
    sdist, _, _ = dist
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "LICENSE", "server/qwen_lsp/__init__.py"} <= names
    assert "server/qwen_lsp/syntax/queries/python.scm" in names


def test_one_version_everywhere() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "qwen_lsp.__version__" }' in pyproject
    assert not re.search(r"^version\s*=", pyproject.split("[project]")[1].split("\n[")[0], re.M)
    package = json.loads((REPO / "clients" / "vscode" / "package.json").read_text())
    lock = json.loads((REPO / "clients" / "vscode" / "package-lock.json").read_text())
    assert package["version"] == lock["version"] == lock["packages"][""]["version"] == __version__
    elisp = (REPO / "clients" / "emacs" / "qwen-lsp.el").read_text()
    assert re.search(r"^;; Version: (\S+)$", elisp, re.M).group(1) == __version__  # type: ignore[union-attr]


def test_changelog_has_this_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[?([^\]\s]+)\]?", changelog, re.M)
    assert headings[:1] == ["Unreleased"] or headings[:1] == [__version__], headings
    assert __version__ in headings


def test_release_bump_commands_set_every_version(tmp_path: Path) -> None:
    """docs/release.md's version bump, run as written on a copy of the files it edits."""
    import os
    import shutil

    from tests.editors.doc_snippets import doc_snippet

    node_bin = (
        Path(os.environ.get("QWEN_LSP_VSCODE_CACHE") or REPO / ".cache" / "vscode") / "node" / "bin"
    )
    npm = shutil.which("npm", path=f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    if npm is None:
        pytest.skip("npm is not installed (.ci/vscode-setup.sh)")
    for name in (
        "server/qwen_lsp/__init__.py",
        "clients/vscode/package.json",
        "clients/vscode/package-lock.json",
        "clients/emacs/qwen-lsp.el",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    script = doc_snippet("release-bump").replace("new=0.2.0", "new=9.8.7")
    env = {**os.environ, "PATH": f"{Path(npm).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '__version__ = "9.8.7"' in (tmp_path / "server/qwen_lsp/__init__.py").read_text()
    package = json.loads((tmp_path / "clients/vscode/package.json").read_text())
    lock = json.loads((tmp_path / "clients/vscode/package-lock.json").read_text())
    assert package["version"] == lock["version"] == lock["packages"][""]["version"] == "9.8.7"
    assert ";; Version: 9.8.7\n" in (tmp_path / "clients/emacs/qwen-lsp.el").read_text()


def test_release_build_commands_are_the_tested_scripts() -> None:
    """The build step names the scripts tests/packaging and tests/editors/test_vscode.py run."""
    from tests.editors.doc_snippets import doc_snippet

    commands = [
        line.split("#")[0].split()
        for line in doc_snippet("release-build").splitlines()
        if line.strip()
    ]
    assert commands == [["bash", ".ci/build-dist.sh", "dist"], ["bash", ".ci/vscode-setup.sh"]]
