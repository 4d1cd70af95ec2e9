"""axe-core (bundled by axe-playwright-python, no network) on every page type, light and dark: no serious
or critical violation anywhere, public pages and the agents' workspace alike."""

from __future__ import annotations

import pytest

from tests.web.browser_site import (
    DESKTOP,
    PHONE,
    Chromium,
)

pytestmark = pytest.mark.browser
PUBLIC_PAGES = [
    "/",
    "/categories/billing-and-plans",
    "/articles/compare-plans",
    "/articles/set-up-webhooks",
    "/articles/refund-policy",
    "/search?q=refund",
    "/search?q=zzzz+qqqq",
    "/search",
    "/nope/whatever",
    "/articles/no-such-article",
    "/agent/sign-in",
    "/contact",
]
AGENT_PAGES = [
    "/agent/?q=refund",
    "/agent/suggest",
    "/agent/articles/handling-refund-requests",
    "/agent/most-linked",
]
SERIOUS = {"serious", "critical"}


def serious_violations(page: object) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']][:5]}"
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_every_page_type_has_no_serious_axe_violation(
    chromium: Chromium, scheme: str, viewport: dict[str, int]
) -> None:
    page = chromium.new_page(viewport, color_scheme=scheme)
    found = {}
    for path in PUBLIC_PAGES:
        page.goto(path)
        found[path] = serious_violations(page)
    chromium.sign_in(page)
    for path in AGENT_PAGES:
        page.goto(path)
        found[path] = serious_violations(page)
    assert {path: problems for path, problems in found.items() if problems} == {}
    assert len(found) == len(PUBLIC_PAGES) + len(AGENT_PAGES)


def test_the_axe_check_finds_a_real_violation(chromium: Chromium) -> None:
    """The check itself: a page given an unlabelled field is caught, so a clean run means something."""
    page = chromium.new_page()
    page.goto("/")
    page.evaluate("() => document.querySelector('main').appendChild(document.createElement('input'))")
    assert any(problem.startswith("label (critical)") for problem in serious_violations(page))
