"""End to end: next-edit prediction over stdio — the real server, a real LSP client, a scripted
endpoint that rewrites the editable region it is sent. Each test asserts on what the client
receives (notification, inline item, code action, applied edit) and what the endpoint got."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Union

import pytest
from lsprotocol import types

from tests.support.fake_openai import FakeOpenAI, RecordedRequest, Reply
from tests.support.lsp_session import Session, client_capabilities, start_session
from tests.support.next_edit_model import RENAMED, SHAPES, finish_rename
from tests.support.next_edit_model import renamed as renamed_region

# The module's text: SHAPES and a caller below it.
TEXT = SHAPES + "\n\ndef main():\n    describe(2, 3)\n"
EXPECTED = RENAMED + "\n\ndef main():\n    describe(2, 3)\n"
ENABLED = {"nextEdit": {"enabled": True, "debounceMs": 100}}


def capabilities() -> types.ClientCapabilities:
    caps = client_capabilities()
    caps.experimental = {"qwenNextEdit": True}
    return caps


async def open_session(fake: FakeOpenAI, options: dict[str, Any] | None = None, **kwargs: Any):
    return start_session(
        fake.base_url, init_options=options or ENABLED, capabilities=capabilities(), **kwargs
    )


@contextlib.asynccontextmanager
async def renamed(
    fake: FakeOpenAI, options: dict[str, Any] | None = None
) -> AsyncIterator[tuple[Session, str, list[dict[str, Any]]]]:
    """A session where the user has renamed the parameter and a prediction has arrived:
    (session, uri, the qwen/nextEdit notifications so far)."""
    async with await open_session(fake, options) as session:
        seen = watch(session)
        uri = session.open("shapes.py", TEXT)
        rename_signature(session, uri)
        await session.wait_until(lambda: any(n["prediction"] for n in seen), 10)
        yield session, uri, seen


def plain(obj: Any) -> Any:
    """pygls hands custom messages over as namedtuples (nested): back to JSON shapes."""
    if hasattr(obj, "_asdict"):
        return {k: plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return {k: plain(v) for k, v in vars(obj).items()}
    return obj


def watch(session: Session) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @session.client.feature("qwen/nextEdit")
    def on_next_edit(params: Any) -> None:
        seen.append(plain(params))

    return seen


def rename_signature(session: Session, uri: str) -> None:
    """The user replaces ``width`` in the signature by ``w``, key by key."""
    session.change(uri, (0, 13), (0, 18), "")
    session.change(uri, (0, 13), (0, 13), "w")


def apply_edits(text: str, edits: list[dict[str, Any]]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p: dict[str, int]) -> int:
        return starts[p["line"]] + p["character"]

    for edit in sorted(edits, key=lambda e: offset(e["range"]["start"]), reverse=True):
        r = edit["range"]
        text = text[: offset(r["start"])] + edit["newText"] + text[offset(r["end"]) :]
    return text


async def code_actions(session: Session, uri: str, line: int) -> list[dict[str, Any]]:
    """The code actions at a line, as JSON."""
    converter = session.client.protocol._converter
    # pygls's client reads any object with a "command" key as a Command, also a CodeAction
    # that carries one: structure by the key's type (tests/support/code_actions.py on
    # wip/actions has the same hook).
    converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007 (cattrs looks up this exact type)
        lambda obj, _: converter.structure(
            obj, types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        ),
    )
    where = types.Range(types.Position(line, 0), types.Position(line, 0))
    params = types.CodeActionParams(
        types.TextDocumentIdentifier(uri), where, types.CodeActionContext(diagnostics=[])
    )
    result = await session.client.text_document_code_action_async(params)
    return [converter.unstructure(a) for a in result or []]


def chats(fake: FakeOpenAI) -> list[RecordedRequest]:
    return [r for r in fake.generations if r.route == "chat"]


@pytest.fixture
async def fake():
    async with FakeOpenAI(responder=finish_rename) as server:
        yield server


async def test_off_by_default_no_prediction_and_no_model_call(fake):
    async with start_session(fake.base_url, capabilities=capabilities()) as session:
        seen = watch(session)
        uri = session.open("shapes.py", TEXT)
        rename_signature(session, uri)
        await asyncio.sleep(1.0)
        assert chats(fake) == [] and seen == []
        titles = [a["title"] for a in await code_actions(session, uri, 1)]
        assert titles and "Qwen: Apply predicted edit" not in titles  # the other actions are


async def test_edits_that_settle_get_one_prediction_delivered_three_ways(fake):
    async with renamed(fake) as (session, uri, seen):
        assert len(chats(fake)) == 1  # two edits, one call once they settled
        prompt = chats(fake)[0].json["messages"][-1]["content"]
        assert "-def describe(width, height):\n+def describe(w, height):" in prompt
        assert "def describe(w<|user_cursor|>, height):" in prompt
        note = seen[-1]
        assert note["uri"] == uri and note["version"] == 3
        prediction = note["prediction"]
        assert prediction["jump"] == {"line": 1, "character": 11}
        (change,) = prediction["edit"]["documentChanges"]
        assert change["textDocument"] == {"uri": uri, "version": 3}
        assert apply_edits(TEXT.replace("width,", "w,", 1), change["edits"]) == EXPECTED

        # The code action carries the same versioned edit, for clients without the notification.
        actions = await code_actions(session, uri, 5)
        (action,) = [a for a in actions if a["title"] == "Qwen: Apply predicted edit"]
        assert action["edit"] == prediction["edit"]
        assert action["command"]["command"] == "qwen-lsp.acceptNextEdit"

        # The request returns it too.
        where = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 14}}
        asked = await session.client.protocol.send_request_async("qwen/nextEdit", where)
        assert plain(asked)["id"] == prediction["id"]


async def test_the_cursor_line_part_is_an_inline_replacement(fake):
    async with renamed(fake) as (session, uri, _seen):
        fim_before = len([r for r in fake.generations if r.route != "chat"])
        result = await session.inline(uri, 1, 4, invoked=False)
        (item,) = result.items
        assert item.range == types.Range(types.Position(1, 4), types.Position(1, 16))
        assert item.insert_text == "area = w"
        assert item.command.command == "qwen-lsp.acceptNextEdit"
        assert len([r for r in fake.generations if r.route != "chat"]) == fim_before  # no FIM


async def test_typing_the_prediction_costs_no_model_call_and_applying_it_completes(fake):
    async with renamed(fake) as (session, uri, seen):
        first = seen[-1]["prediction"]["id"]
        session.change(uri, (1, 11), (1, 16), "w")  # the user does the first one by hand
        await session.wait_until(lambda: seen[-1]["version"] == 4, 5)
        kept = seen[-1]["prediction"]
        assert kept["id"] == first and len(kept["edit"]["documentChanges"][0]["edits"]) == 1
        await asyncio.sleep(0.5)
        assert len(chats(fake)) == 1
        # The server applies the rest (after checking the text): the client gets applyEdit.
        result = await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams("qwen-lsp.applyNextEdit", [first])
        )
        assert plain(result)["applied"] is True
        (applied,) = session.applied_edits
        edits = applied.edit.document_changes[0].edits
        assert [e.new_text for e in edits] == ["w"] and edits[0].range.start.line == 2


async def test_an_edit_cancels_the_prediction_in_flight(fake):
    slow = Reply(text="```python\nx\n```", delay_before_headers=3.0)
    fake.script(slow)
    async with await open_session(fake) as session:
        watch(session)
        uri = session.open("shapes.py", TEXT)
        rename_signature(session, uri)
        await session.wait_until(lambda: len(chats(fake)) == 1, 5)
        session.change(uri, (7, 14), (7, 14), " ")
        await session.wait_until(lambda: chats(fake)[0].outcome == "disconnected", 5)
        await session.wait_until(lambda: len(chats(fake)) == 2, 5)


async def test_a_stale_prediction_is_never_applied(fake):
    async with renamed(fake) as (session, uri, seen):
        prediction_id = seen[-1]["prediction"]["id"]
        session.change(uri, (7, 0), (7, 0), "# ")  # elsewhere: the prediction is dropped
        await session.wait_until(lambda: seen[-1]["prediction"] is None, 5)
        result = await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams("qwen-lsp.applyNextEdit", [prediction_id])
        )
        assert plain(result)["applied"] is False and session.applied_edits == []
        said = session.messages
        await session.wait_until(lambda: any("nothing was applied" in m for m in said()))


async def test_a_zeta_model_gets_the_zeta_prompt_on_completions(fake):
    def zeta(request: RecordedRequest) -> Reply:
        prompt = (request.json or {}).get("prompt", "")
        if "<|editable_region_start|>" not in prompt:
            return Reply(text="")
        region = prompt.split("<|editable_region_start|>\n", 1)[1].split(
            "\n<|editable_region_end|>", 1
        )[0]
        region = renamed_region(region.replace("<|user_cursor_is_here|>", ""))
        return Reply(text=f"```shapes.py\n<|editable_region_start|>\n{region}\n")

    fake.responder = zeta
    options = {"nextEdit": {"enabled": True, "debounceMs": 100, "model": "zeta"}}
    async with renamed(fake, options) as (_session, _uri, seen):
        (request,) = [r for r in fake.generations if "prompt" in (r.json or {})][-1:]
        assert request.path == "/v1/completions" and request.json["model"] == "zeta"
        assert request.json["prompt"].startswith("### Instruction:\n")
        assert "<|editable_region_end|>" in request.json["stop"]
        change = seen[-1]["prediction"]["edit"]["documentChanges"][0]
        assert apply_edits(TEXT.replace("width,", "w,", 1), change["edits"]) == EXPECTED


async def test_a_failing_next_edit_model_does_not_pause_completions(fake):
    def broken_next_edit(request: RecordedRequest) -> Reply:
        if request.route == "chat":
            return Reply.error(404, "The model `no-such-model` does not exist")
        return Reply(text="42")

    fake.responder = broken_next_edit
    options = {"nextEdit": {"enabled": True, "debounceMs": 100, "model": "no-such-model"}}
    async with await open_session(fake, options) as session:
        uri = session.open("shapes.py", TEXT)
        rename_signature(session, uri)
        await session.wait_until(lambda: [c.status for c in chats(fake)] == [404], 5)
        # Completions have their own client: no backoff from the next-edit failure.
        assert await session.ghost_text(uri, 7, 4) == "42"
