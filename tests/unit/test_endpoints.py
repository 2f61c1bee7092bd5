"""Endpoint detection: URL guesses, probe classification, transport choice, live probe flavours."""

from __future__ import annotations

import dataclasses

import pytest

from qwen_lsp.model.detect import (
    ProbeResult,
    classify,
    detect_endpoint,
    guess_from_url,
    kind_from_url,
    probe_notes,
    transport_for,
)
from qwen_lsp.model.urls import root_url
from qwen_lsp.settings import EndpointSettings
from tests.support.fake_openai import FakeOpenAI


def endpoint(base_url: str, model: str = "qwen2.5-coder", transport: str = "auto"):
    return EndpointSettings(base_url=base_url, model=model, transport=transport)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://dashscope.aliyuncs.com/compatible-mode/v1", "dashscope"),
        ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "dashscope"),
        ("http://127.0.0.1:9000/compatible-mode/v1", "dashscope"),
        ("http://127.0.0.1:11434/v1", "ollama"),
        ("http://ollama.internal:8080/v1", "ollama"),
        ("http://localhost:1234/v1", "lmstudio"),
        ("https://api.openai.com/v1", "openai"),
        ("http://127.0.0.1:8080/v1", "unknown"),
        ("http://[::1", "unknown"),  # malformed URLs never raise here
        ("http://h:abc/v1", "unknown"),
    ],
)
def test_kind_from_url(url: str, kind: str) -> None:
    assert kind_from_url(url) == kind


@pytest.mark.parametrize(
    ("kind", "model", "transport"),
    [
        ("llamacpp", "qwen2.5-coder-7b-q8_0.gguf", "infill"),
        ("llama-cpp-python", "qwen2.5-coder", "completions"),
        ("ollama", "qwen2.5-coder:7b", "ollama"),
        ("vllm", "Qwen/Qwen2.5-Coder-7B", "completions"),
        ("sglang", "Qwen/Qwen2.5-Coder-7B", "completions"),
        ("lmstudio", "qwen2.5-coder-7b-instruct", "completions"),
        ("dashscope", "qwen2.5-coder-32b-instruct", "completions"),
        ("dashscope", "qwen-coder-turbo-latest", "completions"),
        ("dashscope", "qwen3-coder-plus", "chat"),
        ("dashscope", "qwen-max", "chat"),
        ("dashscope", "qwen3-coder-480b-a35b-instruct", "chat"),
        ("unknown", "qwen3-coder-flash", "chat"),
        ("openai", "gpt-4o-mini", "chat"),
        ("unknown", "qwen2.5-coder", "completions"),
    ],
)
def test_transport_for(kind: str, model: str, transport: str) -> None:
    assert transport_for(kind, model) == transport  # type: ignore[arg-type]


def test_explicit_transport_wins_over_the_url() -> None:
    guess = guess_from_url(endpoint("http://127.0.0.1:11434/v1", transport="chat"))
    assert (guess.kind, guess.transport, guess.source) == ("ollama", "chat", "settings")


def test_root_url_strips_only_a_trailing_v1() -> None:
    assert root_url("http://h:8080/v1/") == "http://h:8080"
    assert root_url("http://h/compatible-mode/v1") == "http://h/compatible-mode"
    assert root_url("http://h:8080") == "http://h:8080"


# Shapes recorded from the real servers (trimmed to the fields detection reads).
LLAMA_SERVER_PROPS = {"default_generation_settings": {"n_ctx": 4096}, "total_slots": 1}
LLAMA_CPP_PYTHON_OPENAPI = {"openapi": "3.1.0", "info": {"title": "🦙 llama.cpp Python API"}}
VLLM_OPENAPI = {"openapi": "3.1.0", "info": {"title": "FastAPI"}}


def models(owner: str) -> dict:
    return {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": owner}]}


@pytest.mark.parametrize(
    ("probe", "kind"),
    [
        (ProbeResult(models=models("llamacpp"), props=LLAMA_SERVER_PROPS), "llamacpp"),
        (ProbeResult(props={"build_info": "b5600"}), "llamacpp"),
        (ProbeResult(models=models("me"), openapi=LLAMA_CPP_PYTHON_OPENAPI), "llama-cpp-python"),
        (ProbeResult(models=models("library"), ollama_version={"version": "0.9"}), "ollama"),
        (ProbeResult(models=models("library")), "ollama"),
        (ProbeResult(models=models("vllm"), openapi=VLLM_OPENAPI), "vllm"),
        (ProbeResult(models=models("sglang")), "sglang"),
        (ProbeResult(models=models("organization_owner")), "lmstudio"),
        (ProbeResult(models=models("system")), "unknown"),
        (ProbeResult(), "unknown"),
    ],
)
def test_classify_recorded_shapes(probe: ProbeResult, kind: str) -> None:
    assert classify(probe, "unknown")[0] == kind


def test_classify_keeps_the_url_kind_when_nothing_is_recognised() -> None:
    assert classify(ProbeResult(models=models("system")), "dashscope")[0] == "dashscope"


def test_llama_cpp_python_is_not_mistaken_for_llama_server() -> None:
    # Same family name, different program: it has neither /props nor /infill.
    kind, notes = classify(
        ProbeResult(models=models("me"), openapi=LLAMA_CPP_PYTHON_OPENAPI), "unknown"
    )
    assert kind == "llama-cpp-python"
    assert transport_for(kind, "qwen2.5-coder") == "completions"
    assert "no /infill" in notes[0]


# --- live probes against the scripted server's flavours ---------------------------------------

FLAVOURS = [
    ("llamacpp", "qwen2.5-coder-1.5b-q8_0.gguf", "llamacpp", "infill"),
    ("ollama", "qwen2.5-coder:1.5b", "ollama", "ollama"),
    ("vllm", "Qwen/Qwen2.5-Coder-1.5B", "vllm", "completions"),
    ("lmstudio", "qwen2.5-coder-1.5b-instruct", "lmstudio", "completions"),
    ("dashscope", "qwen2.5-coder-7b-instruct", "dashscope", "completions"),
    ("dashscope", "qwen3-coder-plus", "dashscope", "chat"),
    ("openai", "qwen2.5-coder-1.5b", "unknown", "completions"),
]


@pytest.mark.parametrize(("flavor", "model", "kind", "transport"), FLAVOURS)
async def test_detect_each_flavour(flavor: str, model: str, kind: str, transport: str) -> None:
    async with FakeOpenAI(flavor=flavor) as fake:
        detection = await detect_endpoint(endpoint(fake.base_url, model))
    assert (detection.kind, detection.transport) == (kind, transport)
    assert detection.source == "probe" and detection.reachable
    assert detection.models  # the model list answered and was kept for doctor


async def test_probe_sends_only_gets_and_no_generation() -> None:
    async with FakeOpenAI(flavor="llamacpp") as fake:
        await detect_endpoint(endpoint(fake.base_url))
        assert {r.method for r in fake.requests} == {"GET"}
        assert not [r for r in fake.requests if r.generation]


async def test_hosted_urls_are_not_probed_for_local_server_routes() -> None:
    async with FakeOpenAI(flavor="dashscope") as fake:
        await detect_endpoint(endpoint(fake.base_url, "qwen2.5-coder-7b-instruct"))
        assert [r.path for r in fake.requests] == ["/compatible-mode/v1/models"]


async def test_explicit_transport_is_kept_and_a_mismatch_is_noted() -> None:
    async with FakeOpenAI(flavor="llamacpp") as fake:
        detection = await detect_endpoint(endpoint(fake.base_url, transport="completions"))
    assert (detection.kind, detection.transport, detection.source) == (
        "llamacpp",
        "completions",
        "settings",
    )
    assert any("overrides the detected choice 'infill'" in note for note in detection.notes)


def test_base_url_without_v1_gets_a_hint() -> None:
    probe = ProbeResult(models_status=404, v1_models_status=200)
    notes = probe_notes(probe, endpoint("http://127.0.0.1:8000"))
    assert notes == [
        "http://127.0.0.1:8000/models is not found but http://127.0.0.1:8000/v1/models is: "
        "endpoint.base_url should probably end in /v1"
    ]


async def test_unreachable_server_falls_back_to_the_url_guess() -> None:
    async with FakeOpenAI() as fake:
        url = fake.base_url
    detection = await detect_endpoint(
        dataclasses.replace(endpoint(url), connect_timeout_s=0.5, timeout_s=1.0)
    )
    assert detection.reachable is False
    assert detection.source == "url"
    assert "nothing answered" in detection.notes[0]


async def test_malformed_url_is_unreachable_not_an_exception() -> None:
    detection = await detect_endpoint(endpoint("http://h:abc/v1"))
    assert detection.reachable is False
    assert "invalid port" in detection.notes[0].lower()
    assert "not answering" in detection.describe()


async def test_refused_key_is_noted() -> None:
    async with FakeOpenAI(flavor="vllm", api_key="right") as fake:
        detection = await detect_endpoint(
            dataclasses.replace(endpoint(fake.base_url), api_key="wrong")
        )
    assert any("refused (HTTP 401)" in note for note in detection.notes)
