"""The model call alone: one streamed completion against the scripted endpoint, per HTTP path.

500 streamed requests (after 20 warm-up) per path, each with a 20 KB prompt and a 3-chunk answer,
one at a time on one event loop; the scripted endpoint runs on its own thread and loop in the
same process (so its work is in the figures, as in the server).

Paths: the model client as the server uses it (httpx, /completions); a minimal plain-httpx loop
(the floor for httpx); the openai SDK sending the request with a raw streaming response read by
our decoder (how the SDK could carry completions); the SDK's own typed stream reader; the model
client's action chat through the SDK; the model client stopping at the first line break as a
single-line completion does (which closes the connection, so every request opens a new one).
With ``QWEN_LSP_BASELINE=<source tree>`` the model client of that tree (imported as
``qwen_lsp_baseline``) takes its turn too, both ways, to compare with an earlier client.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from tests.bench.report import summary_ms, table, write_section
from tests.support.fake_openai import FakeOpenAI, Reply

WARMUP = 20
RUNS = 500
PROMPT = "x = 1\n" * (20_000 // 6)  # 20 KB
ANSWER = Reply(text="compute(value)\n", chunks=["compute(", "value)", "\n"])
Call = Callable[[], Awaitable[str]]


async def timed(calls: dict[str, Call]) -> dict[str, list[float]]:
    """Round robin: one request per path in turn, so load changes hit every path alike."""
    for call in calls.values():
        for _ in range(WARMUP):
            assert await call() == "compute(value)\n"
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(RUNS):
        for name, call in calls.items():
            started = time.perf_counter()
            text = await call()
            times[name].append(time.perf_counter() - started)
            assert text == "compute(value)\n"
    return times


def model_client_call(
    base_url: str, purpose: str = "completion", package: str = "qwen_lsp", stop_early: bool = False
) -> tuple[Call, Any]:
    client = importlib.import_module(f"{package}.model.client")
    settings = importlib.import_module(f"{package}.settings")
    ModelClient, GenerationRequest = client.ModelClient, client.GenerationRequest
    model = ModelClient(settings.EndpointSettings(base_url=base_url, model="m"))
    if purpose == "action":
        messages = ({"role": "user", "content": PROMPT},)
        request = GenerationRequest(messages=messages, max_tokens=64, purpose="action")
    else:
        request = GenerationRequest(prompt=PROMPT, max_tokens=64)

    async def call() -> str:
        if not stop_early:
            return await model.complete(request)
        parts = []  # as a single-line completion does: stop at the line break, drop the rest
        async with contextlib.aclosing(model.stream(request)) as deltas:
            async for delta in deltas:
                parts.append(delta)
                if "\n" in delta:
                    break
        return "".join(parts)

    return call, model.aclose


def body(stream: bool = True) -> dict[str, Any]:
    return {"model": "m", "prompt": PROMPT, "max_tokens": 64, "stream": stream}


def plain_httpx_call(base_url: str) -> tuple[Call, Any]:
    client = httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(None, connect=3.0))

    async def call() -> str:
        parts = []
        async with client.stream("POST", f"{base_url}/completions", json=body()) as response:
            lines = response.aiter_lines()
            async for line in lines:
                if line.startswith("data: "):
                    data = line[6:]
                    if data == "[DONE]":
                        break
                    parts.append(json.loads(data)["choices"][0]["text"])
            async for _ in lines:  # the rest: the connection goes back to the pool
                pass
        return "".join(parts)

    return call, client.aclose


def sdk_client(base_url: str) -> tuple[Any, httpx.AsyncClient]:
    import openai

    client = httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(None, connect=3.0))
    sdk = openai.AsyncOpenAI(base_url=base_url, api_key="k", http_client=client, max_retries=0)
    return sdk, client


def sdk_raw_call(base_url: str) -> tuple[Call, Any]:
    from qwen_lsp.model.transports import TRANSPORTS

    sdk, client = sdk_client(base_url)
    decode = TRANSPORTS["completions"].decode

    async def call() -> str:
        parts = []
        context = sdk.completions.with_streaming_response.create(
            model="m", prompt=PROMPT, max_tokens=64, stream=True
        )
        async with context as answer:
            lines = answer.http_response.aiter_lines()
            async for line in lines:
                event = decode(line)
                if event is not None:
                    parts.append(event.text)
                    if event.end:
                        break
            async for _ in lines:
                pass
        return "".join(parts)

    return call, client.aclose


def sdk_typed_call(base_url: str) -> tuple[Call, Any]:
    sdk, client = sdk_client(base_url)

    async def call() -> str:
        stream = await sdk.completions.create(model="m", prompt=PROMPT, max_tokens=64, stream=True)
        return "".join([chunk.choices[0].text async for chunk in stream if chunk.choices])

    return call, client.aclose


PATHS: dict[str, Callable[[str], tuple[Call, Any]]] = {
    "model client (httpx), /completions": model_client_call,
    "plain httpx loop, /completions": plain_httpx_call,
    "openai SDK + raw streaming response, /completions": sdk_raw_call,
    "openai SDK typed stream, /completions": sdk_typed_call,
    "model client, action chat via the SDK": lambda url: model_client_call(url, "action"),
    "model client, stops at the line break (connection closed)": lambda url: model_client_call(
        url, stop_early=True
    ),
}


def load_baseline(tree: str) -> str:
    """Import another source tree's ``qwen_lsp`` as the package ``qwen_lsp_baseline``."""
    root = Path(tree) / "server" / "qwen_lsp"
    spec = importlib.util.spec_from_file_location(
        "qwen_lsp_baseline", root / "__init__.py", submodule_search_locations=[str(root)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["qwen_lsp_baseline"] = module
    spec.loader.exec_module(module)
    return "qwen_lsp_baseline"


def main() -> None:
    paths = dict(PATHS)
    if tree := os.environ.get("QWEN_LSP_BASELINE"):
        package = load_baseline(tree)
        paths["previous model client (its own HTTP/1.1 client)"] = lambda url: model_client_call(
            url, package=package
        )
        paths["previous model client, stops at the line break"] = lambda url: model_client_call(
            url, package=package, stop_early=True
        )

    async def run() -> dict[str, tuple[dict[str, float], bool]]:
        with FakeOpenAI.run_in_thread(default=ANSWER) as fake:
            calls, closers, reused = {}, [], {}
            for name, make in paths.items():
                calls[name], close = make(fake.base_url)
                closers.append(close)
                await calls[name]()
                before = fake.connections_opened
                await calls[name]()  # over the first call's connection, if reuse works
                reused[name] = fake.connections_opened == before
            try:
                times = await timed(calls)
            finally:
                for close in closers:
                    await close()
        return {name: (summary_ms(times[name]), reused[name]) for name in paths}

    results = asyncio.run(run())
    load = os.getloadavg()
    rows = [
        [name, s["n"], s["p50"], s["p95"], s["mean"], "yes" if reused else "no"]
        for name, (s, reused) in results.items()
    ]
    text = (
        f"One streamed completion (20 KB prompt, 3-chunk answer) against the scripted endpoint "
        f"on its own thread in the same process, {RUNS} requests per path after {WARMUP} "
        f"warm-up, the paths taking turns request by request (so load changes hit them "
        f"alike). *Reuse*: the path's second request went over its first connection (a stream "
        f"stopped early closes its connection on purpose: the server must see it). "
        f"Load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.\n\n"
        + table(["path", "n", "p50 ms", "p95 ms", "mean ms", "reuse"], rows)
    )
    write_section("model_http", "Model HTTP paths: one streamed call", text)
    print(text)


if __name__ == "__main__":
    main()
