"""The FIM task as chat messages for chat-only endpoints."""

from __future__ import annotations

from qwen_lsp.prompts.chat import HOLE, fim_chat_messages


def test_chat_messages_mark_the_hole():
    system, user = fim_chat_messages("a = ", "\nb = 2", "python", "m.py")
    assert system["role"] == "system" and user["role"] == "user"
    assert f"a = {HOLE}\nb = 2" in user["content"]
