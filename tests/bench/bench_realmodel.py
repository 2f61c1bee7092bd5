"""Completion and code-action quality with a real Qwen model (opt-in, not CI).

    python -m tests.bench realmodel            # the full set (<= 20 min on 2 idle cores)
    python -m tests.bench realmodel --quick    # a few cases of each kind
    python -m tests.bench realmodel --full     # also the slower ablations
    python -m tests.bench realmodel --ablations   # only the ablations, live, on the core cases
    python -m tests.bench realmodel --wait-idle   # first wait (<= 15 min) for load < 2.5

Qwen2.5-Coder-0.5B-Instruct Q4_K_M on llama-cpp-python's server (``tests/bench/realmodel/``:
``model.py`` fetches and verifies it, ``llama.py`` serves it), the real qwen-lsp server driven
over stdio per case (``lsp_driver.py``), CrossCodeEval-style cases from four permissively
licensed repositories (``data/``), a naive FIM baseline and ablations (``systems.py``), and the
code-action set (``actions.py``). Tables go to docs/benchmarks.md; every prompt, answer and score
to a JSON file under ``~/.cache/qwen-lsp/bench/``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.bench.report import REPO_ROOT, write_section

OPT_IN = True
QUICK_CASES = (
    "chi-line-cross_file-03",
    "itsdangerous-line-cross_file-01",
    "semver-multiline-in_file-10",
    "ky-line-in_file-06",
    "ky-multiline-cross_file-08",
)
QUICK_ACTIONS = ("py-fix", "ts-explain")
# --ablations: these qwen-lsp variants live on the 16 core cases (compare with the main table).
ABLATIONS = ("no-cross-file", "single-line")
IDLE_LOAD = 2.5


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def wait_idle(limit_s: float = 900) -> None:
    deadline = time.monotonic() + limit_s
    while os.getloadavg()[0] > IDLE_LOAD and time.monotonic() < deadline:
        print(f"load {load()}: waiting for < {IDLE_LOAD}", flush=True)
        time.sleep(30)


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "log", "-1", "--format=%h %cs %s"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()[:90]
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def core_cases(cases: Sequence[Any]) -> list[Any]:
    """One case of each repository x target kind x scope (16): the default live set."""
    chosen: dict[tuple[str, str, str], Any] = {}
    for case in cases:
        chosen.setdefault((case.repo, case.kind, case.scope), case)
    return list(chosen.values())


def main(options: Sequence[str] = ()) -> None:
    from tests.bench.realmodel import llama

    unknown = set(options) - {"--quick", "--full", "--wait-idle", "--no-actions", "--ablations"}
    if unknown:
        raise SystemExit(f"unknown options {sorted(unknown)}")
    reason = llama.available()
    if reason:
        print(f"skipped: {reason}")
        return
    from tests.bench.realmodel import speed
    from tests.bench.realmodel.actions import ACTION_CASES, CORE_ACTIONS
    from tests.bench.realmodel.cases import load_cases
    from tests.bench.realmodel.model import ensure_model
    from tests.bench.realmodel.passes import action_pass, live_pass, prompt_pass
    from tests.bench.realmodel.recorder import recording_proxy
    from tests.bench.realmodel.systems import DEFAULT_BUDGET, LIVE_BUDGET, SYSTEMS

    quick, full, ablations = "--quick" in options, "--full" in options, "--ablations" in options
    if "--wait-idle" in options:
        wait_idle()
    model = ensure_model()
    cases = load_cases()
    live_cases = cases if full else core_cases(cases)
    prompt_cases = cases
    actions = list(ACTION_CASES) if full else [a for a in ACTION_CASES if a.id in CORE_ACTIONS]
    if quick:
        live_cases = [c for c in cases if c.id in QUICK_CASES]
        prompt_cases = live_cases
        actions = [a for a in actions if a.id in QUICK_ACTIONS]
    if "--no-actions" in options or ablations:
        actions = []
    live_systems = [s for s in SYSTEMS if full or not s.full_only]
    prompt_systems = [s for s in SYSTEMS if s.name in ("qwen-lsp", "naive")]
    if ablations:
        live_systems = [s for s in SYSTEMS if s.name in ABLATIONS]
        prompt_cases = []
    started = time.perf_counter()
    load_before = load()
    prompts = asyncio.run(
        prompt_pass(prompt_cases, prompt_systems, (DEFAULT_BUDGET, LIVE_BUDGET), llama.MODEL_ALIAS)
    )
    with (
        tempfile.TemporaryDirectory(prefix="qwen-realmodel-") as tmp,
        llama.real_llama_server(Path(tmp) / "llama.log", model) as server,
        recording_proxy(server.root_url) as recorder,
    ):
        speed_rows = [] if ablations else speed.measure(server, quick)
        load_live = load()
        records = asyncio.run(
            live_pass(live_cases, live_systems, server, recorder, llama.MODEL_ALIAS, LIVE_BUDGET)
        )
        action_outcomes = asyncio.run(
            action_pass(actions, recorder, llama.MODEL_ALIAS, LIVE_BUDGET)
        )
        flags = " ".join(server.flags)
    elapsed = time.perf_counter() - started
    run = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.node(),
        "load_before": load_before,
        "load_live": load_live,
        "load_after": load(),
        "elapsed_s": round(elapsed),
        "model": model.description,
        "llama_cpp_python": llama.version(),
        "server_flags": flags,
        "commit": commit(),
        "quick": quick,
        "full": full,
        "live_budget": LIVE_BUDGET,
        "systems": [asdict(s) for s in live_systems],
        "speed": [{"what": r.what, "wall_s": r.wall_s, **asdict(r.timings)} for r in speed_rows],
        "prompt_records": prompts,
        "records": records,
        "actions": [_action_record(o) for o in action_outcomes],
    }
    saved = save_run(run)
    from tests.bench.realmodel.report_doc import render, render_ablations

    if ablations:
        body = render_ablations(run, records, live_systems)
        write_section("realmodel_ablations", "Real model: ablations (live)", body)
    else:
        body = render(run, speed_rows, prompts, records, action_outcomes, live_systems)
    if not quick and not ablations:
        write_section("realmodel", "Real model: completion and code-action quality", body)
    print(body)
    print(f"all prompts, answers and scores: {saved}", file=sys.stderr)


def _action_record(outcome: Any) -> dict[str, Any]:
    data = asdict(outcome)
    data["exchanges"] = [
        {"text": e.text, "finish_reason": e.finish_reason, "chunks": e.chunks, "request": e.request}
        for e in outcome.exchanges
    ]
    return data


def save_run(run: dict[str, Any]) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    directory = Path(base) / "qwen-lsp" / "bench"
    directory.mkdir(parents=True, exist_ok=True)
    stamp = run["date"].replace(":", "").replace("-", "")[:15]
    path = directory / f"realmodel-{stamp}{'-quick' if run['quick'] else ''}.json"
    path.write_text(json.dumps(run, indent=1, default=str), encoding="utf-8")
    return path


if __name__ == "__main__":
    main(sys.argv[1:])
