"""Server overhead per inline completion on a 10,000-line file (everything but the model).

The real server runs as a subprocess over stdio, driven by a real LSP client, against the
scripted endpoint answering instantly. For each request we measure the client's round trip and
subtract the time the endpoint spent on it (request received → answer sent), so what remains is
the server's work plus transport: JSON-RPC, document lookup, gate, context window, prompt, HTTP,
post-processing and the reply. A one-character edit precedes each request, as when typing.
Stage timings inside the engine (prompt planning, post-processing) are reported from the
server's own log of its last request.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from lsprotocol import types

from tests.bench.report import summary_ms, table, write_section
from tests.bench.samples import python_module
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import Session, start_session

LINES = 10_000
WARMUP = 20
RUNS = 300
STAGES = {
    "gate": "gate (syntax-aware: complete here?)",
    "plan": "prompt plan (window, context, FIM prompt)",
    "model": "model call (HTTP + SSE, endpoint time included)",
    "postprocess": "post-processing filters",
}


async def stage_timings(session: Session, count: int) -> list[dict[str, float]]:
    """The engine's own stage timings for its last ``count`` generations."""
    stats: Any = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams("qwen-lsp.debugStats", [])
    )
    stats = stats if isinstance(stats, dict) else vars(stats)
    return list(stats["engine"]["recent_timings_ms"])[-count:]


async def measure() -> dict[str, dict[str, float]]:
    source = python_module(LINES)
    lines = source.split("\n")
    # Cursor inside a function body in the middle of the file.
    target = next(i for i in range(LINES // 2, LINES) if lines[i].startswith("    value = "))
    async with FakeOpenAI() as fake:
        fake.default = Reply(text="compute(value)\n", chunks=["compute(", "value)", "\n"])
        # No debounce: we measure the server, not the configured pause.
        async with start_session(
            fake.base_url, {"completion": {"debounceMs": 0}, "context": {"workspaceIndex": False}}
        ) as session:
            uri = session.open("big.py", source)
            round_trips, overheads, endpoint_times = [], [], []
            line_text = "    value = "
            # Clear what follows the cursor on that line: we type a new expression there.
            session.change(uri, (target, len(line_text)), (target, len(lines[target])), "")
            for i in range(WARMUP + RUNS):
                # Type one character, then ask: a fresh prefix each time defeats the cache.
                ch = "xyzqwjkhgn"[i % 10]  # never the start of the scripted answer
                session.change(uri, (target, len(line_text)), (target, len(line_text)), ch)
                line_text += ch
                before = len(fake.requests)
                started = time.perf_counter()
                result = await session.inline(uri, target, len(line_text))
                elapsed = time.perf_counter() - started
                assert result is not None and result.items, "no completion returned"
                request = fake.requests[before]
                model_time = (request.finished_at or request.received_at) - request.received_at
                if i >= WARMUP:
                    round_trips.append(elapsed)
                    endpoint_times.append(model_time)
                    overheads.append(max(0.0, elapsed - model_time))
            stages = await stage_timings(session, RUNS)
    assert len(stages) == RUNS, "every measured request must have run one generation"
    figures = {
        "round trip (client)": summary_ms(round_trips),
        "endpoint's own time": summary_ms(endpoint_times),
        "**server overhead**": summary_ms(overheads),
    }
    for key, label in STAGES.items():
        figures[f"- {label}"] = summary_ms([t[key] / 1000 for t in stages])
    # What the engine does not time: JSON-RPC, the document update and tree reparse, stdio.
    engine_s = [sum(t[k] for k in STAGES) / 1000 for t in stages]
    rest = [max(0.0, rt - e) for rt, e in zip(round_trips, engine_s, strict=True)]
    figures["- the rest (JSON-RPC, didChange, tree reparse, pipes, client)"] = summary_ms(rest)
    return figures


def main() -> None:
    figures = asyncio.run(measure())
    rows = [[name, s["n"], s["p50"], s["p95"], s["mean"]] for name, s in figures.items()]
    body = (
        f"Real server subprocess over stdio, real LSP client, scripted endpoint answering "
        f"instantly; {LINES:,}-line Python file, a one-character edit before each request, "
        f"{RUNS} measured requests after {WARMUP} warm-up. *Server overhead* = client round "
        f"trip minus the endpoint's own time for the request (request read → last byte sent), "
        f"so it still counts the test client's own JSON-RPC work and the endpoint's HTTP "
        f"parsing. Target: p50 ≤ 5 ms. The indented rows are the server's own stage timings "
        f"for the same requests (engine `recent_timings_ms`, via `qwen-lsp.debugStats`).\n\n"
        + table(["measure", "n", "p50 ms", "p95 ms", "mean ms"], rows)
    )
    write_section("server_overhead", "Server overhead per inline completion", body)
    print(body)


if __name__ == "__main__":
    main()
