"""Settings: defaults, KB_* variables, explicit overrides, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import DEFAULT_MODEL, Settings, describe_settings
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
