"""Compatibility names for modules not yet moved to the split syntax modules (``nodes``,
``scopes``, ``definitions``, ``lexical``): ``actions/*`` and ``context/index.py``, which other
work changes at the moment. Import from the split modules in new code; this file goes when those
imports move (see docs/architecture.md, "Phase 2").
"""

from .definitions import Definition, Import, definitions, imports
from .lexical import error_count
from .nodes import node_types_for as table_for_tree
from .scopes import Scope, enclosing_scopes, scope_of

__all__ = [
    "Definition",
    "Import",
    "Scope",
    "definitions",
    "enclosing_scopes",
    "error_count",
    "imports",
    "scope_of",
    "table_for_tree",
]
