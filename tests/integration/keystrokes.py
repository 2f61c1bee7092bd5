"""Keystrokes against a real model server through the real qwen-lsp over stdio, timed.

Shared by ``test_llamacpp.py`` (asserts the prefix-cache effect) and
``tests/bench/bench_llamacpp.py`` (writes the figures to docs/benchmarks.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lsprotocol import types

from tests.support.lsp_session import Session, start_session

from .llama_server import MODEL_ALIAS, LlamaServer


def options(**completion: object) -> dict[str, object]:
    return {
        "endpoint": {"model": MODEL_ALIAS, "timeoutS": 60},
        "completion": {"promptFormat": "file", **completion},
    }


def no_errors_shown(session: Session) -> None:
    shown = session.messages(types.MessageType.Error) + session.messages(types.MessageType.Warning)
    assert shown == [], shown


def long_module(functions: int = 70) -> str:
    """~1.8k Qwen tokens of plain Python, then a function being written at the end."""
    body = "".join(
        f"def helper_{i}(values: list[int]) -> int:\n"
        f'    """Sum of the values times {i}."""\n'
        f"    return sum(values) * {i}\n\n\n"
        for i in range(functions)
    )
    return "# revision 0\n" + body + "def last(values):\n    return \n"


@dataclass
class Typist:
    """Types at the end of ``long_module()`` and asks for a completion after each keystroke."""

    session: Session
    llama: LlamaServer
    uri: str
    line: int = 0
    column: int = 0
    revision: int = 0

    @classmethod
    def open(cls, session: Session, llama: LlamaServer) -> Typist:
        text = long_module()
        uri = session.open("big.py", text)
        return cls(session, llama, uri, text.count("\n") - 1, len("    return "))

    async def keystroke(self, change_start: bool = False) -> float:
        """Seconds until the completion for one more typed character arrived.

        With ``change_start`` the file's first line changes too, so the prompt shares no start
        with the previous one and the server has to evaluate all of it again.
        """
        at = (self.line, self.column)
        self.session.change(self.uri, at, at, "v")  # never the "0" on offer: no cache hit
        self.column += 1
        if change_start:
            old = f"# revision {self.revision}"
            self.revision += 1
            self.session.change(self.uri, (0, 0), (0, len(old)), f"# revision {self.revision}")
        posts = self.llama.completion_posts()
        started = time.perf_counter()
        await self.session.inline(self.uri, self.line, self.column, timeout=60)
        elapsed = time.perf_counter() - started
        assert self.llama.completion_posts() == posts + 1, "a keystroke did not reach the model"
        return elapsed


async def measure_prefix_cache(llama: LlamaServer, keystrokes: int) -> dict[str, list[float]]:
    """Per-keystroke latency with a shared prompt start and with a changed one."""
    async with start_session(llama.base_url, options(maxTokens=4)) as session:
        typist = Typist.open(session, llama)
        for _ in range(2):
            await typist.keystroke()  # warm up: tokenizer loaded, first full evaluation
        shared = [await typist.keystroke() for _ in range(keystrokes)]
        changed = [await typist.keystroke(change_start=True) for _ in range(keystrokes)]
        no_errors_shown(session)
    return {"shared": shared, "changed": changed}
