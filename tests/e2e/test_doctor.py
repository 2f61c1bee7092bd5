"""``qwen-lsp doctor`` against scripted endpoints: what it prints, and that every failure comes with
something the user can do about it."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from qwen_lsp.doctor import run_doctor
from qwen_lsp.settings import load_base_settings
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.lsp_session import server_env

fake_server = FakeOpenAI.run_in_thread  # synchronous tests: the fake serves from a thread


def doctor(base_url: str, model: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the doctor in-process with settings from ``env`` only (no config file)."""
    settings, problems = load_base_settings(environ=env or {}, config_paths=[])
    out = io.StringIO()
    code = run_doctor(settings, problems, base_url=base_url, model=model, out=out)
    return code, out.getvalue()


def test_healthy_llama_server_setup_passes_with_the_key_masked(tmp_path: Path):
    # The real command, as a user runs it: settings from the environment.
    with fake_server(
        flavor="llamacpp", api_key="sk-0123456789", default=Reply(text="a + b")
    ) as fake:
        env = server_env(tmp_path, {"QWEN_LSP_BASE_URL": fake.base_url,
                                    "QWEN_LSP_MODEL": "qwen2.5-coder-1.5b-q8_0.gguf",
                                    "QWEN_LSP_API_KEY": "sk-0123456789"})  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-m", "qwen_lsp", "doctor"],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "sk-0123456789" not in out
    assert '"api_key": "set (13 characters)"' in out
    assert "environment: QWEN_LSP_API_KEY, QWEN_LSP_BASE_URL, QWEN_LSP_MODEL" in out
    assert "✓ endpoint: llama.cpp server (llama-server), transport 'infill' (probed)" in out
    assert "✓ model 'qwen2.5-coder-1.5b-q8_0.gguf' is served" in out
    assert "✓ FIM request over 'infill'" in out
    assert "completion: 'a + b'" in out
    assert out.rstrip().endswith("✓ all checks passed")


def test_nothing_listening():
    with fake_server() as fake:
        url = fake.base_url
    code, out = doctor(url, "qwen2.5-coder")
    assert code == 1
    assert f"✗ endpoint: {url} does not answer" in out
    assert "start the model server or fix endpoint.base_url" in out
    assert "FIM request" not in out  # nothing to send it to


def test_missing_api_key():
    with fake_server(flavor="vllm", api_key="sk-right") as fake:
        code, out = doctor(fake.base_url, "Qwen/Qwen2.5-Coder-1.5B")
    assert code == 1
    assert "GET /models was refused (HTTP 401)" in out
    assert "wants an API key and none is set: export QWEN_LSP_API_KEY" in out


def test_wrong_api_key():
    with fake_server(flavor="vllm", api_key="sk-right") as fake:
        code, out = doctor(fake.base_url, "m", {"QWEN_LSP_API_KEY": "sk-wrong-key"})
    assert code == 1
    assert "the API key was refused" in out
    assert "sk-wrong-key" not in out


def test_model_not_served_names_the_ones_that_are():
    with fake_server(flavor="vllm", models=["Qwen/Qwen2.5-Coder-7B"]) as fake:
        code, out = doctor(fake.base_url, "qwen2.5-coder")
    assert code == 1
    assert "! endpoint.model 'qwen2.5-coder' is not in the server's list" in out
    assert "set endpoint.model to one it serves: Qwen/Qwen2.5-Coder-7B" in out


def test_ollama_model_not_pulled():
    with fake_server(flavor="ollama", models=["qwen2.5-coder:7b"]) as fake:
        code, out = doctor(fake.base_url, "qwen2.5-coder:1.5b")
    assert code == 1
    assert "run `ollama pull qwen2.5-coder:1.5b` (installed: qwen2.5-coder:7b)" in out


def test_infill_forced_on_a_server_without_it():
    with fake_server(flavor="vllm") as fake:
        code, out = doctor(
            fake.base_url, "Qwen/Qwen2.5-Coder-1.5B", {"QWEN_LSP_TRANSPORT": "infill"}
        )
    assert code == 1
    assert "endpoint.transport = 'infill' overrides the detected choice 'completions'" in out
    assert "this server has no /infill" in out
    assert 'set endpoint.transport = "completions"' in out


def test_dashscope_refusing_fim_for_the_model():
    reply = Reply.error(400, "The model does not support the completions API.")
    with fake_server(flavor="dashscope", default=reply) as fake:
        code, out = doctor(fake.base_url, "qwen2.5-coder-32b-instruct")
    assert code == 1
    assert "DashScope / Model Studio (compatible mode), transport 'completions'" in out
    assert "Model Studio serves FIM (/completions) only for qwen2.5-coder-*" in out


def test_dashscope_chat_model_goes_through_chat():
    with fake_server(flavor="dashscope", default=Reply(text="return 1")) as fake:
        code, out = doctor(fake.base_url, "qwen3-coder-plus")
    assert code == 0, out
    assert "has no raw FIM here: completions go via chat" in out
    assert "✓ FIM request over 'chat'" in out


def test_server_error_and_empty_answer_are_explained():
    with fake_server(flavor="openai", default=Reply.error(500, "CUDA out of memory")) as fake:
        code, out = doctor(fake.base_url, "qwen2.5-coder-1.5b")
    assert code == 1
    assert "CUDA out of memory" in out
    assert "its own log says why" in out
    with fake_server(flavor="openai", default=Reply(text="")) as fake:
        code, out = doctor(fake.base_url, "qwen2.5-coder-1.5b")
    assert code == 0  # a warning, not a failure
    assert "! the model returned no text" in out


def test_bad_settings_are_failures_with_the_value_named():
    with fake_server(flavor="openai", default=Reply(text="x")) as fake:
        code, out = doctor(fake.base_url, "qwen2.5-coder-1.5b", {"QWEN_LSP_MAX_TOKENS": "lots"})
    assert code == 1
    assert "✗ settings: environment: completion.max_tokens: expected a number, got 'lots'" in out


def test_unusable_base_url_stops_before_the_probe():
    code, out = doctor("localhost:8080/v1", "qwen2.5-coder")
    assert code == 1
    assert "endpoint.base_url must start with http:// or https://" in out
    assert "fix it before the endpoint can be checked" in out
    assert "endpoint:" not in out


def test_busy_server_is_not_called_stopped():
    """A server that takes the connection but is too busy to answer (a listening socket nobody
    reads: the kernel completes the handshake) is busy, not "nothing answers ... start it"."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        code, out = doctor(url, "qwen2.5-coder", env={"QWEN_LSP_TIMEOUT_S": "1"})
    assert code == 1  # the request itself timed out
    assert f"! endpoint: {url} accepted the connection but did not answer within 3 s" in out
    assert "busy" in out and "still loading the model" in out
    assert "start the model server" not in out and "does not answer" not in out
    assert "✗ FIM request over 'completions' failed: timeout" in out


def test_json_mode_for_tools(tmp_path: Path):
    import json

    with fake_server(default=Reply(text="a + b")) as fake:
        env = server_env(tmp_path, {"QWEN_LSP_BASE_URL": fake.base_url})
        run = subprocess.run(
            [sys.executable, "-m", "qwen_lsp", "doctor", "--json"],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)  # nothing but the JSON object on stdout
    from qwen_lsp import __version__

    assert report["version"] == __version__
    assert report["ok"] is True and report["endpoint"] == "ok" and report["fim"] == "ok"
    assert report["base_url"] == fake.base_url and report["transport"] == "completions"
    assert {"level": "ok", "text": "all checks passed"} in report["checks"]
    assert isinstance(report["total_ms"], int)

    with fake_server() as gone:
        url = gone.base_url
    env = server_env(tmp_path, {"QWEN_LSP_BASE_URL": url})
    run = subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "doctor", "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    report = json.loads(run.stdout)
    assert run.returncode == 1 and report["ok"] is False and report["endpoint"] == "unreachable"
    assert any(c["level"] == "error" and "does not answer" in c["text"] for c in report["checks"])
