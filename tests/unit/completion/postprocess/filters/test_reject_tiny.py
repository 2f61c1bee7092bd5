"""``reject_tiny``: blank or punctuation-only results."""

from __future__ import annotations

import pytest

from qwen_lsp.completion.postprocess.filters.reject_tiny import reject_tiny
from tests.unit.completion.postprocess.helpers import ctx, run


@pytest.mark.parametrize(
    ("raw", "kept"), [("", False), ("  \n ", False), (");", False), ("x", True)]
)
def test_reject_tiny(raw: str, kept: bool) -> None:
    assert (run(reject_tiny, raw, ctx("f(█\n")) is not None) == kept
