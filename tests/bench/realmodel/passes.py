"""The benchmark's passes over the cases.

- *prompt pass*: every case through qwen-lsp against an instant scripted endpoint
  (``tests/support/fake_openai.py``) at each budget, plus the naive prompt: what the prompts
  show (header, order, docstrings, the target's cross-file names) costs seconds, not model time;
- *live pass*: the chosen cases and systems against the real model (answers, latency, tokens);
- *action pass*: the code-action set against the real model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from qwen_lsp.context.tokens import TokenCounter

from .actions import ActionCase, ActionOutcome, run_action
from .cases import Case
from .recorder import Recorder, recording_proxy
from .results import record
from .systems import System, base_settings, merged, run_naive, run_qwen_lsp


def _progress(number: int, total: int, rec: dict[str, Any]) -> None:
    s = rec["score"]
    print(
        f"[{number}/{total}] {rec['case']} {rec['system']}: {rec['seconds']:.1f}s "
        f"EM1={s['exact_first_line']} ES={s['es']:.2f} empty={s['empty']} "
        f"harmful={s['harmful']} {rec['error'][:60]}",
        flush=True,
    )


async def live_pass(
    cases: Sequence[Case],
    systems: Sequence[System],
    server: Any,
    recorder: Recorder,
    model: str,
    budget: int,
) -> list[dict[str, Any]]:
    """Each case through each system against the real model server."""
    counter = TokenCounter(load_now=True)
    base = base_settings(recorder.base_url, model, budget)
    records = []
    for number, case in enumerate(cases, 1):
        for system in systems:
            before = len(server.timings())
            if system.settings is None:
                outcome = await run_naive(case, recorder, model, counter, budget)
            else:
                outcome = await run_qwen_lsp(
                    case, merged(base, system.settings), recorder, system.name
                )
            await asyncio.sleep(0.3)  # the server's perf lines trail its answer
            rec = record(outcome, server.timings()[before:])
            rec["budget"] = budget
            rec["prompt_tokens_counted"] = count_prompt(outcome.prompt, counter)
            records.append(rec)
            _progress(number, len(cases), rec)
    return records


async def prompt_pass(
    cases: Sequence[Case], systems: Sequence[System], budgets: Sequence[int], model: str
) -> list[dict[str, Any]]:
    """Prompts only: qwen-lsp systems against an endpoint that answers at once with nothing."""
    from tests.support.fake_openai import FakeOpenAI, Reply

    counter = TokenCounter(load_now=True)
    records = []
    async with FakeOpenAI(flavor="openai") as fake:
        fake.default = Reply(text="")
        with recording_proxy(fake.root_url) as recorder:
            for budget in budgets:
                base = base_settings(recorder.base_url, model, budget)
                base["endpoint"]["transport"] = "completions"
                for case in cases:
                    for system in systems:
                        if system.settings is None:
                            outcome = await run_naive(case, recorder, model, counter, budget)
                        else:
                            settings = merged(base, system.settings)
                            outcome = await run_qwen_lsp(case, settings, recorder, system.name)
                        rec = record(outcome, [])
                        rec["budget"] = budget
                        rec["prompt_tokens_counted"] = count_prompt(outcome.prompt, counter)
                        records.append(rec)
    return records


SPECIALS = ("<|repo_name|>", "<|file_sep|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")


def count_prompt(prompt: str, counter: TokenCounter) -> int:
    """Qwen tokens of a prompt, each special token counted once (as the server tokenizes it)."""
    specials = sum(prompt.count(s) for s in SPECIALS)
    for special in SPECIALS:
        prompt = prompt.replace(special, "")
    return counter.count(prompt) + specials


async def action_pass(
    cases: Sequence[ActionCase], recorder: Recorder, model: str, budget: int
) -> list[ActionOutcome]:
    base = base_settings(recorder.base_url, model, budget)
    outcomes = []
    for case in cases:
        outcome = await run_action(case, base, recorder)
        outcomes.append(outcome)
        print(f"action {case.id}: {outcome.status} {outcome.seconds:.1f}s {outcome.message[:80]}")
    return outcomes
