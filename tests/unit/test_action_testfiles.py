"""Where generated tests go per language, and how they join an existing test file."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_lsp.actions.edits import parse
from qwen_lsp.actions.testfiles import (
    is_test_file,
    merge_tests,
    missing_imports,
    python_module,
    split_header,
)
from qwen_lsp.actions.testfiles import test_target as target_for
from qwen_lsp.syntax.analysis import imports


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("python", "pkg/calc.py", "tests/test_calc.py"),
        ("javascript", "src/calc.js", "src/calc.test.js"),
        ("typescript", "src/calc.ts", "src/calc.test.ts"),
        ("typescriptreact", "src/Button.tsx", "src/Button.test.tsx"),
        ("go", "calc/calc.go", "calc/calc_test.go"),
        ("java", "src/main/java/a/b/Calc.java", "src/test/java/a/b/CalcTest.java"),
        ("java", "Calc.java", "CalcTest.java"),
        ("c", "src/calc.c", "tests/test_calc.c"),
        ("cpp", "src/calc.cpp", "tests/test_calc.cpp"),
        ("csharp", "Calc.cs", "CalcTests.cs"),
        ("ruby", "lib/calc.rb", "spec/calc_spec.rb"),
        ("php", "src/calc.php", "tests/CalcTest.php"),
        ("lua", "calc.lua", "spec/calc_spec.lua"),
        ("shellscript", "bin/deploy.sh", "test/deploy.bats"),
    ],
)
def test_test_file_per_language(tmp_path: Path, language: str, source: str, expected: str):
    target = target_for(language, tmp_path / source, [str(tmp_path)], "", "add")
    assert target is not None
    assert target.path == tmp_path / expected
    assert target.framework


def test_rust_tests_go_to_the_crate_and_use_its_name(tmp_path: Path):
    crate = tmp_path / "mycrate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "my-crate"\nversion = "0.1.0"\n')
    target = target_for("rust", crate / "src" / "calc.rs", [str(tmp_path)], "", "add")
    assert target is not None and target.path == crate / "tests" / "calc.rs"
    assert "use my_crate::" in target.import_hint


def test_import_hints(tmp_path: Path):
    py = target_for("python", tmp_path / "src" / "pkg" / "calc.py", [str(tmp_path)], "", "add")
    assert py is not None and "`from pkg.calc import add`" in py.import_hint
    go = target_for("go", tmp_path / "calc.go", [], "// x\npackage calc\n", "Add")
    assert go is not None and "package calc" in go.import_hint
    js = target_for("javascript", tmp_path / "calc.js", [str(tmp_path)], "", "add")
    assert js is not None and '"./calc"' in js.import_hint and "Jest" in js.framework


def test_vitest_is_detected_from_package_json(tmp_path: Path):
    (tmp_path / "package.json").write_text('{"devDependencies": {"vitest": "^1"}}')
    target = target_for("typescript", tmp_path / "src" / "calc.ts", [str(tmp_path)], "", "f")
    assert target is not None and "Vitest" in target.framework
    quick = target_for(
        "typescript", tmp_path / "src" / "calc.ts", [str(tmp_path)], "", "f", details=False
    )
    assert quick is not None and "Jest" in quick.framework  # listing reads no files


def test_python_module_names(tmp_path: Path):
    assert python_module(tmp_path / "src" / "pkg" / "__init__.py", tmp_path) == "pkg"
    assert python_module(tmp_path / "calc.py", tmp_path) == "calc"
    assert python_module(Path("/elsewhere/calc.py"), tmp_path) == "calc"


@pytest.mark.parametrize(
    ("name", "is_test"),
    [
        ("tests/test_calc.py", True),
        ("calc_test.py", True),
        ("conftest.py", True),
        ("calc.test.ts", True),
        ("calc.spec.jsx", True),
        ("calc_test.go", True),
        ("CalcTest.java", True),
        ("spec/calc_spec.rb", True),
        ("tests/calc.rs", True),
        ("calc.py", False),
        ("testing.py", False),
        ("src/calc.rs", False),
    ],
)
def test_is_test_file(name: str, is_test: bool):
    assert is_test_file(f"/ws/{name}") is is_test


def test_split_header_separates_leading_imports():
    code = "import pytest\nfrom calc import add\n\n# helper\ndef test_a():\n    pass\n"
    header, body = split_header(code, "python")
    assert [i.text for i in header] == ["import pytest", "from calc import add"]
    assert body == "# helper\ndef test_a():\n    pass\n"
    # No imports: the code is returned as it was, indentation included.
    assert split_header("    def m(self):\n        pass\n", "python") == (
        [],
        "    def m(self):\n        pass\n",
    )


def _imports(code: str, language: str) -> list:
    tree = parse(code, language)
    return imports(tree, code.encode(), language_id=language)


def test_missing_imports_keep_only_what_is_new():
    existing = _imports("import pytest\nfrom calc import add\n", "python")
    wanted = _imports("import pytest\nimport math\nfrom calc import add, div\n", "python")
    assert missing_imports(wanted, existing) == ["import math", "from calc import div"]
    go_existing = _imports('package calc\n\nimport (\n\t"testing"\n)\n', "go")
    go_wanted = _imports('package calc\n\nimport (\n\t"strings"\n\t"testing"\n)\n', "go")
    assert missing_imports(go_wanted, go_existing) == ['import "strings"']


def test_merge_python_tests_appends_and_adds_imports():
    existing = (
        "import pytest\n\nfrom calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )
    generated = (
        "import pytest\nfrom calc import div\n\n\ndef test_div():\n    assert div(4, 2) == 2\n"
    )
    assert merge_tests(existing, generated, "python") == (
        "import pytest\n\nfrom calc import add\nfrom calc import div\n\n\n"
        "def test_add():\n    assert add(1, 2) == 3\n\n\n"
        "def test_div():\n    assert div(4, 2) == 2\n"
    )


def test_merge_go_tests_drops_the_package_clause_and_known_imports():
    existing = 'package calc\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {}\n'
    generated = (
        'package calc\n\nimport (\n\t"strings"\n\t"testing"\n)\n\n'
        "func TestUpper(t *testing.T) {\n\t_ = strings.ToUpper\n}\n"
    )
    merged = merge_tests(existing, generated, "go")
    assert merged == (
        'package calc\n\nimport "testing"\nimport "strings"\n\nfunc TestAdd(t *testing.T) {}\n\n'
        "func TestUpper(t *testing.T) {\n\t_ = strings.ToUpper\n}\n"
    )
    assert merged.count("package calc") == 1


def test_merge_into_a_file_without_imports():
    merged = merge_tests(
        "package calc\n", 'import "testing"\n\nfunc TestX(t *testing.T) {}\n', "go"
    )
    assert merged == 'package calc\n\nimport "testing"\n\nfunc TestX(t *testing.T) {}\n'
