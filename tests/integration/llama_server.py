"""Run llama-cpp-python's OpenAI-compatible server on a tiny Qwen2 GGUF, for tests and benchmarks.

This is ``python -m llama_cpp.server`` (llama-cpp-python), not llama.cpp's own ``llama-server``:
it serves ``/v1/completions`` (raw FIM prompts, streaming, ``stop``), ``/v1/chat/completions`` and
``/extras/tokenize``, but no ``/infill`` and no ``/props``. It reuses the KV cache of the longest
prompt start shared with the previous request, and with ``verbose`` it logs each reuse
("N prefix-match hit, remaining M prompt tokens to eval").
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .tiny_qwen_gguf import TinyConfig, find_vocab, write_tiny_qwen

MODEL_ALIAS = "qwen2.5-coder-tiny"
PREFIX_HIT = re.compile(r"(\d+) prefix-match hit, remaining (\d+) prompt tokens")
SETUP_HINT = "run .ci/llamacpp-setup.sh (builds llama-cpp-python once, caches the Qwen vocab)"


@dataclass
class LlamaServer:
    process: subprocess.Popen[bytes]
    root_url: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def completion_posts(self) -> int:
        """Requests that reached /v1/completions (from uvicorn's access log)."""
        return self.log().count('"POST /v1/completions HTTP/1.1" 200')

    def prefix_hits(self) -> list[tuple[int, int]]:
        """(reused, evaluated) prompt tokens of each request that reused the KV cache."""
        return [(int(a), int(b)) for a, b in PREFIX_HIT.findall(self.log())]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_model(directory: Path, config: TinyConfig | None = None) -> Path:
    vocab = find_vocab()
    if vocab is None:
        raise FileNotFoundError(f"no ggml-vocab-qwen2.gguf found: {SETUP_HINT}")
    return write_tiny_qwen(vocab, directory / "tiny-qwen2.gguf", config)


def start_llama_server(model: Path, log_path: Path, timeout_s: float = 90.0) -> LlamaServer:
    """Start the server and wait until /v1/models answers."""
    port = free_port()
    args = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096",
        # One thread each: on a 2-core machine shared with the test client, spinning ggml
        # threads fight for the cores and timings swing tenfold.
        "--n_threads", "1", "--n_threads_batch", "1",
        # Only the last position's logits: computing all of them (the default) would make
        # every prompt token pay for the 152k-entry output layer.
        "--logits_all", "false",
        # A new request must not silently end the running one: only a client disconnect may
        # free the server, which is what the cancellation test checks.
        "--interrupt_requests", "false",
        "--verbose", "true",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = log_path.open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    server = LlamaServer(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"llama_cpp.server exited with {process.returncode}:\n{server.log()}"
            )
        try:
            if httpx.get(f"{server.base_url}/models", timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise TimeoutError(f"llama_cpp.server did not answer within {timeout_s} s:\n{server.log()}")
