"""The Helix and Zed setups in docs/editors.md: the fenced snippets are read from the doc itself
(so the doc cannot drift), parsed as TOML / JSON, and their settings validated against the
server's real settings model.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qwen_lsp.settings import Settings, merge
from tests.editors.conftest import REPO_ROOT
from tests.editors.doc_snippets import doc_snippet

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 only
    import tomli as tomllib

pytestmark = pytest.mark.editor

DOC = REPO_ROOT / "docs" / "editors.md"


def section(title: str) -> str:
    """The text of the ``## title`` section of docs/editors.md."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(?P<body>.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/editors.md has no '## {title}' section"
    return match.group("body")


def assert_valid_settings(options: Any) -> None:
    """The options are what the server accepts: no unknown keys, no bad values, no API key."""
    assert isinstance(options, dict) and options
    _, errors = merge(Settings(), options)
    assert errors == []
    assert not re.search(r"api_?key", json.dumps(options), re.I), "API keys belong in the env"


def test_every_editor_has_a_section_pointing_at_its_client() -> None:
    for title in ("VS Code", "Neovim", "Emacs", "Helix", "Zed"):
        section(title)
    assert "../clients/vscode" in section("VS Code")


def test_helix_languages_toml() -> None:
    config = tomllib.loads(doc_snippet("helix-languages"))

    server = config["language-server"]["qwen-lsp"]
    assert server["command"] == "qwen-lsp"
    assert_valid_settings(server["config"])  # sent as initializationOptions
    assert server["config"]["endpoint"]["baseUrl"].startswith("http")

    languages = config["language"]
    assert {lang["name"] for lang in languages} >= {"python"}
    for lang in languages:
        names = [s if isinstance(s, str) else s["name"] for s in lang["language-servers"]]
        assert names[-1] == "qwen-lsp", f"{lang['name']}: the language's own server comes first"
        assert len(names) >= 2


def test_helix_doc_is_honest_about_inline_completion() -> None:
    text = section("Helix")
    assert "no inline completion" in text
    assert "completion items" in text and "code actions" in text


def test_zed_extension_manifest_and_code() -> None:
    manifest = tomllib.loads(doc_snippet("zed-extension-toml"))
    assert manifest["id"] == "qwen-lsp"
    assert manifest["schema_version"] == 1
    server = manifest["language_servers"]["qwen-lsp"]
    assert "Python" in server["languages"]

    rust = doc_snippet("zed-extension-rust")
    assert "fn language_server_command" in rust
    assert 'worktree.which("qwen-lsp")' in rust
    assert "zed::register_extension!(QwenLsp);" in rust
    assert rust.count("{") == rust.count("}") and rust.count("(") == rust.count(")")


def test_zed_settings_json() -> None:
    settings = json.loads(doc_snippet("zed-settings"))  # strict JSON: also valid for Zed's JSONC
    server = settings["lsp"]["qwen-lsp"]
    assert server["binary"]["path"] == "qwen-lsp"
    assert_valid_settings(server["initialization_options"])

    registered = set(
        tomllib.loads(doc_snippet("zed-extension-toml"))["language_servers"]["qwen-lsp"][
            "languages"
        ]
    )
    for language, options in settings["languages"].items():
        assert options["language_servers"] == ["...", "qwen-lsp"], language
        assert language in registered, f"{language} is not in the extension's languages"


def test_zed_doc_is_honest_about_inline_completion() -> None:
    text = section("Zed")
    assert "does not use language servers' inline completions" in text
    assert "completion items" in text and "code actions" in text


HX = shutil.which("hx")


@pytest.mark.skipif(HX is None, reason="Helix (hx) is not installed: no Debian 12/PyPI/npm package")
def test_hx_health_sees_the_server(tmp_path: Path) -> None:  # pragma: no cover - needs Helix
    snippet = doc_snippet("helix-languages")
    config_dir = tmp_path / "helix"
    config_dir.mkdir()
    (config_dir / "languages.toml").write_text(snippet)
    done = subprocess.run(
        [HX or "hx", "--health", "python"],
        env={"XDG_CONFIG_HOME": str(tmp_path), "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "qwen-lsp" in done.stdout
