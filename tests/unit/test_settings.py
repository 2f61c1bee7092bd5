from pathlib import Path

from qwen_lsp.settings import (
    Settings,
    env_overrides,
    load_base_settings,
    merge,
    redacted,
    snake_case,
)


def test_snake_case_accepts_editor_spellings():
    assert snake_case("baseUrl") == "base_url"
    assert snake_case("max-tokens") == "max_tokens"
    assert snake_case("maxPromptTokens") == "max_prompt_tokens"


def test_merge_nested_camel_case_and_section_wrapper():
    settings, errors = merge(
        Settings(), {"qwen-lsp": {"endpoint": {"baseUrl": "http://h:1/v1", "model": "m"}}}
    )
    assert errors == []
    assert settings.endpoint.base_url == "http://h:1/v1"
    assert settings.endpoint.model == "m"


def test_bad_values_are_reported_and_skipped_not_fatal():
    settings, errors = merge(
        Settings(),
        {
            "completion": {"maxTokens": "lots", "temperature": 9, "debounceMs": 10},
            "endpoint": {"transport": "carrier-pigeon"},
            "nonsense": 1,
        },
    )
    text = "\n".join(errors)
    assert "completion.max_tokens: expected a number" in text
    assert "completion.temperature: must be at most 2.0" in text
    assert "endpoint.transport: must be one of" in text
    assert "unknown setting 'nonsense'" in text
    # Valid siblings still apply; invalid ones keep their previous value.
    assert settings.completion.debounce_ms == 10
    assert settings.completion.max_tokens == Settings().completion.max_tokens
    assert settings.endpoint.transport == "auto"


def test_layer_order_defaults_file_env(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[endpoint]\nbase_url = "http://file:1/v1"\nmodel = "from-file"\n'
        "[completion]\nmax_tokens = 11\n"
    )
    settings, errors = load_base_settings(
        environ={"QWEN_LSP_MODEL": "from-env", "DASHSCOPE_API_KEY": "sk-dash"},
        config_paths=[config],
    )
    assert errors == []
    assert settings.endpoint.base_url == "http://file:1/v1"
    assert settings.endpoint.model == "from-env"  # env beats the file
    assert settings.completion.max_tokens == 11
    assert settings.endpoint.api_key == "sk-dash"


def test_api_key_env_priority():
    env = {"OPENAI_API_KEY": "sk-openai", "QWEN_LSP_API_KEY": "sk-qwen"}
    assert env_overrides(env)["endpoint"]["api_key"] == "sk-qwen"


def test_broken_toml_is_reported(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[endpoint\nbase_url=")
    settings, errors = load_base_settings(environ={}, config_paths=[config])
    assert settings == Settings()
    assert errors and str(config) in errors[0]


def test_redacted_never_contains_the_key():
    settings, _ = merge(
        Settings(),
        {"endpoint": {"apiKey": "sk-very-secret-123", "headers": {"X-Key": "hdr-secret"}}},
    )
    text = repr(redacted(settings)) + repr(settings)
    assert "sk-very-secret-123" not in text
    assert "hdr-secret" not in text
    assert redacted(settings)["endpoint"]["api_key"].startswith("set")
