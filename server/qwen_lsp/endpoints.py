"""Recognise the kind of model server behind the base URL and pick the transport for it.

Servers differ in how they take a fill-in-the-middle request:
- llama.cpp server: ``/infill`` (builds the model's FIM/repo prompt itself, keeps a prompt cache)
  and raw prompts on ``/v1/completions``;
- vLLM, SGLang, LM Studio: raw FIM prompt on ``/v1/completions``;
- Ollama: raw prompt on ``/api/generate`` (its OpenAI layer may apply a template);
- DashScope compatible mode: raw FIM on ``/completions`` only for the qwen2.5-coder family,
  otherwise chat.
A URL heuristic gives an answer at once; a short probe confirms it in the background. An explicit
``endpoint.transport`` always wins.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlparse

import httpx

from .model.client import TransportName, build_http_client
from .settings import EndpointSettings

ServerKind = Literal[
    "llamacpp", "ollama", "vllm", "sglang", "lmstudio", "dashscope", "openai", "unknown"
]

# Models that are known to have no FIM on their provider: chat only.
CHAT_ONLY_MODELS = re.compile(
    r"^(qwen3-coder-(plus|flash)|qwen-coder-(plus|turbo)|qwen-(max|plus|turbo)|qwq|gpt-)", re.I
)
FIM_FAMILY = re.compile(r"qwen2\.5-coder|qwen3-coder(?!-(plus|flash))|codeqwen", re.I)


@dataclass
class Detection:
    kind: ServerKind
    transport: TransportName
    source: str  # "settings", "url", "probe"
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.kind} (transport {self.transport!r}, from {self.source})"


def default_transport(kind: ServerKind, model: str) -> TransportName:
    if kind == "dashscope":
        return "completions" if re.match(r"qwen2\.5-coder", model, re.I) else "chat"
    if CHAT_ONLY_MODELS.match(model):
        return "chat"
    if kind == "llamacpp":
        return "infill"
    if kind == "ollama":
        return "ollama"
    return "completions"


def guess_from_url(endpoint: EndpointSettings) -> Detection:
    """Instant guess from the URL alone (no network)."""
    if endpoint.transport != "auto":
        return Detection(_kind_from_url(endpoint.base_url), endpoint.transport, "settings")
    kind = _kind_from_url(endpoint.base_url)
    return Detection(kind, default_transport(kind, endpoint.model), "url")


def _kind_from_url(url: str) -> ServerKind:
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if "dashscope" in host or "compatible-mode" in parsed.path:
        return "dashscope"
    if parsed.port == 11434 or "ollama" in host:
        return "ollama"
    if parsed.port == 1234:
        return "lmstudio"
    if "openai.com" in host:
        return "openai"
    return "unknown"


def kind_from_models(models: list[Any]) -> ServerKind | None:
    owners = {str(m.get("owned_by", "")).lower() for m in models if isinstance(m, dict)}
    if "llamacpp" in owners:
        return "llamacpp"
    if "vllm" in owners:
        return "vllm"
    if "sglang" in owners:
        return "sglang"
    if "organization_owner" in owners:
        return "lmstudio"
    if "library" in owners or "ollama" in owners:
        return "ollama"
    return None


async def _get_json(http: httpx.AsyncClient, url: str) -> Any:
    try:
        response = await http.get(url, timeout=3.0)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


async def detect_endpoint(endpoint: EndpointSettings) -> Detection:
    """Probe the server (a few cheap GETs, 3 s each at most) and decide the transport."""
    guess = guess_from_url(endpoint)
    if guess.source == "settings":
        guess.notes.append("transport set explicitly in settings (endpoint.transport)")
        return guess
    base = endpoint.base_url.rstrip("/")
    root = re.sub(r"/v1$", "", base)
    async with build_http_client(endpoint) as http:
        models_task = asyncio.ensure_future(_get_json(http, f"{base}/models"))
        props_task = asyncio.ensure_future(_get_json(http, f"{root}/props"))
        version_task = asyncio.ensure_future(_get_json(http, f"{root}/api/version"))
        models_json, props, ollama_version = await asyncio.gather(
            models_task, props_task, version_task
        )
    models = models_json.get("data", []) if isinstance(models_json, dict) else []
    kind: ServerKind | None = None
    notes: list[str] = []
    if isinstance(props, dict) and (
        "default_generation_settings" in props or "build_info" in props
    ):
        kind = "llamacpp"
        notes.append("llama.cpp server: /infill with extra context and cache_prompt")
    elif isinstance(ollama_version, dict) and "version" in ollama_version:
        kind = "ollama"
        notes.append(f"Ollama {ollama_version['version']}: raw prompts on /api/generate")
    else:
        kind = kind_from_models(models)
    if kind is None:
        kind = guess.kind
    if models_json is None:
        notes.append("GET /models did not answer; transport chosen from the URL")
    transport = default_transport(kind, endpoint.model)
    if transport == "chat":
        notes.append(f"model {endpoint.model!r} is used through chat (no raw FIM on this provider)")
    return Detection(kind, transport, "probe", notes)
