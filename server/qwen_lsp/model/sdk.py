"""The ``openai`` SDK on the endpoint's own HTTP client, for the OpenAI routes where its cost
does not show: the chat requests of code actions and the model list.

The SDK builds and sends the request (URL, headers, JSON, its typed model list); the chat answer
comes back as a raw streaming response that ``model/client.py`` reads like any other, so the
connection is drained and reused after ``[DONE]`` (the SDK's own stream reader closes it) and a
runaway answer is capped the same way. Importing the SDK takes about a second (pydantic), so it
is imported on first use, in a worker thread, never at start-up.

The SDK gets ``base_url`` without its query (the query goes in ``default_query``: the SDK would
otherwise append paths after it), no retries (the model client has its own backoff) and, when no
API key is set, no ``Authorization`` header at all.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import Any
from urllib.parse import parse_qsl

import httpx

from ..settings import EndpointSettings
from .http import HttpClient, request_headers
from .request import GenerationRequest
from .transports import openai_chat

CHAT_PATH = openai_chat.PATH
MODELS_TIMEOUT_S = 5.0
NO_KEY = "no-key"  # the SDK insists on a key; its header is omitted per request instead


async def make_client(http: HttpClient, endpoint: EndpointSettings) -> Any:
    """The SDK client on ``http``'s httpx client, built in a worker thread: importing the SDK,
    its resource modules and its platform headers takes about a second of Python work."""
    shared = await http.client()
    return await asyncio.to_thread(_build, http, endpoint, shared)


def _build(http: HttpClient, endpoint: EndpointSettings, shared: httpx.AsyncClient) -> Any:
    openai = importlib.import_module("openai")
    base = http.base
    client = openai.AsyncOpenAI(
        api_key=endpoint.api_key or NO_KEY,
        base_url=f"{base.origin}{base.path}",
        default_query=dict(parse_qsl(base.query, keep_blank_values=True)) or None,
        default_headers=request_headers(endpoint),
        http_client=shared,
        max_retries=0,
        timeout=httpx.Timeout(None, connect=endpoint.connect_timeout_s),
    )
    client.chat.completions.with_streaming_response  # noqa: B018 - loaded here, not on the loop
    return client


def _extra_headers(api_key: str) -> dict[str, Any] | None:
    if api_key:
        return None
    openai = importlib.import_module("openai")  # already imported by make_client
    return {"Authorization": openai.Omit()}


async def send_chat(
    client: Any, request: GenerationRequest, model: str, api_key: str
) -> httpx.Response:
    """POST /chat/completions through the SDK; the raw streaming response, head read."""
    arguments = openai_chat.arguments(request, model)
    arguments.pop("stream")
    context = client.chat.completions.with_streaming_response.create(
        **arguments,
        stream=True,
        extra_body=request.extra_body or None,
        extra_headers=_extra_headers(api_key),
    )
    api_response = await context.__aenter__()
    return api_response.http_response  # released by the caller (Body.close / drain)


async def list_models(http: HttpClient, client: Any, api_key: str) -> list[dict[str, Any]]:
    """GET /models through the SDK, entries as plain dicts (``id``, ``owned_by`` …)."""

    async def send() -> Any:
        return await client.models.list(extra_headers=_extra_headers(api_key))

    deadline = time.monotonic() + MODELS_TIMEOUT_S
    url = http.base.join("/models")
    page = await http.call(url, send, deadline=deadline, limit_name=f"{MODELS_TIMEOUT_S:g} s")
    return [model.model_dump() for model in page.data]
