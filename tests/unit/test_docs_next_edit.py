"""docs/next-edit.md stays true to the code: its settings and its configuration example."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from qwen_lsp.settings import NextEditSettings, Settings, merge, tomllib

DOC = Path(__file__).resolve().parents[2] / "docs" / "next-edit.md"


def test_every_next_edit_setting_is_in_the_docs_with_its_default():
    text = DOC.read_text(encoding="utf-8")
    for field in dataclasses.fields(NextEditSettings):
        row = re.search(rf"^\| `next_edit\.{field.name}` \| `([^`]*)` \|", text, re.M)
        assert row, field.name
        default = field.default
        shown = {False: "false", True: "true"}.get(default, str(default).removesuffix(".0"))
        assert row.group(1).strip('"') == shown, (field.name, row.group(1))


def test_the_toml_example_is_valid_settings():
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        settings, errors = merge(Settings(), tomllib.loads(block))
        assert errors == [] and settings.next_edit.enabled
