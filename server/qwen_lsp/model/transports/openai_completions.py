"""OpenAI ``POST {base_url}/completions``: the raw FIM prompt, streamed as server-sent events.

vLLM, SGLang, LM Studio, llama-cpp-python, DashScope's qwen2.5-coder models. Each event carries
``choices[0].text``; the last one ``finish_reason``; some servers add ``usage`` (vLLM with
``stream_options``) or ``timings`` (llama.cpp); ``data: [DONE]`` ends the answer.
"""

from __future__ import annotations

from typing import Any

from ..errors import ModelError
from ..request import GenerationRequest
from .fields import (
    Event,
    llamacpp_timings,
    object_of,
    raise_for_error,
    reason_of,
    sse_decoder,
    text_of,
    usage_of,
)

PATH = "/completions"
ON_ROOT = False  # the path is under base_url


def build(request: GenerationRequest, model: str) -> tuple[str, dict[str, Any]]:
    body = {
        "model": model,
        "prompt": request.prompt,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stream": True,
        "stop": list(request.stop),
    }
    return PATH, {**body, **request.extra_body}


def first_choice(payload: Any) -> dict[str, Any] | None:
    """The first choice of a completions or chat chunk; None for a usage-only chunk."""
    payload = object_of(payload, "stream payload")
    raise_for_error(payload)
    choices = payload.get("choices")
    if not isinstance(choices, list):
        raise ModelError("protocol", "stream chunk without a choices list")
    if not choices:
        return None
    return object_of(choices[0], "stream choice")


def metadata(payload: dict[str, Any], choice: dict[str, Any] | None, text: str) -> Event:
    return Event(
        text,
        finish_reason=reason_of(choice, "finish_reason") if choice is not None else None,
        usage=usage_of(payload),
        timings=llamacpp_timings(payload),
    )


def _event(payload: Any) -> Event:
    choice = first_choice(payload)
    return metadata(payload, choice, text_of(choice, "text") if choice is not None else "")


decode = sse_decoder(_event)
