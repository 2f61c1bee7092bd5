"""Syntax layer: grammars (``languages``), incremental trees (``tree``), per-language queries
(``queries``) and node types (``node_types``), and pure questions about a tree: ``nodes``,
``scopes``, ``definitions`` (with imports and nearby names), ``lexical``."""
