"""README.md's commands as a new user runs them: the install command (pipx from the checkout,
what works before the package is on PyPI), `qwen-lsp doctor` from that install, the example
config file, and the test command that CI runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from qwen_lsp import __version__
from qwen_lsp.settings import Settings, merge
from tests.editors.doc_snippets import doc_snippet
from tests.support.fake_openai import FakeOpenAI, Reply

REPO = Path(__file__).resolve().parents[2]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 only
    import tomli as tomllib


def test_install_command_then_doctor(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True, timeout=120)
    subprocess.run(
        [str(tools / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "pipx"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("QWEN_LSP_", "PIPX_"))},
        "HOME": str(home),
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(home / ".local" / "bin"),
        "PATH": os.pathsep.join(
            [str(home / ".local" / "bin"), str(tools / "bin"), "/usr/bin", "/bin"]
        ),
        "QWEN_LSP_CONFIG": str(tmp_path / "no-config.toml"),
    }
    command = doc_snippet("readme-install").split("#")[0].strip()
    assert command == "pipx install . && qwen-lsp --version"
    done = subprocess.run(
        ["bash", "-c", command], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(f"qwen-lsp {__version__}")

    with FakeOpenAI.run_in_thread(default=Reply(text="a + b")) as fake:
        doctor = doc_snippet("readme-doctor").strip()
        env["QWEN_LSP_BASE_URL"] = fake.base_url
        run = subprocess.run(
            ["bash", "-c", doctor], env=env, capture_output=True, text=True, timeout=120
        )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.rstrip().endswith("✓ all checks passed")
    assert (
        str(home / ".local" / "bin" / "qwen-lsp")
        in subprocess.run(
            ["bash", "-c", "command -v qwen-lsp"], env=env, capture_output=True, text=True
        ).stdout
    )


def test_example_config_file_is_valid() -> None:
    config = tomllib.loads(doc_snippet("readme-config"))
    _, errors = merge(Settings(), config)
    assert errors == []
    assert "api_key" not in config["endpoint"]


def test_test_command_is_what_ci_runs() -> None:
    command = doc_snippet("readme-test-command").strip()
    ci = (REPO / ".ci" / "run").read_text()
    assert command.rstrip(" \\") in ci.replace(" \\\n    ", " ")
