"""Other files' snippets as prompt items: rendered from their sources, with what another
selected snippet already shows dropped."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from .budget import Item, Selection, merge_selection
from .build_state import BuildState
from .file_policy import is_secret_path
from .index import CONTAINER_KINDS
from .retrieval import SUMMARY_KEY, SnippetCandidate, snippet_identity
from .snippets import member_text
from .sources import SourceCache
from .tokens import TokenCounter


def items_for(
    state: BuildState,
    candidates: Sequence[SnippetCandidate],
    sources: SourceCache,
    counter: TokenCounter,
) -> list[Item]:
    """The candidates of other files as items (rendered text and its token count), a member
    wholly inside its selected class's text left out."""
    language_id = state.request.language_id
    items: list[Item] = []
    by_file: dict[str, list[SnippetCandidate]] = {}
    for cand in candidates:
        by_file.setdefault(cand.path, []).append(cand)
    for file_path, group in by_file.items():
        if is_secret_path(file_path):
            continue
        display = sources.display_path(file_path)
        source_info = sources.source_for(file_path)
        for cand in group:
            text = cand.text
            if text is None and source_info is not None:
                source, symbols, version_key = source_info
                if cand.symbol is not None:
                    text = sources.render(
                        cand.symbol,
                        source,
                        symbols,
                        language_id,
                        version_key,
                        cand.brief,
                        state.relevant,
                    )
                elif cand.key[1] == SUMMARY_KEY:
                    text = sources.summary(file_path, source, symbols, language_id, version_key)
            if not text:
                continue
            items.append(
                Item(
                    snippet_identity(cand),
                    file_path,
                    display,
                    cand.start_line,
                    text,
                    counter.count_piece(text),
                    cand.score,
                    cand.symbol,
                )
            )
    return _drop_contained(items)


def drop_redundant(
    selection: Selection,
    language_id: str,
    keep: frozenset[Hashable],
    sources: SourceCache,
    counter: TokenCounter,
) -> Selection:
    """Drop a newly chosen member whose text a selected class already shows whole (old
    choices stay: removing them would change the prompt's start)."""
    boxes = [
        i for i in selection.items if i.symbol is not None and i.symbol.kind in CONTAINER_KINDS
    ]
    if not boxes:
        return selection
    out: list[Item] = []
    for item in selection.items:
        if (
            item.key not in keep
            and item.symbol is not None
            and _inside_shown(item, boxes, language_id, sources)
        ):
            continue
        out.append(item)
    if len(out) == len(selection.items):
        return selection
    return merge_selection(selection, out, counter.count_piece)


def _inside_shown(
    item: Item, boxes: Sequence[Item], language_id: str, sources: SourceCache
) -> bool:
    for box in boxes:
        if box is item or box.path != item.path:
            continue
        if not (
            box.symbol.start_byte <= item.symbol.start_byte
            and item.symbol.end_byte <= box.symbol.end_byte
        ):
            continue
        info = sources.source_for(item.path)
        if info is None:
            return False
        body = member_text(item.symbol, info[0], sources.language_of(item.path, language_id))
        if body in box.text:
            return True
    return False


def _drop_contained(items: Sequence[Item]) -> list[Item]:
    """A method whose text is wholly inside its selected class's text adds nothing."""
    by_path: dict[str, list[Item]] = {}
    for item in items:
        by_path.setdefault(item.path, []).append(item)
    out: list[Item] = []
    for item in items:
        siblings = by_path[item.path]
        if any(o is not item and o.score >= item.score and item.text in o.text for o in siblings):
            continue
        out.append(item)
    return out
