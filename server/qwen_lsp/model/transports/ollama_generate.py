"""Ollama's ``POST {root}/api/generate`` with ``raw: true``: the FIM prompt as is (its OpenAI
layer would wrap it in a chat template).

One JSON object a line (NDJSON): ``response`` holds the text; the last has ``done: true``,
``done_reason`` and the counts and durations (nanoseconds) of its work.
"""

from __future__ import annotations

from typing import Any

from ..request import GenerationRequest, ServerTimings, Usage
from .fields import (
    Event,
    count,
    flag_of,
    json_object_line,
    millis,
    raise_for_error,
    reason_of,
    text_of,
)

PATH = "/api/generate"
ON_ROOT = True
NS = 1e-6  # nanoseconds → milliseconds


def build(request: GenerationRequest, model: str) -> tuple[str, dict[str, Any]]:
    body = {
        "model": model,
        "prompt": request.prompt,
        "raw": True,
        "stream": True,
        "options": {
            "num_predict": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stop": list(request.stop),
        },
    }
    return PATH, {**body, **request.extra_body}


def decode(line: str) -> Event | None:
    payload = json_object_line(line)
    if payload is None:
        return None
    raise_for_error(payload)
    text = text_of(payload, "response")
    if not flag_of(payload, "done"):
        return Event(text)
    prompt_n = count(payload.get("prompt_eval_count"))
    predicted_n = count(payload.get("eval_count"))
    timings = ServerTimings(
        prompt_tokens=prompt_n,
        prompt_ms=millis(payload.get("prompt_eval_duration"), NS),
        predicted_tokens=predicted_n,
        predicted_ms=millis(payload.get("eval_duration"), NS),
    )
    usage = Usage(prompt_n, predicted_n)
    return Event(
        text,
        end=True,
        finish_reason=reason_of(payload, "done_reason") or "stop",
        usage=usage if usage != Usage() else None,
        timings=timings if timings != ServerTimings() else None,
    )
