"""Open documents' background analysis scheduling, with its real thread."""

from __future__ import annotations

import time
from typing import Any

import pytest

from qwen_lsp.context import open_documents
from qwen_lsp.context.open_documents import OpenDocuments


@pytest.fixture
def documents(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(open_documents, "ANALYSIS_DELAY_S", 0.1)
    docs = OpenDocuments()
    sent: list[dict[str, Any]] = []
    docs.send = sent.append
    flushes: list[float] = []
    flush = docs.flush

    def counting_flush(min_age: float = 0.0) -> None:
        flushes.append(time.monotonic())
        flush(min_age)

    docs.flush = counting_flush  # type: ignore[method-assign]
    docs.start()
    yield docs, sent, flushes
    docs.stop()


def wait_for(condition, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_burst_of_changes_is_analysed_once_after_the_pause(documents) -> None:
    docs, sent, flushes = documents
    docs.open("file:///a.py", "/ws/a.py", 1, "python", "x = 1\n")
    wait_for(lambda: len(sent) == 1)  # opening is analysed at once
    docs._inflight.clear()  # the worker answered (no real worker here)
    flushes.clear()
    burst_started = time.monotonic()
    for version in range(2, 42):  # 40 keystrokes, 5 ms apart: 0.2 s of typing
        docs.change("file:///a.py", version, "python", f"x = {version}\n")
        time.sleep(0.005)
    wait_for(lambda: len(sent) == 2)
    assert sent[-1]["version"] == 41  # the text after the burst, not a keystroke in it
    assert time.monotonic() - burst_started >= 0.2 + 0.1 - 0.02
    # The scheduler woke for the first change and then only when a change could be due, not
    # once per keystroke (each wake takes the GIL from the request being served).
    assert len(flushes) <= 6, len(flushes)


def test_a_change_while_the_previous_analysis_runs_waits_for_it(documents) -> None:
    docs, sent, _flushes = documents
    docs.open("file:///b.py", "/ws/b.py", 1, "python", "y = 1\n")
    wait_for(lambda: len(sent) == 1)
    docs.change("file:///b.py", 2, "python", "y = 2\n")
    time.sleep(0.3)
    assert len(sent) == 1  # version 1 is still being analysed: no second snapshot yet
    docs._inflight.clear()
    wait_for(lambda: len(sent) == 2)
    assert sent[-1]["version"] == 2
