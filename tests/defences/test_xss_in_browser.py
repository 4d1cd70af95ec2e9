"""Cross-site scripting, tried in a real browser: payloads everywhere a writer or a customer can put text.

Every payload calls `__xss(id)` (or opens a dialog) if it runs. The help center is built from
articles whose titles, summaries, tags, questions, headings and bodies, and whose categories'
`_category.yml` titles, are payloads; the site name is one too, and payloads are searched for.
Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) opens every kind of page:
public pages, search results, error pages, the agents' workspace, suggestions and copy buttons,
writer previews with their problem banners, and the JSON API. It runs once with the
Content-Security-Policy bypassed, so escaping and the sanitizer are tested on their own, and once
with it enforced, where a blocked script counts as a payload that got through.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import yaml

from indexer.build import build_index
from kb.config import Settings
from kb.store.data_folder import database_url
from kb.store.database import Storage
from tests.conftest import AGENT_NAME, AGENT_PASSWORD, FakeEmbedder
from tests.defences.processes import serving

pytestmark = pytest.mark.defence

CHROMIUM = Path("/usr/bin/chromium")

# HTML and script-bearing text; {call} becomes `__xss(id)`, {id} the payload's number.
HTML_VECTORS = [
    "<script>{call}</script>",
    '<img src=x onerror="{call}">',
    "<img src=x onerror={call}>",
    '<svg onload="{call}">',
    "<svg><script>{call}</script></svg>",
    '"><img src=x onerror={call}>',
    "'><svg/onload={call}>",
    "</title><script>{call}</script>",
    "</textarea><script>{call}</script>",
    "</script><script>{call}</script>",
    '<iframe srcdoc="<img src=x onerror=parent.{call}>"></iframe>',
    '<iframe src="javascript:parent.{call}"></iframe>',
    '<a href="javascript:{call}">click</a>',
    '<a href="jav&#x09;ascript:{call}">click</a>',
    '<a href="&#106;avascript:{call}">click</a>',
    '<body onload="{call}">',
    '<details open ontoggle="{call}">x</details>',
    '<input autofocus onfocus="{call}">',
    '<video><source onerror="{call}"></video>',
    '<object data="javascript:{call}"></object>',
    '<embed src="javascript:{call}">',
    '<math><mtext><table><mglyph><style><img src=x onerror="{call}">',
    '<noscript><p title="</noscript><img src=x onerror={call}>">',
    '<form><button formaction="javascript:{call}">go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:{call}">',
    '<base href="javascript:{call}//">',
    '<div style="background:url(javascript:{call})">x</div>',
    '<img src="x" onerror="&#x5f;&#x5f;xss({id})">',
    "<scr<script>ipt>{call}</scr</script>ipt>",
    '<svg><a xlink:href="javascript:{call}"><text y="20">x</text></a></svg>',
    '<svg><animate onbegin="{call}" attributeName="x" dur="1s"></animate></svg>',
    '<select autofocus onfocus="{call}"></select>',
    '<x onmouseover="{call}" style="display:block;position:fixed;inset:0">x</x>',
    "<img src=x onerror=alert({id})>",
    "<svg onload=confirm({id})>",
    "{{{{7*191}}}} {{{{config}}}} ${{7*191}}",
]
# Markdown that turns into links, images, admonitions, footnotes, tables and code (article bodies only).
MARKDOWN_VECTORS = [
    "[click me](javascript:{call})",
    "[click me](JaVaScRiPt:{call})",
    "[click me](<javascript:{call}>)",
    "<javascript:{call}>",
    '![pic](x" onerror="{call})',
    "![pic](javascript:{call})",
    "[reference][evil{id}]\n\n[evil{id}]: javascript:{call}",
    '[titled](https://example.com "a\\" onmouseover=\\"{call}")',
    '!!! note "<img src=x onerror={call}>"\n    The body of the note.',
    "`<script>{call}</script>`",
    "```html\n<script>{call}</script>\n```",
    "A footnote[^f{id}].\n\n[^f{id}]: <img src=x onerror={call}>",
    "| a | b |\n|---|---|\n| <img src=x onerror={call}> | <svg onload={call}> |",
    "Term\n:   <img src=x onerror={call}>",
    "*[ABBR]: <img src=x onerror={call}>\n\nABBR in a sentence.",
    "[data](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3MoMSk8L3NjcmlwdD4=)",
    '<details><summary onclick="{call}">s</summary>x</details>',
    "[broken](missing-<svg/onload={call}>.md)",
    "[broken](<img/src/onerror={call}>.md)",
]
# Run in every page: report what should never be there, whether or not it ran.
FIND_DANGER = """() => {
  const found = [];
  const urlAttributes = ["href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
      if (name.startsWith("on")) found.push(`${element.tagName} ${name}=${attribute.value}`);
      if (name === "srcdoc") found.push(`${element.tagName} srcdoc`);
      if (urlAttributes.includes(name) && /^(javascript|vbscript|data:text\\/html)/.test(value)) {
        found.push(`${element.tagName} ${name}=${attribute.value}`);
      }
    }
    if (["IFRAME", "FRAME", "OBJECT", "EMBED", "BASE", "STYLE"].includes(element.tagName)) {
      found.push(element.tagName);
    }
    if (element.tagName === "META" && element.hasAttribute("http-equiv")) found.push("META http-equiv");
  }
  for (const script of document.scripts) {
    const own = new RegExp("^" + location.origin + "/static/[a-z]+[.][0-9a-f]{10}[.]js$");  // fingerprinted
    if (!own.test(script.src) || script.text.trim()) {
      found.push(`SCRIPT ${script.src || script.text.slice(0, 80)}`);
    }
  }
  return found;
}"""
BLOCKED = "blocked by the CSP:"
# What {{7*191}} or {{config}} would show if evaluated; 1337 not as part of a longer number.
TEMPLATE_RESULTS = {"1337": r"(?<!\d)1337(?!\d)", "SECRET_KEY": "SECRET_KEY", "&lt;Config": "&lt;Config"}
BUILD_ID = re.compile(r'data-preview-build="[^"]*"')  # a build's id is its time: it may hold any digits


@dataclass
class Payloads:
    """Every payload placed, by number: where it went and what it was."""

    placed: dict[int, tuple[str, str]] = field(default_factory=dict)

    def add(self, vector: str, place: str) -> str:
        number = len(self.placed) + 1
        text = vector.format(call=f"__xss({number})", id=number)
        self.placed[number] = (place, text)
        return text


def front_matter(**fields: Any) -> str:
    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---\n"


def write_help_center(root: Path, payloads: Payloads) -> list[str]:
    """Categories and articles made of payloads; returns the article slugs."""
    slugs = []
    count = len(HTML_VECTORS)
    for number in range(count):
        category = root / f"category-{number % 4}"
        if not category.exists():
            category.mkdir(parents=True)
            title = payloads.add(HTML_VECTORS[(number * 7) % count], "_category.yml title")
            (category / "_category.yml").write_text(yaml.safe_dump({"title": title}), encoding="utf-8")

        def vector(offset: int, place: str, number: int = number) -> str:
            return payloads.add(HTML_VECTORS[(number + offset) % count], place)

        body = (
            f"Payload article about invoices and refunds.\n\n## {vector(4, 'heading')}\n\nSome text to search.\n\n"
            f"### Second {vector(5, 'heading')}\n\n{vector(6, 'body HTML')}\n\nMore text.\n\n"
            f"{payloads.add(MARKDOWN_VECTORS[number % len(MARKDOWN_VECTORS)], 'body Markdown')}\n\n"
            f"{payloads.add(MARKDOWN_VECTORS[(number + 9) % len(MARKDOWN_VECTORS)], 'body Markdown')}\n\n"
            f"Invoice {vector(7, 'body paragraph')} refund.\n"
        )
        slug = f"payload-{number:02d}"
        fields: dict[str, Any] = {
            "title": vector(0, "title"),
            "summary": vector(1, "summary"),
            "tags": [vector(2, "tag"), "invoice"],
            "questions": [vector(3, "question"), "how do I refund an invoice"],
            "updated": "2026-10-14",
        }
        if number % 6 == 0:
            fields[vector(8, "unknown front-matter key")] = "shown in the preview's problem banner"
        (category / f"{slug}.md").write_text(front_matter(**fields) + body, encoding="utf-8")
        slugs.append(slug)
    return slugs


@dataclass
class Site:
    base_url: str
    payloads: Payloads
    slugs: list[str]
    categories: list[str]
    queries: list[str]
    messages: list[str]
    with_problems: list[str]  # slugs of the articles whose preview shows problem banners
    pages: list[tuple[str, str]] = field(default_factory=list)  # (kind, path), public ones first
    agent_pages: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("xss")
    payloads = Payloads()
    slugs = write_help_center(root / "articles", payloads)
    settings = Settings(articles=root / "articles", index=root / "index", data=root / "data")
    report = build_index(settings, FakeEmbedder(), show_progress=False)
    assert report.article_count == len(slugs), report.errors
    with_problems = sorted({Path(problem.path).stem for problem in report.problems})
    assert len(with_problems) >= 6, report.problems
    Storage(database_url(settings)).add_agent(AGENT_NAME, AGENT_PASSWORD)
    queries = [payloads.add(vector, "search query") + " invoice refund" for vector in HTML_VECTORS]
    messages = [
        f"Hi,\n\n{payloads.add(vector, 'customer message')} my invoice needs a refund.\n\nThanks"
        for vector in HTML_VECTORS[:6]
    ]
    site_name = payloads.add(HTML_VECTORS[1], "KB_SITE_NAME")
    with serving(
        settings.articles, settings.index, root / "server.log", "--preview", KB_SITE_NAME=site_name
    ) as base_url:
        site = Site(
            base_url, payloads, slugs, [f"category-{number}" for number in range(4)], queries, messages, with_problems
        )
        site.pages, site.agent_pages = public_pages(site), agent_pages(site)
        yield site


@dataclass
class Visit:
    """What one browser context saw."""

    executed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # stopped by the CSP, but past escaping and the sanitizer
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dangers: list[str] = field(default_factory=list)
    template_results: list[str] = field(default_factory=list)
    loads: dict[str, int] = field(default_factory=dict)


def browser_or_skip() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is missing: pip install -e '.[test]'"
    )
    return sync_api


def public_pages(site: Site) -> list[tuple[str, str]]:
    pages = [("home", "/")]
    pages += [("category", f"/categories/{slug}") for slug in site.categories]
    pages += [("article", f"/articles/{slug}") for slug in site.slugs]
    pages += [("search results", f"/search?{urlencode({'q': query})}") for query in site.queries]
    pages += [
        ("error", f"/articles/{quote(site.payloads.add(HTML_VECTORS[1], 'URL path'))}"),
        ("error", f"/categories/{quote(site.payloads.add(HTML_VECTORS[3], 'URL path'))}"),
        ("error", f"/search?{urlencode({'q': site.payloads.add(HTML_VECTORS[0], 'over-long query') * 80})}"),
        ("error", f"/search?{urlencode({'q': site.payloads.add(HTML_VECTORS[2], 'request line too long') * 400})}"),
    ]
    pages += [("preview", f"/preview/{slug}") for slug in site.with_problems]
    pages += [
        ("API", f"/api/search?{urlencode({'q': site.queries[0], 'k': 50})}"),
        ("API", f"/api/articles/{site.slugs[0]}"),
        ("API", f"/api/articles/{quote(site.payloads.add(HTML_VECTORS[1], 'API URL path'))}"),
        ("API", "/api/categories"),
        ("API", "/api/openapi.json"),
    ]
    return pages


def agent_pages(site: Site) -> list[tuple[str, str]]:
    pages = [("agent workspace", f"/agent/?{urlencode({'q': query, 'drafts': '1'})}") for query in site.queries[::3]]
    pages += [("agent article", f"/agent/articles/{slug}") for slug in site.slugs[1 :: len(site.slugs) // 6]]
    return pages


class Browser:
    """One Chromium context that records every sign of a payload running, page after page."""

    def __init__(self, playwright: Any, base_url: str, enforce_csp: bool) -> None:
        self.visit = Visit()
        self.browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        self.context = self.browser.new_context(base_url=base_url, bypass_csp=not enforce_csp)
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
        self.context.expose_function("__xss", self.executed)
        self.context.add_init_script(
            "document.addEventListener('securitypolicyviolation', (event) =>"
            f" window.__xss({json.dumps(BLOCKED)} + ' ' + event.violatedDirective + ' ' + event.sample))"
        )
        self.page = self.context.new_page()
        self.page.on("dialog", self.dialog)
        self.page.on("console", self.console)
        self.page.on("pageerror", lambda error: self.visit.page_errors.append(f"{self.page.url}: {error}"))

    def executed(self, marker: object) -> None:
        if str(marker).startswith(BLOCKED):
            self.visit.blocked.append(f"{self.page.url}: {marker}")
        else:
            self.visit.executed.append(f"{self.page.url}: payload {marker}")

    def dialog(self, dialog: Any) -> None:
        self.visit.dialogs.append(f"{self.page.url}: {dialog.type} {dialog.message}")
        dialog.dismiss()

    def console(self, message: Any) -> None:
        # Images named `x` and the error pages asked for answer 404, which Chromium logs: that is expected.
        if message.type in ("error", "warning") and not message.text.startswith("Failed to load resource"):
            self.visit.console.append(f"{self.page.url}: {message.type} {message.text}")

    def inspect(self, kind: str) -> None:
        """Let timers and autofocus fire, then look for anything able to run script."""
        self.page.wait_for_timeout(30)
        self.visit.dangers += [f"{self.page.url}: {danger}" for danger in self.page.evaluate(FIND_DANGER)]
        text = BUILD_ID.sub("", self.page.content())
        self.visit.template_results += [
            f"{self.page.url}: {found}" for found, pattern in TEMPLATE_RESULTS.items() if re.search(pattern, text)
        ]
        self.visit.loads[kind] = self.visit.loads.get(kind, 0) + 1

    def open(self, kind: str, path: str) -> None:
        self.page.goto(path, wait_until="load")
        self.inspect(kind)

    def sign_in(self) -> None:
        self.page.goto("/agent/sign-in")
        self.page.fill("input[name=name]", AGENT_NAME)
        self.page.fill("input[name=password]", AGENT_PASSWORD)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        assert self.page.url.endswith("/agent/"), self.page.url

    def suggest_and_copy(self, message: str) -> None:
        """Paste a message into the suggest form, then press every copy button (agent.js)."""
        self.page.goto("/agent/suggest")
        self.page.fill("textarea[name=message]", message)
        with self.page.expect_navigation():
            self.page.click("form.stacked-form button[type=submit]")
        self.inspect("agent suggestions")
        buttons = self.page.locator("button.copy")
        assert buttons.count() > 0, "no suggestions to copy"
        for position in range(buttons.count()):
            with self.page.expect_response(lambda response: response.url.endswith("/agent/track")) as tracked:
                buttons.nth(position).click()
            assert tracked.value.status == 201
        self.inspect("agent copy buttons")

    def close(self) -> None:
        self.context.close()
        self.browser.close()


@pytest.mark.parametrize("csp", ["bypassed", "enforced"])
def test_no_payload_runs_in_a_browser(site: Site, csp: str, figure) -> None:  # type: ignore[no-untyped-def]
    sync_api = browser_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = Browser(playwright, site.base_url, enforce_csp=csp == "enforced")
        try:
            for kind, path in site.pages:
                browser.open(kind, path)
            browser.sign_in()
            for kind, path in site.agent_pages:
                browser.open(kind, path)
            for message in site.messages:
                browser.suggest_and_copy(message)
        finally:
            browser.close()
    visit = browser.visit
    places = sorted({place for place, _ in site.payloads.placed.values()})
    figure(
        f"XSS with the CSP {csp}: {len(site.payloads.placed)} payloads "
        f"({len(HTML_VECTORS) + len(MARKDOWN_VECTORS)} kinds) in {len(places)} places, "
        f"{sum(visit.loads.values())} page loads in Chromium ({json.dumps(visit.loads)}): "
        f"{len(visit.executed)} executed, {len(visit.blocked)} blocked by the CSP, {len(visit.dialogs)} dialogs, "
        f"{len(visit.dangers)} script-capable "
        f"elements or URLs, {len(visit.template_results)} template evaluations, "
        f"{len(visit.console) + len(visit.page_errors)} console errors"
    )
    assert len(HTML_VECTORS) + len(MARKDOWN_VECTORS) >= 50
    assert visit.executed == []
    assert visit.blocked == []
    assert visit.dialogs == []
    assert visit.dangers == []
    assert visit.template_results == []
    assert visit.console == []
    assert visit.page_errors == []


def test_without_chromium_the_browser_tests_skip_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(pytest.skip.Exception, match=r"/nonexistent/chromium is missing: apt-get install -y chromium"):
        browser_or_skip()


def test_without_playwright_the_browser_tests_skip_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # what an absent package looks like to import
    with pytest.raises(pytest.skip.Exception, match=r"the playwright package is missing"):
        browser_or_skip()
