"""A new user's first hour in Emacs 28 (Debian 12), following clients/emacs/README.md to the
letter: the documented init snippets are loaded as written (only the endpoint URL points at a
scripted endpoint), the real server is the `qwen-lsp` command on PATH, and
clients/emacs/test/qwen-lsp-first-hour.el does what the user does (open a file, C-M-i, C-c q s,
C-c q a) and reports what Emacs showed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.editors.conftest import CLIENTS_DIR, REPO_ROOT
from tests.editors.doc_snippets import doc_snippet
from tests.editors.test_emacs import emacs_has
from tests.support.fake_openai import FakeOpenAIThread, Reply

pytestmark = pytest.mark.editor

EMACS = shutil.which("emacs")
DRIVER = CLIENTS_DIR / "emacs" / "test" / "qwen-lsp-first-hour.el"
SOURCE = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"
TS_SOURCE = "function add(a: number, b: number): number {\n  return \n}\n"
DOCSTRING = "Return the sum of a and b."
ACTION_REPLY = f'```python\ndef add(a, b):\n    """{DOCSTRING}"""\n    return a + b\n```\n'

if EMACS is None:
    pytest.skip("emacs is not installed (.ci/editors-setup.sh)", allow_module_level=True)


def user_home(env: dict[str, str]) -> Path:
    """The user's home with the checkout where the docs put it (~/src/qwen-lsp)."""
    home = Path(env["HOME"])
    (home / "src").mkdir(exist_ok=True)
    link = home / "src" / "qwen-lsp"
    if not link.exists():
        link.symlink_to(REPO_ROOT)
    return home


def first_hour(
    client: str,
    init: str,
    source: str,
    env: dict[str, str],
    tmp_path: Path,
    name: str = "calc.py",
    **extra: Any,
) -> dict[str, Any]:
    home = user_home(env)
    init_file = home / ".emacs.d" / "init.el"
    init_file.parent.mkdir(exist_ok=True)
    init_file.write_text(init)
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / ".git").mkdir(exist_ok=True)
    path = project / name
    path.write_text(source)
    config = {"init": str(init_file), "client": client, "file": str(path), "line": 2}
    config.update(extra)
    # `qwen-lsp` on PATH, as after `pipx install`: the test venv's console script.
    path_var = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        [EMACS or "emacs", "--batch", "-q", "-l", str(DRIVER)],
        env={**env, "PATH": path_var, "QWEN_EMACS_TEST": json.dumps(config)},
        cwd=project,
        capture_output=True,
        text=True,
        timeout=90,
    )
    # (a "No match" rings the bell: a \a may come first on the line)
    lines = [line.split("RESULT ", 1)[1] for line in done.stdout.splitlines() if "RESULT " in line]
    assert lines, f"no result from Emacs (exit {done.returncode}):\n{done.stdout!r}\n{done.stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in result, f"{result}\n{done.stderr[-3000:]}"
    return result


def assert_documents_the_function(
    client: str, init: str, env: dict[str, str], tmp_path: Path
) -> None:
    """C-c q a on the whole buffer, picking the "document" action: the docstring lands."""
    source = "def add(a, b):\n    return a + b\n"
    result = first_hour(
        client, init, source, env, tmp_path, action="[Dd]ocument", expect=DOCSTRING, line=None
    )
    assert result["text"] == f'def add(a, b):\n    """{DOCSTRING}"""\n    return a + b\n'


def test_eglot_setup_as_documented(fake_endpoint: FakeOpenAIThread, editor_env, tmp_path) -> None:
    if not emacs_has("eglot"):
        pytest.skip("eglot is not available (Debian: elpa-eglot)")
    fake_endpoint.default = Reply(text="a + b")
    init = doc_snippet("emacs-eglot-init", fake_endpoint.base_url)
    result = first_hour("eglot", init, SOURCE, editor_env, tmp_path)
    assert result["statusAtStart"] == "qwen-lsp: idle · connected; no suggestion asked for yet"
    assert result["bindings"] == ["qwen-lsp-code-action", "qwen-lsp-status"]
    assert result["line"] == "    return a + b"
    assert result["statusCommand"] == "qwen-lsp: idle"


def test_eglot_shows_the_endpoint_error_not_no_match(editor_env, tmp_path) -> None:
    """No key for an endpoint that wants one: the error stays in the echo area after C-M-i
    (eglot used to show it for an instant and replace it with "No match")."""
    if not emacs_has("eglot"):
        pytest.skip("eglot is not available (Debian: elpa-eglot)")
    from tests.support.fake_openai import FakeOpenAI

    with FakeOpenAI.run_in_thread(api_key="sk-needed", default=Reply(text="a + b")) as fake:
        init = doc_snippet("emacs-eglot-init", fake.base_url)
        result = first_hour("eglot", init, SOURCE, editor_env, tmp_path)
    assert result["line"] == "    return "
    assert "qwen-lsp:" in result["lastMessage"] and "API key" in result["lastMessage"]
    assert "No match" not in result["lastMessage"]
    assert result["statusCommand"].startswith("qwen-lsp: error")


def test_eglot_key_reaches_only_the_server(editor_env, tmp_path) -> None:
    """qwen-lsp-api-key-env passes the key to the server process, not to Emacs's environment."""
    if not emacs_has("eglot"):
        pytest.skip("eglot is not available (Debian: elpa-eglot)")
    from tests.support.fake_openai import FakeOpenAI

    env = {**editor_env, "MY_QWEN_KEY": "sk-only-for-the-server"}
    with FakeOpenAI.run_in_thread(api_key="sk-only-for-the-server") as fake:
        fake.default = Reply(text="a + b")
        init = doc_snippet("emacs-eglot-init", fake.base_url)
        init += '(setq qwen-lsp-api-key-env "MY_QWEN_KEY")\n'
        result = first_hour("eglot", init, SOURCE, env, tmp_path)
        assert [r.headers.get("authorization") for r in fake.requests if r.generation] == [
            "Bearer sk-only-for-the-server"
        ]
    assert result["line"] == "    return a + b"
    assert result["keyApiKeyInEmacs"] is False


def test_eglot_code_action_with_the_documented_key(
    fake_endpoint: FakeOpenAIThread, editor_env, tmp_path
) -> None:
    if not emacs_has("eglot"):
        pytest.skip("eglot is not available (Debian: elpa-eglot)")
    fake_endpoint.default = Reply(text=ACTION_REPLY)
    init = doc_snippet("emacs-eglot-init", fake_endpoint.base_url)
    assert_documents_the_function("eglot", init, editor_env, tmp_path)


def test_eglot_use_package_form_on_emacs_28(
    fake_endpoint: FakeOpenAIThread, editor_env, tmp_path
) -> None:
    if not (emacs_has("eglot") and emacs_has("use-package")):
        pytest.skip("needs eglot and use-package (Debian: elpa-eglot, elpa-use-package)")
    fake_endpoint.default = Reply(text="a + b")
    init = doc_snippet("emacs-eglot-use-package", fake_endpoint.base_url)
    result = first_hour("eglot", init, SOURCE, editor_env, tmp_path)
    assert result["bindings"] == ["qwen-lsp-code-action", "qwen-lsp-status"]
    assert result["line"] == "    return a + b"
    (request,) = [r for r in fake_endpoint.requests if r.generation]
    assert request.json["max_tokens"] == 64  # the :custom qwen-lsp-settings reached the server


def test_typescript_fallback_on_emacs_28(
    fake_endpoint: FakeOpenAIThread, editor_env, tmp_path
) -> None:
    if not emacs_has("eglot"):
        pytest.skip("eglot is not available (Debian: elpa-eglot)")
    fake_endpoint.default = Reply(text="a + b;")
    init = doc_snippet("emacs-eglot-init", fake_endpoint.base_url)
    init += doc_snippet("emacs-typescript-fallback")
    result = first_hour("eglot", init, TS_SOURCE, editor_env, tmp_path, name="calc.ts")
    assert result["majorMode"] == "typescript-mode"
    assert result["line"] == "  return a + b;"


def test_lsp_mode_setup_as_documented(editor_env, tmp_path) -> None:
    if not emacs_has("lsp-mode"):
        pytest.skip("lsp-mode is not available (Debian: elpa-lsp-mode)")
    from tests.support.fake_openai import FakeOpenAI

    with FakeOpenAI.run_in_thread(default=Reply(text="a + b")) as fake:
        init = doc_snippet("emacs-lsp-mode-init", fake.base_url)
        result = first_hour("lsp-mode", init, SOURCE, editor_env, tmp_path)
        # `C-c q s` says something before any completion (it used to say "no status yet").
        assert result["statusAtStart"].startswith("qwen-lsp: idle · connected")
        assert result["bindings"] == ["lsp-execute-code-action", "qwen-lsp-status"]
        assert result["line"] == "    return a + b", json.dumps(result)
        assert result["statusCommand"] == "qwen-lsp: idle"

        fake.default = Reply(text=ACTION_REPLY)
        assert_documents_the_function("lsp-mode", init, editor_env, tmp_path)
