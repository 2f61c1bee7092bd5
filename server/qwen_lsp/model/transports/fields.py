"""Reading streamed payloads defensively: every shape a transport relies on is checked, and any
payload it cannot use is a ``protocol`` error (never a TypeError or RecursionError escaping).

Optional metadata (usage, timings) with unexpected types is dropped, not an error: a server
with odd counters still answers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ModelError
from ..request import ServerTimings, Usage

DONE = object()  # the SSE ``data: [DONE]`` line
SHOWN_CHARS = 4096  # of a bad line kept in the error; shortened for display after redaction


@dataclass(frozen=True, slots=True)
class Event:
    """One decoded line of a stream."""

    text: str = ""
    end: bool = False  # the server's end of the answer
    finish_reason: str | None = None
    usage: Usage | None = None
    timings: ServerTimings | None = None


END = Event(end=True)


def loads(data: str) -> Any:
    """JSON, or a protocol error (malformed, or nested past what the parser can hold)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise ModelError("protocol", f"stream line is not JSON: {data[:SHOWN_CHARS]!r}") from None


def sse_data(line: str) -> Any:
    """One SSE line → the decoded JSON payload, ``DONE``, or None for lines to skip."""
    if not line.startswith("data:"):
        return None  # blank separator, comment (keep-alive), event:, id:, retry:
    data = line[5:].strip()
    if data == "[DONE]":
        return DONE
    if not data:
        return None
    payload = loads(data)
    if payload is None:  # "data: null": nothing a transport can use
        raise ModelError("protocol", "stream payload is null")
    return payload


def sse_decoder(event_of: Callable[[Any], Event]) -> Callable[[str], Event | None]:
    """A transport's ``decode`` for server-sent events: lines that carry nothing are None,
    ``[DONE]`` ends the answer, every payload goes to ``event_of``."""

    def decode(line: str) -> Event | None:
        payload = sse_data(line)
        if payload is None:
            return None
        return END if payload is DONE else event_of(payload)

    return decode


def json_object_line(line: str) -> dict[str, Any] | None:
    """One NDJSON line → its object; None for a blank line."""
    line = line.strip()
    if not line:
        return None
    return object_of(loads(line), "stream line")


def object_of(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelError("protocol", f"{what} is {_a(value)}, not an object")
    return value


def text_of(payload: dict[str, Any], name: str) -> str:
    """A text field: a string, or absent / null (no text in this piece)."""
    value = payload.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ModelError("protocol", f"stream field {name!r} is {_a(value)}, not text")
    return value


def reason_of(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ModelError("protocol", f"stream field {name!r} is {_a(value)}, not text")
    return value


def raise_for_error(payload: dict[str, Any]) -> None:
    """Some servers report failures inside a 200 stream as ``{"error": ...}``."""
    error = payload.get("error")
    if not error:
        return
    message = error.get("message") if isinstance(error, dict) else error
    text = message if isinstance(message, str) else f"({_a(message)})"
    raise ModelError("server", f"error in stream: {text[:SHOWN_CHARS]}")


def flag_of(payload: dict[str, Any], name: str) -> bool:
    """A true/false field; absent or null is false."""
    value = payload.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ModelError("protocol", f"stream field {name!r} is {_a(value)}, not true/false")
    return value


def count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def millis(value: Any, scale: float = 1.0) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    ms = float(value) * scale
    return ms if math.isfinite(ms) and ms >= 0 else None


def usage_of(payload: dict[str, Any]) -> Usage | None:
    """OpenAI's ``usage`` object, when present and well formed."""
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    found = Usage(count(usage.get("prompt_tokens")), count(usage.get("completion_tokens")))
    return found if found != Usage() else None


def llamacpp_timings(payload: dict[str, Any]) -> ServerTimings | None:
    """llama.cpp's ``timings`` (on /infill, /completion and its OpenAI routes)."""
    timings = payload.get("timings")
    if not isinstance(timings, dict):
        return None
    found = ServerTimings(
        prompt_tokens=count(timings.get("prompt_n")),
        prompt_ms=millis(timings.get("prompt_ms")),
        cached_tokens=count(timings.get("cache_n")),
        predicted_tokens=count(timings.get("predicted_n")),
        predicted_ms=millis(timings.get("predicted_ms")),
    )
    return found if found != ServerTimings() else None


def _a(value: Any) -> str:
    """What a JSON value is, in words ("a number", "a list"): never its (maybe huge) text."""
    names = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list"}
    return names.get(type(value), "null" if value is None else "an object")
