"""The docs/benchmarks.md section of a real-model run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from tests.bench.report import table

from .actions import ActionOutcome
from .findings import action_table, empty_rows, multiline_rows, prompt_findings, recall_table
from .results import quality_table, split_table
from .speed import SpeedRow
from .systems import BUDGET, NAIVE_MAX_TOKENS, REQUEST_TIMEOUT_S


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
    first = records[0]["system"] if records else ""
    mine = [r for r in records if r["system"] == first]
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


def render(
    run: dict[str, Any],
    speed_rows: Sequence[SpeedRow],
    records: Sequence[dict[str, Any]],
    actions: Sequence[ActionOutcome],
    systems: Sequence[Any],
) -> str:
    names = [s.name for s in systems]
    system_lines = "\n".join(f"- **{s.name}**: {s.description}" for s in systems)
    qwen_systems = [s.name for s in systems if s.settings is not None]
    prompt_rows = prompt_findings(records, "qwen-lsp")
    multi = multiline_rows(records, "qwen-lsp")
    empty = empty_rows(records, "qwen-lsp")
    loses = sum(o.loses_code for o in actions if o.status == "applied")
    return f"""
*Load (1/5/15 min) before:* {run["load_before"]}; *after:* {run["load_after"]}; whole run
{run["elapsed_s"] / 60:.1f} min. *Code:* `{run["commit"]}`.
*Model:* {run["model"]}, served by llama-cpp-python {run["llama_cpp_python"]}
(`python -m llama_cpp.server {run["server_flags"]}`, `OMP_WAIT_POLICY=PASSIVE`, one server).

Run with `python -m tests.bench realmodel` (opt-in; `--quick` for a smoke run, `--full` adds the
slower ablations). Cases: {case_summary(records)}, from the repository extracts in
`tests/bench/realmodel/data/` (chi, itsdangerous, ky, semver; see `SOURCES`). Every qwen-lsp case
is a fresh server over stdio whose workspace is the extract with the target removed from the
file; the file is opened, the index awaited, and an invoked `textDocument/inlineCompletion` sent
at the cursor. All systems: temperature 0, prompt budget {BUDGET} tokens (qwen-lsp's default
`context.max_prompt_tokens`), `endpoint.timeout_s = {REQUEST_TIMEOUT_S:.0f}` so that slow answers
are scored instead of cut (the default is 20 s: the `> 20 s` column counts the requests it would
have lost).

{system_lines}

EM = exact match (line 1 / whole target), ES = edit similarity (0-100), ID = identifiers
(exact sequence / F1), harmful = breaks the file's parse or re-types the text after the cursor;
seconds are wall time of the request as the editor sees it; tokens from llama.cpp's log.
The naive system asks for at most {NAIVE_MAX_TOKENS} tokens at a line start (64 mid-line, cut at
the line's end).

{quality_table(records, names)}

By split (EM1 = exact first line, ES = whole-target edit similarity):

{split_table(records, names)}

**Retrieval** (cross-file cases: the target's names that another file declares):

{recall_table(records, [*qwen_systems, "naive"])}

**What qwen-lsp's prompts show** (checked against the file; see `prompt_checks.py`):

{table(["finding", "count"], prompt_rows)}

**Multi-line answers, suffix duplication, parse damage:**

{table(["measure", "count"], multi)}

**Empty suggestions:**

{table(["reason", "count"], empty)}

**CPU speed** of this server (llama.cpp's own timings from its log):

{speed_table(speed_rows)}

**Code actions** ({len(actions)}; each on a real function, the edit applied as an editor would;
"loses code" = a definition gone, or more lines removed than added where the action should only
add or change; {loses} of {sum(o.status == "applied" for o in actions)} applied edits lose code):

{action_table(actions)}
"""
