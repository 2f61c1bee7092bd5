"""Soak: thousands of inline completions with cancellations at a steady rate; look for leaks.

The real server runs as a subprocess over stdio against the scripted endpoint (fast, streamed
replies). Every third request is cancelled with a real ``$/cancelRequest`` shortly after it was
sent (mostly while its answer streams), every fifth is superseded by the next keystroke's
request. Before and after the run (after a warm-up, and after a short settle so grace timers
have fired) we read the server's RSS from /proc, its asyncio task count and engine state via the
``qwen-lsp.debugStats`` command, and the open connections at the endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.bench.report import summary_ms, table, write_section
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import Session, start_session

WARMUP = 100
REQUESTS = 2000
INTERVAL_S = 0.01  # one request every 10 ms: a fast typist with completions on every key
SETTLE_S = 2.0
SOURCE = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def snapshot(session: Session, fake: FakeOpenAI, pid: int) -> dict[str, Any]:
    stats = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams("qwen-lsp.debugStats", [])
    )
    stats = stats if isinstance(stats, dict) else vars(stats)
    return {
        "rss_kib": rss_kib(pid),
        "asyncio_tasks": stats["asyncio_tasks"],
        "generations": stats["generations"],
        "active_streams": stats["active_streams"],
        "connections": fake.active_connections,
        "engine": stats["engine"],
    }


async def drive(session: Session, uri: str, count: int, timings: list[float]) -> dict[str, int]:
    """``count`` requests at a steady rate; returns how many ended which way."""
    outcomes = {"answered": 0, "cancelled": 0, "superseded": 0, "empty": 0}
    line = "    return "
    next_at = time.perf_counter()
    for i in range(count):
        # Rewrite the line so each request has a fresh prefix after an operator (no cache hit,
        # the gate lets it through), then ask at its end.
        new_line = f"    return v{i} + "
        session.change(uri, (1, 0), (1, len(line)), new_line)
        line, column = new_line, len(new_line)
        started = time.perf_counter()
        task = asyncio.ensure_future(session.inline(uri, 1, column, invoked=False, timeout=30))
        if i % 3 == 0:
            await asyncio.sleep(0.002)  # mostly while the answer streams
            try:
                await session.cancel_inline(task)
                outcomes["cancelled"] += 1
            except AssertionError:  # it was answered before the cancel went out
                await task
                outcomes["answered"] += 1
        elif i % 5 == 0:
            # The next keystroke arrives before the answer: this request is superseded.
            await asyncio.sleep(0.001)
            session.change(uri, (1, column), (1, column), "w ")
            line, column = line + "w ", column + 2
            newer = await session.inline(uri, 1, column, invoked=False, timeout=30)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 30)
            outcomes["superseded"] += 1
            outcomes["answered" if newer and newer.items else "empty"] += 1
        else:
            result = await task
            timings.append(time.perf_counter() - started)
            outcomes["answered" if result and result.items else "empty"] += 1
        next_at += INTERVAL_S
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    return outcomes


async def measure() -> dict[str, Any]:
    async with FakeOpenAI() as fake:
        fake.default = Reply(text="a + b + c", chunk_size=2, delay_per_chunk=0.001)
        options = {
            "completion": {"debounceMs": 0, "speculative": False},
            "context": {"workspaceIndex": False},
        }
        async with start_session(fake.base_url, options) as session:
            pid = session.client._server.pid  # type: ignore[attr-defined]
            uri = session.open("soak.py", SOURCE)
            await drive(session, uri, WARMUP, [])
            await asyncio.sleep(SETTLE_S)
            before = await snapshot(session, fake, pid)
            timings: list[float] = []
            started = time.perf_counter()
            outcomes = await drive(session, uri, REQUESTS, timings)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(SETTLE_S)
            after = await snapshot(session, fake, pid)
            requests_at_endpoint = len([r for r in fake.requests if r.generation])
    return {
        "before": before,
        "after": after,
        "outcomes": outcomes,
        "elapsed_s": elapsed,
        "round_trip": summary_ms(timings),
        "endpoint_requests": requests_at_endpoint,
    }


def main() -> None:
    figures = asyncio.run(measure())
    before, after = figures["before"], figures["after"]
    rows = [
        [name, before[key], after[key], after[key] - before[key]]
        for name, key in (
            ("server RSS (KiB)", "rss_kib"),
            ("server asyncio tasks", "asyncio_tasks"),
            ("engine generations in flight", "generations"),
            ("model streams open", "active_streams"),
            ("open connections at the endpoint", "connections"),
        )
    ]
    engine_before, engine_after = before["engine"], after["engine"]
    counters = [
        [k, engine_after[k] - engine_before[k]]
        for k in ("requests", "model_calls", "cancelled_streams", "superseded", "errors")
    ]
    rt = figures["round_trip"]
    outcomes = figures["outcomes"]
    body = (
        f"Real server subprocess over stdio, scripted endpoint streaming a short answer "
        f"(2-character chunks, 1 ms apart). {REQUESTS:,} inline requests, one every "
        f"{INTERVAL_S * 1000:.0f} ms after {WARMUP} warm-up requests: every third cancelled with "
        f"`$/cancelRequest` 2 ms after it was sent, every fifth superseded by the next "
        f"keystroke's request. Snapshots after a {SETTLE_S:.0f} s settle, via "
        f"`qwen-lsp.debugStats` and /proc/<pid>/status.\n\n"
        + table(["measure", "before", "after", "growth"], rows)
        + "\n\n"
        + table(["engine counter (during the run)", "count"], counters)
        + f"\n\nOutcomes: {outcomes['answered']} answered, {outcomes['cancelled']} cancelled, "
        f"{outcomes['superseded']} superseded, {outcomes['empty']} empty; "
        f"{figures['endpoint_requests']} generation requests reached the endpoint in all. "
        f"Run took {figures['elapsed_s']:.1f} s; uncancelled round trip p50 {rt['p50']:.1f} ms, "
        f"p95 {rt['p95']:.1f} ms."
    )
    write_section("soak", "Soak: completions with cancellations", body)
    print(body)


if __name__ == "__main__":
    main()
