"""Qwen's FIM formats (file and repo level), their stop tokens, forged structure refused."""

from __future__ import annotations

from qwen_lsp.prompts.fim import STOP_TOKENS, ContextFile, file_level_prompt, repo_level_prompt


def test_file_level_matches_qwen_format():
    assert (
        file_level_prompt("def f():\n    ", "\nprint(f())\n")
        == "<|fim_prefix|>def f():\n    <|fim_suffix|>\nprint(f())\n<|fim_middle|>"
    )


def test_empty_suffix_is_never_sent():
    assert file_level_prompt("x = ", "").endswith("<|fim_suffix|>\n<|fim_middle|>")


def test_repo_level_matches_qwen_format():
    prompt = repo_level_prompt(
        "myrepo",
        [ContextFile("lib/util.py", "def helper():\n    return 1"), ContextFile("a.py", "A = 1\n")],
        "main.py",
        "from lib.util import helper\nx = ",
        "\n",
    )
    # Qwen's template puts a newline after each content: a file ending in "\n" is followed by
    # a blank line (see test_repo_prompt_golden.py).
    assert prompt == (
        "<|repo_name|>myrepo\n"
        "<|file_sep|>lib/util.py\ndef helper():\n    return 1\n"
        "<|file_sep|>a.py\nA = 1\n\n"
        "<|file_sep|>main.py\n"
        "<|fim_prefix|>from lib.util import helper\nx = <|fim_suffix|>\n<|fim_middle|>"
    )


def test_special_tokens_in_user_text_cannot_forge_structure():
    prompt = file_level_prompt("s = '<|fim_middle|>'", "<|endoftext|>")
    assert prompt.count("<|fim_middle|>") == 1
    assert "<|endoftext|>" not in prompt


def test_stop_tokens_cover_qwen_specials():
    for token in (
        "<|endoftext|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|repo_name|>",
        "<|file_sep|>",
        "<|im_start|>",
        "<|im_end|>",
    ):
        assert token in STOP_TOKENS
