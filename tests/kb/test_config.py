"""Settings: defaults, KB_* variables, explicit overrides, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import DEFAULT_MODEL, SearchMode, Settings, describe_settings, unknown_variable_warnings
from kb.errors import ConfigError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.articles == Path("articles")
    assert settings.index == Path(".kb-index")
    assert settings.model == DEFAULT_MODEL
    assert settings.default_results == 10


def test_environment_then_overrides() -> None:
    environ = {"KB_ARTICLES": "/srv/help", "KB_INDEX": "/srv/index", "KB_PORT": "9000", "KB_MODEL": ""}
    settings = Settings.from_env(environ, index=Path("/other"), port=None)
    assert settings.articles == Path("/srv/help")
    assert settings.index == Path("/other")
    assert settings.port == 9000
    assert settings.model == DEFAULT_MODEL  # an empty variable means "unset"


def test_bad_values_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="KB_PORT must be a whole number, got 'eighty'"):
        Settings.from_env({"KB_PORT": "eighty"})
    with pytest.raises(ConfigError, match="KB_MAX_RESULTS must be at least 1"):
        Settings.from_env({"KB_MAX_RESULTS": "0"})
    with pytest.raises(ConfigError, match="KB_CHUNK_OVERLAP_WORDS"):
        Settings.from_env({"KB_CHUNK_WORDS": "50", "KB_CHUNK_OVERLAP_WORDS": "50"})


def test_every_setting_has_help() -> None:
    rows = describe_settings()
    assert len(rows) == len(Settings.__dataclass_fields__)
    assert all(variable.startswith("KB_") and help_text for variable, _, help_text in rows)


def test_every_invalid_setting_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"KB_PORT": "eighty", "KB_WORKERS": "0", "KB_SEARCH_MODE": "fast"})
    assert raised.value.problems == [
        "KB_SEARCH_MODE must be one of hybrid, dense, lexical, got 'fast'",
        "KB_PORT must be a whole number, got 'eighty'",
        "KB_WORKERS must be at least 1, got 0",
    ]
    assert str(raised.value).startswith("3 problems with the settings: KB_SEARCH_MODE must be one of")


def test_limits_are_checked_on_the_field_and_name_where_the_value_came_from() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"KB_DUPLICATE_SIMILARITY": "0", "KB_LEXICAL_WEIGHT": "nan"}, port=70000)
    assert raised.value.problems == [
        "KB_LEXICAL_WEIGHT must be a number, got 'nan'",
        "KB_DUPLICATE_SIMILARITY must be above 0 and at most 1, got 0.0",
        "--port must be between 1 and 65535, got 70000",
    ]
    assert Settings.from_env({"KB_DUPLICATE_SIMILARITY": "1", "KB_KEEP_BUILDS": "0"}).keep_builds == 0


def test_rules_between_fields_are_reported_beside_the_others() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"KB_MAX_RESULTS": "4", "KB_CHUNK_WORDS": "20", "KB_PORT": "0"})
    assert raised.value.problems == [
        "KB_PORT must be between 1 and 65535, got 0",
        "KB_CHUNK_OVERLAP_WORDS must be below KB_CHUNK_WORDS, got 30 and 20",
        "KB_DEFAULT_RESULTS must not exceed KB_MAX_RESULTS, got 10 and 4",
        "KB_SUGGEST_RESULTS must not exceed KB_MAX_RESULTS, got 5 and 4",
    ]


def test_a_rule_between_fields_is_skipped_when_one_of_them_is_already_wrong() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"KB_MAX_RESULTS": "none"})
    assert raised.value.problems == ["KB_MAX_RESULTS must be a whole number, got 'none'"]


def test_search_mode_is_one_of_the_modes() -> None:
    assert Settings.from_env({"KB_SEARCH_MODE": "Lexical"}).search_mode is SearchMode.LEXICAL
    assert Settings.from_env({}).search_mode is SearchMode.HYBRID


def test_a_misspelled_variable_names_the_setting_meant() -> None:
    environ = {"KB_LEXICAL_WIEGHT": "0.5", "KB_PORT": "9000", "KB_FLAVOUR": "blue", "PATH": "/bin"}
    assert unknown_variable_warnings(environ) == [
        "KB_FLAVOUR is not a kb setting; it is ignored.",
        "KB_LEXICAL_WIEGHT is not a kb setting; did you mean KB_LEXICAL_WEIGHT?",
    ]
    assert Settings.from_env(environ).lexical_weight == 0.3  # a warning, not an error
    assert unknown_variable_warnings({"KB_BRAND_COLOR": "#1a7f5a"}) == [
        "KB_BRAND_COLOR is not a kb setting; did you mean KB_BRAND_COLOUR?"
    ]


def test_the_test_suites_own_variables_are_never_warned_about() -> None:
    environ = {"KB_TEST_POSTGRES_URL": "postgresql://db/test", "KB_TEST_REDIS_URL": "redis://cache"}
    assert unknown_variable_warnings(environ) == []
