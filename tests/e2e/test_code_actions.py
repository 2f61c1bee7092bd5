"""End to end: AI code actions over stdio — the real server, a real LSP client, a scripted chat
endpoint. Each test asserts on the edit the client receives and on the prompt the endpoint got."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Union
from urllib.parse import unquote, urlparse

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import Session, client_capabilities, start_session

converter: Any = None  # the client's cattrs converter (see session_for)
REQUEST_FAILED = -32803
REQUEST_CANCELLED = -32800
CONTENT_MODIFIED = -32801

CALC = """\
import os


def add(a, b):
    return a + b


def div(a, b):
    return a / b


class Store:
    def __init__(self):
        self.items = []

    def total(self):
        t = 0
        for item in self.items:
            t = t + item.price
        return t
"""

BROKEN = "def add(a, b):\n    return a + c\n"


@pytest.fixture
async def fake():
    async with FakeOpenAI() as server:
        yield server


def code_action_or_command(obj: Any, _type: Any) -> types.Command | types.CodeAction:
    """lsprotocol's hook takes any object with a "command" key for a Command, but a CodeAction
    may carry a command too: only a string "command" makes a Command."""
    if isinstance(obj.get("command"), str):
        return converter.structure(obj, types.Command)
    return converter.structure(obj, types.CodeAction)


@contextlib.asynccontextmanager
async def session_for(*args: Any, **kwargs: Any) -> AsyncIterator[Session]:
    """start_session, plus a shutdown when the test fails (else the server never exits and
    the client's stop() waits for it forever)."""
    async with start_session(*args, **kwargs) as session:
        global converter
        converter = session.client.protocol._converter
        converter.register_structure_hook(
            # typing.Union, not "|": cattrs looks hooks up by the exact type lsprotocol uses.
            Union[types.Command, types.CodeAction],  # noqa: UP007
            code_action_or_command,
        )
        try:
            yield session
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.client.shutdown_session(), 5)
            raise


def pos(line: int, character: int) -> types.Position:
    return types.Position(line, character)


def rng(a: tuple[int, int], b: tuple[int, int] | None = None) -> types.Range:
    return types.Range(pos(*a), pos(*(b or a)))


async def list_actions(
    session: Session,
    uri: str,
    where: types.Range,
    diagnostics: list[types.Diagnostic] | None = None,
    only: list[str] | None = None,
) -> list[types.CodeAction]:
    result = await asyncio.wait_for(
        session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri),
                range=where,
                context=types.CodeActionContext(diagnostics=diagnostics or [], only=only),
            )
        ),
        10,
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def pick(actions: list[types.CodeAction], title_start: str) -> types.CodeAction:
    matches = [a for a in actions if a.title.startswith(title_start)]
    assert matches, f"no action starting with {title_start!r} in {[a.title for a in actions]}"
    return matches[0]


async def resolve(session: Session, action: types.CodeAction) -> types.CodeAction:
    return await asyncio.wait_for(session.client.code_action_resolve_async(action), 15)


def only_text_edit(edit: types.WorkspaceEdit | None) -> types.TextDocumentEdit:
    assert edit is not None and edit.document_changes is not None
    (change,) = edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    return change


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits to ASCII text (what the client would do)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p: types.Position) -> int:
        return starts[min(p.line, len(lines))] + p.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


def chat_requests(fake: FakeOpenAI) -> list:
    return [r for r in fake.requests if r.route == "chat"]


def user_prompt(fake: FakeOpenAI) -> str:
    (request,) = chat_requests(fake)
    assert request.path == "/v1/chat/completions"
    messages = request.json["messages"]
    assert messages[0]["role"] == "system"
    return messages[-1]["content"]


def diagnostic(line: int, start: int, end: int, message: str, **extra) -> types.Diagnostic:
    return types.Diagnostic(
        range=rng((line, start), (line, end)),
        message=message,
        severity=types.DiagnosticSeverity.Error,
        **extra,
    )


# --- listing --------------------------------------------------------------------------------


async def test_listing_is_lazy_and_capabilities_advertise_resolve(fake: FakeOpenAI):
    async with session_for(fake.base_url) as session:
        provider = session.init_result.capabilities.code_action_provider
        assert isinstance(provider, types.CodeActionOptions) and provider.resolve_provider
        assert (
            "qwen-lsp.runAction"
            in session.init_result.capabilities.execute_command_provider.commands
        )
        uri = session.open("calc.py", CALC)
        problem = diagnostic(8, 11, 16, "possible division by zero")
        actions = await list_actions(session, uri, rng((8, 8)), [problem])
        titles = [a.title for a in actions]
        assert titles[:5] == [
            'Qwen: Fix "possible division by zero"',
            "Qwen: Refactor function div",
            "Qwen: Document function div",
            "Qwen: Generate tests for function div in tests/test_calc.py",
            "Qwen: Explain function div",
        ]
        for action in actions:
            assert action.edit is None  # lazy: no model call, no edit yet
        fix = actions[0]
        assert fix.kind == types.CodeActionKind.QuickFix and list(fix.diagnostics) == [problem]
        assert fix.data["version"] == 1 and fix.data["action"] == "fix"
        assert actions[1].kind == types.CodeActionKind.RefactorRewrite
        explain = actions[4]
        assert explain.data is None and explain.command.command == "qwen-lsp.runAction"
        # `only` filters hierarchically; nothing asked the model.
        quick = await list_actions(session, uri, rng((8, 8)), [problem], only=["quickfix"])
        assert [a.title for a in quick] == [titles[0]]
        assert chat_requests(fake) == []


# --- each action ----------------------------------------------------------------------------


async def test_quickfix_uses_the_context_diagnostics_and_reports_progress(fake: FakeOpenAI):
    fake.script(
        Reply(
            text="<think>c is not defined; b was meant</think>\nThe fix:\n```python\n"
            "def add(a, b):\n    return a + b\n```\n"
        )
    )
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", BROKEN)
        problem = diagnostic(1, 15, 16, "undefined name 'c'", source="pyflakes", code="F821")
        action = pick(await list_actions(session, uri, rng((1, 15)), [problem]), "Qwen: Fix")
        resolved = await resolve(session, action)
        change = only_text_edit(resolved.edit)
        assert change.text_document.uri == uri and change.text_document.version == 1
        # Minimal: only the changed line is replaced.
        assert list(change.edits) == [types.TextEdit(rng((1, 0), (2, 0)), "    return a + b\n")]
        assert apply(BROKEN, change.edits) == "def add(a, b):\n    return a + b\n"
        prompt = user_prompt(fake)
        assert "- line 2: error: undefined name 'c' [pyflakes F821]" in prompt
        assert "`return a + c`" in prompt
        assert "```python\ndef add(a, b):\n    return a + c\n```" in prompt
        body = chat_requests(fake)[0].json
        assert body["model"] == "qwen2.5-coder-test" and body["stream"] is True
        # $/progress: begin (the action's title), streamed-size reports, end.
        (reports,) = session.client.progress_reports.values()
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
        assert reports[0].title == action.title and reports[0].cancellable
        assert any(isinstance(r, types.WorkDoneProgressReport) for r in reports)
        assert isinstance(reports[-1], types.WorkDoneProgressEnd) and reports[-1].message == "done"


async def test_refactor_selection_is_reindented_and_minimal(fake: FakeOpenAI):
    # The model drops the method's indentation; the edit puts it back.
    fake.script(Reply(text="```python\nreturn sum(item.price for item in self.items)\n```"))
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((16, 0), (19, 16))), "Qwen: Refactor")
        assert action.title == "Qwen: Refactor selection"
        change = only_text_edit((await resolve(session, action)).edit)
        assert list(change.edits) == [
            types.TextEdit(
                rng((16, 0), (20, 0)), "        return sum(item.price for item in self.items)\n"
            )
        ]
        prompt = user_prompt(fake)
        assert (
            "the selected lines, lines 17-20 of calc.py, inside `class Store:` > `def total(self):`"
            in prompt
        )
        assert "refactor and simplify the selected lines" in prompt


async def test_refactor_enclosing_function_without_selection(fake: FakeOpenAI):
    fake.script(Reply(text="```py\ndef div(a: float, b: float) -> float:\n    return a / b\n```"))
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((8, 6))), "Qwen: Refactor")
        assert action.title == "Qwen: Refactor function div"
        change = only_text_edit((await resolve(session, action)).edit)
        assert list(change.edits) == [
            types.TextEdit(rng((7, 0), (8, 0)), "def div(a: float, b: float) -> float:\n")
        ]
        assert "The region - function `div`, lines 8-9 of calc.py:" in user_prompt(fake)


async def test_docstring_for_python_function(fake: FakeOpenAI):
    fake.script(
        Reply(
            text='```python\ndef add(a, b):\n    """Return the sum of a and b."""\n'
            "    return a + b\n```"
        )
    )
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((4, 4))), "Qwen: Document")
        assert action.kind == "refactor.rewrite.document"
        change = only_text_edit((await resolve(session, action)).edit)
        assert list(change.edits) == [
            types.TextEdit(rng((4, 0), (4, 0)), '    """Return the sum of a and b."""\n')
        ]
        assert "PEP 257 docstring" in user_prompt(fake)


async def test_go_doc_comment_is_updated_in_place(fake: FakeOpenAI):
    source = "package calc\n\n// Add adds.\nfunc Add(a, b int) int {\n\treturn a + b\n}\n"
    fake.script(
        Reply(
            text="```go\n// Add returns the sum of a and b.\nfunc Add(a, b int) int {\n"
            "\treturn a + b\n}\n```"
        )
    )
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.go", source, language_id="go")
        action = pick(await list_actions(session, uri, rng((4, 2))), "Qwen: Document")
        change = only_text_edit((await resolve(session, action)).edit)
        assert list(change.edits) == [
            types.TextEdit(rng((2, 0), (3, 0)), "// Add returns the sum of a and b.\n")
        ]
        prompt = user_prompt(fake)
        assert "Go doc comment" in prompt and "// Add adds." in prompt


async def test_tests_go_into_a_new_file(fake: FakeOpenAI):
    tests = (
        "import pytest\n\nfrom calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )
    fake.script(Reply(text=f"```python\n{tests}```"))
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((4, 4))), "Qwen: Generate tests")
        resolved = await resolve(session, action)
        create, change = resolved.edit.document_changes
        test_uri = session.uri("tests/test_calc.py")
        assert isinstance(create, types.CreateFile)
        assert create.uri == test_uri and create.options.ignore_if_exists
        assert change.text_document == types.OptionalVersionedTextDocumentIdentifier(test_uri, None)
        assert list(change.edits) == [types.TextEdit(rng((0, 0)), tests)]
        prompt = user_prompt(fake)
        assert "new file, tests/test_calc.py" in prompt
        assert "`from calc import add`" in prompt and "pytest" in prompt


async def test_tests_are_appended_to_an_existing_file(fake: FakeOpenAI):
    existing = (
        "import pytest\n\nfrom calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )
    answer = (
        "import pytest\n\nfrom calc import add, div\n\n\n"
        "def test_div():\n    assert div(6, 3) == 2\n"
    )
    fake.script(Reply(text=f"```python\n{answer}```"))
    async with session_for(fake.base_url) as session:
        (session.root / "tests").mkdir()
        (session.root / "tests" / "test_calc.py").write_text(existing)
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((8, 4))), "Qwen: Generate tests")
        change = only_text_edit((await resolve(session, action)).edit)
        assert change.text_document.uri == session.uri("tests/test_calc.py")
        assert change.text_document.version is None  # not open in the editor
        assert apply(existing, change.edits) == (
            "import pytest\n\nfrom calc import add\nfrom calc import div\n\n\n"
            "def test_add():\n    assert add(1, 2) == 3\n\n\n"
            "def test_div():\n    assert div(6, 3) == 2\n"
        )
        assert all(e.range.start == e.range.end for e in change.edits)  # insertions only
        prompt = user_prompt(fake)
        assert "already exists" in prompt and "def test_add():" in prompt


async def test_explain_shows_a_markdown_document_never_an_edit(fake: FakeOpenAI):
    fake.script(Reply(text="<think>hm</think>`total` adds up the **prices** of the items."))
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((17, 8))), "Qwen: Explain")
        assert action.edit is None and action.data is None
        await asyncio.wait_for(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(action.command.command, action.command.arguments)
            ),
            15,
        )
        (shown,) = session.client.shown_documents
        path = Path(unquote(urlparse(shown.uri).path))
        assert path.suffix == ".md" and shown.take_focus
        content = path.read_text()
        assert content.startswith("# Explain method total")
        assert "adds up the **prices**" in content and "<think>" not in content
        assert session.applied_edits == []
        assert "explain method `total`" in user_prompt(fake)


async def test_explain_falls_back_to_a_message(fake: FakeOpenAI):
    fake.script(Reply(text="It divides a by b."))
    caps = client_capabilities()
    caps.window.show_document = None
    async with session_for(fake.base_url, capabilities=caps) as session:
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((8, 4))), "Qwen: Explain")
        await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(action.command.command, action.command.arguments)
        )
        await session.wait_until(lambda: bool(session.messages(types.MessageType.Info)))
        assert "It divides a by b." in session.messages(types.MessageType.Info)[0]


async def test_custom_action_fills_placeholders_and_hoists_imports(fake: FakeOpenAI):
    source = (
        "import os\n\n\ndef config_path(name):\n"
        '    return os.path.join(os.path.expanduser("~"), name)\n'
    )
    custom = {
        "title": "Use pathlib",
        "prompt": (
            "Rewrite {name} in {path} ({language}) with pathlib:\n{selection}\n"
            "Problems: {diagnostics}"
        ),
        "kind": "refactor.rewrite.pathlib",
    }
    fake.script(
        Reply(
            text="```python\nfrom pathlib import Path\n\n\ndef config_path(name):\n"
            "    return str(Path.home() / name)\n```"
        )
    )
    options = {"actions": {"custom": [custom], "model": "qwen3-coder-plus"}}
    async with session_for(fake.base_url, options) as session:
        uri = session.open("paths.py", source)
        action = pick(await list_actions(session, uri, rng((4, 8))), "Qwen: Use pathlib")
        assert action.kind == "refactor.rewrite.pathlib"
        change = only_text_edit((await resolve(session, action)).edit)
        assert apply(source, change.edits) == (
            "import os\nfrom pathlib import Path\n\n\ndef config_path(name):\n"
            "    return str(Path.home() / name)\n"
        )
        prompt = user_prompt(fake)
        assert "Rewrite config_path in paths.py (Python) with pathlib:" in prompt
        assert "Problems: (none)" in prompt
        assert prompt.count("os.path.expanduser") == 1  # the region is shown once
        assert chat_requests(fake)[0].json["model"] == "qwen3-coder-plus"


async def test_clients_without_resolve_get_a_command_that_applies_the_edit(fake: FakeOpenAI):
    fake.script(Reply(text="```python\ndef add(a, b):\n    return a + b\n```"))
    caps = client_capabilities()
    caps.text_document.code_action.resolve_support = None
    async with session_for(fake.base_url, capabilities=caps) as session:
        uri = session.open("calc.py", BROKEN)
        problem = diagnostic(1, 15, 16, "undefined name 'c'")
        action = pick(await list_actions(session, uri, rng((1, 15)), [problem]), "Qwen: Fix")
        assert action.data is None and action.command.command == "qwen-lsp.runAction"
        result = await asyncio.wait_for(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(action.command.command, action.command.arguments)
            ),
            15,
        )
        assert result == {"applied": True}
        (applied,) = session.applied_edits
        change = only_text_edit(applied.edit)
        assert change.text_document.version == 1
        assert list(change.edits) == [types.TextEdit(rng((1, 0), (2, 0)), "    return a + b\n")]
        assert applied.label == action.title


# --- failures ---------------------------------------------------------------------------------


BAD_ANSWERS = [
    ("You should rename the variable c to b.", "did not answer with a code block"),
    ("```python\ndef add(a, b)\n    return a +\n```", "does not parse"),
    ("", "empty answer"),
    ("<think>let me think about c", "only its reasoning"),
]


async def test_bad_model_output_fails_clearly_and_the_server_carries_on(fake: FakeOpenAI):
    fake.script(*(Reply(text=answer) for answer, _ in BAD_ANSWERS))
    fake.script(Reply(text="```python\ndef add(a, b):\n    return a + b\n```"))
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", BROKEN)
        problem = diagnostic(1, 15, 16, "undefined name 'c'")
        action = pick(await list_actions(session, uri, rng((1, 15)), [problem]), "Qwen: Fix")
        for i, (_answer, needle) in enumerate(BAD_ANSWERS):
            with pytest.raises(JsonRpcException) as failure:
                await resolve(session, action)
            assert failure.value.code == REQUEST_FAILED and needle in failure.value.message
            shown = session.messages(types.MessageType.Error)
            assert len(shown) == i + 1 and needle in shown[-1] and "Fix" in shown[-1]
        ends = [r[-1] for r in session.client.progress_reports.values()]
        assert len(ends) == len(BAD_ANSWERS) and all(e.message.startswith("failed") for e in ends)
        # The server carries on: the same action works with a good answer.
        assert only_text_edit((await resolve(session, action)).edit).edits


async def test_model_error_is_reported(fake: FakeOpenAI):
    fake.script(Reply.error(500, "boom"))
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((4, 4))), "Qwen: Refactor")
        with pytest.raises(JsonRpcException) as failure:
            await resolve(session, action)
        assert failure.value.code == REQUEST_FAILED
        assert "internal error" in failure.value.message
        (shown,) = session.messages(types.MessageType.Error)
        assert "Refactor function add failed" in shown and "HTTP 500" in shown


async def test_document_changed_mid_request_is_refused(fake: FakeOpenAI):
    answer = "```python\ndef add(a, b):\n    return a + b\n```"
    fake.script(Reply(chunks=[answer[:10], answer[10:]], delay_per_chunk=0.4))
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", BROKEN)
        problem = diagnostic(1, 15, 16, "undefined name 'c'")
        action = pick(await list_actions(session, uri, rng((1, 15)), [problem]), "Qwen: Fix")
        pending = asyncio.ensure_future(resolve(session, action))
        await fake.wait_for_requests(1)
        session.change(uri, (0, 0), (0, 0), "# edited meanwhile\n")
        with pytest.raises(JsonRpcException) as failure:
            await pending
        assert failure.value.code == CONTENT_MODIFIED
        assert "document changed" in failure.value.message
        (shown,) = session.messages(types.MessageType.Warning)
        assert "nothing was applied" in shown
        # An action listed for an older version is refused before the model is asked.
        with pytest.raises(JsonRpcException) as failure:
            await resolve(session, action)
        assert failure.value.code == CONTENT_MODIFIED
        assert len(chat_requests(fake)) == 1


async def test_cancel_request_closes_the_model_stream(fake: FakeOpenAI):
    fake.script(Reply(text="x" * 400, delay_per_chunk=0.2))
    async with session_for(fake.base_url) as session:
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((4, 4))), "Qwen: Refactor")
        pending = asyncio.ensure_future(
            session.client.protocol.send_request_async(
                types.CODE_ACTION_RESOLVE, action, msg_id="resolve-to-cancel"
            )
        )
        (request,) = await fake.wait_for_requests(1)
        session.client.cancel_request(types.CancelParams(id="resolve-to-cancel"))
        await fake.wait_for_outcome(request, "disconnected", timeout=5)
        with pytest.raises(JsonRpcException) as failure:
            await asyncio.wait_for(pending, 5)
        assert failure.value.code == REQUEST_CANCELLED
        await session.wait_until(
            lambda: any(
                isinstance(r, types.WorkDoneProgressEnd) and r.message == "cancelled"
                for reports in session.client.progress_reports.values()
                for r in reports
            )
        )
        assert session.messages(types.MessageType.Error) == []


async def test_cancel_from_the_progress_ui_closes_the_model_stream(fake: FakeOpenAI):
    fake.script(Reply(text="x" * 400, delay_per_chunk=0.2))
    caps = client_capabilities()
    caps.text_document.code_action.resolve_support = None  # the command path
    async with session_for(fake.base_url, capabilities=caps) as session:
        uri = session.open("calc.py", CALC)
        action = pick(await list_actions(session, uri, rng((4, 4))), "Qwen: Refactor")
        pending = asyncio.ensure_future(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(action.command.command, action.command.arguments)
            )
        )
        (request,) = await fake.wait_for_requests(1)
        (token,) = session.client.progress_reports
        session.client.window_work_done_progress_cancel(
            types.WorkDoneProgressCancelParams(token=token)
        )
        await fake.wait_for_outcome(request, "disconnected", timeout=5)
        assert await asyncio.wait_for(pending, 5) == {"applied": False, "cancelled": True}
        assert session.applied_edits == []
