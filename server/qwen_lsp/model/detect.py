"""Recognise the kind of model server behind the base URL and pick the transport for it.

Servers differ in how they take a fill-in-the-middle request:
- llama.cpp's own server (``llama-server``): ``/infill`` builds the model's FIM/repo prompt itself
  from ``input_prefix``/``input_suffix``/``input_extra`` and keeps a prompt cache;
- llama-cpp-python's server (``python -m llama_cpp.server``) is a different program with no
  ``/infill`` and no ``/props``: raw FIM prompt on ``/v1/completions`` (it reuses the KV cache of
  the longest shared prompt start by itself);
- vLLM, SGLang, LM Studio: raw FIM prompt on ``/v1/completions``;
- Ollama: raw prompt on ``/api/generate`` (its OpenAI layer may apply a chat template);
- DashScope (Model Studio) compatible mode: raw FIM on ``/completions`` only for the
  qwen2.5-coder family and qwen-coder-turbo; other models (e.g. qwen3-coder-plus) through chat.

A URL heuristic gives an answer at once; a short probe (a few GETs in parallel, 3 s at most)
confirms it. An explicit ``endpoint.transport`` always decides the transport; the probe still
names the server so ``doctor`` can warn about a mismatch.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlparse

from ..redaction import mask_url
from ..settings import EndpointSettings
from .client import endpoint_redactor, redirect_error
from .errors import ModelError
from .http import HttpClient, StatusAnswer
from .request import TransportName
from .urls import BaseUrl, join_url

ServerKind = Literal[
    "llamacpp",
    "llama-cpp-python",
    "ollama",
    "vllm",
    "sglang",
    "lmstudio",
    "dashscope",
    "openai",
    "unknown",
]
Source = Literal["settings", "url", "probe"]

KIND_LABELS: dict[ServerKind, str] = {
    "llamacpp": "llama.cpp server (llama-server)",
    "llama-cpp-python": "llama-cpp-python server",
    "ollama": "Ollama",
    "vllm": "vLLM",
    "sglang": "SGLang",
    "lmstudio": "LM Studio",
    "dashscope": "DashScope / Model Studio (compatible mode)",
    "openai": "OpenAI",
    "unknown": "an OpenAI-compatible server",
}

# Hosted chat models without raw FIM anywhere: they go through chat.
CHAT_ONLY_MODELS = re.compile(
    r"^(qwen3-coder-(plus|flash)|qwen-coder-plus|qwen[\d.]*-(max|plus|turbo|flash)|qwq|gpt-|o\d)",
    re.I,
)
# Models that DashScope serves on its Completions (FIM) API.
DASHSCOPE_FIM_MODELS = re.compile(r"^(qwen2\.5-coder|qwen-coder-turbo)", re.I)
PROBE_TIMEOUT_S = 3.0


@dataclass
class Detection:
    kind: ServerKind
    transport: TransportName
    source: Source
    notes: list[str] = field(default_factory=list)
    reachable: bool | None = None  # None: not probed
    models: list[str] | None = None  # ids from GET /models, when it answered

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def describe(self) -> str:
        how = {"settings": "set in settings", "url": "guessed from the URL", "probe": "probed"}
        silent = ", not answering" if self.reachable is False else ""
        return f"{self.label}, transport {self.transport!r} ({how[self.source]}{silent})"


@dataclass
class ProbeResult:
    """Raw answers of the probe GETs; None where a GET failed or was not sent."""

    models: Any = None
    models_status: int | None = None
    props: Any = None
    ollama_version: Any = None
    openapi: Any = None
    v1_models_status: int | None = None  # /v1/models, tried when base_url lacks /v1
    connect_error: str = ""
    redirect: str = ""  # what GET /models said when it answered with a redirect


def transport_for(kind: ServerKind, model: str) -> TransportName:
    """The best FIM transport for a server kind and model name."""
    if kind == "dashscope":
        return "completions" if DASHSCOPE_FIM_MODELS.match(model) else "chat"
    if CHAT_ONLY_MODELS.match(model):
        return "chat"
    if kind == "llamacpp":
        return "infill"
    if kind == "ollama":
        return "ollama"
    return "completions"


def _host_port_path(url: str) -> tuple[str, int | None, str]:
    try:
        parsed = urlparse(url)
        return (parsed.hostname or "").lower(), parsed.port, parsed.path
    except ValueError:  # malformed (e.g. a bad port): the request itself will say so
        return "", None, ""


def kind_from_url(url: str) -> ServerKind:
    host, port, path = _host_port_path(url)
    if "dashscope" in host or "compatible-mode" in path:
        return "dashscope"
    if port == 11434 or "ollama" in host:
        return "ollama"
    if port == 1234:
        return "lmstudio"
    if host == "api.openai.com":
        return "openai"
    return "unknown"


def guess_from_url(endpoint: EndpointSettings) -> Detection:
    """Instant guess from the URL alone (no network)."""
    kind = kind_from_url(endpoint.base_url)
    if endpoint.transport != "auto":
        return Detection(kind, endpoint.transport, "settings")
    return Detection(kind, transport_for(kind, endpoint.model), "url")


def kind_from_models(models: list[Any]) -> ServerKind | None:
    """Servers leave a fingerprint in the ``owned_by`` of their model list."""
    owners = {str(m.get("owned_by", "")).lower() for m in models if isinstance(m, dict)}
    for owner, kind in (
        ("llamacpp", "llamacpp"),
        ("vllm", "vllm"),
        ("sglang", "sglang"),
        ("organization_owner", "lmstudio"),
        ("library", "ollama"),
        ("ollama", "ollama"),
    ):
        if owner in owners:
            return kind  # type: ignore[return-value]
    return None


def _model_ids(models: Any) -> list[str] | None:
    data = models.get("data") if isinstance(models, dict) else None
    if not isinstance(data, list):
        return None
    return [str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id")]


def classify(probe: ProbeResult, url_kind: ServerKind) -> tuple[ServerKind, list[str]]:
    """Decide the server kind from probe answers (pure: unit-tested on recorded shapes)."""
    props, version, openapi = probe.props, probe.ollama_version, probe.openapi
    title = str(openapi.get("info", {}).get("title", "")) if isinstance(openapi, dict) else ""
    data = probe.models.get("data") if isinstance(probe.models, dict) else None
    llama_props = ("default_generation_settings", "build_info")
    if isinstance(props, dict) and any(key in props for key in llama_props):
        return "llamacpp", ["/props answered: llama.cpp's server, /infill with input_extra"]
    if "llama.cpp python" in title.lower():
        return "llama-cpp-python", [
            "llama-cpp-python has no /infill: raw FIM prompts on /v1/completions "
            "(it reuses the KV cache of the shared prompt start by itself)"
        ]
    if isinstance(version, dict) and "version" in version:
        named = str(version["version"])[:40]  # the server's text: bounded
        return "ollama", [f"Ollama {named}: raw FIM prompts on /api/generate"]
    by_owner = kind_from_models(data) if isinstance(data, list) else None
    if by_owner:
        return by_owner, [f"recognised from the model list (owned_by of {by_owner})"]
    return url_kind, []


async def _get_json(http: HttpClient, url: str) -> tuple[int | None, Any, str]:
    """(status, JSON or None, connection error text or what a redirect said) of one GET."""
    try:
        return 200, await http.get_json(url, PROBE_TIMEOUT_S), ""
    except StatusAnswer as answer:
        if 300 <= answer.status < 400:
            return answer.status, None, redirect_error(answer.status, answer.redirect_target).detail
        return answer.status, None, ""
    except ModelError as error:
        if error.kind == "protocol":  # it answered, but not JSON
            return 200, None, ""
        return None, None, str(error)
    except Exception as exc:  # detection is an optimisation: never fatal
        return None, None, f"{type(exc).__name__}: {exc}"


async def probe(endpoint: EndpointSettings, url_kind: ServerKind) -> ProbeResult:
    base = BaseUrl.parse(endpoint.base_url)
    # Hosted APIs are known from their URL: only check that /models answers.
    local = url_kind not in ("dashscope", "openai")
    urls = [base.join("/models")]
    if local:
        urls += [base.join(p, on_root=True) for p in ("/props", "/api/version", "/openapi.json")]
    http = HttpClient(endpoint)
    try:
        answers = await asyncio.gather(*(_get_json(http, url) for url in urls))
        result = ProbeResult(models_status=answers[0][0], models=answers[0][1])
        if result.models_status is None:
            result.connect_error = answers[0][2]
        else:
            result.redirect = answers[0][2]
        if local:
            result.props, result.ollama_version, result.openapi = (a[1] for a in answers[1:])
        if result.models_status == 404 and not base.path.endswith("/v1"):
            v1_models = join_url(endpoint.base_url, "/v1/models")
            result.v1_models_status = (await _get_json(http, v1_models))[0]
    finally:
        await http.aclose()
    return result


def probe_notes(result: ProbeResult, endpoint: EndpointSettings) -> list[str]:
    notes = []
    if result.v1_models_status == 200:
        models = mask_url(join_url(endpoint.base_url, "/models"))
        v1_models = mask_url(join_url(endpoint.base_url, "/v1/models"))
        notes.append(
            f"{models} is not found but {v1_models} is: "
            "endpoint.base_url should probably end in /v1"
        )
    elif result.redirect:
        notes.append(f"GET /models was {result.redirect}")
    elif result.models_status in (401, 403):
        notes.append(f"GET /models was refused (HTTP {result.models_status}): check the API key")
    elif result.models_status is not None and result.models_status != 200:
        notes.append(f"GET /models answered HTTP {result.models_status}")
    if _host_port_path(endpoint.base_url)[0] == "dashscope-intl.aliyuncs.com":
        notes.append(
            "Model Studio documents its Completions (FIM) API for the China (Beijing) region; "
            'if FIM fails here, set endpoint.transport = "chat"'
        )
    return notes


async def detect_endpoint(endpoint: EndpointSettings) -> Detection:
    """Probe the server and decide the transport (settings win when not "auto")."""
    guess = guess_from_url(endpoint)
    redact = endpoint_redactor(endpoint)
    result = await probe(endpoint, guess.kind)
    if result.models_status is None and result.connect_error:
        guess.reachable = False
        where = mask_url(endpoint.base_url)
        guess.notes.append(f"nothing answered at {where} ({redact(result.connect_error)})")
        return guess
    kind, notes = classify(result, guess.kind)
    notes += probe_notes(result, endpoint)
    transport: TransportName
    source: Source
    if endpoint.transport != "auto":
        transport, source = endpoint.transport, "settings"
        best = transport_for(kind, endpoint.model)
        if best != transport:
            notes.append(
                f"endpoint.transport = {transport!r} overrides the detected choice {best!r}"
            )
    else:
        transport, source = transport_for(kind, endpoint.model), "probe"
        if transport == "chat":
            notes.append(f"model {endpoint.model!r} has no raw FIM here: completions go via chat")
    notes = [redact(note) for note in notes]
    return Detection(
        kind, transport, source, notes, reachable=True, models=_model_ids(result.models)
    )
