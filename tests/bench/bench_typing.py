"""Replay realistic typing against the real server and a scripted model with real latency.

A simulated user types a Python file line by line: bursts of keys ~70 ms apart, pauses at word
ends, an occasional typo fixed with backspace, and — when the ghost text shown is what they were
about to type — typing straight through it. The "model" is an oracle that answers the rest of the
current line from the target file (so suggestions are right, as when a model is good), after a
configurable latency (``QWEN_BENCH_MODEL_MS``, default 200 ms).

Reported: model calls per 100 keystrokes, cache hits while typing through a shown suggestion
(and model calls made during those keystrokes — must be 0), stale generations cancelled (the
endpoint saw the disconnect), and keystroke → ghost text latency minus model time, p50/p95.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field

from tests.bench.report import summary_ms, table, write_section
from tests.bench.samples import python_module
from tests.support.fake_openai import FakeOpenAI, RecordedRequest, Reply
from tests.support.lsp_session import Session, start_session

MODEL_MS = float(os.environ.get("QWEN_BENCH_MODEL_MS", "200"))
KEY_INTERVAL_S = 0.07
PAUSE_S = 0.45
LINES_TO_TYPE = 24
SEED = 11


def oracle(target: str) -> callable:
    """A model that completes the current line of ``target`` from wherever the prefix ends."""

    def answer(request: RecordedRequest) -> Reply:
        prompt = (request.json or {}).get("prompt", "")
        prefix = prompt.split("<|fim_prefix|>", 1)[-1].split("<|fim_suffix|>", 1)[0]
        tail = prefix[-200:]
        at = target.find(tail)
        rest = target[at + len(tail) :].split("\n", 1)[0] if at >= 0 and tail else ""
        text = rest + "\n" if rest else ""
        return Reply(
            text=text,
            delay_before_headers=MODEL_MS / 1000 * 0.8,
            delay_per_chunk=MODEL_MS / 1000 * 0.2 / max(1, len(text) // 4 + 1),
        )

    return answer


@dataclass
class Tally:
    keystrokes: int = 0
    through_keys: int = 0
    through_hits: int = 0
    through_model_calls: int = 0
    latencies: list[float] = field(default_factory=list)
    ghost_shown: int = 0


async def run() -> dict[str, object]:
    rng = random.Random(SEED)
    target = python_module(80, seed=3)
    lines = target.split("\n")
    start_line = 30
    typed_lines = [ln for ln in lines[start_line : start_line + LINES_TO_TYPE]]
    initial = (
        "\n".join(lines[:start_line]) + "\n\n" + "\n".join(lines[start_line + LINES_TO_TYPE :])
    )
    tally = Tally()
    async with FakeOpenAI() as fake:
        fake.responder = oracle(target)
        options = {"completion": {"debounceMs": 60}, "context": {"workspaceIndex": False}}
        async with start_session(fake.base_url, options) as session:
            uri = session.open("typing.py", initial)
            row = start_line
            for target_line in typed_lines:
                col = 0
                while col < len(target_line):
                    # Occasionally a typo, fixed at once with backspace.
                    if rng.random() < 0.04:
                        session.change(uri, (row, col), (row, col), "x")
                        tally.keystrokes += 1
                        await asyncio.sleep(KEY_INTERVAL_S)
                        session.change(uri, (row, col), (row, col + 1), "")
                        tally.keystrokes += 1
                    ch = target_line[col]
                    session.change(uri, (row, col), (row, col), ch)
                    col += 1
                    tally.keystrokes += 1
                    # The editor asks after every key; the user does not wait for the answer.
                    pending = asyncio.ensure_future(keystroke(session, fake, uri, row, col, tally))
                    pause = PAUSE_S if ch in " (.:" and rng.random() < 0.5 else KEY_INTERVAL_S
                    await asyncio.sleep(pause)
                    ghost = pending.result() if pending.done() else None
                    rest = target_line[col:]
                    if ghost and rest and rest.startswith(ghost.rstrip("\n")):
                        # The suggestion is what the user meant: type through it.
                        col = await type_through(session, fake, uri, row, col, rest, tally)
                session.change(uri, (row, col), (row, col), "\n")
                tally.keystrokes += 1
                row += 1
            await asyncio.sleep(0.3)
            disconnected = sum(
                1 for r in fake.requests if r.generation and r.outcome == "disconnected"
            )
            model_calls = sum(1 for r in fake.requests if r.generation)
    return {"tally": tally, "model_calls": model_calls, "disconnected": disconnected}


async def keystroke(
    session: Session, fake: FakeOpenAI, uri: str, row: int, col: int, tally: Tally
) -> str | None:
    """Ask for ghost text as an editor does after a key; measure latency minus model time."""
    before = len(fake.requests)
    started = time.perf_counter()
    result = await session.inline(uri, row, col, invoked=False)
    elapsed = time.perf_counter() - started
    if not result or not result.items:
        return None
    tally.ghost_shown += 1
    model = 0.0
    for request in fake.requests[before:]:
        if request.generation and request.finished_at:
            model = max(model, request.finished_at - request.received_at)
    tally.latencies.append(max(0.0, elapsed - model))
    text = result.items[0].insert_text
    return text if isinstance(text, str) else text.value


async def type_through(
    session: Session, fake: FakeOpenAI, uri: str, row: int, col: int, rest: str, tally: Tally
) -> int:
    # Every key but the last stays inside the suggestion; the last one consumes it, after which
    # asking the model for what follows is a new suggestion, not typing through.
    for index, ch in enumerate(rest):
        await asyncio.sleep(KEY_INTERVAL_S)
        session.change(uri, (row, col), (row, col), ch)
        col += 1
        tally.keystrokes += 1
        if index == len(rest) - 1:
            break
        tally.through_keys += 1
        before = sum(1 for r in fake.requests if r.generation)
        started = time.perf_counter()
        result = await session.inline(uri, row, col, invoked=False)
        after = sum(1 for r in fake.requests if r.generation)
        tally.through_model_calls += after - before
        if result and result.items:
            tally.through_hits += 1
            tally.latencies.append(time.perf_counter() - started)
    return col


def main() -> None:
    figures = asyncio.run(run())
    tally: Tally = figures["tally"]  # type: ignore[assignment]
    model_calls = int(figures["model_calls"])  # type: ignore[arg-type]
    lat = summary_ms(tally.latencies) if tally.latencies else {"p50": 0.0, "p95": 0.0, "n": 0}
    through_rate = tally.through_hits / tally.through_keys * 100 if tally.through_keys else 0.0
    rows = [
        ["keystrokes replayed", tally.keystrokes],
        ["model calls per 100 keystrokes", f"{model_calls / tally.keystrokes * 100:.1f}"],
        ["keystrokes typing through a shown suggestion", tally.through_keys],
        ["cache hits while typing through", f"{through_rate:.1f}%"],
        ["model calls while typing through", tally.through_model_calls],
        ["stale generations cancelled (endpoint saw the disconnect)", figures["disconnected"]],
        ["ghost texts shown", tally.ghost_shown],
        ["keystroke → ghost text minus model time, p50", f"{lat['p50']:.1f} ms"],
        ["keystroke → ghost text minus model time, p95", f"{lat['p95']:.1f} ms"],
    ]
    body = (
        f"Real server over stdio; oracle model answering the rest of the line after "
        f"{MODEL_MS:.0f} ms; the user types {LINES_TO_TYPE} lines of Python at "
        f"~{KEY_INTERVAL_S * 1000:.0f} ms a key with pauses, typos fixed by backspace, "
        "and types through correct suggestions. "
        f"Debounce 60 ms (adaptive: 10 ms after a pause) is inside the latency figures.\n\n"
        + table(["measure", "value"], rows)
    )
    write_section("typing", "Typing replay: calls, cache, cancellation, latency", body)
    print(body)


if __name__ == "__main__":
    main()
