"""One typed settings model, merged from every source and validated with clear errors.

Sources, lowest priority first: built-in defaults < config file (TOML) < environment variables <
``initializationOptions`` < ``workspace/didChangeConfiguration``. Keys may be snake_case or
camelCase (editors use camelCase); unknown keys and bad values are reported, never fatal: the
previous (or default) value is kept and the user is told what to fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from .redaction import mask_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .workspace.files import FileMissing, FileRefused, read_regular_file

Transport = Literal["auto", "completions", "chat", "infill", "ollama"]
PromptFormat = Literal["auto", "file", "repo"]

# Keys whose values must never be printed (logs, doctor output, error messages); URLs are
# printed only through mask_url (their passwords and query values hidden).
SECRET_KEYS = frozenset({"api_key"})
HIDDEN_VALUE_KEYS = frozenset({"api_key", "headers"})  # a bad value is reported, not shown
URL_KEYS = frozenset({"base_url", "proxy"})


@dataclass(frozen=True)
class EndpointSettings:
    """Where the model lives and how to talk to it."""

    base_url: str = "http://127.0.0.1:8080/v1"
    api_key: str = field(default="", repr=False)
    model: str = "qwen2.5-coder"
    transport: Transport = "auto"
    connect_timeout_s: float = field(default=3.0, metadata={"min": 0.1, "max": 120})
    # Whole request (headers + full stream) for a completion; actions get actions.timeout_s.
    timeout_s: float = field(default=20.0, metadata={"min": 0.5, "max": 600})
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    verify_tls: bool = True
    ca_bundle: str = ""
    proxy: str = ""


@dataclass(frozen=True)
class CompletionSettings:
    """Inline completion behaviour."""

    enabled: bool = True
    max_tokens: int = field(default=64, metadata={"min": 1, "max": 4096})
    multiline_max_tokens: int = field(default=256, metadata={"min": 1, "max": 8192})
    temperature: float = field(default=0.1, metadata={"min": 0.0, "max": 2.0})
    top_p: float = field(default=0.95, metadata={"min": 0.0, "max": 1.0})
    debounce_ms: int = field(default=60, metadata={"min": 0, "max": 5000})
    prompt_format: PromptFormat = "auto"
    multiline: Literal["auto", "always", "never"] = "auto"
    disabled_languages: list[str] = field(default_factory=list)
    # Also answer textDocument/completion with AI items (for clients without inline completion).
    completion_items: bool = True
    # After showing a suggestion, request the one that would follow it (costs model calls).
    speculative: bool = False


@dataclass(frozen=True)
class ContextSettings:
    """How much context goes into a prompt."""

    max_prompt_tokens: int = field(default=3072, metadata={"min": 256, "max": 131072})
    # Share of the budget for the current file's prefix+suffix; the rest is cross-file context.
    local_share: float = field(default=0.6, metadata={"min": 0.1, "max": 1.0})
    # The suffix follows the cursor in a FIM prompt, so it is re-evaluated on every keystroke:
    # a short one keeps most of the prompt in the model server's prefix cache.
    suffix_share: float = field(default=0.15, metadata={"min": 0.0, "max": 0.9})
    workspace_index: bool = True
    max_index_files: int = field(default=5000, metadata={"min": 0, "max": 200000})
    max_file_bytes: int = field(default=1_000_000, metadata={"min": 1000, "max": 50_000_000})
    ignore_globs: list[str] = field(default_factory=list)
    repo_name: str = ""
    # Bound on the workspace index's memory (about 200 bytes per symbol).
    max_index_symbols: int = field(default=400_000, metadata={"min": 1000, "max": 10_000_000})


@dataclass(frozen=True)
class CustomAction:
    """A user-defined code action (see docs/actions.md for the prompt placeholders)."""

    title: str = ""
    prompt: str = ""
    kind: str = "refactor.rewrite"
    # "edit": the answer replaces the selection / enclosing scope; "explain": shown, never applied.
    output: Literal["edit", "explain"] = "edit"
    languages: list[str] = field(default_factory=list)  # empty: every language


@dataclass(frozen=True)
class ActionSettings:
    enabled: bool = True
    max_tokens: int = field(default=2048, metadata={"min": 16, "max": 32768})
    temperature: float = field(default=0.2, metadata={"min": 0.0, "max": 2.0})
    timeout_s: float = field(default=120.0, metadata={"min": 1, "max": 1800})
    # Chat model for actions; empty means endpoint.model.
    model: str = ""
    # Larger regions are refused with a message (the answer would not fit max_tokens anyway).
    max_region_lines: int = field(default=400, metadata={"min": 1, "max": 20000})
    custom: list[CustomAction] = field(default_factory=list)


@dataclass(frozen=True)
class NextEditSettings:
    """Next-edit prediction (docs/next-edit.md): off until turned on."""

    enabled: bool = False
    # Model for predictions; empty means actions.model, then endpoint.model.
    model: str = ""
    # "auto": the zeta format for model names containing "zeta", else the instruct format.
    format: Literal["auto", "zeta", "instruct"] = "auto"
    # Quiet time after an edit before a prediction is asked for.
    debounce_ms: int = field(default=400, metadata={"min": 50, "max": 5000})
    timeout_s: float = field(default=15.0, metadata={"min": 1, "max": 120})


@dataclass(frozen=True)
class Settings:
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    actions: ActionSettings = field(default_factory=ActionSettings)
    next_edit: NextEditSettings = field(default_factory=NextEditSettings)
    log_level: Literal["error", "warning", "info", "debug"] = "info"


# Environment variables, in priority order per setting (first one set wins).
ENV_VARS: dict[tuple[str, str], tuple[str, ...]] = {
    ("endpoint", "api_key"): ("QWEN_LSP_API_KEY", "OPENAI_API_KEY", "DASHSCOPE_API_KEY"),
    ("endpoint", "base_url"): ("QWEN_LSP_BASE_URL", "OPENAI_BASE_URL"),
    ("endpoint", "model"): ("QWEN_LSP_MODEL",),
    ("endpoint", "transport"): ("QWEN_LSP_TRANSPORT",),
    ("completion", "max_tokens"): ("QWEN_LSP_MAX_TOKENS",),
    ("completion", "temperature"): ("QWEN_LSP_TEMPERATURE",),
    ("completion", "debounce_ms"): ("QWEN_LSP_DEBOUNCE_MS",),
    ("endpoint", "timeout_s"): ("QWEN_LSP_TIMEOUT_S",),
    ("log_level", ""): ("QWEN_LSP_LOG_LEVEL",),
}

# Top-level keys under which editors nest our section.
SECTION_NAMES = ("qwen-lsp", "qwenLsp", "qwen_lsp", "qwen")


MAX_CONFIG_BYTES = 1_000_000


class SettingsError(ValueError):
    pass


def snake_case(key: str) -> str:
    key = key.replace("-", "_")
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def default_config_paths() -> list[Path]:
    """User config file locations, lowest priority first."""
    if explicit := os.environ.get("QWEN_LSP_CONFIG"):
        return [Path(explicit).expanduser()]
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [base / "qwen-lsp" / "config.toml"]


def load_toml(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Read one TOML config file; a missing file is not an error, a broken one is reported."""
    try:  # a regular file, opened without blocking, read with a bound (never a FIFO)
        data = read_regular_file(str(path), MAX_CONFIG_BYTES).data
        return tomllib.loads(data.decode("utf-8")), []
    except FileMissing:
        return {}, []
    except FileRefused as exc:
        return {}, [f"config file {exc}"]
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"config file {path}: {exc}"]


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (section, key), names in ENV_VARS.items():
        for name in names:
            value = environ.get(name)
            if value:
                if key:
                    out.setdefault(section, {})[key] = value
                else:
                    out[section] = value
                break
    return out


def unwrap_section(payload: Any) -> Any:
    """Editors send either our section directly or the whole settings tree containing it."""
    if isinstance(payload, Mapping):
        for name in SECTION_NAMES:
            if isinstance(payload.get(name), Mapping):
                return payload[name]
    return payload


def _coerce_scalar(value: Any, kind: type, where: str) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {
            "true",
            "1",
            "yes",
            "on",
            "false",
            "0",
            "no",
            "off",
        }:
            return value.lower() in {"true", "1", "yes", "on"}
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    if kind in (int, float):
        if isinstance(value, bool):
            raise SettingsError(f"{where}: expected a number, got {value!r}")
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: expected a number, got {value!r}") from None
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise SettingsError(f"{where}: expected a whole number, got {value!r}")
        return number
    if kind is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise SettingsError(f"{where}: expected text, got {value!r}")
    raise SettingsError(f"{where}: unsupported setting type")


def _coerce(value: Any, hint: Any, where: str, meta: Mapping[str, Any]) -> Any:
    origin = get_origin(hint)
    if origin is Literal:
        choices = get_args(hint)
        lowered = value.lower() if isinstance(value, str) else value
        if lowered not in choices:
            raise SettingsError(
                f"{where}: must be one of {', '.join(map(str, choices))}; got {value!r}"
            )
        return lowered
    if origin is list:
        (item_hint,) = get_args(hint)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise SettingsError(f"{where}: expected a list, got {value!r}")
        return [_coerce(item, item_hint, f"{where}[{i}]", {}) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: expected a table of name = value")
        return {str(k): _coerce_scalar(v, str, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: expected a table")
        merged, errors = _merge_dataclass(hint(), value, where)
        if errors:
            raise SettingsError("; ".join(errors))
        return merged
    number = _coerce_scalar(value, hint, where)
    if "min" in meta and number < meta["min"]:
        raise SettingsError(f"{where}: must be at least {meta['min']}, got {number}")
    if "max" in meta and number > meta["max"]:
        raise SettingsError(f"{where}: must be at most {meta['max']}, got {number}")
    return number


def _merge_dataclass(current: Any, patch: Mapping[str, Any], where: str) -> tuple[Any, list[str]]:
    """Apply a (partial) mapping onto a settings dataclass; bad entries are skipped and reported."""
    hints = get_type_hints(type(current))
    by_name = {f.name: f for f in fields(current)}
    changes: dict[str, Any] = {}
    errors: list[str] = []
    for raw_key, value in patch.items():
        key = snake_case(str(raw_key))
        path = f"{where}.{key}" if where else key
        spec = by_name.get(key)
        if spec is None:
            errors.append(unknown_setting(str(raw_key), by_name, where))
            continue
        if value is None:
            continue
        hint = hints[key]
        try:
            if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
                merged, sub_errors = _merge_dataclass(getattr(current, key), value, path)
                errors.extend(sub_errors)
                changes[key] = merged
            else:
                changes[key] = _coerce(value, hint, path, spec.metadata)
        except SettingsError as exc:
            if key in HIDDEN_VALUE_KEYS:
                errors.append(f"{path}: invalid value (not shown: it may hold a secret)")
            elif key in URL_KEYS:
                errors.append(f"{path}: expected a URL as text")
            else:
                errors.append(str(exc))
    return dataclasses.replace(current, **changes), errors


def camel_case(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def unknown_setting(raw_key: str, known: Mapping[str, Any], where: str) -> str:
    """The error for a key that is not a setting, spelt as the user typed it (camelCase or
    snake_case), with the closest known key in the same style when one is close."""
    camel = raw_key != raw_key.lower() and "_" not in raw_key
    spell = camel_case if camel else (lambda name: name)
    prefix = ".".join(spell(part) for part in where.split(".")) + "." if where else ""
    candidates = [spell(name) for name in known]
    close = difflib.get_close_matches(raw_key, candidates, n=1, cutoff=0.6)
    squashed = {name.lower().replace("_", ""): name for name in candidates}
    close = close or [squashed[k] for k in [raw_key.lower().replace("_", "")] if k in squashed]
    hint = f" (did you mean {prefix + close[0]!r}?)" if close else ""
    return f"unknown setting {prefix + raw_key!r}{hint}"


def merge(settings: Settings, patch: Mapping[str, Any] | None) -> tuple[Settings, list[str]]:
    """``settings`` with ``patch`` applied, plus readable errors for what was skipped."""
    if not patch:
        return settings, []
    section = unwrap_section(patch)
    if not isinstance(section, Mapping):
        return settings, [f"settings must be a table/object, got {type(section).__name__}"]
    merged, errors = _merge_dataclass(settings, section, "")
    return merged, errors


def check_consistency(settings: Settings) -> list[str]:
    """Problems that no single value shows, e.g. a base URL that is not http(s)."""
    problems = []
    url = settings.endpoint.base_url
    if not re.match(r"^https?://[^/\s]+", url):
        problems.append(
            f"endpoint.base_url must start with http:// or https://, got {mask_url(url)!r}"
        )
    bundle = settings.endpoint.ca_bundle
    if bundle and not Path(bundle).expanduser().is_file():  # never hand TLS a FIFO or device
        problems.append(f"endpoint.ca_bundle {bundle!r} does not exist or is not a regular file")
    return problems


def load_base_settings(
    environ: Mapping[str, str] | None = None, config_paths: list[Path] | None = None
) -> tuple[Settings, list[str]]:
    """Defaults < config file < environment, the layer below what the editor sends."""
    environ = os.environ if environ is None else environ
    settings, errors = Settings(), []
    for path in default_config_paths() if config_paths is None else config_paths:
        data, file_errors = load_toml(path)
        errors += file_errors
        settings, merge_errors = merge(settings, data)
        errors += [f"{path}: {e}" for e in merge_errors]
    settings, env_errors = merge(settings, env_overrides(environ))
    errors += [f"environment: {e}" for e in env_errors]
    return settings, errors


def redacted(settings: Settings) -> dict[str, Any]:
    """Settings as a plain dict with secrets masked (the key, header values, URL credentials and
    query values), for logs and `doctor`."""

    def mask(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            out = {}
            for f in fields(obj):
                value = getattr(obj, f.name)
                if f.name in SECRET_KEYS:
                    out[f.name] = mask_secret(value)
                elif f.name == "headers":
                    out[f.name] = {k: "***" for k in value}
                elif f.name in URL_KEYS:
                    out[f.name] = mask_url(value)
                else:
                    out[f.name] = mask(value)
            return out
        if isinstance(obj, list):
            return [mask(v) for v in obj]
        return obj

    return mask(settings)


def mask_secret(value: str) -> str:
    if not value:
        return "(not set)"
    return f"set ({len(value)} characters)"
