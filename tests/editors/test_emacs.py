"""Emacs, for real: `emacs --batch` with eglot or lsp-mode (Debian's packages), the package from
clients/emacs, the real qwen-lsp server and a scripted OpenAI-compatible endpoint.

clients/emacs/test/qwen-lsp-test-driver.el does in Emacs what a user would (open a Python file,
start the client, M-x completion-at-point, pick a code action) and prints what Emacs ended with.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.editors.conftest import CLIENTS_DIR, TEST_MODEL, server_settings
from tests.support.fake_openai import FakeOpenAIThread, Reply

pytestmark = pytest.mark.editor

EMACS = shutil.which("emacs")
PACKAGE = CLIENTS_DIR / "emacs" / "qwen-lsp.el"
DRIVER = CLIENTS_DIR / "emacs" / "test" / "qwen-lsp-test-driver.el"
SOURCE = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"
DOCSTRING = "Return the sum of a and b."
ACTION_SOURCE = "def add(a, b):\n    return a + b\n"
ACTION_REPLY = f'```python\ndef add(a, b):\n    """{DOCSTRING}"""\n    return a + b\n```\n'


def emacs_has(feature: str) -> bool:
    if EMACS is None:
        return False
    probe = subprocess.run(
        [EMACS, "--batch", "-q", "--eval", f"(kill-emacs (if (require '{feature} nil t) 0 1))"],
        capture_output=True,
        timeout=60,
    )
    return probe.returncode == 0


needs_emacs = pytest.mark.skipif(
    EMACS is None, reason="emacs is not installed (.ci/editors-setup.sh installs emacs-nox)"
)


@pytest.fixture(scope="module")
def has_eglot() -> bool:
    return emacs_has("eglot")


@pytest.fixture(scope="module")
def has_lsp_mode() -> bool:
    return emacs_has("lsp-mode")


def run_emacs(
    client: str,
    scenario: str,
    source: str,
    fake: FakeOpenAIThread,
    server_command: list[str],
    env: dict[str, str],
    tmp_path: Path,
    **extra: Any,
) -> dict[str, Any]:
    path = tmp_path / "calc.py"
    path.write_text(source)
    settings = server_settings(fake.base_url)
    endpoint = settings.pop("endpoint")
    # base URL and model go through the package's own options, the rest as raw settings
    settings["endpoint"] = {"transport": endpoint["transport"]}
    config = {
        "client": client,
        "scenario": scenario,
        "package": str(PACKAGE),
        "command": server_command,
        "baseUrl": endpoint["baseUrl"],
        "model": endpoint["model"],
        "settings": settings,
        "file": str(path),
        "line": 2,
        "home": env["HOME"],
        **extra,
    }
    done = subprocess.run(
        [EMACS or "emacs", "--batch", "-q", "-l", str(DRIVER)],
        env={**env, "QWEN_EMACS_TEST": json.dumps(config)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=50,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result from Emacs (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    assert "error" not in result, f"{result['error']}\n{done.stderr}"
    assert done.returncode == 0, done.stderr
    return result


@needs_emacs
def test_eglot_completion_item_inserts_the_whole_suggestion(
    fake_endpoint: FakeOpenAIThread,
    server_command: list[str],
    editor_env: dict[str, str],
    tmp_path: Path,
    has_eglot: bool,
) -> None:
    if not has_eglot:
        pytest.skip("eglot is not available (Emacs < 29 needs the elpa-eglot package)")
    fake_endpoint.default = Reply(text="total_sum(a, b)")
    result = run_emacs(
        "eglot", "complete", SOURCE, fake_endpoint, server_command, editor_env, tmp_path
    )

    assert result["serverClass"] == "qwen-lsp-eglot-server"
    assert result["serverCommand"] == server_command
    assert result["initOptions"]["endpoint"]["baseUrl"] == fake_endpoint.base_url
    assert result["initOptions"]["statusNotifications"] is True
    assert result["candidates"] == ["total_sum(a, b)"]
    assert result["line"] == "    return total_sum(a, b)"
    assert result["point"] == [2, len("    return total_sum(a, b)")]
    assert result["status"] == "qwen-lsp: idle"
    # The initializationOptions reached the server: the endpoint got the configured model.
    (request,) = [r for r in fake_endpoint.requests if r.route == "completions"]
    assert request.json["model"] == TEST_MODEL
    assert request.json["prompt"].startswith("<|fim_prefix|>def add(a, b):\n    return ")


@needs_emacs
def test_eglot_code_action_documents_the_function(
    fake_endpoint: FakeOpenAIThread,
    server_command: list[str],
    editor_env: dict[str, str],
    tmp_path: Path,
    has_eglot: bool,
) -> None:
    if not has_eglot:
        pytest.skip("eglot is not available (Emacs < 29 needs the elpa-eglot package)")
    fake_endpoint.default = Reply(text=ACTION_REPLY)
    result = run_emacs(
        "eglot",
        "action",
        ACTION_SOURCE,
        fake_endpoint,
        server_command,
        editor_env,
        tmp_path,
        expect=DOCSTRING,
    )
    if result.get("skipped"):
        pytest.skip(f"server has no code actions yet: {result['skipped']}")
    titles = result["titles"]
    assert any("document" in t.lower() or "docstring" in t.lower() for t in titles), titles
    assert result["text"] == f'def add(a, b):\n    """{DOCSTRING}"""\n    return a + b\n'
    assert result["actionShape"] in {"edit", "command", "needs-resolve"}


@needs_emacs
def test_lsp_mode_add_on_client_completes(
    fake_endpoint: FakeOpenAIThread,
    server_command: list[str],
    editor_env: dict[str, str],
    tmp_path: Path,
    has_lsp_mode: bool,
) -> None:
    if not has_lsp_mode:
        pytest.skip("lsp-mode is not available (Debian package elpa-lsp-mode)")
    fake_endpoint.default = Reply(text="total_sum(a, b)")
    result = run_emacs(
        "lsp-mode", "complete", SOURCE, fake_endpoint, server_command, editor_env, tmp_path
    )

    assert result["servers"] == ["qwen-lsp"]
    assert result["candidates"] == ["total_sum(a, b)"]
    assert result["line"] == "    return total_sum(a, b)"
    assert result["status"] == "qwen-lsp: idle"
    (request,) = [r for r in fake_endpoint.requests if r.route == "completions"]
    assert request.json["model"] == TEST_MODEL


EMACS_BATCH = [EMACS or "emacs", "--batch", "-q"]
BYTE_COMPILE_STRICT = "(setq byte-compile-error-on-warn t)"
READ_ALL_FORMS = (
    '(with-temp-buffer (insert-file-contents "{}")'
    " (condition-case nil (while t (read (current-buffer))) (end-of-file nil)))"
)


@needs_emacs
def test_package_byte_compiles_cleanly_and_documented_elisp_reads(tmp_path: Path) -> None:
    sources = sorted(PACKAGE.parent.glob("*.el"))
    assert [s.name for s in sources] == ["qwen-lsp-eglot.el", "qwen-lsp.el"]
    for source in sources:
        (tmp_path / source.name).write_text(source.read_text())
    compiled = subprocess.run(
        [*EMACS_BATCH, "-L", str(tmp_path), "--eval", BYTE_COMPILE_STRICT,
         "-f", "batch-byte-compile", *(str(tmp_path / s.name) for s in sources)],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    assert (tmp_path / "qwen-lsp.elc").exists() and (tmp_path / "qwen-lsp-eglot.elc").exists()
    # Public API only: no private eglot-- / lsp-- function is called outside the code actions.
    for source in sources:
        text = source.read_text()
        if source.name == "qwen-lsp.el":
            text = text.split(";;;; lsp-mode")[1] + text.split(";;;; eglot")[0]
        assert not re.findall(r"\((?:eglot|lsp)--[\w-]+", text), source.name

    docs = PACKAGE.with_name("README.md").read_text()
    snippets = re.findall(r"^```elisp\n(.*?)^```$", docs, re.M | re.S)
    assert len(snippets) >= 4
    for snippet in snippets:
        source = tmp_path / "snippet.el"
        source.write_text(snippet)
        read = subprocess.run(
            [*EMACS_BATCH, "--eval", READ_ALL_FORMS.format(source)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert read.returncode == 0, f"{snippet}\n{read.stderr}"
