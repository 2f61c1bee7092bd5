"""Language detection and tree-sitter grammar loading.

Grammars come from the per-language wheels (offline, small). A grammar that is not installed or
fails to load makes the language "plain text": callers get ``None`` and fall back, never an error.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath

from tree_sitter import Language

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LanguageSpec:
    """One language we know: its canonical id, grammar module and loader function."""

    id: str
    module: str
    loader: str = "language"
    line_comment: str = "#"


# Canonical language id -> grammar. Ids follow the LSP languageId conventions.
SPECS: dict[str, LanguageSpec] = {
    spec.id: spec
    for spec in (
        LanguageSpec("python", "tree_sitter_python", line_comment="#"),
        LanguageSpec("javascript", "tree_sitter_javascript", line_comment="//"),
        LanguageSpec("javascriptreact", "tree_sitter_javascript", line_comment="//"),
        LanguageSpec("typescript", "tree_sitter_typescript", "language_typescript", "//"),
        LanguageSpec("typescriptreact", "tree_sitter_typescript", "language_tsx", "//"),
        LanguageSpec("go", "tree_sitter_go", line_comment="//"),
        LanguageSpec("rust", "tree_sitter_rust", line_comment="//"),
        LanguageSpec("java", "tree_sitter_java", line_comment="//"),
        LanguageSpec("c", "tree_sitter_c", line_comment="//"),
        LanguageSpec("cpp", "tree_sitter_cpp", line_comment="//"),
        # Extra grammars (verified to load with tree-sitter 0.26; queries in syntax/queries/).
        LanguageSpec("shellscript", "tree_sitter_bash", line_comment="#"),
        LanguageSpec("ruby", "tree_sitter_ruby", line_comment="#"),
        LanguageSpec("php", "tree_sitter_php", "language_php", "//"),
        LanguageSpec("csharp", "tree_sitter_c_sharp", line_comment="//"),
        LanguageSpec("lua", "tree_sitter_lua", line_comment="--"),
    )
}

# LSP languageId aliases used by various editors.
ALIASES: dict[str, str] = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "jsx": "javascriptreact",
    "ts": "typescript",
    "tsx": "typescriptreact",
    "golang": "go",
    "rs": "rust",
    "c++": "cpp",
    "cuda": "cpp",
    "objective-c": "c",
    "sh": "shellscript",
    "bash": "shellscript",
    "zsh": "shellscript",
    "shell": "shellscript",
    "rb": "ruby",
    "c#": "csharp",
    "cs": "csharp",
    "c_sharp": "csharp",
}

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".sh": "shellscript",
    ".bash": "shellscript",
    ".zsh": "shellscript",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".php": "php",
    ".cs": "csharp",
    ".lua": "lua",
}


def language_id_for(language_id: str | None, path: str | None = None) -> str:
    """Canonical language id from the client's languageId, else from the file extension.

    Unknown languages come back as the client's id (or "plaintext"): callers treat any id without a
    grammar as plain text.
    """
    if language_id:
        lowered = language_id.lower()
        lowered = ALIASES.get(lowered, lowered)
        if lowered in SPECS:
            return lowered
    if path:
        suffix = PurePosixPath(path).suffix.lower()
        if suffix in EXTENSIONS:
            return EXTENSIONS[suffix]
    return (language_id or "plaintext").lower()


@cache
def get_language(language_id: str) -> Language | None:
    """The tree-sitter Language for a canonical id, or None when we have no working grammar."""
    spec = SPECS.get(language_id)
    if spec is None:
        return None
    try:
        module = importlib.import_module(spec.module)
        return Language(getattr(module, spec.loader)())
    except Exception as exc:  # a broken or ABI-incompatible wheel must not break the server
        log.warning("grammar for %s unavailable: %s", language_id, exc)
        return None


def line_comment_for(language_id: str) -> str:
    spec = SPECS.get(language_id)
    return spec.line_comment if spec else "#"
