"""What breaks outside a request: a damaged index, a missing model, a re-ranker that cannot load.

Each case is checked where a person meets it: the library raises one error with its code, `kb`
prints one line and exits with the error's code, and the site answers 503 with the error shape
(never 500, never a traceback) and a message that names no server path; the log has the details.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

import kb_cli.main
import kb_cli.serve_command
from kb.config import Settings
from kb.errors import IndexFormatError
from kb.index.format import (
    CHUNKS_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    OLDEST_READABLE,
    VECTORS_FILE,
    current_build,
    load_published_index,
    read_manifest,
)
from kb_cli.main import cli
from tests.conftest import AppFactory, FakeEmbedder
from web.errors import UNAVAILABLE_MESSAGES

REBUILD = "run 'kb index' to rebuild it"
READS = f"this kb reads {OLDEST_READABLE} to {FORMAT_VERSION}"


def set_format_version(build: Path, version: int) -> None:
    manifest = json.loads((build / MANIFEST_FILE).read_text(encoding="utf-8"))
    (build / MANIFEST_FILE).write_text(json.dumps({**manifest, "format_version": version}), encoding="utf-8")


def drop_last_chunk(build: Path) -> None:
    lines = (build / CHUNKS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    (build / CHUNKS_FILE).write_text("".join(lines[:-1]), encoding="utf-8")


def damage_third_chunk(build: Path) -> None:
    lines = (build / CHUNKS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2][:40] + "\n"
    (build / CHUNKS_FILE).write_text("".join(lines), encoding="utf-8")


def count_one_chunk_more(build: Path) -> None:
    manifest = json.loads((build / MANIFEST_FILE).read_text(encoding="utf-8"))
    (build / MANIFEST_FILE).write_text(json.dumps({**manifest, "chunk_count": manifest["chunk_count"] + 1}))


def truncate_vectors(build: Path) -> None:
    data = (build / VECTORS_FILE).read_bytes()
    (build / VECTORS_FILE).write_bytes(data[: len(data) // 2])


CHUNKS = 17  # chunks of the small test help center
# (damage done to the live build, the message it must give; {build} is the build folder)
DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "older format": (
        lambda build: set_format_version(build, OLDEST_READABLE - 1),
        f"{{build}}: index format {OLDEST_READABLE - 1}, {READS}: {REBUILD}",
    ),
    "newer format": (
        lambda build: set_format_version(build, FORMAT_VERSION + 1),
        f"{{build}}: index format {FORMAT_VERSION + 1}, {READS}: {REBUILD}",
    ),
    "vectors file of garbage": (
        lambda build: (build / VECTORS_FILE).write_bytes(b"this is not a FAISS index"),
        f"{{build}}/{VECTORS_FILE}: not a readable FAISS index: {REBUILD}",
    ),
    "vectors file cut short": (truncate_vectors, f"{{build}}/{VECTORS_FILE}: not a readable FAISS index: {REBUILD}"),
    "chunks file missing": (
        lambda build: (build / CHUNKS_FILE).unlink(),
        f"{{build}}/{CHUNKS_FILE}: missing from the build: {REBUILD}",
    ),
    "a chunk line cut short": (
        damage_third_chunk,
        f"{{build}}/{CHUNKS_FILE}: damaged (line 3 is not a JSON record: Unterminated string starting at: "
        f"line 1 column 37 (char 36)): {REBUILD}",
    ),
    "a chunk fewer than vectors": (
        drop_last_chunk,
        f"{{build}}: {CHUNKS_FILE} holds {CHUNKS - 1} chunks, {VECTORS_FILE} {CHUNKS} vectors "
        f"and {MANIFEST_FILE} counts {CHUNKS}: {REBUILD}",
    ),
    "manifest counting a chunk more": (
        count_one_chunk_more,
        f"{{build}}: {CHUNKS_FILE} holds {CHUNKS} chunks, {VECTORS_FILE} {CHUNKS} vectors "
        f"and {MANIFEST_FILE} counts {CHUNKS + 1}: {REBUILD}",
    ),
}


def damage(settings: Settings, name: str) -> str:
    """Damage the live build of `settings` as DAMAGES[name] says; the message that must report it."""
    build = current_build(settings.index)
    assert read_manifest(build).chunk_count == CHUNKS, "tests/data/help_center changed: update CHUNKS"
    harm, message = DAMAGES[name]
    harm(build)
    return message.format(build=build)


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch, fake_embedder: FakeEmbedder) -> FakeEmbedder:
    """`kb` commands embed with the fake model the indexes here were built with."""
    monkeypatch.setattr(kb_cli.main, "make_embedder", lambda settings, batch=False: fake_embedder)
    return fake_embedder


def test_a_build_of_the_oldest_readable_format_loads_as_exact_vectors(built_settings: Settings) -> None:
    """Format 4 wrote the same files with exact vectors always: such a build is served, not refused."""
    set_format_version(current_build(built_settings.index), OLDEST_READABLE)
    index = load_published_index(built_settings.index)
    assert index.manifest.format_version == OLDEST_READABLE and index.manifest.vector_index == "exact"
    assert index.vectors.size == CHUNKS


@pytest.mark.parametrize("name", DAMAGES)
def test_a_damaged_index_raises_one_error_naming_the_file(built_settings: Settings, name: str) -> None:
    message = damage(built_settings, name)
    with pytest.raises(IndexFormatError) as raised:
        load_published_index(built_settings.index)
    assert str(raised.value) == message
    assert (raised.value.code, raised.value.exit_code) == ("index_invalid", 1)


@pytest.mark.parametrize("name", DAMAGES)
def test_a_damaged_index_is_one_line_from_the_command_line(
    runner: CliRunner, built_settings: Settings, name: str
) -> None:
    message = damage(built_settings, name)
    result = runner.invoke(cli, ["search", "invoice", "--index", str(built_settings.index)])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {message}\n")


@pytest.mark.parametrize("name", DAMAGES)
def test_a_damaged_index_answers_503_on_the_site(
    app: Flask, built_settings: Settings, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    message = damage(built_settings, name)
    client = app.test_client()
    error = {"code": "index_invalid", "message": UNAVAILABLE_MESSAGES["index_invalid"]}
    search = client.get("/api/search", query_string={"q": "invoice"})
    assert (search.status_code, search.get_json()) == (503, {"error": error})
    health = client.get("/healthz")
    assert (health.status_code, health.get_json()) == (503, {"status": "unavailable", "error": error})
    page = client.get("/")
    assert (page.status_code, page.mimetype) == (503, "text/html")
    assert "<h1>Help center unavailable</h1>" in page.get_data(as_text=True)
    assert message in caplog.text


def missing_model_message(folder: Path) -> str:
    return f"KB_MODEL '{folder}' is not a local sentence-transformers model folder"


@pytest.mark.parametrize("command", [["index"], ["search", "invoice"], ["check", "--queries", "{queries}"]])
def test_a_missing_model_folder_is_one_line_from_the_command_line(
    runner: CliRunner, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    from kb.index.embedder import make_embedder

    monkeypatch.setattr(kb_cli.main, "make_embedder", make_embedder)  # the real one, which finds no folder
    queries = tmp_path / "queries.yaml"
    queries.write_text("- query: forgot password\n  expect: reset-password\n", encoding="utf-8")
    folder = tmp_path / "no-such-model"
    arguments = [part.format(queries=queries) for part in command]
    locations = ["--articles", str(settings.articles), "--index", str(settings.index), "--model", str(folder)]
    result = runner.invoke(cli, [*arguments, *locations])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {missing_model_message(folder)}\n")


def test_serve_refuses_a_missing_model_folder_before_starting(
    runner: CliRunner, built_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.index.embedder import make_embedder

    def never(settings: Settings, debug: bool = False) -> None:
        raise AssertionError("the server started without a model")

    monkeypatch.setattr(kb_cli.main, "make_embedder", make_embedder)
    monkeypatch.setattr(kb_cli.serve_command, "run_server", never)
    folder = tmp_path / "no-such-model"
    result = runner.invoke(cli, ["serve", "--index", str(built_settings.index), "--model", str(folder)])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {missing_model_message(folder)}\n")


def test_a_missing_model_folder_answers_503_on_the_site(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "no-such-model"
    app = make_app(model=str(folder), config={"KB_EMBEDDER": None})  # no stand-in: the app makes its own model
    client = app.test_client()
    error = {"code": "model_unavailable", "message": UNAVAILABLE_MESSAGES["model_unavailable"]}
    search = client.get("/api/search", query_string={"q": "invoice"})
    assert (search.status_code, search.get_json()) == (503, {"error": error})
    health = client.get("/healthz")
    assert (health.status_code, health.get_json()) == (503, {"status": "unavailable", "error": error})
    page = client.get("/articles/welcome")
    assert (page.status_code, page.mimetype) == (503, "text/html")
    assert "<h1>Help center unavailable</h1>" in page.get_data(as_text=True)
    assert missing_model_message(folder) in caplog.text


def test_a_reranker_folder_without_a_model_answers_503_and_the_articles_stay_up(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "empty-reranker"
    folder.mkdir()
    client = make_app(reranker=str(folder)).test_client()
    search = client.get("/api/search", query_string={"q": "invoice"})
    message = f"KB_RERANKER '{folder}' is not a local cross-encoder model folder"
    assert (search.status_code, search.get_json()) == (
        503,
        {"error": {"code": "model_unavailable", "message": UNAVAILABLE_MESSAGES["model_unavailable"]}},
    )
    assert message in caplog.text
    assert client.get("/api/articles/welcome").status_code == 200
    assert client.get("/articles/welcome").status_code == 200


def test_serve_refuses_a_reranker_folder_without_a_model_before_starting(
    runner: CliRunner, built_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(settings: Settings, debug: bool = False) -> None:
        raise AssertionError("the server started without its re-ranker")

    monkeypatch.setattr(kb_cli.serve_command, "run_server", never)
    folder = tmp_path / "empty-reranker"
    folder.mkdir()
    result = runner.invoke(cli, ["serve", "--index", str(built_settings.index)], env={"KB_RERANKER": str(folder)})
    message = f"KB_RERANKER '{folder}' is not a local cross-encoder model folder"
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {message}\n")


@pytest.mark.slow  # imports torch and sentence-transformers to try the folder
def test_a_reranker_that_fails_to_load_answers_503_not_500(
    make_app: AppFactory, runner: CliRunner, built_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "broken-reranker"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")  # no model type: the library refuses it
    client = make_app(reranker=str(folder)).test_client()
    search = client.get("/api/search", query_string={"q": "invoice"})
    assert search.status_code == 503
    error = search.get_json()["error"]
    assert error == {"code": "model_unavailable", "message": UNAVAILABLE_MESSAGES["model_unavailable"]}
    assert f"cannot load the re-ranker from {folder}: " in caplog.text
    assert client.get("/articles/welcome").status_code == 200
    result = runner.invoke(
        cli, ["search", "invoice", "--index", str(built_settings.index)], env={"KB_RERANKER": str(folder)}
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot load the re-ranker from {folder}: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
