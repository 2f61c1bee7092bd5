"""End to end, per transport: the real server over stdio against each flavour of scripted endpoint.

The server probes the endpoint after ``initialized``; each test waits for the "endpoint:" log line
so the request goes out over the detected transport, then checks what the endpoint was sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.support.fake_openai import FakeOpenAI, RecordedRequest, Reply
from tests.support.lsp_session import Session, start_session

SOURCE = "from util import scale\n\n\ndef add(a, b):\n    return \n\nprint(add(1, 2))\n"
UTIL = "def scale(value: int, factor: int) -> int:\n    return value * factor\n"
PREFIX = "from util import scale\n\n\ndef add(a, b):\n    return "
SUFFIX = "\n\nprint(add(1, 2))\n"
FIM_PROMPT = f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>"


@asynccontextmanager
async def serve(
    flavor: str, model: str, tmp_path: Path, prompt_format: str = "file", **endpoint: Any
) -> AsyncIterator[tuple[FakeOpenAI, Session]]:
    """A fake of ``flavor`` answering "a + b", and a session whose endpoint probe has finished."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "util.py").write_text(UTIL)
    options = {
        "endpoint": {"model": model, **endpoint},
        "completion": {"promptFormat": prompt_format},
    }
    async with (
        FakeOpenAI(flavor=flavor, default=Reply(text="a + b")) as fake,
        start_session(fake.base_url, options, root=root) as session,
    ):
        await session.wait_until(lambda: any(m.startswith("endpoint:") for m in session.logs()))
        yield fake, session


async def complete(session: Session, fake: FakeOpenAI) -> tuple[str | None, RecordedRequest]:
    uri = session.open("calc.py", SOURCE)
    text = await session.ghost_text(uri, 4, 11)
    (request,) = [r for r in fake.requests if r.generation]
    return text, request


async def extra_context_once_indexed(session: Session, fake: FakeOpenAI) -> list[Any]:
    """``input_extra`` of the first request sent after the workspace index knows util.py (it
    is built in the background): keep typing at the cursor, one request per keystroke."""
    uri = session.uri("calc.py")
    for typed in range(40):
        extra = [r for r in fake.requests if r.generation][-1].json["input_extra"]
        if extra:
            return extra
        await asyncio.sleep(0.1)
        session.change(uri, (4, 11 + typed), (4, 11 + typed), "x")  # no prefix of "a + b"
        await session.inline(uri, 4, 12 + typed)
    return []


async def test_llama_server_gets_infill_with_extra_context_and_cache_prompt(tmp_path: Path):
    model = "qwen2.5-coder-1.5b-q8_0.gguf"
    async with serve("llamacpp", model, tmp_path, prompt_format="auto") as (fake, lsp):
        assert "llama.cpp server (llama-server), transport 'infill'" in "".join(lsp.logs())
        text, request = await complete(lsp, fake)
        extra = await extra_context_once_indexed(lsp, fake)
    assert text == "a + b"
    assert request.path == "/infill"
    body = request.json
    assert body["input_prefix"] == PREFIX
    assert body["input_suffix"] == SUFFIX
    assert body["cache_prompt"] is True
    assert body["stream"] is True
    assert body["n_predict"] > 0
    assert isinstance(body["input_extra"], list)
    # The definition of `scale` from the workspace goes as extra context, not into the prefix.
    assert {"filename": "util.py", "text": UTIL} in extra
    assert "prompt" not in body  # llama-server builds the FIM prompt itself


async def test_ollama_gets_a_raw_fim_prompt_on_api_generate(tmp_path: Path):
    async with serve("ollama", "qwen2.5-coder:1.5b", tmp_path) as (fake, lsp):
        text, request = await complete(lsp, fake)
    assert text == "a + b"
    assert request.path == "/api/generate"
    body = request.json
    assert body["raw"] is True  # no chat template around the FIM tokens
    assert body["prompt"] == FIM_PROMPT
    assert body["model"] == "qwen2.5-coder:1.5b"
    assert body["stream"] is True
    assert body["options"]["num_predict"] > 0
    assert "<|endoftext|>" in body["options"]["stop"]


async def test_vllm_gets_a_raw_fim_prompt_on_v1_completions(tmp_path: Path):
    async with serve("vllm", "Qwen/Qwen2.5-Coder-1.5B", tmp_path) as (fake, lsp):
        text, request = await complete(lsp, fake)
    assert text == "a + b"
    assert request.path == "/v1/completions"
    assert request.json["prompt"] == FIM_PROMPT
    assert "suffix" not in request.json  # vLLM has no suffix parameter


async def test_lm_studio_gets_a_raw_fim_prompt(tmp_path: Path):
    async with serve("lmstudio", "qwen2.5-coder-1.5b-instruct", tmp_path) as (fake, lsp):
        assert "LM Studio" in "".join(lsp.logs())
        text, request = await complete(lsp, fake)
    assert (text, request.path) == ("a + b", "/v1/completions")


async def test_dashscope_fim_model_gets_completions(tmp_path: Path):
    async with serve("dashscope", "qwen2.5-coder-7b-instruct", tmp_path) as (fake, lsp):
        text, request = await complete(lsp, fake)
    assert text == "a + b"
    assert request.path == "/compatible-mode/v1/completions"
    assert request.json["prompt"] == FIM_PROMPT


async def test_dashscope_chat_model_gets_chat(tmp_path: Path):
    async with serve("dashscope", "qwen3-coder-plus", tmp_path) as (fake, lsp):
        text, request = await complete(lsp, fake)
    assert text == "a + b"
    assert request.path == "/compatible-mode/v1/chat/completions"
    messages = request.json["messages"]
    assert messages[0]["role"] == "system"
    assert "prompt" not in request.json


async def test_explicit_transport_overrides_detection(tmp_path: Path):
    async with serve("llamacpp", "qwen2.5-coder", tmp_path, transport="completions") as (fake, lsp):
        text, request = await complete(lsp, fake)
    assert text == "a + b"
    assert request.path == "/v1/completions"
    assert request.json["prompt"] == FIM_PROMPT
