"""KB_ENCODER: the export is made once and reused, fingerprints part where vectors do, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kb.config import Encoder, QueryPrecision, Settings
from kb.errors import ConfigError, ModelLoadError, ModelMismatchError
from kb.index import exported_encoder
from kb.index.embedder import ExportedModelEmbedder, SentenceTransformerEmbedder, make_embedder
from kb.index.exported_encoder import encoder_fingerprint, export_folder
from kb.live import LiveHelpCenter
from tests.conftest import REPOSITORY

QUERIES = ["how do I reset my password", "refund for a double charge", "Export invoices to CSV?"]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of the user's, for the exports."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache folder for the tests that only need the exports to exist (each export takes seconds)."""
    folder = tmp_path_factory.mktemp("shared-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        yield folder


def test_the_encoder_setting_names_its_choices() -> None:
    assert Settings.from_env({"KB_ENCODER": "ONNX-int8"}).encoder == Encoder.ONNX_INT8
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"KB_ENCODER": "int8"})
    assert str(refused.value) == "KB_ENCODER must be one of torch, onnx, onnx-int8, openvino, got 'int8'"


def test_make_embedder_picks_the_configured_encoder_onnx_by_default() -> None:
    assert Settings().encoder == Encoder.ONNX
    assert type(make_embedder(Settings(encoder=Encoder.TORCH))) is SentenceTransformerEmbedder
    embedder = make_embedder(Settings(encoder=Encoder.ONNX_INT8, encoder_threads=2))
    assert isinstance(embedder, ExportedModelEmbedder)
    assert (embedder.encoder, embedder.threads) == (Encoder.ONNX_INT8, 2)


def test_queries_take_the_int8_copy_only_where_documents_run_on_onnx_at_full_precision() -> None:
    assert Settings().query_precision == QueryPrecision.INT8
    assert Settings.from_env({"KB_QUERY_PRECISION": "full"}).query_precision == QueryPrecision.FULL
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"KB_QUERY_PRECISION": "int4"})
    assert str(refused.value) == "KB_QUERY_PRECISION must be one of int8, full, got 'int4'"
    chosen = {
        (encoder, precision): getattr(
            make_embedder(Settings(encoder=encoder, query_precision=precision)), "quantized_queries", False
        )
        for encoder in Encoder
        for precision in QueryPrecision
    }
    assert [key for key, quantized in chosen.items() if quantized] == [(Encoder.ONNX, QueryPrecision.INT8)]


def test_a_server_embeds_on_one_thread_and_a_build_on_every_core_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert make_embedder(Settings()).threads == 1  # a query per request: workers and threads share the cores
    assert make_embedder(Settings(), batch=True).threads == 6  # kb index, kb eval: one big job
    assert make_embedder(Settings(encoder_threads=3), batch=True).threads == 3
    assert make_embedder(Settings(encoder_threads=3)).threads == 3


def test_the_fingerprint_is_the_models_own_where_vectors_equal_torchs_and_new_where_they_differ() -> None:
    torch_embedder = make_embedder(Settings(encoder=Encoder.TORCH))
    prints = {encoder: make_embedder(Settings(encoder=encoder)).model_fingerprint for encoder in Encoder}
    assert prints[Encoder.TORCH] == prints[Encoder.ONNX] == torch_embedder.model_fingerprint
    assert len({prints[Encoder.TORCH], prints[Encoder.ONNX_INT8], prints[Encoder.OPENVINO]}) == 3
    assert prints[Encoder.ONNX_INT8] == encoder_fingerprint(torch_embedder.model_fingerprint, Encoder.ONNX_INT8)
    names = {encoder: make_embedder(Settings(encoder=encoder)).model_name for encoder in Encoder}
    assert names == {
        Encoder.TORCH: "all-MiniLM-L6-v2",
        Encoder.ONNX: "all-MiniLM-L6-v2",
        Encoder.ONNX_INT8: "all-MiniLM-L6-v2 (onnx-int8)",
        Encoder.OPENVINO: "all-MiniLM-L6-v2 (openvino)",
    }


@pytest.mark.parametrize(
    ("encoder", "package", "extra"),
    [
        (Encoder.ONNX, "onnxruntime", "pip install onnxruntime onnx"),
        (Encoder.ONNX_INT8, "onnx", "pip install onnxruntime onnx"),
        (Encoder.OPENVINO, "openvino", "pip install 'kb-helpcenter[openvino]'"),
    ],
)
def test_a_missing_package_names_the_setting_and_the_extra(
    encoder: Encoder, package: str, extra: str, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # import now raises ImportError
    with pytest.raises(ModelLoadError) as refused:
        make_embedder(Settings(encoder=encoder)).encode(["a query"])
    assert str(refused.value) == f"KB_ENCODER={encoder} needs the package {package!r}: {extra}, or set KB_ENCODER=torch"
    assert not (cache / "kb").exists()  # refused before any export


def test_an_unwritable_cache_names_the_folder_and_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    embedder = make_embedder(Settings(encoder=Encoder.ONNX))
    with pytest.raises(ModelLoadError) as refused:
        embedder.encode(["a query"])
    message = str(refused.value)
    assert message.startswith(f"KB_ENCODER=onnx: cannot write the model's export to {blocker}/kb/encoders/")
    assert message.endswith("set XDG_CACHE_HOME to a writable folder")


def test_a_model_with_other_modules_is_left_to_torch(tmp_path: Path) -> None:
    model = tmp_path / "model_with_dense_layer"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "config.json").write_text("{}")
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
    ]
    (model / "modules.json").write_text(json.dumps(modules))
    (model / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    with pytest.raises(ModelLoadError) as refused:
        make_embedder(Settings(model=str(model), encoder=Encoder.ONNX))
    assert str(refused.value) == (
        f"{model}: KB_ENCODER=onnx runs models of Transformer, Pooling (mean or CLS) and Normalize modules; "
        "it has sentence_transformers.models.Dense: set KB_ENCODER=torch"
    )


@pytest.mark.slow
def test_the_export_is_made_once_under_the_lock_then_reused(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exports: list[Path] = []
    real_export = exported_encoder.export_float_model

    def counted_export(directory: Path, target: Path) -> None:
        exports.append(target)
        real_export(directory, target)

    monkeypatch.setattr(exported_encoder, "export_float_model", counted_export)
    workers = [make_embedder(Settings(encoder=Encoder.ONNX)) for _ in range(2)]  # two server workers starting
    results: list[np.ndarray] = []
    threads = [
        threading.Thread(target=lambda worker=worker: results.append(worker.encode(QUERIES))) for worker in workers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(exports) == 1 and len(results) == 2
    np.testing.assert_array_equal(results[0], results[1])
    folder = export_folder(workers[0].directory, workers[0].source_fingerprint)
    assert folder.parent == cache / "kb" / "encoders"
    assert sorted(path.name for path in folder.iterdir()) == [".export.lock", "model.onnx"]

    def no_export(directory: Path, target: Path) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(exported_encoder, "export_float_model", no_export)
    np.testing.assert_array_equal(make_embedder(Settings(encoder=Encoder.ONNX)).encode(QUERIES), results[0])
    int8 = make_embedder(Settings(encoder=Encoder.ONNX_INT8)).encode(QUERIES)  # quantized from the cached export
    assert int8.shape == (3, 384)
    assert sorted(path.name for path in folder.iterdir()) == [".export.lock", "model-int8.onnx", "model.onnx"]


@pytest.mark.slow
def test_onnx_vectors_equal_torchs_so_they_share_an_index(
    shared_cache: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    long_passage = "Invoices can be exported from the billing page as CSV or PDF files. " * 60  # past 256 tokens
    texts = [*QUERIES, long_passage]
    onnx_vectors = make_embedder(Settings(encoder=Encoder.ONNX)).encode(texts)
    assert np.abs(onnx_vectors - real_embedder.encode(texts)).max() < 1e-5
    int8_vectors = make_embedder(Settings(encoder=Encoder.ONNX_INT8)).encode(texts)
    assert np.abs(int8_vectors - real_embedder.encode(texts)).max() > 1e-3  # why int8 has a fingerprint of its own


@pytest.mark.slow
def test_queries_are_embedded_by_the_int8_copy_and_documents_at_full_precision(
    shared_cache: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    served = make_embedder(Settings())
    queries = served.encode_queries(QUERIES)
    np.testing.assert_array_equal(queries, make_embedder(Settings(encoder=Encoder.ONNX_INT8)).encode(QUERIES))
    full = real_embedder.encode(QUERIES)
    assert np.abs(served.encode(QUERIES) - full).max() < 1e-5  # documents: torch's vectors, the same index
    cosines = (queries * full).sum(axis=1)
    assert cosines.min() > 0.98 and np.abs(queries - full).max() > 1e-4  # near the full vectors, not equal
    as_documents = make_embedder(Settings(query_precision=QueryPrecision.FULL))
    np.testing.assert_array_equal(as_documents.encode_queries(QUERIES), as_documents.encode(QUERIES))


@pytest.mark.slow
def test_an_index_built_with_torch_is_refused_by_int8_and_served_by_onnx(
    sample_settings: Settings, shared_cache: Path
) -> None:
    int8 = make_embedder(Settings(encoder=Encoder.ONNX_INT8))
    with pytest.raises(ModelMismatchError) as refused:
        LiveHelpCenter(sample_settings, int8).get()
    torch_print = make_embedder(Settings(encoder=Encoder.TORCH)).model_fingerprint
    assert str(refused.value) == (
        f"the index in {sample_settings.index} was built with model 'all-MiniLM-L6-v2' ({torch_print}), "
        f"but KB_MODEL and KB_ENCODER give 'all-MiniLM-L6-v2 (onnx-int8)' ({int8.model_fingerprint}): "
        "rebuild it with 'kb index' or set KB_MODEL and KB_ENCODER to those it was built with"
    )
    onnx = make_embedder(Settings(encoder=Encoder.ONNX))
    assert LiveHelpCenter(sample_settings, onnx).get() is not None


def test_onnx_runtime_keeps_no_device_id_and_queues_no_usage_events(tmp_path: Path) -> None:
    """ONNX Runtime would write ~/.cache/Microsoft/DeveloperTools/.onnxruntime/{deviceid,onnxruntime.db}."""
    import onnx
    from onnx import TensorProto, helper

    tensor = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    same = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity", [tensor], [same])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "identity.onnx")
    home = tmp_path / "home"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ORT_")}
    environment.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PYTHONPATH=str(REPOSITORY))
    script = (
        "import sys; from pathlib import Path; import numpy as np\n"
        "from kb.index.exported_encoder import onnxruntime_runner\n"
        "run, names = onnxruntime_runner(Path(sys.argv[1]), 1)\n"
        "print(names)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "identity.onnx")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['x']"
    assert [str(path.relative_to(home)) for path in home.rglob("*") if path.is_file()] == []
