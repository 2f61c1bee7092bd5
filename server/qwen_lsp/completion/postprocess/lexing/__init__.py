"""A tiny lexer: brackets outside strings and comments, per language family.

Several filters need to know which brackets a completion opens or closes, where its lines start
inside a multi-line string, and which closers the suffix supplies. Tree-sitter cannot answer that
for half-written code, so this scans with one regular expression per language: strings, comments
and brackets, nothing else. It is approximate (no regex literals, no raw-string delimiters beyond
Rust's ``r#"…"#``) and only ever compared against itself (completion vs. no completion), so the
approximations cancel out.

``patterns.py`` holds the expressions, ``scan.py`` the scanner (pure: text in, brackets and
spans out), ``state.py`` what the filters ask of it at a cursor (``PostContext``-aware).
"""
