"""docs/settings.md must document every setting the code has (docs stay true to the code)."""

import dataclasses
from pathlib import Path

from qwen_lsp.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def setting_paths(obj: object, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out += setting_paths(value, f"{prefix}{f.name}.")
        else:
            out.append((prefix.rstrip(".") or f.name, f.name))
    return out


def sections(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
        parts[current] = parts.get(current, "") + line + "\n"
    return parts


def test_every_setting_is_documented_in_its_section():
    by_section = sections(DOC.read_text(encoding="utf-8"))
    missing = [
        f"{section}.{name}"
        for section, name in setting_paths(Settings())
        if f"`{name}`" not in by_section.get(section, "") and f"## {name}" not in DOC.read_text()
    ]
    assert not missing, f"undocumented settings: {missing}"
