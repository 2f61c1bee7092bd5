"""The four request shapes, one module each: ``build(request, model) -> (path, body)`` and
``decode(line) -> Event | None`` (None: a line that carries nothing, e.g. an SSE comment).

A path is joined under ``base_url`` or, for ``ON_ROOT`` transports, under the server root
(``base_url`` without a trailing ``/v1``); see ``model/urls.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..request import GenerationRequest, TransportName
from . import llamacpp_infill, ollama_generate, openai_chat, openai_completions
from .fields import Event


@dataclass(frozen=True)
class Transport:
    name: TransportName
    build: Callable[[GenerationRequest, str], tuple[str, dict[str, Any]]]
    decode: Callable[[str], Event | None]
    on_root: bool


TRANSPORTS: dict[TransportName, Transport] = {
    name: Transport(name, module.build, module.decode, module.ON_ROOT)
    for name, module in (
        ("completions", openai_completions),
        ("chat", openai_chat),
        ("infill", llamacpp_infill),
        ("ollama", ollama_generate),
    )
}

__all__ = ["TRANSPORTS", "Event", "Transport"]
