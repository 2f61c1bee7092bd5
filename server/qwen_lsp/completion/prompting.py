"""From a cursor to a model request: gate, prefix/suffix window, context files, prompt format."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..context.tokens import TokenCounter
from ..context.window import fit_window
from ..prompts.chat import fim_chat_messages
from ..prompts.fim import STOP_TOKENS, ContextFile, file_level_prompt, repo_level_prompt
from ..settings import Settings
from . import gate as gating
from .streaming import indent_width

if TYPE_CHECKING:
    from .engine import CompletionInput


@dataclass(frozen=True)
class PromptPlan:
    prompt: str
    messages: tuple[dict[str, str], ...]
    prefix: str  # the prefix window actually sent
    suffix: str
    stop: tuple[str, ...]
    max_tokens: int
    multiline: bool
    indent_of_cursor_line: int
    context_files: tuple[ContextFile, ...] = ()
    extra_context: tuple[tuple[str, str], ...] = ()
    prompt_tokens: int = 0


class ContextProvider(Protocol):
    """Cross-file context for a request, fitted into ``budget`` tokens (the context engine)."""

    def __call__(self, request: CompletionInput, budget: int) -> Sequence[ContextFile]: ...


GateRefiner = Callable[["CompletionInput", gating.Gate], gating.Gate]


def relative_path(path: str | None, roots: Sequence[str]) -> str:
    if not path:
        return "untitled"
    for root in sorted(roots, key=len, reverse=True):
        root = root.rstrip("/")
        if root and path.startswith(root + "/"):
            return path[len(root) + 1 :]
    return path.rsplit("/", 1)[-1]


class PromptPlanner:
    def __init__(
        self,
        settings: Settings,
        counter: TokenCounter,
        transport: Callable[[], str],
        roots: Callable[[], Sequence[str]] = lambda: (),
        context_provider: ContextProvider | None = None,
        gate_refiner: GateRefiner | None = None,
    ):
        self.settings = settings
        self.counter = counter
        self.transport = transport
        self.roots = roots
        self.context_provider = context_provider
        self.gate_refiner = gate_refiner

    def gate(
        self, request: CompletionInput, line_before: str, line_after: str, prev_line: str
    ) -> gating.Gate:
        decision = gating.decide(
            line_before, line_after, prev_line, self.settings.completion.multiline
        )
        if self.gate_refiner is not None:
            decision = self.gate_refiner(request, decision)
        return decision

    def plan(self, request: CompletionInput, multiline: bool) -> PromptPlan:
        settings = self.settings
        budget = settings.context.max_prompt_tokens
        use_repo = settings.completion.prompt_format in ("auto", "repo") and self.context_provider
        local_budget = int(budget * settings.context.local_share) if use_repo else budget
        window = fit_window(
            request.prefix,
            request.suffix,
            local_budget,
            settings.context.suffix_share,
            self.counter,
        )
        context_files: Sequence[ContextFile] = ()
        if use_repo and self.context_provider is not None:
            remaining = budget - window.prefix_tokens - window.suffix_tokens
            context_files = self.context_provider(request, remaining)
        path = relative_path(request.path, self.roots())
        transport = self.transport()
        messages: tuple[dict[str, str], ...] = ()
        prompt = ""
        if transport == "chat":
            messages = fim_chat_messages(
                window.prefix, window.suffix, request.language_id, path, context_files
            )
        elif context_files or settings.completion.prompt_format == "repo":
            repo = settings.context.repo_name or _repo_name(self.roots())
            prompt = repo_level_prompt(repo, context_files, path, window.prefix, window.suffix)
        else:
            prompt = file_level_prompt(window.prefix, window.suffix)
        line_before = request.prefix.rsplit("\n", 1)[-1]
        base_indent = indent_width(line_before)
        if multiline and line_before.strip():
            base_indent += 1  # after a block opener the body is deeper than this line
        max_tokens = (
            settings.completion.multiline_max_tokens
            if multiline
            else settings.completion.max_tokens
        )
        return PromptPlan(
            prompt=prompt,
            messages=messages,
            prefix=window.prefix,
            suffix=window.suffix,
            stop=STOP_TOKENS,
            max_tokens=max_tokens,
            multiline=multiline,
            indent_of_cursor_line=base_indent,
            context_files=tuple(context_files),
            extra_context=tuple((f.path, f.content) for f in context_files),
            prompt_tokens=window.prefix_tokens + window.suffix_tokens,
        )


def _repo_name(roots: Sequence[str]) -> str:
    for root in roots:
        name = root.rstrip("/").rsplit("/", 1)[-1]
        if name:
            return name
    return "workspace"
