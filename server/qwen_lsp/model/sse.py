"""Decoding streamed model answers: OpenAI server-sent events and NDJSON (Ollama)."""

from __future__ import annotations

import json
from typing import Any

from .errors import ModelError

DONE = object()


def parse_sse_data(line: str) -> Any:
    """One SSE line → the decoded JSON payload, ``DONE``, or None for lines to skip."""
    if not line or line.startswith(":"):
        return None  # blank separator or comment (keep-alive)
    if not line.startswith("data:"):
        return None  # event:, id:, retry: carry nothing we use
    data = line[5:].strip()
    if data == "[DONE]":
        return DONE
    if not data:
        return None
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        raise ModelError("protocol", f"stream line is not JSON: {data[:120]!r}") from None


def raise_for_payload_error(payload: Any) -> None:
    """Some servers report failures inside a 200 stream as ``{"error": ...}``."""
    if isinstance(payload, dict) and payload.get("error"):
        error = payload["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise ModelError("server", f"error in stream: {str(message)[:300]}")


def completion_delta(payload: Any) -> str:
    """Text delta from a /completions chunk or a /chat/completions chunk."""
    raise_for_payload_error(payload)
    if not isinstance(payload, dict):
        raise ModelError("protocol", f"unexpected stream payload {str(payload)[:120]!r}")
    choices = payload.get("choices")
    if not isinstance(choices, list):
        raise ModelError("protocol", "stream chunk without a choices list")
    if not choices:
        return ""  # usage-only chunks have no choices
    choice = choices[0]
    if not isinstance(choice, dict):
        raise ModelError("protocol", "stream choice is not an object")
    if "text" in choice:
        return choice.get("text") or ""
    delta = choice.get("delta") or choice.get("message") or {}
    if not isinstance(delta, dict):
        raise ModelError("protocol", "stream delta is not an object")
    # Reasoning models stream their thoughts separately; we only want the answer.
    return delta.get("content") or ""
