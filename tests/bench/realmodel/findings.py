"""Counts of the issue's observations in a run: prompt rendering, multi-line stopping, suffix
duplication, empty answers, retrieval of the target's cross-file names, and the action table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.bench.report import table

from .actions import ActionOutcome


def prompt_findings(records: Sequence[dict[str, Any]], system: str) -> list[list[Any]]:
    recs = [r for r in records if r["system"] == system and r["prompt_findings"]]
    n = len(recs)
    found = [r["prompt_findings"] for r in recs]
    repeated = [f for f in found if f["repeated_headers"]]
    examples = sorted({h for f in repeated for h in f["repeated_headers"]})[:4]
    return [
        [f"{system} prompts", n],
        [
            "prompts with a container header repeated beyond the file's count",
            f"{len(repeated)} ({sum(sum(f['repeated_headers'].values()) for f in repeated)} "
            f"extra copies; e.g. {'; '.join(f'`{e}`' for e in examples) or '-'})",
        ],
        [
            "prompts whose current-file text jumps back up the file (out of order)",
            f"{sum(f['out_of_order_jumps'] > 0 for f in found)} "
            f"({sum(f['out_of_order_jumps'] for f in found)} jumps)",
        ],
        [
            "prompts showing lines from below the cursor before it",
            f"{sum(f['from_below_cursor_lines'] > 0 for f in found)} "
            f"({sum(f['from_below_cursor_lines'] for f in found)} lines)",
        ],
        [
            "prompts with empty docstrings the file does not have",
            f"{sum(f['empty_docstrings'] > 0 for f in found)}",
        ],
        ["prompts with other files' sections", f"{sum(f['other_files'] > 0 for f in found)}"],
    ]


def recall_rows(records: Sequence[dict[str, Any]], systems: Sequence[str]) -> list[list[Any]]:
    rows = []
    for system in systems:
        found = [
            r["prompt_findings"]
            for r in records
            if r["system"] == system and r["scope"] == "cross_file" and r["prompt_findings"]
        ]
        names = sum(f["cross_names"] for f in found)
        anywhere = sum(f["cross_names_in_prompt"] for f in found)
        others = sum(f["cross_names_in_other_files"] for f in found)
        none = sum(f["cross_names_in_other_files"] == 0 for f in found)
        rows.append(
            [
                system,
                len(found),
                f"{100 * anywhere / names:.0f}%" if names else "-",
                f"{100 * others / names:.0f}%" if names else "-",
                none,
            ]
        )
    return rows


def multiline_rows(records: Sequence[dict[str, Any]], system: str) -> list[list[Any]]:
    recs = [r for r in records if r["system"] == system]
    requests = [q for r in recs for q in r["requests"]]
    multi = [q for q in requests if (q["max_tokens"] or 0) > 64]
    to_limit = [q for q in multi if q["answer_chunks"] >= (q["max_tokens"] or 0) - 1]
    closed = [q for q in multi if q["client_closed_early"]]
    model_stop = [q for q in multi if q["finish_reason"] == "stop" and q not in to_limit]
    seconds = sorted(q["seconds"] for q in multi)
    dup = [r for r in recs if r["score"]["duplicated_suffix_lines"] > 0]
    worst = max((r["score"]["duplicated_suffix_lines"] for r in dup), default=0)
    parse = [r for r in recs if r["score"]["breaks_parse"] and not r["score"]["empty"]]
    return [
        [f"{system}: model requests", len(requests)],
        [
            "… asking for a multi-line answer (max_tokens > 64)",
            f"{len(multi)} ({100 * len(multi) / max(1, len(requests)):.0f}%), "
            f"on {sum(r['kind'] == 'line' for r in recs if any((q['max_tokens'] or 0) > 64 for q in r['requests']))} "  # noqa: E501
            "single-line targets",
        ],
        ["… of which ran to max_tokens", len(to_limit)],
        ["… of which qwen-lsp closed the stream early", len(closed)],
        ["… of which the model ended itself", len(model_stop)],
        [
            "… their duration p50 / max",
            f"{seconds[len(seconds) // 2]:.1f} s / {seconds[-1]:.1f} s" if seconds else "-",
        ],
        ["suggestions re-typing the text after the cursor", f"{len(dup)} (worst {worst} lines)"],
        ["suggestions breaking the file's parse", len(parse)],
    ]


def empty_rows(records: Sequence[dict[str, Any]], system: str) -> list[list[Any]]:
    recs = [r for r in records if r["system"] == system and r["score"]["empty"]]
    no_request = [r for r in recs if not r["requests"] and not r["error"]]
    failed = [r for r in recs if r["error"]]
    model_empty = [
        r for r in recs if r["requests"] and not "".join(q["text"] for q in r["requests"]).strip()
    ]
    dropped = [
        r
        for r in recs
        if r["requests"] and "".join(q["text"] for q in r["requests"]).strip() and not r["error"]
    ]
    return [
        [f"{system}: empty suggestions", len(recs)],
        ["… no model request made (gate)", len(no_request)],
        ["… request failed", len(failed)],
        ["… the model answered nothing", len(model_empty)],
        ["… the model answered, post-processing dropped it all", len(dropped)],
    ]


ACTION_HEADERS = [
    "action",
    "status",
    "s",
    "answer tok",
    "finish",
    "parses",
    "+lines",
    "-lines",
    "fn lines before→after",
    "defs lost",
    "defs duplicated",
    "loses code",
    "fixed",
    "notes",
]


def action_table(outcomes: Sequence[ActionOutcome]) -> str:
    rows = []
    for o in outcomes:
        chunks = sum(e.chunks for e in o.exchanges)
        finish = ",".join(str(e.finish_reason) for e in o.exchanges) or "-"
        notes = o.message[:90]
        if o.new_files:
            notes = f"new file {', '.join(o.new_files)} parses: {o.new_file_parses} {notes}"
        if o.explanation_chars:
            notes = f"{o.explanation_chars} chars shown {notes}"
        if o.status == "not offered":
            notes = f"offered: {'; '.join(o.offered)[:90]}"
        applied = o.status == "applied"
        rows.append(
            [
                o.case.id,
                o.status,
                f"{o.seconds:.0f}",
                chunks,
                finish,
                o.parses if applied else "-",
                o.lines_added if applied else "-",
                o.lines_removed if applied else "-",
                f"{o.region_lines_before}→{o.region_lines_after}" if applied else "-",
                ", ".join(o.definitions_lost) or "-",
                ", ".join(o.definitions_duplicated) or "-",
                o.loses_code if applied else "-",
                "-" if o.fixed is None else o.fixed,
                notes.replace("|", "/").replace("\n", " "),
            ]
        )
    return table(ACTION_HEADERS, rows)
