"""Qwen fill-in-the-middle prompt formats.

File level (Qwen2.5-Coder)::

    <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>

Repo level (the template of Qwen2.5-Coder's "repository level code infilling" example): a
repository header, one ``<|file_sep|>path`` section per context file, each content followed by a
newline (so a file ending in a newline is followed by a blank line, as in Qwen's example), and the
current file last with its FIM block::

    <|repo_name|>{name}
    <|file_sep|>{path_1}
    {content_1}
    <|file_sep|>{current_path}
    <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>

Context files come first and in a deterministic order so consecutive keystrokes share a long
prompt start, which model servers reuse from their prefix (KV) cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FIM_PREFIX = "<|fim_prefix|>"
FIM_SUFFIX = "<|fim_suffix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_PAD = "<|fim_pad|>"
REPO_NAME = "<|repo_name|>"
FILE_SEP = "<|file_sep|>"
ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

SPECIAL_TOKENS: tuple[str, ...] = (
    ENDOFTEXT,
    FIM_PREFIX,
    FIM_SUFFIX,
    FIM_MIDDLE,
    FIM_PAD,
    REPO_NAME,
    FILE_SEP,
    IM_START,
    IM_END,
)
# What we send as `stop`: generation must end at any special token.
STOP_TOKENS: tuple[str, ...] = SPECIAL_TOKENS


@dataclass(frozen=True)
class ContextFile:
    """A snippet shown to the model as (part of) another file of the repository."""

    path: str
    content: str


def sanitize(text: str) -> str:
    """Remove special-token text from user content so a file cannot forge prompt structure."""
    for token in SPECIAL_TOKENS:
        if token in text:
            text = text.replace(token, token.replace("|", ""))
    return text


def non_empty_suffix(suffix: str) -> str:
    # Qwen degrades on an empty suffix (stops at once or rambles): give it a newline.
    return suffix if suffix else "\n"


def file_level_prompt(prefix: str, suffix: str) -> str:
    suffix = non_empty_suffix(sanitize(suffix))
    return f"{FIM_PREFIX}{sanitize(prefix)}{FIM_SUFFIX}{suffix}{FIM_MIDDLE}"


def repo_level_prompt(
    repo_name: str,
    context_files: Sequence[ContextFile],
    current_path: str,
    prefix: str,
    suffix: str,
) -> str:
    parts = [f"{REPO_NAME}{sanitize(repo_name)}\n"]
    for item in context_files:
        parts.append(f"{FILE_SEP}{sanitize(item.path)}\n{sanitize(item.content)}\n")
    parts.append(f"{FILE_SEP}{sanitize(current_path)}\n")
    parts.append(file_level_prompt(prefix, suffix))
    return "".join(parts)
