"""Documents and syntax: parse, incremental edit, conversions and analysis on a ~10k-line file.

Run with ``python -m tests.bench syntax``; writes the "syntax" section of docs/benchmarks.md.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from tree_sitter import Parser

from qwen_lsp.documents import Document
from qwen_lsp.syntax.definitions import definitions, identifiers_near, imports
from qwen_lsp.syntax.languages import get_language
from qwen_lsp.syntax.lexical import error_count, is_inside_string_or_comment
from qwen_lsp.syntax.scopes import enclosing_scopes
from tests.bench.report import summary_ms, table, write_section

LINES = 10_000
EDITS = 300
SEED = 11
_WORDS = ("user", "order", "item", "price", "total", "cache", "token", "event", "stream", "config")


def generate_python(lines: int, seed: int = SEED) -> str:
    """A deterministic module of about ``lines`` lines: classes with methods, functions, some
    non-ASCII comments and strings (so conversions are not all ASCII fast paths)."""
    rng = random.Random(seed)
    out = ["import json", "import logging", "from typing import Any", "", "log = 1", ""]
    n = 0
    while len(out) < lines:
        a, b, c = rng.sample(_WORDS, 3)
        n += 1
        if n % 3 == 0:
            out += [
                f"class {a.title()}{b.title()}{n}:",
                f'    """Holds the {a} and {b} — café ☕ {c}."""',
                "",
                f"    def add_{c}(self, {c}: str) -> None:",
                f"        if {c} in self.{c}s:",
                "            return",
                f"        self.{c}s.append({c})  # 追加 😀",
                "",
                "    def to_json(self) -> str:",
                f'        return json.dumps({{"{a}": self.{a}}})',
                "",
            ]
        else:
            out += [
                f"def compute_{a}_{b}_{n}({a}: dict[str, Any], limit: int = {n % 97}) -> int:",
                f"    value = {a}.get({b!r}, 0)",
                f"    for key, {c} in sorted({a}.items()):",
                f"        if isinstance({c}, int) and {c} > limit:",
                "            return -1",
                "        value += len(str(key))",
                "    return value",
                "",
            ]
    return "\n".join(out[:lines]) + "\n"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - started)
    return durations


def row(name: str, durations: list[float], per: int = 1) -> list[object]:
    s = summary_ms([d / per for d in durations])
    return [name, s["n"] * per, s["p50"], s["p95"], s["mean"]]


def bench_parse(text: str) -> list[list[object]]:
    language = get_language("python")
    assert language is not None
    source = text.encode()
    parser = Parser(language)
    rows = [row("full parse (tree-sitter)", timed(lambda: parser.parse(source), 15))]
    rows.append(row("Document open (index + parse)", timed(lambda: _open(text).tree, 10)))
    return rows


def _open(text: str) -> Document:
    return Document("file:///bench/module.py", text, 1, "python")


def _timed_change(doc: Document, edit: dict[str, object]) -> tuple[float, float]:
    """(apply_changes seconds, reparse seconds) for one change."""
    started = time.perf_counter()
    doc.apply_changes([edit], doc.version + 1)
    middle = time.perf_counter()
    _ = doc.tree
    return middle - started, time.perf_counter() - middle


def bench_edits(text: str) -> list[list[object]]:
    """One-character edits: bookkeeping and incremental reparse, in two realistic patterns."""
    rng = random.Random(SEED)
    doc = _open(text)
    assert doc.tree is not None
    # 1. a character inserted at a random place, then removed (the file stays valid between)
    random_apply, random_parse = [], []
    for _ in range(EDITS):
        line = rng.randrange(doc.line_count - 1)
        col = rng.randrange(len(doc.line(line)) + 1)
        a, p = _timed_change(doc, {"range": ((line, col), (line, col)), "text": "x"})
        random_apply.append(a)
        random_parse.append(p)
        _timed_change(doc, {"range": ((line, col), (line, col + 1)), "text": ""})
    # 2. typing new lines inside functions, one keystroke at a time
    typing_apply, typing_parse = [], []
    snippet = "    total = value + len(key)\n    log.debug(total)\n"
    returns = [i for i in range(doc.line_count) if doc.line(i) == "    return value"]
    for line in rng.sample(returns, max(1, EDITS // len(snippet) + 1)):
        at_line, col = line, 0
        for ch in snippet:
            a, p = _timed_change(doc, {"range": ((at_line, col), (at_line, col)), "text": ch})
            typing_apply.append(a)
            typing_parse.append(p)
            at_line, col = (at_line + 1, 0) if ch == "\n" else (at_line, col + 1)
    # 3. a full-sync client sends the whole text for every keystroke
    full_sync = []
    for i in range(30):
        new_text = doc.text[: 1000 * i] + "y" + doc.text[1000 * i :]
        started = time.perf_counter()
        doc.set_text(new_text, doc.version + 1)
        _ = doc.tree
        full_sync.append(time.perf_counter() - started)
    itree = doc.incremental_tree
    assert itree is not None and itree.full_parse_count == 1, "an edit caused a full reparse"
    return [
        row("random 1-char insert: apply_changes (text, index, tree.edit, history)", random_apply),
        row("random 1-char insert: incremental reparse", random_parse),
        row("typing in a function: apply_changes", typing_apply),
        row("typing in a function: incremental reparse", typing_parse),
        row("full-text didChange (diffed to one edit) + reparse", full_sync),
    ]


def bench_conversions(doc: Document) -> list[list[object]]:
    rng = random.Random(SEED)
    size = len(doc.text)
    offsets = [rng.randrange(size) for _ in range(5000)]
    positions = [doc.position_at(o) for o in offsets]
    batch = len(offsets)
    return [
        row(
            "offset -> position (per call)",
            timed(lambda: [doc.position_at(o) for o in offsets], 5),
            batch,
        ),
        row(
            "position -> offset (per call)",
            timed(lambda: [doc.offset_at(p) for p in positions], 5),
            batch,
        ),
        row(
            "offset -> UTF-8 byte (per call)",
            timed(lambda: [doc.byte_offset(o) for o in offsets], 5),
            batch,
        ),
    ]


def bench_analysis(doc: Document) -> list[list[object]]:
    tree, source = doc.tree, doc.source
    assert tree is not None
    rng = random.Random(SEED)
    bytes_at = [rng.randrange(len(source)) for _ in range(1000)]
    n_defs = len(definitions(tree, source))
    return [
        row(
            "enclosing_scopes (per call)",
            timed(lambda: [enclosing_scopes(tree, source, b) for b in bytes_at], 3),
            len(bytes_at),
        ),
        row(
            "is_inside_string_or_comment (per call)",
            timed(lambda: [is_inside_string_or_comment(tree, b) for b in bytes_at], 3),
            len(bytes_at),
        ),
        row(
            "identifiers_near, 20 lines before / 5 after (per call)",
            timed(lambda: [identifiers_near(tree, source, b) for b in bytes_at[:200]], 3),
            200,
        ),
        row(
            f"definitions, whole file ({n_defs} found)",
            timed(lambda: definitions(tree, source), 5),
        ),
        row("imports, whole file", timed(lambda: imports(tree, source), 5)),
        row("error_count, whole file", timed(lambda: error_count(tree), 5)),
    ]


def main() -> None:
    text = generate_python(LINES)
    doc = _open(text)
    rows = bench_parse(text) + bench_edits(text) + bench_conversions(doc) + bench_analysis(doc)
    body = (
        f"Generated Python module: {doc.line_count - 1} lines, {len(doc.source) // 1024} KiB, "
        f"some non-ASCII text. {EDITS} one-character inserts at random places (each undone "
        "before the next, so the file stays valid) and a few hundred keystrokes typing new lines "
        "inside functions. The tree is edited on every change and reparsed incrementally when "
        "next read. Reparse time varies with the edit: a keystroke that changes a Python "
        "line's indentation re-lexes far more than one inside a line.\n\n"
        + table(["operation", "n", "p50 ms", "p95 ms", "mean ms"], [_fmt(r) for r in rows])
    )
    print(body)
    write_section("syntax", "Documents and syntax", body)


def _fmt(r: list[object]) -> list[object]:
    """Sub-millisecond figures get more digits than the table's default two."""
    return [f"{v:.4f}" if isinstance(v, float) and v < 0.1 else v for v in r]


if __name__ == "__main__":
    main()
