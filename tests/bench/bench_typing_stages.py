"""Per-keystroke server work under real typing, in process: which stage grows with file size.

    python -m tests.bench typing_stages
    QWEN_BENCH_PROFILE=1 python -m tests.bench typing_stages   # + cProfile of the 10k file

The same retyping traces (the typist of ``typist.py``, regions in the first 1,000 lines) are
replayed into the server's own objects - ``DocumentStore``, the context engine, the planner, the
post-processor - on the real 10,000-line Python file cut at 1k, 2.5k, 5k and 10k lines. The
stages run where the engine would start a model call: after a key followed by at least the
debounce (60 ms) without another key, so the tree reparse covers the whole burst before it, as
in the server. The oracle's answer (the file's true continuation) is post-processed. No pipes,
no HTTP, no event loop: what is left is the work itself, and how it scales.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_lsp.completion.gate import decide_at
from qwen_lsp.completion.planner import PromptPlanner
from qwen_lsp.completion.postprocess.pipeline import postprocess
from qwen_lsp.completion.snapshot import snapshot_of
from qwen_lsp.context.engine import ContextEngine
from qwen_lsp.context.open_documents import ANALYSIS_DELAY_S
from qwen_lsp.context.tokens import TokenCounter
from qwen_lsp.documents import DocumentStore
from qwen_lsp.settings import Settings
from tests.bench.corpus import RealFile, chunk_sizes, python_10k
from tests.bench.replay import Oracle, position
from tests.bench.report import percentile, table, write_section
from tests.bench.typist import Cadence, Change, pick_regions, retype

SIZES = (1_000, 2_500, 5_000, 10_000)
REGION_LINES = 1_000  # regions are picked here, so every size replays the same edits
DEBOUNCE_S = 0.06
KEYS = 600
SEED = 5
STAGES = ("reparse", "gate", "plan", "postprocess")
DOCSTRING = re.compile(r'\s+"""[^"]{10,}"""')


def cut(real: RealFile, lines: int) -> str:
    """The first ``lines`` lines, ended at a top-level statement."""
    all_lines = real.text.split("\n")
    end = min(lines, len(all_lines) - 1)
    while end < len(all_lines) - 1 and not (
        all_lines[end][:1].isalpha() and all_lines[end - 1] == ""
    ):
        end += 1
    return "\n".join(all_lines[:end]).rstrip("\n") + "\n"


@dataclass
class Timings:
    by_stage: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    reparse_burst: list[tuple[int, float]] = field(default_factory=list)  # (keys, seconds)
    analysis: list[float] = field(default_factory=list)  # background analysis after pauses


class Server:
    """The server's completion objects on one open document, without the LSP layer; the
    context engine analyses the document in process (``flush``) where the server's worker would,
    after a pause."""

    def __init__(self, workspace: Path, text: str):
        settings = Settings()
        self.documents = DocumentStore()
        counter = TokenCounter(settings.endpoint.model, load_now=True)
        self.engine = ContextEngine(settings, counter, self.documents, worker_mode="sync")
        path = workspace / "big.py"
        path.write_text(text, encoding="utf-8")
        self.engine.start([str(workspace)])
        self.planner = PromptPlanner(
            settings,
            transport=lambda: "completions",
            roots=lambda: [str(workspace)],
            context_provider=self.engine,
        )
        self.postprocess = postprocess
        self.uri = path.as_uri()
        self.doc = self.documents.open(self.uri, text, 1, "python")
        self.engine.did_open(self.doc)
        self.engine.flush()
        _ = self.doc.tree

    def change(self, change: Change) -> None:
        current = self.doc.text
        start, end = position(current, change.start), position(current, change.end)
        edit = {"range": {"start": start, "end": end}, "text": change.text}
        self.doc = self.documents.change(self.uri, [edit], self.doc.version + 1)
        self.engine.did_change(self.doc)


def replay_in_process(text: str, seed: int) -> Timings:
    real = python_10k()
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-stages-") as tmp:
        server = Server(Path(tmp), text)
        return replay_into(server, text, real, seed)


def replay_into(server: Server, text: str, real: RealFile, seed: int) -> Timings:
    planner, postprocess = server.planner, server.postprocess
    oracle = Oracle(text, 0.0)
    rng = random.Random(seed)
    regions = pick_regions(cut(real, REGION_LINES), chunk_sizes(real.repo), KEYS, rng)
    timings = Timings()
    for region in regions:
        trace = retype(text, region, "python", real.indent, Cadence(), rng)
        oracle.focus = trace.removal.start
        keys = [(trace.removal, 10.0, None)] + [(k.change, k.delay_s, k) for k in trace.keys]
        burst = 0
        for index, (change, _delay, key) in enumerate(keys):
            server.change(change)
            doc = server.doc
            burst += 1
            following = keys[index + 1][1] if index + 1 < len(keys) else 10.0
            if following >= ANALYSIS_DELAY_S:  # where the worker's analysis comes in
                started = time.perf_counter()
                server.engine.flush()
                timings.analysis.append(time.perf_counter() - started)
            if key is None or following < DEBOUNCE_S:
                continue
            request = snapshot_of(doc, key.cursor, automatic=True)
            t0 = time.perf_counter()
            request = request.with_syntax()
            t1 = time.perf_counter()
            decision = decide_at(request, planner.settings.completion.multiline)
            t2 = time.perf_counter()
            timings.by_stage["reparse"].append(t1 - t0)
            timings.reparse_burst.append((burst, t1 - t0))
            timings.by_stage["gate"].append(t2 - t1)
            burst = 0
            if not decision.complete:
                continue
            plan = planner.plan(request, decision.multiline)
            t3 = time.perf_counter()
            raw = oracle.continuation(plan.request.prefix)
            t4 = time.perf_counter()
            postprocess(raw, request, plan)
            t5 = time.perf_counter()
            timings.by_stage["plan"].append(t3 - t2)
            timings.by_stage["postprocess"].append(t5 - t4)
        if server.doc.text != text:
            raise AssertionError("the in-process replay left a different text")
    return timings


def docstring_reparses(text: str) -> list[float]:
    """Reparse time after each key while retyping the first one-line docstring after line 100
    (a key every 200 ms: every key reparses). Until its closing quotes are typed, the opening
    ones turn the rest of the file inside out (code becomes string and strings code)."""
    real = python_10k()
    lines = text.split("\n")
    line = next(i for i, ln in enumerate(lines) if i > 100 and DOCSTRING.fullmatch(ln) is not None)
    documents = DocumentStore()
    doc = documents.open("file:///big.py", text, 1, "python")
    _ = doc.tree
    trace = retype(
        text, (line, line + 1), "python", real.indent, Cadence.continuous(200), random.Random(1)
    )
    times = []
    for key in [None, *trace.keys]:
        change = trace.removal if key is None else key.change
        current = doc.text
        start, end = position(current, change.start), position(current, change.end)
        edit = {"range": {"start": start, "end": end}, "text": change.text}
        doc = documents.change(doc.uri, [edit], doc.version + 1)
        started = time.perf_counter()
        _ = doc.tree
        times.append(time.perf_counter() - started)
    return times[1:]


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return (
        f"{percentile(values, 50) * 1000:.2f} / {percentile(values, 95) * 1000:.2f} / "
        f"{max(values) * 1000:.1f}"
    )


def profile(text: str) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    replay_in_process(text, SEED)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    return out.getvalue()


def main() -> None:
    real = python_10k()
    rows: list[list[Any]] = []
    burst_rows: list[list[Any]] = []
    for size in SIZES:
        text = cut(real, size)
        timings = replay_in_process(text, SEED)
        lines = text.count("\n")
        rows.append(
            [f"{lines:,}", len(timings.by_stage["reparse"])]
            + [fmt(timings.by_stage[s]) for s in STAGES]
        )
        long_bursts = [s for n, s in timings.reparse_burst if n >= 5]
        short = [s for n, s in timings.reparse_burst if n < 5]
        burst_rows.append(
            [
                f"{lines:,}",
                fmt(short),
                fmt(long_bursts),
                fmt(docstring_reparses(text)),
                fmt(timings.analysis),
            ]
        )
        print(rows[-1], burst_rows[-1], flush=True)
    body = (
        "In process (no pipes, HTTP or event loop): the same retyping traces replayed into "
        "`DocumentStore`, the context engine, the planner and the post-processor, on the "
        "real 10,000-line Python file cut at several sizes; edits all fall in the first 1,000 "
        "lines, so every size replays the same keys. Stages run where the engine would start "
        f"a model call (a key followed by ≥ {DEBOUNCE_S * 1000:.0f} ms without another), the "
        "tree reparse covering the whole burst before it. p50 / p95 / max ms.\n\n"
        + table(["file lines", "model calls", *STAGES], rows)
        + "\n\nTree reparse by burst length (keys since the previous reparse); the same while "
        "retyping a one-line docstring near the top of the file (a reparse after every key); "
        "and the open document's analysis that the worker process does after a pause "
        f"(≥ {ANALYSIS_DELAY_S * 1000:.0f} ms; here in process):\n\n"
        + table(
            [
                "file lines",
                "reparse, < 5 keys",
                "reparse, ≥ 5 keys",
                "reparse, typing a docstring",
                "analysis after a pause",
            ],
            burst_rows,
        )
    )
    write_section("typing_stages", "Stage costs under real typing, by file size", body)
    print(body)
    if os.environ.get("QWEN_BENCH_PROFILE"):
        print(profile(cut(real, SIZES[-1])))


if __name__ == "__main__":
    main()
