"""Loading the per-language ``queries/<name>.scm`` files.

One file per grammar keeps packaging simple (``syntax/queries/*.scm``). A file is split into
sections by lines ``; @section <name>`` and may start with ``; inherits: <other>`` to prepend
another file's sections (TypeScript on JavaScript, C++ on C).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from importlib import resources

from tree_sitter import Language, Query

log = logging.getLogger(__name__)

SECTIONS = ("definitions", "imports")
_SECTION = re.compile(r"^;+\s*@section\s+(\w+)\s*$", re.M)
_INHERITS = re.compile(r"^;+\s*inherits:\s*([\w,\s]+?)\s*$", re.M)


@cache
def query_source(name: str) -> dict[str, str]:
    """Section name -> query text for ``queries/<name>.scm`` (inherited sections first)."""
    try:
        text = (
            resources.files("qwen_lsp.syntax")
            .joinpath("queries", f"{name}.scm")
            .read_text(encoding="utf-8")
        )
    except (FileNotFoundError, OSError):
        return {}
    sections: dict[str, str] = {}
    inherits = _INHERITS.search(text)
    if inherits:
        for parent in (p.strip() for p in inherits.group(1).split(",")):
            for key, value in query_source(parent).items():
                sections[key] = sections.get(key, "") + value
    parts = _SECTION.split(text)
    # parts = [preamble, name1, body1, name2, body2, ...]
    for key, body in zip(parts[1::2], parts[2::2], strict=False):
        sections[key] = sections.get(key, "") + "\n" + body
    return sections


@cache
def load_query(language: Language, name: str, section: str) -> Query | None:
    """The compiled query for one section, or None if absent or invalid for this grammar."""
    source = query_source(name).get(section)
    if not source or not source.strip():
        return None
    try:
        return Query(language, source)
    except Exception as exc:  # a grammar upgrade renamed a node: degrade, do not crash
        log.warning("query %s/%s does not compile: %s", name, section, exc)
        return None
