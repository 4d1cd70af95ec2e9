"""The shipped sample help center served by `kb serve` (fake embedder) and opened in Debian's Chromium.

Shared by the browser tests (tests/web/conftest.py offers the fixtures): one server per test module,
a Chromium per test with the site's CSP enforced, every CSP violation, console error and uncaught
exception recorded, and screenshots written under `test-artifacts/screenshots` (or `$KB_TEST_ARTIFACTS/screenshots`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from indexer.build import build_index
from kb.config import Settings
from kb.store.data_folder import database_url
from kb.store.database import Storage
from tests.conftest import AGENT_NAME, AGENT_PASSWORD, REPOSITORY, SAMPLE_ARTICLES, FakeEmbedder
from tests.defences.processes import serving

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 375, "height": 812}
NARROWEST = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 900}
VIOLATION = "csp-violation:"


def artifacts() -> Path:
    folder = Path(os.environ.get("KB_TEST_ARTIFACTS") or REPOSITORY / "test-artifacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sync_api_or_skip() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is missing: pip install -e '.[test]'"
    )


@pytest.fixture(scope="module")
def sample_site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample help center (with an agent account) served by gunicorn on a free port."""
    root = tmp_path_factory.mktemp("browser")
    settings = Settings(articles=SAMPLE_ARTICLES, index=root / "index", data=root / "data")
    report = build_index(settings, FakeEmbedder(), show_progress=False)
    assert not report.errors, report.errors
    Storage(database_url(settings)).add_agent(AGENT_NAME, AGENT_PASSWORD)
    with serving(settings.articles, settings.index, root / "server.log", KB_DATA=str(settings.data)) as url:
        yield url


@dataclass
class Troubles:
    """What must never happen on a page: a blocked resource or script, a console error, an exception."""

    found: list[str] = field(default_factory=list)


class Chromium:
    """Playwright's Chromium (Debian's binary) with one context; `new_page` opens pages in it."""

    def __init__(self, sync_api: Any, base_url: str) -> None:
        self.manager = sync_api.sync_playwright()
        self.playwright = self.manager.__enter__()
        self.browser = self.playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        self.base_url = base_url
        self.troubles = Troubles()
        self.contexts: list[Any] = []

    def new_page(self, viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
        context = self.browser.new_context(base_url=self.base_url, viewport=viewport, **options)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.base_url)
        context.expose_function("__violation", lambda text: self.troubles.found.append(f"{VIOLATION} {text}"))
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', (event) =>"
            " window.__violation(location.pathname + ' ' + event.violatedDirective + ' ' + event.blockedURI))"
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.troubles.found.append(f"{page.url}: {error}"))

        def console(message: Any) -> None:
            # 404 pages are asked for on purpose; Chromium logs their status.
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                self.troubles.found.append(f"{page.url}: console {message.text}")

        page.on("console", console)
        return page

    def sign_in(self, page: Any) -> None:
        page.goto("/agent/sign-in")
        page.fill("input[name=name]", AGENT_NAME)
        page.fill("input[name=password]", AGENT_PASSWORD)
        with page.expect_navigation():
            page.click("form.stacked-form button[type=submit]")
        assert page.url.endswith("/agent/"), page.url

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.browser.close()
        self.manager.__exit__(None, None, None)


@pytest.fixture
def chromium(sample_site_url: str) -> Iterator[Chromium]:
    sync_api = sync_api_or_skip()
    browser = Chromium(sync_api, sample_site_url)
    try:
        yield browser
    finally:
        browser.close()
    assert browser.troubles.found == [], browser.troubles.found


def expect(locator: Any) -> Any:
    """Playwright's waiting assertions (which, unlike `wait_for_function`, need no eval the CSP forbids)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def overflowing_text(page: Any) -> list[str]:
    """Text elements whose right edge passes the viewport's (only code and tables may scroll inside)."""
    found: list[str] = page.evaluate(
        """() => {
          const root = document.documentElement;
          const width = root.clientWidth;
          const found = [];
          if (root.scrollWidth > width) found.push(`page ${root.scrollWidth}px`);
          for (const element of document.querySelectorAll("p, li, h1, h2, h3, pre, table, nav, header, form")) {
            const box = element.getBoundingClientRect();
            if (box.width && box.right > width + 0.5) found.push(`${element.tagName} ${Math.round(box.right)}px`);
          }
          return found;
        }"""
    )
    return found
