"""The systems compared on each completion case, and how one case is run through each.

- ``qwen-lsp``: the real server (subprocess, stdio), the case's repository extract as its only
  workspace folder, the file opened with the target removed, an invoked inline completion once the
  workspace index is ready; the model answers through the recording proxy.
- ablations: the same with one setting changed (see ``SYSTEMS``).
- ``naive``: a plain file-level FIM prompt (prefix and suffix cut at line boundaries to the same
  token budget) sent by the benchmark itself to the same endpoint: the baseline every plugin
  starts from. It stops at the end of the line when the cursor has text before it on its line,
  else after at most ``NAIVE_MAX_TOKENS``; no post-processing.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from qwen_lsp.context.tokens import TokenCounter
from qwen_lsp.prompts.fim import STOP_TOKENS

from .cases import Case, make_workspace
from .lsp_driver import qwen_lsp
from .recorder import Exchange, Recorder

DEFAULT_BUDGET = 3072  # qwen-lsp's default context.max_prompt_tokens
# The live pass's prompt budget: on 2 CPU cores a 3,072-token prompt takes 35-60 s to prefill,
# so live answers use 1,024 (both systems alike); the prompt pass also covers the default.
LIVE_BUDGET = 1024
NAIVE_SUFFIX_SHARE = 0.15
NAIVE_MAX_TOKENS = 128
REQUEST_TIMEOUT_S = 600.0  # quality first: slow answers are counted, not cut
DEFAULT_TIMEOUT_S = 20.0  # qwen-lsp's endpoint.timeout_s default


@dataclass(frozen=True)
class System:
    name: str
    description: str
    settings: dict[str, Any] | None = None  # qwen-lsp initializationOptions; None: naive
    full_only: bool = False  # only in a --full run (time)


SYSTEMS = (
    System("qwen-lsp", "qwen-lsp, default settings", {}),
    System("naive", "prefix/suffix FIM at the same budget, no context, no post-processing"),
    System(
        "no-cross-file",
        'qwen-lsp, `completion.prompt_format = "file"`: no other files\' snippets, the whole '
        "budget for the current file",
        {"completion": {"promptFormat": "file"}},
        full_only=True,
    ),
    System(
        "single-line",
        'qwen-lsp, `completion.multiline = "never"`',
        {"completion": {"multiline": "never"}},
        full_only=True,
    ),
    System(
        "no-index",
        "qwen-lsp, `context.workspace_index = false`: repo-level shares kept, no index",
        {"context": {"workspaceIndex": False}},
        full_only=True,
    ),
)


@dataclass
class Outcome:
    case: Case
    system: str
    prediction: str
    seconds: float
    exchanges: list[Exchange] = field(default_factory=list)
    prompt: str = ""
    index_s: float = 0.0
    error: str = ""


def base_settings(base_url: str, model: str, budget: int) -> dict[str, Any]:
    """What the benchmark sets for every qwen-lsp system (see docs/benchmarks.md)."""
    return {
        "endpoint": {
            "baseUrl": base_url,
            "model": model,
            "timeoutS": REQUEST_TIMEOUT_S,
        },
        "completion": {"temperature": 0.0, "debounceMs": 0, "completionItems": False},
        "context": {"maxPromptTokens": budget},
        "actions": {"timeoutS": REQUEST_TIMEOUT_S, "temperature": 0.0},
    }


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(base))
    for key, value in extra.items():
        if isinstance(value, dict):
            out[key] = {**out.get(key, {}), **value}
        else:
            out[key] = value
    return out


def utf16_column(line_text: str, character: int) -> int:
    return len(line_text[:character].encode("utf-16-le")) // 2


def offset_of(text: str, line: int, utf16: int) -> int:
    lines = text.split("\n")
    start = sum(len(x) + 1 for x in lines[:line])
    column, units = 0, 0
    row = lines[line] if line < len(lines) else ""
    while column < len(row) and units < utf16:
        units += 2 if ord(row[column]) > 0xFFFF else 1
        column += 1
    return start + column


def applied_middle(items: list[dict[str, Any]], text: str, offset: int, line: int) -> str:
    """The text the first item puts at the cursor (what a user accepting it would insert)."""
    if not items:
        return ""
    item = items[0]
    insert = item.get("insertText", "")
    if isinstance(insert, dict):
        insert = insert.get("value", "")
    rng = item.get("range")
    if not rng:
        return insert
    start = offset_of(text, rng["start"]["line"], rng["start"]["character"])
    end = offset_of(text, rng["end"]["line"], rng["end"]["character"])
    new_text = text[:start] + insert + text[end:]
    if new_text.startswith(text[:offset]) and new_text.endswith(text[offset:]):
        return new_text[offset : len(new_text) - (len(text) - offset)]
    return insert[max(0, offset - start) :]


async def run_qwen_lsp(
    case: Case, settings: dict[str, Any], recorder: Recorder, system: str
) -> Outcome:
    prefix, suffix = case.split()
    text = prefix + suffix
    offset = len(prefix)
    cursor_line_text = text.split("\n")[case.line]
    column = utf16_column(cursor_line_text, case.character)
    with tempfile.TemporaryDirectory(prefix="qwen-bench-ws-") as tmp:
        root = make_workspace(case, Path(tmp))
        async with qwen_lsp(root, settings) as lsp:
            uri = lsp.open(case.path, text, case.language)
            index_s = await lsp.wait_indexed()
            mark = recorder.mark()
            started = time.perf_counter()
            error = ""
            try:
                items = await lsp.inline(uri, case.line, column, timeout=REQUEST_TIMEOUT_S + 30)
            except Exception as exc:  # a failed request is a result too (empty, with its error)
                items, error = [], f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - started
            exchanges = await asyncio.to_thread(recorder.since, mark)
    prediction = applied_middle(items, text, offset, case.line)
    prompt = next((str((e.request or {}).get("prompt", "")) for e in exchanges), "")
    return Outcome(case, system, prediction, seconds, exchanges, prompt, index_s, error)


def naive_prompt(text: str, offset: int, counter: TokenCounter, budget: int) -> str:
    """``<|fim_prefix|>…<|fim_suffix|>…<|fim_middle|>`` with whole lines around the cursor."""
    before, after = text[:offset], text[offset:]
    suffix_budget = int(budget * NAIVE_SUFFIX_SHARE)
    head, _, cursor_line = before.rpartition("\n")
    tail_first, _, rest = after.partition("\n")
    prefix_lines = head.split("\n") if head else []
    suffix_lines = rest.split("\n") if rest else []
    prefix, suffix = cursor_line, tail_first
    used = counter.count(prefix)
    for line in reversed(prefix_lines):
        cost = counter.count_piece(line + "\n")
        if used + cost > budget - suffix_budget:
            break
        prefix, used = line + "\n" + prefix, used + cost
    used_suffix = counter.count(suffix)
    for line in suffix_lines:
        cost = counter.count_piece("\n" + line)
        if used_suffix + cost > suffix_budget:
            break
        suffix, used_suffix = suffix + "\n" + line, used_suffix + cost
    return f"<|fim_prefix|>{prefix}<|fim_suffix|>{suffix or chr(10)}<|fim_middle|>"


async def run_naive(
    case: Case, recorder: Recorder, model: str, counter: TokenCounter, budget: int
) -> Outcome:
    prefix, suffix = case.split()
    text = prefix + suffix
    single_line = bool(text[: len(prefix)].rpartition("\n")[2].strip())
    prompt = naive_prompt(text, len(prefix), counter, budget)
    body = {
        "model": model,
        "prompt": prompt,
        "max_tokens": 64 if single_line else NAIVE_MAX_TOKENS,
        "temperature": 0.0,
        "stream": True,
        "stop": list(STOP_TOKENS),  # Qwen's special tokens
    }
    mark = recorder.mark()
    started = time.perf_counter()
    pieces: list[str] = []
    error = ""
    try:
        async with (
            httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client,
            client.stream("POST", f"{recorder.base_url}/completions", json=body) as response,
        ):
            async for line in response.aiter_lines():
                if not line.startswith("data:") or line[5:].strip() == "[DONE]":
                    continue
                choice = json.loads(line[5:])["choices"][0]
                pieces.append(choice.get("text") or "")
                if single_line and "\n" in "".join(pieces):
                    break  # the line is complete: hang up, the server stops generating
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    answer = "".join(pieces)
    if single_line:
        answer = answer.split("\n", 1)[0]
    exchanges = await asyncio.to_thread(recorder.since, mark)
    return Outcome(case, "naive", answer.rstrip(), seconds, exchanges, prompt, 0.0, error)
