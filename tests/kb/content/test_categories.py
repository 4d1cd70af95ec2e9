"""Categories that read like a help center: `_category.yml` description, icon and order, articles' `order`."""

from __future__ import annotations

import re
from pathlib import Path

from kb.content.loading import load_articles
from tests.conftest import AppFactory


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_category_file_gives_description_icon_and_order(tmp_path: Path) -> None:
    from kb.content.loading import CategoryInfo, read_categories  # here: the page test below runs without them

    write(
        tmp_path / "billing" / "_category.yml", "title: Billing\ndescription: Plans and invoices.\nicon: 💳\norder: 2\n"
    )
    write(tmp_path / "faq" / "_category.yml", "title: FAQ\n")
    write(
        tmp_path / "odd" / "_category.yml", "title: Odd\ndescription: [a]\nicon: far too long an icon\norder: first\n"
    )
    categories, problems = read_categories(tmp_path)
    assert categories == {
        "billing": CategoryInfo("Billing", "Plans and invoices.", "💳", 2),
        "faq": CategoryInfo("FAQ"),
        "odd": CategoryInfo("Odd"),
    }
    assert [str(problem) for problem in problems] == [
        "odd/_category.yml:1: warning: 'description' must be text; it is ignored",
        "odd/_category.yml:1: warning: 'icon' must be text of at most 8 characters, such as an emoji; it is ignored",
        "odd/_category.yml:1: warning: 'order' must be a whole number; it is ignored",
    ]


def test_an_article_order_must_be_a_number(tmp_path: Path) -> None:
    write(tmp_path / "faq" / "first.md", "---\ntitle: First\norder: 1\n---\nBody.\n")
    write(tmp_path / "faq" / "wrong.md", "---\ntitle: Wrong\norder: soon\n---\nBody.\n")
    result = load_articles(tmp_path)
    assert [(article.slug, article.order) for article in result.articles] == [("first", 1)]
    assert [str(problem) for problem in result.problems] == [
        "faq/wrong.md:3: error: 'order' must be a number, got 'soon'"
    ]


def test_home_and_category_pages_follow_the_order_and_show_descriptions(
    articles_dir: Path, make_app: AppFactory
) -> None:
    write(
        articles_dir / "getting-started" / "_category.yml",
        "title: Getting started\ndescription: Begin here.\norder: 1\n",
    )
    write(
        articles_dir / "billing" / "_category.yml", "title: Billing\ndescription: Money matters.\nicon: 💳\norder: 2\n"
    )
    write(articles_dir / "getting-started" / "zz-first-steps.md", "---\ntitle: Zz first steps\norder: 1\n---\nBegin.\n")
    client = make_app().test_client()
    home = client.get("/").get_data(as_text=True)
    card = r'<a href="/categories/([^"]+)">(?:<span class="icon" aria-hidden="true">([^<]*)</span> )?([^<]+)</a>'
    cards = re.findall(card + r"\s*(?:<p>([^<]*)</p>)?", home)
    assert cards == [
        ("getting-started", "", "Getting started", "Begin here."),
        ("billing", "💳", "Billing", "Money matters."),
        ("account", "", "Account", ""),  # no order: after the ordered ones, by name
    ]
    page = client.get("/categories/getting-started").get_data(as_text=True)
    assert '<p class="lead">Begin here.</p>' in page
    assert re.findall(r'<a href="/articles/([^"]+)">', page.split('class="article-list"')[1]) == [
        "zz-first-steps",
        "welcome",
    ]
    article = client.get("/articles/zz-first-steps").get_data(as_text=True)
    assert re.search(r'<a class="pager-next" href="/articles/welcome" rel="next">', article)
