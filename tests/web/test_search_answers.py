"""The sample help center as a customer searches it: no confident answer, the answer card, spelling, the API."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from kb.config import Settings
from kb.index.embedder import SentenceTransformerEmbedder
from tests.conftest import AppFactory
from tests.web.test_openapi import schema_validator

pytestmark = pytest.mark.slow

NO_ANSWER = "We couldn't find a confident answer to “{}”."
RESET_STEPS = (
    "<ol>\n<li>Go to the sign-in page at app.ledgerly.com and click <strong>Forgot password?</strong></li>\n"
    "<li>Enter the email address you use for Ledgerly and click <strong>Send reset link</strong>.</li>\n"
)


@pytest.fixture(scope="module")
def sample_client(sample_settings: Settings, real_embedder: SentenceTransformerEmbedder) -> FlaskClient:
    from tests.conftest import app_for

    return app_for(sample_settings, real_embedder).test_client()


def page_of(client: FlaskClient, query: str) -> str:
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def results_of(page: str) -> list[str]:
    return re.findall(r'<li class="result">.*?</li>', page, re.S)


@pytest.mark.parametrize("query", ["qwzx plorf", "xyzzy foobar"])
def test_nonsense_gets_the_no_answer_page_with_three_related_articles_and_the_contact_form(
    sample_client: FlaskClient, query: str
) -> None:
    page = page_of(sample_client, query)
    assert NO_ANSWER.format(query) in page
    assert '<h2 class="related-heading">These might be related</h2>' in page
    assert len(results_of(page)) == 3
    assert f'<a href="/contact?q={query.replace(" ", "+")}">Contact us</a>' in page
    assert "Showing results for" not in page  # "xyzzy foobar" was once searched as "xyzzy footer"
    assert "footer" not in page.split("<main", 1)[1].split('<ol class="results">')[0]
    assert 'class="answer-card"' not in page
    body = sample_client.get("/api/search", query_string={"q": query}).get_json()
    assert (body["query"], body["confident"], body["answer_card"]) == (query, False, None)
    assert len(body["results"]) == 10  # the API still lists what it found, each marked not confident
    assert all(result["confidence"] < 0.5 for result in body["results"])


def test_a_customer_s_business_name_is_neither_corrected_nor_answered(sample_client: FlaskClient) -> None:
    """ "Maria's Bakery" used to show "Showing results for Maria's Bakery" (the corrector turned
    "marias" into "varies" and then failed to replace "Maria's"), above ten confident-looking results."""
    page = page_of(sample_client, "Maria's Bakery")
    assert "<title>Maria&#39;s Bakery · Search · Ledgerly Help Center</title>" in page
    assert NO_ANSWER.format("Maria&#39;s Bakery") in page
    assert "&amp;#39;" not in page and "&amp;amp;" not in page  # escaped once, shown as an apostrophe
    assert "Showing results for" not in page and "varies" not in page
    assert len(results_of(page)) == 3
    assert '<a href="/contact?q=Maria&#39;s+Bakery">Contact us</a>' in page
    body = sample_client.get("/api/search", query_string={"q": "Maria's Bakery", "k": 3}).get_json()
    assert (body["query"], body["confident"], body["answer_card"]) == ("Maria's Bakery", False, None)
    unspelt = page_of(sample_client, "Marias Bakery")  # without the apostrophe "marias" is still corrected...
    assert "Showing results for" not in unspelt  # ...but "varies bakery" answers nothing, so it is not kept
    assert NO_ANSWER.format("Marias Bakery") in unspelt


def test_a_plain_question_is_answered_by_a_card_at_the_right_section(sample_client: FlaskClient) -> None:
    page = page_of(sample_client, "I forgot my password")
    card = re.search(r'<section class="answer-card".*?</section>', page, re.S)
    assert card is not None
    assert (
        '<h2 id="answer-card-title"><a href="/articles/reset-your-password#request-a-reset-link">'
        "Request a reset link</a></h2>" in card.group(0)
    )
    assert '<a href="/articles/reset-your-password#request-a-reset-link">Reset your password</a>' in card.group(0)
    assert RESET_STEPS in card.group(0)
    assert page.index("answer-card") < page.index('<ol class="results">')
    assert "10 articles for “I forgot my password”" in page
    assert "These might be related" not in page
    body = sample_client.get("/api/search", query_string={"q": "I forgot my password", "k": 3}).get_json()
    assert body["confident"] is True
    assert body["results"][0]["confidence"] == 1.0
    assert {key: value for key, value in body["answer_card"].items() if key != "html"} == {
        "slug": "reset-your-password",
        "title": "Reset your password",
        "section": "Request a reset link",
        "url": "/articles/reset-your-password#request-a-reset-link",
    }
    assert body["answer_card"]["html"].startswith(RESET_STEPS)
    document = sample_client.get("/api/openapi.json").get_json()
    schema_validator(document, "/components/schemas/SearchResponse").validate(body)  # the card's schema too


def test_showing_results_for_only_when_the_correction_changed_the_search(sample_client: FlaskClient) -> None:
    page = page_of(sample_client, "pasword reset email never arrives")
    assert "Showing results for <strong>password reset email never arrives</strong>." in page
    assert "/articles/reset-your-password#the-reset-email-never-arrives" in page
    assert "Showing results for" not in page_of(sample_client, "password reset email never arrives")
    card = sample_client.get("/api/search", query_string={"q": "pasword reset email never arrives"}).get_json()
    assert card["answer_card"]["url"] == "/articles/reset-your-password#the-reset-email-never-arrives"
    # The card must answer the query as written too: "delet my acount and data" is too far from the
    # introduction of "delete-your-account" before correction, so that answer stays a plain result.
    guessed = sample_client.get("/api/search", query_string={"q": "delet my acount and data"}).get_json()
    assert (guessed["confident"], guessed["answer_card"]) == (True, None)
    assert guessed["results"][0]["slug"] == "delete-your-account"
    assert "Showing results for <strong>delete my account and data</strong>." in page_of(
        sample_client, "delet my acount and data"
    )


def test_internal_articles_never_make_a_public_card(
    make_app: AppFactory, sample_settings: Settings, real_embedder: SentenceTransformerEmbedder
) -> None:
    client = make_app(sample_settings, embedder=real_embedder).test_client()
    body = client.get("/api/search", query_string={"q": "how do we handle a chargeback dispute"}).get_json()
    assert "handling-chargebacks" not in {result["slug"] for result in body["results"]}
    assert body["answer_card"] is None or body["answer_card"]["slug"] != "handling-chargebacks"
