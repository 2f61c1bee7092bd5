"""Syntax analysis over small real snippets per language: definitions, imports, scopes, names,
errors and string/comment context. ``<|>`` marks the cursor."""

from __future__ import annotations

import pytest
from tree_sitter import Parser, Tree

from qwen_lsp.syntax import analysis as A
from qwen_lsp.syntax.languages import get_language

CURSOR = "<|>"


def parse(language_id: str, text: str) -> tuple[Tree, bytes, int]:
    """Tree, source and cursor byte for ``text`` (cursor marker removed; -1 if absent)."""
    cursor = text.encode().find(CURSOR.encode())
    source = text.replace(CURSOR, "").encode()
    language = get_language(language_id)
    assert language is not None
    return Parser(language).parse(source), source, cursor


def defs(language_id: str, text: str) -> set[tuple[str, str, str | None]]:
    tree, source, _ = parse(language_id, text)
    return {(d.kind, d.name, d.container) for d in A.definitions(tree, source)}


def scopes(language_id: str, text: str) -> list[tuple[str, str | None]]:
    tree, source, cursor = parse(language_id, text)
    return [(s.kind, s.name) for s in A.enclosing_scopes(tree, source, cursor)]


PYTHON = """import os
from a.b import c as d, e
MAX_SIZE: int = 10
counter = 0
type Alias = list[int]

@decorator
def top(a, b=1) -> int:
    return a

class Shape(Base):
    sides = 0

    def area(self,
             scale: float) -> float:
        def helper():
            pass
        return 0.0
"""

DEFINITIONS = {
    "python": (
        PYTHON,
        {
            ("constant", "MAX_SIZE", None),
            ("variable", "counter", None),
            ("type", "Alias", None),
            ("function", "top", None),
            ("class", "Shape", None),
            ("field", "sides", "Shape"),
            ("method", "area", "Shape"),
            ("function", "helper", "area"),
        },
    ),
    "javascript": (
        "import x from 'y';\nexport const LIMIT = 3;\nlet state = {};\n"
        "const add = (a, b) => a + b;\nfunction* gen() {}\n"
        "export class Stack extends Base {\n  push(v) { this.items.push(v); }\n}\n",
        {
            ("constant", "LIMIT", None),
            ("variable", "state", None),
            ("function", "add", None),
            ("function", "gen", None),
            ("class", "Stack", None),
            ("method", "push", "Stack"),
        },
    ),
    "typescript": (
        "interface Point { x: number; norm(): number }\ntype Id = string;\n"
        "enum Color { Red }\nnamespace NS { export function inner(): void {} }\n"
        "abstract class Repo<T> { abstract find(id: Id): T; get(): T | null { return null; } }\n",
        {
            ("interface", "Point", None),
            ("field", "x", "Point"),
            ("method", "norm", "Point"),
            ("type", "Id", None),
            ("enum", "Color", None),
            ("namespace", "NS", None),
            ("function", "inner", "NS"),
            ("class", "Repo", None),
            ("method", "find", "Repo"),
            ("method", "get", "Repo"),
        },
    ),
    "typescriptreact": (
        "export function App(props: Props) {\n  return <div>{props.x}</div>;\n}\n",
        {("function", "App", None)},
    ),
    "go": (
        "package m\nconst Max = 1\nvar a, b = 1, 2\ntype S struct { X int }\n"
        "type I interface { M() }\ntype N = int\nfunc F() {}\nfunc (s *S) Do() {}\n",
        {
            ("constant", "Max", None),
            ("variable", "a", None),
            ("variable", "b", None),
            ("struct", "S", None),
            ("interface", "I", None),
            ("method", "M", "I"),
            ("type", "N", None),
            ("function", "F", None),
            ("method", "Do", "S"),
        },
    ),
    "rust": (
        "const MAX: u8 = 1;\nstruct P { x: i32 }\nenum E { A }\ntrait T { fn t(&self); }\n"
        "impl<U> T for Wrapper<U> { fn t(&self) {} }\nmod inner { pub fn g() {} }\n"
        "type R = Result<(), ()>;\nmacro_rules! m { () => {} }\n",
        {
            ("constant", "MAX", None),
            ("struct", "P", None),
            ("field", "x", "P"),
            ("enum", "E", None),
            ("trait", "T", None),
            ("method", "t", "T"),
            ("impl", "Wrapper", None),
            ("method", "t", "Wrapper"),
            ("module", "inner", None),
            ("function", "g", "inner"),
            ("type", "R", None),
            ("macro", "m", None),
        },
    ),
    "java": (
        "import java.util.List;\npublic class Box<T> {\n  static final int CAP = 4;\n"
        "  public Box() {}\n  public T get(int i) { return null; }\n"
        "  interface Visitor { void visit(); }\n  enum Kind { A }\n}\n",
        {
            ("class", "Box", None),
            ("field", "CAP", "Box"),
            ("constructor", "Box", "Box"),
            ("method", "get", "Box"),
            ("interface", "Visitor", "Box"),
            ("method", "visit", "Visitor"),
            ("enum", "Kind", "Box"),
        },
    ),
    "c": (
        "#include <stdio.h>\n#define N 3\ntypedef struct node { int v; } node_t;\n"
        "enum color { RED };\nstatic int count = 0;\nint **make(int n) { return 0; }\n"
        "void decl(void);\n",
        {
            ("constant", "N", None),
            ("struct", "node", None),
            ("type", "node_t", None),
            ("enum", "color", None),
            ("variable", "count", None),
            ("function", "make", None),
            ("function", "decl", None),
        },
    ),
    "cpp": (
        "namespace geo {\ntemplate <typename T>\nclass Vec : public Base {\n public:\n"
        "  Vec();\n  T dot(const Vec& o) const { return 0; }\n  int size_;\n};\n"
        "int Vec::len() { return 0; }\nusing Real = double;\n}\n",
        {
            ("namespace", "geo", None),
            ("class", "Vec", "geo"),
            ("method", "Vec", "Vec"),
            ("method", "dot", "Vec"),
            ("field", "size_", "Vec"),
            ("method", "len", "Vec"),
            ("type", "Real", "geo"),
        },
    ),
    "shellscript": (
        "#!/bin/bash\nsource ./lib.sh\nNAME=x\nbuild() { make; }\nfunction clean { rm -f a; }\n",
        {("constant", "NAME", None), ("function", "build", None), ("function", "clean", None)},
    ),
    "ruby": (
        "require 'json'\nLIMIT = 5\nmodule Shop\n  class Cart < Base\n    def add(item)\n"
        "      @items << item\n    end\n    def self.build; end\n  end\nend\n",
        {
            ("constant", "LIMIT", None),
            ("module", "Shop", None),
            ("class", "Cart", "Shop"),
            ("method", "add", "Cart"),
            ("method", "build", "Cart"),
        },
    ),
    "php": (
        "<?php\nnamespace App;\nuse Foo\\Bar as Baz;\nfunction helper($x) { return $x; }\n"
        "class User extends Model {\n  const ROLE = 'a';\n  private $name;\n"
        "  public function save(): bool { return true; }\n}\ninterface Repo { function all(); }\n"
        "trait Logs { function log() {} }\n",
        {
            ("function", "helper", None),
            ("class", "User", None),
            ("constant", "ROLE", "User"),
            ("field", "name", "User"),
            ("method", "save", "User"),
            ("interface", "Repo", None),
            ("method", "all", "Repo"),
            ("trait", "Logs", None),
            ("method", "log", "Logs"),
        },
    ),
    "csharp": (
        "using System;\nnamespace App {\n  public class Svc : IDisposable {\n"
        "    private int _n;\n    public string Name { get; set; }\n    public Svc() {}\n"
        "    public void Run(int x) { int Local() => 1; }\n  }\n  interface IRepo { void Get(); }\n"
        "  struct P {}\n  enum E { A }\n}\n",
        {
            ("namespace", "App", None),
            ("class", "Svc", "App"),
            ("field", "_n", "Svc"),
            ("property", "Name", "Svc"),
            ("constructor", "Svc", "Svc"),
            ("method", "Run", "Svc"),
            ("function", "Local", "Run"),
            ("interface", "IRepo", "App"),
            ("method", "Get", "IRepo"),
            ("struct", "P", "App"),
            ("enum", "E", "App"),
        },
    ),
    "lua": (
        "local json = require('json')\nlocal M = {}\nlocal function helper(a) return a end\n"
        "function M.run(x) return x end\nfunction M:stop() end\nlocal cb = function() end\n",
        {
            ("variable", "json", None),
            ("constant", "M", None),
            ("function", "helper", None),
            ("method", "run", "M"),
            ("method", "stop", "M"),
            ("function", "cb", None),
        },
    ),
}


@pytest.mark.parametrize("language_id", sorted(DEFINITIONS))
def test_definitions(language_id: str) -> None:
    text, expected = DEFINITIONS[language_id]
    found = defs(language_id, text)
    assert expected <= found, f"missing: {expected - found}"


def test_definition_details_python() -> None:
    tree, source, _ = parse("python", PYTHON)
    by_name = {d.name: d for d in A.definitions(tree, source)}
    top = by_name["top"]
    assert top.signature == "@decorator\ndef top(a, b=1) -> int:"
    assert (top.start_line, top.end_line) == (6, 8)
    assert source[top.name_start_byte : top.name_end_byte] == b"top"
    area = by_name["area"]
    assert area.signature == "def area(self,\n             scale: float) -> float:"
    assert by_name["MAX_SIZE"].signature == "MAX_SIZE: int = 10"
    assert [d.start_byte for d in A.definitions(tree, source)] == sorted(
        d.start_byte for d in A.definitions(tree, source)
    )


IMPORTS = {
    "python": (
        "import os, sys as system\nfrom a.b import (c as d,\n    e)\nfrom . import x\n",
        [
            (("os", "system"), ()),
            (("d", "e"), ("a.b",)),
            (("x",), (".",)),
        ],
    ),
    "javascript": (
        "import React, { useState as us } from 'react';\nimport * as path from 'path';\n"
        "const fs = require('fs');\n",
        [(("React", "us"), ("react",)), (("path",), ("path",)), (("fs",), ("fs",))],
    ),
    "typescript": (
        "import type { A } from './a';\nimport x = require('y');\n",
        [(("A",), ("./a",)), (("x",), ("y",))],
    ),
    "go": (
        'package m\nimport (\n\t"fmt"\n\tstr "strings"\n)\n',
        [(("str",), ("fmt", "strings"))],
    ),
    "rust": (
        "use std::collections::{HashMap, HashSet as Set};\nuse crate::io;\n",
        [(("HashMap", "Set"), ("std::collections",)), (("io",), ("crate",))],
    ),
    "java": ("import java.util.List;\n", [(("List",), ("java.util",))]),
    "c": ('#include <stdio.h>\n#include "util.h"\n', [((), ("<stdio.h>",)), ((), ("util.h",))]),
    "cpp": ("#include <vector>\nusing std::string;\n", [((), ("<vector>",)), (("string",), ())]),
    "shellscript": (". ./env.sh\nsource lib.sh\n", [((), ("./env.sh",)), ((), ("lib.sh",))]),
    "ruby": ("require 'json'\nrequire_relative 'lib/a'\n", [((), ("json",)), ((), ("lib/a",))]),
    "php": ("<?php\nuse Foo\\Bar as Baz, Qux;\n", [(("Baz", "Qux"), ("Foo",))]),
    "csharp": (
        "using System.IO;\nusing IO = System.IO;\n",
        [((), ("System.IO",)), (("IO",), ("System.IO",))],
    ),
    "lua": ("local json = require('json')\n", [(("json",), ("json",))]),
}


@pytest.mark.parametrize("language_id", sorted(IMPORTS))
def test_imports(language_id: str) -> None:
    text, expected = IMPORTS[language_id]
    tree, source, _ = parse(language_id, text)
    found = A.imports(tree, source)
    assert [(i.names, i.modules) for i in found] == expected
    assert all(
        i.text and source[i.start_byte : i.end_byte].startswith(i.text.encode()) for i in found
    )


def test_import_lines() -> None:
    tree, source, _ = parse("python", IMPORTS["python"][0])
    assert [(i.start_line, i.end_line) for i in A.imports(tree, source)] == [(0, 0), (1, 2), (3, 3)]


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
    shape, area = A.enclosing_scopes(tree, source, cursor)
    assert shape.header == "class Shape(Base):"
    assert area.header == "    def area(self,\n             scale: float) -> float:"
    assert area.start_line == 13 and area.end_line == 17
    assert area.body_start_byte is not None and area.start_byte < area.body_start_byte < cursor
    tree, source, cursor = parse("c", "static int\nmain(int argc) {\n  <|>\n}\n")
    (main,) = A.enclosing_scopes(tree, source, cursor)
    assert main.header == "static int\nmain(int argc) {"
    tree, source, cursor = parse("cpp", "template <class T>\nstruct S {\n  <|>\n};\n")
    (s,) = A.enclosing_scopes(tree, source, cursor)
    assert s.header == "template <class T>\nstruct S {" and s.kind == "struct"


def test_identifiers_near() -> None:
    text = (
        "import os\n\ndef load(path, mode):\n    data = os.read(path)\n"
        "    return parse_data(data, <|>)\n\nresult = load('x', 'r')\n"
    )
    tree, source, cursor = parse("python", text)
    names = A.identifiers_near(tree, source, cursor, before_lines=2, after_lines=0)
    assert names[:2] == ["data", "parse_data"]
    assert set(names) == {"data", "parse_data", "path", "os", "read", "load", "mode"}
    assert "return" not in names and "import" not in names
    near_all = A.identifiers_near(tree, source, cursor, before_lines=10, after_lines=10)
    assert "result" in near_all
    tree, source, cursor = parse("typescript", "const v: Point = make(<|>);\n")
    assert A.identifiers_near(tree, source, cursor) == ["make", "Point"]


def test_errors() -> None:
    tree, source, _ = parse("python", "def ok():\n    return 1\n")
    assert A.error_count(tree) == 0
    assert not A.has_error_in_range(tree, 0, len(source))
    bad = "def ok():\n    return 1\n\nx = (1,\ny = 2\n"
    tree, source, _ = parse("python", bad)
    assert A.error_count(tree) >= 1
    assert A.has_error_in_range(tree, bad.index("x ="), len(source))
    assert not A.has_error_in_range(tree, 0, bad.index("return") + 3)
    tree, source, _ = parse("c", "int f() { return 1 }\n")  # missing ';'
    assert A.error_count(tree) == 1
    assert A.error_count(None) == 0


STRING_COMMENT = [
    ("python", "x = 'ab<|>c'", "string"),
    ("python", "x = 'abc'<|>", None),
    ("python", "x = <|>'abc'", None),
    ("python", "x = f'{a}<|>'", "string"),
    ("python", "x = 1  # note<|>\n", "comment"),
    ("python", "x = 1  # note\n<|>", None),
    ("python", '"""doc<|>"""', "string"),
    ("javascript", "const s = `a ${b} <|>`;", "string"),
    ("javascript", "/* c<|> */ x;", "comment"),
    ("javascript", "/* c */<|> x;", None),
    ("javascript", "x; // c<|>", "comment"),
    ("go", 'package m\nvar s = "a<|>"\n', "string"),
    ("rust", 'let s = r"a<|>";', "string"),
    ("rust", "// doc<|>\nfn f() {}", "comment"),
    ("c", '#include "a<|>.h"\n', "string"),
    ("c", "int x; /* a<|> */", "comment"),
    ("ruby", 'x = "a<|>"', "string"),
    ("lua", "-- c<|>\nx = 1", "comment"),
    ("shellscript", 'echo "a<|>"', "string"),
]


@pytest.mark.parametrize(("language_id", "text", "expected"), STRING_COMMENT)
def test_string_or_comment(language_id: str, text: str, expected: str | None) -> None:
    tree, source, cursor = parse(language_id, text)
    assert A.string_or_comment_at(tree, cursor, source) == expected
    assert A.is_inside_string_or_comment(tree, cursor) == (expected is not None)


def test_node_at_and_block_tables() -> None:
    tree, _, cursor = parse("python", "def f():\n    if x:\n        <|>y = 1\n")
    node = A.node_at(tree, cursor)
    assert node.type == "identifier" and node.text == b"y"
    assert A.node_at(tree, 10_000).type == "module"
    parents = []
    current = node
    while current is not None:
        parents.append(current)
        current = current.parent
    assert any(A.is_block_opener(tree, p) for p in parents)
    assert any(A.is_block_body(tree, p) for p in parents)


def test_unknown_language_is_empty_not_an_error() -> None:
    language = get_language("python")
    assert language is not None
    tree = Parser(language).parse(b"x = 1\n")
    for result in (
        A.definitions(None, b""),
        A.imports(None, b""),
        A.enclosing_scopes(None, b"", 0),
        A.identifiers_near(None, b"", 0),
        A.definitions(tree, b"x = 1\n", language_id="cobol"),
        A.enclosing_scopes(tree, b"x = 1\n", 3, language_id="cobol"),
    ):
        assert result == []
    assert not A.is_inside_string_or_comment(None, 0)
    assert not A.has_error_in_range(None, 0, 1)
