"""Shared fixtures for real-editor tests: the scripted endpoint, the server command, paths.

Kept small and editor-agnostic; each editor's own helpers live in its test module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_openai import FakeOpenAI, FakeOpenAIThread

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENTS_DIR = REPO_ROOT / "clients"
TEST_MODEL = "qwen2.5-coder-test"


@pytest.fixture
def fake_endpoint() -> Iterator[FakeOpenAIThread]:
    """A scripted OpenAI-compatible endpoint on 127.0.0.1, served from a thread."""
    with FakeOpenAI.run_in_thread() as fake:
        yield fake


@pytest.fixture
def server_command() -> list[str]:
    """The real language server, run with this interpreter (so the test venv's package)."""
    return [sys.executable, "-m", "qwen_lsp"]


def server_settings(base_url: str, **overrides: Any) -> dict[str, Any]:
    """initializationOptions for a fast, deterministic server against the scripted endpoint."""
    settings: dict[str, Any] = {
        "endpoint": {"baseUrl": base_url, "model": TEST_MODEL, "transport": "completions"},
        "completion": {"debounceMs": 0},
        "context": {"workspaceIndex": False},
    }
    for section, values in overrides.items():
        if isinstance(values, dict):
            settings.setdefault(section, {}).update(values)
        else:
            settings[section] = values
    return settings


@pytest.fixture
def editor_env(tmp_path: Path) -> dict[str, str]:
    """Environment for an editor and the server it starts: no user config, no stray keys."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QWEN_LSP_", "OPENAI_", "DASHSCOPE_", "XDG_"))
    }
    home = tmp_path / "home"
    home.mkdir()
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        QWEN_LSP_CONFIG=str(tmp_path / "no-such-config.toml"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    return env
