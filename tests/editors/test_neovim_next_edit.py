"""Neovim, for real: a next-edit prediction offered as virtual text and accepted with the key.
Headless `nvim --embed` with the plugin (clients/neovim, option ``next_edit = true``), the real
server and a scripted endpoint that finishes a rename; what the user sees is read back from the
extmarks of the plugin's namespace, the result from the buffer."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.editors.test_neovim import (  # start_nvim: the fixture
    NeovimSession,
    needs_inline,
    needs_nvim,
    start_nvim,  # noqa: F401
    wait_for,
)
from tests.support.fake_openai import FakeOpenAIThread
from tests.support.next_edit_model import RENAMED, SHAPES, chat_prompts, finish_rename

SHOWN = """
  local ns = vim.api.nvim_get_namespaces()['qwen_lsp.next_edit']
  local out = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    for _, chunk in ipairs(mark[4].virt_text or {}) do
      out[#out + 1] = (mark[2] + 1) .. ':' .. chunk[1]
    end
  end
  return out
"""


def renamed_with_prediction(
    fake: FakeOpenAIThread, start: Callable[..., NeovimSession]
) -> NeovimSession:
    """Neovim on SHAPES with next edits on; the user renames the parameter (`ciw` on "width"
    in the signature, types "w") and the prediction is shown."""
    fake.responder = finish_rename
    nvim = start(
        fake.base_url,
        source=SHAPES,
        next_edit=True,
        settings={
            "endpoint": {"baseUrl": fake.base_url, "transport": "completions"},
            "nextEdit": {"debounceMs": 200},
            "context": {"workspaceIndex": False},
        },
    )
    nvim.nvim.api.win_set_cursor(0, (1, 13))
    nvim.nvim.input("ciww")
    wait_for(lambda: nvim.lines[0] == "def describe(w, height):", 5, "the rename")
    wait_for(lambda: nvim.lua(SHOWN), 15, "the predicted edit")
    return nvim


@needs_nvim
@needs_inline
def test_predicted_edit_shown_as_virtual_text_tab_jumps_then_applies(
    fake_endpoint: FakeOpenAIThread,
    start_nvim: Callable[..., NeovimSession],  # noqa: F811 (the fixture imported above)
) -> None:
    nvim = renamed_with_prediction(fake_endpoint, start_nvim)
    # After each changed line, what it will read.
    assert sorted(nvim.lua(SHOWN)) == ["2:⇥ area = w * height", '3:⇥ print("width", w)']
    assert nvim.nvim.api.get_mode()["mode"] == "i"

    nvim.nvim.input("<Tab>")  # jump to the first predicted edit
    wait_for(lambda: nvim.nvim.api.win_get_cursor(0) == [2, 11], 5, "the jump")
    assert nvim.lines[1] == "    area = width * height"  # nothing applied yet

    nvim.nvim.input("<Tab>")  # there: apply it
    wait_for(lambda: nvim.lines[1] == "    area = w * height", 5, "the applied edit")
    assert "\n".join(nvim.lines) + "\n" == RENAMED
    assert nvim.lua(SHOWN) == []
    (prompt,) = chat_prompts(fake_endpoint.requests)
    assert "+def describe(w, height):" in prompt


@needs_nvim
@needs_inline
def test_a_dismissed_prediction_goes_and_tab_indents_again(
    fake_endpoint: FakeOpenAIThread,
    start_nvim: Callable[..., NeovimSession],  # noqa: F811 (the fixture imported above)
) -> None:
    nvim = renamed_with_prediction(fake_endpoint, start_nvim)
    nvim.nvim.input("<C-]>")
    wait_for(lambda: nvim.lua(SHOWN) == [], 5, "the prediction to go")
    nvim.nvim.input("<Tab>")
    indented = re.compile(r"def describe\(w\s+, height\):")  # a tab, or spaces (expandtab)
    wait_for(lambda: indented.fullmatch(nvim.lines[0]), 5, "a plain tab")
    assert nvim.lines[1] == "    area = width * height"
