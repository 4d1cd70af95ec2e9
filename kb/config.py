"""The one typed settings object: every field has a default, an environment variable and a help line."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import ConfigError

DEFAULT_MODEL = "builtin:all-MiniLM-L6-v2"
SEARCH_MODES = ("hybrid", "dense", "lexical")
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def setting(default: Any, help: str) -> Any:
    """Declare a settings field with its default and its one-line help."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Settings of a kb help center; `KB_<NAME>` environment variables override each field."""

    articles: Path = setting(Path("articles"), "Folder of Markdown articles (sub-folders are categories).")
    index: Path = setting(Path(".kb-index"), "Folder where the search index is published.")
    model: str = setting(
        DEFAULT_MODEL,
        "Embedding model: a local sentence-transformers directory, or the bundled all-MiniLM-L6-v2.",
    )
    site_name: str = setting("Ledgerly Help Center", "Name shown in the site header and page titles.")
    max_query_length: int = setting(2000, "Longest search query accepted, in characters.")
    default_results: int = setting(10, "Results returned when a search names no count.")
    max_results: int = setting(50, "Most results one search may ask for.")
    search_mode: str = setting("hybrid", "Ranking: hybrid (dense + BM25), dense or lexical (BM25 only).")
    lexical_weight: float = setting(0.2, "Weight of BM25 against meaning in hybrid mode (both as z-scores).")
    correct_spelling: bool = setting(True, "Correct misspelled query words against the index vocabulary.")
    synonyms: str = setting("", "Optional YAML file of synonym groups (lists of words) used by BM25 matching.")
    reranker: str = setting("", "Optional local cross-encoder folder that re-ranks the top results; off when empty.")
    rerank_depth: int = setting(20, "Results the re-ranker re-orders when one is configured.")
    chunk_words: int = setting(150, "Longest section chunk in words; longer sections are split.")
    chunk_overlap_words: int = setting(30, "Words shared by consecutive pieces of a split section.")
    embed_batch_size: int = setting(32, "Chunks embedded per model call while indexing.")
    keep_builds: int = setting(2, "Earlier index builds kept beside the live one.")
    max_request_bytes: int = setting(64 * 1024, "Largest HTTP request body accepted, in bytes.")
    database_url: str = setting("", "SQLAlchemy URL of the agents database (empty: SQLite in the index folder).")
    public_url: str = setting("", "Base URL of the public site for links agents copy, e.g. https://help.example.com.")
    max_message_length: int = setting(20000, "Longest customer message accepted by suggest, in characters.")
    secure_cookies: bool = setting(False, "Send the agents' session cookie over HTTPS only (set it behind TLS).")
    rate_limit_storage: str = setting(
        "memory://", "Flask-Limiter storage for sign-in limits, e.g. redis://127.0.0.1:6379."
    )
    secret_key: str = setting("", "Secret that signs cookies; set it in production (random if empty).")
    watch: bool = setting(False, "`kb serve` rebuilds the index whenever an article file changes.")
    preview: bool = setting(False, "Writer preview at /preview/<slug>: drafts, problem banners; not for production.")
    host: str = setting("127.0.0.1", "Address `kb serve` listens on.")
    port: int = setting(8000, "Port `kb serve` listens on.")
    workers: int = setting(1, "Worker processes of `kb serve` (each loads the model once).")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then `KB_*` variables, then explicit overrides (None is skipped)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for settings_field in dataclasses.fields(cls):
            variable = env_variable(settings_field.name)
            if variable in environ and environ[variable] != "":
                values[settings_field.name] = convert(settings_field, environ[variable], variable)
        for name, value in overrides.items():
            if value is not None:
                values[name] = convert(field_named(name), value, f"--{name.replace('_', '-')}")
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Reject values no help center can run with."""
        positive = (
            "max_query_length",
            "default_results",
            "max_results",
            "chunk_words",
            "embed_batch_size",
            "max_request_bytes",
            "workers",
            "rerank_depth",
            "max_message_length",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{env_variable(name)} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.chunk_overlap_words < self.chunk_words:
            raise ConfigError("KB_CHUNK_OVERLAP_WORDS must be at least 0 and below KB_CHUNK_WORDS")
        if self.default_results > self.max_results:
            raise ConfigError("KB_DEFAULT_RESULTS must not exceed KB_MAX_RESULTS")
        if self.search_mode not in SEARCH_MODES:
            raise ConfigError(f"KB_SEARCH_MODE must be one of {', '.join(SEARCH_MODES)}, got {self.search_mode!r}")
        if self.lexical_weight < 0:
            raise ConfigError("KB_LEXICAL_WEIGHT must be at least 0")
        if self.keep_builds < 0:
            raise ConfigError("KB_KEEP_BUILDS must be at least 0")
        if not 0 < self.port < 65536:
            raise ConfigError(f"KB_PORT must be between 1 and 65535, got {self.port}")


def env_variable(name: str) -> str:
    """The environment variable that sets the field `name`."""
    return f"KB_{name.upper()}"


def field_named(name: str) -> dataclasses.Field[Any]:
    for settings_field in dataclasses.fields(Settings):
        if settings_field.name == name:
            return settings_field
    raise ConfigError(f"unknown setting {name!r}")


def convert(settings_field: dataclasses.Field[Any], raw: Any, source: str) -> Any:
    """Turn a raw value (usually a string) into the field's type, naming `source` on failure."""
    kind = settings_field.type
    if kind in ("Path", Path):
        return Path(raw).expanduser()
    if kind in ("bool", bool):
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
        raise ConfigError(f"{source} must be true or false, got {raw!r}")
    if kind in ("float", float):
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{source} must be a number, got {raw!r}") from None
    if kind in ("int", int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{source} must be a whole number, got {raw!r}") from None
    return str(raw)


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, as the README lists them."""
    rows = []
    for settings_field in dataclasses.fields(Settings):
        rows.append((env_variable(settings_field.name), str(settings_field.default), settings_field.metadata["help"]))
    return rows
