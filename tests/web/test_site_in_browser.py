"""The public site and the workspace in a real browser: search, instant search by keyboard, layout at every
width, dark mode, print, helpful 404s, copy buttons, the agent article view. The CSP is enforced throughout
and any violation, console error or script exception fails the test (see browser_site.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.browser_site import (
    DESKTOP,
    NARROWEST,
    PHONE,
    Chromium,
    artifacts,
    expect,
    overflowing_text,
)

pytestmark = pytest.mark.browser
WIDE_ARTICLES = ["set-up-webhooks", "create-api-keys", "compare-plans"]  # code and tables wider than a phone


def test_search_from_the_home_page_works_without_javascript(chromium: Chromium) -> None:
    page = chromium.new_page(java_script_enabled=False)
    page.goto("/")
    page.fill("#q", "how do I get a refund")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/search?q=how+do+I+get+a+refund" in page.url
    titles = page.locator(".result h2 a").all_inner_texts()
    assert "Refund policy for Ledgerly subscriptions" in titles[:3], titles
    assert page.locator("[role=listbox]").count() == 0  # no combobox without JavaScript


def test_instant_search_with_the_keyboard_only(chromium: Chromium) -> None:
    page = chromium.new_page()
    page.goto("/articles/welcome-to-ledgerly")
    page.keyboard.press("/")
    box = page.locator("#header-q")
    assert page.evaluate("document.activeElement.id") == "header-q"
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.type("refund policy")
    listbox = page.locator("#" + str(box.get_attribute("aria-controls")))
    listbox.locator("[role=option]").first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    options = listbox.locator("[role=option]")
    assert options.count() >= 2  # results, then "See all results"
    assert "Refund policy for Ledgerly subscriptions" in options.first.inner_text()
    expect(page.locator("#announcer")).to_have_text(re.compile(r"^\d+ articles? found; use the up and down arrows"))
    page.keyboard.press("ArrowDown")
    first_id = options.first.get_attribute("id")
    assert box.get_attribute("aria-activedescendant") == first_id
    assert options.first.get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowUp")  # wraps to the last option, "See all results"
    assert box.get_attribute("aria-activedescendant") == options.last.get_attribute("id")
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == first_id
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false" and listbox.is_hidden()
    page.keyboard.press("ArrowDown")
    target = str(options.first.get_attribute("data-url"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(target), (page.url, target)
    assert "#" in target  # the result opens at its section, which is on screen
    anchor = target.split("#", 1)[1]
    top = page.evaluate(f"document.getElementById({anchor!r}).getBoundingClientRect().top")
    assert 0 <= top < DESKTOP["height"] / 2


def tabs_to(page: Any, selector: str, most: int = 30) -> int:
    """How many Tab presses from the top of the page bring the keyboard focus to `selector`'s first element."""
    for presses in range(1, most + 1):
        page.keyboard.press("Tab")
        if page.locator(selector).first.evaluate("(element) => element === document.activeElement"):
            return presses
    return most + 1


def test_the_first_result_is_one_tab_away_on_a_results_page(chromium: Chromium) -> None:
    """The issue counted five Tabs from the top of a results page to its first result."""
    page = chromium.new_page()
    page.goto("/search?q=refund+policy")
    assert tabs_to(page, ".result h2 a") == 1  # the page starts the keyboard at its heading


def test_results_appear_while_typing_and_one_arrow_key_selects_the_first(chromium: Chromium) -> None:
    """The issue: no instant search; the home page's box has the focus, so typing starts it."""
    page = chromium.new_page()
    page.goto("/")
    page.keyboard.type("refund policy")
    first = page.locator("#instant-results-0 [role=option]").first
    expect(first).to_be_visible(timeout=5000)
    page.keyboard.press("ArrowDown")
    expect(page.locator("#q")).to_have_attribute("aria-activedescendant", str(first.get_attribute("id")))


def test_control_k_focuses_search_from_any_page_and_enter_without_a_choice_submits(chromium: Chromium) -> None:
    page = chromium.new_page()
    for path, box in (("/categories/billing-and-plans", "header-q"), ("/", "q")):
        page.goto(path)
        page.locator("h1").click()
        page.keyboard.press("Control+k")
        assert page.evaluate("document.activeElement.id") == box, path
    page.keyboard.type("cancel subscription")
    page.locator("#instant-results-0 [role=option]").first.wait_for()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/search?q=cancel+subscription" in page.url


@pytest.mark.parametrize("viewport", [PHONE, NARROWEST], ids=["375px", "320px"])
def test_articles_with_wide_code_and_tables_reflow_on_a_phone(chromium: Chromium, viewport: dict[str, int]) -> None:
    page = chromium.new_page(viewport)
    for slug in WIDE_ARTICLES:
        page.goto(f"/articles/{slug}")
        assert overflowing_text(page) == [], slug
        scrollers = page.evaluate(
            """() => [...document.querySelectorAll('.article-body pre, .article-body table')]
                 .filter((element) => element.scrollWidth > element.clientWidth)
                 .map((element) => element.tabIndex)"""
        )
        assert scrollers and set(scrollers) == {0}, (slug, scrollers)  # they scroll, and the keyboard reaches them


def test_on_a_phone_the_title_comes_first_and_related_articles_follow(chromium: Chromium) -> None:
    page = chromium.new_page(PHONE)
    page.goto("/articles/refund-policy")
    title_top = page.locator("h1").bounding_box()["y"]
    assert title_top < 250, title_top
    assert page.locator(".toc details").evaluate("(details) => details.open") is False
    page.locator(".toc summary").click()
    assert page.locator(".toc details").evaluate("(details) => details.open") is True
    body_bottom = page.locator(".article-body").bounding_box()
    related_top = page.locator(".related").bounding_box()["y"]
    assert related_top > body_bottom["y"] + body_bottom["height"]
    page.screenshot(path=artifacts() / "article-375.png", full_page=True)


def test_wide_screens_mark_the_heading_being_read_and_link_neighbours(chromium: Chromium) -> None:
    page = chromium.new_page(DESKTOP)
    page.goto("/articles/set-up-webhooks")
    assert page.locator(".toc details").evaluate("(details) => details.open") is True
    links = page.locator(".toc a")
    last = links.last
    anchor = str(last.get_attribute("href")).lstrip("#")
    page.evaluate(f"document.getElementById({anchor!r}).scrollIntoView()")
    expect(last).to_have_attribute("aria-current", "true")
    assert page.locator(".toc a[aria-current=true]").count() == 1
    pager = page.locator(".pager a")
    assert pager.count() >= 1
    for href in pager.evaluate_all("(links) => links.map((link) => link.getAttribute('href'))"):
        assert href.startswith("/articles/")
    page.screenshot(path=artifacts() / "article-1280.png", full_page=True)


def test_copy_buttons_on_code_blocks_copy_the_code_and_say_so(chromium: Chromium) -> None:
    page = chromium.new_page()
    page.goto("/articles/set-up-webhooks")
    block = page.locator(".code-block").first
    code = block.locator("pre").inner_text().rstrip("\n")
    button = block.locator("button.copy-code")
    button.click()
    button.click()  # twice quickly: the label must still come back
    assert button.inner_text() == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == code
    expect(page.locator("#announcer")).to_have_text("Copied to the clipboard")
    expect(button).to_have_text("Copy code", timeout=4000)


def test_dark_mode_follows_the_system_and_the_toggle_persists(chromium: Chromium) -> None:
    background = "getComputedStyle(document.body).backgroundColor"
    dark = chromium.new_page(color_scheme="dark")
    dark.goto("/")
    assert dark.evaluate(background) == "rgb(18, 21, 28)"
    assert dark.locator(".theme-toggle").get_attribute("aria-pressed") == "true"
    light = chromium.new_page(color_scheme="light")
    light.goto("/articles/compare-plans")
    assert light.evaluate(background) == "rgb(255, 255, 255)"
    light.locator(".theme-toggle").click()
    assert light.evaluate(background) == "rgb(18, 21, 28)"
    light.goto("/search?q=invoice")  # another page: the choice was kept
    assert light.evaluate("document.documentElement.dataset.theme") == "dark"
    assert light.evaluate(background) == "rgb(18, 21, 28)"
    assert light.locator(".theme-toggle").get_attribute("aria-pressed") == "true"
    light.screenshot(path=artifacts() / "results-dark-1280.png")


def test_print_shows_the_article_alone_with_link_addresses(chromium: Chromium) -> None:
    page = chromium.new_page()
    page.goto("/articles/compare-plans")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".toc", ".related", ".breadcrumbs"):
        assert page.locator(hidden).evaluate("(element) => getComputedStyle(element).display") == "none", hidden
    shown = page.locator(".article-body a[href^='/articles/']").first
    after = shown.evaluate("(link) => getComputedStyle(link, '::after').content")
    assert after == '" (" attr(href) ")"' or after.startswith('" (/articles/'), after


def test_missing_pages_are_friendly_and_suggest_articles(chromium: Chromium) -> None:
    page = chromium.new_page()
    response = page.goto("/nope/whatever")
    assert response.status == 404
    text = page.locator("main").inner_text()
    assert "Page not found" in text and "We couldn't find that page" in text
    assert "requested URL" not in text and "spelling" not in text  # none of Werkzeug's developer text
    response = page.goto("/articles/reset-your-pasword")
    assert response.status == 404
    suggestions = page.locator(".suggestions a").all_inner_texts()
    assert "Reset your password" in suggestions[:3], suggestions
    assert page.locator("#error-q").input_value() == "reset your pasword"
    assert page.locator("[role=search]").count() == 1


def test_agent_article_view_keeps_links_in_the_workspace(chromium: Chromium) -> None:
    page = chromium.new_page()
    chromium.sign_in(page)
    page.goto("/agent/?q=refund+request")
    page.locator(".result h2 a", has_text="handling subscription refund requests").click()
    page.wait_for_url("**/agent/articles/handling-refund-requests*")
    assert page.locator(".agent-nav").is_visible()
    assert page.locator("#header-q").count() == 0  # the workspace's header, not the public one
    article_links = page.locator(".article-body a[href*='/articles/']").evaluate_all(
        "(links) => links.map((link) => link.getAttribute('href'))"
    )
    assert article_links and all(href.startswith("/agent/articles/") for href in article_links), article_links
    page.locator(".article-body a[href^='/agent/articles/']").first.click()
    page.wait_for_load_state()
    assert "/agent/articles/" in page.url and page.locator("h1").is_visible()
    page.go_back()
    with page.expect_navigation():
        page.locator(".back-link a").click()
    assert page.url.endswith("/agent/?q=refund+request"), page.url


def test_an_agent_copy_button_comes_back_after_two_quick_clicks(chromium: Chromium) -> None:
    """The issue: two quick clicks left the button at "Copied" for good (the second timer was lost)."""
    page = chromium.new_page()
    chromium.sign_in(page)
    page.goto("/agent/?q=invoice+reminders")  # another article than the test below counts the copies of
    button = page.locator(".result button.copy[data-action=copy_link]").first
    button.click()
    button.click()
    expect(button).to_have_text("Copied")
    expect(button).to_have_text("Copy link", timeout=4000)


def test_agent_copy_buttons_reset_are_announced_and_counted(chromium: Chromium) -> None:
    page = chromium.new_page()
    chromium.sign_in(page)
    page.goto("/agent/?q=refund+policy")
    button = page.locator(".result button.copy[data-action=copy_link]").first
    slug = button.evaluate("(button) => button.closest('.result').dataset.slug")
    with page.expect_response(lambda response: response.url.endswith("/agent/track")) as first:
        button.click()
    with page.expect_response(lambda response: response.url.endswith("/agent/track")) as second:
        button.click()
    assert first.value.status == second.value.status == 201
    assert page.evaluate("navigator.clipboard.readText()").split("#")[0].endswith(f"/articles/{slug}")
    expect(page.locator("#announcer")).to_have_text("Copied to the clipboard")
    expect(button).to_have_text("Copy link", timeout=4000)
    page.screenshot(path=artifacts() / "workspace-1280.png", full_page=True)
    page.goto("/agent/most-linked")
    rows = page.locator("tbody tr").all_inner_texts()
    assert any(row.split("\t")[-1].strip() == "2" for row in rows), rows


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_workspace_shows_its_drafts_checkbox_and_keeps_the_toggle_beside_the_name(
    chromium: Chromium, viewport: dict[str, int]
) -> None:
    """Seen on the screenshots: the checkbox had the search field's flexible width (0 px), and at 1280 px the
    workspace's tabs pushed the light/dark toggle onto a line of its own."""
    page = chromium.new_page(viewport)
    chromium.sign_in(page)
    page.goto("/agent/?q=refund")
    checkbox = page.locator(".checkbox input").bounding_box()
    assert checkbox["width"] >= 12 and checkbox["height"] >= 12, checkbox
    page.locator(".checkbox input").check()
    assert page.locator(".checkbox input").is_checked()
    if viewport == DESKTOP:
        brand, toggle = page.locator(".brand").bounding_box(), page.locator(".theme-toggle").bounding_box()
        assert abs((toggle["y"] + toggle["height"] / 2) - (brand["y"] + brand["height"] / 2)) < 8, (brand, toggle)


@pytest.mark.parametrize(
    ("name", "path", "agent"),
    [
        ("home", "/", False),
        ("results", "/search?q=invoice+email+not+delivered", False),
        ("workspace", "/agent/?q=refund", True),
    ],
)
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_screenshots_of_the_main_pages(chromium: Chromium, name: str, path: str, agent: bool, viewport: Any) -> None:
    page = chromium.new_page(viewport)
    if agent:
        chromium.sign_in(page)
    page.goto(path)
    assert overflowing_text(page) == [], path
    page.screenshot(path=artifacts() / f"{name}-{viewport['width']}.png", full_page=True)
