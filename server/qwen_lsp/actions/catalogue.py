"""The code-action menu: which AI actions to offer for a range, listed without calling the model.

``textDocument/codeAction`` must answer in milliseconds (clients ask on every cursor move to
decide whether to show a light bulb), so listing only looks at the syntax tree and the
diagnostics in the request. The work happens later, in ``codeAction/resolve`` or the
``qwen-lsp.runAction`` command, from the :class:`ActionData` carried by the action.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from ..documents import Document
from ..settings import ActionSettings, CustomAction
from .regions import Region, target_region
from .testfiles import is_test_file, test_target

FIX, REFACTOR, DOCUMENT, TESTS, EXPLAIN, CUSTOM = (
    "fix",
    "refactor",
    "document",
    "tests",
    "explain",
    "custom",
)
KINDS: dict[str, str] = {
    FIX: types.CodeActionKind.QuickFix.value,
    REFACTOR: types.CodeActionKind.RefactorRewrite.value,
    DOCUMENT: "refactor.rewrite.document",
    TESTS: "refactor.tests",
    EXPLAIN: "refactor.explain",
}
TITLE_PREFIX = "Qwen: "
MAX_MESSAGE_IN_TITLE = 60
DATA_TAG = "qwen-lsp"


@dataclass(frozen=True)
class ActionData:
    """What an action needs to run later; travels as ``CodeAction.data`` or command argument."""

    action: str
    uri: str
    version: int
    range: types.Range
    diagnostics: tuple[dict[str, Any], ...] = ()
    custom: int = -1  # index into actions.custom
    custom_title: str = ""  # detects a config change between listing and running
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        r = self.range
        return {
            "tag": DATA_TAG,
            "action": self.action,
            "title": self.title,
            "uri": self.uri,
            "version": self.version,
            "range": [r.start.line, r.start.character, r.end.line, r.end.character],
            "diagnostics": list(self.diagnostics),
            "custom": self.custom,
            "customTitle": self.custom_title,
        }

    @classmethod
    def from_json(cls, value: Any) -> ActionData:
        """Parse what :meth:`to_json` produced; ValueError for anything else."""
        if not isinstance(value, dict) or value.get("tag") != DATA_TAG:
            raise ValueError("not a qwen-lsp action")
        try:
            line0, char0, line1, char1 = (int(v) for v in value["range"])
            diagnostics = value.get("diagnostics") or []
            return cls(
                action=str(value["action"]),
                uri=str(value["uri"]),
                version=int(value["version"]),
                range=types.Range(types.Position(line0, char0), types.Position(line1, char1)),
                diagnostics=tuple(d for d in diagnostics if isinstance(d, dict)),
                custom=int(value.get("custom", -1)),
                custom_title=str(value.get("customTitle", "")),
                title=str(value.get("title", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed qwen-lsp action data: {exc}") from None


@dataclass(frozen=True)
class Offer:
    """One action to list: its title, kind and the data to run it."""

    title: str
    kind: str
    data: ActionData
    diagnostics: tuple[types.Diagnostic, ...] = field(default=())
    # Actions that show something rather than edit run as a command, never through resolve.
    command_only: bool = False


def diagnostic_json(diagnostic: types.Diagnostic) -> dict[str, Any]:
    r = diagnostic.range
    severity = diagnostic.severity.value if diagnostic.severity is not None else None
    return {
        "line": r.start.line,
        "endLine": r.end.line,
        "message": diagnostic.message,
        "severity": severity,
        "source": diagnostic.source or "",
        "code": "" if diagnostic.code is None else str(diagnostic.code),
    }


def kind_matches(kind: str, only: Sequence[str] | None) -> bool:
    """The LSP ``only`` filter is hierarchical: "refactor" admits "refactor.rewrite"."""
    if not only:
        return True
    return any(kind == o or kind.startswith(f"{o}.") for o in only)


def one_line(text: str, limit: int = MAX_MESSAGE_IN_TITLE) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def fix_title(diagnostics: Sequence[types.Diagnostic]) -> str:
    if len(diagnostics) == 1:
        return f'{TITLE_PREFIX}Fix "{one_line(diagnostics[0].message)}"'
    return f"{TITLE_PREFIX}Fix {len(diagnostics)} problems"


def custom_title(custom: CustomAction) -> str:
    title = custom.title.strip()
    return title if title.lower().startswith("qwen") else f"{TITLE_PREFIX}{title}"


def custom_applies(custom: CustomAction, language_id: str) -> bool:
    if not custom.title.strip() or not custom.prompt.strip():
        return False
    return not custom.languages or language_id in custom.languages


def tests_title(doc: Document, region: Region, roots: Sequence[str]) -> str | None:
    """ "Generate tests for function add in tests/test_calc.py", or None when there is nowhere
    sensible to put them (not a file, already a test file, no convention for the language)."""
    if doc.path is None or is_test_file(doc.path):
        return None
    target = test_target(
        doc.language_id, Path(doc.path), roots, "", region.outer_name, details=False
    )
    if target is None:
        return None
    root = next((Path(r) for r in roots if target.path.is_relative_to(r)), None)
    shown = target.path.relative_to(root) if root is not None else target.path.name
    return f"{TITLE_PREFIX}Generate tests for {region.short_label} in {Path(shown).as_posix()}"


def offered_actions(
    doc: Document,
    rng: types.Range,
    diagnostics: Sequence[types.Diagnostic],
    settings: ActionSettings,
    only: Sequence[str] | None = None,
    roots: Sequence[str] = (),
) -> list[Offer]:
    """The actions for a range, cheapest checks only: no model call, no file reads."""
    if not settings.enabled:
        return []

    def data(action: str, **extra: Any) -> ActionData:
        return ActionData(action=action, uri=doc.uri, version=doc.version, range=rng, **extra)

    offers: list[Offer] = []
    if diagnostics:
        notes = tuple(diagnostic_json(d) for d in diagnostics)
        offers.append(
            Offer(
                fix_title(diagnostics), KINDS[FIX], data(FIX, diagnostics=notes), tuple(diagnostics)
            )
        )
    region = target_region(doc, rng)
    if region is not None:
        label = region.short_label
        offers.append(Offer(f"{TITLE_PREFIX}Refactor {label}", KINDS[REFACTOR], data(REFACTOR)))
        offers.append(Offer(f"{TITLE_PREFIX}Document {label}", KINDS[DOCUMENT], data(DOCUMENT)))
        if (title := tests_title(doc, region, roots)) is not None:
            offers.append(Offer(title, KINDS[TESTS], data(TESTS)))
        explain = data(EXPLAIN)
        offers.append(Offer(f"{TITLE_PREFIX}Explain {label}", KINDS[EXPLAIN], explain, (), True))
        notes = tuple(diagnostic_json(d) for d in diagnostics)
        for index, custom in enumerate(settings.custom):
            if custom_applies(custom, doc.language_id):
                extra = {"custom": index, "custom_title": custom.title, "diagnostics": notes}
                shows = custom.output == "explain"
                offers.append(
                    Offer(custom_title(custom), custom.kind, data(CUSTOM, **extra), (), shows)
                )
    return [
        dataclasses.replace(o, data=dataclasses.replace(o.data, title=o.title))
        for o in offers
        if kind_matches(o.kind, only)
    ]
