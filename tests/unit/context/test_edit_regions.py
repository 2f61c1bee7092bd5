"""Recently edited regions of a document, outside the window."""

from __future__ import annotations

import time
from pathlib import Path

from qwen_lsp.context.edit_regions import edit_regions
from qwen_lsp.documents import Document


def test_recent_edit_regions_outside_the_window(tmp_path: Path) -> None:
    text = "".join(f"line_{i} = {i}\n" for i in range(100))
    doc = Document((tmp_path / "r.py").as_uri(), text, 1, "python")
    doc.apply_changes(
        [
            {
                "range": {
                    "start": {"line": 10, "character": 0},
                    "end": {"line": 10, "character": 0},
                },
                "text": "new_name = 1\n",
            }
        ],
        2,
    )
    regions = edit_regions(doc, str(tmp_path / "r.py"))
    assert len(regions) == 1 and "new_name = 1" in regions[0].text
    assert regions[0].start_line == 8 and regions[0].recency > 0.9
    assert edit_regions(doc, "r.py", exclude_lines=(5, 20)) == []
    assert edit_regions(doc, "r.py", now=time.monotonic() + 3600) == []
