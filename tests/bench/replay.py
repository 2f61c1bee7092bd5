"""Replay typing traces into the real server the way VS Code drives it, and record everything.

    async with FakeOpenAI() as fake, editor_session(fake, workspace, real) as editor:
        replayed = await replay(editor, traces, mode="inline")

``EditorClient`` speaks JSON-RPC over the server's pipes (``tests/support/raw_lsp.py``) with a
reader task, so requests overlap as in an editor: per key it sends ``didChange`` and then, like
VS Code, ``$/cancelRequest`` for its pending automatic request and a new one (inline: an
automatic ``textDocument/inlineCompletion`` on every change; completion: what VS Code's
suggest widget sends, see ``completion_trigger``). Every key and answer is kept with its time
(``time.monotonic()``, the fake endpoint's clock), for the figures in ``bench_typing_real`` and
for other replays (next-edit).

``Oracle`` is the model: it answers a FIM prompt with the true continuation of the file at the
cursor (what a perfect model would say), after a fixed latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.corpus import RealFile
from tests.bench.typist import Change, Key, Trace
from tests.support.fake_openai import FakeOpenAI, RecordedRequest, Reply
from tests.support.raw_lsp import STATS, RawServer, raw_lsp

REGION_GAP_S = 2.0  # between one retyped region and the next (the user moves elsewhere)
SETTLE_S = 3.0  # longest wait for the last answer of a region
ORACLE_TAIL = 300  # characters of the prompt's prefix located in the true file
ORACLE_LINES = 8  # lines of true continuation in an answer (max_tokens cuts it further)
WORD = str.isalnum
INVOKED = 1  # the trigger kind of an explicit request, in both inline and completion contexts


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def position(document: str, offset: int) -> dict[str, int]:
    """LSP position (UTF-16 columns) of a str offset."""
    line_start = document.rfind("\n", 0, offset) + 1
    return {
        "line": document.count("\n", 0, offset),
        "character": utf16_len(document[line_start:offset]),
    }


def offset_after(document: str, offset: int, at: dict[str, int], end: dict[str, int]) -> int:
    """Str offset of ``end``, given that ``at`` is the position of ``offset``."""
    if end["line"] == at["line"]:
        units, cursor = end["character"] - at["character"], offset
        while units > 0 and cursor < len(document):
            units -= utf16_len(document[cursor])
            cursor += 1
        return cursor
    start = offset
    for _ in range(end["line"] - at["line"]):
        start = document.index("\n", start) + 1
    return offset_after(document, start, {"line": end["line"], "character": 0}, end)


@dataclass
class Suggestion:
    text: str
    start: int  # str offsets in the document as it was when asked
    end: int


@dataclass
class KeyEvent:
    """A replayed key and what came of its request."""

    key: Key
    sent_at: float
    gap_after: float = 0.0  # until the next key (REGION_GAP_S-ish after a region's last)
    last: bool = False  # the region's last key: the file is whole again, nothing is missing
    request_id: int | None = None
    context: dict[str, Any] | None = None  # the request's trigger context
    asked_at: float | None = None
    answered_at: float | None = None
    outcome: str = "none"  # none (no request), pending, answered, cancelled, error
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        """Ghost text the editor shows: answered (before any newer key) and not empty."""
        return self.outcome == "answered" and bool(self.suggestions)


class EditorClient:
    """One open document and the requests an editor sends while someone types in it."""

    def __init__(self, server: RawServer, uri: str, text: str, language_id: str, mode: str):
        self.server, self.uri, self.text, self.language_id = server, uri, text, language_id
        self.mode = mode  # "inline" or "completion"
        self.version = 0
        self.pending: KeyEvent | None = None
        self.widget_open = False  # the completion widget shows (incomplete) items
        self.trigger_characters: list[str] = []
        self.notifications: list[tuple[float, dict[str, Any]]] = []  # (time, message) received
        self._futures: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    # --- wire -------------------------------------------------------------------------------

    async def start(self, trigger_characters: list[str]) -> None:
        self.trigger_characters = trigger_characters
        self._reader = asyncio.ensure_future(self._read())
        self.server.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": self.uri,
                    "languageId": self.language_id,
                    "version": self.version,
                    "text": self.text,
                }
            },
        )

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, EOFError):
                await self._reader

    async def _read(self) -> None:
        while True:
            message = await self.server.read()
            if "method" in message:
                if "id" in message:  # a request from the server: answer it plainly
                    self.server.send({"id": message["id"], "result": None})
                else:
                    self.notifications.append((time.monotonic(), message))
                continue
            future = self._futures.pop(message.get("id"), None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(message)

    def _send_request(self, method: str, params: Any) -> tuple[int, asyncio.Future[Any]]:
        request_id = self.server.next_id()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._futures[request_id] = future
        self.server.send({"id": request_id, "method": method, "params": params})
        return request_id, future

    async def request(self, method: str, params: Any, timeout: float = 30) -> dict[str, Any]:
        _, future = self._send_request(method, params)
        return await asyncio.wait_for(future, timeout)

    async def stats(self) -> dict[str, Any]:
        reply = await self.request("workspace/executeCommand", {"command": STATS, "arguments": []})
        return reply["result"]

    async def server_text(self) -> str:
        reply = await self.request(
            "workspace/executeCommand",
            {"command": "qwen-lsp.debugDocumentState", "arguments": [self.uri]},
        )
        return reply["result"]["text"]

    # --- editing ----------------------------------------------------------------------------

    def change(self, change: Change) -> None:
        """Send one content change (str offsets into the current text)."""
        start = position(self.text, change.start)
        end = position(self.text, change.end) if change.end != change.start else start
        self.text = change.apply(self.text)
        self.version += 1
        self.server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": {"start": start, "end": end}, "text": change.text}],
            },
        )

    def press(self, key: Key) -> KeyEvent:
        """The key's change, then what the editor asks for after it."""
        self.change(key.change)
        event = KeyEvent(key, time.monotonic())
        trigger = self.trigger(key)
        if trigger is None:
            return event
        if self.pending is not None and self.pending.outcome == "pending":
            self.server.notify("$/cancelRequest", {"id": self.pending.request_id})
        self.ask(event, trigger)
        return event

    def trigger(self, key: Key) -> dict[str, Any] | None:
        """The request context the editor sends after ``key``, or None for no request."""
        if self.mode == "inline":
            return {"triggerKind": 2}  # Automatic: on every change
        return completion_trigger(key, self.trigger_characters, self.widget_open)

    def ask(self, event: KeyEvent, context: dict[str, Any]) -> None:
        cursor = event.key.cursor
        at = position(self.text, cursor)
        method = (
            "textDocument/inlineCompletion"
            if self.mode == "inline"
            else ("textDocument/completion")
        )
        params = {"textDocument": {"uri": self.uri}, "position": at, "context": context}
        event.request_id, future = self._send_request(method, params)
        event.context = context
        event.asked_at, event.outcome = time.monotonic(), "pending"
        self.pending = event
        document = self.text  # as it was when asked: the answer's ranges refer to it
        future.add_done_callback(lambda f: self._answered(event, f, document, cursor, at))

    def _answered(
        self,
        event: KeyEvent,
        future: asyncio.Future[dict[str, Any]],
        document: str,
        cursor: int,
        at: dict[str, int],
    ) -> None:
        event.answered_at = time.monotonic()
        reply = future.result()
        if "error" in reply:
            cancelled = reply["error"].get("code") == -32800  # RequestCancelled
            event.outcome = "cancelled" if cancelled else "error"
            return
        result = reply.get("result") or {}
        items = result.get("items", []) if isinstance(result, dict) else result
        for item in items:
            event.suggestions.append(suggestion(item, document, cursor, at))
        # Answered after a newer key was sent: the editor drops it (VS Code cancels it).
        event.outcome = "answered" if self.pending is event else "cancelled"
        if self.mode == "completion" and self.pending is event:
            self.widget_open = bool(items) and bool(result.get("isIncomplete", False))

    async def settle(self, timeout: float = SETTLE_S) -> None:
        """Wait until the newest request is answered."""
        deadline = time.monotonic() + timeout
        while self.pending is not None and self.pending.outcome == "pending":
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.01)


def suggestion(item: dict[str, Any], document: str, cursor: int, at: dict[str, int]) -> Suggestion:
    """An inline item (insertText + range) or a completion item (textEdit) as str offsets."""
    if "textEdit" in item:
        edit = item["textEdit"]
        rng = edit.get("range") or edit.get("replace")
        text = edit["newText"]
    else:
        rng = item.get("range")
        text = item["insertText"]
        text = text if isinstance(text, str) else text["value"]
    if rng is None:
        return Suggestion(text, cursor, cursor)
    start_pos, end_pos = rng["start"], rng["end"]
    # A completion item's edit starts at the word's start, before the cursor.
    start = cursor - (at["character"] - start_pos["character"])
    return Suggestion(text, start, offset_after(document, cursor, at, end_pos))


def completion_trigger(
    key: Key, trigger_characters: list[str], widget_open: bool
) -> dict[str, Any] | None:
    """What VS Code's suggest widget asks after a key: a trigger character asks with
    TriggerCharacter (2); with incomplete items showing, any key re-asks (3,
    TriggerForIncompleteCompletions); a word character starts quick suggestions (Invoked, 1:
    VS Code marks its automatic quick suggestions as invoked); other keys ask nothing."""
    typed = key.change.text[-1:] if key.change.text else ""
    if key.kind == "enter":
        typed = "\n"
    elif key.kind == "autoclose":
        typed = key.change.text[:1]
    if typed and typed in trigger_characters:
        return {"triggerKind": 2, "triggerCharacter": typed}
    if widget_open:
        return {"triggerKind": 3}
    if typed and WORD(typed) and key.kind in ("char", "typo"):
        return {"triggerKind": 1}
    return None


# --- the model ---------------------------------------------------------------------------------


class Oracle:
    """Answers a FIM prompt with the file's true continuation at the cursor after ``latency_s``.

    The prompt's prefix tail is located in the true file (nearest ``focus`` when it occurs more
    than once); the answer is the rest of that line and up to ``ORACLE_LINES`` more. A prefix
    that is not in the file (a typo not yet fixed, indentation the file does not have) gets an
    empty answer.
    """

    def __init__(self, truth: str, latency_s: float):
        self.truth, self.latency_s = truth, latency_s
        self.focus = 0
        self.answers: list[tuple[RecordedRequest, str]] = []

    def __call__(self, request: RecordedRequest) -> Reply:
        text = self.continuation(fim_prefix(request.json or {}))
        self.answers.append((request, text))
        return Reply(text=text, delay_before_headers=self.latency_s, chunk_size=16)

    def continuation(self, prefix: str) -> str:
        tail = prefix[-ORACLE_TAIL:]
        if not tail:
            return ""
        found, best = -1, None
        while (found := self.truth.find(tail, found + 1)) >= 0:
            if best is None or abs(found - self.focus) < abs(best - self.focus):
                best = found
        if best is None:
            return ""
        rest = self.truth[best + len(tail) :]
        lines = rest.split("\n", ORACLE_LINES + 1)[: ORACLE_LINES + 1]
        return "\n".join(lines)


def fim_prefix(body: dict[str, Any]) -> str:
    """The text before the cursor in a FIM request (completions prompt, or llama.cpp /infill)."""
    prompt = body.get("prompt")
    if isinstance(prompt, str) and "<|fim_prefix|>" in prompt:
        return prompt.rsplit("<|fim_prefix|>", 1)[1].split("<|fim_suffix|>", 1)[0]
    if isinstance(body.get("input_prefix"), str):
        return body["input_prefix"]
    return ""


# --- sessions and replays --------------------------------------------------------------------


@contextlib.asynccontextmanager
async def editor_session(
    fake: FakeOpenAI,
    workspace: Path,
    real: RealFile,
    mode: str = "inline",
    options: dict[str, Any] | None = None,
    capabilities: dict[str, Any] | None = None,
) -> AsyncIterator[EditorClient]:
    """The real server on ``workspace`` (holding ``real`` on disk) with ``real`` open."""
    path = workspace / real.name
    path.write_text(real.text, encoding="utf-8")
    init = {"endpoint": {"baseUrl": fake.base_url, "model": "qwen2.5-coder-1.5b"}}
    for section, values in (options or {}).items():
        init[section] = {**init.get(section, {}), **values}
    async with raw_lsp(init, root=workspace, capabilities=capabilities) as server:
        editor = EditorClient(server, path.as_uri(), real.text, real.language_id, mode)
        await editor.start([".", "(", " ", "\n"])
        try:
            yield editor
        finally:
            await editor.stop()


async def replay(
    editor: EditorClient, traces: Iterable[Trace], oracle: Oracle | None = None
) -> list[KeyEvent]:
    """Each trace: its removal, a pause, then its keys at their times. Returns every key's
    event; the editor's text is checked against the trace's text after each one."""
    events: list[KeyEvent] = []
    for trace in traces:
        editor.change(trace.removal)
        if oracle is not None:
            oracle.focus = trace.removal.start
        await asyncio.sleep(REGION_GAP_S)
        due = time.monotonic()
        region: list[KeyEvent] = []
        for key in trace.keys:
            due += key.delay_s
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            region.append(editor.press(key))
        await editor.settle()
        for before, after in itertools.pairwise(region):
            before.gap_after = after.sent_at - before.sent_at
        region[-1].gap_after, region[-1].last = REGION_GAP_S, True
        events += region
        if editor.text != trace.text:
            raise AssertionError(f"replay of lines {trace.lines} left a different text")
    return events
