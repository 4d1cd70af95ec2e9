"""A damaged or missing index never stops the site: the last good build is served, or a 503 without server paths."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from indexer.build import build_index
from kb.config import Settings
from tests.web.test_api import error_of
from tests.web.test_openapi import check_against_document
from web import create_app
from web.openapi import openapi_document

OLD_TITLE = "Welcome to Acme Invoices"
NEW_TITLE = "Welcome aboard Acme Invoices"


def damage(build: Path) -> None:
    """What a full disk or a bad copy leaves: a vectors file that is no FAISS index."""
    (build / "vectors.faiss").write_bytes(b"not a faiss index")


def live_build(settings: Settings) -> Path:
    return (settings.index / "current").resolve()


def start(settings: Settings, embedder: Any) -> Flask:
    """A freshly started server process over the index folder as it is now."""
    return create_app({"TESTING": True, "KB_SETTINGS": settings, "KB_EMBEDDER": embedder})


@pytest.fixture
def two_builds(built_settings: Settings, fake_embedder: Any) -> tuple[Settings, Path, Path]:
    """Settings whose index holds an earlier build (old welcome title) and a live one (new title)."""
    earlier = live_build(built_settings)
    welcome = built_settings.articles / "getting-started" / "welcome.md"
    welcome.write_text(welcome.read_text(encoding="utf-8").replace(OLD_TITLE, NEW_TITLE), encoding="utf-8")
    build_index(built_settings, fake_embedder, show_progress=False)
    return built_settings, earlier, live_build(built_settings)


def assert_no_server_paths(text: str, settings: Settings) -> None:
    for path in (settings.index, settings.index.resolve(), settings.articles):
        assert str(path) not in text
    assert "/tmp" not in text and "builds/" not in text


def test_a_restart_over_a_damaged_build_serves_the_last_good_build(
    two_builds: tuple[Settings, Path, Path], fake_embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings, earlier, live = two_builds
    damage(live)
    with caplog.at_level(logging.WARNING):
        client = start(settings, fake_embedder).test_client()
        home = client.get("/")
    assert home.status_code == 200
    assert client.get("/api/articles/welcome").get_json()["title"] == OLD_TITLE
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.get_json()
    assert (body["status"], body["build"]) == ("degraded", earlier.name)
    assert body["warning"]["code"] == "index_invalid"
    assert live.name in body["warning"]["message"] and earlier.name in body["warning"]["message"]
    assert_no_server_paths(health.get_data(as_text=True), settings)
    check_against_document(openapi_document(settings), "/healthz", "get", health)
    logged = caplog.text
    assert f"build {live.name} is damaged" in logged and f"serving the earlier build {earlier.name}" in logged


def test_a_damaged_build_published_while_serving_is_not_switched_to(
    built_settings: Settings, fake_embedder: Any
) -> None:
    client = start(built_settings, fake_embedder).test_client()
    serving = client.get("/healthz").get_json()["build"]
    welcome = built_settings.articles / "getting-started" / "welcome.md"
    welcome.write_text(welcome.read_text(encoding="utf-8").replace(OLD_TITLE, NEW_TITLE), encoding="utf-8")
    build_index(built_settings, fake_embedder, show_progress=False)
    damage(live_build(built_settings))
    assert client.get("/").status_code == 200
    client.application.extensions["kb"].settled()
    assert client.get("/api/articles/welcome").get_json()["title"] == OLD_TITLE
    body = client.get("/healthz").get_json()
    assert (body["status"], body["build"]) == ("degraded", serving)
    build_index(built_settings, fake_embedder, show_progress=False)  # a sound build: served, and all is well
    client.application.extensions["kb"].settled()
    body = client.get("/healthz").get_json()
    assert (body["status"], body["build"]) == ("ok", live_build(built_settings).name)
    assert client.get("/api/articles/welcome").get_json()["title"] == NEW_TITLE


def test_a_damaged_build_with_no_earlier_build_answers_503_without_server_paths(
    built_settings: Settings, fake_embedder: Any
) -> None:
    damage(live_build(built_settings))
    client = start(built_settings, fake_embedder).test_client()
    for url in ("/", "/search?q=invoice", "/articles/welcome"):
        page = client.get(url)
        assert page.status_code == 503
        assert "<h1>Help center unavailable</h1>" in page.get_data(as_text=True)
        assert_no_server_paths(page.get_data(as_text=True), built_settings)
    for url in ("/api/search?q=invoice", "/api/categories"):
        assert_no_server_paths(error_of(client.get(url), 503, "index_invalid"), built_settings)
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["error"]["code"] == "index_invalid"
    assert_no_server_paths(health.get_data(as_text=True), built_settings)


def test_deleting_current_keeps_serving_the_newest_build(
    two_builds: tuple[Settings, Path, Path], fake_embedder: Any
) -> None:
    settings, _, live = two_builds
    (settings.index / "current").unlink()
    client = start(settings, fake_embedder).test_client()
    assert client.get("/").status_code == 200
    assert client.get("/api/articles/welcome").get_json()["title"] == NEW_TITLE
    body = client.get("/healthz").get_json()
    assert (body["status"], body["build"]) == ("degraded", live.name)
    assert "current" in body["warning"]["message"]


def test_without_any_build_no_page_shows_server_paths(built_settings: Settings, fake_embedder: Any) -> None:
    (built_settings.index / "current").unlink()
    shutil.rmtree(built_settings.index / "builds")
    client = start(built_settings, fake_embedder).test_client()
    for url in ("/", "/articles/welcome", "/categories/billing"):
        page = client.get(url)
        assert page.status_code == 503
        assert_no_server_paths(page.get_data(as_text=True), built_settings)
    assert_no_server_paths(error_of(client.get("/api/search?q=x"), 503, "index_not_found"), built_settings)
    assert_no_server_paths(client.get("/healthz").get_data(as_text=True), built_settings)


@pytest.mark.parametrize("name", ["vectors.faiss", "chunks.jsonl", "manifest.json", "lexical"])
def test_healthz_answers_503_when_the_live_build_files_are_gone(
    built_settings: Settings, fake_embedder: Any, name: str
) -> None:
    client = start(built_settings, fake_embedder).test_client()
    assert client.get("/healthz").status_code == 200
    target = live_build(built_settings) / name
    shutil.rmtree(target) if target.is_dir() else os.remove(target)
    health = client.get("/healthz")
    assert health.status_code == 503
    body = health.get_json()
    assert (body["status"], body["error"]["code"]) == ("unavailable", "index_invalid")
    assert_no_server_paths(health.get_data(as_text=True), built_settings)
    assert client.get("/").status_code == 200  # the build in memory still answers customers
