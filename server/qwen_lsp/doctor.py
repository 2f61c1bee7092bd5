"""``qwen-lsp doctor``: check a setup end to end and explain problems in words a user can act on.

It prints the effective settings (secrets masked) and where they came from, the detected server
and transport, whether the model is served, then sends one real FIM request and shows what came
back. Exit status 0 when nothing failed (warnings allowed), 1 otherwise. ``--json`` prints the
same checks as one JSON object (for tools: Neovim's ``:checkhealth qwen-lsp`` reads it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO
from urllib.parse import urlsplit

from . import __version__
from .model.client import GenerationRequest, ModelClient, StreamOutcome, TransportName
from .model.detect import PROBE_TIMEOUT_S, Detection, detect_endpoint
from .model.errors import ModelError
from .model.urls import root_url
from .prompts.chat import fim_chat_messages
from .prompts.fim import SPECIAL_TOKENS, STOP_TOKENS, file_level_prompt
from .redaction import mask_url
from .settings import (
    ENV_VARS,
    EndpointSettings,
    Settings,
    check_consistency,
    default_config_paths,
    redacted,
)

SAMPLE_PREFIX = "def fibonacci(n: int) -> int:\n    "
SAMPLE_SUFFIX = "\n\n\nprint(fibonacci(10))\n"
SWITCH_TRANSPORT = "set endpoint.transport (completions | chat | infill | ollama) to match"


class Report:
    """Marked lines on ``out``; counts failures (warnings do not fail the run)."""

    LEVELS = {"·": "info", "✓": "ok", "!": "warning", "✗": "error", " ": "detail"}

    def __init__(self, out: TextIO):
        self.out = out
        self.failures = 0
        self.entries: list[dict[str, str]] = []  # what --json prints
        self.facts: dict[str, Any] = {"endpoint": "not checked", "fim": "not checked"}

    def line(self, mark: str, text: str) -> None:
        self.entries.append({"level": self.LEVELS.get(mark, "info"), "text": text})
        print(f"{mark} {text}", file=self.out, flush=True)

    def info(self, text: str) -> None:
        self.line("·", text)

    def ok(self, text: str) -> None:
        self.line("✓", text)

    def warn(self, text: str) -> None:
        self.line("!", text)

    def fail(self, text: str, hint: str = "") -> None:
        self.failures += 1
        self.line("✗", text)
        if hint:
            self.detail(f"→ {hint}")

    def detail(self, text: str) -> None:
        self.line(" ", text)


def run_doctor(
    settings: Settings,
    problems: Sequence[str],
    base_url: str | None = None,
    model: str | None = None,
    out: TextIO = sys.stdout,
    as_json: bool = False,
) -> int:
    endpoint = settings.endpoint
    if base_url:
        endpoint = dataclasses.replace(endpoint, base_url=base_url)
    if model:
        endpoint = dataclasses.replace(endpoint, model=model)
    settings = dataclasses.replace(settings, endpoint=endpoint)
    if not as_json:
        return asyncio.run(_doctor(settings, problems, Report(out)))
    report = Report(io.StringIO())
    code = asyncio.run(_doctor(settings, problems, report))
    summary = {
        "version": __version__,
        "ok": code == 0,
        "base_url": mask_url(settings.endpoint.base_url),
        "model": settings.endpoint.model,
        **report.facts,
        "checks": report.entries,
    }
    print(json.dumps(summary, indent=2), file=out)
    return code


def settings_sources(environ: Mapping[str, str]) -> list[str]:
    paths = default_config_paths()
    files = [f"{p} ({'found' if p.is_file() else 'not found'})" for p in paths]
    names = sorted({n for ns in ENV_VARS.values() for n in ns if environ.get(n)})
    return [f"config file: {', '.join(files)}", f"environment: {', '.join(names) or '(none)'}"]


def _check_settings(report: Report, settings: Settings, problems: Sequence[str]) -> bool:
    """Print the settings and their problems; False when the endpoint cannot be tried at all."""
    shown: dict[str, Any] = redacted(settings)  # key, header values, URL credentials masked
    report.info("effective settings (secrets masked):")
    print(json.dumps(shown, indent=2), file=report.out)
    for source in settings_sources(os.environ):
        report.detail(source)
    for problem in problems:
        report.fail(f"settings: {problem}", "fix or remove that value; the default is used")
    unusable = check_consistency(settings)
    for problem in unusable:
        report.fail(f"settings: {problem}", "fix it before the endpoint can be checked")
    return not unusable


async def _report_detection(
    report: Report, detection: Detection, endpoint: EndpointSettings
) -> bool:
    """Report the probe; False when there is nothing to send a request to."""
    busy = detection.reachable is False and await accepts_connections(endpoint)
    if busy:
        report.facts["endpoint"] = "busy"
        report.warn(
            f"endpoint: {mask_url(endpoint.base_url)} accepted the connection but did not answer "
            f"within {PROBE_TIMEOUT_S:g} s: the model server is busy (a long prompt, another "
            "client's request) or still loading the model; the request below waits up to "
            f"endpoint.timeout_s = {endpoint.timeout_s:g} s"
        )
    elif detection.reachable is False:
        report.facts["endpoint"] = "unreachable"
        report.fail(
            f"endpoint: {mask_url(endpoint.base_url)} does not answer",
            explain(ModelError("connection", ""), detection, endpoint),
        )
    else:
        report.facts["endpoint"] = "ok"
        report.facts["transport"] = detection.transport
        report.ok(f"endpoint: {detection.describe()}")
    for note in detection.notes:
        report.detail(note)
    return detection.reachable is not False or busy


async def accepts_connections(endpoint: EndpointSettings) -> bool:
    """Whether the endpoint's host takes a TCP connection (a busy server does, a stopped one
    does not). Unknown behind a proxy: False."""
    if endpoint.proxy:
        return False
    parts = urlsplit(root_url(endpoint.base_url))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connecting = asyncio.open_connection(parts.hostname, port)
        _, writer = await asyncio.wait_for(connecting, endpoint.connect_timeout_s)
    except (OSError, ValueError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


def _check_model_listed(report: Report, detection: Detection, model: str) -> None:
    names = detection.models
    if names is None:
        report.warn("GET /models gave no model list; the request below tells if the model works")
    elif model in names or not names:
        report.ok(f"model {model!r} is served" if names else "GET /models lists no models")
    else:
        report.warn(
            f"endpoint.model {model!r} is not in the server's list: {', '.join(names[:8])}; "
            "the request below tells whether the server accepts it anyway"
        )


def fim_request(transport: TransportName) -> GenerationRequest:
    return GenerationRequest(
        prompt=file_level_prompt(SAMPLE_PREFIX, SAMPLE_SUFFIX),
        messages=fim_chat_messages(SAMPLE_PREFIX, SAMPLE_SUFFIX, "python", "fib.py")
        if transport == "chat"
        else (),
        prefix=SAMPLE_PREFIX,
        suffix=SAMPLE_SUFFIX,
        max_tokens=48,
        temperature=0.0,
        stop=STOP_TOKENS,
        purpose="check",
    )


async def _check_fim(report: Report, settings: Settings, detection: Detection) -> None:
    transport = detection.transport
    client = ModelClient(settings.endpoint, transport)
    try:
        answer = await client.answer(fim_request(transport))
    except ModelError as error:
        report.facts["fim"] = f"failed: {error.kind}"
        report.fail(f"FIM request over {transport!r} failed: {error}")
        report.detail(f"→ {explain(error, detection, settings.endpoint)}")
        return
    finally:
        await client.aclose()
    outcome = answer.outcome
    ttft = (outcome.ttft_s if outcome.ttft_s is not None else outcome.total_s or 0.0) * 1000
    total = (outcome.total_s or 0.0) * 1000
    report.facts.update(fim="ok", first_text_ms=round(ttft), total_ms=round(total))
    report.facts["finish_reason"] = outcome.finish_reason
    report.ok(f"FIM request over {transport!r}: first text {ttft:.0f} ms, total {total:.0f} ms")
    report.detail(f"finish reason: {outcome.finish_reason or '(none given)'}{_timings(outcome)}")
    # The endpoint's text is printed: what it echoes of the key must not be.
    _judge_completion(report, client.redact(answer.text), transport)


def _timings(outcome: StreamOutcome) -> str:
    timings = outcome.timings
    if timings is None or timings.prompt_ms is None or timings.predicted_ms is None:
        return ""
    return (
        f"; server: prompt {timings.prompt_tokens} tokens in {timings.prompt_ms:.0f} ms, "
        f"{timings.predicted_tokens} generated in {timings.predicted_ms:.0f} ms"
    )


def _judge_completion(report: Report, text: str, transport: TransportName) -> None:
    report.detail(f"completion: {text[:200]!r}")
    leaked = [token for token in SPECIAL_TOKENS if token in text]
    if not text.strip():
        report.warn(
            "the model returned no text: is it a base or coder model that knows the FIM tokens?"
        )
    elif leaked and transport != "chat":
        report.warn(
            f"the answer contains {leaked[0]} as text: the model does not know Qwen's FIM tokens "
            'or the server does not parse them; use a Qwen2.5-Coder model or transport "chat"'
        )


def explain(error: ModelError, detection: Detection, endpoint: EndpointSettings) -> str:
    """What the user should do about ``error``, given what we know of the server."""
    specific = _specific_hint(error, detection, endpoint)
    if specific:
        return specific
    return {
        "connection": f"nothing answers at {mask_url(endpoint.base_url)}: start the model server "
        "or fix endpoint.base_url (QWEN_LSP_BASE_URL), e.g. http://127.0.0.1:8080/v1 for "
        "llama.cpp, http://127.0.0.1:11434/v1 for Ollama",
        "tls": "the TLS handshake failed: for a private CA set endpoint.ca_bundle to its PEM "
        "file (endpoint.verify_tls = false only for a test server)",
        "timeout": f"no answer within endpoint.timeout_s = {endpoint.timeout_s:g} s: the server "
        "may still be loading the model or be busy; try again, or raise endpoint.timeout_s",
        "auth": "the API key was refused: check that it belongs to this endpoint"
        if endpoint.api_key
        else "the endpoint wants an API key and none is set: export QWEN_LSP_API_KEY "
        "(DASHSCOPE_API_KEY for Model Studio)",
        "dropped": "the server closed the connection in the middle of the answer: it may have "
        "crashed, restarted or run out of memory; its own log says why",
        "not_found": "check endpoint.model and endpoint.base_url (it usually ends in /v1)",
        "rate_limited": "the endpoint is rate limiting: wait a little or raise the quota; "
        "completions pause and resume by themselves",
        "server": "the server failed internally; its own log says why (often the prompt is "
        "longer than its context: lower context.max_prompt_tokens)",
        "bad_request": "the server refused the request; if the model is chat-only, "
        'set endpoint.transport = "chat"',
        "redirect": "the server redirects (often http → https, or a missing /v1): set "
        "endpoint.base_url to the URL it redirects to",
        "protocol": f"the answer is not in the {detection.transport!r} format: {SWITCH_TRANSPORT} "
        "the server",
    }[error.kind]


def _specific_hint(error: ModelError, detection: Detection, endpoint: EndpointSettings) -> str:
    """Hints that depend on the server kind and transport; "" when none applies."""
    kind, transport, model = detection.kind, detection.transport, endpoint.model
    refused = error.kind in ("not_found", "bad_request")
    if transport == "infill" and error.kind == "not_found" and kind != "llamacpp":
        return (
            "this server has no /infill (only llama.cpp's llama-server has it, not "
            'llama-cpp-python): set endpoint.transport = "completions"'
        )
    if transport == "infill" and refused:
        return (
            "llama-server refused /infill: the loaded model may have no FIM tokens; load a "
            'Qwen2.5-Coder GGUF, or set endpoint.transport = "completions"'
        )
    if transport == "ollama" and error.kind == "not_found":
        listed = f" (installed: {', '.join(detection.models[:8])})" if detection.models else ""
        return f"Ollama has no model {model!r}: run `ollama pull {model}`{listed}"
    if kind == "dashscope" and transport == "completions" and refused:
        return (
            "Model Studio serves FIM (/completions) only for qwen2.5-coder-* and "
            'qwen-coder-turbo models: pick one of those or set endpoint.transport = "chat"'
        )
    if error.kind == "not_found" and detection.models and model not in detection.models:
        return (
            f"the server has no model {model!r}; set endpoint.model to one it serves: "
            + ", ".join(detection.models[:8])
        )
    if kind == "dashscope" and error.kind == "auth":
        return (
            "Model Studio keys are per region: a China (Beijing) key works with "
            "dashscope.aliyuncs.com, an international one with dashscope-intl.aliyuncs.com"
        )
    return ""


async def _doctor(settings: Settings, problems: Sequence[str], report: Report) -> int:
    if _check_settings(report, settings, problems):
        detection = await detect_endpoint(settings.endpoint)
        if await _report_detection(report, detection, settings.endpoint):
            if detection.reachable is not False:
                _check_model_listed(report, detection, settings.endpoint.model)
            await _check_fim(report, settings, detection)
    if report.failures:
        report.line("✗", f"{report.failures} problem(s) found")
        return 1
    report.ok("all checks passed")
    return 0
