"""Syntax layer: grammars (``languages``), incremental trees (``tree``), per-language queries and
node tables (``queries``, ``tables``), and pure analysis functions (``analysis``)."""
