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

from tests.bench.report import summary_ms, table, write_section
from tests.bench.samples import python_module
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import start_session

LINES = 10_000
WARMUP = 20
RUNS = 300


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
            round_trips, overheads = [], []
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
                    overheads.append(max(0.0, elapsed - model_time))
    return {"round trip": summary_ms(round_trips), "server overhead": summary_ms(overheads)}


def main() -> None:
    figures = asyncio.run(measure())
    rows = [[name, s["n"], s["p50"], s["p95"], s["mean"]] for name, s in figures.items()]
    body = (
        f"Real server subprocess over stdio, real LSP client, scripted endpoint answering "
        f"instantly; {LINES:,}-line Python file, a one-character edit before each request, "
        f"{RUNS} measured requests after {WARMUP} warm-up. *Server overhead* = client round "
        f"trip minus the endpoint's own time for the request. Target: p50 ≤ 5 ms.\n\n"
        + table(["measure", "n", "p50 ms", "p95 ms", "mean ms"], rows)
    )
    write_section("server_overhead", "Server overhead per inline completion", body)
    print(body)


if __name__ == "__main__":
    main()
