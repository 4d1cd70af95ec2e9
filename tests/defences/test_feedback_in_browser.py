"""With JavaScript off, in Chromium against `kb serve`: search, open a result, vote "no", give a reason.

The search, the click on its result (anchor kept), the vote and the reason all reach the database
of the real gunicorn server, which is stopped before the database is read: what its search log
still held is written as the worker exits.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from indexer.build import build_index
from kb.config import Settings
from kb.store.data_folder import database_url
from kb.store.database import Storage
from kb.store.models import SearchClickRow, SearchRow, VoteRow
from tests.conftest import DATA, FakeEmbedder
from tests.defences.processes import serving
from tests.defences.test_xss_in_browser import CHROMIUM, browser_or_skip

pytestmark = pytest.mark.defence


def test_search_click_and_vote_work_with_javascript_off(tmp_path: Path) -> None:
    sync_api = browser_or_skip()
    shutil.copytree(DATA / "help_center", tmp_path / "articles")
    settings = Settings(articles=tmp_path / "articles", index=tmp_path / "index", data=tmp_path / "data")
    build_index(settings, FakeEmbedder(), show_progress=False)
    with (
        serving(settings.articles, settings.index, tmp_path / "server.log") as base_url,
        sync_api.sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_context(base_url=base_url, java_script_enabled=False).new_page()
        page.goto("/search?q=reset+password")
        page.get_by_role("link", name="Reset your password").first.click()
        assert page.url.startswith(f"{base_url}/articles/reset-password?search=")
        assert page.url.endswith("&result=1#request-a-reset-link")
        page.get_by_role("button", name="No").click()
        assert page.url == f"{base_url}/articles/reset-password/feedback?answer=no"
        assert (
            page.get_by_role("link", name="contact our support team").get_attribute("href")
            == "/contact?from=reset-password"
        )
        page.get_by_label("It's out of date").check()
        page.get_by_label("How could we improve this article?").fill("The button is now called Forgot password.")
        page.get_by_role("button", name="Send").click()
        assert "passed that on" in page.content()
        page.get_by_role("link", name="Back to").click()
        assert page.url == f"{base_url}/articles/reset-password"
        browser.close()
    with Storage(database_url(settings)).session() as session:
        votes = [(row.slug, row.helpful, row.reason, row.comment) for row in session.scalars(select(VoteRow))]
        searches = list(session.scalars(select(SearchRow)))
        opened = [(row.slug, row.section, row.position) for row in session.scalars(select(SearchClickRow))]
    assert votes == [("reset-password", False, "outdated", "The button is now called Forgot password.")]
    assert [(row.source, row.query) for row in searches] == [("site", "reset password")]
    assert json.loads(searches[0].top_results)[0] == "reset-password#request-a-reset-link"
    assert opened == [("reset-password", "request-a-reset-link", 1)]
