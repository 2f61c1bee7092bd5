"""One completion result as a flat record (scores, requests, prompt findings), and the tables
built from many of them."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from tests.bench.report import percentile, table

from .metrics import score
from .prompt_checks import check_prompt
from .recorder import Exchange
from .systems import DEFAULT_TIMEOUT_S, Outcome
from .timings import RequestTimings


def request_record(exchange: Exchange, timing: RequestTimings | None) -> dict[str, Any]:
    request = exchange.request or {}
    return {
        "max_tokens": request.get("max_tokens"),
        "answer_chunks": exchange.chunks,
        "finish_reason": exchange.finish_reason,
        "client_closed_early": exchange.client_closed_early,
        "seconds": round(exchange.seconds, 3),
        "first_byte_s": round((exchange.first_byte or exchange.started) - exchange.started, 3),
        "text": exchange.text,
        "prompt_tokens": timing.prompt_tokens + timing.cached_tokens if timing else None,
        "cached_tokens": timing.cached_tokens if timing else None,
        "generated_tokens": timing.generated_tokens if timing else None,
    }


def record(outcome: Outcome, timings: Sequence[RequestTimings]) -> dict[str, Any]:
    case = outcome.case
    prefix, suffix = case.split()
    s = score(outcome.prediction, case.target, prefix, suffix, case.language)
    paired = list(timings) if len(timings) == len(outcome.exchanges) else []
    requests = [
        request_record(e, paired[i] if paired else None) for i, e in enumerate(outcome.exchanges)
    ]
    findings = None
    if outcome.prompt:
        visible = prefix + suffix
        findings = asdict(check_prompt(outcome.prompt, visible, case.line, case.cross_names))
    return {
        "case": case.id,
        "repo": case.repo,
        "language": case.language,
        "kind": case.kind,
        "scope": case.scope,
        "cursor": case.cursor,
        "system": outcome.system,
        "target": case.target,
        "prediction": outcome.prediction,
        "seconds": round(outcome.seconds, 3),
        "index_s": round(outcome.index_s, 3),
        "error": outcome.error,
        "score": {**asdict(s), "harmful": s.harmful},
        "requests": requests,
        "prompt_findings": findings,
        "prompt": outcome.prompt,
    }


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def quality_row(label: str, recs: Sequence[dict[str, Any]]) -> list[Any]:
    n = len(recs)
    scores = [r["score"] for r in recs]
    seconds = [r["seconds"] for r in recs]
    # Counted with the Qwen tokenizer: llama.cpp logs no timings for a stream the client closed.
    tokens = [r["prompt_tokens_counted"] for r in recs if r.get("prompt_tokens_counted")]
    answer = [sum(q["answer_chunks"] for q in r["requests"]) for r in recs]
    return [
        label,
        n,
        _pct(sum(s["exact_first_line"] for s in scores), n),
        _pct(sum(s["exact"] for s in scores), n),
        f"{100 * _mean([s['es_first_line'] for s in scores]):.0f}",
        f"{100 * _mean([s['es'] for s in scores]):.0f}",
        _pct(sum(s["id_exact"] for s in scores), n),
        f"{100 * _mean([s['id_f1'] for s in scores]):.0f}",
        _pct(sum(s["empty"] for s in scores), n),
        _pct(sum(s["harmful"] for s in scores), n),
        f"{statistics.median(seconds):.1f}" if seconds else "-",
        f"{percentile(seconds, 95):.1f}" if seconds else "-",
        sum(s > DEFAULT_TIMEOUT_S for s in seconds),
        f"{statistics.median(tokens):.0f}" if tokens else "-",
        f"{statistics.median(answer):.0f}" if answer else "-",
    ]


QUALITY_HEADERS = [
    "system",
    "n",
    "EM line 1",
    "EM",
    "ES line 1",
    "ES",
    "ID EM",
    "ID F1",
    "empty",
    "harmful",
    "p50 s",
    "p95 s",
    "> 20 s",
    "prompt tok p50",
    "answer tok p50",
]


def quality_table(records: Sequence[dict[str, Any]], systems: Sequence[str]) -> str:
    rows = [quality_row(s, [r for r in records if r["system"] == s]) for s in systems]
    return table(QUALITY_HEADERS, rows)


SPLITS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("language", lambda r: r["language"]),
    ("scope", lambda r: r["scope"].replace("_", "-")),
    ("target", lambda r: r["kind"]),
    ("cursor", lambda r: r["cursor"].replace("_", " ")),
)


def split_table(records: Sequence[dict[str, Any]], systems: Sequence[str]) -> str:
    """EM of line 1 / ES / empty per split, one column group per system."""
    headers = ["split", "n"]
    for system in systems:
        headers += [f"{system} EM1", f"{system} ES", f"{system} empty"]
    rows = []
    for name, key in SPLITS:
        values = sorted({key(r) for r in records})
        for value in values:
            row: list[Any] = [f"{name}: {value}"]
            n = 0
            for system in systems:
                recs = [r for r in records if r["system"] == system and key(r) == value]
                n = len(recs)
                scores = [r["score"] for r in recs]
                row += [
                    _pct(sum(s["exact_first_line"] for s in scores), n),
                    f"{100 * _mean([s['es'] for s in scores]):.0f}",
                    _pct(sum(s["empty"] for s in scores), n),
                ]
            row.insert(1, n)
            rows.append(row)
    return table(headers, rows)
