"""Fitting ranked snippets into a token budget, in an order that stays put between keystrokes.

Model servers reuse the KV cache of the longest prompt start two requests share, so the context
must not reshuffle while the user types. Two modes:

* **fresh** (a new document session, or the window moved): greedy by priority (score discounted
  for size), sections grouped by file, the most relevant file last (nearest the current file,
  where the model attends most);
* **sticky** (typing on): the previous snippets stay, in their previous order, as long as they
  are still candidates; a new snippet is appended after them (so only the prompt's tail
  changes), and evicts an old one only when it is clearly more relevant. Consecutive snippets
  of one file share a section, so a file may get a second section at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..prompts.fim import FILE_SEP, ContextFile

# A new snippet evicts an old one only when its priority is this many times higher.
EVICTION_RATIO = 2.0
# While typing, a new snippet joins only above this multiple of the fresh selection's floor.
NEWCOMER_RATIO = 1.5
# Tokens at which a snippet's priority is halved.
SIZE_SCALE = 100
# Per-item joining cost (a blank line between snippets) on top of the item's own tokens.
JOIN_TOKENS = 1


@dataclass(frozen=True)
class Item:
    """A rendered snippet ready for selection."""

    key: Hashable  # stable across edits (see ``retrieval.snippet_identity``)
    path: str  # absolute: groups items into one file section
    display_path: str  # as shown after <|file_sep|>
    start_line: int
    text: str
    tokens: int
    score: float
    symbol: Any = None  # the index Symbol behind a definition snippet


@dataclass(frozen=True)
class Selection:
    items: tuple[Item, ...]  # in prompt order
    tokens: int
    # Lowest priority a fresh selection took: later additions must clearly beat it.
    floor: float = 0.0

    @property
    def keys(self) -> tuple[Hashable, ...]:
        return tuple(item.key for item in self.items)


def section_header_tokens(display_path: str, count: Callable[[str], int]) -> int:
    return count(f"{FILE_SEP}{display_path}\n")


def priority(item: Item) -> float:
    """Score discounted for size: a 600-token class skeleton must earn its room."""
    return item.score / (1.0 + item.tokens / SIZE_SCALE)


def _cost(items: Sequence[Item], count: Callable[[str], int]) -> int:
    """Tokens of items laid out in this order (a section header per run of one file)."""
    total, last_path = 0, None
    for item in items:
        if item.path != last_path:
            total += section_header_tokens(item.display_path, count)
            last_path = item.path
        total += item.tokens + JOIN_TOKENS
    return total


def select(
    items: Sequence[Item],
    budget: int,
    count: Callable[[str], int],
    previous: Selection | None = None,
    fresh: bool = True,
) -> Selection:
    """Choose and order snippets within ``budget`` tokens (see the module docstring)."""
    if fresh or previous is None or not previous.items:
        return _fresh(items, budget, count)
    return _sticky(items, budget, count, previous)


def _fresh(items: Sequence[Item], budget: int, count: Callable[[str], int]) -> Selection:
    ranked = sorted(items, key=lambda i: (-priority(i), i.key))
    chosen: list[Item] = []
    seen: set[Hashable] = set()
    headers: set[str] = set()
    used = 0
    for item in ranked:
        if item.key in seen:
            continue
        header = 0 if item.path in headers else section_header_tokens(item.display_path, count)
        cost = item.tokens + JOIN_TOKENS + header
        if used + cost > budget:
            continue  # a smaller one further down may still fit
        used += cost
        chosen.append(item)
        seen.add(item.key)
        headers.add(item.path)
    ordered = _grouped(chosen)
    floor = min((priority(i) for i in chosen), default=0.0)
    return Selection(tuple(ordered), _cost(ordered, count), floor)


def _grouped(chosen: Sequence[Item]) -> list[Item]:
    """Files from the least to the most relevant; a file's snippets in source order."""
    best: dict[str, float] = {}
    for item in chosen:
        best[item.path] = max(best.get(item.path, 0.0), priority(item))
    files = sorted(best, key=lambda p: (best[p], p))
    by_file = {
        p: sorted((i for i in chosen if i.path == p), key=lambda i: (i.start_line, i.key))
        for p in files
    }
    return [item for path in files for item in by_file[path]]


def _sticky(
    items: Sequence[Item],
    budget: int,
    count: Callable[[str], int],
    previous: Selection,
) -> Selection:
    """Keep what the prompt already shows (even snippets no longer ranked: dropping them would
    change the prompt's start), append clearly relevant newcomers, evict only for them."""
    by_key = {item.key: item for item in items}
    # Old snippets keep their text; their priority is today's (0 when no longer a candidate).
    current = {key: priority(item) for key, item in by_key.items()}
    kept = list(previous.items)
    while kept and _cost(kept, count) > budget:  # the budget shrank
        kept.remove(min(kept, key=lambda i: current.get(i.key, 0.0)))
    chosen = list(kept)
    old_keys = {item.key for item in kept}
    threshold = NEWCOMER_RATIO * previous.floor
    newcomers = sorted(
        (i for i in items if i.key not in old_keys and priority(i) > threshold),
        key=lambda i: (-priority(i), i.key),
    )
    for item in newcomers:
        trial = [*chosen, item]
        while _cost(trial, count) > budget:
            victims = [i for i in trial if i.key in old_keys]
            weakest = min(victims, key=lambda i: current.get(i.key, 0.0)) if victims else None
            if weakest is None or priority(item) < EVICTION_RATIO * current.get(weakest.key, 0.0):
                break
            trial.remove(weakest)
        if _cost(trial, count) <= budget:
            chosen = trial
    return Selection(tuple(chosen), _cost(chosen, count), previous.floor)


def merge_selection(
    selection: Selection, items: Sequence[Item], count: Callable[[str], int]
) -> Selection:
    """The selection with ``items`` (re-rendered or dropped members) in place of the old."""
    return replace(selection, items=tuple(items), tokens=_cost(items, count))  # floor kept


def assemble(selection: Selection) -> list[ContextFile]:
    """One section per run of snippets from the same file, snippets separated by a blank line."""
    files: list[ContextFile] = []
    run: list[Item] = []
    for item in [*selection.items, None]:
        if run and (item is None or item.path != run[0].path):
            content = "\n\n".join(i.text for i in run)
            files.append(ContextFile(run[0].display_path, content + "\n"))
            run = []
        if item is not None:
            run.append(item)
    return files
