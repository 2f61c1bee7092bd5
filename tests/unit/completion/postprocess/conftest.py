"""Every post-processing test starts and ends with empty cross-request caches (views, suffix
scans), so no test sees work another one left behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qwen_lsp.completion.postprocess import views
from qwen_lsp.completion.postprocess.lexing import scan


@pytest.fixture(autouse=True)
def _empty_caches() -> Iterator[None]:
    views.clear()
    scan.clear_caches()
    yield
    views.clear()
    scan.clear_caches()
