"""Per-language node types: scopes, block bodies, block openers, strings, comments, names.

Queries (``queries/<name>.scm``) find definitions and imports over a whole file; these sets
answer the cheap local questions (what encloses the cursor, is it inside a string, does this line
open a block) by walking parents from one node, which costs microseconds.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from dataclasses import dataclass, field

# Words no grammar should report as identifiers, but some do in error recovery.
_COMMON_KEYWORDS = frozenset(
    """
    abstract and as async await break case catch class const continue def default defer del
    do elif else enum except export extends false final finally fn for foreach from func
    function go goto if impl implements import in instanceof interface is lambda let loop
    match mod module mut new nil none not null or package pass private protected pub public
    raise return self static struct super switch this throw throws trait true try type
    typedef typeof union unsafe use using var void volatile where while with yield
    """.split()  # noqa: SIM905 - a word list reads better than 90 quoted lines
)


@dataclass(frozen=True)
class NodeTypes:
    """What the analysis needs to know about one grammar's node types."""

    query_file: str
    # node type -> scope kind ("function", "class", ...) for block-introducing constructs
    scopes: Mapping[str, str]
    # node types of block bodies ("block", "statement_block", "class_body", ...)
    blocks: frozenset[str]
    # statements/definitions whose body is a block (if/for/while/def/class...)
    openers: frozenset[str]
    strings: frozenset[str]
    comments: frozenset[str]
    identifiers: frozenset[str]
    # nodes that wrap a definition and belong to its text (decorators, export, template<>)
    wrappers: frozenset[str] = frozenset()
    keywords: frozenset[str] = _COMMON_KEYWORDS
    # Python: a blank line after a block still belongs to it if indented deeper than the header.
    indent_scoped: bool = False
    # scope kinds whose functions are methods
    containers: frozenset[str] = field(
        default=frozenset(
            {"class", "struct", "interface", "trait", "impl", "enum", "union", "record", "object"}
        )
    )


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


_PYTHON = NodeTypes(
    query_file="python",
    scopes={
        "function_definition": "function",
        "class_definition": "class",
        "lambda": "lambda",
    },
    blocks=_f("block"),
    openers=_f(
        "function_definition",
        "class_definition",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "try_statement",
        "except_clause",
        "finally_clause",
        "with_statement",
        "match_statement",
        "case_clause",
        "decorated_definition",
    ),
    strings=_f("string", "concatenated_string", "string_content"),
    comments=_f("comment"),
    identifiers=_f("identifier"),
    wrappers=_f("decorated_definition"),
    keywords=frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | _f("self", "cls"),
    indent_scoped=True,
)

_JS_SCOPES = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "function_expression": "function",
    "generator_function": "function",
    "arrow_function": "function",
    "method_definition": "method",
    "class_declaration": "class",
    "class": "class",
}
_JS_OPENERS = _f(
    "function_declaration",
    "generator_function_declaration",
    "function_expression",
    "arrow_function",
    "method_definition",
    "class_declaration",
    "class",
    "if_statement",
    "else_clause",
    "for_statement",
    "for_in_statement",
    "while_statement",
    "do_statement",
    "try_statement",
    "catch_clause",
    "finally_clause",
    "switch_statement",
    "switch_case",
    "object",
)
_JS_BLOCKS = _f("statement_block", "class_body", "switch_body", "object")
_JS_STRINGS = _f("string", "template_string", "string_fragment", "regex")
_JS_IDENTIFIERS = _f(
    "identifier",
    "property_identifier",
    "shorthand_property_identifier",
    "shorthand_property_identifier_pattern",
    "private_property_identifier",
)
_JAVASCRIPT = NodeTypes(
    query_file="javascript",
    scopes=_JS_SCOPES,
    blocks=_JS_BLOCKS,
    openers=_JS_OPENERS,
    strings=_JS_STRINGS,
    comments=_f("comment"),
    identifiers=_JS_IDENTIFIERS,
    wrappers=_f("export_statement"),
)
_TYPESCRIPT = NodeTypes(
    query_file="typescript",
    scopes={
        **_JS_SCOPES,
        "abstract_class_declaration": "class",
        "interface_declaration": "interface",
        "enum_declaration": "enum",
        "internal_module": "namespace",
        "module": "namespace",
    },
    blocks=_JS_BLOCKS | _f("interface_body", "enum_body", "object_type"),
    openers=_JS_OPENERS
    | _f("abstract_class_declaration", "interface_declaration", "enum_declaration"),
    strings=_JS_STRINGS,
    comments=_f("comment"),
    identifiers=_JS_IDENTIFIERS | _f("type_identifier"),
    wrappers=_f("export_statement", "ambient_declaration"),
)

_GO = NodeTypes(
    query_file="go",
    scopes={
        "function_declaration": "function",
        "method_declaration": "method",
        "func_literal": "function",
        "type_spec": "type",
    },
    blocks=_f("block", "field_declaration_list", "interface_type"),
    openers=_f(
        "function_declaration",
        "method_declaration",
        "func_literal",
        "if_statement",
        "for_statement",
        "expression_switch_statement",
        "type_switch_statement",
        "select_statement",
        "type_declaration",
        "composite_literal",
    ),
    strings=_f(
        "interpreted_string_literal",
        "raw_string_literal",
        "rune_literal",
        "interpreted_string_literal_content",
        "raw_string_literal_content",
    ),
    comments=_f("comment"),
    identifiers=_f("identifier", "type_identifier", "field_identifier", "package_identifier"),
)

_RUST = NodeTypes(
    query_file="rust",
    scopes={
        "function_item": "function",
        "impl_item": "impl",
        "trait_item": "trait",
        "struct_item": "struct",
        "enum_item": "enum",
        "union_item": "union",
        "mod_item": "module",
        "closure_expression": "closure",
        "macro_definition": "macro",
    },
    blocks=_f("block", "declaration_list", "field_declaration_list", "enum_variant_list"),
    openers=_f(
        "function_item",
        "impl_item",
        "trait_item",
        "struct_item",
        "enum_item",
        "mod_item",
        "if_expression",
        "else_clause",
        "for_expression",
        "while_expression",
        "loop_expression",
        "match_expression",
        "closure_expression",
    ),
    strings=_f("string_literal", "raw_string_literal", "char_literal", "string_content"),
    comments=_f("line_comment", "block_comment", "doc_comment"),
    identifiers=_f("identifier", "type_identifier", "field_identifier"),
)

_JAVA = NodeTypes(
    query_file="java",
    scopes={
        "class_declaration": "class",
        "interface_declaration": "interface",
        "enum_declaration": "enum",
        "record_declaration": "record",
        "annotation_type_declaration": "interface",
        "method_declaration": "method",
        "constructor_declaration": "constructor",
        "lambda_expression": "lambda",
    },
    blocks=_f(
        "block",
        "class_body",
        "interface_body",
        "enum_body",
        "constructor_body",
        "annotation_type_body",
        "switch_block",
    ),
    openers=_f(
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "method_declaration",
        "constructor_declaration",
        "if_statement",
        "for_statement",
        "enhanced_for_statement",
        "while_statement",
        "do_statement",
        "try_statement",
        "catch_clause",
        "finally_clause",
        "switch_expression",
        "lambda_expression",
    ),
    strings=_f("string_literal", "character_literal", "string_fragment"),
    comments=_f("line_comment", "block_comment"),
    identifiers=_f("identifier", "type_identifier"),
)

_C_SCOPES = {
    "function_definition": "function",
    "struct_specifier": "struct",
    "union_specifier": "union",
    "enum_specifier": "enum",
}
_C_OPENERS = _f(
    "function_definition",
    "struct_specifier",
    "union_specifier",
    "enum_specifier",
    "if_statement",
    "else_clause",
    "for_statement",
    "while_statement",
    "do_statement",
    "switch_statement",
    "case_statement",
)
_C_STRINGS = _f("string_literal", "char_literal", "system_lib_string", "string_content")
_C_IDENTIFIERS = _f("identifier", "type_identifier", "field_identifier")
_C = NodeTypes(
    query_file="c",
    scopes=_C_SCOPES,
    blocks=_f("compound_statement", "field_declaration_list", "enumerator_list"),
    openers=_C_OPENERS,
    strings=_C_STRINGS,
    comments=_f("comment"),
    identifiers=_C_IDENTIFIERS,
)
_CPP = NodeTypes(
    query_file="cpp",
    scopes={
        **_C_SCOPES,
        "class_specifier": "class",
        "namespace_definition": "namespace",
        "lambda_expression": "lambda",
    },
    blocks=_f(
        "compound_statement", "field_declaration_list", "enumerator_list", "declaration_list"
    ),
    openers=_C_OPENERS
    | _f("class_specifier", "namespace_definition", "try_statement", "catch_clause"),
    strings=_C_STRINGS | _f("raw_string_literal"),
    comments=_f("comment"),
    identifiers=_C_IDENTIFIERS | _f("namespace_identifier"),
    wrappers=_f("template_declaration"),
)

_BASH = NodeTypes(
    query_file="bash",
    scopes={"function_definition": "function"},
    blocks=_f("compound_statement", "do_group"),
    openers=_f(
        "function_definition",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "c_style_for_statement",
        "while_statement",
        "case_statement",
    ),
    strings=_f("string", "raw_string", "heredoc_body", "ansi_c_string", "string_content"),
    comments=_f("comment"),
    identifiers=_f("variable_name", "command_name"),
    keywords=_COMMON_KEYWORDS | _f("then", "fi", "done", "esac", "local", "export", "echo"),
)

_RUBY = NodeTypes(
    query_file="ruby",
    scopes={
        "method": "method",
        "singleton_method": "method",
        "class": "class",
        "singleton_class": "class",
        "module": "module",
        "do_block": "block",
        "block": "block",
        "lambda": "lambda",
    },
    blocks=_f("body_statement", "block_body"),
    openers=_f(
        "method",
        "singleton_method",
        "class",
        "module",
        "if",
        "unless",
        "while",
        "until",
        "for",
        "case",
        "begin",
        "do_block",
        "block",
    ),
    strings=_f("string", "string_content", "heredoc_body", "regex", "simple_symbol"),
    comments=_f("comment"),
    identifiers=_f("identifier", "constant", "instance_variable", "class_variable"),
    keywords=_COMMON_KEYWORDS | _f("end", "unless", "until", "begin", "rescue", "ensure", "then"),
    containers=_f("class", "module"),
)

_PHP = NodeTypes(
    query_file="php",
    scopes={
        "function_definition": "function",
        "method_declaration": "method",
        "class_declaration": "class",
        "interface_declaration": "interface",
        "trait_declaration": "trait",
        "enum_declaration": "enum",
        "namespace_definition": "namespace",
        "anonymous_function": "function",
        "arrow_function": "function",
    },
    blocks=_f("compound_statement", "declaration_list", "enum_declaration_list"),
    openers=_f(
        "function_definition",
        "method_declaration",
        "class_declaration",
        "interface_declaration",
        "trait_declaration",
        "enum_declaration",
        "if_statement",
        "else_clause",
        "else_if_clause",
        "for_statement",
        "foreach_statement",
        "while_statement",
        "do_statement",
        "switch_statement",
        "try_statement",
        "catch_clause",
    ),
    strings=_f("string", "encapsed_string", "string_content", "heredoc", "nowdoc"),
    comments=_f("comment"),
    identifiers=_f("name", "variable_name"),
)

_CSHARP = NodeTypes(
    query_file="csharp",
    scopes={
        "class_declaration": "class",
        "struct_declaration": "struct",
        "interface_declaration": "interface",
        "enum_declaration": "enum",
        "record_declaration": "record",
        "namespace_declaration": "namespace",
        "method_declaration": "method",
        "constructor_declaration": "constructor",
        "local_function_statement": "function",
        "property_declaration": "property",
        "lambda_expression": "lambda",
    },
    blocks=_f("block", "declaration_list", "accessor_list", "enum_member_declaration_list"),
    openers=_f(
        "class_declaration",
        "struct_declaration",
        "interface_declaration",
        "enum_declaration",
        "namespace_declaration",
        "method_declaration",
        "constructor_declaration",
        "local_function_statement",
        "property_declaration",
        "if_statement",
        "for_statement",
        "foreach_statement",
        "while_statement",
        "do_statement",
        "switch_statement",
        "try_statement",
        "catch_clause",
        "finally_clause",
        "using_statement",
    ),
    strings=_f(
        "string_literal",
        "verbatim_string_literal",
        "raw_string_literal",
        "interpolated_string_expression",
        "character_literal",
        "string_literal_content",
    ),
    comments=_f("comment"),
    identifiers=_f("identifier"),
)

_LUA = NodeTypes(
    query_file="lua",
    scopes={"function_declaration": "function", "function_definition": "function"},
    blocks=_f("block"),
    openers=_f(
        "function_declaration",
        "function_definition",
        "if_statement",
        "elseif_statement",
        "else_statement",
        "for_statement",
        "while_statement",
        "repeat_statement",
        "do_statement",
    ),
    strings=_f("string", "string_content"),
    comments=_f("comment", "comment_content"),
    identifiers=_f("identifier"),
    keywords=_COMMON_KEYWORDS | _f("end", "then", "local", "elseif", "repeat", "until"),
)

# Canonical language id (syntax.languages) -> table.
NODE_TYPES: dict[str, NodeTypes] = {
    "python": _PYTHON,
    "javascript": _JAVASCRIPT,
    "javascriptreact": _JAVASCRIPT,
    "typescript": _TYPESCRIPT,
    "typescriptreact": _TYPESCRIPT,
    "go": _GO,
    "rust": _RUST,
    "java": _JAVA,
    "c": _C,
    "cpp": _CPP,
    "shellscript": _BASH,
    "ruby": _RUBY,
    "php": _PHP,
    "csharp": _CSHARP,
    "lua": _LUA,
}
