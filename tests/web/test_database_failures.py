"""Trouble with the agents' database (down, hung, driver missing) never takes the public site down."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from kb.config import Settings
from kb.store.database import Storage
from tests.conftest import REPOSITORY, sign_in
from tests.database_faults import HungDatabase, free_port, refusing_url
from tests.web.test_http_server import start_server, stop_server
from web import create_app
from web.auth import SESSION_TOKEN

PUBLIC_PATHS = (
    "/",
    "/search?q=reset+password",
    "/api/search?q=invoice",
    "/articles/welcome",
    "/api/articles/welcome",
    "/categories/billing",
    "/api/categories",
    "/sitemap.xml",
    "/healthz",
    "/agent/sign-in",
)
UNAVAILABLE = (
    "The agents' database is not answering, so agent sign-in, the workspace and the agent API are paused "
    "(the public help center keeps working). Please try again in a minute."
)
SOME_TOKEN = {"Authorization": "Bearer kb_" + "x" * 43}


def app_with_database(settings: Settings, embedder: Any, url: str) -> Flask:
    settings = dataclasses.replace(settings, database_url=url)
    return create_app({"TESTING": True, "KB_SETTINGS": settings, "KB_EMBEDDER": embedder})


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def assert_public_pages_answer(app: Flask) -> None:
    client = app.test_client()
    for path in PUBLIC_PATHS:
        assert client.get(path).status_code == 200, path


def test_public_pages_are_served_when_the_database_refuses_connections(built_settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    assert_public_pages_answer(app_with_database(built_settings, fake_embedder, refusing_url()))


def test_public_pages_are_served_when_the_database_driver_is_missing(
    built_settings: Settings, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails, as when it is not installed
    app = app_with_database(built_settings, fake_embedder, "postgresql+psycopg://kb@127.0.0.1/kb")
    assert_public_pages_answer(app)
    response = app.test_client().post("/api/suggest", json={"text": "refund"}, headers=SOME_TOKEN)
    assert response.status_code == 503
    assert response.get_json() == {"error": {"code": "database_unavailable", "message": UNAVAILABLE}}


def test_agent_features_answer_503_when_the_database_refuses_connections(
    built_settings: Settings, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    app = app_with_database(built_settings, fake_embedder, refusing_url())
    client = app.test_client()
    link = {"action": "copy_link", "slug": "welcome"}
    for path, body in (("/api/suggest", {"text": "refund"}), ("/api/links", link)):
        response = client.post(path, json=body, headers=SOME_TOKEN)
        assert response.status_code == 503, path
        assert response.get_json() == {"error": {"code": "database_unavailable", "message": UNAVAILABLE}}
    form = client.get("/agent/sign-in").get_data(as_text=True)
    sign_in = client.post("/agent/sign-in", data={"name": "maria", "password": "x" * 12, "csrf_token": csrf_from(form)})
    assert sign_in.status_code == 503
    page = sign_in.get_data(as_text=True)
    assert "<h1>Agent tools unavailable</h1>" in page and UNAVAILABLE.replace("'", "&#39;") in page
    with client.session_transaction() as session:
        session[SESSION_TOKEN] = "a-token-from-before-the-database-went-away"
    for path in ("/agent/", "/agent/suggest", "/agent/articles/welcome"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "<h1>Agent tools unavailable</h1>" in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)


def test_public_routes_never_touch_the_database(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    storage = app.extensions["kb_storage"]
    storage.add_agent("maria", "correct horse battery")
    assert sign_in(client).status_code == 302  # even a signed-in agent's visit to a public page asks nothing
    statements: list[str] = []
    event.listen(storage.engine, "before_cursor_execute", lambda *call: statements.append(call[2]))
    for path in PUBLIC_PATHS:
        assert client.get(path).status_code == 200, path
    assert statements == []
    assert client.get("/agent/").status_code == 200
    assert statements, "the listener must see the workspace's query, or the empty list above proves nothing"


def timed_get(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.perf_counter() - started


def suggest(url: str) -> tuple[int, dict[str, Any], float]:
    request = urllib.request.Request(
        url, data=json.dumps({"text": "refund"}).encode(), headers={**SOME_TOKEN, "Content-Type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, body = response.status, json.load(response)
    except urllib.error.HTTPError as error:
        status, body = error.code, json.load(error)
    return status, body, time.perf_counter() - started


def test_a_hung_database_never_blocks_the_public_site(
    built_settings: Settings, tmp_path: Path, figure: Callable[[str], None]
) -> None:
    """A real `kb serve` (gunicorn, 4 threads): six agent calls meet a database that never answers."""
    with HungDatabase() as database:
        server = start_server(dataclasses.replace(built_settings, database_url=database.url), tmp_path / "server.log")
        base = f"http://127.0.0.1:{server.port}"
        try:
            assert server.process.poll() is None, server.log.read_text()
            with concurrent.futures.ThreadPoolExecutor(6) as pool:
                suggestions = [pool.submit(suggest, f"{base}/api/suggest") for _ in range(6)]
                time.sleep(0.3)  # the six are in the server now: two inside the database, the rest turned away
                public: list[tuple[str, int, float]] = []
                while not all(future.done() for future in suggestions) or len(public) < 2 * len(PUBLIC_PATHS):
                    path = PUBLIC_PATHS[len(public) % len(PUBLIC_PATHS)]
                    public.append((path, *timed_get(base + path)))
                answers = [future.result() for future in suggestions]
        finally:
            stop_server(server)
    slowest = max(public, key=lambda answer: answer[2])
    figure(
        f"hung database: {len(public)} public requests during 6 concurrent /api/suggest calls, slowest "
        f"{slowest[2] * 1000:.0f} ms ({slowest[0]}); suggest answered 503 within "
        f"{max(answer[2] for answer in answers) * 1000:.0f} ms"
    )
    assert [status for _, status, _ in public] == [200] * len(public)
    assert slowest[2] < 1.0, slowest
    assert [(status, body["error"]["code"]) for status, body, _ in answers] == [(503, "database_unavailable")] * 6


def test_two_workers_boot_on_a_fresh_folder_and_share_its_new_database(
    built_settings: Settings, tmp_path: Path
) -> None:
    server = start_server(built_settings, tmp_path / "server.log", workers=2)
    try:
        time.sleep(2)  # a worker that failed to boot makes gunicorn stop shortly after the other answers
        assert server.process.poll() is None, server.log.read_text()
        token = Storage(f"sqlite:///{built_settings.data / 'kb.sqlite3'}").add_agent("maria")[1]
        link = {"action": "copy_link", "slug": "welcome"}
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/links",
            data=json.dumps(link).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        statuses = []
        for _ in range(8):  # both workers answer some of them
            with urllib.request.urlopen(request, timeout=10) as response:
                statuses.append(response.status)
    finally:
        stop_server(server)
    assert statuses == [201] * 8
    assert "already exists" not in server.log.read_text()


@pytest.mark.slow
def test_kb_serve_with_two_workers_boots_on_a_fresh_folder(sample_settings: Settings, tmp_path: Path) -> None:
    """The real `kb serve` with the real model: both workers boot on a new data folder."""
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPOSITORY),
        "KB_ARTICLES": str(sample_settings.articles),
        "KB_INDEX": str(sample_settings.index),
        "KB_DATA": str(tmp_path / "fresh-data"),
        "KB_DATABASE_URL": "",
    }
    command = [sys.executable, "-m", "kb_cli.main", "serve", "--workers", "2", "--port", str(port)]
    log = tmp_path / "server.log"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 180
        statuses: list[int] = []
        while time.monotonic() < deadline and process.poll() is None and len(statuses) < 8:
            try:
                statuses.append(timed_get(f"http://127.0.0.1:{port}/agent/sign-in")[0])
            except OSError:
                time.sleep(0.5)
        time.sleep(3)  # a worker that failed to boot makes gunicorn stop shortly after the other answers
        running = process.poll() is None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert running, log.read_text()
    assert statuses == [200] * 8, log.read_text()
    assert (tmp_path / "fresh-data" / "kb.sqlite3").exists()
    assert "already exists" not in log.read_text()
