"""Security: the API key never leaks into errors or logs, TLS verification is on by default, and
the AI traffic uses only its own CA bundle and proxy settings (never the system's proxy
variables). Against real servers and proxies on 127.0.0.1."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from typing import Any

import pytest

from qwen_lsp.model.client import GenerationRequest, ModelClient
from qwen_lsp.model.detect import detect_endpoint
from qwen_lsp.model.errors import ModelError
from qwen_lsp.redaction import Redactor, mask_url, url_secrets
from qwen_lsp.settings import EndpointSettings, Settings, check_consistency, merge, redacted
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


# --- credentials in URLs, proxies, and cut texts ----------------------------------------------

URL_PASSWORD = "Hj3Wq8ZxTu5Ev"
QUERY_KEY = "Qz6Rb1YvNc7Kp"
PROXY_PASSWORD = "Px4Mz9LwTe2Gs"


def prefixes(secret: str) -> list[str]:
    """Every start of the secret of 4 characters or more (what a cut text could leak)."""
    return [secret[:n] for n in range(4, len(secret) + 1)]


def assert_hidden(text: str, *secrets: str) -> None:
    for secret in secrets:
        for prefix in prefixes(secret):
            assert prefix not in text, f"{prefix!r} (of a secret) in {text!r}"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            f"https://bob:{URL_PASSWORD}@llm.corp:8443/v1?api-key={QUERY_KEY}&api-version=2024-06-01",
            "https://bob:***@llm.corp:8443/v1?api-key=***&api-version=2024-06-01",
        ),
        (f"http://puser:{PROXY_PASSWORD}@127.0.0.1:3128", "http://puser:***@127.0.0.1:3128"),
        (f"puser:{PROXY_PASSWORD}@proxy:3128", "puser:***@proxy:3128"),  # no scheme
        ("https://ghp_tokenAsUser@host/v1", "https://***@host/v1"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        ("http://h/v1?key=a%2Fb#access_token=zz", "http://h/v1?key=***#***"),
        ("http://[::1", "http://[::1"),  # malformed: never raises
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_the_settings_dump_masks_urls_and_proxies() -> None:
    endpoint = EndpointSettings(
        base_url=f"http://bob:{URL_PASSWORD}@h/v1?api-key={QUERY_KEY}",
        proxy=f"http://puser:{PROXY_PASSWORD}@p:3128",
    )
    assert_hidden(
        str(redacted(Settings(endpoint=endpoint))), URL_PASSWORD, QUERY_KEY, PROXY_PASSWORD
    )


def test_settings_errors_never_echo_secret_values() -> None:
    bad = {"endpoint": {"apiKey": ["sk-listed-9876"], "headers": {"X-Key": ["hdr-secret-5555"]}}}
    _, errors = merge(Settings(), bad)
    assert len(errors) == 2
    assert_hidden(" ".join(errors), "sk-listed-9876", "hdr-secret-5555")
    broken = dataclasses.replace(
        Settings(), endpoint=EndpointSettings(base_url=f"htp://bob:{URL_PASSWORD}@h/v1")
    )
    assert_hidden(" ".join(check_consistency(broken)), URL_PASSWORD)


def test_redactor_knows_encoded_and_basic_forms() -> None:
    redact = Redactor(url_secrets(f"http://bob:{URL_PASSWORD}@h/?k=a%2Fb%2Bc"))
    basic = base64.b64encode(f"bob:{URL_PASSWORD}".encode()).decode()
    text = redact(f"got Authorization: Basic {basic} and k=a/b+c and a%2Fb%2Bc")
    assert basic not in text and "a/b+c" not in text and "a%2Fb%2Bc" not in text
    assert_hidden(text, URL_PASSWORD)


@pytest.mark.parametrize("at", range(280, 305, 3))
async def test_an_echoed_key_near_the_cut_leaks_no_prefix(at: int) -> None:
    # The error text is redacted first and cut after: a key across the cut is masked whole.
    message = "x" * at + KEY + " — check your key"

    async def answer(request: Seen, peer: Peer) -> bool:
        body = json.dumps({"error": {"message": message}}).encode()
        await peer.send(response(401, body))
        return True

    async with RawServer(answer) as server:
        error = await failure(model_for(server.url("/v1")))
    for text in (str(error), error.user_message):
        assert_hidden(text, KEY)
    assert error.kind == "auth"


async def test_stream_lines_that_echo_the_key_leak_no_prefix() -> None:
    # A garbage stream line (a protocol error quotes it) with the key near where it is cut.
    line = b"data: {not json " + b"y" * 100 + KEY.encode() + b"\n\n"

    async def answer(request: Seen, peer: Peer) -> bool:
        await peer.send(CHUNKED_HEAD + chunk(line) + LAST_CHUNK)
        return True

    async with RawServer(answer) as server:
        error = await failure(model_for(server.url("/v1")))
    assert error.kind == "protocol"
    assert_hidden(str(error), KEY)
