"""The scopes enclosing a point, per language; ``scopes_at`` after trailing blanks."""

from __future__ import annotations

import pytest

from qwen_lsp.syntax.scopes import enclosing_scopes, scopes_at
from tests.unit.syntax.helpers import PYTHON, parse, scopes

SCOPES = [
    (
        "python",
        PYTHON.replace("return 0.0", "return <|>0.0"),
        [("class", "Shape"), ("method", "area")],
    ),
    (
        "python",
        PYTHON.replace("return 0.0", "return 0.0\n        <|>"),
        [("class", "Shape"), ("method", "area")],
    ),
    ("python", PYTHON.replace("return 0.0", "return 0.0\n    <|>"), [("class", "Shape")]),
    ("python", PYTHON.replace("return 0.0", "return 0.0\n<|>"), []),
    (
        "python",
        PYTHON.replace("            pass", "            pass<|>"),
        [("class", "Shape"), ("method", "area"), ("function", "helper")],
    ),
    ("python", PYTHON.replace("    return a", "    <|>\n    return a"), [("function", "top")]),
    ("python", "class A:\r\n\tdef m(self):\r\n\t\tpass\r\n\t<|>\r\n", [("class", "A")]),
    (
        "javascript",
        "class A {\n  m() {\n    const f = () => {\n      <|>\n    };\n  }\n}\n",
        [("class", "A"), ("method", "m"), ("function", "f")],
    ),
    ("javascript", "function f() {\n  return 1;\n}<|>\n", []),
    (
        "typescript",
        "namespace N {\n  interface I {\n    <|>\n  }\n}\n",
        [("namespace", "N"), ("interface", "I")],
    ),
    (
        "go",
        "package m\nfunc (s *S) F() {\n\tgo func() {\n\t\t<|>\n\t}()\n}\n",
        [("method", "F"), ("function", None)],
    ),
    ("go", "package m\ntype S struct {\n\tX int<|>\n}\n", [("struct", "S")]),
    (
        "rust",
        "mod m {\n    impl<T> Foo<T> {\n        fn new() -> Self {\n            <|>\n"
        "        }\n    }\n}\n",
        [("module", "m"), ("impl", "Foo"), ("method", "new")],
    ),
    (
        "java",
        "class A {\n  void m() {\n    Runnable r = () -> {\n      <|>\n    };\n  }\n}\n",
        [("class", "A"), ("method", "m"), ("lambda", "r")],
    ),
    ("c", "struct P { int x<|>; };\nint main(void) { return 0; }\n", [("struct", "P")]),
    ("c", "int main(void) {\n  if (1) {\n    <|>\n  }\n}\n", [("function", "main")]),
    (
        "cpp",
        "namespace ns {\nclass A {\n  int f() { return <|>1; }\n};\n}\n",
        [("namespace", "ns"), ("class", "A"), ("method", "f")],
    ),
    ("shellscript", "deploy() {\n  echo <|>\n}\n", [("function", "deploy")]),
    (
        "ruby",
        "module M\n  class C\n    def run\n      <|>\n    end\n  end\nend\n",
        [("module", "M"), ("class", "C"), ("method", "run")],
    ),
    (
        "php",
        "<?php\nclass A {\n  public function m() {\n    <|>\n  }\n}\n",
        [("class", "A"), ("method", "m")],
    ),
    (
        "csharp",
        "namespace N {\n  class A {\n    void M() {\n      <|>\n    }\n  }\n}\n",
        [("namespace", "N"), ("class", "A"), ("method", "M")],
    ),
    ("lua", "function M.run(x)\n  <|>\nend\n", [("function", "M.run")]),
]


@pytest.mark.parametrize(("language_id", "text", "expected"), SCOPES)
def test_enclosing_scopes(
    language_id: str, text: str, expected: list[tuple[str, str | None]]
) -> None:
    assert scopes(language_id, text) == expected


def test_scope_headers_and_ranges() -> None:
    text = PYTHON.replace("return 0.0", "return <|>0.0")
    tree, source, cursor = parse("python", text)
    shape, area = enclosing_scopes(tree, source, cursor)
    assert shape.header == "class Shape(Base):"
    assert area.header == "    def area(self,\n             scale: float) -> float:"
    assert area.start_line == 13 and area.end_line == 17
    assert area.body_start_byte is not None and area.start_byte < area.body_start_byte < cursor
    tree, source, cursor = parse("c", "static int\nmain(int argc) {\n  <|>\n}\n")
    (main,) = enclosing_scopes(tree, source, cursor)
    assert main.header == "static int\nmain(int argc) {"
    tree, source, cursor = parse("cpp", "template <class T>\nstruct S {\n  <|>\n};\n")
    (s,) = enclosing_scopes(tree, source, cursor)
    assert s.header == "template <class T>\nstruct S {" and s.kind == "struct"


def test_scopes_at_a_cursor_after_trailing_blanks_are_those_of_the_last_token() -> None:
    tree, source, cursor = parse("python", "def f(a):\n    return <|>\n")
    assert enclosing_scopes(tree, source, cursor) == []  # the tree puts the blank in no node
    assert [(s.kind, s.name) for s in scopes_at(tree, source, cursor, "python")] == [
        ("function", "f")
    ]
