"""Golden tests: the repo-level prompt against the format of Qwen2.5-Coder's own examples.

Qwen's "Repository Level Code Infilling" example (examples/Qwen2.5-Coder.md in QwenLM/Qwen2.5-Coder)
builds its prompt as::

    <|repo_name|>{repo_name}
    <|file_sep|>{file_path1}
    {file_content1}
    <|file_sep|>{file_path2}
    {file_content2}
    <|file_sep|>{file_path3}
    <|fim_prefix|>{prefix_code}<|fim_suffix|>{suffix_code}<|fim_middle|>

and its concrete instance shows whole files (ending in a newline) followed by a blank line before
the next ``<|file_sep|>``. The contents below are our own small files in that shape.
"""

from __future__ import annotations

from pathlib import Path

from qwen_lsp.completion.planner import PromptPlanner
from qwen_lsp.completion.snapshot import CompletionSnapshot
from qwen_lsp.context.engine import ContextEngine
from qwen_lsp.context.tokens import TokenCounter
from qwen_lsp.documents import DocumentStore
from qwen_lsp.prompts.fim import ContextFile, repo_level_prompt
from qwen_lsp.settings import Settings

INVENTORY = """class Item:
    def __init__(self, name, price):
        self.name = name
        self.price = price
"""
CART = """class Cart:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
"""


def qwen_template(
    repo: str, files: list[tuple[str, str]], path: str, prefix: str, suffix: str
) -> str:
    """Qwen's example template, literally (one f-string per context file)."""
    text = f"<|repo_name|>{repo}\n"
    for file_path, content in files:
        text += f"<|file_sep|>{file_path}\n{content}\n"
    return text + f"<|file_sep|>{path}\n<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"


def test_repo_level_prompt_is_qwens_template() -> None:
    prefix = "from inventory import Item\nfrom cart import Cart\n\ncart = Cart()\n"
    suffix = "\nprint(len(cart.items))\n"
    files = [("inventory.py", INVENTORY), ("cart.py", CART)]
    prompt = repo_level_prompt(
        "shop", [ContextFile(p, c) for p, c in files], "main.py", prefix, suffix
    )
    assert prompt == qwen_template("shop", files, "main.py", prefix, suffix)
    assert prompt == (
        "<|repo_name|>shop\n"
        "<|file_sep|>inventory.py\n"
        "class Item:\n"
        "    def __init__(self, name, price):\n"
        "        self.name = name\n"
        "        self.price = price\n"
        "\n"
        "<|file_sep|>cart.py\n"
        "class Cart:\n"
        "    def __init__(self):\n"
        "        self.items = []\n"
        "\n"
        "    def add(self, item):\n"
        "        self.items.append(item)\n"
        "\n"
        "<|file_sep|>main.py\n"
        "<|fim_prefix|>from inventory import Item\nfrom cart import Cart\n\ncart = Cart()\n"
        "<|fim_suffix|>\nprint(len(cart.items))\n<|fim_middle|>"
    )


def test_engine_prompt_follows_the_template_end_to_end(tmp_path: Path) -> None:
    root = (tmp_path / "shop").resolve()
    root.mkdir()
    (root / "inventory.py").write_text(INVENTORY, encoding="utf-8")
    (root / "cart.py").write_text(CART, encoding="utf-8")
    main = "from inventory import Item\nfrom cart import Cart\n\ncart = Cart()\ncart.add(Item("
    counter = TokenCounter(load_now=True)
    store = DocumentStore()
    engine = ContextEngine(Settings(), counter, store, worker_mode="sync")
    engine.start([str(root)])
    doc = store.open((root / "main.py").as_uri(), main, 1, "python")
    engine.did_open(doc)
    planner = PromptPlanner(
        Settings(),
        lambda: "completions",
        lambda: [str(root)],
        context_provider=engine,
    )
    request = CompletionSnapshot(
        doc.uri, main, len(main), "python", doc.path, 1, tree=doc.tree, source_bytes=doc.source
    )
    plan = planner.plan(request, multiline=False)
    # Both classes are small: shown whole, one section per file, in a deterministic order.
    files = [(f.path, f.content) for f in plan.context_files]
    assert sorted(files) == [("cart.py", CART), ("inventory.py", INVENTORY)]
    assert plan.request.prompt == qwen_template("shop", files, "main.py", main, "\n")
    # The same request again gives the same bytes (deterministic order for the prefix cache).
    assert planner.plan(request, multiline=False).request.prompt == plan.request.prompt
