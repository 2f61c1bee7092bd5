"""What a FIM prompt shows the model, checked against the file it came from.

The issue's observations about qwen-lsp's prompts, made countable:

- a container header (class / impl / interface / ``mod tests {`` / ``type X struct {``) shown
  more often than the file has it (the sparse header repeated once per member);
- current-file text out of file order (a definition from further down placed above the
  window: each jump back up the file counts once), and lines from below the cursor shown
  before it;
- empty docstrings (``\"\"\"\"\"\"``), which the file does not have;
- which of the target's cross-file names the prompt shows at all, and in another file's section.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

FILE_SEP = "<|file_sep|>"
FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE = "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"
REPO_NAME = "<|repo_name|>"
CONTAINER = re.compile(
    r"^\s*(?:export\s+|pub(?:\([^)]*\))?\s+|default\s+|abstract\s+|unsafe\s+)*"
    r"(?:class|impl|interface|trait|mod|enum|namespace|struct|type\s+\w+\s+(?:struct|interface))"
    r"\b.*[{:]\s*$"
)
EMPTY_DOCSTRING = re.compile(r'""""""|\'\'\'\'\'\'')
DISTINCT_MIN = 12  # shorter lines ("}", "return nil") are too common to place


@dataclass(frozen=True)
class PromptParts:
    other_files: dict[str, str]  # path -> content of each <|file_sep|> section before the current
    current_path: str
    prefix: str
    suffix: str


@dataclass
class PromptFindings:
    repeated_headers: dict[str, int] = field(default_factory=dict)  # line -> extra copies
    out_of_order_jumps: int = 0
    from_below_cursor_lines: int = 0
    empty_docstrings: int = 0
    cross_names_in_prompt: int = 0
    cross_names_in_other_files: int = 0
    cross_names: int = 0
    other_files: int = 0


def split_prompt(prompt: str) -> PromptParts:
    """The sections of a Qwen file- or repo-level FIM prompt."""
    head, _, fim = prompt.partition(FIM_PREFIX)
    prefix, _, rest = fim.partition(FIM_SUFFIX)
    suffix = rest.split(FIM_MIDDLE, 1)[0]
    sections = head.split(FILE_SEP)[1:]
    others: dict[str, str] = {}
    current = ""
    for index, section in enumerate(sections):
        path, _, content = section.partition("\n")
        if index == len(sections) - 1:
            current = path
        else:
            others[path] = content
    return PromptParts(others, current, prefix, suffix)


def check_prompt(
    prompt: str, original: str, cursor_line: int, cross_names: tuple[str, ...]
) -> PromptFindings:
    parts = split_prompt(prompt)
    findings = PromptFindings(other_files=len(parts.other_files), cross_names=len(cross_names))
    file_lines = original.split("\n")
    shown = parts.prefix.split("\n")
    file_counts = Counter(line.strip() for line in file_lines)
    shown_counts = Counter(line.strip() for line in shown if CONTAINER.match(line))
    for line, count in shown_counts.items():
        if count > file_counts[line]:
            findings.repeated_headers[line] = count - file_counts[line]
    findings.out_of_order_jumps, findings.from_below_cursor_lines = _placement(
        shown, file_lines, file_counts, cursor_line
    )
    findings.empty_docstrings = len(EMPTY_DOCSTRING.findall(prompt)) - len(
        EMPTY_DOCSTRING.findall(original)
    )
    others = "\n".join(parts.other_files.values())
    words_all = set(re.findall(r"[\w$]+", prompt))
    words_others = set(re.findall(r"[\w$]+", others))
    findings.cross_names_in_prompt = sum(n in words_all for n in cross_names)
    findings.cross_names_in_other_files = sum(n in words_others for n in cross_names)
    return findings


def _placement(
    shown: list[str], file_lines: list[str], file_counts: Counter[str], cursor_line: int
) -> tuple[int, int]:
    """(backward jumps: places where the shown text goes back up the file, lines shown before the
    cursor that the file has only after it), over lines distinctive enough to place (long, once
    in the file)."""
    where = {line.strip(): row for row, line in enumerate(file_lines)}
    last_row = -1
    jumps = below = 0
    for line in shown:
        key = line.strip()
        if len(key) < DISTINCT_MIN or file_counts[key] != 1:
            continue
        row = where[key]
        if row < last_row:
            jumps += 1
        if row > cursor_line:
            below += 1
        last_row = row
    return jumps, below
