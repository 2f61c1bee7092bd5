"""Chat prompts for models that only offer /chat/completions (e.g. qwen3-coder-plus).

The model is asked to answer with exactly the missing code; the post-processing filters strip a
markdown fence and ``<think>`` blocks if it adds them anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

from .fim import ContextFile, sanitize

HOLE = "<<<FILL_HERE>>>"

FIM_SYSTEM = (
    "You are a code completion engine. You receive a file with one hole marked "
    f"{HOLE}. Reply with only the code that replaces the hole: no explanation, no markdown "
    "fence, no text that already exists before or after the hole. Match the file's indentation. "
    "If nothing should be inserted, reply with nothing."
)


def fim_chat_messages(
    prefix: str,
    suffix: str,
    language: str,
    path: str,
    context_files: Sequence[ContextFile] = (),
) -> tuple[dict[str, str], ...]:
    context = "".join(
        f"File: {item.path}\n```\n{sanitize(item.content)}\n```\n\n" for item in context_files
    )
    user = (
        f"{context}Complete the hole in {path or 'the current file'} ({language}).\n"
        f"```{language}\n{sanitize(prefix)}{HOLE}{sanitize(suffix)}\n```"
    )
    return ({"role": "system", "content": FIM_SYSTEM}, {"role": "user", "content": user})
