"""Definitions, imports and the identifiers near a point, per language."""

from __future__ import annotations

import pytest

from qwen_lsp.syntax.definitions import definitions, identifiers_near, imports
from tests.unit.syntax.helpers import PYTHON, defs, parse

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
    by_name = {d.name: d for d in definitions(tree, source)}
    top = by_name["top"]
    assert top.signature == "@decorator\ndef top(a, b=1) -> int:"
    assert (top.start_line, top.end_line) == (6, 8)
    assert source[top.name_start_byte : top.name_end_byte] == b"top"
    area = by_name["area"]
    assert area.signature == "def area(self,\n             scale: float) -> float:"
    assert by_name["MAX_SIZE"].signature == "MAX_SIZE: int = 10"
    assert [d.start_byte for d in definitions(tree, source)] == sorted(
        d.start_byte for d in definitions(tree, source)
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
    found = imports(tree, source)
    assert [(i.names, i.modules) for i in found] == expected
    assert all(
        i.text and source[i.start_byte : i.end_byte].startswith(i.text.encode()) for i in found
    )


def test_import_lines() -> None:
    tree, source, _ = parse("python", IMPORTS["python"][0])
    assert [(i.start_line, i.end_line) for i in imports(tree, source)] == [(0, 0), (1, 2), (3, 3)]


def test_identifiers_near() -> None:
    text = (
        "import os\n\ndef load(path, mode):\n    data = os.read(path)\n"
        "    return parse_data(data, <|>)\n\nresult = load('x', 'r')\n"
    )
    tree, source, cursor = parse("python", text)
    names = identifiers_near(tree, source, cursor, before_lines=2, after_lines=0)
    assert names[:2] == ["data", "parse_data"]
    assert set(names) == {"data", "parse_data", "path", "os", "read", "load", "mode"}
    assert "return" not in names and "import" not in names
    near_all = identifiers_near(tree, source, cursor, before_lines=10, after_lines=10)
    assert "result" in near_all
    tree, source, cursor = parse("typescript", "const v: Point = make(<|>);\n")
    assert identifiers_near(tree, source, cursor) == ["make", "Point"]
