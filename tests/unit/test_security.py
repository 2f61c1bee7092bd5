"""Security: the API key never leaks into errors or logs, TLS verification is on by default, and
the AI traffic uses only its own CA bundle and proxy settings (never the system's proxy
variables). Against real servers and proxies on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from qwen_lsp.model.client import GenerationRequest, ModelClient
from qwen_lsp.model.detect import detect_endpoint
from qwen_lsp.model.errors import ModelError
from qwen_lsp.settings import EndpointSettings, Settings, redacted
from tests.support.http_servers import (
    CHUNKED_HEAD,
    LAST_CHUNK,
    Peer,
    Proxy,
    RawServer,
    Seen,
    Tls,
    chunk,
    make_tls,
    response,
)

KEY = "sk-top-secret-4242"
SYSTEM_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


async def openai_like(request: Seen, peer: Peer) -> bool:
    """A model list for GETs, a one-word completion stream for POSTs."""
    if request.method == "GET":
        models = {"object": "list", "data": [{"id": "m", "owned_by": "vllm"}]}
        await peer.send(response(200, json.dumps(models).encode()))
    else:
        event = chunk(b'data: {"choices":[{"text":"ok"}]}\n\n') + chunk(b"data: [DONE]\n\n")
        await peer.send(CHUNKED_HEAD + event + LAST_CHUNK)
    return True


def model_for(base_url: str, **endpoint: Any) -> ModelClient:
    return ModelClient(EndpointSettings(base_url=base_url, api_key=KEY, model="m", **endpoint))


async def complete(model: ModelClient) -> str:
    try:
        return await model.complete(GenerationRequest(prompt="def f():"))
    finally:
        await model.aclose()


async def failure(model: ModelClient) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await complete(model)
    return caught.value


def assert_no_key(error: ModelError, caplog: pytest.LogCaptureFixture) -> None:
    for text in (str(error), error.user_message, error.detail, repr(error), caplog.text):
        assert KEY not in text


# --- TLS and proxies --------------------------------------------------------------------------


async def test_tls_verification_is_on_by_default(tls: Tls) -> None:
    assert Settings().endpoint.verify_tls is True
    async with RawServer(openai_like, tls.server) as server:
        error = await failure(model_for(server.url("/v1")))
    assert error.kind == "tls"
    assert server.requests == []  # nothing was sent to the unverified server


async def test_ca_bundle_and_proxy_are_honoured(tls: Tls) -> None:
    async with RawServer(openai_like, tls.server) as server, Proxy() as proxy:
        model = model_for(server.url("/v1"), ca_bundle=tls.ca_path, proxy=proxy.url)
        assert await complete(model) == "ok"
    assert [(s.method, s.target) for s in proxy.seen] == [("CONNECT", f"127.0.0.1:{server.port}")]
    # The key went through the tunnel encrypted: the proxy never saw it.
    assert all("authorization" not in s.headers for s in proxy.seen)
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_verification_can_be_turned_off_explicitly(tls: Tls) -> None:
    async with RawServer(openai_like, tls.wrong_name) as server:
        model = model_for(server.url("/v1"), verify_tls=False, ca_bundle="/x.pem")
        assert await complete(model) == "ok"


async def test_system_proxy_variables_do_not_capture_ai_traffic(
    monkeypatch: pytest.MonkeyPatch, tls: Tls
) -> None:
    async with (
        RawServer(openai_like) as plain,
        RawServer(openai_like, tls.server) as secure,
        Proxy() as system_proxy,
    ):
        for name in SYSTEM_PROXY_VARIABLES:
            monkeypatch.setenv(name, system_proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/bundle.pem")
        assert await complete(model_for(plain.url("/v1"))) == "ok"
        assert await complete(model_for(secure.url("/v1"), ca_bundle=tls.ca_path)) == "ok"
        detection = await detect_endpoint(EndpointSettings(base_url=plain.url("/v1"), model="m"))
        assert detection.reachable and detection.kind == "vllm"
    assert system_proxy.connections == 0
    assert len(plain.requests) > 1 and len(secure.requests) == 1


# --- the key ----------------------------------------------------------------------------------


def test_key_is_not_in_settings_repr_or_redacted_dump() -> None:
    settings = Settings(endpoint=EndpointSettings(api_key=KEY, headers={"X-Api-Key": KEY}))
    assert KEY not in repr(settings)
    assert KEY not in str(redacted(settings))


ECHOES = {
    "401-echo": (401, json.dumps({"error": {"message": f"Incorrect API key {KEY}"}})),
    "400-echo-header": (400, f"bad header Authorization: Bearer {KEY}"),
    "500-echo": (500, json.dumps({"error": f"upstream said {KEY}"})),
}


@pytest.mark.parametrize("echo", ECHOES)
async def test_errors_that_echo_the_key_are_redacted(
    echo: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, body = ECHOES[echo]

    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(response(status, body.encode()))
        return True

    async with RawServer(answer) as server:
        error = await failure(model_for(server.url("/v1")))
        assert error.status == status
        assert_no_key(error, caplog)
        with pytest.raises(ModelError) as caught:  # and the model list of doctor / detection
            await model_for(server.url("/v1")).list_models()
        assert_no_key(caught.value, caplog)


async def test_transport_errors_that_echo_the_key_are_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Proxy(refuse=f"403 proxy refused Bearer {KEY}") as proxy:
        error = await failure(model_for("https://127.0.0.1:9/v1", proxy=proxy.url))
    assert error.kind == "connection" and "403" in error.detail
    assert_no_key(error, caplog)


async def test_key_goes_only_in_the_header_never_the_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with RawServer(openai_like) as server:
        assert await complete(model_for(server.url("/v1"))) == "ok"
    (request,) = server.requests
    assert KEY not in request.body.decode()
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in caplog.text
