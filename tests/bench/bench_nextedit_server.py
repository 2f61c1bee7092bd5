"""Next-edit prediction through the real server, with an oracle model: latency and call counts.

``python -m tests.bench nextedit_server`` — for every case of the replay set the real server
(stdio, ``next_edit.enabled``, a client that takes ``qwen/nextEdit`` notifications) opens the
extract; the user's edit (the commit's first hunk) is made the way a person types it (the old
lines removed in one change, the new ones typed key by key by the typist of
``tests/bench/typist.py``, VS Code's inline completion requests on every key, as in the typing
replay); then the editor waits. The endpoint is an oracle after a fixed latency: for a
next-edit prompt it rewrites the region as the commit did (when the next hunk is inside it and
the region is the file's text), for FIM it answers nothing.

Per case: the ``qwen/nextEdit`` notifications, the model calls (next-edit and FIM), the streams
cancelled, the time from the last key to the prediction, and whether the delivered edit applied
to the editor's text is the commit's next hunk.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwen_lsp.documents import common_affixes
from tests.bench.corpus import RealFile
from tests.bench.nextedit_cases import Case, load_cases
from tests.bench.nextedit_score import replay as replay_case
from tests.bench.replay import EditorClient, editor_session, offset_after
from tests.bench.report import percentile, table, write_section
from tests.bench.typist import Cadence, Change, retype
from tests.support.fake_openai import FakeOpenAI, RecordedRequest, Reply

LATENCY_S = 0.3  # the oracle's time to the first byte
DEBOUNCE_MS = 400
WAIT_S = 4.0  # after the last key
EXTENSIONS = {"python": "py", "go": "go", "javascript": "js", "typescript": "ts", "rust": "rs"}
REGION = re.compile(r"<\|editable_region_start\|>\n(.*?)\n<\|editable_region_end\|>", re.S)
CAPABILITIES = {"experimental": {"qwenNextEdit": True}}


class NextEditOracle:
    """Answers next-edit prompts with the region as the commit left it."""

    def __init__(self, first: str, expected: str):
        self.first, self.expected = first, expected
        self.calls = 0

    def __call__(self, request: RecordedRequest) -> Reply:
        if request.route != "chat":
            return Reply(text="", delay_before_headers=LATENCY_S)
        self.calls += 1
        user = (request.json or {})["messages"][-1]["content"]
        region = REGION.search(user).group(1).replace("<|user_cursor|>", "")
        return Reply(text=f"```\n{self.rewrite(region)}\n```", delay_before_headers=LATENCY_S)

    def rewrite(self, region: str) -> str:
        """The region in ``expected`` when it is a whole-line span of ``first`` there."""
        at = self.first.find(region)
        if at < 0 or (at and self.first[at - 1] != "\n"):
            return region
        prefix, suffix = self.first[:at], self.first[at + len(region) :]
        if not (self.expected.startswith(prefix) and self.expected.endswith(suffix)):
            return region
        return self.expected[len(prefix) : len(self.expected) - len(suffix)]


@dataclass
class Run:
    case: str
    keys: int
    model_calls: int
    fim_calls: int
    cancelled: int  # next-edit streams cancelled by a newer edit
    fim_cancelled: int
    latency_s: float | None  # last key → the prediction (None: none came)
    delivered: bool
    exact: bool


def typing_plan(case: Case, seed: int) -> tuple[Change, list[Any]]:
    """The change removing the first hunk's old lines, then the keys typing its new ones (one
    pasted change when the typist cannot retype them, e.g. at the extract's first line)."""
    first = case.apply(1)
    hunk = case.hunks[0]
    try:
        if not hunk.new or hunk.start == 0:
            raise ValueError("nothing to type, or no line above to start from")
        trace = retype(
            first,
            (hunk.start, hunk.start + len(hunk.new)),
            case.language,
            "\t" if case.language == "go" else "    ",
            Cadence(),
            random.Random(seed),
        )
    except (AssertionError, ValueError, IndexError):
        return one_change(case.before, first), []
    return one_change(case.before, trace.removal.apply(first)), list(trace.keys)


def one_change(old: str, new: str) -> Change:
    prefix, suffix = common_affixes(old, new)
    return Change(prefix, len(old) - suffix, new[prefix : len(new) - suffix])


def apply_notified(text: str, prediction: dict[str, Any]) -> str:
    edits = sorted(
        prediction["edits"],
        key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
        reverse=True,
    )
    for edit in edits:
        start = offset_after(text, 0, {"line": 0, "character": 0}, edit["range"]["start"])
        end = offset_after(text, 0, {"line": 0, "character": 0}, edit["range"]["end"])
        text = text[:start] + edit["newText"] + text[end:]
    return text


async def run_case(case: Case, seed: int) -> Run:
    r = replay_case(case)
    oracle = NextEditOracle(r.first, r.expected)
    removal, keys = typing_plan(case, seed)
    real = RealFile(
        f"case.{EXTENSIONS[case.language]}", case.language, case.before, case.repo, "    "
    )
    options = {
        "nextEdit": {"enabled": True, "debounceMs": DEBOUNCE_MS, "model": "oracle-instruct"},
        "context": {"workspaceIndex": False},
    }
    with tempfile.TemporaryDirectory(prefix="qwen-nextedit-") as tmp:
        async with (
            FakeOpenAI(responder=oracle) as fake,
            editor_session(
                fake, Path(tmp), real, options=options, capabilities=CAPABILITIES
            ) as editor,
        ):
            await asyncio.sleep(0.5)
            editor.change(removal)
            due = time.monotonic()
            for key in keys:
                due += key.delay_s
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                editor.press(key)
            last_key = time.monotonic()
            assert editor.text == r.first, case.name
            await asyncio.sleep(WAIT_S)
            return summarise(case, editor, fake, oracle, keys, last_key, r.expected)


def summarise(
    case: Case,
    editor: EditorClient,
    fake: FakeOpenAI,
    oracle: NextEditOracle,
    keys: list[Any],
    last_key: float,
    expected: str,
) -> Run:
    notes = [(t, m["params"]) for t, m in editor.notifications if m["method"] == "qwen/nextEdit"]
    after = [(t, p) for t, p in notes if t >= last_key and p["prediction"]]
    latency = after[0][0] - last_key if after else None
    final = notes[-1][1] if notes else None
    delivered = final is not None and final["prediction"] is not None
    exact = delivered and apply_notified(editor.text, final["prediction"]) == expected
    generations = fake.generations
    return Run(
        case.name,
        len(keys),
        oracle.calls,
        len([g for g in generations if g.route != "chat"]),
        len([g for g in generations if g.route == "chat" and g.outcome == "disconnected"]),
        len([g for g in generations if g.route != "chat" and g.outcome == "disconnected"]),
        latency,
        delivered,
        exact,
    )


async def run_all(cases: list[Case]) -> list[Run]:
    return [await run_case(case, seed) for seed, case in enumerate(cases)]


def main() -> None:
    cases = load_cases()
    started = time.monotonic()
    runs = asyncio.run(run_all(cases))
    elapsed = time.monotonic() - started
    latencies = [r.latency_s * 1000 for r in runs if r.latency_s is not None]
    typed = [r for r in runs if r.keys]
    rows = [
        ["cases (typed / deletions)", f"{len(runs)} ({len(typed)} / {len(runs) - len(typed)})"],
        ["keys typed", sum(r.keys for r in runs)],
        ["next-edit model calls", f"{sum(r.model_calls for r in runs)} "
         f"({statistics.fmean(r.model_calls for r in runs):.2f} per case)"],
        ["next-edit calls per 100 keys (typed cases)",
         f"{100 * sum(r.model_calls for r in typed) / max(1, sum(r.keys for r in typed)):.1f}"],
        ["FIM calls (inline completion on every key)", sum(r.fim_calls for r in runs)],
        ["next-edit streams cancelled by a newer edit", sum(r.cancelled for r in runs)],
        ["FIM streams cancelled (cancel-previous)", sum(r.fim_cancelled for r in runs)],
        ["predictions delivered", sum(r.delivered for r in runs)],
        ["delivered = the commit's next hunk", sum(r.exact for r in runs)],
        ["last key → prediction, p50 / p95 ms",
         f"{statistics.median(latencies):.0f} / {percentile(latencies, 95):.0f}"
         if latencies else "-"],
    ]  # fmt: skip
    body = "\n\n".join(
        [
            f"Real server over stdio, oracle endpoint answering after {LATENCY_S * 1000:.0f} ms "
            f"(FIM: empty answers), next_edit.debounce_ms {DEBOUNCE_MS}, the typist's cadence; "
            f"{len(cases)} cases of the replay set, {elapsed:.0f} s, load {os.getloadavg()[0]:.1f} "
            "at the end.",
            table(["measure", "value"], rows),
            "The latency floor is the debounce plus the oracle's latency "
            f"({DEBOUNCE_MS + LATENCY_S * 1000:.0f} ms): the rest is the server (history, "
            "region, prompt, parse, diff, rules) and the pipes.",
        ]
    )
    write_section("nextedit_server", "Next-edit prediction through the server (oracle)", body)
    print(body)


if __name__ == "__main__":
    main()
