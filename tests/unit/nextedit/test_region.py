"""Golden region selection (``fixtures/region-*.case``) and the region's rules."""

from __future__ import annotations

import pytest

from qwen_lsp.nextedit.region import RegionLimits, editable_region

from .golden import Case, cases


@pytest.mark.parametrize("case", cases("region-"), ids=lambda c: c.name)
def test_region_golden(case: Case):
    doc, cursor = case.document()
    region = editable_region(doc.line_index, cursor, doc.tree)
    assert region.text(doc.text) == case.sections["region"]
    assert region.start <= cursor <= region.end
    limits = RegionLimits()
    assert region.last - region.first + 1 <= limits.max_lines
    assert region.end - region.start <= limits.max_chars
    assert region.context_start <= region.start and region.end <= region.context_end


def test_a_node_that_fits_is_editable_whole():
    (case,) = [c for c in cases("region-") if c.name == "region-python-method"]
    doc, cursor = case.document()
    region = editable_region(doc.line_index, cursor, doc.tree).text(doc.text)
    assert "class Store:" in region and "out.write(str(self.items))" in region


def test_the_region_never_includes_the_empty_line_after_the_final_newline():
    from qwen_lsp.documents import Document

    doc = Document("file:///a.py", "x = 1\ny = 2\n", 1, "python")
    region = editable_region(doc.line_index, 3, doc.tree)
    assert region.text(doc.text) == "x = 1\ny = 2"
