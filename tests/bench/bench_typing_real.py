"""Real typing into real files: model calls, endpoint traffic, latency, ghost text after pauses.

    python -m tests.bench typing_real            # every scenario (about 12 minutes)
    QWEN_BENCH_SCENARIOS=python,big python -m tests.bench typing_real

Real files of four languages and a 10,000-line Python file (``tests/bench/corpus``); regions of
them, sized like the insert-only hunks of their own git history, are removed and typed back by the
typist of ``tests/bench/typist.py`` (bursts at 30-120 ms a key, pauses after lines and at
punctuation, typos fixed with backspace, auto-closed brackets, invalid code while typing). The
replay drives the real server over stdio as VS Code does (``tests/bench/replay.py``): per key a
``didChange``, ``$/cancelRequest`` of the pending automatic request and a new one. The endpoint
is the fake OpenAI server on 127.0.0.1 answering the file's true continuation after 150 ms.
Also: the ``textDocument/completion`` path, and continuous typing at 30, 80 and 120 ms a key.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_lsp.completion.engine import PAUSE_S as ENGINE_PAUSE_S
from qwen_lsp.completion.engine import SHORT_DEBOUNCE_S
from qwen_lsp.settings import CompletionSettings
from tests.bench.corpus import RealFile, chunk_sizes, python_10k, real_file
from tests.bench.replay import INVOKED, KeyEvent, Oracle, editor_session, replay
from tests.bench.report import percentile, table, write_section
from tests.bench.typist import PAUSE_S, Cadence, traces
from tests.support.fake_openai import FakeOpenAI, Traffic

MODEL_LATENCY_S = 0.150
# Extra initializationOptions for experiments, e.g. '{"context": {"workspaceIndex": false}}'.
OPTIONS = json.loads(os.environ.get("QWEN_BENCH_OPTIONS", "{}"))
KEYS_PER_SCENARIO = 450
SEED = 13
STAGES = ("syntax", "gate", "plan", "postprocess")
STAGE_NAMES = {
    "syntax": "tree reparse",
    "gate": "gate",
    "plan": "prompt plan",
    "postprocess": "post-processing",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    file: str  # corpus language, or "big"
    cadence: Cadence
    mode: str = "inline"


SCENARIOS = (
    Scenario("python", "Python, 1.6k lines (aiohttp client.py)", "python", Cadence()),
    Scenario(
        "typescript", "TypeScript, 2.6k lines (vscode-languageclient)", "typescript", Cadence()
    ),
    Scenario("go", "Go, 1.5k lines (gin context.go)", "go", Cadence()),
    Scenario("rust", "Rust, 2.3k lines (serde_json ser.rs)", "rust", Cadence()),
    Scenario("big", "Python, 10k lines (aiohttp modules joined)", "big", Cadence()),
    Scenario(
        "completion", "Python 1.6k, textDocument/completion path", "python", Cadence(), "completion"
    ),
    Scenario("steady30", "Python 1.6k, continuous 30 ms/key", "python", Cadence.continuous(30)),
    Scenario("steady80", "Python 1.6k, continuous 80 ms/key", "python", Cadence.continuous(80)),
    Scenario("steady120", "Python 1.6k, continuous 120 ms/key", "python", Cadence.continuous(120)),
)


@dataclass
class Outcome:
    scenario: Scenario
    real: RealFile
    events: list[KeyEvent]
    traffic: Traffic
    generations: list[Any]  # the endpoint's generation requests
    stats: dict[str, Any]
    debounce_s: float
    load: tuple[float, float]  # 1-minute load average before and after
    wrong: list[str] = field(default_factory=list)

    @property
    def keys(self) -> int:
        return len(self.events)

    def per_100(self, count: int) -> float:
        return count / self.keys * 100


def load(name: str) -> RealFile:
    return python_10k() if name == "big" else real_file(name)


async def run(scenario: Scenario) -> Outcome:
    real = load(scenario.file)
    plan = list(
        traces(
            real.text,
            real.language_id,
            real.indent,
            chunk_sizes(real.repo),
            KEYS_PER_SCENARIO,
            scenario.cadence,
            SEED,
        )
    )
    oracle = Oracle(real.text, MODEL_LATENCY_S)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-typing-") as tmp:
        async with FakeOpenAI(responder=oracle) as fake:
            async with editor_session(fake, Path(tmp), real, scenario.mode, OPTIONS) as editor:
                await asyncio.sleep(2.0)  # the file is open a moment before typing starts
                before = await editor.stats()
                events = await replay(editor, plan, oracle)
                await asyncio.sleep(0.5)
                stats = await editor.stats()
                if await editor.server_text() != real.text:
                    raise AssertionError("the server's text differs from the editor's")
            traffic = fake.traffic()
            generations = fake.generations
    stats["model_calls"] = stats["engine"]["model_calls"] - before["engine"]["model_calls"]
    outcome = Outcome(
        scenario,
        real,
        events,
        traffic,
        generations,
        stats,
        CompletionSettings().debounce_ms / 1000,
        (load_before, os.getloadavg()[0]),
    )
    outcome.wrong = wrong_suggestions(outcome)
    return outcome


# --- figures --------------------------------------------------------------------------------


def key_to_request(outcome: Outcome) -> list[float]:
    """For each request at the endpoint: time from the last key before it, minus the debounce
    the engine applied (``debounce_ms``, the short one for the first key after a pause, none for
    a request marked Invoked)."""
    asked = [e for e in outcome.events if e.asked_at is not None]
    delays, index = [], 0
    for request in sorted(outcome.generations, key=lambda r: r.received_at):
        while index + 1 < len(asked) and asked[index + 1].sent_at <= request.received_at:
            index += 1
        event = asked[index]
        if event.sent_at > request.received_at:
            continue
        quiet = index == 0 or event.asked_at - asked[index - 1].asked_at > ENGINE_PAUSE_S
        debounce = min(outcome.debounce_s, SHORT_DEBOUNCE_S) if quiet else outcome.debounce_s
        if (event.context or {}).get("triggerKind") == INVOKED:
            debounce = 0.0  # the engine does not wait for an explicit request
        delays.append(request.received_at - event.sent_at - debounce)
    return delays


def pauses(outcome: Outcome) -> list[KeyEvent]:
    """Keys followed by a pause, where a right suggestion exists: the text before the cursor is
    the file's (no typo pending, no indentation the file does not have) and some of the file is
    still missing (not a region's last key)."""
    return [
        e
        for e in outcome.events
        if e.gap_after >= PAUSE_S
        and e.asked_at is not None
        and e.key.target is not None
        and not e.last
    ]


def wrong_suggestions(outcome: Outcome) -> list[str]:
    """Shown suggestions that are not a prefix of what the file says at the cursor."""
    truth, wrong = outcome.real.text, []
    for event in outcome.events:
        if not event.shown or event.key.target is None:
            continue
        shown = event.suggestions[0]
        start = event.key.target - (event.key.cursor - shown.start)
        if not truth.startswith(shown.text, start):
            line_start = truth.rfind("\n", 0, event.key.target) + 1
            wrong.append(
                f"after {truth[line_start : event.key.target]!r}: shown {shown.text[:60]!r}, "
                f"file has {truth[start : start + 60]!r}"
            )
    return wrong


def ms(values: list[float], pct: float, digits: int = 0) -> str:
    return f"{percentile(values, pct) * 1000:.{digits}f}" if values else "-"


def scenario_row(outcome: Outcome) -> list[object]:
    traffic = outcome.traffic
    prep = key_to_request(outcome)
    stops = pauses(outcome)
    shown = [e for e in stops if e.shown]
    to_ghost = [e.answered_at - e.sent_at - MODEL_LATENCY_S for e in shown]
    inline = outcome.scenario.mode == "inline"
    return [
        outcome.scenario.title,
        outcome.keys,
        f"{outcome.per_100(outcome.stats['model_calls']):.1f}",
        f"{outcome.per_100(traffic.received):.1f}",
        f"{outcome.per_100(traffic.dropped):.1f}",
        traffic.connections_opened,
        f"{ms(prep, 50)} / {ms(prep, 95)}",
        f"{len(shown)}/{len(stops)} ({len(shown) / len(stops) * 100:.0f}%)"
        if inline and stops
        else "-",
        f"{statistics.median(to_ghost) * 1000:.0f}" if inline and to_ghost else "-",
        len(outcome.wrong) if inline else "-",
        f"{outcome.load[0]:.1f} / {outcome.load[1]:.1f}",
    ]


def stage_rows(outcome: Outcome) -> list[list[object]]:
    timings = outcome.stats["engine"]["recent_timings_ms"]
    row: list[object] = [outcome.scenario.title, len(timings)]
    for stage in STAGES:
        values = [t[stage] / 1000 for t in timings]
        top = max(values, default=0) * 1000
        row.append(f"{ms(values, 50, 1)} / {ms(values, 95, 1)} / {top:.1f}")
    return [row]


TARGET_ROW = [
    "**target**",
    "",
    "≤ 5",
    "≤ 3",
    "",
    "≤ requests",
    "p95 ≤ 10 (10k file)",
    "≥ 90%",
    "≤ 150",
    "0",
    "",
]
HEADERS = [
    "scenario",
    "keys",
    "model calls /100 keys",
    "requests at endpoint /100 keys",
    "dropped by the server /100 keys",
    "TCP connections",
    "key → request minus debounce p50 / p95 ms",
    "ghost text after a pause",
    "last key → ghost text minus model latency p50 ms",
    "wrong ghost texts",
    "load before / after",
]


def describe(outcomes: list[Outcome]) -> str:
    rows = [TARGET_ROW] + [scenario_row(o) for o in outcomes]
    stage_table = [r for o in outcomes for r in stage_rows(o)]
    wrong = [f"- {o.scenario.name}: {w}" for o in outcomes for w in o.wrong[:5]]
    return "\n\n".join(
        [
            "Real files, real server over stdio, VS Code's request pattern (per key `didChange`, "
            "`$/cancelRequest` of the pending automatic request, a new one), endpoint on "
            f"127.0.0.1 answering the file's true continuation after {MODEL_LATENCY_S * 1000:.0f}"
            " ms; default settings (debounce 60 ms). How the typist types and why: "
            "[Real typing](#real-typing-the-typist) below; code: `tests/bench/typist.py`, "
            "`tests/bench/replay.py`.",
            table(HEADERS, rows),
            "*Model calls*: generations the engine started (`debugStats` `model_calls`). "
            "*Requests at endpoint*: generation requests the endpoint read; *dropped*: of those, "
            "the ones whose connection the server closed before the answer was complete. *Key → "
            "request*: from the `didChange` of the last key before a request reached the endpoint"
            ", minus the debounce the engine applied (60 ms; 10 ms for a key after 0.5 s quiet; "
            "none for a request marked Invoked, which is how VS Code sends its quick suggestions). "
            "*Ghost text after a pause*: keys followed by ≥ 400 ms without a key, where the text "
            "before the cursor is the file's (no typo pending) - answered with ghost text before "
            "the next key; *last key → ghost text minus model latency* is negative when the "
            "ghost text came from the typed-through cache without a model call. *Wrong ghost "
            "texts*: shown ghost text that is not a prefix of what "
            "the file says at the cursor (the model said the truth, so the server changed it).",
            "Server stage timings under this typing (engine `recent_timings_ms`, generations that "
            "reached the model; p50 / p95 / max ms):",
            table(
                ["scenario", "generations"] + [STAGE_NAMES[s] for s in STAGES],
                stage_table,
            ),
            ("Wrong ghost texts (first five per scenario):\n\n" + "\n".join(wrong))
            if wrong
            else "",
        ]
    )


def selected() -> list[Scenario]:
    wanted = os.environ.get("QWEN_BENCH_SCENARIOS")
    if not wanted:
        return list(SCENARIOS)
    names = {n.strip() for n in wanted.split(",")}
    return [s for s in SCENARIOS if s.name in names]


def main() -> None:
    outcomes = []
    for scenario in selected():
        print(f"-- {scenario.name}", flush=True)
        outcomes.append(asyncio.run(run(scenario)))
        print(table(HEADERS, [scenario_row(outcomes[-1])]), flush=True)
    body = describe(outcomes)
    if len(outcomes) == len(SCENARIOS):
        write_section("typing_real", "Real typing: calls, traffic, latency, ghost text", body)
    print(body)


if __name__ == "__main__":
    main()
