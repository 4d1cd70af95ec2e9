"""Suggest for a ticket, with the real model: whole customer emails find the article to send first."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from markupsafe import escape

from kb.config import Settings
from kb.index.embedder import SentenceTransformerEmbedder
from tests.conftest import AGENT_NAME, AGENT_PASSWORD, DATA, app_for, bearer_headers, csrf_from, sign_in
from tests.web.test_openapi import check_against_document

EMAILS = yaml.safe_load((DATA / "customer_emails.yaml").read_text(encoding="utf-8"))
ONE_PROBLEM = [email for email in EMAILS if "answers" not in email]
TWO_PROBLEMS = [email for email in EMAILS if "answers" in email]


@pytest.fixture(scope="module")
def agent_api(
    sample_settings: Settings, real_embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> tuple[FlaskClient, dict[str, str]]:
    """A client of the sample help center with the real model, and the headers of an agent's API token."""
    database = tmp_path_factory.mktemp("db") / "kb.sqlite3"
    app = app_for(dataclasses.replace(sample_settings, database_url=f"sqlite:///{database}"), real_embedder)
    return app.test_client(), bearer_headers(app)


def test_there_are_at_least_ten_emails_and_five_with_two_problems() -> None:
    assert len(ONE_PROBLEM) >= 10
    assert len(TWO_PROBLEMS) >= 5
    for email in TWO_PROBLEMS:
        assert len(email["answers"]) == 2
        for sentence in email["answers"].values():
            assert sentence in " ".join(email["message"].split()), sentence


@pytest.mark.slow
@pytest.mark.parametrize("email", ONE_PROBLEM, ids=[email["expect"] for email in ONE_PROBLEM])
def test_a_pasted_email_suggests_the_right_article_first(
    agent_api: tuple[FlaskClient, dict[str, str]], email: dict[str, str]
) -> None:
    client, headers = agent_api
    response = client.post("/api/suggest", headers=headers, json={"text": email["message"], "k": 3})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert results[0]["slug"] == email["expect"], [result["slug"] for result in results]
    assert results[0]["url"].startswith(f"/articles/{email['expect']}")
    assert results[0]["visibility"] == "public"


@pytest.mark.slow
@pytest.mark.parametrize("email", TWO_PROBLEMS, ids=[email["expect"] for email in TWO_PROBLEMS])
def test_an_email_with_two_problems_suggests_an_article_for_each_marked_with_its_sentence(
    agent_api: tuple[FlaskClient, dict[str, str]], email: dict[str, Any]
) -> None:
    client, headers = agent_api
    response = client.post("/api/suggest", headers=headers, json={"text": email["message"], "k": 3})
    assert response.status_code == 200
    document = client.get("/api/openapi.json").get_json()
    check_against_document(document, "/api/suggest", "post", response)  # `answers` as a string, not only null
    results = response.get_json()["results"]
    answers = {result["slug"]: result["answers"] for result in results}
    assert len(answers) == len(results) == 3
    for slug, sentence in email["answers"].items():
        assert slug in answers, [result["slug"] for result in results]
        assert answers[slug] == sentence


@pytest.mark.slow
def test_searching_with_a_long_message_answers_each_problem(agent_api: tuple[FlaskClient, dict[str, str]]) -> None:
    client, _ = agent_api
    email = next(email for email in TWO_PROBLEMS if email["expect"] == "two-invoice-email-and-pdf")
    question = " ".join(email["answers"].values())
    response = client.get("/api/search", query_string={"q": question, "k": 3})
    assert response.status_code == 200
    check_against_document(client.get("/api/openapi.json").get_json(), "/api/search", "get", response)
    answers = {result["slug"]: result["answers"] for result in response.get_json()["results"]}
    assert {slug: answers.get(slug) for slug in email["answers"]} == email["answers"]
    single = client.get("/api/search", query_string={"q": "invoice emails never arrive", "k": 3}).get_json()
    assert [result["answers"] for result in single["results"]] == [None, None, None]


@pytest.mark.slow
def test_the_suggest_page_shows_the_sentence_each_article_answers(
    agent_api: tuple[FlaskClient, dict[str, str]],
) -> None:
    app = agent_api[0].application
    with app.app_context():
        app.extensions["kb_storage"].add_agent(AGENT_NAME, AGENT_PASSWORD)
    client = app.test_client()
    assert sign_in(client).status_code == 302
    email = next(email for email in TWO_PROBLEMS if email["expect"] == "two-refund-and-login")
    form = csrf_from(client.get("/agent/suggest").get_data(as_text=True))
    page = client.post("/agent/suggest", data={"message": email["message"], "csrf_token": form}).get_data(as_text=True)
    for sentence in email["answers"].values():
        assert f"Answers: <q>{escape(sentence)}</q>" in page
