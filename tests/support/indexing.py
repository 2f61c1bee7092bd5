"""Waiting for the workspace index in tests and benchmarks (the server never waits for it)."""

from __future__ import annotations

import time

from qwen_lsp.context.engine import ContextEngine


def wait_until_indexed(engine: ContextEngine, timeout: float = 30.0) -> bool:
    """Block until the current scan finished; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.scan_id in engine.scans_done or engine.service.worker is None:
            return True
        time.sleep(0.01)
    return False
