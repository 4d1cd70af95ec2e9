"""Shared fixtures: a fake embedder, built indexes, an app factory, a CLI runner, article and git writers, agents."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from indexer.build import build_index
from kb.config import Settings
from kb.index.embedder import Embedder
from kb.store.database import Storage
from web import create_app

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from kb.index.embedder import SentenceTransformerEmbedder

DATA = Path(__file__).parent / "data"
REPOSITORY = Path(__file__).parent.parent
SAMPLE_ARTICLES = REPOSITORY / "articles"
AGENT_NAME = "maria"
AGENT_PASSWORD = "correct horse battery"


class FakeEmbedder:
    """Bag-of-words hashed into 256 dimensions: shared words make vectors close. Counts its calls."""

    model_name = "fake-bag-of-words"
    model_fingerprint = "fake0001"
    dimension = 256

    def __init__(self) -> None:
        self.calls = 0
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
                vectors[row, bucket] += 1.0
            norm = np.linalg.norm(vectors[row])
            vectors[row] = vectors[row] / norm if norm else vectors[row]
        return vectors

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


# Indexes -------------------------------------------------------------------------------------------------------


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """A writable copy of the small test help center (tests/data/help_center)."""
    target = tmp_path / "articles"
    shutil.copytree(DATA / "help_center", target)
    return target


@pytest.fixture
def settings(tmp_path: Path, articles_dir: Path) -> Settings:
    """Settings for the small help center; its index folder is not built until `built_settings` is asked for."""
    return Settings(articles=articles_dir, index=tmp_path / "index", data=tmp_path / "data")


@pytest.fixture
def built_settings(settings: Settings, fake_embedder: FakeEmbedder) -> Settings:
    """Settings whose index has been built from the small help center with the fake embedder."""
    build_index(settings, fake_embedder, show_progress=False)
    return settings


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    from kb.index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder) -> Settings:
    """The shipped sample help center, indexed once per session with the real model."""
    folder = tmp_path_factory.mktemp("sample")
    settings = Settings(articles=SAMPLE_ARTICLES, index=folder / "index", data=folder / "data")
    build_index(settings, real_embedder, show_progress=False)
    return settings


# The site ------------------------------------------------------------------------------------------------------


def app_for(settings: Settings, embedder: Embedder, **config: Any) -> Flask:
    """The app in testing mode for these settings and embedder; `config` adds Flask settings."""
    return create_app({"TESTING": True, "KB_SETTINGS": settings, "KB_EMBEDDER": embedder, **config})


class AppFactory(Protocol):
    def __call__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        config: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Flask: ...


@pytest.fixture
def make_app(request: pytest.FixtureRequest, fake_embedder: FakeEmbedder) -> AppFactory:
    """Makes apps: `make_app()` serves the built small help center with the fake embedder.

    `make_app(settings)` serves other settings (nothing is built for them); keyword arguments change
    settings fields (`make_app(preview=True)`); `embedder=` replaces the fake one; `config=` adds
    Flask settings such as `WTF_CSRF_ENABLED`.
    """

    def make(
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        config: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Flask:
        chosen: Settings = settings if settings is not None else request.getfixturevalue("built_settings")
        if changes:
            chosen = dataclasses.replace(chosen, **changes)
        return app_for(chosen, fake_embedder if embedder is None else embedder, **(config or {}))

    return make


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The site and API over the built small help center."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def unbuilt_app(make_app: AppFactory, settings: Settings, tmp_path: Path) -> Flask:
    """An app whose index folder has never been built: everything that needs the index answers 503."""
    return make_app(settings, index=tmp_path / "unbuilt")


# Agents --------------------------------------------------------------------------------------------------------


@pytest.fixture
def storage(app: Flask) -> Storage:
    """The agents database of `app`."""
    return app.extensions["kb_storage"]


@pytest.fixture
def token(storage: Storage) -> str:
    """API token of the agent maria, who also signs in on the site with AGENT_PASSWORD."""
    return storage.add_agent(AGENT_NAME, AGENT_PASSWORD)[1]


def bearer_headers(app: Flask, name: str = "api-client") -> dict[str, str]:
    """Creates a token-only agent in the app's database; the headers that authenticate its API calls."""
    with app.app_context():
        _, new_token = app.extensions["kb_storage"].add_agent(name)
    return {"Authorization": f"Bearer {new_token}"}


def csrf_from(page: str) -> str:
    """The CSRF token of a form page (its hidden field) or of any agent page (its meta tag)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', page
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(
    client: FlaskClient, name: str = AGENT_NAME, password: str = AGENT_PASSWORD, next_path: str = ""
) -> TestResponse:
    """Fill in and send the real sign-in form, CSRF token included."""
    form_page = client.get("/agent/sign-in").get_data(as_text=True)
    url = f"/agent/sign-in?next={next_path}" if next_path else "/agent/sign-in"
    return client.post(url, data={"name": name, "password": password, "csrf_token": csrf_from(form_page)})


@pytest.fixture
def signed_in_client(client: FlaskClient, token: str) -> FlaskClient:
    """`client`, signed in as maria through the sign-in form."""
    response = sign_in(client)
    assert (response.status_code, response.headers["Location"]) == (302, "/agent/"), response.get_data(as_text=True)
    return client


# The command line ----------------------------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    """Runs `kb` commands in-process; `result.stdout` and `result.stderr` are kept apart."""
    return CliRunner()


# Writers' files ------------------------------------------------------------------------------------------------


class FrontMatterDumper(yaml.SafeDumper):
    """Block style for the mapping, flow style for lists (`tags: [a, b]`), as writers write front matter."""


FrontMatterDumper.add_representer(
    list, lambda dumper, items: dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=True)
)


class ArticleWriter:
    """Writes Markdown articles with YAML front matter under `root` (made on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, path: str, front_matter: Mapping[str, Any], body: str = "", *, root: Path | None = None) -> Path:
        """Write `path` under the root: `---`, one line per front-matter key in the order given, `---`, the body.

        Lists come out in flow style (`tags: [a, b]`) and nothing is wrapped, so each key takes one
        line and the body starts on line `len(front_matter) + 3`.
        """
        header = ""
        if front_matter:
            header = yaml.dump(
                dict(front_matter), Dumper=FrontMatterDumper, sort_keys=False, allow_unicode=True, width=2**31
            )
        if not body.endswith("\n"):
            body += "\n"
        file = (self.root if root is None else root) / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"---\n{header}---\n{body}", encoding="utf-8")
        return file


@pytest.fixture
def write_article(tmp_path: Path) -> ArticleWriter:
    """Writes articles into an empty folder, `write_article.root`; `root=` writes elsewhere (`articles_dir`)."""
    return ArticleWriter(tmp_path / "help-center")


class GitRepository:
    """A git repository in `root`, run with a fixed author and without the machine's git configuration."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "--initial-branch=main")

    def git(self, *arguments: str) -> str:
        environment = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "Writer",
            "GIT_AUTHOR_EMAIL": "writer@example.com",
            "GIT_COMMITTER_NAME": "Writer",
            "GIT_COMMITTER_EMAIL": "writer@example.com",
        }
        result = subprocess.run(
            ["git", *arguments], cwd=self.root, env=environment, check=True, capture_output=True, text=True
        )
        return result.stdout

    def commit(self, message: str) -> None:
        """Stage every change under the root (new, edited, renamed and deleted files) and commit it."""
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def rename(self, old: str, new: str) -> None:
        """`git mv old new`: staged, not committed."""
        self.git("mv", old, new)


@pytest.fixture
def make_git_repository() -> Callable[[Path], GitRepository]:
    """Turns a folder into a git repository (skips the test where git is not installed)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return GitRepository


# Figures ---------------------------------------------------------------------------------------------------------
# A test states what it proved in numbers ("20 publishes under load: 0 failed / 4,812 requests") and the
# run prints them all together at the end, whatever the verbosity.

FIGURES = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FIGURES] = []


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record one line for the "figures" section of the terminal summary, prefixed by the test's id."""
    figures = request.config.stash[FIGURES]

    def record(text: str) -> None:
        figures.append(f"{request.node.nodeid}: {text}")

    return record


def pytest_terminal_summary(terminalreporter: TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.write_sep("=", "figures")
        for line in figures:
            terminalreporter.write_line(line)
