"""Shared fixtures: a deterministic fake embedder, small built indexes, the app and its clients."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build_index
from kb.config import Settings
from web import create_app

DATA = Path(__file__).parent / "data"
REPOSITORY = Path(__file__).parent.parent
SAMPLE_ARTICLES = REPOSITORY / "articles"


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


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """A writable copy of the small test help center."""
    target = tmp_path / "articles"
    shutil.copytree(DATA / "help_center", target)
    return target


@pytest.fixture
def settings(tmp_path: Path, articles_dir: Path) -> Settings:
    return Settings(articles=articles_dir, index=tmp_path / "index")


@pytest.fixture
def built_settings(settings: Settings, fake_embedder: FakeEmbedder) -> Settings:
    """Settings whose index has been built from the small help center with the fake embedder."""
    build_index(settings, fake_embedder, show_progress=False)
    return settings


@pytest.fixture
def app(built_settings: Settings, fake_embedder: FakeEmbedder):  # type: ignore[no-untyped-def]
    return create_app({"TESTING": True, "KB_SETTINGS": built_settings, "KB_EMBEDDER": fake_embedder})


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    from kb.index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Settings:  # type: ignore[no-untyped-def]
    """The shipped sample help center, indexed once per session with the real model."""
    settings = Settings(articles=SAMPLE_ARTICLES, index=tmp_path_factory.mktemp("sample") / "index")
    build_index(settings, real_embedder, show_progress=False)
    return settings
