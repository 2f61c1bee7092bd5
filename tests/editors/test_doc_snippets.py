"""Every code block of docs/editors.md and clients/*/README.md is run by a test: it carries a
``<!-- run: ID -->`` marker, and a test asks for that ID with ``doc_snippet``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.editors.conftest import CLIENTS_DIR, REPO_ROOT
from tests.editors.doc_snippets import doc_snippet, snippets

CHECKED = [
    REPO_ROOT / "README.md",
    REPO_ROOT / "docs" / "editors.md",
    REPO_ROOT / "docs" / "release.md",
    *sorted(CLIENTS_DIR.glob("*/README.md")),
]
TESTS = sorted((REPO_ROOT / "tests").rglob("test_*.py"))


def test_every_block_has_a_marker_and_a_test() -> None:
    used = "\n".join(path.read_text() for path in TESTS)
    missing, unused = [], []
    for path in CHECKED:
        for snippet in snippets(path):
            where = f"{path.relative_to(REPO_ROOT)}: ```{snippet.lang} {snippet.body[:40]!r}"
            if snippet.id is None:
                missing.append(where)
            elif not re.search(rf"[\"']{re.escape(snippet.id)}[\"']", used):
                unused.append(f"{where} ({snippet.id})")
    assert not missing, "blocks without a run: marker:\n" + "\n".join(missing)
    assert not unused, "markers no test runs:\n" + "\n".join(unused)


def jsonc(text: str) -> object:
    """JSON with // comments, as VS Code's settings.json (a comment follows a blank)."""
    return json.loads(re.sub(r"\s+//[^\n]*", "", text))


def test_vscode_settings_snippet_uses_contributed_settings() -> None:
    """docs/editors.md's settings.json block: every key is one the extension contributes, with a
    value of that setting's type; serverSettings are valid server settings."""
    from qwen_lsp.settings import Settings, merge

    settings = jsonc(doc_snippet("vscode-settings"))
    package = json.loads((CLIENTS_DIR / "vscode" / "package.json").read_text())
    contributed = package["contributes"]["configuration"]["properties"]
    python_types = {"string": str, "object": dict, "boolean": bool, "array": list}
    assert isinstance(settings, dict)
    for key, value in settings.items():
        assert key in contributed, key
        assert isinstance(value, python_types[contributed[key]["type"]]), key
    _, errors = merge(Settings(), settings["qwen-lsp.serverSettings"])
    assert errors == []


def test_vscode_build_snippets_are_what_the_setup_script_runs() -> None:
    """The build commands are run by .ci/vscode-setup.sh (npm ci, the package script), which
    the VS Code tests run: the docs name the same package command."""
    setup = (REPO_ROOT / ".ci" / "vscode-setup.sh").read_text()
    package = json.loads((CLIENTS_DIR / "vscode" / "package.json").read_text())
    assert "npm ci" in doc_snippet("vscode-build") and "npm ci" in setup
    assert "npm run package" in doc_snippet("vscode-readme-build")
    assert "npm run package" in setup or package["scripts"]["package"].split(" --out")[0] in setup
    assert "--install-extension" in doc_snippet("vscode-build")
    assert (
        Path(REPO_ROOT / "tests" / "editors" / "test_vscode.py")
        .read_text()
        .count("--install-extension")
    )
