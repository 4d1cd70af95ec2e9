"""The numbers an operator may change come from the settings: suggestion count, sign-in limit, warnings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import AGENT_NAME, AGENT_PASSWORD, AppFactory, FakeEmbedder, csrf_from, sign_in
from web import create_app

MESSAGE = "Hi team,\n\nthe refund escalation needs the Admin Console, and my invoice never arrived.\n\nThanks,\nBo"


def test_suggest_without_k_gives_the_configured_number_of_articles(make_app: AppFactory) -> None:
    app = make_app(suggest_results=2)
    token = app.extensions["kb_storage"].add_agent(AGENT_NAME, AGENT_PASSWORD)[1]
    client = app.test_client()
    response = client.post("/api/suggest", headers={"Authorization": f"Bearer {token}"}, json={"text": MESSAGE})
    assert response.status_code == 200
    assert len(response.get_json()["results"]) == 2
    document = client.get("/api/openapi.json").get_json()
    assert document["components"]["schemas"]["SuggestRequest"]["properties"]["k"]["default"] == 2
    sign_in(client)
    page = client.post(
        "/agent/suggest",
        data={"message": MESSAGE, "csrf_token": csrf_from(client.get("/agent/suggest").get_data(as_text=True))},
    )
    assert page.get_data(as_text=True).count('<li class="result"') == 2


def test_sign_in_attempts_are_limited_to_the_configured_number(make_app: AppFactory) -> None:
    app = make_app(sign_in_attempts_per_minute=3)
    app.extensions["kb_storage"].add_agent(AGENT_NAME, AGENT_PASSWORD)
    client = app.test_client()
    assert [sign_in(client, password="guess").status_code for _ in range(4)] == [401, 401, 401, 429]


def test_the_server_logs_a_misspelled_variable(
    tmp_path: Path,
    articles_dir: Path,
    fake_embedder: FakeEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("KB_ARTICLES", str(articles_dir))
    monkeypatch.setenv("KB_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("KB_SECURE_COOKIE", "true")
    monkeypatch.setenv("KB_TEST_REDIS_URL", "redis://127.0.0.1:6379")
    with caplog.at_level(logging.WARNING):
        app = create_app({"TESTING": True, "KB_EMBEDDER": fake_embedder})
    assert app.config["KB_SETTINGS"].index == tmp_path / "index"
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == ["KB_SECURE_COOKIE is not a kb setting; did you mean KB_SECURE_COOKIES?"]
