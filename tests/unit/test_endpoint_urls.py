"""Endpoint URL shapes against real servers on 127.0.0.1: a base URL with a query string gets
every path joined before its query (every transport, the probes, the SDK's routes), and a
redirect is reported as what happened — never followed, never "try another transport"."""

from __future__ import annotations

import pytest

from qwen_lsp.model.client import GenerationRequest, ModelClient, TransportName
from qwen_lsp.model.detect import detect_endpoint
from qwen_lsp.model.errors import ModelError
from qwen_lsp.settings import EndpointSettings
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.http_servers import Peer, RawServer, Seen, response

QUERY = "api-version=2024-06-01"


@pytest.mark.parametrize(
    ("flavor", "transport", "path"),
    [
        ("openai", "completions", "/v1/completions"),
        ("openai", "chat", "/v1/chat/completions"),
        ("llamacpp", "infill", "/infill"),
        ("ollama", "ollama", "/api/generate"),
    ],
)
async def test_paths_go_before_the_query(flavor: str, transport: TransportName, path: str) -> None:
    async with FakeOpenAI(flavor=flavor, default=Reply(text="a + b")) as fake:
        model = ModelClient(
            EndpointSettings(base_url=f"{fake.base_url}?{QUERY}", model="m"), transport
        )
        assert await model.complete(GenerationRequest(prompt="x", prefix="x")) == "a + b"
        await model.aclose()
    (request,) = fake.requests
    assert (request.path, request.query) == (path, QUERY)


async def test_the_sdk_routes_and_the_probes_keep_the_query_after_the_path() -> None:
    async with FakeOpenAI(flavor="llamacpp", default=Reply(text="ok")) as fake:
        endpoint = EndpointSettings(base_url=f"{fake.base_url}/?{QUERY}", model="m")
        model = ModelClient(endpoint, "chat")
        action = GenerationRequest(messages=({"role": "user", "content": "x"},), purpose="action")
        assert await model.complete(action) == "ok"
        assert [m["id"] for m in await model.list_models()] == ["qwen2.5-coder-1.5b-q8_0.gguf"]
        await model.aclose()
        detection = await detect_endpoint(endpoint)
    assert detection.kind == "llamacpp"  # /props answered with the query after its path
    seen = {(r.method, r.path, r.query) for r in fake.requests}
    for method, path in [
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
        ("GET", "/props"),
        ("GET", "/api/version"),
        ("GET", "/openapi.json"),
    ]:
        assert (method, path, QUERY) in seen


def redirecting(location: str):
    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(response(307, b"moved", {"Location": location}))
        return True

    return answer


@pytest.mark.parametrize(
    ("location", "where"),
    [
        (
            "https://elsewhere.example:8443/v1/completions?k=s3cr3t-v4lue",
            "https://elsewhere.example:8443/v1/completions",
        ),
        ("/openai/v1/completions", "/openai/v1/completions"),
    ],
    ids=["another-host", "same-host"],
)
async def test_a_redirect_is_reported_as_such_and_not_followed(location: str, where: str) -> None:
    async with RawServer(redirecting(location)) as server:
        model = ModelClient(EndpointSettings(base_url=server.url("/v1"), api_key="sk-redirect-1"))
        with pytest.raises(ModelError) as caught:
            await model.complete(GenerationRequest(prompt="x"))
        await model.aclose()
    error = caught.value
    assert error.kind == "redirect" and error.status == 307
    assert where in error.detail and "not followed" in error.detail
    assert "endpoint.base_url" in error.user_message
    assert "transport" not in error.user_message
    assert "s3cr3t" not in str(error)
    assert len(server.requests) == 1  # not followed


async def test_detection_says_where_models_redirects() -> None:
    async with RawServer(redirecting("https://llm.example/v1/models")) as server:
        detection = await detect_endpoint(EndpointSettings(base_url=server.url("/v1")))
    assert any("redirected to https://llm.example/v1/models" in note for note in detection.notes)
