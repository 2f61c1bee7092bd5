"""What to generate (``GenerationRequest``) and how an answer ended (``StreamOutcome``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TransportName = Literal["completions", "chat", "infill", "ollama"]
# Who asks: inline completions sit on the typing path; actions wait seconds for a long answer;
# doctor checks what completions will do. Action chat goes through the openai SDK.
Purpose = Literal["completion", "action", "check"]


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate. ``prompt`` feeds raw-prompt transports, ``messages`` the chat transport."""

    prompt: str = ""
    messages: tuple[dict[str, str], ...] = ()
    max_tokens: int = 64
    temperature: float = 0.1
    top_p: float = 0.95
    stop: tuple[str, ...] = ()
    model: str = ""
    # llama.cpp /infill and Ollama take the FIM parts separately.
    prefix: str = ""
    suffix: str = ""
    extra_context: tuple[tuple[str, str], ...] = ()  # (path, text) for /infill input_extra
    timeout_s: float | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    purpose: Purpose = "completion"


@dataclass(frozen=True)
class Usage:
    """Token counts the server reported (OpenAI ``usage``, llama.cpp and Ollama counters)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class ServerTimings:
    """The server's own account of its work (llama.cpp ``timings``, Ollama durations)."""

    prompt_tokens: int | None = None  # evaluated (not served from the prompt cache)
    prompt_ms: float | None = None
    cached_tokens: int | None = None  # llama.cpp ``cache_n``
    predicted_tokens: int | None = None
    predicted_ms: float | None = None


@dataclass
class StreamOutcome:
    """How one streamed answer ended, filled in while it streams.

    ``finish_reason``: the server's ("stop", "length", or another word it used), ``"cap"`` when
    this client cut a runaway answer at its size limit, or None when the stream ended without
    one: the reader stopped early, or the server closed the stream with no reason given (e.g.
    llama-cpp-python's ``[DONE]`` after it interrupted a request) — treat that answer as
    possibly truncated. ``complete`` is True when the server's end-of-answer marker was read.
    Times are seconds from sending the request: ``ttfb_s`` to the response head, ``ttft_s`` to
    the first text, ``total_s`` to the end of the answer (or of reading it).
    """

    finish_reason: str | None = None
    complete: bool = False
    usage: Usage | None = None
    timings: ServerTimings | None = None
    ttfb_s: float | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    chunks: int = 0  # pieces of text received
    chars: int = 0


@dataclass(frozen=True)
class Answer:
    text: str
    outcome: StreamOutcome
