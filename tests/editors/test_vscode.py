"""VS Code, for real: code-server with the packaged extension (clients/vscode), the real qwen-lsp
server and a scripted OpenAI-compatible endpoint, driven in Debian's Chromium by playwright-core
(tests/editors/vscode/drive.cjs) the way a user would: open a file, type, see ghost text, press
Tab, set the API key through the command, save, toggle completion off.

Needs `.ci/vscode-setup.sh` (Node 24, code-server, Chromium, playwright-core, the .vsix); skipped
with the reason when that has not been run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.editors.conftest import REPO_ROOT, TEST_MODEL
from tests.support.fake_openai import FakeOpenAI, FakeOpenAIThread, RecordedRequest, Reply

pytestmark = pytest.mark.editor

CACHE = Path(os.environ.get("QWEN_LSP_VSCODE_CACHE") or REPO_ROOT / ".cache" / "vscode")
SETUP = REPO_ROOT / ".ci" / "vscode-setup.sh"
NODE_BIN = CACHE / "node" / "bin"
CODE_SERVER = CACHE / "code-server" / "node_modules" / ".bin" / "code-server"
VSIX = REPO_ROOT / ".cache" / "vscode" / "qwen-lsp.vsix"  # built from this checkout
DRIVER_DIR = REPO_ROOT / "tests" / "editors" / "vscode"
DRIVER = DRIVER_DIR / "drive.cjs"
CHROMIUM = shutil.which("chromium")

INITIAL = "import math\n\n"
COMPLETION = "40 + 2"
API_KEY = "sk-test-vscode-0123456789"


def missing_setup() -> list[str]:
    """What .ci/vscode-setup.sh would have put in place but is not there."""
    wanted = {
        "Node 24": NODE_BIN / "node",
        "code-server": CODE_SERVER,
        "the packaged extension": VSIX,
        "playwright-core": DRIVER_DIR / "node_modules" / "playwright-core" / "package.json",
    }
    missing = [f"{name} ({path})" for name, path in wanted.items() if not path.exists()]
    if CHROMIUM is None:
        missing.append("chromium (Debian package)")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class CodeServer:
    url: str
    user_data: Path
    workspace: Path
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def extension_logs(self) -> str:
        """The extension's output channel (server stderr and client errors), for failures."""
        out = []
        for path in sorted(self.user_data.glob("logs/**/*Qwen Coder*.log")):
            out.append(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(out) or "(no extension log found)"

    def extension_log(self) -> str:
        """The whole output channel log of the extension."""
        paths = sorted(self.user_data.glob("logs/**/*Qwen Coder*.log"))
        return "\n".join(path.read_text(errors="replace") for path in paths)


# Machine-scoped settings: in code-server (as in any remote window) VS Code applies them only from
# the machine's settings file, not from the browser user's settings.
MACHINE_SETTINGS = {"qwen-lsp.server.pythonPath": sys.executable}


def user_settings(base_url: str) -> dict[str, Any]:
    """A quiet, offline VS Code whose extension talks to the scripted endpoint."""
    return {
        "telemetry.telemetryLevel": "off",
        "security.workspace.trust.enabled": False,
        "workbench.startupEditor": "none",
        "workbench.enableExperiments": False,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        "chat.disableAIFeatures": True,
        "extensions.autoUpdate": False,
        "extensions.autoCheckUpdates": False,
        "update.mode": "none",
        "remote.autoForwardPorts": False,
        # Only ghost text, no suggest widget competing for Tab.
        "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
        "editor.wordBasedSuggestions": "off",
        "editor.suggestOnTriggerCharacters": False,
        "qwen-lsp.endpoint.baseUrl": base_url,
        "qwen-lsp.endpoint.model": TEST_MODEL,
        "qwen-lsp.serverSettings": {"context": {"workspaceIndex": False}},
        "qwen-lsp.logLevel": "debug",  # the server logs accepted completions
    }


@pytest.fixture
def keyed_endpoint() -> Iterator[FakeOpenAIThread]:
    """The scripted endpoint, refusing requests without the API key; a little slow to answer, so
    the status bar has time to show "busy"."""
    reply = Reply(text=COMPLETION, delay_before_headers=0.5)
    with FakeOpenAI.run_in_thread(api_key=API_KEY, default=reply) as fake:
        yield fake


def start_code_server(
    tmp_path: Path,
    editor_env: dict[str, str],
    settings: dict[str, Any],
    machine: dict[str, Any],
    extra_env: dict[str, str] | None = None,
) -> tuple[CodeServer, subprocess.Popen[bytes]]:
    """code-server with the packaged extension installed and these user / machine settings."""
    missing = missing_setup()
    if missing:
        pytest.skip("run .ci/vscode-setup.sh first; missing: " + ", ".join(missing))
    # With everything installed, the setup script only repackages the extension if its sources
    # changed since (a few seconds), so the test never runs a stale .vsix.
    subprocess.run(["bash", str(SETUP)], check=True, capture_output=True, timeout=600)
    env = {**editor_env, **(extra_env or {})}
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    user_data, extensions, workspace = (tmp_path / n for n in ("user-data", "extensions", "ws"))
    (user_data / "User").mkdir(parents=True)
    (user_data / "Machine").mkdir()
    (user_data / "Machine" / "settings.json").write_text(json.dumps(machine))
    workspace.mkdir()
    (workspace / "demo.py").write_text(INITIAL)
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text("{}\n")
    (user_data / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
    dirs = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    subprocess.run(
        [str(CODE_SERVER), *dirs, "--install-extension", str(VSIX)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = tmp_path / "code-server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                str(CODE_SERVER),
                *dirs,
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--auth",
                "none",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                "--ignore-last-opened",
                str(workspace),
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the extension host and qwen-lsp
        )
    server = CodeServer(f"http://127.0.0.1:{port}", user_data, workspace, log)
    try:
        wait_until_healthy(server, process)
    except BaseException:
        stop_process_group(process)
        raise
    return server, process


@pytest.fixture
def code_server(
    tmp_path: Path, keyed_endpoint: FakeOpenAIThread, editor_env: dict[str, str]
) -> Iterator[CodeServer]:
    settings = user_settings(keyed_endpoint.base_url)
    server, process = start_code_server(tmp_path, editor_env, settings, MACHINE_SETTINGS)
    try:
        yield server
    finally:
        stop_process_group(process)


def wait_until_healthy(server: CodeServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"code-server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"code-server did not answer within 30 s:\n{server.log_tail()}")


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop code-server and everything it started (extension host, language server)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived code-server
    process.wait(5)


def drive(server: CodeServer, screenshots: Path, **scenario: Any) -> dict[str, Any]:
    """Run the browser scenario; returns what the editor showed at each step."""
    config = {
        "url": f"{server.url}/?folder={server.workspace}",
        "chromium": CHROMIUM,
        "screenshotDir": str(screenshots),
        "file": "demo.py",
        "firstText": "result = ",
        "apiKey": API_KEY,
        "secondText": "other = ",
        "timeoutMs": 30000,
        **scenario,
    }
    env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(NODE_BIN / "node"), str(DRIVER), json.dumps(config)],
        cwd=DRIVER_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    lines = done.stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if done.returncode != 0 or "error" in result:
        pytest.fail(
            f"driving VS Code failed (screenshots in {screenshots}):\n{done.stderr}\n"
            f"--- code-server log\n{server.log_tail()}\n{server.extension_logs()}"
        )
    return result


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def generation_requests(fake: FakeOpenAIThread) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.generation]


def test_api_key_ghost_text_accept_status_and_toggle(
    code_server: CodeServer, keyed_endpoint: FakeOpenAIThread, tmp_path: Path
) -> None:
    screenshots = tmp_path / "screenshots"
    screenshots.mkdir()
    started = time.monotonic()
    seen = drive(code_server, screenshots)
    print(f"VS Code scenario took {time.monotonic() - started:.1f} s; screenshots in {screenshots}")

    # The status bar item is there from the start and follows the server's qwen/status
    # notifications: error while the endpoint refuses, busy while it works, idle after.
    status = seen["startStatus"]
    assert status["id"].endswith("qwen-lsp.status")
    assert "Qwen" in status["text"]
    assert status["label"] == "Qwen Coder: idle"
    assert seen["errorStatus"]["label"].startswith("Qwen Coder: error — ")
    assert "API key" in seen["errorStatus"]["label"]
    # The hover names the cause and the endpoint it is about.
    hover = seen["errorHover"]
    assert (
        "API key" in hover and f"Endpoint: {keyed_endpoint.base_url} (model {TEST_MODEL})" in hover
    )
    labels = seen["statusLabels"]
    after_error = labels[labels.index(seen["errorStatus"]["label"]) + 1 :]
    assert "Qwen Coder: busy" in after_error and after_error[-1] == "Qwen Coder: disabled"

    # Ghost text is exactly the scripted completion: asked for with "Qwen: Trigger Inline
    # Completion" after the key was set, then by VS Code itself while typing.
    assert seen["firstGhost"] == COMPLETION
    assert seen["secondGhost"] == COMPLETION

    # Tab accepted both into the document, and the saved file has them.
    saved = (code_server.workspace / "demo.py").read_text()
    assert saved == f"{INITIAL}result = {COMPLETION}\nother = {COMPLETION}"

    # The endpoint got FIM prompts with the text typed in the editor.
    requests = generation_requests(keyed_endpoint)
    prompts = [r.json["prompt"] for r in requests]
    assert all(r.json["model"] == TEST_MODEL for r in requests)
    assert any("<|fim_prefix|>import math\n\nresult = <|fim_suffix|>" in p for p in prompts)
    assert any("result = 40 + 2\nother = <|fim_suffix|>" in p for p in prompts)

    # The key went from "Qwen: Set API Key" (secret storage) to the server: refused before,
    # sent after; and it is nowhere in settings.json.
    # (Requests cancelled while typing on have no status; the rest must fit.)
    without_key = [r for r in requests if "authorization" not in r.headers]
    with_key = [r for r in requests if "authorization" in r.headers]
    assert without_key and all(r.status in (401, None) for r in without_key)
    assert requests.index(without_key[-1]) < requests.index(with_key[0])
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in with_key)
    assert len([r for r in with_key if r.status == 200]) >= 2
    settings_text = (code_server.user_data / "User" / "settings.json").read_text()
    assert API_KEY not in settings_text

    # Each accepted suggestion ran its command (qwen-lsp.acceptCompletion) on the server, which
    # logs it to the extension's output channel.
    assert wait_for(lambda: code_server.extension_logs().count("(known)") >= 2, 10), (
        code_server.extension_logs()
    )

    # "Qwen: Toggle Inline Completion" wrote the setting and the status bar says so.
    assert json.loads(settings_text)["qwen-lsp.enable"] is False
    assert seen["toggledStatus"]["label"] == "Qwen Coder: disabled"


def test_first_hour_extension_installs_its_own_server_offline(
    tmp_path: Path, editor_env: dict[str, str]
) -> None:
    """Install only the extension: with no server setting it creates a private venv in its
    global storage with the Python named by python.defaultInterpreterPath and installs the
    server from the wheels bundled in the .vsix (PyPI unreachable for it). Then settings.json
    changed on disk is applied to the running server, without a restart."""
    base_python = getattr(sys, "_base_executable", sys.executable)
    with FakeOpenAI.run_in_thread(default=Reply(text=COMPLETION)) as fake:
        settings = user_settings(fake.base_url)
        settings["python.defaultInterpreterPath"] = base_python
        offline = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0"}
        server, process = start_code_server(tmp_path, editor_env, settings, {}, offline)
        try:
            screenshots = tmp_path / "screenshots"
            screenshots.mkdir()
            seen = drive(
                server,
                screenshots,
                scenario="firstHour",
                userSettings=str(server.workspace / ".vscode" / "settings.json"),
                logsDir=str(server.user_data / "logs"),
                newModel="qwen2.5-coder-renamed",
                timeoutMs=60000,
            )
            logs = server.extension_log()
            requests = generation_requests(fake)
        finally:
            stop_process_group(process)

    assert seen["firstGhost"] == COMPLETION and seen["secondGhost"] == COMPLETION
    assert (
        "Qwen Coder: idle" in seen["idleHover"]
        and f"Endpoint: {fake.base_url}" in seen["idleHover"]
    )
    from qwen_lsp import __version__

    venvs = list((server.user_data / "User" / "globalStorage").glob("*qwen-lsp*/server-venv"))
    assert len(venvs) == 1, venvs
    assert (venvs[0] / "qwen-lsp-version").read_text() == __version__
    assert f"Installing qwen-lsp {__version__} into {venvs[0]} with {base_python}" in logs
    assert "trying PyPI" not in logs  # the bundled wheels were enough
    # One server process from start to end: the settings change did not restart it.
    assert logs.count("Starting ") == 1, logs
    models = [r.json["model"] for r in requests if r.status == 200]
    assert models[0] == TEST_MODEL and models[-1] == "qwen2.5-coder-renamed", models
    # The server's log lines keep their level in the output channel (it used to tag every
    # stderr line [error]).
    assert any(
        "[info]" in line and f"qwen-lsp {__version__} ready" in line for line in logs.splitlines()
    )
    assert not [line for line in logs.splitlines() if "[error]" in line], logs


def test_install_failure_says_which_python_was_tried_and_what_to_do(
    tmp_path: Path, editor_env: dict[str, str]
) -> None:
    # Every Python there is lacks ensurepip, as Debian's python3 without python3-venv does
    # (the extension host's PATH comes from a login shell, so the Pythons on it cannot be
    # hidden; an ensurepip that fails to import, first on PYTHONPATH, makes them all unusable).
    no_venv = tmp_path / "no-venv"
    no_venv.mkdir()
    (no_venv / "ensurepip.py").write_text('raise ImportError("No module named ensurepip")\n')
    settings = user_settings("http://127.0.0.1:9/v1")
    settings["python.defaultInterpreterPath"] = "/nonexistent/bin/python3"
    pythonpath = os.pathsep.join([str(no_venv), editor_env.get("PYTHONPATH", "")])
    server, process = start_code_server(
        tmp_path, editor_env, settings, {}, {"PYTHONPATH": pythonpath}
    )
    try:
        screenshots = tmp_path / "screenshots"
        screenshots.mkdir()
        seen = drive(server, screenshots, scenario="firstHour", expectInstallFailure=True)
    finally:
        stop_process_group(process)
    message = seen.get("installFailure") or str(seen)
    assert "needs Python 3.10+" in message
    assert "/nonexistent/bin/python3 from python.defaultInterpreterPath: cannot run it" in message
    assert "python3 from PATH: it cannot create virtual environments" in message
    assert "sudo apt install python3-venv" in message
    assert "pipx install" in message and "qwen-lsp.server.path" in message
    assert seen["stoppedStatus"]["label"] == "Qwen Coder: stopped"
