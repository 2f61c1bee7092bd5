"""llama-cpp-python's server with the real model, set up for a shared 2-core machine.

One server at a time, two threads, ``OMP_WAIT_POLICY=PASSIVE`` (spinning OpenMP threads of two
servers made prompt processing 3-4x slower here), ``--interrupt_requests false`` (by default a new
request silently cuts the running stream), only the last position's logits. With ``--verbose``
the server logs llama.cpp's own timings of every request, which ``timings()`` reads back.

    with real_llama_server(log_path) as server:
        httpx.post(f"{server.base_url}/completions", json={...})
        server.timings()  # one RequestTimings per request, in order
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.integration.llama_server import LlamaServer, free_port

from .model import ModelFile, ensure_model
from .timings import RequestTimings, parse_timings

MODEL_ALIAS = "qwen2.5-coder-0.5b-instruct"
THREADS = 2
CONTEXT = 8192
SETUP_HINT = "run .ci/llamacpp-setup.sh (builds llama-cpp-python once)"


@dataclass
class RealLlamaServer(LlamaServer):
    model: ModelFile | None = None
    flags: tuple[str, ...] = ()

    def timings(self) -> list[RequestTimings]:
        """llama.cpp's figures for each finished request, in order."""
        return parse_timings(self.log())


def server_flags(threads: int = THREADS, context: int = CONTEXT) -> tuple[str, ...]:
    return (
        "--n_ctx", str(context),
        "--n_threads", str(threads), "--n_threads_batch", str(threads),
        "--logits_all", "false",
        "--interrupt_requests", "false",
        "--verbose", "true",
    )  # fmt: skip


def start(
    log_path: Path, model: ModelFile | None = None, timeout_s: float = 180.0
) -> RealLlamaServer:
    """Start ``python -m llama_cpp.server`` on a free port; returns once /v1/models answers."""
    model = model or ensure_model()
    port = free_port()
    flags = server_flags()
    args = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model.path), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port),
        *flags,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = RealLlamaServer(process, f"http://127.0.0.1:{port}", log_path, model, flags)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"llama_cpp.server exited with {process.returncode}:\n{server.log()}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/models", timeout=1.0).status_code == 200:
                return server
        time.sleep(0.25)
    server.stop()
    raise TimeoutError(f"llama_cpp.server did not answer within {timeout_s} s:\n{server.log()}")


@contextlib.contextmanager
def real_llama_server(log_path: Path, model: ModelFile | None = None) -> Iterator[RealLlamaServer]:
    server = start(log_path, model)
    try:
        yield server
    finally:
        server.stop()


def available() -> str | None:
    """None when llama-cpp-python's server can run here, else why not."""
    import importlib.util

    for name in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette"):
        if importlib.util.find_spec(name) is None:
            return f"{name} is not installed: {SETUP_HINT}"
    return None


def version() -> str:
    from importlib.metadata import version as dist_version

    return dist_version("llama_cpp_python")
