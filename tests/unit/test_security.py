"""Security: the API key never leaks into errors, TLS verification is on by default, and the AI
traffic uses only its own CA bundle and proxy settings (never the system's proxy variables)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qwen_lsp.model import client as client_module
from qwen_lsp.model.client import GenerationRequest, ModelClient, build_http_client
from qwen_lsp.model.errors import ModelError
from qwen_lsp.settings import EndpointSettings, Settings, redacted

KEY = "sk-top-secret-4242"


class Recorder:
    """Stands in for httpx.AsyncClient to see the arguments the AI client is built with."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


def built_with(monkeypatch: pytest.MonkeyPatch, endpoint: EndpointSettings) -> dict[str, Any]:
    monkeypatch.setattr(client_module.httpx, "AsyncClient", Recorder)
    return build_http_client(endpoint).kwargs  # type: ignore[attr-defined]


def test_tls_verification_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().endpoint.verify_tls is True
    assert built_with(monkeypatch, EndpointSettings())["verify"] is True


def test_ca_bundle_and_proxy_reach_the_http_client(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = EndpointSettings(ca_bundle="/etc/corp/ca.pem", proxy="http://proxy.corp:3128")
    kwargs = built_with(monkeypatch, endpoint)
    assert kwargs["verify"] == "/etc/corp/ca.pem"
    assert kwargs["proxy"] == "http://proxy.corp:3128"
    assert kwargs["trust_env"] is False


def test_verification_can_be_turned_off_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = built_with(monkeypatch, EndpointSettings(verify_tls=False, ca_bundle="/x.pem"))
    assert kwargs["verify"] is False


def test_system_proxy_variables_do_not_capture_ai_traffic(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://system-proxy.invalid:9")
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/bundle.pem")
    http = build_http_client(EndpointSettings(base_url="http://127.0.0.1:1/v1"))
    assert http.trust_env is False
    # No mount routes requests through the environment's proxy.
    assert not any(t is not None for t in http._mounts.values())


def test_key_is_not_in_settings_repr_or_redacted_dump() -> None:
    settings = Settings(endpoint=EndpointSettings(api_key=KEY, headers={"X-Api-Key": KEY}))
    assert KEY not in repr(settings)
    assert KEY not in str(redacted(settings))


def client_answering(handler: Any, **endpoint: Any) -> ModelClient:
    model = ModelClient(EndpointSettings(api_key=KEY, **endpoint))
    model.http = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), headers={"Authorization": f"Bearer {KEY}"}
    )
    return model


@pytest.mark.parametrize(
    "handler",
    [
        lambda r: httpx.Response(401, json={"error": {"message": f"Incorrect API key {KEY}"}}),
        lambda r: httpx.Response(400, text=f"bad header Authorization: Bearer {KEY}"),
        lambda r: httpx.Response(500, json={"error": f"upstream said {KEY[:-1]}{KEY[-1]}"}),
    ],
    ids=["401-echo", "400-echo-header", "500-echo"],
)
async def test_errors_that_echo_the_key_are_redacted(handler: Any) -> None:
    model = client_answering(handler)
    with pytest.raises(ModelError) as caught:
        await model.complete(GenerationRequest(prompt="x"))
    error = caught.value
    for text in (str(error), error.user_message, error.detail, repr(error)):
        assert KEY not in text
    await model.aclose()


async def test_transport_exceptions_that_echo_the_key_are_redacted() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused Bearer {KEY} for {request.url}")

    model = client_answering(fail)
    with pytest.raises(ModelError) as caught:
        await model.complete(GenerationRequest(prompt="x"))
    assert KEY not in str(caught.value) and KEY not in caught.value.user_message
    await model.aclose()


async def test_key_goes_only_in_the_header_never_the_body() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text='data: {"choices":[{"text":"ok"}]}\n\ndata: [DONE]\n\n')

    model = client_answering(answer)
    assert await model.complete(GenerationRequest(prompt="def f():")) == "ok"
    (request,) = seen
    assert KEY not in request.content.decode()
    assert request.headers["authorization"] == f"Bearer {KEY}"
    await model.aclose()
