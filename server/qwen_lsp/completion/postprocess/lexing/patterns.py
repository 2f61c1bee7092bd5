"""The lexer's regular expressions: strings, comments and brackets per language family."""

from __future__ import annotations

import re
from functools import cache

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}

_DQ = r'"(?:[^"\\\n]|\\[\s\S])*"?'
_DQ_MULTI = r'"(?:[^"\\]|\\[\s\S])*"?'
_SQ = r"'(?:[^'\\\n]|\\[\s\S])*'?"
_BT = r"`(?:[^`\\]|\\[\s\S])*`?"
# JavaScript template literals: a piece runs to the closing backtick or to a `${`, whose code is
# lexed as code until its `}`.
_TEMPLATE_BODY = r"(?:[^`\\$]|\\[\s\S]|\$(?!\{))*(?:`|\$\{|\Z)"
_TEMPLATE = "`" + _TEMPLATE_BODY
TEMPLATE_REST = re.compile(_TEMPLATE_BODY)
_BLOCK = r"/\*[\s\S]*?(?:\*/|\Z)"
_SLASHES = r"//[^\n]*"
_HASH = r"#[^\n]*"
_RUST_CHAR = r"'(?:[^'\\\n]|\\(?:u\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{2}|[^\n]))'"
_RUST_RAW = r'r(?P<h>#+)"[\s\S]*?(?:"(?P=h)|\Z)'
_PY_TRIPLE = (
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*(?:"""|\Z)'
    + "|"
    + (r"'''(?:[^'\\]|\\[\s\S]|'(?!''))*(?:'''|\Z)")
)
# A JavaScript regex literal: a `/` where an operand is expected (after an operator or opener).
_JS_REGEX = (
    r"(?<=[(,=:\[!&|?{};\n])[ \t]*/(?![/*])(?:[^/\\\n\[]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[a-z]*"
)
_BRACKET = r"(?P<b>[()\[\]{}])"

_SPAN_PATTERNS: dict[str, str] = {
    "python": "|".join((_PY_TRIPLE, _DQ, _SQ, _HASH)),
    "c": "|".join((_BLOCK, _SLASHES, _DQ, _SQ)),
    "js": "|".join((_BLOCK, _SLASHES, _DQ, _SQ, _TEMPLATE, _JS_REGEX)),
    "go": "|".join((_BLOCK, _SLASHES, _DQ, _SQ, _BT)),
    "rust": "|".join((_BLOCK, _SLASHES, _RUST_RAW, _DQ_MULTI, _RUST_CHAR)),
    "hash": "|".join((_DQ, _SQ, _HASH)),
    "plain": "|".join((_DQ, _SQ)),
}
_LEXER_OF_LANGUAGE = {
    "python": "python",
    "javascript": "js",
    "javascriptreact": "js",
    "typescript": "js",
    "typescriptreact": "js",
    "kotlin": "js",
    "dart": "js",
    "go": "go",
    "rust": "rust",
    "c": "c",
    "cpp": "c",
    "java": "c",
    "csharp": "c",
    "php": "c",
    "swift": "c",
    "scala": "c",
    "json": "c",
    "jsonc": "c",
    "shellscript": "hash",
    "ruby": "hash",
    "perl": "hash",
    "r": "hash",
    "yaml": "hash",
    "toml": "hash",
}


@cache
def pattern_of_kind(kind: str) -> re.Pattern[str]:
    return re.compile(f"(?P<s>{_SPAN_PATTERNS[kind]})|{_BRACKET}")


def lexer_pattern(language: str) -> re.Pattern[str]:
    return pattern_of_kind(_LEXER_OF_LANGUAGE.get(language, "plain"))


def is_javascript(pattern: re.Pattern[str]) -> bool:
    """The pattern lexes JavaScript-like code (template literals with ``${…}``)."""
    return pattern is pattern_of_kind("js")
