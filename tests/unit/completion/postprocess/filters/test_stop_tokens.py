"""``strip_stop_tokens``: stop sequences, ``<think>`` reasoning, markdown fences."""

from __future__ import annotations

import pytest

from qwen_lsp.completion.postprocess.context import (
    Suggestion,
)
from qwen_lsp.completion.postprocess.filters.stop_tokens import strip_stop_tokens
from tests.unit.completion.postprocess.helpers import ctx, run


class TestStopTokens:
    c = ctx("x = █\n")

    @pytest.mark.parametrize(
        "raw",
        [
            "compute()<|endoftext|>import os",
            "compute()<|file_sep|>src/other.py\nimport os",
            "compute()<|fim_middle|>",
            "compute()<|im_end|>\n<|im_start|>user",
            "compute()<|box_start|>",  # any Qwen-style special token
        ],
    )
    def test_cuts_at_the_first_special_token(self, raw: str) -> None:
        assert run(strip_stop_tokens, raw, self.c) == ("compute()", 0)

    def test_custom_stop_sequence(self) -> None:
        context = ctx("x = █\n", stop_sequences=("\n\n\n",))
        assert run(strip_stop_tokens, "a\n\n\nb", context) == ("a", 0)

    def test_think_block_and_its_separator_are_removed(self) -> None:
        raw = "<think>\nThe user wants a call.\n</think>\n\ncompute()"
        assert run(strip_stop_tokens, raw, self.c) == ("compute()", 0)

    def test_think_keeps_the_completions_own_leading_newline(self) -> None:
        raw = "<think>ok</think>\n\n\n    return 1"
        assert run(strip_stop_tokens, raw, self.c) == ("\n    return 1", 0)

    def test_unterminated_leading_think_rejects(self) -> None:
        assert run(strip_stop_tokens, "<think>\nLet me consider the options", self.c) is None

    def test_think_started_later_cuts_there(self) -> None:
        assert run(strip_stop_tokens, "compute()\n<think>hmm", self.c) == ("compute()\n", 0)

    def test_markdown_fence_and_trailing_prose_are_removed(self) -> None:
        raw = "```python\ncompute()\n```\nThis calls compute."
        assert run(strip_stop_tokens, raw, self.c) == ("compute()", 0)

    def test_fence_content_keeps_its_leading_newline(self) -> None:
        raw = "```py\n\n    return 1\n```"
        assert run(strip_stop_tokens, raw, self.c) == ("\n    return 1", 0)

    def test_a_lone_closing_fence_at_the_end_is_removed(self) -> None:
        assert run(strip_stop_tokens, "compute()\n```", self.c) == ("compute()", 0)

    def test_markdown_documents_keep_fences(self) -> None:
        context = ctx("# Title\n█\n", language="markdown")
        raw = "```python\nx = 1\n```"
        assert run(strip_stop_tokens, raw, context) == (raw, 0)

    def test_clean_text_is_untouched_and_unnoted(self) -> None:
        result = strip_stop_tokens(Suggestion("compute()"), self.c)
        assert result == Suggestion("compute()")
