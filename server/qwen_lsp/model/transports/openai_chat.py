"""OpenAI ``POST {base_url}/chat/completions``, streamed as server-sent events.

Models without raw FIM (DashScope's qwen3-coder-plus, qwen-max, gpt-*) and every code action.
Text arrives in ``choices[0].delta.content``; reasoning models stream their thoughts in other
fields, which are ignored. At most 4 stop strings (OpenAI-style APIs refuse more).
"""

from __future__ import annotations

from typing import Any

from ..request import GenerationRequest
from .fields import Event, object_of, sse_decoder, text_of
from .openai_completions import first_choice, metadata

PATH = "/chat/completions"
ON_ROOT = False
MAX_STOP = 4


def arguments(request: GenerationRequest, model: str) -> dict[str, Any]:
    """The request's fields in the chat API's terms (also the openai SDK's arguments)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": list(request.messages),
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stream": True,
    }
    if request.stop:
        body["stop"] = list(request.stop)[:MAX_STOP]
    return body


def build(request: GenerationRequest, model: str) -> tuple[str, dict[str, Any]]:
    return PATH, {**arguments(request, model), **request.extra_body}


def _event(payload: Any) -> Event:
    choice = first_choice(payload)
    text = ""
    if choice is not None:
        delta = choice.get("delta")
        if delta is None:
            delta = choice.get("message")  # some servers send whole messages
        if delta is not None:
            text = text_of(object_of(delta, "stream delta"), "content")
    return metadata(payload, choice, text)


decode = sse_decoder(_event)
