"""Stop sequences, ``<think>`` reasoning and markdown fences: none of it is code."""

from __future__ import annotations

import re

from ..context import QWEN_STOP_SEQUENCES, PostContext, Suggestion

# Any special token in the Qwen style (`<|name|>`); code practically never contains one.
SPECIAL_TOKEN = re.compile(r"<\|[a-z][a-z0-9_]{1,30}\|>")
THINK_BLOCK = re.compile(r"<think>.*?</think>[ \t]*\n?\n?", re.S)
FENCE_OPEN = re.compile(r"\A(?:[ \t]*\n)*[ \t]*(`{3,}|~{3,})[\w+#.\-]*[ \t]*(?:\n|\Z)")
FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*$", re.M)
MARKUP_LANGUAGES = frozenset({"markdown", "mdx", "plaintext", "restructuredtext"})


def strip_stop_tokens(suggestion: Suggestion, ctx: PostContext) -> Suggestion | None:
    """Cut at the first stop sequence, drop ``<think>`` reasoning and a markdown fence.

    Servers do not always honour ``stop`` (or stream a few tokens past it); a reasoning model
    thinks aloud first; a chat-tuned model wraps code in a fence. None of that is code.
    """
    text = suggestion.text
    cut = len(text)
    for stop in {*ctx.stop_sequences, *QWEN_STOP_SEQUENCES}:
        if stop:
            found = text.find(stop, 0, cut)
            if found >= 0:
                cut = found
    special = SPECIAL_TOKEN.search(text, 0, cut)
    if special:
        cut = special.start()
    text = text[:cut]

    if "<think>" in text:
        if text.lstrip().startswith("<think>") and "</think>" not in text:
            return None  # still thinking when the answer was cut off: nothing to show
        text = THINK_BLOCK.sub("", text.lstrip() if text.lstrip().startswith("<think>") else text)
        if "<think>" in text:  # an unterminated block later on: the rest is reasoning
            text = text[: text.index("<think>")]

    if ctx.language not in MARKUP_LANGUAGES:
        opening = FENCE_OPEN.match(text)
        if opening:
            text = text[opening.end() :]
            closing = FENCE_LINE.search(text)
            if closing:
                text = text[: max(0, closing.start() - 1)]
        else:
            lines = text.rstrip().split("\n")
            if len(lines) > 1 and FENCE_LINE.fullmatch(lines[-1]):
                text = "\n".join(lines[:-1])
    return suggestion.change("stop_tokens", text=text)
