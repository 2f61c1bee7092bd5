"""The code-action set: each AI action on a real function of the extracts, through the real server.

The client lists the actions at the function (``textDocument/codeAction``, with a diagnostic for
*fix*: the function gets one realistic mistake, an identifier typo, and the diagnostic a linter or
compiler gives for it), picks the wanted one, resolves it (or runs its command: *explain*) and
applies the returned ``WorkspaceEdit`` the way an editor would. Scored for:

- applied: an edit came back and applies (edits inside the document, not overlapping);
- parses: the edited file has no more syntax errors than before;
- loses code: a function/type definition of the file is gone, or (fix, document, custom) more
  non-blank lines were removed than added, or (refactor) the function lost more than half of its
  lines — an edit that deletes the user's code;
- duplicates code: a definition now appears more often than before (the answer re-typed its
  context around the region);
- fixed (fix only): the edited file equals the original (the typo undone, nothing else).
"""

from __future__ import annotations

import asyncio
import difflib
import itertools
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tree_sitter import Node

from .cases import REPOS
from .lsp_driver import LspError, QwenLsp, qwen_lsp
from .recorder import Exchange, Recorder
from .syntax_facts import (
    DECLARATIONS,
    TOP_DEFINITIONS,
    error_count,
    language_of,
    parse,
    top_definitions,
    walk,
)
from .systems import offset_of


@dataclass(frozen=True)
class ActionCase:
    id: str
    repo: str
    path: str
    function: str
    action: str  # fix, refactor, document, tests, explain, custom
    typo: tuple[str, str] = ("", "")  # fix: (original text, mistaken text) inside the function
    diagnostic: str = ""  # fix: the message a linter / compiler gives for the typo
    source: str = ""  # fix: the diagnostic's source


CUSTOM_ACTION = {
    "title": "Add JSDoc and explicit types",
    "prompt": "Add a JSDoc comment and explicit parameter and return types to {name}; change "
    "nothing else.\n{selection}",
    "languages": ["typescript"],
}

ENCODING_PY = "src/itsdangerous/encoding.py"
SIGNER_PY = "src/itsdangerous/signer.py"
ACTION_CASES = (
    ActionCase(
        "py-fix", "itsdangerous", ENCODING_PY, "base64_decode", "fix",
        ('want_bytes(string, encoding="ascii"', 'want_byte(string, encoding="ascii"'),
        "undefined name 'want_byte'", "pyflakes",
    ),
    ActionCase("py-document", "itsdangerous", ENCODING_PY, "int_to_bytes", "document"),
    ActionCase("py-tests", "itsdangerous", ENCODING_PY, "bytes_to_int", "tests"),
    ActionCase("py-refactor", "itsdangerous", SIGNER_PY, "derive_key", "refactor"),
    ActionCase(
        "go-fix", "chi", "context.go", "URLParam", "fix",
        ("return x.URLParams.Values[k]", "return x.URLParams.Value[k]"),
        "x.URLParams.Value undefined (type RouteParams has no field or method Value, but does "
        "have field Values)",
        "compiler",
    ),
    ActionCase("go-refactor", "chi", "middleware/strip.go", "StripSlashes", "refactor"),
    ActionCase("go-document", "chi", "context.go", "String", "document"),
    ActionCase("rust-document", "semver", "src/eval.rs", "matches_exact", "document"),
    ActionCase("rust-explain", "semver", "src/parse.rs", "numeric_identifier", "explain"),
    ActionCase("ts-tests", "ky", "source/utils/is-network-error.ts", "isRawNetworkError", "tests"),
    ActionCase("ts-custom", "ky", "source/utils/merge.ts", "newHookValue", "custom"),
    ActionCase("ts-explain", "ky", "source/utils/body.ts", "getBodySize", "explain"),
)  # fmt: skip


# One action of each kind: the default run (the full run has all of ACTION_CASES).
CORE_ACTIONS = ("py-fix", "go-refactor", "rust-document", "py-tests", "ts-explain", "ts-custom")


@dataclass
class ActionOutcome:
    case: ActionCase
    offered: list[str] = field(default_factory=list)
    title: str = ""
    status: str = ""  # applied, refused (JSON-RPC error), not offered, shown (explain), no edit
    message: str = ""
    seconds: float = 0.0
    exchanges: list[Exchange] = field(default_factory=list)
    parses: bool = True
    definitions_lost: list[str] = field(default_factory=list)
    definitions_duplicated: list[str] = field(default_factory=list)
    lines_added: int = 0
    lines_removed: int = 0
    region_lines_before: int = 0
    region_lines_after: int = 0
    loses_code: bool = False
    fixed: bool | None = None
    new_files: list[str] = field(default_factory=list)
    new_file_parses: bool | None = None
    explanation_chars: int = 0


def _definition(text: str, language: str, name: str) -> Node:
    kinds = DECLARATIONS[language] | TOP_DEFINITIONS[language] | {"variable_declarator"}
    for node in walk(parse(text, language).root_node):
        if node.type in kinds:
            found = node.child_by_field_name("name")
            if found is not None and (found.text or b"").decode() == name:
                return node
    raise LookupError(f"no definition {name}")


def function_range(text: str, language: str, name: str) -> tuple[int, int]:
    """(first line, last line) of the first definition called ``name``."""
    node = _definition(text, language, name)
    holder = node.parent if node.type == "variable_declarator" and node.parent else node
    return holder.start_point[0], holder.end_point[0]


def cursor_spots(text: str, language: str, name: str) -> list[tuple[int, int]]:
    """Where a user asks for actions: on the definition's name, else on its second line."""
    node = _definition(text, language, name)
    found = node.child_by_field_name("name")
    assert found is not None
    row = found.start_point[0]
    second = text.split("\n")[row + 1]
    return [(row, found.start_point[1]), (row + 1, len(second) - len(second.lstrip()))]


def apply_text_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply LSP TextEdits (positions in UTF-16) the way an editor does; ValueError if they
    overlap or fall outside the document."""
    spans = []
    for edit in edits:
        r = edit["range"]
        start = offset_of(text, r["start"]["line"], r["start"]["character"])
        end = offset_of(text, r["end"]["line"], r["end"]["character"])
        if end < start or end > len(text):
            raise ValueError("edit outside the document")
        spans.append((start, end, edit["newText"]))
    spans.sort()
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        if start < end:
            raise ValueError("overlapping edits")
    for start, end, new in reversed(spans):
        text = text[:start] + new + text[end:]
    return text


def _document_edits(edit: dict[str, Any], uri: str) -> tuple[list[dict[str, Any]], list[str]]:
    """(TextEdits for ``uri``, URIs of other files created or edited)."""
    mine: list[dict[str, Any]] = []
    others: list[str] = []
    for change in edit.get("documentChanges") or []:
        if change.get("kind") == "create":
            others.append(change["uri"])
        elif change.get("textDocument", {}).get("uri") == uri:
            mine += change.get("edits", [])
        elif "textDocument" in change:
            others.append(change["textDocument"]["uri"])
    for target, edits in (edit.get("changes") or {}).items():
        if target == uri:
            mine += edits
        else:
            others.append(target)
    return mine, sorted(set(others))


def score_edit(
    outcome: ActionOutcome,
    before: str,
    after: str,
    original: str,
    language: str,
    region: tuple[int, int],
) -> None:
    case = outcome.case
    outcome.parses = error_count(after, language) <= error_count(before, language)
    defs_before, defs_after = top_definitions(before, language), top_definitions(after, language)
    outcome.definitions_lost = sorted(set(defs_before) - set(defs_after))
    counts_before, counts_after = Counter(defs_before), Counter(defs_after)
    outcome.definitions_duplicated = sorted(
        d for d, n in counts_after.items() if d in counts_before and n > counts_before[d]
    )
    added = removed = 0
    for line in difflib.unified_diff(before.split("\n"), after.split("\n"), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++") and line[1:].strip():
            added += 1
        elif line.startswith("-") and not line.startswith("---") and line[1:].strip():
            removed += 1
    outcome.lines_added, outcome.lines_removed = added, removed
    outcome.region_lines_before = region[1] - region[0] + 1
    try:
        first, last = function_range(after, language, case.function)
        outcome.region_lines_after = last - first + 1
    except LookupError:
        outcome.region_lines_after = 0
    shrank = outcome.region_lines_after < outcome.region_lines_before / 2
    net_deletion = removed > added
    outcome.loses_code = bool(outcome.definitions_lost) or (
        shrank if case.action == "refactor" else net_deletion and case.action != "tests"
    )
    if case.action == "fix":
        outcome.fixed = after == original


def fix_diagnostic(case: ActionCase, text: str) -> dict[str, Any]:
    """The diagnostic a linter or compiler reports for the case's typo."""
    row = next(i for i, line in enumerate(text.split("\n")) if case.typo[1] in line)
    column = text.split("\n")[row].index(case.typo[1])
    return {
        "range": {
            "start": {"line": row, "character": column},
            "end": {"line": row, "character": column + len(case.typo[1])},
        },
        "severity": 1,
        "source": case.source,
        "message": case.diagnostic,
    }


async def pick_action(
    lsp: QwenLsp, uri: str, case: ActionCase, text: str, outcome: ActionOutcome
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the wanted action, the diagnostics sent): asked where a user would ask."""
    language = language_of(case.path) or ""
    diagnostics = [fix_diagnostic(case, text)] if case.action == "fix" else []
    if diagnostics:
        start = diagnostics[0]["range"]["start"]
        spots = [(start["line"], start["character"])]
    else:
        spots = cursor_spots(text, language, case.function)
    for number, at in enumerate(spots):
        actions = await lsp.code_actions(uri, at, at, diagnostics)
        outcome.offered = [a.get("title", "") for a in actions]
        chosen = next((a for a in actions if _action_id(a) == case.action), None)
        if chosen is not None:
            if number:
                outcome.message = "not offered on the name, only inside the body; "
            return chosen, diagnostics
    return None, diagnostics


async def execute(lsp: QwenLsp, chosen: dict[str, Any], outcome: ActionOutcome) -> dict[str, Any]:
    """Resolve the action (or run its command); the resolved action, {} when there is none."""
    try:
        if "command" in chosen and "data" not in chosen:
            command = chosen["command"]
            params = {"command": command["command"], "arguments": command.get("arguments", [])}
            await lsp.request("workspace/executeCommand", params, timeout=900)
            return {}
        return await lsp.request("codeAction/resolve", chosen, timeout=900) or {}
    except LspError as exc:
        outcome.status = "refused"
        outcome.message += str(exc)
        return {}


def take_result(
    lsp: QwenLsp,
    uri: str,
    resolved: dict[str, Any],
    texts: tuple[str, str],
    region: tuple[int, int],
    outcome: ActionOutcome,
) -> None:
    """Apply what the action produced as an editor would, and score it."""
    text, original = texts
    language = language_of(outcome.case.path) or ""
    if lsp.shown_documents:
        shown = Path(unquote(urlsplit(lsp.shown_documents[-1]["uri"]).path))
        outcome.status = "shown"
        if shown.is_file():
            outcome.explanation_chars = len(shown.read_text(encoding="utf-8"))
    edit = resolved.get("edit")
    if not edit and lsp.applied_edits:
        edit = lsp.applied_edits[-1].get("edit")
    if not edit:
        if not outcome.status:
            outcome.status = "no edit"
            outcome.message += "; ".join(lsp.messages())
        return
    mine, others = _document_edits(edit, uri)
    outcome.new_files = [o.rsplit("/", 1)[-1] for o in others]
    outcome.new_file_parses = _new_files_parse(edit, others)
    try:
        after = apply_text_edits(text, mine)
    except ValueError as exc:
        outcome.status = "bad edit"
        outcome.message += str(exc)
        return
    outcome.status = "applied"
    score_edit(outcome, text, after, original, language, region)


async def run_action(
    case: ActionCase, settings: dict[str, Any], recorder: Recorder
) -> ActionOutcome:
    """One action through a fresh server whose workspace is the case's repository extract."""
    language = language_of(case.path) or ""
    original = (REPOS / case.repo / case.path).read_text(encoding="utf-8")
    text = original.replace(*case.typo) if case.action == "fix" else original
    assert case.action != "fix" or original.count(case.typo[0]) == 1, case.id
    region = function_range(text, language, case.function)
    outcome = ActionOutcome(case)
    options = {**settings, "actions": {**settings.get("actions", {}), "custom": [CUSTOM_ACTION]}}
    with tempfile.TemporaryDirectory(prefix="qwen-bench-act-") as tmp:
        root = Path(tmp) / case.repo
        shutil.copytree(REPOS / case.repo, root)
        (root / case.path).write_text(text, encoding="utf-8")
        async with qwen_lsp(root, options) as lsp:
            uri = lsp.open(case.path, text, language)
            chosen, _ = await pick_action(lsp, uri, case, text, outcome)
            if chosen is None:
                outcome.status = "not offered"
                return outcome
            outcome.title = chosen.get("title", "")
            mark = recorder.mark()
            started = time.perf_counter()
            resolved = await execute(lsp, chosen, outcome)
            outcome.seconds = time.perf_counter() - started
            outcome.exchanges = await asyncio.to_thread(recorder.since, mark)
            take_result(lsp, uri, resolved, (text, original), region, outcome)
    return outcome


def _new_files_parse(edit: dict[str, Any], uris: list[str]) -> bool | None:
    """Whether every new (or edited other) file's inserted text parses on its own."""
    results = []
    for target in uris:
        language = language_of(target)
        inserted = [
            e
            for change in edit.get("documentChanges") or []
            if change.get("textDocument", {}).get("uri") == target
            for e in change.get("edits", [])
        ]
        if language and inserted:
            results.append(error_count("".join(e["newText"] for e in inserted), language) == 0)
    return all(results) if results else None


def _action_id(action: dict[str, Any]) -> str:
    data = action.get("data")
    if not isinstance(data, dict):
        arguments = (action.get("command") or {}).get("arguments") or [{}]
        data = arguments[0] if isinstance(arguments[0], dict) else {}
    return str(data.get("action", ""))
