"""Golden next-edit cases: ``fixtures/*.case``.

A case file is a header of ``# key: value`` lines, then sections that start with ``==== name``
(a section's text is its lines up to the next marker, joined with ``\\n``):

* ``before`` — the document before the user's last edit; ``after`` — after it, with ``‸``
  marking the cursor. The edit (their difference) is applied to a real ``Document``, which
  records it in its edit history, as typing would;
* ``answer`` — the model's raw answer; ``result`` — the document with the prediction applied;
* ``region`` — the editable region's text (checked when present).

Header keys: ``language``, ``path``, ``format`` (``zeta`` or ``instruct``), ``expected``
(``predicted``, ``no_change`` or a refusal reason), ``finish`` (the answer's finish reason,
default ``stop``), ``far_lines`` (overrides the check's limit), ``description``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.documents import Document, common_affixes

FIXTURES = Path(__file__).parent / "fixtures"
CURSOR = "‸"


@dataclass(frozen=True)
class Case:
    path: Path
    header: dict[str, str]
    sections: dict[str, str]

    @property
    def name(self) -> str:
        return self.path.stem

    def document(self) -> tuple[Document, int]:
        """The document after the user's edit (the edit in its history) and the cursor."""
        after = self.sections["after"]
        cursor = after.index(CURSOR)
        after = after.replace(CURSOR, "")
        before = self.sections.get("before", after)
        language = self.header.get("language", "python")
        doc = Document(f"file:///work/{self.header.get('path', 'main.py')}", before, 1, language)
        prefix, suffix = common_affixes(before, after)
        if before != after:
            start, end = doc.position_at(prefix), doc.position_at(len(before) - suffix)
            inserted = after[prefix : len(after) - suffix]
            change = {"range": {"start": start, "end": end}, "text": inserted}
            doc.apply_changes([change], 2)
        assert doc.text == after
        return doc, cursor


def load(path: Path) -> Case:
    header: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("==== "):
            current = sections.setdefault(line[5:].strip(), [])
        elif current is not None:
            current.append(line)
        elif line.startswith("# ") and ":" in line:
            key, _, value = line[2:].partition(":")
            header[key.strip()] = value.strip()
    if sections:
        last = list(sections)[-1]
        if sections[last] and sections[last][-1] == "":
            sections[last].pop()  # the file's own final newline
    return Case(path, header, {name: "\n".join(lines) for name, lines in sections.items()})


def cases(prefix: str) -> list[Case]:
    return [load(p) for p in sorted(FIXTURES.glob(f"{prefix}*.case"))]
