"""Facts about source text the benchmark scores with: parse errors, declared names, identifiers.

Independent of qwen-lsp's own definition queries (only the grammar wheels are shared), so that
the cases and scores do not inherit the blind spots of what is being measured: struct fields,
interface members, enum variants and ``self.x`` attributes count as definitions here.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator
from functools import cache

from tree_sitter import Node, Parser, Tree

from qwen_lsp.syntax.languages import get_language

EXTENSIONS = {".py": "python", ".go": "go", ".rs": "rust", ".ts": "typescript"}

# Node types that declare a name (their ``name`` field), per language.
DECLARATIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition", "class_definition"}),
    "go": frozenset(
        {
            "function_declaration",
            "method_declaration",
            "type_spec",
            "type_alias",
            "field_declaration",
            "const_spec",
            "method_elem",
        }
    ),
    "rust": frozenset(
        {
            "function_item",
            "function_signature_item",
            "struct_item",
            "enum_item",
            "enum_variant",
            "trait_item",
            "type_item",
            "const_item",
            "static_item",
            "field_declaration",
            "mod_item",
            "macro_definition",
            "union_item",
            "associated_type",
        }
    ),
    "typescript": frozenset(
        {
            "function_declaration",
            "generator_function_declaration",
            "class_declaration",
            "abstract_class_declaration",
            "interface_declaration",
            "type_alias_declaration",
            "enum_declaration",
            "method_definition",
            "method_signature",
            "abstract_method_signature",
            "public_field_definition",
            "property_signature",
            "function_signature",
        }
    ),
}
# Definitions whose removal or duplication a code action must not cause (functions, types).
TOP_DEFINITIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition", "class_definition"}),
    "go": frozenset({"function_declaration", "method_declaration", "type_spec"}),
    "rust": frozenset({"function_item", "struct_item", "enum_item", "trait_item", "impl_item"}),
    "typescript": frozenset(
        {
            "function_declaration",
            "class_declaration",
            "interface_declaration",
            "type_alias_declaration",
            "method_definition",
        }
    ),
}


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


KEYWORDS: dict[str, frozenset[str]] = {
    "python": frozenset(keyword.kwlist)
    | {"self", "cls", "str", "int", "bytes", "len", "isinstance"},
    "go": words(
        "break case chan const continue default defer else fallthrough for func go goto if "
        "import interface map package range return select struct switch type var nil true false "
        "string int error bool byte len make new append err ok"
    ),
    "rust": words(
        "as break const continue crate else enum extern false fn for if impl in let loop match "
        "mod move mut pub ref return self Self static struct super trait true type unsafe use "
        "where while Some None Ok Err Option Result u8 u16 u32 u64 usize i32 i64 str String "
        "Vec bool char"
    ),
    "typescript": words(
        "break case catch class const continue debugger default delete do else enum export "
        "extends false finally for function if import in instanceof new null return super "
        "switch this throw true try typeof var void while with let static yield await async "
        "as type interface readonly private public protected undefined string number boolean "
        "unknown any never object of"
    ),
}
IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")


def language_of(path: str) -> str | None:
    for ext, language in EXTENSIONS.items():
        if path.endswith(ext):
            return language
    return None


@cache
def _parser(language: str) -> Parser:
    grammar = get_language(language)
    if grammar is None:
        raise LookupError(f"no tree-sitter grammar for {language}")
    return Parser(grammar)


def parse(text: str, language: str) -> Tree:
    return _parser(language).parse(text.encode("utf-8"))


def error_count(text: str, language: str) -> int:
    """ERROR and MISSING nodes in the parse of ``text``."""
    count = 0
    for node in walk(parse(text, language).root_node):
        if node.type == "ERROR" or node.is_missing:
            count += 1
    return count


def walk(node: Node) -> Iterator[Node]:
    cursor = node.walk()
    visited = False
    while True:
        if not visited:
            yield cursor.node  # type: ignore[misc]
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited = False
            continue
        if not cursor.goto_parent():
            return
        visited = True


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def declared_names(text: str, language: str) -> set[str]:
    """Every name a declaration in ``text`` introduces (see the module docstring)."""
    names: set[str] = set()
    kinds = DECLARATIONS[language]
    for node in walk(parse(text, language).root_node):
        if node.type in kinds:
            names.update(_text(n) for n in node.children_by_field_name("name"))
        elif language == "python" and node.type == "assignment":
            left = node.child_by_field_name("left")
            if left is not None and left.type == "identifier" and _module_or_class_level(node):
                names.add(_text(left))
            elif left is not None and left.type == "attribute":
                obj, attr = (
                    left.child_by_field_name("object"),
                    left.child_by_field_name("attribute"),
                )
                if obj is not None and attr is not None and _text(obj) == "self":
                    names.add(_text(attr))
        elif language == "typescript" and node.type == "variable_declarator":
            if _ts_top_level(node):
                names.update(_text(n) for n in node.children_by_field_name("name"))
        elif language == "typescript" and node.type == "enum_body":
            names.update(_text(c) for c in node.named_children if c.type == "property_identifier")
    return {n for n in names if n}


# Where a language binds local names: (node type, field holding the pattern; None: the node).
BINDINGS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "python": (
        ("parameters", None),
        ("lambda_parameters", None),
        ("assignment", "left"),
        ("augmented_assignment", "left"),
        ("for_statement", "left"),
        ("for_in_clause", "left"),
        ("as_pattern_target", None),
    ),
    "go": (
        ("parameter_declaration", "name"),
        ("variadic_parameter_declaration", "name"),
        ("short_var_declaration", "left"),
        ("var_spec", "name"),
        ("range_clause", "left"),
    ),
    "rust": (
        ("parameter", "pattern"),
        ("let_declaration", "pattern"),
        ("let_condition", "pattern"),
        ("for_expression", "pattern"),
        ("match_pattern", None),
        ("closure_parameters", None),
    ),
    "typescript": (
        ("required_parameter", "pattern"),
        ("optional_parameter", "pattern"),
        ("variable_declarator", "name"),
        ("for_in_statement", "left"),
        ("catch_clause", "parameter"),
        ("arrow_function", "parameter"),
    ),
}
BOUND_TYPES = frozenset(
    {"identifier", "shorthand_property_identifier_pattern", "shorthand_field_identifier"}
)
# Inside a binding, these hold no bound names (types, default values, attribute targets).
NOT_BOUND = frozenset({"type", "type_annotation", "attribute", "subscript", "field_expression"})


def bound_names(text: str, language: str) -> set[str]:
    """Parameters and local variables bound anywhere in ``text`` (a name the file binds itself is
    not a use of another file's declaration)."""
    wanted = dict(BINDINGS[language])
    names: set[str] = set()
    for node in walk(parse(text, language).root_node):
        if node.type not in wanted:
            continue
        field_name = wanted[node.type]
        holders = [node] if field_name is None else node.children_by_field_name(field_name)
        for holder in holders:
            names.update(_bound_in(holder))
    return names


def _bound_in(node: Node) -> Iterator[str]:
    if node.type in BOUND_TYPES:
        yield _text(node)
        return
    if node.type in NOT_BOUND:
        return
    for index, child in enumerate(node.children):
        if node.field_name_for_child(index) in ("type", "value", "default"):
            continue
        yield from _bound_in(child)


def _module_or_class_level(node: Node) -> bool:
    parent = node.parent  # expression_statement
    holder = parent.parent if parent is not None else None
    if holder is None:
        return False
    if holder.type == "module":
        return True
    return (
        holder.type == "block"
        and holder.parent is not None
        and (holder.parent.type == "class_definition")
    )


def _ts_top_level(node: Node) -> bool:
    declaration = node.parent
    holder = declaration.parent if declaration is not None else None
    return holder is not None and holder.type in ("program", "export_statement")


def top_definitions(text: str, language: str) -> list[str]:
    """``kind name`` of every function/type-level definition, in file order."""
    found = []
    kinds = TOP_DEFINITIONS[language]
    for node in walk(parse(text, language).root_node):
        if node.type in kinds:
            name = node.child_by_field_name("name") or node.child_by_field_name("type")
            found.append(f"{node.type} {_text(name) if name is not None else '?'}")
    return found


def identifiers(text: str, language: str) -> list[str]:
    """Identifiers in ``text`` (a regex over the text: answers need not parse), keywords out."""
    keywords = KEYWORDS[language]
    return [m for m in IDENTIFIER.findall(_strip_strings(text, language)) if m not in keywords]


DOUBLE_QUOTED = r'"(?:[^"\\\n]|\\.)*"'
SINGLE_QUOTED = r"'(?:[^'\\\n]|\\.)*'"
STRINGS = {
    # Rust's single quotes are mostly lifetimes ('a): only double-quoted strings there.
    "rust": re.compile(DOUBLE_QUOTED),
    "go": re.compile(f"{DOUBLE_QUOTED}|`[^`]*`"),
}
DEFAULT_STRINGS = re.compile(f"{DOUBLE_QUOTED}|{SINGLE_QUOTED}|`[^`]*`")


def _strip_strings(text: str, language: str) -> str:
    return STRINGS.get(language, DEFAULT_STRINGS).sub('""', text)
