"""The docs/benchmarks.md section of a real-model run."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from tests.bench.report import table

from .actions import ActionOutcome
from .findings import action_table, empty_rows, multiline_rows, prompt_findings, recall_rows
from .results import quality_table, split_table
from .speed import SpeedRow
from .systems import DEFAULT_BUDGET, NAIVE_MAX_TOKENS, REQUEST_TIMEOUT_S


def speed_table(rows: Sequence[SpeedRow]) -> str:
    body = []
    for r in rows:
        t = r.timings
        body.append(
            [
                r.what,
                t.cached_tokens,
                t.prompt_tokens,
                f"{t.prompt_ms / 1000:.1f}",
                f"{t.prompt_tps:.0f}" if t.prompt_tokens > 1 else "-",
                t.generated_tokens,
                f"{t.decode_tps:.1f}" if t.generated_tokens > 1 else "-",
                f"{r.wall_s:.1f}",
            ]
        )
    headers = [
        "request",
        "cached tok",
        "evaluated tok",
        "prefill s",
        "prefill tok/s",
        "generated tok",
        "decode tok/s",
        "wall s",
    ]
    return table(headers, body)


def case_summary(records: Sequence[dict[str, Any]]) -> str:
    mine = list({r["case"]: r for r in records}.values())
    counts = Counter((r["language"], r["scope"], r["kind"]) for r in mine)
    langs = Counter(r["language"] for r in mine)
    scopes = Counter(r["scope"].replace("_", "-") for r in mine)
    kinds = Counter(r["kind"] for r in mine)
    return (
        f"{len(mine)} cases ({', '.join(f'{k} {v}' for k, v in sorted(langs.items()))}; "
        f"{', '.join(f'{k} {v}' for k, v in sorted(scopes.items()))}; "
        f"{', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}; "
        f"{len(counts)} language/scope/kind groups)"
    )


def budget_findings(prompts: Sequence[dict[str, Any]]) -> str:
    """The prompt checks of qwen-lsp's prompts, one column per budget."""
    budgets = sorted({r["budget"] for r in prompts}, reverse=True)
    columns = [
        prompt_findings([r for r in prompts if r["budget"] == b], "qwen-lsp") for b in budgets
    ]
    rows = [[row[0], *(col[i][1] for col in columns)] for i, row in enumerate(columns[0])]
    return table(["finding", *(f"budget {b}" for b in budgets)], rows)


def budget_recall(prompts: Sequence[dict[str, Any]]) -> str:
    rows = []
    for budget in sorted({r["budget"] for r in prompts}, reverse=True):
        mine = [r for r in prompts if r["budget"] == budget]
        for row in recall_rows(mine, ["qwen-lsp", "naive"]):
            tokens = [
                r["prompt_tokens_counted"]
                for r in mine
                if r["system"] == row[0] and r["scope"] == "cross_file"
            ]
            rows.append([budget, *row, f"{statistics.median(tokens):.0f}" if tokens else "-"])
    headers = [
        "budget",
        "system",
        "cross-file cases",
        "target's cross-file names anywhere in the prompt",
        "… in another file's section",
        "cases with none in another file's section",
        "prompt tokens p50",
    ]
    return table(headers, rows)


def render(
    run: dict[str, Any],
    speed_rows: Sequence[SpeedRow],
    prompts: Sequence[dict[str, Any]],
    records: Sequence[dict[str, Any]],
    actions: Sequence[ActionOutcome],
    systems: Sequence[Any],
) -> str:
    names = [s.name for s in systems]
    system_lines = "\n".join(f"- **{s.name}**: {s.description}" for s in systems)
    multi = multiline_rows(records, "qwen-lsp")
    empty = empty_rows(records, "qwen-lsp")
    applied = [o for o in actions if o.status == "applied"]
    loses = sum(o.loses_code for o in applied)
    duplicates = sum(bool(o.definitions_duplicated) for o in applied)
    return f"""
*Load (1/5/15 min) at the start:* {run["load_before"]}; *at the live pass:* {run["load_live"]};
*at the end:* {run["load_after"]}; whole run {run["elapsed_s"] / 60:.1f} min.
*Code:* `{run["commit"]}`.
*Model:* {run["model"]}, served by llama-cpp-python {run["llama_cpp_python"]}
(`python -m llama_cpp.server {run["server_flags"]}`, `OMP_WAIT_POLICY=PASSIVE`, one server).

Run with `python -m tests.bench realmodel` (opt-in; `--quick`: a smoke run, `--full`: every case
live, the ablation and all 12 actions, about an hour). Cases: CrossCodeEval-style, from the
repository extracts in `tests/bench/realmodel/data/` (chi, itsdangerous, ky, semver; see
`SOURCES`): {case_summary(prompts)}. Every qwen-lsp case is a fresh server over stdio whose only
workspace folder is the extract with the target removed from the file; the file is opened, the
workspace index awaited, an invoked `textDocument/inlineCompletion` sent at the cursor, and the
returned item applied as an editor would. Temperature 0 everywhere.

**Prompt pass** (every case, both budgets; the endpoint is a scripted instant one, so this
measures only what the prompts show). qwen-lsp's prompts checked against the file
(`prompt_checks.py`):

{budget_findings(prompts)}

Retrieval: of each cross-file case, the target's names that only another file declares.

{budget_recall(prompts)}

**Live pass**: {case_summary(records)} against the real model, prompt budget
{run["live_budget"]} tokens for every system (on these 2 cores a {DEFAULT_BUDGET}-token prompt
takes 35-60 s to prefill; see the speed table), `endpoint.timeout_s = {REQUEST_TIMEOUT_S:.0f}` so
that slow answers are scored rather than cut (`> 20 s` counts the requests that qwen-lsp's default
20 s timeout would have lost).

{system_lines}

EM = exact match (line 1 / whole target), ES = edit similarity (0-100), ID = identifiers (exact
sequence / F1), harmful = breaks the file's parse or re-types the text after the cursor; seconds
are the request's wall time as the editor sees it; tokens from llama.cpp's log. The naive system
asks for at most {NAIVE_MAX_TOKENS} tokens at a line start (64 mid-line, cut at the line's end).

{quality_table(records, names)}

By split (EM1 = exact first line, ES = whole-target edit similarity):

{split_table(records, names)}

Multi-line answers, suffix duplication, parse damage (qwen-lsp):

{table(["measure", "count"], multi)}

Empty suggestions (qwen-lsp):

{table(["reason", "count"], empty)}

**CPU speed** of this server (llama.cpp's own timings from its log):

{speed_table(speed_rows)}

**Code actions** ({len(actions)}; each on a real function, the edit applied as an editor would;
"loses code" = a definition gone, or more lines removed than added where the action should only
add or change; {loses} of {len(applied)} applied edits lose code, {duplicates} duplicate a
definition):

{action_table(actions)}
"""


def render_ablations(
    run: dict[str, Any], records: Sequence[dict[str, Any]], systems: Sequence[Any]
) -> str:
    names = [s.name for s in systems]
    system_lines = "\n".join(f"- **{s.name}**: {s.description}" for s in systems)
    multi = [row for s in names for row in multiline_rows(records, s)]
    return f"""
*Load (1/5/15 min) at the start:* {run["load_before"]}; *at the end:* {run["load_after"]};
{run["elapsed_s"] / 60:.1f} min. *Code:* `{run["commit"]}`. Same model, server, cases (the 16
core cases), budget ({run["live_budget"]} tokens) and scoring as the live pass of the main table
above (`python -m tests.bench realmodel --ablations`); compare with its `qwen-lsp` row.

{system_lines}

{quality_table(records, names)}

{split_table(records, names)}

{table(["measure", "count"], multi)}
"""
