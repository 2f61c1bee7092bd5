"""How an answer ended (``StreamOutcome``) and the size caps, against the scripted endpoint.

The outcome gives the server's finish reason (None when the stream ended without one, as
llama-cpp-python's interrupted ``[DONE]``), usage and server timings when sent, and wall times. A
runaway answer (a server ignoring max_tokens) is cut at the cap: ``finish_reason = "cap"``, the
connection closed, and the event loop never stalled while it streams."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

import pytest

from qwen_lsp.model.client import (
    CAP_CHARS_PER_TOKEN,
    CAP_MARGIN_CHARS,
    GenerationRequest,
    ModelClient,
    TransportName,
)
from qwen_lsp.model.request import ServerTimings
from qwen_lsp.settings import EndpointSettings
from tests.support.fake_openai import FakeOpenAI, Reply

TIMINGS = {"prompt_n": 12, "prompt_ms": 30.5, "cache_n": 100, "predicted_n": 3, "predicted_ms": 9}


def model_for(fake: Any, transport: TransportName = "completions") -> ModelClient:
    return ModelClient(EndpointSettings(base_url=fake.base_url, model="m"), transport)


@pytest.mark.parametrize(
    ("flavor", "transport"),
    [("llamacpp", "completions"), ("llamacpp", "infill"), ("ollama", "ollama")],
)
async def test_a_complete_answer_says_how_it_ended(flavor: str, transport: TransportName) -> None:
    reply = Reply(text="a + b", chunk_size=2, final_extra={"timings": TIMINGS})
    async with FakeOpenAI(flavor=flavor, default=reply) as fake:
        model = model_for(fake, transport)
        answer = await model.answer(GenerationRequest(prompt="x", prefix="x", suffix="y"))
        await model.aclose()
    outcome = answer.outcome
    assert answer.text == "a + b"
    assert (outcome.finish_reason, outcome.complete, outcome.chunks) == ("stop", True, 3)
    assert outcome.ttfb_s is not None and outcome.ttft_s is not None and outcome.total_s
    assert 0 < outcome.ttfb_s <= outcome.ttft_s <= outcome.total_s
    if transport == "ollama":  # its own counters (nanoseconds in the fake's final line)
        assert outcome.usage is not None and outcome.timings is not None
    else:
        assert outcome.timings == ServerTimings(12, 30.5, 100, 3, 9.0)


async def test_length_and_usage_from_an_openai_server() -> None:
    async with FakeOpenAI(default=Reply(text="x" * 400)) as fake:
        model = model_for(fake, "chat")
        request = GenerationRequest(
            messages=({"role": "user", "content": "hi"},),
            max_tokens=5,
            extra_body={"stream_options": {"include_usage": True}},
        )
        answer = await model.answer(request)
        await model.aclose()
    assert answer.text == "x" * 20  # the fake's 4 characters a token
    assert answer.outcome.finish_reason == "length"
    usage = answer.outcome.usage
    assert usage is not None and usage.completion_tokens == 5 and usage.prompt_tokens


async def test_an_interrupted_stream_has_no_finish_reason() -> None:
    # llama-cpp-python cuts a running stream when another request arrives: [DONE], no reason.
    async with FakeOpenAI(default=Reply(text="def f(", finish_reason="")) as fake:
        model = model_for(fake)
        answer = await model.answer(GenerationRequest(prompt="x"))
        await model.aclose()
    assert answer.text == "def f("
    assert answer.outcome.complete and answer.outcome.finish_reason is None


async def test_a_reader_that_stops_early_leaves_an_incomplete_outcome() -> None:
    async with FakeOpenAI(default=Reply(chunks=["a", "b", "c"], hang_after_chunks=2)) as fake:
        model = model_for(fake)
        async with model.open_stream(GenerationRequest(prompt="x")) as answer:
            async for delta in answer:
                assert delta == "a"
                break
        await model.aclose()
    assert not answer.outcome.complete and answer.outcome.finish_reason is None
    assert answer.outcome.chunks == 1


# 3.9 MB sent, then the server would go on (it hangs until the client leaves).
RUNAWAY = Reply(
    text="x" * 1024, repeat=5000, chunk_size=1024, ignore_max_tokens=True, hang_after_chunks=3900
)


async def stalls_while(work: Any) -> tuple[Any, float]:
    """(result of ``work``, the longest the event loop went without running another task)."""
    gaps: list[float] = []
    done = False

    async def tick() -> None:
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.ensure_future(tick())
    try:
        result = await work
    finally:
        done = True
        await ticker
    return result, max(gaps)


@contextlib.asynccontextmanager
async def runaway_server() -> Any:
    """The scripted endpoint in its own process (its work must not count as our stall): 1 KB
    pieces, 3.9 MB of them sent whatever max_tokens says, then it waits for the client."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.fake_openai",
        *("--text", "x" * 1024, "--chunk-size", "1024", "--repeat", "5000"),
        *("--ignore-max-tokens", "--hang-after", "3900"),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        yield (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
    finally:
        process.kill()
        await process.wait()


@pytest.mark.parametrize("max_tokens", [64, 2048, 32768])
async def test_a_runaway_answer_is_capped_closed_and_never_stalls_the_loop(
    max_tokens: int,
) -> None:
    async with runaway_server() as base_url:
        model = ModelClient(EndpointSettings(base_url=base_url, model="m"), "chat")
        request = GenerationRequest(  # actions' sizes go through the SDK, as actions do
            messages=({"role": "user", "content": "rewrite"},),
            max_tokens=max_tokens,
            purpose="action" if max_tokens > 64 else "completion",
        )
        if request.purpose == "action":  # the SDK loaded first (its own cost: bench)
            await model.list_models()
        started = time.perf_counter()
        answer, stall = await stalls_while(model.answer(request))
        took = time.perf_counter() - started
        await model.aclose()
    cap = CAP_CHARS_PER_TOKEN * max_tokens + CAP_MARGIN_CHARS
    print(
        f"[cap] max_tokens={max_tokens}: {len(answer.text)} chars in {took * 1000:.0f} ms, "
        f"longest loop stall {stall * 1000:.1f} ms"
    )
    assert answer.outcome.finish_reason == "cap" and not answer.outcome.complete
    assert len(answer.text) <= cap
    assert stall < 0.1  # read in 5 ms slices (a few ms measured); generous for loaded CI


async def test_the_completion_stream_ends_quietly_at_the_cap(caplog: Any) -> None:
    async with FakeOpenAI(default=RUNAWAY) as fake:
        model = model_for(fake)
        async with contextlib.aclosing(model.stream(GenerationRequest(prompt="x"))) as deltas:
            text = "".join([d async for d in deltas])
        (seen,) = await fake.wait_for_requests(1)
        await fake.wait_for_outcome(seen, "disconnected", timeout=5)  # the server sees it
        await model.aclose()
    assert 0 < len(text) <= CAP_CHARS_PER_TOKEN * 64 + CAP_MARGIN_CHARS
    assert "did not stop at max_tokens" in caplog.text
