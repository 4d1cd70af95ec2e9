"""Suggest for a ticket, with the real model: whole customer emails find the article to send first."""

from __future__ import annotations

import pytest
import yaml

from kb.config import Settings
from tests.conftest import DATA
from web import create_app

EMAILS = yaml.safe_load((DATA / "customer_emails.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def agent_client(sample_settings: Settings, real_embedder, tmp_path_factory):  # type: ignore[no-untyped-def]
    import dataclasses

    settings = dataclasses.replace(
        sample_settings, database_url=f"sqlite:///{tmp_path_factory.mktemp('db') / 'kb.sqlite3'}"
    )
    app = create_app({"TESTING": True, "KB_SETTINGS": settings, "KB_EMBEDDER": real_embedder})
    with app.app_context():
        token = app.extensions["kb_storage"].add_agent("tester")[1]
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def test_there_are_at_least_ten_emails() -> None:
    assert len(EMAILS) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("email", EMAILS, ids=[email["expect"] for email in EMAILS])
def test_a_pasted_email_suggests_the_right_article_first(agent_client, email: dict) -> None:  # type: ignore[no-untyped-def]
    client, headers = agent_client
    response = client.post("/api/suggest", headers=headers, json={"text": email["message"], "k": 3})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert results[0]["slug"] == email["expect"], [result["slug"] for result in results]
    assert results[0]["url"].startswith(f"/articles/{email['expect']}")
    assert results[0]["visibility"] == "public"
