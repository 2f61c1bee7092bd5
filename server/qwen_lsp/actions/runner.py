"""Running one action, pure of LSP: plan (snapshot + prompt) → model answer → checked edits.

:func:`plan_action` runs synchronously while the document is known to be at the listed version:
it takes everything it needs from the document (text, region, syntax error count, context) so
edits arriving while the model works cannot race it. :func:`finish_action` turns the answer into
minimal line edits against that snapshot, or fails with a message for the user. The caller
checks the document version again before handing the edits out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..documents import Document
from ..prompts import actions as prompts
from ..prompts.actions import CodeContext, DiagnosticNote, Messages, TestFileInfo
from ..settings import ActionSettings, CustomAction
from ..syntax.analysis import error_count, imports
from ..workspace.files import FileRefused
from .answer import extract_code, extract_text
from .catalogue import CUSTOM, DOCUMENT, EXPLAIN, FIX, REFACTOR, TESTS, ActionData
from .edits import (
    Hunk,
    apply_hunks,
    eol_of,
    line_hunks,
    normalize_replacement,
    parse,
    syntax_regression,
)
from .regions import (
    Region,
    fix_region,
    region_offsets,
    scope_region,
    target_region,
    with_leading_comments,
)
from .testfiles import (
    imports_hunk,
    merge_tests,
    split_header,
    test_files,
    test_target,
    workspace_root,
)

SEVERITIES = {1: "error", 2: "warning", 3: "information", 4: "hint"}
MAX_TEST_FILE_BYTES = 1_000_000


class ActionError(Exception):
    """The action cannot go on; the message is for the user."""


class StaleDocument(ActionError):
    """The document changed since the action was listed or while the model worked."""


@dataclass(frozen=True)
class FileChange:
    """Edits to one file, as offsets into ``original`` (the text they were computed on)."""

    uri: str
    version: int | None  # None: not open in the editor, or a new file
    original: str
    hunks: tuple[Hunk, ...]
    create: bool = False
    path: Path | None = None


@dataclass(frozen=True)
class TestPlan:
    path: Path
    uri: str
    existing: str | None  # None: the file does not exist yet
    version: int | None  # version of the test file when it is open in the editor


@dataclass(frozen=True)
class Plan:
    data: ActionData
    output: str  # "edit", "tests" or "explain"
    messages: Messages
    language_id: str
    uri: str
    version: int
    text: str
    region: Region
    start: int  # string offsets of the region in ``text``
    end: int
    errors_before: int | None
    display_path: str
    test: TestPlan | None = None


@dataclass(frozen=True)
class Outcome:
    changes: tuple[FileChange, ...] = ()
    explanation: str = ""


OpenDocument = Callable[[str], Document | None]


def display_path(doc: Document, roots: Sequence[str]) -> str:
    if doc.path is None:
        return doc.uri
    path = Path(doc.path)
    root = workspace_root(path, roots)
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


def check_version(doc: Document | None, version: int, uri: str) -> Document:
    if doc is None:
        raise StaleDocument(f"{uri} was closed; the action was not applied")
    if doc.version != version:
        raise StaleDocument(
            "the document changed since the action was computed (version "
            f"{version} → {doc.version}); nothing was applied - run the action again"
        )
    return doc


def custom_action(data: ActionData, settings: ActionSettings) -> CustomAction:
    customs = settings.custom
    if not 0 <= data.custom < len(customs) or customs[data.custom].title != data.custom_title:
        raise ActionError(f'the custom action "{data.custom_title}" is no longer configured')
    return customs[data.custom]


def choose_region(doc: Document, data: ActionData) -> Region:
    if data.action == FIX:
        lines = [int(d.get("line", 0)) for d in data.diagnostics]
        lines += [int(d.get("endLine", d.get("line", 0))) for d in data.diagnostics]
        if not lines:
            raise ActionError("there are no diagnostics to fix here")
        return fix_region(doc, lines)
    region = target_region(doc, data.range)
    if region is None:
        raise ActionError("select some code, or put the cursor inside a function or class")
    return with_leading_comments(doc, region) if data.action == DOCUMENT else region


def diagnostic_notes(doc: Document, data: ActionData) -> tuple[DiagnosticNote, ...]:
    notes = []
    for d in data.diagnostics:
        line = int(d.get("line", 0))
        notes.append(
            DiagnosticNote(
                line=line,
                severity=SEVERITIES.get(d.get("severity") or 1, "error"),
                message=str(d.get("message", "")),
                source=str(d.get("source") or ""),
                code=str(d.get("code") or ""),
                line_text=doc.line(line),
            )
        )
    return tuple(notes)


def code_context(
    doc: Document, data: ActionData, region: Region, start: int, end: int, shown_path: str
) -> CodeContext:
    text = doc.text
    tree = doc.tree
    found = imports(tree, doc.source, language_id=doc.language_id) if tree is not None else []
    scope_text = ""
    if data.action == CUSTOM:
        scope = scope_region(doc, data.range.start)
        if scope is not None:
            scope_start, scope_end = region_offsets(doc, scope)
            scope_text = text[scope_start:scope_end]
    return CodeContext(
        language=doc.language_id,
        path=shown_path,
        code=text[start:end].rstrip("\r\n"),
        start_line=region.start_line,
        target=region.label,
        scope_headers=region.headers,
        imports="\n".join(i.text for i in found if i.end_byte <= doc.byte_offset(start)),
        before=text[:start],
        after=text[end:],
        diagnostics=diagnostic_notes(doc, data),
        name=region.name or "",
        scope=scope_text.rstrip("\r\n"),
        file_text=text if data.action == CUSTOM else "",
    )


def plan_tests(
    doc: Document, region: Region, roots: Sequence[str], open_document: OpenDocument
) -> TestPlan:
    if doc.path is None:
        raise ActionError("tests can only be generated for files on disk")
    target = test_target(doc.language_id, Path(doc.path), roots, doc.text, region.outer_name)
    if target is None:
        raise ActionError(f"no test file convention is known for {doc.language_id}")
    uri = target.path.as_uri()
    files = test_files(Path(doc.path), roots)
    try:  # the test file is read and written only through the gateway's checks
        files.locate(str(target.path))
        opened = open_document(uri)
        if opened is not None:
            return TestPlan(target.path, uri, opened.text, opened.version)
        existing = files.read_if_exists(str(target.path), MAX_TEST_FILE_BYTES)
    except FileRefused as exc:
        raise ActionError(f"{exc}; nothing was read or written") from None
    return TestPlan(target.path, uri, existing, None)


def test_info(plan: TestPlan, doc: Document, region: Region, roots: Sequence[str]) -> TestFileInfo:
    assert doc.path is not None
    target = test_target(doc.language_id, Path(doc.path), roots, doc.text, region.outer_name)
    assert target is not None
    root = workspace_root(Path(doc.path), roots)
    shown = plan.path.relative_to(root) if plan.path.is_relative_to(root) else plan.path
    return TestFileInfo(
        path=Path(shown).as_posix(),
        framework=target.framework,
        import_hint=target.import_hint,
        existing=plan.existing,
    )


def plan_action(
    doc: Document,
    data: ActionData,
    settings: ActionSettings,
    roots: Sequence[str] = (),
    open_document: OpenDocument = lambda _uri: None,
) -> Plan:
    """Snapshot the document and build the prompt; raises ActionError when the action cannot
    run (stale document, no target, region too large, custom action gone)."""
    check_version(doc, data.version, data.uri)
    region = choose_region(doc, data)
    if region.line_count > settings.max_region_lines:
        raise ActionError(
            f"{region.label} has {region.line_count} lines; actions work on at most "
            f"{settings.max_region_lines} (actions.max_region_lines) - select a smaller part"
        )
    start, end = region_offsets(doc, region)
    shown_path = display_path(doc, roots)
    ctx = code_context(doc, data, region, start, end, shown_path)
    output, test = "edit", None
    if data.action == FIX:
        messages = prompts.fix_messages(ctx)
    elif data.action == REFACTOR:
        messages = prompts.refactor_messages(ctx)
    elif data.action == DOCUMENT:
        messages = prompts.document_messages(ctx)
    elif data.action == EXPLAIN:
        output, messages = "explain", prompts.explain_messages(ctx)
    elif data.action == TESTS:
        test = plan_tests(doc, region, roots, open_document)
        output = "tests"
        messages = prompts.tests_messages(ctx, test_info(test, doc, region, roots))
    elif data.action == CUSTOM:
        custom = custom_action(data, settings)
        output = custom.output
        messages = prompts.custom_messages(ctx, custom.prompt, custom.output)
    else:
        raise ActionError(f"unknown action {data.action!r}")
    tree = doc.tree
    return Plan(
        data=data,
        output=output,
        messages=messages,
        language_id=doc.language_id,
        uri=doc.uri,
        version=doc.version,
        text=doc.text,
        region=region,
        start=start,
        end=end,
        errors_before=error_count(tree) if tree is not None else None,
        display_path=shown_path,
        test=test,
    )


def finish_action(plan: Plan, answer: str) -> Outcome:
    """The model's answer as checked edits (or an explanation); raises AnswerError or
    ActionError with a message for the user."""
    if plan.output == "explain":
        return Outcome(explanation=extract_text(answer))
    code = extract_code(answer, plan.language_id)
    if plan.output == "tests":
        assert plan.test is not None
        return Outcome(changes=(test_change(plan.test, code, plan.language_id),))
    original = plan.text[plan.start : plan.end]
    code, import_hunk = hoist_imports(plan, original, code)
    replacement = normalize_replacement(original, code)
    if import_hunk is not None and import_hunk.start == plan.start:
        replacement = import_hunk.new_text + replacement  # one edit, not two at one spot
        import_hunk = None
    hunks = tuple(line_hunks(original, replacement, base=plan.start))
    if not hunks:
        raise ActionError("the model returned the code unchanged; there is nothing to apply")
    if import_hunk is not None:
        hunks = tuple(sorted((import_hunk, *hunks), key=lambda h: h.start))
    new_text = apply_hunks(plan.text, hunks)
    check_syntax(new_text, plan.language_id, plan.errors_before, plan.display_path)
    return Outcome(changes=(FileChange(plan.uri, plan.version, plan.text, hunks),))


def hoist_imports(plan: Plan, original: str, code: str) -> tuple[str, Hunk | None]:
    """Imports the model put first in its block move to the file's imports (only the missing
    ones), unless the region itself starts with imports."""
    header, body = split_header(code, plan.language_id)
    if not header or split_header(original, plan.language_id)[0]:
        return code, None
    hunk = imports_hunk(plan.text, plan.language_id, header)
    if hunk is not None and eol_of(plan.text) == "\r\n":
        hunk = Hunk(hunk.start, hunk.end, hunk.new_text.replace("\n", "\r\n"))
    if hunk is not None and plan.start < hunk.start < plan.end:
        return code, None  # the file's imports are inside the region: leave them to the model
    return body, hunk


def test_change(test: TestPlan, code: str, language_id: str) -> FileChange:
    shown = test.path.name
    if test.existing is None:
        content = code.strip("\n") + "\n"
        check_syntax(content, language_id, 0, shown)
        return FileChange(test.uri, None, "", (Hunk(0, 0, content),), create=True, path=test.path)
    merged = merge_tests(test.existing.replace("\r\n", "\n"), code, language_id)
    if eol_of(test.existing) == "\r\n":
        merged = merged.replace("\n", "\r\n")
    tree = parse(test.existing, language_id)
    before = error_count(tree) if tree is not None else None
    check_syntax(merged, language_id, before, shown)
    hunks = tuple(line_hunks(test.existing, merged))
    return FileChange(test.uri, test.version, test.existing, hunks, path=test.path)


def check_syntax(new_text: str, language_id: str, errors_before: int | None, shown: str) -> None:
    problem = syntax_regression(new_text, language_id, errors_before)
    if problem is None:
        return
    where = f"line {problem.line + 1}"
    near = f" near `{problem.snippet}`" if problem.snippet else ""
    raise ActionError(
        f"the model's code does not parse ({problem.errors} syntax error"
        f"{'s' if problem.errors != 1 else ''} in {shown}, first at {where}{near}); "
        "nothing was applied"
    )
