"""Two prompt formats for next-edit prediction, and the request each one sends.

**zeta** — for models fine-tuned on Zed's edit-prediction data (zed-industries/zeta, a
Qwen2.5-Coder-7B fine-tune, and its quantisations, e.g. ``nishtahir/zeta`` on Ollama). A raw
prompt: an instruction section, the user's edits as ``User edited "path":`` diff blocks, the file
excerpt with ``<|editable_region_start|>`` / ``<|user_cursor_is_here|>`` /
``<|editable_region_end|>`` markers (``<|start_of_file|>`` when the excerpt starts the file),
then ``### Response:``. The model writes the excerpt back with the region rewritten; generation
stops at the end marker. The layout and the instruction sentence are the model's input format
(what it was trained on, as its special tokens are), so they are reproduced as such.

**instruct** — for Qwen coder chat models (qwen2.5-coder-*-instruct, qwen3-coder, DashScope's
qwen3-coder-plus): a system message with the task, then one user message with, in this order,
related code from other files, the recent edits as unified diffs (oldest first), the current file
with the region marked, and a fixed closing request. The stable parts come first, so consecutive
requests share a long prompt prefix in the model server's cache. The answer is the region
rewritten, in one fenced code block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..model.request import GenerationRequest
from .history import EditEvent
from .region import Region

Format = Literal["zeta", "instruct"]
FormatSetting = Literal["auto", "zeta", "instruct"]

REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"
ZETA_CURSOR = "<|user_cursor_is_here|>"
START_OF_FILE = "<|start_of_file|>"
INSTRUCT_CURSOR = "<|user_cursor|>"
# The zeta fine-tune's instruction: part of its trained input format.
ZETA_INSTRUCTION = (
    "You are a code completion assistant and your task is to analyze user edits and then "
    "rewrite an excerpt that the user provides, suggesting the appropriate edits within the "
    "excerpt, taking into account the cursor location."
)
CHARS_PER_TOKEN = 3  # budget estimate for code (Qwen's tokenizer: 3-4 characters a token)
ANSWER_MARGIN_TOKENS = 64

INSTRUCT_SYSTEM = f"""\
You predict the next edit of a programmer working in a code editor.

You get the programmer's recent edits (unified diffs, oldest first) and the file they are \
editing. Part of the file is the editable region, between the lines {REGION_START} and \
{REGION_END}; {INSTRUCT_CURSOR} marks the cursor.

Rewrite the editable region the way the programmer will change it next:
- carry on what the recent edits started: the same rename, the matching change to the other \
uses, the line being typed, the parameter just added;
- keep the latest edit exactly as it is: never undo or delete what was just typed;
- change nothing that the recent edits do not call for, and keep the formatting;
- if nothing follows from the edits, return the region unchanged.

Answer with the whole rewritten region in one fenced code block: no markers, no explanations."""

INSTRUCT_REQUEST = (
    "Rewrite the editable region (the lines between the markers) as the programmer will change "
    "it next. Answer with the region only, in one fenced code block."
)


def choose_format(setting: FormatSetting, model: str) -> Format:
    """``auto``: the zeta format for model names containing "zeta", else instruct."""
    if setting != "auto":
        return setting
    return "zeta" if "zeta" in model.lower() else "instruct"


@dataclass(frozen=True)
class Excerpt:
    """Code from another file that may matter for the edit (a definition, a caller)."""

    path: str
    text: str


@dataclass(frozen=True)
class PromptInput:
    path: str
    language_id: str
    text: str  # the whole document
    region: Region
    events: Sequence[EditEvent]
    excerpts: Sequence[Excerpt] = ()


def _tokens(chars: int) -> int:
    return chars // CHARS_PER_TOKEN + 1


# --- zeta -----------------------------------------------------------------------------------


def zeta_event(event: EditEvent) -> str:
    return f'User edited "{event.path}":\n```diff\n{event.hunk()}\n```'


def zeta_excerpt(inp: PromptInput) -> str:
    text, region = inp.text, inp.region
    before = text[region.context_start : region.start]
    inside_before = text[region.start : region.cursor]
    inside_after = text[region.cursor : region.end]
    after = text[region.end : region.context_end]
    head = f"```{inp.path}\n" + (f"{START_OF_FILE}\n" if region.starts_file else "")
    return (
        f"{head}{before}{REGION_START}\n{inside_before}{ZETA_CURSOR}{inside_after}\n"
        f"{REGION_END}{after}\n```"
    )


def zeta_prompt(inp: PromptInput) -> str:
    events = "\n\n".join(zeta_event(e) for e in inp.events)
    return (
        f"### Instruction:\n{ZETA_INSTRUCTION}\n\n"
        f"### User Edits:\n\n{events}\n\n"
        f"### User Excerpt:\n\n{zeta_excerpt(inp)}\n\n"
        "### Response:\n"
    )


def zeta_request(inp: PromptInput, model: str, timeout_s: float | None) -> GenerationRequest:
    region = inp.region
    # The answer repeats the excerpt up to the region too; it stops at the region's end.
    echoed = region.end - region.context_start
    return GenerationRequest(
        prompt=zeta_prompt(inp),
        max_tokens=_tokens(echoed) + ANSWER_MARGIN_TOKENS,
        temperature=0.0,
        top_p=1.0,
        stop=(REGION_END, "<|endoftext|>"),
        model=model,
        timeout_s=timeout_s,
        purpose="completion",
    )


# --- instruct -------------------------------------------------------------------------------


def unified_event(event: EditEvent) -> str:
    return f"--- a/{event.path}\n+++ b/{event.path}\n{event.hunk()}"


def instruct_user_message(inp: PromptInput) -> str:
    text, region = inp.text, inp.region
    parts = []
    if inp.excerpts:
        shown = "\n\n".join(f"{e.path}:\n```\n{e.text}\n```" for e in inp.excerpts)
        parts.append(f"Code from other files:\n\n{shown}")
    if inp.events:
        diffs = "\n".join(unified_event(e) for e in inp.events)
        parts.append(f"Recent edits, oldest first:\n\n```diff\n{diffs}\n```")
    else:
        parts.append("Recent edits: none recorded.")
    fence = fence_for(text[region.context_start : region.context_end])
    excerpt = (
        f"{text[region.context_start : region.start]}{REGION_START}\n"
        f"{text[region.start : region.cursor]}{INSTRUCT_CURSOR}{text[region.cursor : region.end]}"
        f"\n{REGION_END}{text[region.end : region.context_end]}"
    )
    where = "the start of the file" if region.starts_file else f"line {region.context_first + 1}"
    parts.append(
        f"The file {inp.path} ({inp.language_id}), from {where}:\n\n"
        f"{fence}{inp.language_id}\n{excerpt}\n{fence}"
    )
    parts.append(INSTRUCT_REQUEST)
    return "\n\n".join(parts)


def fence_for(code: str) -> str:
    """A backtick fence longer than any run of backticks in ``code``."""
    longest = run = 0
    for ch in code:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def instruct_request(inp: PromptInput, model: str, timeout_s: float | None) -> GenerationRequest:
    region_chars = inp.region.end - inp.region.start
    return GenerationRequest(
        messages=(
            {"role": "system", "content": INSTRUCT_SYSTEM},
            {"role": "user", "content": instruct_user_message(inp)},
        ),
        max_tokens=2 * _tokens(region_chars) + ANSWER_MARGIN_TOKENS,
        temperature=0.0,
        top_p=1.0,
        model=model,
        timeout_s=timeout_s,
        purpose="completion",
    )


def build_request(
    fmt: Format, inp: PromptInput, model: str, timeout_s: float | None = None
) -> GenerationRequest:
    if fmt == "zeta":
        return zeta_request(inp, model, timeout_s)
    return instruct_request(inp, model, timeout_s)
