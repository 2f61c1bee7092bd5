"""llama.cpp's ``POST {root}/infill``: the FIM parts, not a prompt; llama-server builds the
model's own FIM / repo-level prompt from them and keeps its prompt cache (``cache_prompt``).

Server-sent events without ``[DONE]``: each carries ``content``; the last says ``stop: true``
with ``stop_type`` (``eos`` / ``word``: a natural end, ``limit``: n_predict reached),
``timings``, and token counts.
"""

from __future__ import annotations

from typing import Any

from ..request import GenerationRequest, Usage
from .fields import (
    Event,
    count,
    flag_of,
    llamacpp_timings,
    object_of,
    raise_for_error,
    reason_of,
    sse_decoder,
    text_of,
)

PATH = "/infill"
ON_ROOT = True  # under the server root: base_url without its /v1
FINISH = {"eos": "stop", "word": "stop", "limit": "length"}


def build(request: GenerationRequest, model: str) -> tuple[str, dict[str, Any]]:
    body = {
        "input_prefix": request.prefix,
        "input_suffix": request.suffix,
        "input_extra": [{"filename": p, "text": t} for p, t in request.extra_context],
        "n_predict": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stream": True,
        "cache_prompt": True,
        "stop": list(request.stop),
    }
    return PATH, {**body, **request.extra_body}


def _event(payload: Any) -> Event:
    payload = object_of(payload, "stream payload")
    raise_for_error(payload)
    text = text_of(payload, "content")
    if not flag_of(payload, "stop"):
        return Event(text)
    stop_type = reason_of(payload, "stop_type")
    usage = Usage(count(payload.get("tokens_evaluated")), count(payload.get("tokens_predicted")))
    return Event(
        text,
        end=True,
        finish_reason=FINISH.get(stop_type or "", stop_type if stop_type != "none" else None),
        usage=usage if usage != Usage() else None,
        timings=llamacpp_timings(payload),
    )


decode = sse_decoder(_event)
