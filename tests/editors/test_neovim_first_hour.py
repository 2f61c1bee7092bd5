"""A new user's first hour in Neovim 0.12, following clients/neovim/README.md to the letter: the
documented init.lua is Neovim's config as written (only the endpoint URL points at a scripted
endpoint), the server is the `qwen-lsp` command on PATH, and what the user sees is read back:
ghost text, <Tab>, `:checkhealth qwen-lsp`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.editors.conftest import REPO_ROOT
from tests.editors.doc_snippets import doc_snippet
from tests.editors.test_neovim import NVIM, VERSION, NeovimSession, pynvim, stop_all, wait_for
from tests.support.fake_openai import FakeOpenAI, FakeOpenAIThread, Reply

pytestmark = pytest.mark.editor

SOURCE = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"


@pytest.fixture
def user_nvim(
    tmp_path: Path, editor_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """Start Neovim as the user does: `nvim file` with ~/.config/nvim/init.lua = ``init``."""
    if NVIM is None or VERSION < (0, 12):
        pytest.skip(f"needs Neovim 0.12 (.ci/editors-setup.sh); found {NVIM}")
    home = Path(editor_env["HOME"])
    (home / "src").mkdir()
    (home / "src" / "qwen-lsp").symlink_to(REPO_ROOT)
    env = dict(editor_env)
    # `qwen-lsp` on PATH, as after `pipx install`: the test venv's console script.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for key in list(os.environ):
        if key not in env:
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    started: list[Any] = []

    def start(init: str) -> NeovimSession:
        config = home / ".config" / "nvim"
        config.mkdir(parents=True, exist_ok=True)
        (config / "init.lua").write_text(init)
        project = tmp_path / "project"
        (project / ".git").mkdir(parents=True, exist_ok=True)
        path = project / "calc.py"
        path.write_text(SOURCE)
        nvim = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", str(path)])
        started.append(nvim)
        session = NeovimSession(nvim, path)
        wait_for(session.client_ready, 20, "qwen-lsp to attach and initialize")
        return session

    yield start
    stop_all(started)


def checkhealth(nvim: NeovimSession) -> str:
    nvim.nvim.command("checkhealth qwen-lsp")
    return "\n".join(nvim.nvim.current.buffer[:])


def test_init_lua_as_documented_ghost_text_and_checkhealth(
    fake_endpoint: FakeOpenAIThread, user_nvim: Any
) -> None:
    fake_endpoint.default = Reply(text="a + b")
    nvim = user_nvim(doc_snippet("neovim-init", fake_endpoint.base_url))
    nvim.insert_at_end_of_line(2)
    assert nvim.wait_ghost_text() == "a + b"
    nvim.nvim.input("<Tab>")
    wait_for(lambda: nvim.lines[1] == "    return a + b", 5, "the accepted text")
    nvim.nvim.input("<Esc>")

    from qwen_lsp import __version__

    report = checkhealth(nvim)
    assert "ERROR" not in report, report
    assert "has LSP inline completion: suggestions are ghost text" in report
    assert f"OK server: qwen-lsp {__version__} (" in report
    assert f"OK endpoint answers: {fake_endpoint.base_url}, model qwen2.5-coder" in report
    assert "OK a completion request took" in report
    assert "1 qwen-lsp client(s) running" in report


def test_checkhealth_names_a_stopped_endpoint(user_nvim: Any) -> None:
    with FakeOpenAI.run_in_thread() as gone:
        url = gone.base_url
    nvim = user_nvim(doc_snippet("neovim-init", url))
    report = checkhealth(nvim)
    assert f"ERROR endpoint does not answer: {url}, model qwen2.5-coder" in report
    assert "start the model server or fix endpoint.base_url" in report


def test_checkhealth_without_the_server(
    fake_endpoint: FakeOpenAIThread, user_nvim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    init = doc_snippet("neovim-init", fake_endpoint.base_url)
    nvim = user_nvim(init)
    nvim.lua("require('qwen-lsp').options.cmd = { 'qwen-lsp-not-installed' }")
    report = checkhealth(nvim)
    assert 'ERROR server command "qwen-lsp-not-installed" not found on $PATH' in report
    assert "pipx install /path/to/qwen-lsp" in report


@pytest.mark.parametrize("snippet", ["neovim-lazy-spec", "neovim-lazy-spec-full"])
def test_lazy_spec_as_lazy_runs_it(
    fake_endpoint: FakeOpenAIThread, user_nvim: Any, snippet: str
) -> None:
    """lazy.nvim is not installable here: its part (calling the spec's config with the plugin
    directory) is done by hand; the spec itself is the README's (docs/editors.md's), as written."""
    fake_endpoint.default = Reply(text="a + b")
    spec = doc_snippet(snippet, fake_endpoint.base_url)
    init = (
        f"local spec = {spec}\n"
        "assert(spec[1] == 'qwen-lsp/qwen-lsp')\n"
        "spec.config({ dir = vim.fn.expand('~/src/qwen-lsp') })\n"
    )
    nvim = user_nvim(init)
    nvim.insert_at_end_of_line(2)
    assert nvim.wait_ghost_text() == "a + b"


def test_documented_defaults_are_the_defaults(user_nvim: Any) -> None:
    init = "vim.opt.rtp:append(vim.fn.expand('~/src/qwen-lsp/clients/neovim'))\n"
    init += doc_snippet("neovim-defaults")
    nvim = user_nvim(init)
    same = nvim.lua(
        "local q = require('qwen-lsp') local o = vim.deepcopy(q.options)"
        " o._setup_done = nil o._started_with_config = nil"
        " return vim.deep_equal(o, q.defaults)"
    )
    assert same


def test_lsp_config_by_hand_without_the_plugin(
    fake_endpoint: FakeOpenAIThread, user_nvim: Any
) -> None:
    """docs/editors.md's `vim.lsp.config` form: Neovim's own LSP client, no plugin at all."""
    fake_endpoint.default = Reply(text="a + b")
    nvim = user_nvim(doc_snippet("neovim-lsp-config", fake_endpoint.base_url))
    assert not nvim.lua("return package.loaded['qwen-lsp'] ~= nil")
    nvim.insert_at_end_of_line(2)
    assert nvim.wait_ghost_text() == "a + b"
