"""The one typed settings object: every field has a default, an environment variable, a help line and its limits."""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import math
import os
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import ConfigError

DEFAULT_MODEL = "builtin:all-MiniLM-L6-v2"
VARIABLE_PREFIX = "KB_"
TEST_PREFIX = "KB_TEST_"  # the test suite's own variables (KB_TEST_POSTGRES_URL, ...), never settings
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


class SmtpSecurity(enum.StrEnum):
    """How kb talks to the SMTP server that contact requests are mailed through."""

    STARTTLS = "starttls"
    SSL = "ssl"
    NONE = "none"


class Encoder(enum.StrEnum):
    """What runs the embedding model: torch, or an ONNX export of it (full precision or int8), or OpenVINO."""

    TORCH = "torch"
    ONNX = "onnx"
    ONNX_INT8 = "onnx-int8"
    OPENVINO = "openvino"


class QueryPrecision(enum.StrEnum):
    """How the onnx encoder embeds search queries: by an int8 copy of the model, or as it embeds documents."""

    INT8 = "int8"
    FULL = "full"


class SearchMode(enum.StrEnum):
    """How search ranks chunks: by meaning and words fused, by meaning only, or by words only."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


def setting(
    default: Any,
    help: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> Any:
    """Declare a settings field: its default, its one-line help and the range its value must lie in.

    Args:
        minimum: the smallest value allowed. maximum: the largest. above: a bound the value must exceed.
    """
    return field(default=default, metadata={"help": help, "minimum": minimum, "maximum": maximum, "above": above})


@dataclass(frozen=True)
class Settings:
    """Settings of a kb help center; `KB_<NAME>` environment variables override each field."""

    articles: Path = setting(Path("articles"), "Folder of Markdown articles (sub-folders are categories).")
    index: Path = setting(Path(".kb-index"), "Folder where the search index is published.")
    data: Path = setting(Path(".kb-data"), "Folder of what cannot be rebuilt: the SQLite agents database; back it up.")
    model: str = setting(
        DEFAULT_MODEL,
        "Embedding model: a local sentence-transformers directory, or the bundled all-MiniLM-L6-v2.",
    )
    encoder: Encoder = setting(
        Encoder.ONNX,
        "What runs the model: onnx (torch's vectors, faster), torch, onnx-int8 (quantized: fastest, its own index, "
        "lower nDCG) or openvino (its own index); the ONNX export is made on first use into the user's cache folder.",
    )
    query_precision: QueryPrecision = setting(
        QueryPrecision.INT8,
        "How the onnx encoder embeds search queries: int8 (an int8 copy of the model, about twice as fast; "
        "documents and the index keep full precision) or full (as documents).",
    )
    encoder_threads: int = setting(
        0,
        "Threads one embedding call may use with the onnx, onnx-int8 and openvino encoders; 0: one per query "
        "when serving, every core when indexing or evaluating.",
        minimum=0,
    )
    site_name: str = setting("Ledgerly Help Center", "Name shown in the site header and page titles.")
    logo: str = setting("", "Image file (SVG, PNG or WebP) shown before the site name in the header; none when empty.")
    brand_colour: str = setting("", "Brand colour of buttons and the header, as #rrggbb (empty: the built-in blue).")
    footer_links: str = setting(
        "", "Links in the page footer as 'Label=URL; Label=URL' (URLs start with https://, http:// or /)."
    )
    theme: str = setting(
        "", "Theme folder: its templates/ and static/ files override the built-in ones of the same name."
    )
    max_query_length: int = setting(2000, "Longest search query accepted, in characters.", minimum=1)
    default_results: int = setting(10, "Results returned when a search names no count.", minimum=1)
    max_results: int = setting(50, "Most results one search may ask for.", minimum=1)
    suggest_results: int = setting(
        5, "Articles suggested for a customer's message when the request names no count.", minimum=1
    )
    search_mode: SearchMode = setting(
        SearchMode.HYBRID, "Ranking: hybrid (dense + BM25), dense or lexical (BM25 only)."
    )
    lexical_weight: float = setting(
        0.3,
        "Largest weight of BM25 against meaning in hybrid mode (both as z-scores); each query's weight is lower "
        "when it is short or meaning is sure of its leader.",
        minimum=0,
    )
    result_cache_size: int = setting(
        1000,
        "Whole search answers each worker keeps per build, so a repeated query costs no search (0: off).",
        minimum=0,
    )
    correct_spelling: bool = setting(True, "Correct misspelled query words against the index vocabulary.")
    synonyms: str = setting("", "Optional YAML file of synonym groups (lists of words) used by BM25 matching.")
    reranker: str = setting("", "Optional local cross-encoder folder that re-ranks the top results; off when empty.")
    rerank_depth: int = setting(20, "Results the re-ranker re-orders when one is configured.", minimum=1)
    chunk_words: int = setting(150, "Longest section chunk in words; longer sections are split.", minimum=1)
    chunk_overlap_words: int = setting(30, "Words shared by consecutive pieces of a split section.", minimum=0)
    embed_batch_size: int = setting(32, "Chunks embedded per model call while indexing.", minimum=1)
    keep_builds: int = setting(2, "Earlier index builds kept beside the live one.", minimum=0)
    ann_min_chunks: int = setting(
        20000,
        "Chunks from which `kb index` writes an approximate vector index (FAISS IVF) instead of an exact one.",
        minimum=1,
    )
    ann_probes: int = setting(
        16,  # recall@10 0.990 against 0.993 at 32, in half the time, at 10,000 articles (docs/PERFORMANCE.md)
        "Lists an approximate vector index reads per query, set at `kb index`: more is nearer exact, and slower.",
        minimum=1,
    )
    duplicate_similarity: float = setting(
        0.92,
        "Cosine similarity from which `kb check` reports two articles as near-duplicates.",
        above=0,
        maximum=1,
    )
    max_request_bytes: int = setting(64 * 1024, "Largest HTTP request body accepted, in bytes.", minimum=1)
    database_url: str = setting("", "SQLAlchemy URL of the agents database (empty: kb.sqlite3 in the data folder).")
    public_url: str = setting("", "Base URL of the public site for links agents copy, e.g. https://help.example.com.")
    max_message_length: int = setting(20000, "Longest customer message accepted by suggest, in characters.", minimum=1)
    secure_cookies: bool = setting(False, "Send the agents' session cookie over HTTPS only (set it behind TLS).")
    session_hours: int = setting(12, "Hours an agent stays signed in to the workspace.", minimum=1)
    trusted_proxies: int = setting(
        0,
        "Reverse proxies in front of kb whose X-Forwarded-For/-Proto headers are believed (0: none).",
        minimum=0,
        maximum=5,
    )
    sign_in_attempts_per_minute: int = setting(
        10, "Failed agent sign-ins allowed per minute from one address; correct passwords never count.", minimum=1
    )
    rate_limit_storage: str = setting(
        "",
        "Where failed sign-ins and votes are counted: empty for the database (votes: each worker), or e.g. redis://127.0.0.1:6379.",
    )
    contact_products: str = setting(
        "", "Products or plans offered on the contact form, comma-separated (empty: customers type their own)."
    )
    contact_requests_per_hour: int = setting(
        5, "Contact requests accepted per hour from one address (counted by its daily-salted hash).", minimum=1
    )
    contact_webhook_url: str = setting("", "URL each contact request is POSTed to as JSON (empty: no webhook).")
    contact_webhook_secret: str = setting(
        "", "Secret that signs each webhook body in X-KB-Signature (sha256=HMAC); unsigned when empty."
    )
    contact_smtp_host: str = setting("", "SMTP server contact requests are mailed through (empty: no email).")
    contact_smtp_port: int = setting(587, "Port of the SMTP server.", minimum=1, maximum=65535)
    contact_smtp_security: SmtpSecurity = setting(
        SmtpSecurity.STARTTLS, "starttls, ssl (TLS from the start, usually port 465) or none (a trusted local relay)."
    )
    contact_smtp_user: str = setting("", "SMTP user name (empty: no login).")
    contact_smtp_password: str = setting("", "SMTP password of that user.")
    contact_email_from: str = setting("", "Sender address of the contact request emails.")
    contact_email_to: str = setting("", "Addresses contact request emails go to, comma-separated.")
    contact_delivery_timeout: float = setting(
        10.0, "Seconds one webhook call or SMTP conversation may take before it counts as failed.", above=0, maximum=300
    )
    contact_delivery_attempts: int = setting(
        8, "Delivery attempts per channel before a contact request is marked failed.", minimum=1, maximum=100
    )
    contact_retry_seconds: float = setting(
        30.0, "Wait before retrying a failed delivery; doubled per attempt, with jitter, at most an hour.", above=0
    )
    contact_deflection_minutes: int = setting(
        30, "Minutes after which a contact form left unsent after opening a suggestion counts as deflected.", minimum=1
    )
    secret_key: str = setting("", "Secret that signs cookies; set it in production (random if empty).")
    search_log: bool = setting(
        True, "Record searches (redacted), the results opened and article views, for insights; off: none are."
    )
    votes_per_minute: int = setting(
        10, 'Votes on articles ("Was this helpful?") accepted per minute from one address.', minimum=1
    )
    retention_days: int = setting(
        90,
        "Days raw search logs, clicks and finished contact requests are kept; `kb db purge` deletes older ones.",
        minimum=1,
        maximum=3650,
    )
    watch: bool = setting(False, "`kb serve` rebuilds the index whenever an article file changes.")
    preview: bool = setting(False, "Writer preview at /preview/<slug>: drafts, problem banners; not for production.")
    host: str = setting("127.0.0.1", "Address `kb serve` listens on.")
    port: int = setting(8000, "Port `kb serve` listens on.", minimum=1, maximum=65535)
    workers: int = setting(1, "Worker processes of `kb serve` (each loads the model once).", minimum=1)
    threads: int = setting(4, "Threads per `kb serve` worker process, each answering one request at a time.", minimum=1)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then `KB_*` variables, then explicit overrides (None is skipped).

        Raises:
            ConfigError: naming every variable or option whose value is unusable, not just the first.
        """
        environ = os.environ if environ is None else environ
        raw_values: dict[str, tuple[Any, str]] = {}  # field -> (raw value, where it came from)
        for settings_field in dataclasses.fields(cls):
            variable = env_variable(settings_field.name)
            if environ.get(variable, "") != "":
                raw_values[settings_field.name] = (environ[variable], variable)
        for name, value in overrides.items():
            if value is not None:
                field_named(name)
                raw_values[name] = (value, f"--{name.replace('_', '-')}")
        values: dict[str, Any] = {}
        unreadable: dict[str, str] = {}
        for name, (raw, source) in raw_values.items():
            try:
                values[name] = convert(name, raw, source)
            except ConfigError as error:
                unreadable[name] = str(error)
        settings = cls(**values)
        sources = {name: source for name, (_, source) in raw_values.items()}
        problems = settings.problems(sources, unreadable)
        if problems:
            raise ConfigError(*problems)
        return settings

    def problems(
        self, sources: Mapping[str, str] | None = None, unreadable: Mapping[str, str] | None = None
    ) -> list[str]:
        """Every value outside its field's range, in field order, then every broken rule between fields.

        Args:
            sources: where each value came from (`KB_PORT`, `--port`), to name it; the variable by default.
            unreadable: the problem of each field whose raw value could not be read at all.
        """
        sources = sources or {}
        by_field = dict(unreadable or {})
        for settings_field in dataclasses.fields(self):
            name = settings_field.name
            problem = None if name in by_field else range_problem(getattr(self, name), settings_field.metadata)
            if problem:
                by_field[name] = f"{sources.get(name, env_variable(name))} {problem}"
        found = [
            by_field[settings_field.name]
            for settings_field in dataclasses.fields(self)
            if settings_field.name in by_field
        ]
        for names, rule in CROSS_FIELD_RULES:
            problem = None if by_field.keys() & set(names) else rule(self)
            if problem:
                found.append(problem)
        return found


CrossFieldRule = Callable[["Settings"], "str | None"]
CROSS_FIELD_RULES: list[tuple[tuple[str, ...], CrossFieldRule]] = []


def cross_field_rule(*names: str) -> Callable[[CrossFieldRule], CrossFieldRule]:
    """Register a check between the fields `names`; it is skipped when one of them is already reported."""

    def register(rule: CrossFieldRule) -> CrossFieldRule:
        CROSS_FIELD_RULES.append((names, rule))
        return rule

    return register


@cross_field_rule("chunk_overlap_words", "chunk_words")
def overlap_below_chunk_words(settings: Settings) -> str | None:
    """Consecutive pieces of a split section must move forward, so they share fewer words than a piece holds."""
    if settings.chunk_overlap_words < settings.chunk_words:
        return None
    return (
        f"KB_CHUNK_OVERLAP_WORDS must be below KB_CHUNK_WORDS, "
        f"got {settings.chunk_overlap_words} and {settings.chunk_words}"
    )


@cross_field_rule("default_results", "max_results")
def default_results_within_max(settings: Settings) -> str | None:
    """A search that names no count must get an answer, not an 'out of range' error."""
    if settings.default_results <= settings.max_results:
        return None
    return (
        f"KB_DEFAULT_RESULTS must not exceed KB_MAX_RESULTS, got {settings.default_results} and {settings.max_results}"
    )


@cross_field_rule("suggest_results", "max_results")
def suggest_results_within_max(settings: Settings) -> str | None:
    """A suggestion request that names no count must get an answer too."""
    if settings.suggest_results <= settings.max_results:
        return None
    return (
        f"KB_SUGGEST_RESULTS must not exceed KB_MAX_RESULTS, got {settings.suggest_results} and {settings.max_results}"
    )


@cross_field_rule("contact_webhook_url")
def webhook_is_http(settings: Settings) -> str | None:
    """Contact requests go to a web address, never to a file or another scheme urllib would open."""
    url = settings.contact_webhook_url
    if not url or (url.startswith(("http://", "https://")) and len(url) > len("https://")):
        return None
    return f"KB_CONTACT_WEBHOOK_URL must start with http:// or https://, got {url!r}"


@cross_field_rule("contact_smtp_host", "contact_email_from", "contact_email_to")
def email_has_addresses(settings: Settings) -> str | None:
    """Mail needs a sender and a recipient; without them every request would fail to deliver."""
    if not settings.contact_smtp_host or (settings.contact_email_from and settings.contact_email_to):
        return None
    return "KB_CONTACT_SMTP_HOST needs KB_CONTACT_EMAIL_FROM and KB_CONTACT_EMAIL_TO as well"


@cross_field_rule("data", "index")
def data_outside_index(settings: Settings) -> str | None:
    """`rm -rf` of the index folder, a rebuildable output, must never take the agents database with it."""
    index, data = settings.index.resolve(), settings.data.resolve()
    if index != data and index not in data.parents:
        return None
    return "KB_DATA must be outside KB_INDEX: the index folder is rebuilt and may be deleted"


BRAND_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_SUFFIXES = (".svg", ".png", ".webp")
MAX_FOOTER_LINKS = 12


def parse_footer_links(text: str) -> list[tuple[str, str]]:
    """(label, URL) pairs of KB_FOOTER_LINKS: 'Privacy=https://example.com/privacy; Status=/status'.

    Raises:
        ConfigError: an item without '=', an empty label, or a URL that is neither absolute http(s) nor site-relative.
    """
    links = []
    for item in (part.strip() for part in text.split(";")):
        if not item:
            continue
        label, equals, url = (piece.strip() for piece in item.partition("="))
        if not equals or not label or not url:
            raise ConfigError(f"KB_FOOTER_LINKS item {item!r} must read 'Label=URL'")
        if not (url.startswith(("https://", "http://")) or (url.startswith("/") and not url.startswith("//"))):
            raise ConfigError(f"KB_FOOTER_LINKS URL {url!r} must start with https://, http:// or /")
        links.append((label, url))
    if len(links) > MAX_FOOTER_LINKS:
        raise ConfigError(f"KB_FOOTER_LINKS has {len(links)} links; at most {MAX_FOOTER_LINKS} fit a footer")
    return links


@cross_field_rule("footer_links")
def footer_links_readable(settings: Settings) -> str | None:
    try:
        parse_footer_links(settings.footer_links)
    except ConfigError as error:
        return str(error)
    return None


@cross_field_rule("brand_colour")
def brand_colour_hex(settings: Settings) -> str | None:
    if not settings.brand_colour or BRAND_COLOUR.match(settings.brand_colour):
        return None
    return f"KB_BRAND_COLOUR must be a colour like #1a7f5a, got {settings.brand_colour!r}"


@cross_field_rule("logo")
def logo_is_an_image(settings: Settings) -> str | None:
    if not settings.logo:
        return None
    path = Path(settings.logo).expanduser()
    if path.suffix.lower() not in LOGO_SUFFIXES:
        return f"KB_LOGO must be an {', '.join(LOGO_SUFFIXES)} file, got {settings.logo!r}"
    if not path.is_file():
        return f"KB_LOGO {settings.logo!r} is not a file"
    return None


@cross_field_rule("theme")
def theme_is_a_folder(settings: Settings) -> str | None:
    if not settings.theme or Path(settings.theme).expanduser().is_dir():
        return None
    return f"KB_THEME {settings.theme!r} is not a folder"


def range_problem(value: Any, limits: Mapping[str, Any]) -> str | None:
    """What is wrong with `value` given a field's minimum, maximum and exclusive lower bound, if anything."""
    minimum, maximum, above = limits.get("minimum"), limits.get("maximum"), limits.get("above")
    too_low = (minimum is not None and value < minimum) or (above is not None and value <= above)
    too_high = maximum is not None and value > maximum
    if not (too_low or too_high):
        return None
    if above is not None:
        lower = f"above {above}"
        return f"must be {lower} and at most {maximum}, got {value}" if maximum is not None else f"must be {lower}"
    if minimum is not None and maximum is not None:
        return f"must be between {minimum} and {maximum}, got {value}"
    if minimum is not None:
        return f"must be at least {minimum}, got {value}"
    return f"must be at most {maximum}, got {value}"


def env_variable(name: str) -> str:
    """The environment variable that sets the field `name`."""
    return f"{VARIABLE_PREFIX}{name.upper()}"


def field_named(name: str) -> dataclasses.Field[Any]:
    for settings_field in dataclasses.fields(Settings):
        if settings_field.name == name:
            return settings_field
    raise ConfigError(f"unknown setting {name!r}")


@functools.cache
def field_types() -> dict[str, Any]:
    """Each field's type as a class (the annotations are strings under `from __future__ import annotations`)."""
    return typing.get_type_hints(Settings)


def convert(name: str, raw: Any, source: str) -> Any:
    """Turn a raw value (usually a string) into the type of the field `name`, naming `source` on failure."""
    kind = field_types()[name]
    if isinstance(raw, kind):
        return raw
    if kind is Path:
        return Path(raw).expanduser()
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(str(raw).strip().lower())
        except ValueError:
            choices = ", ".join(str(member.value) for member in kind)
            raise ConfigError(f"{source} must be one of {choices}, got {raw!r}") from None
    if kind is bool:
        word = str(raw).strip().lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
        raise ConfigError(f"{source} must be true or false, got {raw!r}")
    if kind is float:
        try:
            number = float(raw)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            raise ConfigError(f"{source} must be a number, got {raw!r}")
        return number
    if kind is int:
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{source} must be a whole number, got {raw!r}") from None
    return str(raw)


def unknown_variable_warnings(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each `KB_*` variable that is no setting (a typo, most likely), naming the closest one.

    Variables starting with `KB_TEST_` belong to the test suite and are never warned about.
    """
    environ = os.environ if environ is None else environ
    known = [env_variable(settings_field.name) for settings_field in dataclasses.fields(Settings)]
    known_names = [variable.removeprefix(VARIABLE_PREFIX) for variable in known]
    warnings = []
    for variable in sorted(environ):
        if not variable.startswith(VARIABLE_PREFIX) or variable.startswith(TEST_PREFIX) or variable in known:
            continue
        # Compared without the shared prefix, which would make every name look alike.
        closest = difflib.get_close_matches(variable.removeprefix(VARIABLE_PREFIX), known_names, n=1)
        hint = f"did you mean {env_variable(closest[0].lower())}?" if closest else "it is ignored."
        warnings.append(f"{variable} is not a kb setting; {hint}")
    return warnings


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, as the README lists them."""
    rows = []
    for settings_field in dataclasses.fields(Settings):
        rows.append((env_variable(settings_field.name), str(settings_field.default), settings_field.metadata["help"]))
    return rows
