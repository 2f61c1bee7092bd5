"""Server overhead per inline completion on a 10,000-line file (everything but the model).

The real server runs as a subprocess over stdio against the scripted endpoint answering
instantly. The client is a minimal hand-framed JSON-RPC client (``tests/support/raw_lsp.py``), so
its own work is a few json calls, as in an editor, and not a Python LSP library's object
mapping. For each request we measure the client's round trip and subtract the time the endpoint
spent on it (request received → answer sent); what remains is the server's work plus transport:
JSON-RPC, the document update and tree reparse, gate, context window, prompt, HTTP,
post-processing and the reply. A one-character edit precedes each request, as when typing.
Stage timings come from the engine itself (``qwen-lsp.debugStats``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.report import summary_ms, table, write_section
from tests.bench.samples import python_module
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.raw_lsp import RawServer, raw_lsp

LINES = 10_000
WARMUP = 20
RUNS = 1000
BATCH = 250  # stage timings are fetched per batch (the server keeps the last 500)
MAX_LINE = 60  # then the typing moves on to a new line, as people do
STAGES = {
    "syntax": "tree reparse after the edit",
    "gate": "gate (syntax-aware: complete here?)",
    "plan": "prompt plan (window, context, FIM prompt)",
    "model": "model call (HTTP + SSE, endpoint time included)",
    "postprocess": "post-processing filters",
}


async def stage_timings(server: RawServer, count: int) -> list[dict[str, float]]:
    """The engine's own stage timings for its last ``count`` generations."""
    reply = await server.request(
        "workspace/executeCommand", {"command": "qwen-lsp.debugStats", "arguments": []}
    )
    return list(reply["result"]["engine"]["recent_timings_ms"])[-count:]


class Typist:
    """Types into one line of the open document and asks for a completion after each key."""

    def __init__(self, server: RawServer, uri: str, line: int, text: str):
        self.server, self.uri, self.line, self.text = server, uri, line, text
        self.version = 1

    def edit(self, start: int, end: int, new_text: str) -> None:
        self.version += 1
        where = {
            "start": {"line": self.line, "character": start},
            "end": {"line": self.line, "character": end},
        }
        self.server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": where, "text": new_text}],
            },
        )

    def type(self, ch: str) -> None:
        if len(self.text) >= MAX_LINE:  # Enter, and a new statement's start
            self.edit(len(self.text), len(self.text), "\n    value = ")
            self.line, self.text = self.line + 1, "    value = "
        self.edit(len(self.text), len(self.text), ch)
        self.text += ch

    async def ask(self) -> tuple[float, dict[str, Any]]:
        """(seconds, result) of an invoked inline completion at the end of the line."""
        request_id = self.server.next_id()
        started = time.perf_counter()
        self.server.send(
            {
                "id": request_id,
                "method": "textDocument/inlineCompletion",
                "params": {
                    "textDocument": {"uri": self.uri},
                    "position": {"line": self.line, "character": len(self.text)},
                    "context": {"triggerKind": 1},
                },
            }
        )
        reply = await self.server.response(request_id)
        return time.perf_counter() - started, reply["result"]


async def measure() -> dict[str, dict[str, float]]:
    source = python_module(LINES)
    lines = source.split("\n")
    # Cursor inside a function body in the middle of the file.
    target = next(i for i in range(LINES // 2, LINES) if lines[i].startswith("    value = "))
    async with FakeOpenAI() as fake:
        fake.default = Reply(text="compute(value)\n", chunks=["compute(", "value)", "\n"])
        options = {
            "endpoint": {"baseUrl": fake.base_url, "model": "qwen2.5-coder-test"},
            # No debounce: we measure the server, not the configured pause.
            "completion": {"debounceMs": 0},
            "context": {"workspaceIndex": False},
        }
        with tempfile.TemporaryDirectory(prefix="qwen-lsp-bench-") as tmp:
            uri = (Path(tmp) / "big.py").as_uri()
            async with raw_lsp(options) as server:
                server.notify(
                    "textDocument/didOpen",
                    {
                        "textDocument": {
                            "uri": uri,
                            "languageId": "python",
                            "version": 1,
                            "text": source,
                        }
                    },
                )
                typist = Typist(server, uri, target, "    value = ")
                # Clear what follows the cursor on that line: we type a new expression there.
                typist.edit(len(typist.text), len(lines[target]), "")
                round_trips, overheads, endpoint_times = [], [], []
                stages: list[dict[str, float]] = []
                for i in range(WARMUP + RUNS):
                    # A fresh prefix each time defeats the cache.
                    typist.type("xyzqwjkhgn"[i % 10])  # never the start of the answer
                    before = len(fake.requests)
                    elapsed, result = await typist.ask()
                    assert result and result["items"], "no completion returned"
                    request = fake.requests[before]
                    model_time = (request.finished_at or request.received_at) - request.received_at
                    if i < WARMUP:
                        continue
                    round_trips.append(elapsed)
                    endpoint_times.append(model_time)
                    overheads.append(max(0.0, elapsed - model_time))
                    if len(round_trips) % BATCH == 0:
                        stages += await stage_timings(server, BATCH)
    assert len(stages) == RUNS, "every measured request must have run one generation"
    figures = {
        "round trip (client)": summary_ms(round_trips),
        "endpoint's own time": summary_ms(endpoint_times),
        "**server overhead**": summary_ms(overheads),
    }
    for key, label in STAGES.items():
        figures[f"- {label}"] = summary_ms([t[key] / 1000 for t in stages])
    # What the engine does not time: JSON-RPC, the document update, stdio.
    engine_s = [sum(t[k] for k in STAGES) / 1000 for t in stages]
    rest = [max(0.0, rt - e) for rt, e in zip(round_trips, engine_s, strict=True)]
    figures["- the rest (JSON-RPC, didChange, pipes)"] = summary_ms(rest)
    return figures


def main() -> None:
    figures = asyncio.run(measure())
    rows = [[name, s["n"], s["p50"], s["p95"], s["mean"]] for name, s in figures.items()]
    body = (
        f"Real server subprocess over stdio, scripted endpoint answering instantly; "
        f"{LINES:,}-line Python file, a one-character edit before each request (a new line "
        f"every {MAX_LINE} characters), {RUNS} measured requests after {WARMUP} warm-up. The "
        f"client is a minimal hand-framed JSON-RPC client, so the round trip holds little "
        f"besides the server. *Server overhead* = round trip minus the endpoint's own time "
        f"for the request (request read → last byte sent); it still counts the pipes, the "
        f"loopback HTTP and the endpoint's request parsing. Target: p50 ≤ 5 ms. The indented "
        f"rows are the server's own stage timings for the same requests (engine "
        f"`recent_timings_ms`, via `qwen-lsp.debugStats`).\n\n"
        + table(["measure", "n", "p50 ms", "p95 ms", "mean ms"], rows)
    )
    write_section("server_overhead", "Server overhead per inline completion", body)
    print(body)


if __name__ == "__main__":
    main()
