"""`kb new`'s template: a valid article with a fresh slug, never overwriting a file."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from kb.authoring.scaffold import article_text, create_article
from kb.content.articles import read_article
from kb.errors import NewArticleError

TODAY = datetime.date(2026, 11, 2)


def test_the_template_is_a_valid_article_without_summary() -> None:
    article, problems = read_article(article_text("Billing: what's a #proration?", TODAY), "new.md")
    assert problems == []
    assert article is not None
    assert article.title == "Billing: what's a #proration?"
    assert (article.summary, article.tags, article.updated) == ("", [], TODAY)
    assert "# summary:" in article_text("x", TODAY)


def test_the_article_goes_into_its_category_folder(tmp_path: Path) -> None:
    created = create_article(tmp_path, "  Reset your password ", "Account and login", TODAY)
    assert created == tmp_path / "account-and-login" / "reset-your-password.md"
    assert created.read_text(encoding="utf-8").startswith("---\ntitle: Reset your password\n")
    assert create_article(tmp_path, "Reset your password", None, TODAY) == tmp_path / "reset-your-password-2.md"


def test_an_existing_file_is_never_overwritten_even_when_it_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "draft.md").write_text("not an article yet")
    assert create_article(tmp_path, "Draft", None, TODAY) == tmp_path / "draft-2.md"
    assert (tmp_path / "draft.md").read_text() == "not an article yet"


@pytest.mark.parametrize(
    ("title", "category", "message"),
    [
        ("   ", None, "the title is empty"),
        ("???", None, "the title '???' gives no slug"),
        ("Fine", "!!", "the category '!!' gives no folder name"),
    ],
)
def test_unusable_titles_and_categories_are_refused(
    tmp_path: Path, title: str, category: str | None, message: str
) -> None:
    with pytest.raises(NewArticleError, match=message.replace("?", r"\?")):
        create_article(tmp_path, title, category, TODAY)
    assert list(tmp_path.iterdir()) == []


def test_questions_from_a_content_gap_fill_the_questions_list() -> None:
    text = article_text("Export invoices", TODAY, ["export invoices to  Excel", "  ", "#1: what's a CSV?"])
    article, problems = read_article(text, "new.md")
    assert problems == [] and article is not None
    assert article.questions == ["export invoices to Excel", "#1: what's a CSV?"]
    assert "# questions:" not in text and "# how customers ask for this" in text
