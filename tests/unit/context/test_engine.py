"""The context engine end to end in-process: index, retrieval, budget, prompt layout, gate."""

from __future__ import annotations

import dataclasses
import itertools
import time
from pathlib import Path

import pytest

from qwen_lsp.completion.planner import PromptPlanner
from qwen_lsp.completion.snapshot import CompletionSnapshot
from qwen_lsp.context.engine import ContextEngine
from qwen_lsp.context.tokens import TokenCounter
from qwen_lsp.documents import Document, DocumentStore
from qwen_lsp.settings import Settings
from tests.support.indexing import wait_until_indexed
from tests.unit.context_samples import FILES, write_workspace

COUNTER = TokenCounter(load_now=True)
SECRET = "sk-live-DO-NOT-LEAK-4242"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws").resolve()


@pytest.fixture
def store() -> DocumentStore:
    return DocumentStore()


def make_engine(root: Path, store: DocumentStore, **context: object) -> ContextEngine:
    settings = Settings()
    if context:
        settings = dataclasses.replace(
            settings, context=dataclasses.replace(settings.context, **context)
        )
    engine = ContextEngine(settings, COUNTER, store, worker_mode="sync")
    engine.start([str(root)])
    return engine


def planner(engine: ContextEngine, root: Path) -> PromptPlanner:
    return PromptPlanner(
        engine.settings,
        transport=lambda: "completions",
        roots=lambda: [str(root)],
        context_provider=engine,
    )


def open_doc(
    store: DocumentStore, engine: ContextEngine, root: Path, relative: str, text: str | None = None
) -> Document:
    path = root / relative
    if text is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    doc = store.open(path.as_uri(), path.read_text(encoding="utf-8"), 1)
    engine.did_open(doc)
    return doc


def request(doc: Document, marker: str, after: bool = True) -> CompletionSnapshot:
    return request_at(doc, doc.text.index(marker) + (len(marker) if after else 0))


def request_at(doc: Document, offset: int) -> CompletionSnapshot:
    return CompletionSnapshot(
        uri=doc.uri,
        text=doc.text,
        offset=offset,
        language_id=doc.language_id,
        path=doc.path,
        version=doc.version,
        tree=doc.tree,
        source_bytes=doc.source,
    )


def test_python_definitions_from_other_files_reach_the_prompt(
    root: Path, store: DocumentStore
) -> None:
    engine = make_engine(root, store)
    doc = open_doc(store, engine, root, "app/main.py")
    plan = planner(engine, root).plan(request(doc, "distance = "), multiline=False)
    assert plan.request.prompt.startswith("<|repo_name|>ws\n<|file_sep|>")
    assert "<|file_sep|>pkg/geometry.py\n" in plan.request.prompt
    assert 'def distance_to(self, other: "Point") -> float:' in plan.request.prompt
    # ``units.`` is an imported module: its top-level definitions are listed.
    assert "<|file_sep|>pkg/units.py\n" in plan.request.prompt
    assert "def miles_to_meters(miles):" in plan.request.prompt
    # The current file comes last, as the FIM block.
    prompt = plan.request.prompt
    assert prompt.index("<|file_sep|>app/main.py\n<|fim_prefix|>") > prompt.index("pkg/geometry.py")
    assert SECRET not in plan.request.prompt


@pytest.mark.parametrize(
    ("relative", "marker", "wanted"),
    [
        ("web/app.js", "return item.name", "export function formatPrice(cents) {"),
        ("web/view.tsx", "return <ul>", "export class UserStore {"),
        ("go/main.go", "println(", "func Reverse(s string) string {"),
        ("rs/src/main.rs", "println!(", "pub fn area(&self) -> f64 {"),
        ("java/com/acme/App.java", "inv.addItem", "public void addItem(String name, int quantity)"),
        ("cpp/main.cpp", "return a.rows", "class Matrix {"),
    ],
)
def test_each_language_gets_cross_file_definitions(
    root: Path, store: DocumentStore, relative: str, marker: str, wanted: str
) -> None:
    engine = make_engine(root, store)
    doc = open_doc(store, engine, root, relative)
    plan = planner(engine, root).plan(request(doc, marker), multiline=False)
    assert wanted in plan.request.prompt
    assert SECRET not in plan.request.prompt


def test_unknown_language_falls_back_without_error(root: Path, store: DocumentStore) -> None:
    engine = make_engine(root, store)
    text = "Notes on Point and area_of_circle:\nuse area_of_circle(2) for "
    doc = open_doc(store, engine, root, "notes/todo.txt", text)
    assert doc.tree is None
    req = request(doc, "for ")
    plan = planner(engine, root).plan(req, multiline=False)
    assert plan.request.prompt.endswith("use area_of_circle(2) for <|fim_suffix|>\n<|fim_middle|>")
    # Words near the cursor still find definitions through the index.
    assert "def area_of_circle(radius: float) -> float:" in plan.request.prompt


def test_secret_files_never_reach_the_prompt_even_when_open(
    root: Path, store: DocumentStore
) -> None:
    engine = make_engine(root, store)
    env = open_doc(store, engine, root, ".env")
    env.apply_changes([{"text": "API_TOKEN=" + SECRET + "\nPoint = 1\n"}], 2)
    engine.did_change(env)
    engine.flush()
    doc = open_doc(store, engine, root, "app/main.py")
    plan = planner(engine, root).plan(request(doc, "distance = "), multiline=False)
    assert SECRET not in plan.request.prompt
    assert engine.index.entry(str(root / ".env")) is None


def test_budget_in_real_tokens_is_respected(root: Path, store: DocumentStore) -> None:
    lines = [f"def helper_{i}(value):\n    return value + {i}\n" for i in range(400)]
    write_workspace(root, {"pkg/many.py": "\n".join(lines)})
    engine = make_engine(root, store, max_prompt_tokens=600)
    body = "from pkg.many import *\n\n" + "".join(
        f"x{i} = helper_{i}(x{i - 1})\n" for i in range(1, 300)
    )
    doc = open_doc(store, engine, root, "app/big.py", body + "result = ")
    plan = planner(engine, root).plan(request(doc, "result = "), multiline=False)
    assert COUNTER.count(plan.request.prompt) <= 600 + 20  # per-line sums vs whole-text counting
    assert plan.request.prompt.count("def helper_") >= 1


def test_imports_and_enclosing_scopes_head_a_truncated_window(
    root: Path, store: DocumentStore
) -> None:
    engine = make_engine(root, store, max_prompt_tokens=700)
    filler = "".join(f"        total += {i}\n" for i in range(200))
    text = (
        'import math\nfrom pkg.geometry import Point\n\n\nclass Shape:\n    """A shape."""\n\n'
        "    def perimeter(self, scale: float) -> float:\n        total = 0\n"
        + filler
        + "        return "
    )
    doc = open_doc(store, engine, root, "app/shape.py", text)
    plan = planner(engine, root).plan(request(doc, "return "), multiline=False)
    prefix = plan.request.prompt.split("<|fim_prefix|>", 1)[1]
    assert prefix.startswith("import math\nfrom pkg.geometry import Point\n")
    assert (
        "class Shape:\n" in prefix and "    def perimeter(self, scale: float) -> float:" in prefix
    )
    assert prefix.index("def perimeter") < prefix.index("total += 199")
    assert "# ..." in prefix  # the elision between the header and the window


def test_definitions_of_this_file_outside_the_window_go_into_the_header(
    root: Path, store: DocumentStore
) -> None:
    engine = make_engine(root, store, max_prompt_tokens=600)
    filler = "".join(f"value_{i} = {i}\n" for i in range(300))
    text = (
        "def far_away_helper(a, b):\n    return a * b\n\n\n"
        + filler
        + "\n\ndef use():\n    return far_away_helper("
    )
    doc = open_doc(store, engine, root, "app/far.py", text)
    req = request_at(doc, len(text))
    plan = planner(engine, root).plan(req, False)
    prefix = plan.request.prompt.split("<|fim_prefix|>", 1)[1]
    assert prefix.startswith("def far_away_helper(a, b):\n    return a * b\n")


def test_prompt_start_is_stable_while_typing(root: Path, store: DocumentStore) -> None:
    engine = make_engine(root, store)
    doc = open_doc(store, engine, root, "app/main.py")
    plan_for = planner(engine, root)
    line = doc.text.split("\n").index("    return units.miles_to_meters(distance)")
    doc.apply_changes(
        [
            {
                "range": {
                    "start": {"line": line, "character": 4},
                    "end": {"line": line, "character": 45},
                },
                "text": "",
            }
        ],
        2,
    )
    engine.did_change(doc)
    engine.flush()
    typed = "return units.miles_to_meters(distance)"
    prompts = []
    for i, char in enumerate(typed):
        doc.apply_changes(
            [
                {
                    "range": {
                        "start": {"line": line, "character": 4 + i},
                        "end": {"line": line, "character": 4 + i},
                    },
                    "text": char,
                }
            ],
            doc.version + 1,
        )
        engine.did_change(doc)
        offset = doc.offset_at((line, 5 + i))
        req = CompletionSnapshot(
            doc.uri,
            doc.text,
            offset,
            "python",
            doc.path,
            doc.version,
            tree=doc.tree,
            source_bytes=doc.source,
        )
        prompts.append(plan_for.plan(req, multiline=False).request.prompt)
    for before, after in itertools.pairwise(prompts):
        cursor = after.index("<|fim_suffix|>")
        shared = len(_common_prefix(before, after))
        # Everything up to the cursor line is shared, except when a newly completed name
        # brings a new snippet (appended at the end of the context, never reordered).
        current_file = before.index("<|file_sep|>app/main.py")
        assert shared >= after.rfind("\n", 0, cursor) or shared >= current_file


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def test_other_open_documents_are_live_and_their_edits_count(
    root: Path, store: DocumentStore
) -> None:
    engine = make_engine(root, store)
    units = open_doc(store, engine, root, "pkg/units.py")
    units.apply_changes(
        [
            {
                "text": FILES["pkg/units.py"]
                + "\n\ndef yards_to_meters(yards):\n    return yards * 0.9144\n"
            }
        ],
        2,
    )
    engine.did_change(units)
    engine.flush()  # the background analysis of the changed document
    doc = open_doc(
        store, engine, root, "app/main.py", FILES["app/main.py"] + "    yards_to_meters("
    )
    plan = planner(engine, root).plan(request(doc, "yards_to_meters("), multiline=False)
    assert "def yards_to_meters(yards):" in plan.request.prompt
    # Closing the document puts the disk version back.
    engine.did_close(units.uri)
    assert engine.index.lookup("yards_to_meters") == []


def test_watched_file_events_update_the_index(root: Path, store: DocumentStore) -> None:
    engine = make_engine(root, store)
    created = root / "pkg" / "extra.py"
    created.write_text("def brand_new_function():\n    return 1\n", encoding="utf-8")
    engine.files_changed([(str(created), "created")])
    assert [s.name for s in engine.index.lookup("brand_new_function")] == ["brand_new_function"]
    created.unlink()
    engine.files_changed([(str(created), "deleted")])
    assert engine.index.lookup("brand_new_function") == []


def test_settings_change_reindexes_only_when_needed(root: Path, store: DocumentStore) -> None:
    engine = make_engine(root, store)
    before = engine.scan_id
    engine.configure(dataclasses.replace(engine.settings, log_level="debug"))
    assert engine.scan_id == before
    context = dataclasses.replace(engine.settings.context, ignore_globs=["pkg/**"])
    engine.configure(dataclasses.replace(engine.settings, context=context))
    assert engine.scan_id == before + 1
    assert engine.index.lookup("Point") == []


def test_index_can_be_disabled(root: Path, store: DocumentStore) -> None:
    engine = make_engine(root, store, workspace_index=False)
    assert len(engine.index) == 0
    doc = open_doc(store, engine, root, "app/main.py")
    plan = planner(engine, root).plan(request(doc, "distance = "), multiline=False)
    assert "<|fim_prefix|>" in plan.request.prompt


# --------------------------------------------------------------------------------------------
# Syntax gate


def test_recent_edits_reach_the_prompt(root: Path, store: DocumentStore) -> None:
    engine = make_engine(root, store, max_prompt_tokens=700)
    notes = open_doc(
        store, engine, root, "pkg/config.py", "".join(f"OPTION_{i} = {i}\n" for i in range(40))
    )
    notes.apply_changes(
        [
            {
                "range": {
                    "start": {"line": 20, "character": 0},
                    "end": {"line": 20, "character": 0},
                },
                "text": "RETRY_LIMIT_SECONDS = 42\n",
            }
        ],
        2,
    )
    filler = "".join(f"    total += {i}\n" for i in range(200))
    text = "TIMEOUT = 1\n\n\ndef run(total):\n" + filler + "    value = "
    doc = open_doc(store, engine, root, "app/run.py", text)
    doc.apply_changes(
        [
            {
                "range": {
                    "start": {"line": 0, "character": 10},
                    "end": {"line": 0, "character": 11},
                },
                "text": "30",
            }
        ],
        2,
    )
    req = request_at(doc, len(doc.text))
    plan = planner(engine, root).plan(req, multiline=False)
    assert "RETRY_LIMIT_SECONDS = 42" in plan.request.prompt  # another open document's edit
    prefix = plan.request.prompt.split("<|fim_prefix|>", 1)[1]
    assert prefix.startswith("TIMEOUT = 30\n")  # this document's edit above the window


def test_background_mode_analyses_open_documents_after_a_pause(
    root: Path, store: DocumentStore
) -> None:
    engine = ContextEngine(Settings(), COUNTER, store, worker_mode="thread")
    try:
        engine.start([str(root)])
        assert wait_until_indexed(engine, 20)
        doc = open_doc(store, engine, root, "pkg/units.py")
        doc.apply_changes([{"text": "def typed_just_now():\n    pass\n"}], 2)
        engine.did_change(doc)
        deadline = time.monotonic() + 10
        while not engine.index.lookup("typed_just_now"):
            assert time.monotonic() < deadline, "the background analysis never arrived"
            time.sleep(0.05)
        analysis = engine.live.analysis(doc.uri)
        assert analysis is not None and analysis.version == 2
    finally:
        engine.shutdown()
