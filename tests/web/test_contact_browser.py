"""The contact form in Chromium: sent with JavaScript off (through "check these first"), live suggestions with it on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from kb.store.contact import form_events
from kb.store.models import ContactRequestRow
from tests.conftest import AppFactory

pytestmark = pytest.mark.defence

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def site(make_app: AppFactory) -> Iterator[tuple[Flask, str]]:
    """The site over the small help center, served on a free loopback port by a threaded server."""
    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is missing: pip install -e '.[test]'"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def fill(page: Any, **values: str) -> None:
    for name, value in values.items():
        page.fill(f"#contact-{name}", value)


def requests_of(app: Flask) -> list[ContactRequestRow]:
    with app.extensions["kb_contact_storage"].session() as session:
        return list(session.scalars(select(ContactRequestRow)))


def test_with_javascript_off_the_form_checks_first_then_sends(site: tuple[Flask, str], chromium: Any) -> None:
    app, base_url = site
    context = chromium.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    page.click("text=contact support")
    assert page.url == f"{base_url}/contact"
    page.click("form.contact-form button[type=submit]")
    assert page.inner_text("#contact-name-error") == "Enter your name."
    assert page.get_attribute("#contact-name", "aria-invalid") == "true"
    assert page.get_attribute("#contact-email", "aria-describedby") == "contact-email-hint contact-email-error"
    fill(page, name="Ana Lima", email="ana@example.com", subject="Cannot reset my password")
    fill(page, description="The reset email never arrives, I tried three times.")
    page.click("form.contact-form button[type=submit]")
    assert page.inner_text("#contact-check-heading") == "Check these first"
    assert "Reset your password" in page.inner_text(".contact-check")
    assert page.input_value("#contact-name") == "Ana Lima"  # what was typed is still there
    assert requests_of(app) == []
    page.click("text=Send anyway")
    [stored] = requests_of(app)
    assert page.inner_text(".reference") == stored.reference
    assert '"reset-password"' in stored.suggestions
    context.close()


def test_with_javascript_on_suggestions_appear_while_typing_and_opening_one_is_recorded(
    site: tuple[Flask, str], chromium: Any
) -> None:
    app, base_url = site
    context = chromium.new_context(base_url=base_url)
    violations: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: violations.append(message.text) if "Refused" in message.text else None)
    page.on("pageerror", lambda error: violations.append(str(error)))
    page.goto("/contact")
    assert page.is_hidden("#contact-live")
    page.type("#contact-subject", "reset my password", delay=20)
    page.wait_for_selector("#contact-live-list a")
    assert page.is_visible("#contact-live")
    titles = page.locator("#contact-live-list a").all_inner_texts()
    assert "Reset your password" in titles
    form_token = page.get_attribute("form.contact-form", "data-form")
    with context.expect_page() as opened:
        page.click("#contact-live-list a:text('Reset your password')")
    article = opened.value
    article.wait_for_load_state()
    assert article.url.startswith(f"{base_url}/articles/reset-password")
    storage = app.extensions["kb_contact_storage"]
    assert ("suggestion_opened", "reset-password") in form_events(storage, form_token)
    fill(page, name="Ana Lima", email="ana@example.com", description="Still no reset email after the article's steps.")
    page.click("form.contact-form button[type=submit]")  # suggestions were shown while typing: sent at once
    page.wait_for_selector(".reference")
    [stored] = requests_of(app)
    assert page.inner_text(".reference") == stored.reference and '"reset-password"' in stored.suggestions
    assert violations == []  # no script or style refused by the Content-Security-Policy, no script error
    context.close()
