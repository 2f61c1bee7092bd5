"""A real llama.cpp server (llama-cpp-python) with a tiny Qwen2 model: prefix cache and cancel.

Keystrokes go through the real qwen-lsp over stdio; each one is timed until its completion
arrived. "Shared start": typing at the end of a ~1.8k-token file, so the prompt differs from the
previous one only near the cursor and the server reuses its KV cache. "Changed start": every
keystroke also edits the first line, so the whole prompt is evaluated again. Needs
``.ci/llamacpp-setup.sh``; skipped without it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.bench.report import summary_ms, table, write_section

if TYPE_CHECKING:
    from tests.integration.llama_server import LlamaServer

KEYSTROKES = 12
CANCEL_TOKENS = 2000


def cancel_figures(server: LlamaServer) -> tuple[float, float]:
    """(seconds a 2000-token stream runs when left alone, seconds to the next answer when the
    client drops it after 0.3 s) — what closing the stream saves the server."""
    from tests.integration.llama_server import MODEL_ALIAS

    body = {"model": MODEL_ALIAS, "prompt": "x = ", "max_tokens": CANCEL_TOKENS, "stream": True}
    started = time.perf_counter()
    with httpx.stream("POST", f"{server.base_url}/completions", json=body, timeout=120) as r:
        for _ in r.iter_lines():
            pass
    full_s = time.perf_counter() - started
    with httpx.stream("POST", f"{server.base_url}/completions", json=body, timeout=120) as r:
        lines = r.iter_lines()
        next(lines)
        time.sleep(0.3)
    started = time.perf_counter()
    short = {"model": MODEL_ALIAS, "prompt": "x = ", "max_tokens": 1}
    httpx.post(f"{server.base_url}/completions", json=short, timeout=120).raise_for_status()
    return full_s, time.perf_counter() - started


def report(
    timings: dict[str, list[float]], hits: list[tuple[int, int]], cancel: tuple[float, float]
) -> str:
    shared, changed = summary_ms(timings["shared"]), summary_ms(timings["changed"])
    cached = [(reused, evaluated) for reused, evaluated in hits if evaluated < 50]
    rows = [
        ["shared start (typing at the end)", shared["n"], shared["p50"], shared["p95"]],
        ["changed start (first line edited)", changed["n"], changed["p50"], changed["p95"]],
    ]
    prompt = max((reused + evaluated for reused, evaluated in hits), default=0)
    low, high = min((r for r, _ in cached), default=0), max((r for r, _ in cached), default=0)
    reused, evaluated = f"{low}-{high}", max((e for _, e in cached), default=0)
    full_s, free_s = cancel
    return f"""
llama-cpp-python {_version()} server (`python -m llama_cpp.server`, one thread, `--logits_all
false`), tiny random-weight Qwen2 model (4 layers, 256 wide) with the real Qwen2.5 vocabulary,
written by `tests/integration/tiny_qwen_gguf.py`. Each keystroke: `didChange` + an invoked
`textDocument/inlineCompletion` through qwen-lsp over stdio (file-level FIM prompt of about
{prompt} tokens, 4 tokens generated), timed until the answer arrived.

{table(["keystroke", "n", "p50 ms", "p95 ms"], rows)}

The server's own log confirms the reuse: on the shared-start keystrokes it took {reused} prompt
tokens from its KV cache and evaluated {evaluated} or fewer; a changed start re-evaluates the
whole prompt. Keep stable context first in prompts.

Cancellation: a {CANCEL_TOKENS}-token stream left alone occupies the server for {full_s:.1f} s;
dropped by the client after 0.3 s, the next request is answered {free_s * 1000:.0f} ms later.
"""


def _version() -> str:
    from importlib.metadata import version

    return version("llama_cpp_python")


def main() -> None:
    if not all(importlib.util.find_spec(name) for name in ("llama_cpp", "gguf")):
        print("skipped: llama-cpp-python or gguf is not installed (run .ci/llamacpp-setup.sh)")
        return
    # Imported here: without the setup above, gguf is missing and the runner imports every bench.
    from tests.integration.keystrokes import measure_prefix_cache
    from tests.integration.llama_server import start_llama_server, write_model
    from tests.integration.tiny_qwen_gguf import TinyConfig

    with tempfile.TemporaryDirectory(prefix="qwen-llamacpp-") as tmp:
        model = write_model(Path(tmp), TinyConfig(steer_token="0"))
        server = start_llama_server(model, Path(tmp) / "server.log")
        try:
            timings = asyncio.run(measure_prefix_cache(server, KEYSTROKES))
            hits = server.prefix_hits()
            cancel = cancel_figures(server)
        finally:
            server.stop()
    body = report(timings, hits, cancel)
    write_section("llamacpp", "Real llama.cpp server: prefix cache and cancellation", body)
    print(body)


if __name__ == "__main__":
    main()
