"""``qwen-lsp doctor``: check a setup end to end and explain problems in actionable words."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from .model.client import GenerationRequest, ModelClient
from .model.errors import ModelError
from .prompts.chat import fim_chat_messages
from .prompts.fim import STOP_TOKENS, file_level_prompt
from .settings import Settings, check_consistency, redacted

SAMPLE_PREFIX = "def fibonacci(n: int) -> int:\n    "
SAMPLE_SUFFIX = "\n\n\nprint(fibonacci(10))\n"


def run_doctor(
    settings: Settings,
    problems: Sequence[str],
    base_url: str | None = None,
    model: str | None = None,
    out: TextIO = sys.stdout,
) -> int:
    endpoint = settings.endpoint
    if base_url:
        endpoint = dataclasses.replace(endpoint, base_url=base_url)
    if model:
        endpoint = dataclasses.replace(endpoint, model=model)
    settings = dataclasses.replace(settings, endpoint=endpoint)
    return asyncio.run(_doctor(settings, problems, out))


def _say(out: TextIO, mark: str, text: str) -> None:
    print(f"{mark} {text}", file=out, flush=True)


async def _doctor(settings: Settings, problems: Sequence[str], out: TextIO) -> int:
    failures = 0
    _say(out, "·", "effective settings (secrets masked):")
    print(json.dumps(redacted(settings), indent=2), file=out)
    for problem in [*problems, *check_consistency(settings)]:
        _say(out, "✗", f"settings: {problem}")
        failures += 1
    from .endpoints import detect_endpoint

    detection = await detect_endpoint(settings.endpoint)
    _say(out, "·", f"endpoint: {detection.describe()}")
    for note in detection.notes:
        _say(out, " ", note)
    transport = detection.transport
    client = ModelClient(settings.endpoint, transport)
    try:
        try:
            models = await client.list_models()
            names = [str(m.get("id")) for m in models if isinstance(m, dict)]
            _say(
                out,
                "✓",
                f"GET /models: {len(names)} model(s): {', '.join(names[:8]) or '(none listed)'}",
            )
            if names and settings.endpoint.model not in names:
                _say(
                    out,
                    "!",
                    f"endpoint.model {settings.endpoint.model!r} is not in that list; "
                    "the request below will tell whether the server accepts it anyway",
                )
        except ModelError as error:
            _say(out, "!", f"GET /models failed: {error.user_message}")
        request = GenerationRequest(
            prompt=file_level_prompt(SAMPLE_PREFIX, SAMPLE_SUFFIX),
            messages=fim_chat_messages(SAMPLE_PREFIX, SAMPLE_SUFFIX, "python", "fib.py")
            if transport == "chat"
            else (),
            prefix=SAMPLE_PREFIX,
            suffix=SAMPLE_SUFFIX,
            max_tokens=48,
            temperature=0.0,
            stop=STOP_TOKENS,
        )
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        try:
            async for delta in client.stream(request):
                first = first or time.perf_counter()
                parts.append(delta)
        except ModelError as error:
            failures += 1
            _say(out, "✗", f"FIM request over {transport!r} failed: {error.user_message}")
        else:
            total = (time.perf_counter() - started) * 1000
            ttft = ((first or time.perf_counter()) - started) * 1000
            text = "".join(parts)
            mark = "✓" if text.strip() else "!"
            _say(
                out,
                mark,
                f"FIM request over {transport!r}: first token {ttft:.0f} ms, total {total:.0f} ms",
            )
            _say(
                out,
                " ",
                "completion: "
                + (
                    repr(text[:200])
                    if text
                    else "(empty — the model "
                    "returned nothing; is it a base/coder model that knows the FIM tokens?)"
                ),
            )
    finally:
        await client.aclose()
    _say(
        out,
        "✓" if not failures else "✗",
        "all checks passed" if not failures else f"{failures} problem(s) found",
    )
    return 0 if not failures else 1
