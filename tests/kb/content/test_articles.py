"""Front-matter parsing and validation: every problem names its file and line."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from kb.content.articles import asks_to_hide, read_article
from kb.content.front_matter import parse_article_text
from kb.content.loading import article_files, article_paths, load_articles, read_category_names
from kb.content.slugs import slugify
from kb.errors import ArticleError
from tests.conftest import DATA

BROKEN = DATA / "broken"


def problems_by_file(root: Path) -> dict[str, list[str]]:
    result = load_articles(root)
    found: dict[str, list[str]] = {}
    for problem in result.problems:
        found.setdefault(problem.path, []).append(str(problem))
    return found


def test_broken_articles_are_reported_with_path_and_line() -> None:
    found = problems_by_file(BROKEN)
    assert found["article_with_invalid_yaml.md"] == [
        # The line that opened the list, not the next key where the parser noticed, and in plain words.
        "article_with_invalid_yaml.md:3: error: invalid YAML in front matter: "
        "the '[' opened on this line is never closed with ']'"
    ]
    assert found["article_without_title.md"] == ["article_without_title.md:1: error: missing required key 'title'"]
    assert found["article_with_empty_title.md"] == ["article_with_empty_title.md:3: error: 'title' must not be empty"]
    assert found["article_without_front_matter.md"] == [
        "article_without_front_matter.md:1: error: missing front matter: the file must start with a '---' line"
    ]
    assert found["valid_article_duplicate_slug.md"] == [
        "valid_article_duplicate_slug.md:3: error: duplicate slug 'valid-article': already used by valid_article.md; "
        "this article stays unpublished until its slug changes"
    ]


def test_wrong_types_are_each_reported_on_their_own_line() -> None:
    assert problems_by_file(BROKEN)["article_with_wrong_types.md"] == [
        "article_with_wrong_types.md:3: error: 'tags' must be a list of text, got a mapping",
        "article_with_wrong_types.md:5: error: 'draft' must be true or false, got 'sometimes'",
        "article_with_wrong_types.md:6: error: 'updated' must be a date like 2026-01-31, got 'last tuesday'",
        "article_with_wrong_types.md:7: error: 'visibility' must be one of public, internal, got 'secret'",
    ]


def test_unknown_key_is_a_warning_and_the_article_is_kept() -> None:
    result = load_articles(BROKEN)
    warnings = [problem for problem in result.problems if not problem.is_error]
    assert [(problem.path, problem.line) for problem in warnings] == [("article_with_unknown_key.md", 3)]
    assert "colour" in warnings[0].message


def test_broken_articles_are_skipped_and_the_valid_ones_kept() -> None:
    result = load_articles(BROKEN)
    assert sorted(article.slug for article in result.articles) == ["article-with-unknown-key", "valid-article"]


def test_full_front_matter_is_read_into_typed_fields() -> None:
    text = """---
title: Reset your password
slug: reset-password
category: Account & Login
tags: [password, login]
summary: Get back in.
aliases: [forgot-password]
questions:
  - I forgot my password
visibility: internal
draft: true
locale: pt-BR
updated: 2026-05-10
related: [sign-in]
---
Body text.
"""
    article, problems = read_article(text, "account/reset.md")
    assert problems == []
    assert article is not None
    assert (article.slug, article.title, article.category, article.category_name) == (
        "reset-password",
        "Reset your password",
        "account-login",
        "Account & Login",
    )
    assert article.tags == ["password", "login"]
    assert article.aliases == ["forgot-password"]
    assert article.questions == ["I forgot my password"]
    assert (article.visibility, article.draft, article.locale) == ("internal", True, "pt-BR")
    assert article.updated == datetime.date(2026, 5, 10)
    assert article.related == ["sign-in"]
    assert article.body_start_line == 15  # the body starts after the closing "---" on line 15
    assert article.body.strip() == "Body text."
    assert not article.is_public


def test_defaults_come_from_the_file_name_and_folder() -> None:
    article, problems = read_article("---\ntitle: Plans\n---\nText", "billing-and-plans/Compare Plans.md")
    assert problems == []
    assert article is not None
    assert (article.slug, article.category, article.category_name) == (
        "compare-plans",
        "billing-and-plans",
        "Billing and plans",
    )
    assert (article.visibility, article.draft, article.locale) == ("public", False, "en")
    assert article.is_public


def test_duplicate_key_and_non_mapping_front_matter_are_errors() -> None:
    with pytest.raises(ArticleError) as duplicate:
        parse_article_text("---\ntitle: A\ntags: []\ntitle: B\n---\n", "a.md")
    assert str(duplicate.value) == "a.md:4: key 'title' appears twice"
    with pytest.raises(ArticleError) as listing:
        parse_article_text("---\n- just\n- a list\n---\n", "b.md")
    assert str(listing.value) == "b.md:2: front matter must be a mapping of keys to values"


def test_unknown_visibility_fails_closed_as_an_error() -> None:
    article, problems = read_article("---\ntitle: T\nvisibility: everyone\n---\n", "t.md")
    assert article is None
    assert [problem.line for problem in problems] == [3]


@pytest.mark.parametrize(
    ("key", "meant"), [("Visibility", "visibility"), ("visiblity", "visibility"), ("Draft", "draft")]
)
def test_a_misspelt_hiding_key_fails_closed_as_an_error(key: str, meant: str) -> None:
    article, problems = read_article(f"---\ntitle: T\n{key}: internal\n---\nText.\n", "t.md")
    assert article is None
    assert [str(problem) for problem in problems] == [
        f"t.md:3: error: unknown key '{key}': did you mean '{meant}'? The article is kept from customers "
        f"until the key is spelled '{meant}'"
    ]


def test_duplicate_alias_is_reported_on_the_later_file(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\naliases: [old-name]\n---\n")
    (tmp_path / "b.md").write_text("---\ntitle: B\ntags: []\naliases: [old-name, a]\n---\n")
    result = load_articles(tmp_path)
    assert [str(problem) for problem in result.problems] == [
        "b.md:4: error: duplicate alias 'old-name': already used by a.md",
        "b.md:4: error: duplicate alias 'a': already used by a.md",
    ]
    assert [article.slug for article in result.articles] == ["a"]


def test_hidden_files_are_not_articles_and_undecodable_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / ".hidden.md").write_text("not an article")
    (tmp_path / "latin1.md").write_bytes("---\ntitle: Caf\xe9\n---\n".encode("latin-1"))
    result = load_articles(tmp_path)
    assert result.articles == []
    assert [(problem.path, problem.severity) for problem in result.problems] == [("latin1.md", "error")]
    assert "not UTF-8" in result.problems[0].message


def test_article_files_are_the_visible_markdown_files_in_path_order(tmp_path: Path) -> None:
    for name in ["b.md", "a-z/c.md", "a/b/d.md", "a/_e.md", "_drafts/f.md", ".git/g.md", "notes.txt", "dir.md/h.md"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("---\ntitle: T\n---\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    (outside / "linked").mkdir(parents=True)
    (outside / "linked" / "i.md").write_text("---\ntitle: T\n---\n")
    (tmp_path / "linked").symlink_to(outside / "linked")  # a link to a folder is not followed
    (tmp_path / "j.md").symlink_to(tmp_path / "b.md")  # a link to a file is a file
    assert article_paths(tmp_path) == [
        (relative, str(tmp_path / relative)) for relative in ["a-z/c.md", "a/b/d.md", "b.md", "dir.md/h.md", "j.md"]
    ]
    assert article_files(tmp_path) == [tmp_path / relative for relative, _ in article_paths(tmp_path)]


def test_missing_articles_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match="articles folder not found"):
        load_articles(tmp_path / "nowhere")


def test_slugify() -> None:
    assert slugify("Réglez vos  Factures!") == "reglez-vos-factures"
    assert slugify("--Two--hyphens--") == "two-hyphens"


def test_a_category_file_names_its_folder(tmp_path: Path) -> None:
    (tmp_path / "faq").mkdir()
    (tmp_path / "faq" / "_category.yml").write_text("title: FAQ\n")
    (tmp_path / "faq" / "plans.md").write_text("---\ntitle: Plans\n---\n")
    (tmp_path / "misc").mkdir()
    (tmp_path / "misc" / "_category.yml").write_text("description: no title\n")
    (tmp_path / "misc" / "other.md").write_text("---\ntitle: Other\n---\n")
    result = load_articles(tmp_path)
    assert [(article.category, article.category_name) for article in result.articles] == [
        ("faq", "FAQ"),
        ("misc", "Misc"),
    ]
    assert [str(problem) for problem in result.problems] == [
        "misc/_category.yml:1: error: a category file needs a non-empty 'title'"
    ]


@pytest.mark.parametrize(
    ("front_matter", "hides"),
    [
        ("title: T", False),
        ("title: T\nvisibility: public\ndraft: false", False),
        ("title: T\nvisibility: Public\ndraft: no", False),
        ("title: T\nvisibility:", False),
        ("title: T\nvisibility: internal", True),
        ("title: T\nvisibility: internal-only", True),
        ("title: T\nvisibility: [internal]", True),
        ('title: T\ndraft: "true"', True),
        ('title: T\ndraft: "false"', True),
        ("title: T\ndraft:", True),
        ("title: [unclosed\nvisibility: internal  # for agents", True),
        ("title: [unclosed\n  'draft' : yes", True),
        ("title: [unclosed\nvisibility: 'public'\ndraft: off", False),
        ("title: [unclosed", False),
    ],
)
def test_an_edit_asks_to_hide_its_article_whatever_else_is_wrong(front_matter: str, hides: bool) -> None:
    assert asks_to_hide(f"---\n{front_matter}\n---\nBody.\n") is hides


def test_a_file_without_its_closing_line_still_asks_to_hide() -> None:
    assert asks_to_hide("---\ntitle: T\ndraft: true\nBody text.\n")
    assert asks_to_hide("title: T\nvisibility: internal\n---\nBody text.\n")  # the opening line deleted
    assert not asks_to_hide("---\ntitle: T\n---\nSet draft: true in the editor.\n")


def test_values_that_cannot_be_read_are_errors_on_their_line() -> None:
    found = problems_by_file(BROKEN)
    yaml_error = "error: invalid YAML in front matter"
    assert found["updated_on_february_30.md"] == [
        "updated_on_february_30.md:3: error: 'updated' must be a date like 2026-01-31, got '2026-02-30'"
    ]
    assert found["updated_in_month_13.md"] == [
        "updated_in_month_13.md:3: error: 'updated' must be a date like 2026-01-31, got '2026-13-01'"
    ]
    assert found["title_tagged_as_an_integer.md"] == [
        f"title_tagged_as_an_integer.md:3: {yaml_error}: cannot read 'abc' as a whole number"
    ]
    assert found["number_with_5000_digits.md"] == [
        f"number_with_5000_digits.md:3: {yaml_error}: a number may have at most 100 digits"
    ]
    assert found["hex_number_with_5000_digits.md"] == [
        f"hex_number_with_5000_digits.md:3: {yaml_error}: a number may have at most 100 digits"
    ]
    assert found["list_nested_5000_deep.md"] == [
        f"list_nested_5000_deep.md:3: {yaml_error}: values are nested more than 20 levels deep"
    ]
    assert found["draft_that_expands_a_billion_times.md"] == [
        "draft_that_expands_a_billion_times.md:3: error: 'draft' must be true or false, got a list"
    ]


def test_category_files_with_values_that_cannot_be_read() -> None:
    result = load_articles(BROKEN)
    assert [str(problem) for problem in result.problems if problem.path.endswith("_category.yml")] == [
        "category_title_tagged_as_an_integer/_category.yml:1: error: invalid YAML: cannot read 'abc' as a whole number"
    ]
    names, _ = read_category_names(BROKEN)
    assert names["category_with_a_date_that_does_not_exist"] == "Dates"  # an unused bad date harms nothing


def test_dates_and_times_are_read_from_text() -> None:
    for written, expected in (
        ("2026-05-10", (2026, 5, 10)),
        ("2026-05-10 09:30:00", (2026, 5, 10)),
        ("'2026-05-10'", (2026, 5, 10)),
    ):
        article, problems = read_article(f"---\ntitle: T\nupdated: {written}\n---\n", "t.md")
        assert problems == [] and article is not None, written
        assert article.updated == datetime.date(*expected)
    article, problems = read_article("---\ntitle: 2026-05-10\ntags: [2026-05-10]\n---\n", "t.md")
    assert article is not None and (article.title, article.tags) == ("2026-05-10", ["2026-05-10"])
