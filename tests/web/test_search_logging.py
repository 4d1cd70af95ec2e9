"""Every search is logged redacted, with its source; opening a result records the click; article views count."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kb.config import Settings
from kb.store.counters import counts
from kb.store.models import SearchClickRow, SearchRow
from kb.store.privacy import today
from tests.conftest import REPOSITORY, AppFactory, FakeEmbedder, bearer_headers, sign_in
from tests.database_faults import refusing_url
from web import create_app


def logged(app: Flask) -> list[SearchRow]:
    log = app.extensions["kb_search_log"]
    assert log.flush(10)
    with log.storage.session() as session:
        return list(session.scalars(select(SearchRow).order_by(SearchRow.id)))


def clicks(app: Flask) -> list[tuple[str, str, str, int]]:
    log = app.extensions["kb_search_log"]
    assert log.flush(10)
    with log.storage.session() as session:
        rows = session.scalars(select(SearchClickRow).order_by(SearchClickRow.id))
        return [(row.search_token, row.slug, row.section, row.position) for row in rows]


def test_every_kind_of_search_is_logged_with_its_source(app: Flask, client: FlaskClient, token: str) -> None:
    client.get("/search?q=reset+my+password+jane@example.com")
    client.get("/api/search?q=invoice")
    client.get("/api/search?q=invoi&source=instant")
    client.post(
        "/api/suggest", json={"text": "I cannot sign in, call me on +1 415 555 0132"}, headers=bearer_headers(app)
    )
    assert sign_in(client).status_code == 302
    client.get("/agent/?q=refund+escalation")
    rows = logged(app)
    assert [(row.source, row.query) for row in rows] == [
        ("site", "reset my password [email]"),
        ("api", "invoice"),
        ("instant", "invoi"),
        ("suggest", "I cannot sign in, call me on [phone]"),
        ("agent", "refund escalation"),
    ]
    site = rows[0]
    assert site.results == 3 and site.confident is True  # the response's flag, stored as it was
    assert json.loads(site.top_results)[0].partition("#")[0] == "reset-password"
    assert site.visitor is not None and len(site.visitor) == 32  # the address's daily hash, not the address
    assert "127.0.0.1" not in site.visitor
    with app.extensions["kb_search_log"].storage.session() as session:
        searches = counts(session, "searches", today(), today())
    assert [(key, count) for _, key, count in searches] == [
        ("agent", 1),
        ("api", 1),
        ("instant", 1),
        ("site", 1),
        ("suggest", 1),
    ]


def test_an_unknown_source_is_refused(client: FlaskClient) -> None:
    response = client.get("/api/search?q=invoice&source=robot")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_query"


def test_opening_a_result_records_the_click_and_keeps_the_section_anchor(app: Flask, client: FlaskClient) -> None:
    page = client.get("/search?q=reset+password").get_data(as_text=True)
    link = re.search(r'<h2><a href="([^"]+)">Reset your password</a>', page)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    path, _, anchor = href.partition("#")
    assert anchor == "request-a-reset-link"
    assert client.get(path).status_code == 200
    token = re.search(r"search=([A-Za-z0-9_-]{16})", href).group(1)  # type: ignore[union-attr]
    assert clicks(app) == [(token, "reset-password", "request-a-reset-link", 1)]
    with app.extensions["kb_search_log"].storage.session() as session:
        assert counts(session, "article_views", today(), today()) == [(today(), "reset-password", 1)]


def test_api_results_are_tracked_with_the_search_token(app: Flask, client: FlaskClient) -> None:
    body = client.get("/api/search?q=invoice&source=instant").get_json()
    first = body["results"][0]
    assert client.get(f"{first['url'].partition('#')[0]}?search={body['search_token']}&result=1").status_code == 200
    assert clicks(app) == [(body["search_token"], first["slug"], first["url"].partition("#")[2], 1)]


def test_forged_clicks_record_nothing_and_break_no_page(app: Flask, client: FlaskClient) -> None:
    client.get("/search?q=reset+password")
    for query in ("search=x&result=1", "search=" + "A" * 16 + "&result=1", "search=" + "A" * 16 + "&result=-1"):
        assert client.get(f"/articles/welcome?{query}").status_code == 200
    assert clicks(app) == []


def test_an_agents_click_is_recorded_from_the_workspace(app: Flask, client: FlaskClient, token: str) -> None:
    sign_in(client)
    page = client.get("/agent/?q=refund+escalation").get_data(as_text=True)
    link = re.search(r'<h2><a href="(/agent/articles/[^"]+)">', page)
    assert link is not None and "search=" in link.group(1)
    assert client.get(link.group(1).replace("&amp;", "&").partition("#")[0]).status_code == 200
    assert len(clicks(app)) == 1


def test_with_the_log_off_nothing_is_recorded_and_links_are_plain(make_app: AppFactory) -> None:
    app = make_app(search_log=False)
    client = app.test_client()
    assert "search=" not in client.get("/search?q=reset+password").get_data(as_text=True)
    assert client.get("/api/search?q=invoice").get_json()["search_token"] is None
    assert app.extensions["kb_search_log"] is None


def test_a_database_outage_never_fails_a_search_or_an_article(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    settings = dataclasses.replace(built_settings, database_url=refusing_url())
    app = create_app({"TESTING": True, "KB_SETTINGS": settings, "KB_EMBEDDER": fake_embedder})
    client = app.test_client()
    for _ in range(3):
        assert client.get("/search?q=reset+password").status_code == 200
        assert client.get("/api/search?q=invoice").status_code == 200
        assert client.get("/articles/reset-password?search=" + "A" * 16 + "&result=1").status_code == 200
    log = app.extensions["kb_search_log"]
    log.close(2)
    assert log.written == 0 and log.dropped == 12  # 6 searches, 3 clicks, 3 views: counted, never raised


def test_the_log_is_written_when_the_process_exits(tmp_path: Path) -> None:
    """No close() called: the atexit hook writes what is queued (gunicorn's worker_exit calls the same)."""
    database = tmp_path / "kb.sqlite3"
    script = textwrap.dedent(
        f"""
        from kb.store.database import Storage
        from kb.store.search_log import LoggedSearch, SearchLog
        log = SearchLog(Storage({f"sqlite:///{database}"!r}))
        for number in range(300):
            log.record(LoggedSearch(f"token-{{number}}", "site", "reset password", 1, None, ("welcome",)))
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPOSITORY, check=True, timeout=60)
    from kb.store.database import Storage

    with Storage(f"sqlite:///{database}").session() as session:
        assert len(list(session.scalars(select(SearchRow.token)))) == 300


def test_gunicorn_workers_flush_the_log_when_they_exit() -> None:
    from kb_cli.serve_command import flush_search_log, gunicorn_options

    assert gunicorn_options(Settings())["worker_exit"] is flush_search_log


def test_a_search_answered_from_the_cache_is_logged_each_time_with_its_own_token(
    app: Flask, client: FlaskClient, fake_embedder: FakeEmbedder
) -> None:
    first = client.get("/api/search?q=invoice").get_json()
    calls = fake_embedder.calls
    second = client.get("/api/search?q=invoice&source=instant").get_json()
    page = client.get("/search?q=invoice")
    assert fake_embedder.calls == calls  # answered from the cache
    assert {key: value for key, value in second.items() if key != "search_token"} == {
        key: value for key, value in first.items() if key != "search_token"
    }
    assert first["search_token"] != second["search_token"]
    assert [(row.source, row.token) for row in logged(app)] == [
        ("api", first["search_token"]),
        ("instant", second["search_token"]),
        ("site", re.search(r"search=([A-Za-z0-9_-]{16})", page.get_data(as_text=True))[1]),  # type: ignore[index]
    ]
