"""End to end: the real server over stdio, a real LSP client, a scripted endpoint on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import client_capabilities, start_session

QWEN_STOPS = {
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
    "<|im_start|>",
    "<|im_end|>",
}

SOURCE = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"


@pytest.fixture
async def fake():
    async with FakeOpenAI() as server:
        yield server


async def test_ghost_text_and_exact_prompt(fake: FakeOpenAI):
    fake.script(Reply(text="a + b"))
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        text = await session.ghost_text(uri, 1, 11)
        assert text == "a + b"
        (request,) = [r for r in fake.requests if r.path.endswith("/completions")]
        body = request.json
        assert request.path == "/v1/completions"
        assert body["prompt"] == (
            "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n"
            "<|fim_middle|>"
        )
        assert set(body["stop"]) == QWEN_STOPS
        assert body["stream"] is True
        assert body["model"] == "qwen2.5-coder-test"
        assert body["max_tokens"] > 0


async def test_inline_item_range_and_accept_command(fake: FakeOpenAI):
    fake.script(Reply(text="a + b"))
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        result = await session.inline(uri, 1, 11)
        assert result is not None
        item = result.items[0]
        assert item.range == types.Range(types.Position(1, 11), types.Position(1, 11))
        assert item.command is not None and item.command.command == "qwen-lsp.acceptCompletion"
        # The accept command is a real command the server executes.
        await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(item.command.command, item.command.arguments)
        )


async def test_capabilities_advertise_inline_completion_and_incremental_sync(fake: FakeOpenAI):
    async with start_session(fake.base_url) as session:
        caps = session.init_result.capabilities
        assert caps.inline_completion_provider is not None
        assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
        assert caps.position_encoding == types.PositionEncodingKind.Utf16
        assert caps.completion_provider is not None
        assert "qwen-lsp.acceptCompletion" in caps.execute_command_provider.commands


async def test_utf16_positions_with_non_ascii_text(fake: FakeOpenAI):
    fake.script(Reply(text="total"))
    source = 'name = "héllo 😀 wörld"; x = \n'
    async with start_session(fake.base_url) as session:
        uri = session.open("u.py", source)
        # UTF-16 column after "x = ": the emoji counts as 2 code units.
        column = len(source.split("\n")[0].encode("utf-16-le")) // 2
        await session.ghost_text(uri, 0, column)
        prompt = fake.generations[-1].json["prompt"]
        assert prompt.startswith('<|fim_prefix|>name = "héllo 😀 wörld"; x = <|fim_suffix|>')


async def test_utf8_position_encoding_is_negotiated(fake: FakeOpenAI):
    fake.script(Reply(text="total"))
    source = "s = 'é😀'; y = \n"
    caps = client_capabilities(encodings=["utf-8", "utf-16"])
    async with start_session(fake.base_url, capabilities=caps) as session:
        uri = session.open("u8.py", source)
        column = len(source.split("\n")[0].encode("utf-8"))
        await session.ghost_text(uri, 0, column)
        prompt = fake.generations[-1].json["prompt"]
        assert prompt.startswith("<|fim_prefix|>s = 'é😀'; y = <|fim_suffix|>")


async def test_incremental_changes_are_applied(fake: FakeOpenAI):
    fake.script(Reply(text="a * b"))
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        session.change(uri, (0, 4), (0, 7), "mul")  # def add -> def mul
        session.change(uri, (3, 6), (3, 9), "mul")
        await session.ghost_text(uri, 1, 11)
        prompt = fake.generations[-1].json["prompt"]
        assert "def mul(a, b):" in prompt and "print(mul(1, 2))" in prompt


async def test_completion_items_fallback(fake: FakeOpenAI):
    fake.script(Reply(text="urn a + b"))
    source = "def add(a, b):\n    ret\n"
    caps = client_capabilities(inline=False)
    async with start_session(fake.base_url, capabilities=caps) as session:
        uri = session.open("calc.py", source)
        result = await session.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(1, 7),
                context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
            )
        )
        assert isinstance(result, types.CompletionList)
        (item,) = result.items
        # The edit covers the word being typed so client-side filtering keeps the item.
        assert item.text_edit.new_text == "return a + b"
        assert item.text_edit.range.start == types.Position(1, 4)
        assert item.filter_text.startswith("ret")


async def test_chat_transport_strips_fences_and_thinking(fake: FakeOpenAI):
    fake.script(Reply(text="<think>the user wants a sum</think>\n```python\na + b\n```"))
    async with start_session(fake.base_url, {"endpoint": {"transport": "chat"}}) as session:
        uri = session.open("calc.py", SOURCE)
        text = await session.ghost_text(uri, 1, 11)
        assert text == "a + b"
        request = fake.generations[-1]
        assert request.path == "/v1/chat/completions"
        messages = request.json["messages"]
        assert messages[0]["role"] == "system"
        assert "return <<<FILL_HERE>>>" in messages[-1]["content"]


async def test_cancel_previous_disconnects_the_stale_stream(fake: FakeOpenAI):
    fake.script(Reply(text="never", hang_before_headers=True), Reply(text="a + b"))
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        first = asyncio.ensure_future(session.inline(uri, 1, 11, invoked=False))
        (stale,) = await fake.wait_for_requests(1)
        session.change(uri, (1, 11), (1, 11), "a")
        second = await session.inline(uri, 1, 12, invoked=False)
        stale_result = await first
        assert stale_result is None or not stale_result.items
        assert second is not None and second.items
        await fake.wait_for_outcome(stale, "disconnected", timeout=5)


async def test_cancel_request_closes_the_http_stream(fake: FakeOpenAI):
    fake.script(Reply(text="x" * 50, delay_per_chunk=0.5))
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        pending = asyncio.ensure_future(session.inline(uri, 1, 11))
        (request,) = await fake.wait_for_requests(1)
        await session.cancel_inline(pending)
        await fake.wait_for_outcome(request, "disconnected", timeout=5)
        # The server is still responsive afterwards.
        fake.script(Reply(text="a + b"))
        assert await session.ghost_text(uri, 1, 11) == "a + b"


async def test_debounce_coalesces_automatic_requests(fake: FakeOpenAI):
    fake.default = Reply(text="a + b")
    async with start_session(fake.base_url, {"completion": {"debounceMs": 300}}) as session:
        uri = session.open("calc.py", SOURCE)
        tasks = []
        for i in range(3):
            session.change(uri, (1, 11 + i), (1, 11 + i), "a")
            tasks.append(asyncio.ensure_future(session.inline(uri, 1, 12 + i, invoked=False)))
            await asyncio.sleep(0.05)
        results = await asyncio.gather(*tasks)
        assert len([r for r in fake.requests if r.path.endswith("completions")]) == 1
        assert results[-1] is not None and results[-1].items


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        (Reply.error(401, "Incorrect API key provided"), "API key"),
        (Reply.error(404, "The model `x` does not exist."), "404"),
        (Reply.error(429, "slow down", retry_after=1), "rate limiting"),
        (Reply.error(500, "boom"), "internal error"),
        (Reply(text="a + b", malformed=True), "not OpenAI-compatible"),
    ],
    ids=["401", "404", "429", "500", "malformed"],
)
async def test_endpoint_errors_are_reported_once(fake: FakeOpenAI, reply: Reply, needle: str):
    fake.default = reply
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        for _ in range(4):
            result = await session.inline(uri, 1, 11)
            assert result is None or not result.items
        await session.wait_until(lambda: bool(session.messages()))
        await asyncio.sleep(0.2)
        shown = session.messages()
        assert len(shown) == 1, shown
        assert needle in shown[0]
        assert any("model request failed" in line for line in session.logs())


async def test_endpoint_down_and_timeout_are_reported(fake: FakeOpenAI):
    port = fake.port
    await fake.stop()  # nothing listens there any more: connection refused
    async with start_session(f"http://127.0.0.1:{port}/v1") as session:
        uri = session.open("calc.py", SOURCE)
        for _ in range(3):
            result = await session.inline(uri, 1, 11)
            assert result is None or not result.items
        await session.wait_until(lambda: bool(session.messages()))
        assert len(session.messages()) == 1
        assert "cannot reach" in session.messages()[0]


async def test_hanging_endpoint_times_out(fake: FakeOpenAI):
    fake.default = Reply(text="a", hang_before_headers=True)
    async with start_session(fake.base_url, {"endpoint": {"timeoutS": 1.0}}) as session:
        uri = session.open("calc.py", SOURCE)
        result = await session.inline(uri, 1, 11, timeout=10)
        assert result is None or not result.items
        await session.wait_until(lambda: bool(session.messages()))
        assert "did not answer in time" in session.messages()[0]
        (request,) = await fake.wait_for_requests(1)
        await fake.wait_for_outcome(request, "disconnected", timeout=5)


async def test_api_key_sent_but_never_logged(fake: FakeOpenAI):
    fake.default = Reply.error(401, "Incorrect API key provided: sk-secret-999")
    async with start_session(fake.base_url, env={"QWEN_LSP_API_KEY": "sk-secret-999"}) as session:
        uri = session.open("calc.py", SOURCE)
        await session.inline(uri, 1, 11)
        await session.wait_until(lambda: bool(session.messages()))
        assert fake.requests[-1].headers["authorization"] == "Bearer sk-secret-999"
        everything = "\n".join(session.messages() + session.logs())
        assert "sk-secret-999" not in everything


async def test_did_change_configuration_applies_and_reports_bad_values(fake: FakeOpenAI):
    fake.default = Reply(text="a + b")
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        session.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={
                    "qwen-lsp": {
                        "endpoint": {"model": "other-model"},
                        "completion": {"maxTokens": "many"},
                    }
                }
            )
        )
        await session.wait_until(lambda: bool(session.messages()))
        assert "completion.max_tokens" in session.messages()[0]
        await session.ghost_text(uri, 1, 11)
        assert fake.generations[-1].json["model"] == "other-model"


async def test_invalid_requests_get_clear_errors_and_server_survives(fake: FakeOpenAI):
    fake.default = Reply(text="a + b")
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        with pytest.raises(JsonRpcException, match="past the end"):
            await session.inline(uri, 99, 0)
        with pytest.raises(JsonRpcException, match="not open"):
            await session.inline(session.uri("never.py"), 0, 0)
        assert await session.ghost_text(uri, 1, 11) == "a + b"
