"""Bad LSP input against the real server: broken frames, unknown methods, impossible positions,
documents never opened, versions out of order, huge and binary files; and fuzzed incremental
edits after which the server's text must equal the client's (``qwen-lsp.debugDocumentState``).

The broken-frame cases speak Content-Length framing by hand on the server's stdin, because a
real LSP client library cannot send malformed messages.
"""

from __future__ import annotations

import asyncio
import bisect
import re
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import Session, start_session
from tests.support.raw_lsp import frame_bytes, raw_lsp

T = TypeVar("T")
STATE = "qwen-lsp.debugDocumentState"
STATS = "qwen-lsp.debugStats"
SOURCE = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"


# --- hand-framed JSON-RPC (tests/support/raw_lsp.py) -------------------------------------------


MALFORMED = {
    "truncated-json": frame_bytes(b'{"jsonrpc": "2.0", "id": 7, "method": '),
    "invalid-utf8": frame_bytes(
        b'{"jsonrpc":"2.0","id":8,"method":"workspace/executeCommand",'
        b'"params":{"command":"qwen-lsp.debugStats","arguments":["\xff\xfe\xc3"]}}'
    ),
    "deep-nesting": frame_bytes(
        b'{"jsonrpc":"2.0","id":9,"method":"x","params":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    ),
    "not-an-object": frame_bytes(b"[1, 2, 3]"),
    "no-method": frame_bytes(b'{"jsonrpc":"2.0","id":10}'),
    "wrong-params": frame_bytes(
        b'{"jsonrpc":"2.0","id":12,"method":"textDocument/inlineCompletion","params":42}'
    ),
    "bad-header": b"Content-Type: text/plain\r\n\r\n",
}


# The JSON-RPC error each unreadable message must get (id null: its id cannot be known).
UNREADABLE_CODES = {"truncated-json": -32700, "invalid-utf8": -32700, "deep-nesting": -32700}


async def test_malformed_messages_do_not_kill_the_server():
    async with raw_lsp() as server:
        for name, data in MALFORMED.items():
            server.notifications.clear()
            server.write(data)
            took = await server.alive()
            assert took < 5000, f"{name}: answered only after {took:.0f} ms"
            errors = [m["error"]["code"] for m in server.notifications if m.get("id", 0) is None]
            if name in UNREADABLE_CODES:
                assert errors == [UNREADABLE_CODES[name]], (name, server.notifications)
            # Never pygls's "Error in server" popup for the client's bad bytes.
            shown = [m for m in server.notifications if m.get("method") == "window/showMessage"]
            assert not shown, (name, shown)
        assert server.process.returncode is None


async def test_unknown_methods():
    async with raw_lsp() as server:
        reply = await server.request("qwen/noSuchMethod", {"x": 1})
        assert reply["error"]["code"] == -32601
        server.send({"method": "qwen/noSuchNotification", "params": {}})  # ignored, no reply
        server.send({"method": "$/noSuchOptionalNotification", "params": {}})
        await server.alive()


# --- through a real client -------------------------------------------------------------------


@pytest.fixture
async def fake():
    async with FakeOpenAI(default=Reply(text="a + b")) as server:
        yield server


async def state(session: Session, uri: str) -> dict[str, Any]:
    result = await asyncio.wait_for(
        session.client.workspace_execute_command_async(types.ExecuteCommandParams(STATE, [uri])),
        30,
    )
    return result if isinstance(result, dict) else vars(result)


async def test_positions_past_the_end_are_clamped_or_refused(fake: FakeOpenAI):
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        with pytest.raises(JsonRpcException, match="past the end"):
            await session.inline(uri, 99, 0)
        # A column past the end of a line is clamped to the line end (LSP says so).
        session.change(uri, (0, 500), (0, 900), "  # tail")
        expected = SOURCE.replace("b):\n", "b):  # tail\n", 1)
        assert (await state(session, uri))["text"] == expected
        assert await session.ghost_text(uri, 1, 11) == "a + b"


async def test_documents_never_opened(fake: FakeOpenAI):
    async with start_session(fake.base_url) as session:
        ghost = session.uri("ghost.py")
        session.versions[ghost] = 1
        session.change(ghost, (0, 0), (0, 0), "x")  # ignored with a log line
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(ghost))
        )
        with pytest.raises(JsonRpcException, match="not open"):
            await session.inline(ghost, 0, 0)
        with pytest.raises(JsonRpcException, match="not open"):
            await state(session, ghost)
        uri = session.open("calc.py", SOURCE)
        assert await session.ghost_text(uri, 1, 11) == "a + b"


async def test_out_of_order_versions_keep_the_clients_text(fake: FakeOpenAI):
    async with start_session(fake.base_url) as session:
        uri = session.open("calc.py", SOURCE)
        for version, text in ((5, "A"), (3, "B"), (3, "C"), (9, "D")):
            session.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(version, uri),
                    [
                        types.TextDocumentContentChangePartial(
                            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                            text=text,
                        )
                    ],
                )
            )
        # Changes arrive in the order sent (the transport is ordered): the server applies them
        # all and reports the latest version it was given.
        held = await state(session, uri)
        assert held["text"] == "DCBA" + SOURCE
        assert held["version"] == 9
        assert held["tree_sexp_matches_scratch"] is True


async def test_ten_megabyte_file_stays_fast(fake: FakeOpenAI):
    line = "value_{0} = compute(value_{0}, 42)  # padding padding padding\n"
    big = "".join(line.format(i) for i in range(10 * 1024 * 1024 // len(line.format(0))))
    async with start_session(fake.base_url) as session:
        uri = session.open("big.py", big + "result = ")
        held = await state(session, uri)
        assert (held["parse_skipped_reason"] or "").startswith("too large")
        last = big.count("\n")
        started = time.perf_counter()
        await session.ghost_text(uri, last, 9, timeout=30)
        took = time.perf_counter() - started
        print(f"[bad-input] 10 MB file: completion answered in {took * 1000:.0f} ms")
        assert took < 10
        session.change(uri, (last, 9), (last, 9), "1")
        assert (await state(session, uri))["text"].endswith("result = 1")


async def test_binary_file_is_not_parsed(fake: FakeOpenAI):
    binary = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + "\x00\xff\x10" * 2000
    async with start_session(fake.base_url) as session:
        uri = session.open("image.py", binary)
        held = await state(session, uri)
        assert held["parse_skipped_reason"] == "binary content"
        assert held["text"] == binary
        result = await session.inline(uri, 0, 3)  # declines or completes; never fails
        assert result is None or isinstance(result, types.InlineCompletionList)
        text = "def add(a, b):\n    return "
        other = session.open("ok.py", text)
        assert await session.ghost_text(other, 1, 11) == "a + b"


# --- fuzzed incremental edits ----------------------------------------------------------------

LINE_BREAK = re.compile(r"\r\n|\r|\n")  # LSP's line terminators
ALPHABET = "ab x_(){}:\t\n\r\n\r#'\"éß中😀"


def line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in LINE_BREAK.finditer(text))]


def utf16_position(text: str, offset: int) -> types.Position:
    starts = line_starts(text)
    line = bisect.bisect_right(starts, offset) - 1
    character = len(text[starts[line] : offset].encode("utf-16-le")) // 2
    return types.Position(line, character)


def legal_offset(text: str, offset: int) -> int:
    """An offset an LSP position can name: never between the CR and LF of one line break."""
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return offset - 1
    return offset


class LoopThread:
    """An event loop on a thread, so hypothesis (synchronous) can drive an async session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def fuzz_session() -> Iterator[tuple[LoopThread, Session]]:
    runner = LoopThread()
    manager = start_session()
    session = runner.run(manager.__aenter__())
    try:
        yield runner, session
    finally:
        runner.run(manager.__aexit__(None, None, None))
        runner.close()


EDIT = st.tuples(
    st.integers(0, 10_000),  # start, modulo the text length
    st.integers(0, 12),  # characters replaced
    st.text(ALPHABET, max_size=6),  # inserted text
    st.booleans(),  # sent in the same didChange as the previous edit
)
COUNTER = iter(range(10**9))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    initial=st.text(ALPHABET, max_size=40),
    edits=st.lists(EDIT, min_size=1, max_size=20),
    language=st.sampled_from(["python", "javascript"]),
)
def test_fuzzed_edits_keep_server_text_equal_to_client(
    fuzz_session: tuple[LoopThread, Session],
    initial: str,
    edits: list[tuple[int, int, str, bool]],
    language: str,
) -> None:
    runner, session = fuzz_session
    uri = session.uri(f"fuzz_{next(COUNTER)}.{'py' if language == 'python' else 'js'}")
    # The client's model of the document: each batch is one didChange, applied in order.
    text = initial
    batches: list[list[types.TextDocumentContentChangeEvent]] = []
    for start_seed, length, inserted, same_batch in edits:
        if not same_batch or not batches:
            batches.append([])
        start = legal_offset(text, start_seed % (len(text) + 1))
        end = legal_offset(text, min(len(text), start + length))
        batches[-1].append(
            types.TextDocumentContentChangePartial(
                range=types.Range(utf16_position(text, start), utf16_position(text, end)),
                text=inserted,
            )
        )
        text = text[:start] + inserted + text[end:]

    async def replay() -> dict[str, Any]:
        # On the client's loop: pygls clients are not thread safe.
        client = session.client
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, initial))
        )
        for version, batch in enumerate(batches, start=2):
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(version, uri), batch
                )
            )
        held = await state(session, uri)
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        return held

    held = runner.run(replay())
    assert held["text"] == text
    assert held["version"] == len(batches) + 1
    assert held["tree_sexp_matches_scratch"] is True
