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


# --- the VS Code extension's contributed settings against the server's settings model ----------

VSCODE = DOC.parents[1] / "clients" / "vscode"
# Settings only the extension uses (how to start the server, per-language switches, tracing).
VSCODE_ONLY = {
    "languages",  # sent as completion.disabledLanguages
    "server.path",
    "server.pythonPath",
    "server.args",
    "server.env",
    "serverSettings",  # merged as is: any server setting
    "trace.server",
}
# Defaults that differ on purpose: VS Code shows ghost text, so no AI items in its suggest list.
VSCODE_DEFAULTS = {"completion.completion_items": False}
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def vscode_to_server() -> dict[str, str]:
    """{package.json setting: server setting path}, read from what config.ts sends."""
    import re

    source = (VSCODE / "src" / "config.ts").read_text()
    body = source.split("export function serverSettings", 1)[1].split("\n}\n", 1)[0]
    pairs: dict[str, str] = {}
    section = ""
    for line in body.splitlines():
        opened = re.match(r"\s*(?:const )?(\w+)(?:: JsonObject)?\s*[:=] \{$", line)
        if opened and opened.group(1) != "settings":
            section = opened.group(1)
        elif re.match(r"\s*\},?;?$", line):
            section = ""
        got = re.search(r"(\w+): cfg\.get<[^>]+>\('([\w.]+)'", line)
        if got:
            key = snake(got.group(1))
            pairs[got.group(2)] = f"{snake(section)}.{key}" if section else key
    return pairs


def snake(key: str) -> str:
    from qwen_lsp.settings import snake_case

    return snake_case(key)


def server_field(path: str) -> tuple[object, dataclasses.Field]:
    """The default value and the field of a dotted server setting path."""
    obj: object = Settings()
    *sections_, name = path.split(".")
    for part in sections_:
        obj = getattr(obj, part)
    spec = {f.name: f for f in dataclasses.fields(obj)}[name]
    return getattr(obj, name), spec


def test_vscode_settings_match_the_server_settings_model():
    import json
    import typing

    contributed = json.loads((VSCODE / "package.json").read_text())["contributes"]
    properties = {
        key.removeprefix("qwen-lsp."): spec
        for key, spec in contributed["configuration"]["properties"].items()
    }
    mapping = vscode_to_server()
    assert "endpoint.baseUrl" in mapping and "completion.maxTokens" in mapping, mapping
    assert set(properties) == set(mapping) | VSCODE_ONLY, "every setting is sent or client-only"
    for vscode_key, server_path in mapping.items():
        spec = properties[vscode_key]
        default, field_ = server_field(server_path)
        assert spec["default"] == VSCODE_DEFAULTS.get(server_path, default), vscode_key
        hint = typing.get_type_hints(type(server_field_owner(server_path)))[field_.name]
        if typing.get_origin(hint) is typing.Literal:
            assert spec["enum"] == list(typing.get_args(hint)), vscode_key
        else:
            assert spec["type"] == JSON_TYPES[hint], vscode_key
        for bound in ("min", "max"):
            if bound in field_.metadata:
                assert spec[f"{bound}imum"] == field_.metadata[bound], (vscode_key, bound)


def server_field_owner(path: str) -> object:
    obj: object = Settings()
    for part in path.split(".")[:-1]:
        obj = getattr(obj, part)
    return obj
