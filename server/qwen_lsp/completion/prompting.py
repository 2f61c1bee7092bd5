"""From a cursor to a model request: gate, prefix/suffix window, context files, prompt format."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

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


@dataclass(frozen=True)
class ContextBundle:
    """Everything a context engine contributes: the current file's part (window cut at syntax
    boundaries, with a sparse header above it and tail below it) and the other files."""

    prefix: str
    suffix: str
    prefix_tokens: int
    suffix_tokens: int
    files: tuple[ContextFile, ...] = ()
    files_tokens: int = 0


class RepoContext(Protocol):
    """The current file's window and other files' context for a request, within a token budget
    (``context.engine.ContextEngine``)."""

    def build(
        self,
        request: CompletionInput,
        budget: int,
        local_budget: int,
        suffix_share: float,
        cross_file: bool = True,
    ) -> ContextBundle: ...


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
        transport: Callable[[], str],
        roots: Callable[[], Sequence[str]] = lambda: (),
        *,
        context_provider: RepoContext,
        gate_refiner: GateRefiner | None = None,
    ):
        self.settings = settings
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
        bundle = self._context(request)
        context_files = bundle.files
        path = relative_path(request.path, self.roots())
        transport = self.transport()
        messages: tuple[dict[str, str], ...] = ()
        prompt = ""
        if transport == "chat":
            messages = fim_chat_messages(
                bundle.prefix, bundle.suffix, request.language_id, path, context_files
            )
        elif context_files or settings.completion.prompt_format == "repo":
            repo = settings.context.repo_name or _repo_name(self.roots())
            prompt = repo_level_prompt(repo, context_files, path, bundle.prefix, bundle.suffix)
        else:
            prompt = file_level_prompt(bundle.prefix, bundle.suffix)
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
            prefix=bundle.prefix,
            suffix=bundle.suffix,
            stop=STOP_TOKENS,
            max_tokens=max_tokens,
            multiline=multiline,
            indent_of_cursor_line=base_indent,
            context_files=tuple(context_files),
            extra_context=tuple((f.path, f.content) for f in context_files),
            prompt_tokens=bundle.prefix_tokens + bundle.suffix_tokens + bundle.files_tokens,
        )

    def _context(self, request: CompletionInput) -> ContextBundle:
        """The local window and cross-file files from the context engine."""
        settings = self.settings
        budget = settings.context.max_prompt_tokens
        cross_file = settings.completion.prompt_format in ("auto", "repo")
        local_budget = int(budget * settings.context.local_share) if cross_file else budget
        return self.context_provider.build(
            request, budget, local_budget, settings.context.suffix_share, cross_file
        )


def _repo_name(roots: Sequence[str]) -> str:
    for root in roots:
        name = root.rstrip("/").rsplit("/", 1)[-1]
        if name:
            return name
    return "workspace"
