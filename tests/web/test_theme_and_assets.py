"""Static files (fingerprinted, compressed, cached), theming from settings and a theme folder, dates and
`<html lang>`, and the page weight budget."""

from __future__ import annotations

import datetime
import gzip
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from indexer.build import build_index
from kb.config import Settings
from kb.errors import ConfigError
from kb.store.counters import bump
from tests.conftest import SAMPLE_ARTICLES, AppFactory, FakeEmbedder, app_for

PAGE_BUDGET_BYTES = 30 * 1024
ASSET_LINK = re.compile(r'<(?:script src|link rel="stylesheet" href)="(/static/[^"]+)"')


def test_pages_link_fingerprinted_assets_served_compressed_and_cached_for_a_year(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    links = ASSET_LINK.findall(page)
    assert [re.sub(r"\.[0-9a-f]{10}\.", ".", link) for link in links] == [
        "/static/theme.js",
        "/static/style.css",
        "/static/site.js",
    ]
    stylesheet = next(link for link in links if link.endswith(".css"))
    plain = client.get("/static/style.css")
    compressed = client.get(stylesheet, headers={"Accept-Encoding": "gzip, br"})
    assert compressed.status_code == 200
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert compressed.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(compressed.data) == plain.data
    assert len(compressed.data) < len(plain.data) / 2
    assert plain.headers["Cache-Control"] == "no-cache"  # the unhashed name may change under the same URL
    assert "Content-Encoding" not in plain.headers
    etag = compressed.headers["ETag"]
    again = client.get(stylesheet, headers={"If-None-Match": etag})
    assert (again.status_code, again.data) == (304, b"")
    missing = client.get("/static/style.0000000000.css")
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)


def test_the_stylesheet_a_page_links_is_compressed_and_cached(client: FlaskClient) -> None:
    """The issue: the CSS came uncompressed, with `no-cache`, so every page view fetched or revalidated it."""
    page = client.get("/").get_data(as_text=True)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+\.css)"', page)
    assert stylesheet, "no stylesheet linked"
    response = client.get(stylesheet.group(1), headers={"Accept-Encoding": "gzip"})
    assert (response.status_code, response.headers.get("Content-Encoding")) == (200, "gzip")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_scripts_and_stylesheets_are_minified_without_touching_strings() -> None:
    from web.assets import make_asset  # imported here, so that the page tests above run on code without it

    script = make_asset("a.js", b'// a comment\nvar  text = "keep  /* this */ // too";\n')
    assert script.body == b'var text="keep  /* this */ // too";'
    style = make_asset("a.css", b'/* note */\n.a  >  b { content: "  x  "; }\n')
    assert style.body == b'.a>b{content:"  x  "}'
    assert make_asset("logo.svg", b"<svg>  </svg>").body == b"<svg>  </svg>"


def test_an_asset_name_changes_with_its_content() -> None:
    from web.assets import make_asset

    first, second = make_asset("site.js", b"one();"), make_asset("site.js", b"two();")
    assert re.fullmatch(r"site\.[0-9a-f]{10}\.js", first.hashed_name)
    assert first.hashed_name != second.hashed_name
    assert make_asset("site.js", b"one();").hashed_name == first.hashed_name


@pytest.fixture
def theme_folder(tmp_path: Path) -> Path:
    theme = tmp_path / "theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "templates" / "article.html").write_text(
        '{% extends "kb/article.html" %}{% block after_body %}<p class="theme-note">From the theme</p>{% endblock %}',
        encoding="utf-8",
    )
    (theme / "static" / "custom.css").write_text(".theme-note { color: teal; }\n", encoding="utf-8")
    (theme / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>', encoding="utf-8")
    return theme


def test_a_theme_sets_logo_brand_colour_footer_links_templates_and_css(
    make_app: AppFactory, theme_folder: Path
) -> None:
    app = make_app(
        theme=str(theme_folder),
        logo=str(theme_folder / "logo.svg"),
        brand_colour="#1a7f5a",
        footer_links="Privacy=https://example.com/privacy; Status=/status",
    )
    client = app.test_client()
    page = client.get("/articles/welcome").get_data(as_text=True)
    assert '<p class="theme-note">From the theme</p>' in page  # the theme's template, extending the built-in one
    assert "<h1>Welcome to Acme Invoices</h1>" in page
    links = dict((re.sub(r"\.[0-9a-f]{10}\.", ".", link), link) for link in ASSET_LINK.findall(page))
    assert list(links) == [
        "/static/theme.js",
        "/static/style.css",
        "/static/brand.css",
        "/static/custom.css",
        "/static/site.js",
    ]
    assert client.get(links["/static/brand.css"]).data == b":root{--brand:#1a7f5a;--brand-text:#ffffff}"
    assert client.get(links["/static/custom.css"]).data == b".theme-note{color:teal}"  # minified
    logo = re.search(r'<img class="logo" src="(/static/logo\.[0-9a-f]{10}\.svg)" alt=""', page)
    assert logo and client.get(logo.group(1)).mimetype == "image/svg+xml"
    footer = page.split('<ul class="footer-links">')[1].split("</ul>")[0]
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', footer) == [
        ("/", "All topics"),
        ("https://example.com/privacy", "Privacy"),
        ("/status", "Status"),
    ]


def test_an_operator_sets_the_logo_and_brand_colour_through_the_environment(
    built_settings: Settings, fake_embedder: FakeEmbedder, theme_folder: Path
) -> None:
    """The issue's "no logo or brand colour": set the way operators do, with KB_* variables."""
    settings = Settings.from_env(
        {
            "KB_ARTICLES": str(built_settings.articles),
            "KB_INDEX": str(built_settings.index),
            "KB_DATA": str(built_settings.data),
            "KB_LOGO": str(theme_folder / "logo.svg"),
            "KB_BRAND_COLOUR": "#1a7f5a",
        }
    )
    client = app_for(settings, fake_embedder).test_client()
    for path in ("/", "/articles/welcome", "/search?q=invoice"):
        page = client.get(path).get_data(as_text=True)
        assert re.search(r'<img class="logo" src="/static/logo\.[0-9a-f]{10}\.svg" alt=""', page), path
        brand = re.search(r'<link rel="stylesheet" href="(/static/brand\.[0-9a-f]{10}\.css)"', page)
        assert brand and client.get(brand.group(1)).data == b":root{--brand:#1a7f5a;--brand-text:#ffffff}", path


def test_a_theme_stylesheet_replaces_the_built_in_one(make_app: AppFactory, theme_folder: Path) -> None:
    (theme_folder / "static" / "style.css").write_text("body { margin: 1px; }\n", encoding="utf-8")
    client = make_app(theme=str(theme_folder)).test_client()
    assert client.get("/static/style.css").data == b"body{margin:1px}"


def test_brand_text_stays_readable_on_light_and_dark_brand_colours() -> None:
    from web.theme import brand_css

    assert brand_css("#ffd400") == b":root{--brand:#ffd400;--brand-text:#111111}\n"
    assert brand_css("#1a3fa3") == b":root{--brand:#1a3fa3;--brand-text:#ffffff}\n"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KB_BRAND_COLOUR", "red", "KB_BRAND_COLOUR must be a colour like #1a7f5a, got 'red'"),
        ("KB_FOOTER_LINKS", "Privacy", "KB_FOOTER_LINKS item 'Privacy' must read 'Label=URL'"),
        (
            "KB_FOOTER_LINKS",
            "Evil=javascript:alert(1)",
            "KB_FOOTER_LINKS URL 'javascript:alert(1)' must start with https://, http:// or /",
        ),
        ("KB_FOOTER_LINKS", "Elsewhere=//evil.example", "KB_FOOTER_LINKS URL '//evil.example' must start with"),
        ("KB_LOGO", "logo.gif", "KB_LOGO must be an .svg, .png, .webp file, got 'logo.gif'"),
        ("KB_LOGO", "/no/such/logo.svg", "KB_LOGO '/no/such/logo.svg' is not a file"),
        ("KB_THEME", "/no/such/theme", "KB_THEME '/no/such/theme' is not a folder"),
    ],
)
def test_theme_settings_are_checked(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env({variable: value})


def test_dates_read_in_words_and_lang_follows_the_locale() -> None:
    from web.theme import html_lang, long_date

    assert long_date("2026-09-23") == "23 September 2026"
    assert long_date(datetime.date(2026, 1, 8)) == "8 January 2026"
    assert long_date("soon") == "soon"
    assert (html_lang("en"), html_lang("pt_br"), html_lang("fr-CA"), html_lang(None)) == ("en", "pt-BR", "fr-CA", "en")


def test_article_pages_show_their_date_in_words(client: FlaskClient) -> None:
    """The issue's "raw ISO dates": the page said 2026-03-01; the machine-readable date stays in the attribute."""
    page = client.get("/articles/welcome").get_data(as_text=True)
    assert 'Updated <time datetime="2026-03-01">1 March 2026</time>' in page


def test_an_article_page_takes_its_language_from_the_locale(articles_dir: Path, make_app: AppFactory) -> None:
    path = articles_dir / "account" / "reset-password.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("\ntitle:", "\nlocale: fr_CA\ntitle:", 1), encoding="utf-8"
    )
    client = make_app().test_client()
    assert '<html lang="fr-CA">' in client.get("/articles/reset-password").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/articles/welcome").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


@pytest.fixture
def sample_client(tmp_path: Path, make_app: AppFactory) -> FlaskClient:
    settings = Settings(articles=SAMPLE_ARTICLES, index=tmp_path / "sample-index", data=tmp_path / "sample-data")
    build_index(settings, FakeEmbedder(), show_progress=False)
    return make_app(settings).test_client()


def with_longest_summaries(client: FlaskClient) -> None:
    """Views for the articles with the longest titles and summaries, so the home page lists them as popular."""
    from web.popular import POPULAR_SHOWN  # here: this file's other tests run on code without it (docs/UX.md)

    app = client.application
    articles = app.extensions["kb"].get().listed()
    heaviest = sorted(articles, key=lambda record: len(record.title) + len(record.summary), reverse=True)
    with app.extensions["kb_customer_storage"].session(write=True) as session:
        for views, record in enumerate(heaviest[:POPULAR_SHOWN], start=1):
            bump(session, "article_views", record.slug, views)
    client.get("/")
    app.extensions["kb_popular"].wait(10)
    assert client.get("/").get_data(as_text=True).count('id="popular-heading"') == 1


def test_every_public_page_stays_under_the_weight_budget(sample_client: FlaskClient, figure) -> None:  # type: ignore[no-untyped-def]
    """HTML + CSS + JS before compression, each page of the sample help center (the issue's budget: 30 KB)."""
    paths = [
        "/",
        "/search?q=invoice+email+not+delivered",
        "/search",
        "/nope/whatever",
        "/articles/no-such-article",
        "/contact",
    ]
    sitemap = sample_client.get("/sitemap.xml").get_data(as_text=True)
    paths += [re.sub(r"^https?://[^/]+", "", url) for url in re.findall(r"<loc>([^<]+)</loc>", sitemap)]
    with_longest_summaries(sample_client)  # the home page at its heaviest: a full list of popular articles
    weights = {}
    for path in paths:
        response = sample_client.get(path)
        assert response.status_code in (200, 404), path
        html = response.data
        assets = sum(len(sample_client.get(link).data) for link in ASSET_LINK.findall(html.decode()))
        weights[path] = len(html) + assets
    heaviest = max(weights, key=lambda path: weights[path])
    figure(
        f"page weight (HTML+CSS+JS, uncompressed) over {len(weights)} pages: "
        f"heaviest {heaviest} {weights[heaviest]} B; home with six popular articles {weights['/']} B"
    )
    assert weights[heaviest] < PAGE_BUDGET_BYTES, weights[heaviest]
    assert len(weights) > 60


def test_no_table_in_the_sample_help_center_has_an_empty_header_cell(sample_client: FlaskClient) -> None:
    """axe's empty-table-header (compare-plans had one); every sample article is checked."""
    sitemap = sample_client.get("/sitemap.xml").get_data(as_text=True)
    articles = [url for url in re.findall(r"<loc>([^<]+)</loc>", sitemap) if "/articles/" in url]
    tables = 0
    for url in articles:
        page = sample_client.get(re.sub(r"^https?://[^/]+", "", url)).get_data(as_text=True)
        tables += page.count("<table")
        assert not re.search(r"<th[^>]*>\s*</th>", page), url
    assert tables >= 5
