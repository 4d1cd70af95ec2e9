"""Exporting the model to ONNX once into the user's cache, and running it with ONNX Runtime or OpenVINO."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kb.config import Encoder
from kb.errors import ModelLoadError

# ONNX Runtime (1.32 and later, on Linux and macOS) keeps a persistent device id and a queue of usage
# events (process, CPU, OS, Python path) under ~/.cache/Microsoft, to send to Microsoft when it can. A
# help center's server reports to nobody: this opts out before any session starts. An operator who
# sets the variable (to 0) decides otherwise.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

FLOAT_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
# Bump when the export or the quantization changes what vectors come out: a new cache folder and,
# for the encoders with their own vectors, a new fingerprint (their indexes are rebuilt).
RECIPE = "torch-onnx-opset17+ort-dynamic-quint8-per-channel-v2"
SUPPORTED_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
PACKAGES = {
    Encoder.ONNX: ("onnxruntime", "onnx"),
    Encoder.ONNX_INT8: ("onnxruntime", "onnx"),
    Encoder.OPENVINO: ("openvino", "onnx"),
}
INSTALL = {  # how to get each encoder's packages: onnxruntime and onnx are kb's own dependencies
    Encoder.ONNX: "pip install onnxruntime onnx",
    Encoder.ONNX_INT8: "pip install onnxruntime onnx",
    Encoder.OPENVINO: "pip install 'kb-helpcenter[openvino]'",
}
HiddenStates = Callable[[dict[str, np.ndarray]], np.ndarray]
Runner = tuple[HiddenStates, list[str]]  # the model call and the names of the inputs it takes


def encoder_fingerprint(model_fingerprint: str, encoder: Encoder) -> str:
    """The fingerprint of the vectors an encoder gives: the model's own where they equal torch's.

    ONNX Runtime at full precision gives torch's vectors to within 1e-6 (tests/kb/index/test_exported_encoder.py
    measures it), so an index built by either serves both. int8 weights move vectors by up to 0.07 and
    OpenVINO's kernels by about 1e-3: those encoders get prints of their own, and their indexes are theirs.
    """
    if encoder in (Encoder.TORCH, Encoder.ONNX):
        return model_fingerprint
    return hashlib.sha256(f"{model_fingerprint}:{encoder}:{RECIPE}".encode()).hexdigest()[:16]


def cache_root() -> Path:
    """The user's cache folder for exports: `$XDG_CACHE_HOME/kb/encoders`, else `~/.cache/kb/encoders`.

    Not the model's own folder (site-packages may be read-only and is shared between environments) and
    not the data folder (that holds what cannot be rebuilt; an export can be, from the model).
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "kb" / "encoders"


def export_folder(directory: Path, model_fingerprint: str) -> Path:
    """The cache folder of one model folder's exports; a changed weight file gets a new one."""
    digest = hashlib.sha256(f"{directory.resolve()}:{model_fingerprint}:{RECIPE}".encode())
    for name in ("model.safetensors", "pytorch_model.bin"):
        weights = directory / name
        if weights.is_file():
            status = weights.stat()
            digest.update(f"{name}:{status.st_size}:{status.st_mtime_ns}".encode())
    return cache_root() / f"{directory.name}-{digest.hexdigest()[:16]}"


def require_packages(encoder: Encoder) -> None:
    """Raise a clear error, naming the setting and the extra to install, when an encoder's packages are missing."""
    for package in PACKAGES[encoder]:
        try:
            __import__(package)
        except ImportError:
            raise ModelLoadError(
                f"KB_ENCODER={encoder} needs the package {package!r}: {INSTALL[encoder]}, or set KB_ENCODER=torch"
            ) from None


def check_supported(directory: Path, encoder: Encoder) -> dict[str, Any]:
    """The model's pooling configuration, after checking that the exported path can reproduce it.

    Raises:
        ModelLoadError: the model has modules other than Transformer, Pooling (mean or CLS) and
            Normalize, or no tokenizer.json; torch runs those.
    """
    hint = f"KB_ENCODER={encoder} runs models of Transformer, Pooling (mean or CLS) and Normalize modules"
    try:
        modules = json.loads((directory / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((directory / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{directory}: {hint}; cannot read its modules ({error}): set KB_ENCODER=torch") from None
    types = [module.get("type") for module in modules]
    unsupported = [kind for kind in types if kind not in SUPPORTED_MODULES]
    modes = [key for key, value in pooling.items() if key.startswith("pooling_mode_") and value]
    if unsupported or modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
        found = ", ".join(unsupported) or ", ".join(modes)
        raise ModelLoadError(f"{directory}: {hint}; it has {found}: set KB_ENCODER=torch")
    if not (directory / "tokenizer.json").is_file():
        raise ModelLoadError(f"{directory}: {hint} and a tokenizer.json, which it lacks: set KB_ENCODER=torch")
    return pooling


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write `target` through a temporary file beside it, so a reader sees a whole file or none."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        write(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def export_float_model(directory: Path, target: Path) -> None:
    """Export the model's transformer to ONNX (float32), inputs named as its tokenizer names them."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(directory)).eval()
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python branches: not a user's concern
        torch.onnx.export(
            LastHiddenState(),
            example,
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed, and it handles BERT-like models well
        )


def quantize_model(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of the float model's weights, one scale per output channel.

    Unsigned weights, because x86 CPUs without VNNI (AVX2 only, as here) multiply unsigned activations
    by signed weights in 16-bit sums that saturate: with signed per-tensor weights liveqa-med lost
    0.015 nDCG@10, with unsigned per-channel ones (queries only) it lost nothing (docs/PERFORMANCE.md).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QUInt8, per_channel=True)


def exported_model(directory: Path, model_fingerprint: str, encoder: Encoder, quantized: bool) -> Path:
    """The cached ONNX file `encoder` runs, at full precision or `quantized` to int8, exported on first use.

    Several server workers may start at once: one exports under a file lock while the others wait,
    then all read the same file.
    """
    folder = export_folder(directory, model_fingerprint)
    target = folder / (INT8_FILE if quantized else FLOAT_FILE)
    if target.is_file():
        return target
    from filelock import FileLock

    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / ".export.lock"))
        with lock:
            if not (folder / FLOAT_FILE).is_file():
                write_atomically(folder / FLOAT_FILE, lambda path: export_float_model(directory, path))
            if not target.is_file():
                write_atomically(target, lambda path: quantize_model(folder / FLOAT_FILE, path))
    except OSError as error:
        raise ModelLoadError(
            f"KB_ENCODER={encoder}: cannot write the model's export to {folder} ({error}); "
            "set XDG_CACHE_HOME to a writable folder"
        ) from None
    return target


def onnxruntime_runner(path: Path, threads: int) -> Runner:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [value.name for value in session.get_inputs()]
    return (lambda feed: session.run(["last_hidden_state"], feed)[0]), names  # thread-safe: the threads share it


def openvino_runner(path: Path, threads: int) -> Runner:
    import openvino

    compiled = openvino.Core().compile_model(
        str(path), "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    )
    requests = threading.local()  # an infer request serves one call at a time: one per server thread

    def run(feed: dict[str, np.ndarray]) -> np.ndarray:
        if not hasattr(requests, "request"):
            requests.request = compiled.create_infer_request()
        return np.asarray(requests.request.infer(feed)[0])

    return run, [value.get_any_name() for value in compiled.inputs]
