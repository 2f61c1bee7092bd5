"""From a snapshot to a model request: context window, context files, prompt format, limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..context.bundle import ContextBundle, RepoContext
from ..model.client import GenerationRequest
from ..prompts.chat import fim_chat_messages
from ..prompts.fim import STOP_TOKENS, ContextFile, file_level_prompt, repo_level_prompt
from ..settings import Settings
from .snapshot import CompletionSnapshot
from .stream_stop import indent_width


@dataclass(frozen=True)
class PromptPlan:
    """The model request for a snapshot, and what the later stages need to know about it."""

    request: GenerationRequest
    multiline: bool
    indent_of_cursor_line: int  # where a multi-line answer leaves the cursor's block
    context_files: tuple[ContextFile, ...] = ()
    prompt_tokens: int = 0


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
    ):
        self.settings = settings
        self.transport = transport
        self.roots = roots
        self.context_provider = context_provider

    def plan(self, snapshot: CompletionSnapshot, multiline: bool) -> PromptPlan:
        settings = self.settings
        bundle = self._context(snapshot)
        context_files = bundle.files
        path = relative_path(snapshot.path, self.roots())
        transport = self.transport()
        messages: tuple[dict[str, str], ...] = ()
        prompt = ""
        if transport == "chat":
            messages = fim_chat_messages(
                bundle.prefix, bundle.suffix, snapshot.language_id, path, context_files
            )
        elif context_files or settings.completion.prompt_format == "repo":
            repo = settings.context.repo_name or _repo_name(self.roots())
            prompt = repo_level_prompt(repo, context_files, path, bundle.prefix, bundle.suffix)
        else:
            prompt = file_level_prompt(bundle.prefix, bundle.suffix)
        line_before = snapshot.prefix.rsplit("\n", 1)[-1]
        base_indent = indent_width(line_before)
        if multiline and line_before.strip():
            base_indent += 1  # after a block opener the body is deeper than this line
        max_tokens = (
            settings.completion.multiline_max_tokens
            if multiline
            else settings.completion.max_tokens
        )
        request = GenerationRequest(
            prompt=prompt,
            messages=messages,
            max_tokens=max_tokens,
            temperature=settings.completion.temperature,
            top_p=settings.completion.top_p,
            stop=STOP_TOKENS,
            prefix=bundle.prefix,
            suffix=bundle.suffix,
            extra_context=tuple((f.path, f.content) for f in context_files),
        )
        return PromptPlan(
            request=request,
            multiline=multiline,
            indent_of_cursor_line=base_indent,
            context_files=tuple(context_files),
            prompt_tokens=bundle.prefix_tokens + bundle.suffix_tokens + bundle.files_tokens,
        )

    def _context(self, snapshot: CompletionSnapshot) -> ContextBundle:
        """The local window and cross-file files from the context engine."""
        settings = self.settings
        budget = settings.context.max_prompt_tokens
        cross_file = settings.completion.prompt_format in ("auto", "repo")
        local_budget = int(budget * settings.context.local_share) if cross_file else budget
        return self.context_provider.build(
            snapshot, budget, local_budget, settings.context.suffix_share, cross_file
        )


def _repo_name(roots: Sequence[str]) -> str:
    for root in roots:
        name = root.rstrip("/").rsplit("/", 1)[-1]
        if name:
            return name
    return "workspace"
