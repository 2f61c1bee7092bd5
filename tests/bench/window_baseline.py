"""The plain prefix/suffix window, cut at line boundaries to fit a token budget: the
"prefix/suffix only" baseline of the context bench (the server cuts its window with
``qwen_lsp.context.current_file.cut_window``)."""

from __future__ import annotations

from dataclasses import dataclass

from qwen_lsp.context.current_file import take_suffix_lines
from qwen_lsp.context.tokens import TokenCounter


@dataclass(frozen=True)
class Window:
    prefix: str
    suffix: str
    prefix_tokens: int
    suffix_tokens: int
    # Whether text before/after the window was cut away.
    prefix_truncated: bool
    suffix_truncated: bool


def take_prefix_lines(prefix: str, budget: int, counter: TokenCounter) -> tuple[str, int]:
    """The longest tail of ``prefix`` starting at a line start that fits ``budget`` tokens.

    The cursor's own (partial) line is always kept. Counting line by line (from the cursor
    backwards) keeps the cost proportional to the window, not the file.
    """
    if budget <= 0:
        return "", 0
    cut = prefix.rfind("\n") + 1
    used = counter.count_piece(prefix[cut:])
    while cut > 0:
        start = prefix.rfind("\n", 0, cut - 1) + 1
        cost = counter.count_piece(prefix[start:cut])
        if used + cost > budget:
            break
        used += cost
        cut = start
    return prefix[cut:], used


def fit_window(
    prefix: str, suffix: str, budget: int, suffix_share: float, counter: TokenCounter
) -> Window:
    """Split ``budget`` between suffix (at most ``suffix_share``) and prefix; unused suffix budget
    goes back to the prefix, which matters more for what comes next."""
    suffix_text, suffix_tokens = take_suffix_lines(suffix, int(budget * suffix_share), counter)
    prefix_text, prefix_tokens = take_prefix_lines(prefix, budget - suffix_tokens, counter)
    return Window(
        prefix=prefix_text,
        suffix=suffix_text,
        prefix_tokens=prefix_tokens,
        suffix_tokens=suffix_tokens,
        prefix_truncated=len(prefix_text) < len(prefix),
        suffix_truncated=len(suffix_text) < len(suffix),
    )
