"""Emacs, for real: a next-edit prediction applied through the code action. `emacs --batch` with
eglot, the package from clients/emacs, the real server (next_edit.enabled) and a scripted
endpoint that finishes a rename (clients/emacs/test/qwen-lsp-next-edit-driver.el)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.editors.conftest import CLIENTS_DIR
from tests.editors.test_emacs import EMACS, PACKAGE, emacs_has, needs_emacs
from tests.support.fake_openai import FakeOpenAIThread
from tests.support.next_edit_model import RENAMED, SHAPES, chat_prompts, finish_rename

pytestmark = pytest.mark.editor

DRIVER = CLIENTS_DIR / "emacs" / "test" / "qwen-lsp-next-edit-driver.el"


@needs_emacs
def test_eglot_applies_the_predicted_edit_through_the_code_action(
    fake_endpoint: FakeOpenAIThread,
    server_command: list[str],
    editor_env: dict[str, str],
    tmp_path: Path,
) -> None:
    if not emacs_has("eglot"):
        pytest.skip("eglot is not available (Emacs < 29 needs the elpa-eglot package)")
    fake_endpoint.responder = finish_rename
    path = tmp_path / "shapes.py"
    path.write_text(SHAPES)
    config: dict[str, Any] = {
        "package": str(PACKAGE),
        "command": server_command,
        "baseUrl": fake_endpoint.base_url,
        "settings": {
            "endpoint": {"transport": "completions"},
            "nextEdit": {"enabled": True, "debounceMs": 200},
            "context": {"workspaceIndex": False},
        },
        "file": str(path),
        "old": "width",
        "new": "w",
    }
    done = subprocess.run(
        [EMACS or "emacs", "--batch", "-q", "-l", str(DRIVER)],
        env={**editor_env, "QWEN_EMACS_TEST": json.dumps(config)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result from Emacs (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    result = json.loads(lines[-1][len("RESULT ") :])
    assert "error" not in result, f"{result['error']}\n{done.stderr}"

    assert "Qwen: Apply predicted edit" not in (result["titlesBefore"] or [])  # no edit yet
    assert "Qwen: Apply predicted edit" in result["titles"]
    assert result["text"] == RENAMED
    assert "Qwen: Apply predicted edit" not in (result["titlesAfter"] or [])  # applied: gone
    (prompt,) = chat_prompts(fake_endpoint.requests)
    assert "+def describe(w, height):" in prompt
