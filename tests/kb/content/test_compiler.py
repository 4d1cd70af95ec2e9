"""Compiling a folder: links between articles resolve to URLs; broken links and related slugs are reported."""

from __future__ import annotations

from pathlib import Path

from kb.config import Settings
from kb.content.compiler import CompiledHelpCenter, compile_help_center


def compile_folder(root: Path) -> CompiledHelpCenter:
    return compile_help_center(root, Settings(articles=root))


def test_links_by_relative_path_and_by_slug_resolve_to_article_urls(articles_dir: Path) -> None:
    compiled = compile_folder(articles_dir)
    assert compiled.problems == []
    welcome = next(item for item in compiled.articles if item.article.slug == "welcome")
    html = welcome.rendered.html
    assert 'href="/articles/invoice-basics#send-an-invoice"' in html
    assert 'href="/articles/reset-password"' in html
    assert 'href="/articles/invoice-basics"' in html


def test_broken_links_and_missing_related_articles_are_reported_with_lines(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "a.md").write_text(
        "---\ntitle: A\nrelated: [b, ghost]\n---\nIntro.\n\nSee [gone](../nowhere.md) and [b](b.md).\n"
    )
    (tmp_path / "guides" / "b.md").write_text("---\ntitle: B\n---\nText.\n")
    compiled = compile_folder(tmp_path)
    assert [str(problem) for problem in compiled.problems] == [
        "guides/a.md:3: error: 'related' names missing article 'ghost'",
        "guides/a.md:7: error: link to missing article '../nowhere.md'",
    ]
    article = next(item for item in compiled.articles if item.article.slug == "a")
    assert article.related == ["b"]
    assert 'href="/articles/b"' in article.rendered.html


def test_one_broken_article_leaves_the_others_compiled(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n## Part\n\nWords.\n")
    (tmp_path / "bad.md").write_text("---\ntitle: [unclosed\n---\n")
    compiled = compile_folder(tmp_path)
    assert [item.article.slug for item in compiled.articles] == ["good"]
    assert [(problem.path, problem.line) for problem in compiled.errors] == [("bad.md", 3)]


def test_related_may_name_an_old_slug_of_an_article(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\nrelated: [old-b, b, a]\n---\nText.\n")
    (tmp_path / "b.md").write_text("---\ntitle: B\naliases: [old-b]\n---\nText.\n")
    compiled = compile_folder(tmp_path)
    assert compiled.problems == []
    assert compiled.articles[0].related == ["b"]
