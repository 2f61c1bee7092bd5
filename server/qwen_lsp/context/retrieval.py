"""From the cursor to ranked definitions: which names matter here, and where are they defined.

Names come from the code around the cursor (nearest first), the file's imports, the headers of
the enclosing scopes (base classes, parameter types) and the identifiers the file uses most.
Each name is resolved through the workspace index; definitions in modules the file imports rank
first, then the same directory, then recently touched files, and a name defined in many files
counts less (it is ambiguous). A name the current file defines itself resolves to that
definition only.
"""

from __future__ import annotations

import builtins
import math
import os
import re
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from ..syntax.languages import SPECS
from .index import Symbol, WorkspaceIndex, family

WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
WORD_AT_END = re.compile(r"[A-Za-z0-9_$]+$")
WORD_AT_START = re.compile(r"^[A-Za-z0-9_$]+")
MAX_DEFS_PER_NAME = 2
MODULE_WEIGHT = 0.8
SUMMARY_KEY = -1_000_000  # key (path, SUMMARY_KEY) marks a module summary candidate
# Weights of where a name comes from (multiplied with file and kind weights).
NEAR_WEIGHT = 1.0
SCOPE_WEIGHT = 0.7
IMPORT_WEIGHT = 0.45
FREQUENT_WEIGHT = 0.3
KIND_WEIGHT = {
    "class": 1.0,
    "struct": 1.0,
    "interface": 1.0,
    "trait": 1.0,
    "enum": 0.9,
    "function": 1.0,
    "method": 0.9,
    "constructor": 0.8,
    "type": 0.8,
    "constant": 0.8,
    "variable": 0.6,
    "macro": 0.8,
    "field": 0.5,
    "impl": 0.7,
    "namespace": 0.3,
    "module": 0.3,
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Names every file of a language can use without importing them: they resolve to the language,
# not to the workspace (a workspace ``def open`` is not what ``open(...)`` calls).
_JS_GLOBALS = _words(
    """
    Array Boolean Date Error JSON Map Math Number Object Promise Proxy Reflect RegExp Set
    String Symbol WeakMap WeakSet console document window globalThis process require module
    exports undefined NaN Infinity parseInt parseFloat setTimeout clearTimeout setInterval
    clearInterval fetch length push map filter reduce forEach then catch toString
    """
)
BUILTINS: dict[str, frozenset[str]] = {
    "python": frozenset(dir(builtins)) | frozenset({"self", "cls", "__name__", "__file__"}),
    "js": _JS_GLOBALS,
    "go": _words(
        """
        append cap close complex copy delete imag len make new panic print println real
        recover string int int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 uintptr
        float32 float64 bool byte rune error any nil true false iota fmt
        """
    ),
    "rust": _words(
        """
        Vec String Option Some None Result Ok Err Box Rc Arc println print format vec panic
        assert assert_eq Self self str usize isize u8 u16 u32 u64 i8 i16 i32 i64 f32 f64
        bool char Default Clone Debug new
        """
    ),
    "java": _words(
        """
        String Object System Integer Long Double Boolean Character Math List Map Set
        ArrayList HashMap HashSet Exception RuntimeException Override out println this
        """
    ),
    "c": _words(
        """
        printf fprintf sprintf snprintf malloc calloc realloc free memcpy memset strlen
        strcmp strcpy size_t NULL stdout stderr std string vector cout endl
        """
    ),
}


# Languages with a grammar see only their own family's definitions; plain text, markdown or
# config files (no grammar) may mention any of them.
GRAMMAR_FAMILIES = frozenset(family(language_id) for language_id in SPECS)


@lru_cache(maxsize=65536)
def _dirname(path: str) -> str:
    return os.path.dirname(path)


def builtin_names(language_id: str) -> frozenset[str]:
    return BUILTINS.get(family(language_id), frozenset())


@dataclass(frozen=True)
class SnippetCandidate:
    """Something that may go into the prompt, with its score. ``symbol`` for definitions;
    ``text`` for fixed regions (recent edits)."""

    key: tuple[str, int]
    path: str
    start_line: int
    end_line: int
    score: float
    reason: str
    symbol: Symbol | None = None
    text: str | None = None
    # Shown as its one-line signature: the name is not used near the cursor (only imported or
    # frequent), so knowing it exists and how to call it is enough.
    brief: bool = False


@dataclass
class CurrentFile:
    """What retrieval knows about the file being edited."""

    path: str | None
    language_id: str
    local_names: frozenset[str] = frozenset()
    bound_names: frozenset[str] = frozenset()  # locals/parameters: never workspace references
    imported_names: frozenset[str] = frozenset()
    imported_files: frozenset[str] = frozenset()
    imported_dirs: frozenset[str] = frozenset()
    recent: Mapping[str, float] = field(default_factory=dict)  # path -> recency weight 0..1


def word_at_cursor(prefix_line: str, suffix_line: str) -> str:
    """The identifier the cursor touches (being typed): never looked up, it is incomplete."""
    before = WORD_AT_END.search(prefix_line)
    after = WORD_AT_START.search(suffix_line)
    return (before.group(0) if before else "") + (after.group(0) if after else "")


def names_by_regex(prefix: str, suffix: str, before_lines: int, after_lines: int) -> list[str]:
    """Plain-text fallback (no grammar): words around the cursor, nearest first."""
    before = prefix.rsplit("\n", before_lines + 1)[-before_lines - 1 :]
    after = suffix.split("\n", after_lines + 1)[: after_lines + 1]
    ordered: dict[str, None] = {}
    for line in reversed(before):
        for word in reversed(WORD.findall(line)):
            ordered.setdefault(word, None)
    for line in after:
        for word in WORD.findall(line):
            ordered.setdefault(word, None)
    return [w for w in ordered if len(w) > 2]


def weighted_names(
    near: Sequence[str],
    scope_words: Iterable[str] = (),
    imported: Iterable[str] = (),
    frequent: Iterable[tuple[str, int]] = (),
    exclude: Iterable[str] = (),
) -> dict[str, float]:
    """Name -> weight: nearness decays slowly with rank; other sources add smaller weights."""
    skip = set(exclude)
    weights: dict[str, float] = {}

    def add(name: str, weight: float) -> None:
        if name in skip or len(name) < 2:
            return
        weights[name] = max(weights.get(name, 0.0), weight)

    for rank, name in enumerate(near):
        add(name, NEAR_WEIGHT / (1 + rank / 12))
    for name in scope_words:
        add(name, SCOPE_WEIGHT)
    for name in imported:
        add(name, IMPORT_WEIGHT)
    for name, count in frequent:
        add(name, FREQUENT_WEIGHT * min(1.0, count / 4))
    return weights


def file_weight(path: str, current: CurrentFile) -> tuple[float, str]:
    if path in current.imported_files:
        weight, reason = 3.0, "imported module"
    elif _dirname(path) in current.imported_dirs:
        weight, reason = 2.0, "imported package"
    elif current.path and _dirname(path) == _dirname(current.path):
        weight, reason = 1.5, "same directory"
    else:
        weight, reason = 1.0, "workspace"
    recency = current.recent.get(path, 0.0)
    return weight * (1.0 + 0.5 * recency), reason


def rank_definitions(
    weights: Mapping[str, float],
    index: WorkspaceIndex,
    current: CurrentFile,
    local_symbols: Sequence[Symbol] = (),
    skip: Iterable[tuple[str, int]] = (),
    near: Collection[str] | None = None,
) -> list[SnippetCandidate]:
    """Candidates for every weighted name, best first, at most ``MAX_DEFS_PER_NAME`` per name.

    ``local_symbols`` are the current file's own definitions (resolved first; they shadow the
    workspace); ``skip`` holds keys already visible (inside the window); names not in ``near``
    (when given) get brief candidates."""
    skipped = set(skip)
    local_by_name: dict[str, list[Symbol]] = {}
    for symbol in local_symbols:
        local_by_name.setdefault(symbol.name, []).append(symbol)
    lang_family = family(current.language_id)
    ignored = builtin_names(current.language_id) | current.bound_names
    out: dict[tuple[str, int], SnippetCandidate] = {}
    for name, weight in weights.items():
        local = local_by_name.get(name)
        if local:
            found = [_local_candidate(s, weight) for s in local[:MAX_DEFS_PER_NAME]]
        elif name in ignored and name not in current.imported_names:
            continue
        else:
            found = _workspace_candidates(name, weight, index, current, lang_family)
        brief = near is not None and name not in near
        for candidate in found:
            if candidate.key in skipped:
                continue
            if brief:
                candidate = replace(candidate, brief=True)
            previous = out.get(candidate.key)
            if previous is None or previous.score < candidate.score:
                out[candidate.key] = candidate
    return sorted(out.values(), key=lambda c: (-c.score, c.path, c.start_line))


def _local_candidate(symbol: Symbol, weight: float) -> SnippetCandidate:
    kind = KIND_WEIGHT.get(symbol.kind, 0.5)
    return SnippetCandidate(
        symbol.key,
        symbol.path,
        symbol.start_line,
        symbol.end_line,
        weight * 2.0 * kind,
        "this file",
        symbol=symbol,
    )


def _workspace_candidates(
    name: str, weight: float, index: WorkspaceIndex, current: CurrentFile, lang_family: str
) -> list[SnippetCandidate]:
    symbols = [
        s
        for s in index.lookup(name)
        if s.path != current.path
        and (lang_family not in GRAMMAR_FAMILIES or _same_family(index, s.path, lang_family))
    ]
    if not symbols:
        return []
    scored: list[tuple[float, str, Symbol]] = []
    for symbol in symbols:
        f_weight, reason = file_weight(symbol.path, current)
        scored.append((f_weight * KIND_WEIGHT.get(symbol.kind, 0.5), reason, symbol))
    # A definition in an imported module settles which one is meant: the others are noise.
    best_file = max(s[0] for s in scored)
    if best_file >= 2.0:
        scored = [s for s in scored if s[0] >= 1.5]
    ambiguity = 1.0 + math.log2(max(1, len({s[2].path for s in scored})))
    scored.sort(key=lambda item: (-item[0], item[2].path, item[2].start_byte))
    return [
        SnippetCandidate(
            s.key, s.path, s.start_line, s.end_line, weight * fw / ambiguity, reason, symbol=s
        )
        for fw, reason, s in scored[:MAX_DEFS_PER_NAME]
    ]


def _same_family(index: WorkspaceIndex, path: str, lang_family: str) -> bool:
    entry = index.entry(path)
    return entry is None or family(entry.language_id) == lang_family


def scope_words(headers: Iterable[str]) -> list[str]:
    """Identifiers in the enclosing scopes' headers (base classes, parameter and return
    types): their definitions explain what ``self``/parameters offer."""
    out: dict[str, None] = {}
    for header in headers:
        for word in WORD.findall(header):
            out.setdefault(word, None)
    return list(out)


# --------------------------------------------------------------------------------------------
# Module aliases: ``os.path.join``, ``spawn.get_command_line()``, ``util.Parse`` (Go)

_PY_IMPORT = re.compile(r"^\s*import\s+(.+)$", re.S)
_PY_FROM = re.compile(r"^\s*from\s+(\S+)\s+import\s+(.+)$", re.S)


def _python_pairs(text: str) -> list[tuple[str, str, bool]]:
    """(alias, module, maybe_symbol) for what a Python import statement binds: ``import m``
    binds modules; ``from m import n`` binds a module or a symbol of ``m``."""
    flat = " ".join(text.replace("(", " ").replace(")", " ").replace("\\", " ").split())
    pairs: list[tuple[str, str, bool]] = []
    if match := _PY_FROM.match(flat):
        base = match.group(1)
        joiner = "" if base.endswith(".") else "."
        for part in match.group(2).split(","):
            name, _, alias = part.strip().partition(" as ")
            if name and name != "*":
                pairs.append(((alias or name).strip(), f"{base}{joiner}{name.strip()}", True))
    elif match := _PY_IMPORT.match(flat):
        for part in match.group(1).split(","):
            module, _, alias = part.strip().partition(" as ")
            module = module.strip()
            if alias:
                pairs.append((alias.strip(), module, False))
            elif module:
                pairs.append((module.split(".")[0], module.split(".")[0], False))
                pairs.append((module.rsplit(".", 1)[-1], module, False))
    return pairs


def _generic_pairs(names: Sequence[str], modules: Sequence[str]) -> list[tuple[str, str, bool]]:
    """Namespace/default imports (JS), package imports (Go: the last path part), aliases."""
    pairs: list[tuple[str, str, bool]] = []
    for module in modules:
        for name in names:
            pairs.append((name, module, True))
        if not names:
            last = module.strip("\"'").rstrip("/").rsplit("/", 1)[-1]
            pairs.append((last.split(".")[0], module, False))
    return pairs


def module_aliases(
    imports: Iterable[Any], current_path: str, language_id: str, index: WorkspaceIndex
) -> dict[str, tuple[str, ...]]:
    """Name -> workspace files, for imported names that stand for a whole module (a name the
    resolved module itself defines is a symbol import, handled by normal lookup)."""
    out: dict[str, tuple[str, ...]] = {}
    for imp in imports:
        if language_id == "python":
            pairs = _python_pairs(imp.text)
        else:
            pairs = _generic_pairs(imp.names, imp.modules)
        for alias, module, maybe_symbol in pairs:
            if alias in out or not alias.isidentifier():
                continue
            files = [f for f in index.resolve_import(current_path, module) if f != current_path]
            imported = module.strip("\"'").replace("::", ".").rsplit(".", 1)[-1]
            if not files or (maybe_symbol and _defines(index, files, {alias, imported})):
                continue
            out[alias] = tuple(files[:2])
    return out


def _defines(index: WorkspaceIndex, files: Sequence[str], names: set[str]) -> bool:
    for path in files:
        entry = index.entry(path)
        if entry is not None and any(s.name in names for s in entry.symbols):
            return True
    return False


def module_candidates(
    weights: Mapping[str, float], aliases: Mapping[str, Sequence[str]]
) -> list[SnippetCandidate]:
    """A summary of each aliased module used near the cursor (its top-level signatures)."""
    out: list[SnippetCandidate] = []
    for name, weight in weights.items():
        for path in aliases.get(name, ()):
            out.append(
                SnippetCandidate((path, SUMMARY_KEY), path, 0, 0, weight * MODULE_WEIGHT, "module")
            )
    return out


def snippet_identity(candidate: SnippetCandidate) -> Hashable:
    """A snippet's identity across edits: byte offsets move while the user types, so a
    definition is known by its file, container, name and kind."""
    symbol = candidate.symbol
    if symbol is not None:
        return (candidate.path, symbol.container or "", symbol.name, symbol.kind)
    if candidate.key[1] == SUMMARY_KEY:
        return (candidate.path, "<module>")
    return (candidate.path, f"<edit {candidate.start_line}>")
