"""Next-edit prediction on real commits (``tests/bench/nextedit_set``), without a model.

``python -m tests.bench nextedit`` — for every case the first hunk is applied as the user's
edit (recorded in the document's history, the cursor after it) and the pipeline is run:

* **reach**: is the commit's next hunk inside the editable region at all (the region bounds
  what any model can predict);
* **oracle**: a perfect model's answer (the region as the commit left it), read back through
  the real parser, diff and refusal rules: the ceiling of exact matches, and what the rules
  refuse that was right;
* **hostile answers**: for each case, answers that delete the user's edit, leave a bracket
  open, or rewrite the region, scored with and without the refusal rules (harmful shown);
* stage costs: plan (region, history, prompt) and interpret (parse, diff, rules) per case.

The oracle through the real server (latency, model calls, cancellations) is
``bench_nextedit_server.py``; a real small Qwen model is ``bench_nextedit_real.py``.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable

from qwen_lsp.nextedit.diff import apply_changes
from qwen_lsp.nextedit.predict import Plan, interpret, plan
from qwen_lsp.nextedit.prompts import Format
from tests.bench.nextedit_cases import Case, load_cases
from tests.bench.nextedit_score import Replay, replay, score
from tests.bench.report import percentile, table, write_section


def path_of(r: Replay) -> Callable[[object], str]:
    return lambda _doc: r.case.path


def make_plan(r: Replay, fmt: Format = "instruct") -> Plan:
    return plan(r.doc, r.cursor, fmt, "oracle", [r.doc], path_of(r))


def expected_region(r: Replay, asked: Plan) -> str | None:
    """The region as the commit left it, or None when the next hunk is not inside it."""
    region = asked.region
    lo, hi = r.expected_lines
    if not (region.first <= lo and hi <= region.last + 1):
        return None
    first_lines = r.first.split("\n")
    expected_lines = r.expected.split("\n")
    grown = len(expected_lines) - len(first_lines)
    return "\n".join(expected_lines[region.first : region.last + 1 + grown])


def answer_for(fmt: Format, region_text: str, language: str) -> str:
    if fmt == "zeta":
        return f"<|editable_region_start|>\n{region_text}\n"
    return f"```{language}\n{region_text}\n```"


def predicted_text(r: Replay, asked: Plan, answer: str, check: bool = True) -> str | None:
    """The document the answer would make (None: no prediction or refused)."""
    if not check:  # what the answer says, without the refusal rules
        from qwen_lsp.nextedit.predict import region_answer

        region = asked.region
        return r.first[: region.start] + region_answer(asked, answer) + r.first[region.end :]
    outcome = interpret(asked, answer, "stop", r.doc)
    if outcome.prediction is None:
        return None
    return apply_changes(r.first, outcome.prediction.changes)


def hostile_answers(r: Replay, asked: Plan) -> dict[str, str]:
    """Answers a bad model gives: undo the user's edit, an open bracket, a rewrite."""
    region_text = asked.region.text(r.first)
    lines = region_text.split("\n")
    hunk = r.case.hunks[0]
    typed = set(range(hunk.start, hunk.start + len(hunk.new)))
    undone = [line for i, line in enumerate(lines, asked.region.first) if i not in typed]
    opened = list(lines)
    last_code = max((i for i, line in enumerate(opened) if line.strip()), default=0)
    opened[last_code] = opened[last_code] + " (["
    rewrite = [line.replace(" ", "") for line in lines]  # a model that garbles the region
    return {
        "deletes the user's edit": "\n".join(undone),
        "leaves a bracket open": "\n".join(opened),
        "garbles the region": "\n".join(rewrite),
    }


def run_oracle(cases: list[Case], fmt: Format) -> dict[str, object]:
    plans_ms, interpret_ms = [], []
    reach = exact = located = 0
    refusals: Counter[str] = Counter()
    sims = []
    for case in cases:
        r = replay(case)
        started = time.perf_counter()
        asked = make_plan(r, fmt)
        plans_ms.append((time.perf_counter() - started) * 1000)
        region_new = expected_region(r, asked)
        if region_new is None:
            sims.append(0.0)
            continue
        reach += 1
        answer = answer_for(fmt, region_new, case.language)
        started = time.perf_counter()
        outcome = interpret(asked, answer, "stop", r.doc)
        interpret_ms.append((time.perf_counter() - started) * 1000)
        if outcome.prediction is None:
            refusals[outcome.reason] += 1
            sims.append(0.0)
            continue
        result = score(r, apply_changes(r.first, outcome.prediction.changes))
        exact += result.exact
        located += result.located
        sims.append(result.similarity)
    return {
        "reach": reach,
        "exact": exact,
        "located": located,
        "similarity": statistics.fmean(sims),
        "refusals": dict(refusals),
        "plan_ms": plans_ms,
        "interpret_ms": interpret_ms,
    }


def run_hostile(cases: list[Case]) -> dict[str, tuple[int, int, int]]:
    """{kind: (answers, harmful without the rules, harmful shown with them)}."""
    out: dict[str, list[int]] = {}
    for case in cases:
        r = replay(case)
        asked = make_plan(r)
        for kind, region_text in hostile_answers(r, asked).items():
            answer = answer_for("instruct", region_text, case.language)
            raw = score(r, predicted_text(r, asked, answer, check=False))
            shown = score(r, predicted_text(r, asked, answer))
            counts = out.setdefault(kind, [0, 0, 0])
            counts[0] += 1
            counts[1] += raw.harmful
            counts[2] += shown.harmful
    return {kind: (a, b, c) for kind, (a, b, c) in out.items()}


def distances(cases: list[Case]) -> list[int]:
    """Lines from the end of the user's edit to the start of the next hunk."""
    out = []
    for case in cases:
        first, second = case.hunks[0], case.shift_after_first(case.hunks[1])
        out.append(second.start - (first.start + len(first.new)))
    return out


def main() -> None:
    cases = load_cases()
    languages = Counter(c.language for c in cases)
    gaps = distances(cases)
    rows = []
    timing = {}
    for fmt in ("instruct", "zeta"):
        result = run_oracle(cases, fmt)
        timing[fmt] = result
        refused = ", ".join(f"{k} {v}" for k, v in sorted(result["refusals"].items())) or "none"
        rows.append(
            [
                fmt,
                len(cases),
                f"{result['reach']} ({100 * result['reach'] / len(cases):.0f}%)",
                f"{result['exact']} ({100 * result['exact'] / len(cases):.0f}%)",
                result["located"],
                result["similarity"],
                refused,
            ]
        )
    hostile = run_hostile(cases)
    hostile_rows = [[k, n, raw, shown] for k, (n, raw, shown) in hostile.items()]
    plan_ms = timing["instruct"]["plan_ms"]
    interpret_ms = timing["instruct"]["interpret_ms"]
    mix = ", ".join(f"{n} {k}" for k, n in sorted(languages.items()))
    body = "\n\n".join(
        [
            f"{len(cases)} cases from 4 repositories ({mix}); "
            "see tests/bench/nextedit_set/SOURCES.md. Lines from the end of the user's edit to "
            f"the next hunk: median {statistics.median(gaps):.0f}, max {max(gaps)}.",
            "**Oracle** (a perfect model: the region as the commit left it), read back through "
            "the parser, minimal diff and refusal rules. *reach*: the next hunk lies inside the "
            "editable region; *exact*: the prediction is exactly the next hunk.",
            table(
                ["format", "cases", "reach", "exact", "located", "similarity", "refused"],
                rows,
            ),
            "**Hostile answers** (made from each case's region): harmful predictions without "
            "and with the refusal rules (harmful: adds syntax errors or removes the user's "
            "own edit).",
            table(["answer", "answers", "harmful without rules", "harmful shown"], hostile_rows),
            "**Stage costs** (instruct format, in process): plan (region, history, prompt) "
            f"p50 {statistics.median(plan_ms):.2f} ms, p95 {percentile(plan_ms, 95):.2f} ms; "
            f"interpret (parse, diff, rules, reparse) p50 {statistics.median(interpret_ms):.2f} "
            f"ms, p95 {percentile(interpret_ms, 95):.2f} ms.",
        ]
    )
    write_section("nextedit", "Next-edit prediction: replay set, oracle, refusal rules", body)
    print(body)


if __name__ == "__main__":
    main()
