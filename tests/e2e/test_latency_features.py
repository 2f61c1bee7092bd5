"""End to end: typed-through cache, in-flight reuse, speculation, status notifications."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import start_session

SOURCE = "def area(width, height):\n    return \n"


@pytest.fixture
async def fake():
    async with FakeOpenAI() as server:
        yield server


def generations(fake: FakeOpenAI) -> int:
    return sum(1 for r in fake.requests if r.generation)


async def test_typing_through_a_suggestion_makes_no_model_calls(fake: FakeOpenAI):
    fake.script(Reply(text="width * height"))
    async with start_session(fake.base_url) as session:
        uri = session.open("geo.py", SOURCE)
        assert await session.ghost_text(uri, 1, 11, invoked=False) == "width * height"
        calls = generations(fake)
        typed = ""
        for ch in "width * ":
            session.change(uri, (1, 11 + len(typed)), (1, 11 + len(typed)), ch)
            typed += ch
            ghost = await session.ghost_text(uri, 1, 11 + len(typed), invoked=False)
            assert ghost == "width * height"[len(typed) :]
        assert generations(fake) == calls


async def parse_count(session, uri: str) -> int:
    state = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams("qwen-lsp.debugDocumentState", [uri])
    )
    return (state if isinstance(state, dict) else vars(state))["parse_count"]


async def test_typing_through_a_suggestion_does_not_reparse(fake: FakeOpenAI):
    # The tree is only needed once a model call is on: a keystroke answered from the cache
    # skips the document's reparse (the next real request catches up on all edits at once).
    fake.script(Reply(text="width * height"))
    async with start_session(fake.base_url) as session:
        uri = session.open("geo.py", SOURCE)
        assert await session.ghost_text(uri, 1, 11, invoked=False) == "width * height"
        before = await parse_count(session, uri)
        for i, ch in enumerate("width"):
            session.change(uri, (1, 11 + i), (1, 11 + i), ch)
            assert await session.ghost_text(uri, 1, 12 + i, invoked=False)
        assert await parse_count(session, uri) == before
        assert generations(fake) == 1


async def test_a_request_adopts_the_generation_already_answering(fake: FakeOpenAI):
    # Slow stream: the first keystroke's generation is still answering when the next key comes.
    fake.script(
        Reply(text="width * height", chunks=["w", "idth * ", "height"], delay_per_chunk=0.3)
    )
    async with start_session(fake.base_url) as session:
        uri = session.open("geo.py", SOURCE)
        first = asyncio.ensure_future(session.inline(uri, 1, 11, invoked=False))
        (request,) = await fake.wait_for_requests(1)
        await asyncio.sleep(0.4)  # first chunk sent
        session.change(uri, (1, 11), (1, 11), "w")
        second = await session.ghost_text(uri, 1, 12, invoked=False)
        await first
        assert second == "idth * height"
        assert generations(fake) == 1  # adopted, not restarted
        assert request.outcome == "completed"


async def test_speculative_request_makes_the_next_suggestion_instant(fake: FakeOpenAI):
    fake.script(Reply(text="width * height"), Reply(text="  # square units"))
    options = {"completion": {"speculative": True}}
    async with start_session(fake.base_url, options) as session:
        uri = session.open("geo.py", SOURCE)
        assert await session.ghost_text(uri, 1, 11) == "width * height"
        await fake.wait_for_requests(2)  # the speculative one, unasked
        spec = [r for r in fake.requests if r.generation][1]
        assert "return width * height<|fim_suffix|>" in spec.json["prompt"]
        await fake.wait_for_outcome(spec, "completed")
        # The user accepts: the client inserts the text and asks again.
        session.change(uri, (1, 11), (1, 11), "width * height")
        assert await session.ghost_text(uri, 1, 25, invoked=False) == "  # square units"
        # Answered from the cache. Showing it may start the next speculation at once (with a
        # pooled connection it can reach the endpoint before this line runs), but no request
        # asks again for the suggestion just shown.
        later = [r for r in fake.requests if r.generation][2:]
        assert all("# square units<|fim_suffix|>" in r.json["prompt"] for r in later)


async def test_status_notifications_and_copilot_style_notifications(fake: FakeOpenAI):
    fake.script(Reply(text="width * height", delay_before_headers=0.2))
    options = {"statusNotifications": True}
    async with start_session(fake.base_url, options) as session:
        uri = session.open("geo.py", SOURCE)
        result = await session.inline(uri, 1, 11)
        assert result is not None and result.items
        states = [s.get("state") for s in session.statuses]
        assert "busy" in states and states[-1] == "idle"
        item = result.items[0]
        # Clients may send these; the server must take them without error.
        payload = {"item": {"insertText": item.insert_text}}
        session.client.protocol.notify("textDocument/didShowCompletion", payload)
        session.client.protocol.notify(
            "textDocument/didPartiallyAcceptCompletion", {**payload, "acceptedLength": 5}
        )
        await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(item.command.command, item.command.arguments)
        )
        await asyncio.sleep(0.2)
        assert not session.messages()


async def test_endpoint_is_probed_again_when_it_comes_up():
    async with FakeOpenAI() as probe:
        port = probe.port  # a free port, closed again below
    async with start_session(f"http://127.0.0.1:{port}/v1") as session:
        uri = session.open("geo.py", SOURCE)
        assert await session.ghost_text(uri, 1, 11) is None  # nothing listens yet
        async with FakeOpenAI(port=port, flavor="ollama") as ollama:
            ollama.default = Reply(text="width * height")
            # First success goes through the URL guess (OpenAI routes); it triggers a new probe.
            await asyncio.sleep(1.2)  # past the 1 s backoff
            assert await session.ghost_text(uri, 1, 11) == "width * height"
            await session.wait_until(lambda: any("Ollama" in line for line in session.logs()))
            session.change(uri, (1, 11), (1, 11), " ")
            assert await session.ghost_text(uri, 1, 12) == "width * height"
            assert any(r.path == "/api/generate" for r in ollama.requests)
