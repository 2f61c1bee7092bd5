"""Names a file binds locally: parameters, local variables, loop and ``with`` targets, keyword
argument names, attributes assigned on ``self``/``this``.

Such a name near the cursor is not a reference to another file (``value``, ``result``, ``conn``),
so looking it up in the workspace index only brings noise. The patterns are per language and
compiled one by one, so a grammar that renamed a node loses one pattern, not the feature.
"""

from __future__ import annotations

import logging
from functools import cache

from tree_sitter import Language, Query, QueryCursor, Tree

from ..syntax.languages import get_language

log = logging.getLogger(__name__)

_PYTHON = (
    "(parameters (identifier) @b)",
    "(lambda_parameters (identifier) @b)",
    "(default_parameter name: (identifier) @b)",
    "(typed_parameter (identifier) @b)",
    "(typed_default_parameter name: (identifier) @b)",
    "(list_splat_pattern (identifier) @b)",
    "(dictionary_splat_pattern (identifier) @b)",
    "(assignment left: (identifier) @b)",
    "(augmented_assignment left: (identifier) @b)",
    "(pattern_list (identifier) @b)",
    "(tuple_pattern (identifier) @b)",
    "(list_pattern (identifier) @b)",
    "(for_statement left: (identifier) @b)",
    "(for_in_clause left: (identifier) @b)",
    "(as_pattern_target (identifier) @b)",
    "(keyword_argument name: (identifier) @b)",
    "(named_expression name: (identifier) @b)",
    "(global_statement (identifier) @b)",
    "(nonlocal_statement (identifier) @b)",
    "(assignment left: (attribute object: (identifier) @_o attribute: (identifier) @b)"
    ' (#any-of? @_o "self" "cls"))',
)
_JS = (
    "(variable_declarator name: (identifier) @b)",
    "(formal_parameters (identifier) @b)",
    "(assignment_pattern left: (identifier) @b)",
    "(shorthand_property_identifier_pattern) @b",
    "(array_pattern (identifier) @b)",
    "(catch_clause parameter: (identifier) @b)",
    "(arrow_function parameter: (identifier) @b)",
    "(for_in_statement left: (identifier) @b)",
    "(required_parameter pattern: (identifier) @b)",
    "(optional_parameter pattern: (identifier) @b)",
    "(pair_pattern value: (identifier) @b)",
)
_GO = (
    "(parameter_declaration name: (identifier) @b)",
    "(variadic_parameter_declaration name: (identifier) @b)",
    "(short_var_declaration left: (expression_list (identifier) @b))",
    "(var_spec name: (identifier) @b)",
    "(range_clause left: (expression_list (identifier) @b))",
    "(keyed_element . (literal_element (identifier) @b))",
)
_RUST = (
    "(let_declaration pattern: (identifier) @b)",
    "(parameter pattern: (identifier) @b)",
    "(closure_parameters (identifier) @b)",
    "(tuple_pattern (identifier) @b)",
    "(for_expression pattern: (identifier) @b)",
    "(field_initializer field: (field_identifier) @b)",
)
_JAVA = (
    "(local_variable_declaration declarator: (variable_declarator name: (identifier) @b))",
    "(formal_parameter name: (identifier) @b)",
    "(catch_formal_parameter name: (identifier) @b)",
    "(enhanced_for_statement name: (identifier) @b)",
    "(lambda_expression parameters: (identifier) @b)",
    "(inferred_parameters (identifier) @b)",
)
_C = (
    "(parameter_declaration declarator: (identifier) @b)",
    "(parameter_declaration declarator: (pointer_declarator declarator: (identifier) @b))",
    "(init_declarator declarator: (identifier) @b)",
    "(compound_statement (declaration declarator: (identifier) @b))",
)
PATTERNS: dict[str, tuple[str, ...]] = {
    "python": _PYTHON,
    "javascript": _JS,
    "javascriptreact": _JS,
    "typescript": _JS,
    "typescriptreact": _JS,
    "go": _GO,
    "rust": _RUST,
    "java": _JAVA,
    "c": _C,
    "cpp": _C,
}


@cache
def _query(language: Language, language_id: str) -> Query | None:
    valid: list[str] = []
    for pattern in PATTERNS.get(language_id, ()):
        try:
            Query(language, pattern)
        except Exception:  # this grammar version has no such node: skip the pattern
            log.debug("binding pattern does not compile for %s: %s", language_id, pattern)
            continue
        valid.append(pattern)
    return Query(language, "\n".join(valid)) if valid else None


def local_bindings(tree: Tree | None, source: bytes, language_id: str) -> frozenset[str]:
    """Names bound inside the file (not its top-level definitions, which the index has)."""
    if tree is None:
        return frozenset()
    language = get_language(language_id)
    query = _query(language, language_id) if language is not None else None
    if query is None:
        return frozenset()
    names = {
        source[node.start_byte : node.end_byte].decode("utf-8", "replace")
        for node in QueryCursor(query).captures(tree.root_node).get("b", [])
    }
    return frozenset(names)
