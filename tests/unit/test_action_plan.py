"""Regions, the action menu, prompts and the plan → answer → edits pipeline, without LSP."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from qwen_lsp.actions.answer import AnswerError
from qwen_lsp.actions.catalogue import ActionData, diagnostic_json, kind_matches, offered_actions
from qwen_lsp.actions.edits import apply_hunks
from qwen_lsp.actions.regions import (
    fix_region,
    line_span,
    scope_region,
    selection_region,
    with_leading_comments,
)
from qwen_lsp.actions.runner import ActionError, StaleDocument, finish_action, plan_action
from qwen_lsp.documents import Document
from qwen_lsp.prompts.actions import (
    CodeContext,
    DiagnosticNote,
    custom_messages,
    document_messages,
    fenced,
    fill_template,
    fix_messages,
)
from qwen_lsp.prompts.actions import TestFileInfo as FileInfo
from qwen_lsp.prompts.actions import tests_messages as unit_tests_messages
from qwen_lsp.settings import ActionSettings, CustomAction

SOURCE = """\
import os


def add(a, b):
    return a + b


class Store:
    def total(self):
        t = 0
        for item in self.items:
            t = t + item.price
        return t
"""


def doc_for(text: str = SOURCE, language: str = "python", name: str = "calc.py") -> Document:
    return Document(f"file:///ws/{name}", text, 3, language)


def at(line: int, character: int = 0, end: tuple[int, int] | None = None) -> types.Range:
    start = types.Position(line, character)
    return types.Range(start, types.Position(*end) if end else start)


# --- regions ---------------------------------------------------------------------------------


def test_line_span_excludes_a_line_the_selection_only_touches():
    assert line_span(at(2, 3, (4, 0)), 10) == (2, 4)
    assert line_span(at(2, 3, (4, 1)), 10) == (2, 5)
    assert line_span(at(8, 0, (99, 0)), 10) == (8, 10)


def test_selection_and_scope_regions():
    doc = doc_for()
    selection = selection_region(doc, at(9, 0, (12, 16)))
    assert selection is not None
    assert (selection.start_line, selection.end_line, selection.kind) == (9, 13, "selection")
    assert selection.headers == ("class Store:", "    def total(self):")
    assert selection.outer_name == "Store"
    assert selection_region(doc, at(5, 0, (6, 0))) is None  # only blank lines
    method = scope_region(doc, types.Position(10, 12))
    assert method is not None and (method.kind, method.name) == ("method", "total")
    assert (method.start_line, method.end_line, method.outer_name) == (8, 13, "Store")
    assert method.label == "method `total`" and method.short_label == "method total"
    assert scope_region(doc, types.Position(0, 3)) is None  # module level


def test_fix_region_is_the_small_enclosing_function_or_lines_around():
    doc = doc_for()
    region = fix_region(doc, [4])
    assert (region.kind, region.name, region.start_line, region.end_line) == (
        "function",
        "add",
        3,
        5,
    )
    module_level = fix_region(doc, [0])
    assert (module_level.kind, module_level.start_line, module_level.end_line) == ("lines", 0, 4)


def test_doc_region_grows_over_comments_above():
    text = "package calc\n\n// Add adds.\n// More.\nfunc Add(a, b int) int {\n\treturn a + b\n}\n"
    doc = doc_for(text, "go", "calc.go")
    region = scope_region(doc, types.Position(5, 2))
    assert region is not None and region.start_line == 4
    assert with_leading_comments(doc, region).start_line == 2


# --- the menu --------------------------------------------------------------------------------


def test_offers_for_a_diagnostic_inside_a_function():
    doc = doc_for()
    problem = types.Diagnostic(range=at(4, 15, (4, 16)), message="undefined\n name")
    offers = offered_actions(doc, at(4, 8), [problem], ActionSettings(), roots=["/ws"])
    assert [o.title for o in offers] == [
        'Qwen: Fix "undefined name"',
        "Qwen: Refactor function add",
        "Qwen: Document function add",
        "Qwen: Generate tests for function add in tests/test_calc.py",
        "Qwen: Explain function add",
    ]
    assert [o.command_only for o in offers] == [False, False, False, False, True]
    assert offers[0].data.diagnostics == (diagnostic_json(problem),)
    assert all(o.data.version == 3 and o.data.title == o.title for o in offers)


def test_offers_respect_settings_only_and_test_files():
    doc = doc_for()
    assert offered_actions(doc, at(4, 8), [], ActionSettings(enabled=False)) == []
    refactors = offered_actions(doc, at(4, 8), [], ActionSettings(), only=["refactor.rewrite"])
    assert [o.data.action for o in refactors] == ["refactor", "document"]
    test_doc = doc_for(name="tests/test_calc.py")
    assert "tests" not in [
        o.data.action for o in offered_actions(test_doc, at(4, 8), [], ActionSettings())
    ]
    assert offered_actions(doc, at(0, 2), [], ActionSettings()) == []  # nothing to act on


def test_custom_offers_filter_by_language_and_skip_incomplete_entries():
    customs = [
        CustomAction(title="Add logging", prompt="Add logging to {selection}"),
        CustomAction(title="Go only", prompt="x", languages=["go"]),
        CustomAction(title="", prompt="no title"),
        CustomAction(
            title="Review", prompt="Review {scope}", output="explain", kind="refactor.review"
        ),
    ]
    offers = offered_actions(doc_for(), at(4, 8), [], ActionSettings(custom=customs))
    custom = [o for o in offers if o.data.action == "custom"]
    assert [(o.title, o.kind, o.data.custom, o.command_only) for o in custom] == [
        ("Qwen: Add logging", "refactor.rewrite", 0, False),
        ("Qwen: Review", "refactor.review", 3, True),
    ]


def test_kind_filter_is_hierarchical():
    assert kind_matches("refactor.rewrite.document", ["refactor"])
    assert not kind_matches("refactor.rewrite", ["refactor.rewrite.document"])
    assert not kind_matches("refactorx", ["refactor"])
    assert kind_matches("quickfix", None)


def test_action_data_round_trip_and_rejection():
    data = ActionData("fix", "file:///a.py", 7, at(1, 2, (3, 4)), ({"line": 1},), title="T")
    assert ActionData.from_json(data.to_json()) == data
    for bad in (None, {"tag": "other"}, {"tag": "qwen-lsp", "action": "fix"}):
        with pytest.raises(ValueError):
            ActionData.from_json(bad)


# --- prompts ---------------------------------------------------------------------------------


def context(**extra) -> CodeContext:
    values = dict(
        language="python",
        path="calc.py",
        code="def add(a, b):\n    return a + c",
        start_line=3,
        target="function `add`",
        name="add",
        imports="import os",
        before="import os\n\n\n",
    )
    values.update(extra)
    return CodeContext(**values)


def test_fix_prompt_has_diagnostics_with_line_numbers_and_the_code():
    note = DiagnosticNote(4, "error", "undefined name 'c'", "pyflakes", "F821", "    return a + c")
    system, user = fix_messages(context(diagnostics=(note,)))
    assert "exactly one fenced code block" in system["content"]
    assert (
        "- line 5: error: undefined name 'c' [pyflakes F821]\n    `return a + c`" in user["content"]
    )
    assert "lines 4-5 of calc.py" in user["content"]
    assert "```python\ndef add(a, b):\n    return a + c\n```" in user["content"]
    assert user["content"].count("import os") == 1  # the imports are already in the context


@pytest.mark.parametrize(
    ("language", "convention"),
    [
        ("python", "PEP 257"),
        ("javascript", "JSDoc"),
        ("typescript", "TSDoc"),
        ("go", "Go doc comment"),
        ("rust", "///"),
        ("java", "Javadoc"),
        ("cpp", "Doxygen"),
        ("csharp", "<summary>"),
    ],
)
def test_document_prompt_names_the_language_convention(language: str, convention: str):
    (_system, user) = document_messages(context(language=language))
    assert convention in user["content"]


def test_tests_prompt_for_new_and_existing_files():
    info = FileInfo("tests/test_calc.py", "pytest", "Import it with `from calc import add`.", None)
    (_s, new) = unit_tests_messages(context(), info)
    assert (
        "new file, tests/test_calc.py" in new["content"]
        and "from calc import add" in new["content"]
    )
    existing = FileInfo("tests/test_calc.py", "pytest", "", "def test_old():\n    pass\n")
    (_s, more) = unit_tests_messages(context(), existing)
    assert "already exists" in more["content"] and "def test_old():" in more["content"]
    assert "only the new code to append" in more["content"]


def test_custom_template_placeholders():
    assert fill_template("{language}: {unknown} {json: 1}", {"language": "Python"}) == (
        "Python: {unknown} {json: 1}"
    )
    (_s, user) = custom_messages(
        context(), "Rewrite {name} ({language}) in {path}:\n{selection}\n{diagnostics}", "edit"
    )
    content = user["content"]
    assert "Task: Rewrite add (Python) in calc.py:\n```python\ndef add(a, b):" in content
    assert "(none)" in content
    assert content.count("return a + c") == 1  # the region is shown once
    (_s, explain) = custom_messages(context(), "Review this.", "explain")
    assert "return a + c" in explain["content"] and "Markdown" in explain["content"]


def test_fenced_outgrows_backticks_in_the_code():
    assert fenced('s = """```x```"""', "python").startswith("````python\n")


# --- plan and finish -------------------------------------------------------------------------


def data_for(doc: Document, action: str, rng: types.Range, **extra) -> ActionData:
    return ActionData(action, doc.uri, doc.version, rng, **extra)


def test_plan_and_finish_a_refactor_of_a_method():
    doc = doc_for()
    plan = plan_action(doc, data_for(doc, "refactor", at(10, 8)), ActionSettings())
    assert plan.region.name == "total" and plan.output == "edit"
    answer = "```python\ndef total(self):\n    return sum(i.price for i in self.items)\n```"
    (change,) = finish_action(plan, answer).changes
    assert change.version == 3 and change.uri == doc.uri
    assert apply_hunks(SOURCE, change.hunks).endswith(
        "    def total(self):\n        return sum(i.price for i in self.items)\n"
    )
    assert len(change.hunks) == 1 and change.hunks[0].start == SOURCE.index("        t = 0")


def test_finish_hoists_new_imports_to_the_file_imports():
    doc = doc_for()
    plan = plan_action(doc, data_for(doc, "refactor", at(4, 4)), ActionSettings())
    answer = "```python\nimport operator\n\n\ndef add(a, b):\n    return operator.add(a, b)\n```"
    (change,) = finish_action(plan, answer).changes
    assert apply_hunks(SOURCE, change.hunks).startswith(
        "import os\nimport operator\n\n\ndef add(a, b):\n    return operator.add(a, b)\n"
    )


def test_finish_refuses_unchanged_and_unparseable_code():
    doc = doc_for()
    plan = plan_action(doc, data_for(doc, "refactor", at(4, 4)), ActionSettings())
    with pytest.raises(ActionError, match="unchanged"):
        finish_action(plan, "```python\ndef add(a, b):\n    return a + b\n```")
    with pytest.raises(
        ActionError, match=r"does not parse \(\d+ syntax errors? in calc.py, first at line \d+"
    ):
        finish_action(plan, "```python\ndef add(a, b:\n    return a + b\n```")
    with pytest.raises(AnswerError):
        finish_action(plan, "no idea")


def test_plan_refusals():
    doc = doc_for()
    with pytest.raises(StaleDocument, match="changed"):
        plan_action(doc, ActionData("refactor", doc.uri, 2, at(4, 4)), ActionSettings())
    with pytest.raises(ActionError, match="put the cursor inside a function"):
        plan_action(doc, data_for(doc, "refactor", at(0, 2)), ActionSettings())
    with pytest.raises(ActionError, match="at most 3"):
        plan_action(doc, data_for(doc, "refactor", at(9, 8)), ActionSettings(max_region_lines=3))
    with pytest.raises(ActionError, match="no longer configured"):
        plan_action(
            doc, data_for(doc, "custom", at(4, 4), custom=0, custom_title="Gone"), ActionSettings()
        )
    with pytest.raises(ActionError, match="no diagnostics"):
        plan_action(doc, data_for(doc, "fix", at(4, 4)), ActionSettings())


def test_explain_plan_returns_the_text():
    doc = doc_for()
    plan = plan_action(doc, data_for(doc, "explain", at(4, 4)), ActionSettings())
    assert plan.output == "explain"
    assert finish_action(plan, "<think>x</think>It adds.").explanation == "It adds."


def test_tests_plan_uses_an_open_test_document(tmp_path: Path):
    source = tmp_path / "calc.py"
    source.write_text(SOURCE)
    doc = Document(source.as_uri(), SOURCE, 1, "python")
    test_path = tmp_path / "tests" / "test_calc.py"
    opened = Document(test_path.as_uri(), "import pytest\n", 9, "python")
    plan = plan_action(
        doc,
        data_for(doc, "tests", at(4, 4)),
        ActionSettings(),
        [str(tmp_path)],
        lambda uri: opened if uri == opened.uri else None,
    )
    assert (
        plan.test is not None and plan.test.version == 9 and plan.test.existing == "import pytest\n"
    )
    (change,) = finish_action(
        plan, "```python\ndef test_add():\n    assert add(1, 2) == 3\n```"
    ).changes
    assert change.version == 9 and not change.create
    assert apply_hunks(opened.text, change.hunks) == (
        "import pytest\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )


def test_tests_plan_creates_a_new_file_and_checks_its_syntax(tmp_path: Path):
    source = tmp_path / "calc.py"
    doc = Document(source.as_uri(), SOURCE, 1, "python")
    plan = plan_action(doc, data_for(doc, "tests", at(4, 4)), ActionSettings(), [str(tmp_path)])
    assert plan.test is not None and plan.test.existing is None
    (change,) = finish_action(
        plan, "```python\ndef test_add():\n    assert add(1, 2) == 3\n```"
    ).changes
    assert change.create and change.path == tmp_path / "tests" / "test_calc.py"
    with pytest.raises(ActionError, match="does not parse"):
        finish_action(plan, "```python\ndef test_add(:\n```")
