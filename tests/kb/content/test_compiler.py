"""Compiling a folder: links between articles resolve to URLs; broken links and related slugs are reported."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kb.config import Settings
from kb.content.compiler import CompileCache, CompiledHelpCenter, compile_help_center, media_files
from tests.conftest import ArticleWriter


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


def test_a_mistyped_slug_link_is_an_error_not_a_link_that_404s(tmp_path: Path) -> None:
    (tmp_path / "compare-plans.md").write_text("---\ntitle: Compare plans\naliases: [plans]\n---\n## Annual\n\nText.\n")
    (tmp_path / "a.md").write_text(
        "---\ntitle: A\n---\nSee [plans](compare-plan),\n[annual](compare-plan#annual), [by alias](plans#annual),\n"
        "[a page](contact-us.html) and [mail](mailto:help@example.com).\n"
    )
    compiled = compile_folder(tmp_path)
    assert [str(problem) for problem in compiled.problems] == [
        "a.md:4: error: link to missing article 'compare-plan'",
        "a.md:5: error: link to missing article 'compare-plan#annual'",
    ]
    html = next(item for item in compiled.articles if item.article.slug == "a").rendered.html
    assert '<a href="/articles/compare-plans#annual" rel="noopener noreferrer">by alias</a>' in html


def test_one_broken_article_leaves_the_others_compiled(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n## Part\n\nWords.\n")
    (tmp_path / "bad.md").write_text("---\ntitle: [unclosed\n---\n")
    compiled = compile_folder(tmp_path)
    assert [item.article.slug for item in compiled.articles] == ["good"]
    assert [(problem.path, problem.line) for problem in compiled.errors] == [("bad.md", 2)]  # the '[' line


def test_related_may_name_an_old_slug_of_an_article(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\nrelated: [old-b, b, a]\n---\nText.\n")
    (tmp_path / "b.md").write_text("---\ntitle: B\naliases: [old-b]\n---\nText.\n")
    compiled = compile_folder(tmp_path)
    assert compiled.problems == []
    assert compiled.articles[0].related == ["b"]


def test_a_public_article_never_links_to_an_internal_or_draft_one(write_article: ArticleWriter) -> None:
    write_article(
        "guides/refunds.md",
        {"title": "Refunds"},
        "Intro.\n\nSee [the playbook](../agent-playbooks/handling-chargebacks.md#steps).\n\n"
        "Soon: [new plans](new-plans) and [fees](../guides/fees.md).",
    )
    write_article("guides/fees.md", {"title": "Fees"}, "Fees.")
    write_article("guides/new-plans.md", {"title": "New plans", "draft": True}, "Soon.")
    write_article(
        "agent-playbooks/handling-chargebacks.md",
        {"title": "Handling chargebacks", "visibility": "internal"},
        "## Steps\n\nSee [refunds](../guides/refunds.md) and [new plans](new-plans).",
    )
    compiled = compile_folder(write_article.root)
    assert [str(problem) for problem in compiled.problems] == [
        "guides/refunds.md:6: error: link to internal article '../agent-playbooks/handling-chargebacks.md#steps', "
        "which customers cannot see: the link is left out of the page",
        "guides/refunds.md:8: error: link to draft article 'new-plans', "
        "which customers cannot see: the link is left out of the page",
    ]
    refunds = next(item for item in compiled.articles if item.article.slug == "refunds")
    html = refunds.rendered.html
    assert "See <span>the playbook</span>." in html and "Soon: <span>new plans</span> and" in html
    assert "handling-chargebacks" not in html and "new-plans" not in html
    assert 'href="/articles/fees"' in html
    playbook = next(item for item in compiled.articles if item.article.slug == "handling-chargebacks")
    assert 'href="/articles/refunds"' in playbook.rendered.html  # internal articles may link anywhere
    assert 'href="/articles/new-plans"' in playbook.rendered.html


def test_a_link_turns_into_an_error_when_its_target_is_hidden_later(write_article: ArticleWriter) -> None:
    root = write_article("a.md", {"title": "A"}, "See [b](b.md).").parent
    write_article("b.md", {"title": "B"}, "Text.")
    cache = CompileCache()
    settings = Settings(articles=root)
    assert compile_help_center(root, settings, cache).problems == []
    write_article("b.md", {"title": "B", "visibility": "internal"}, "Text.")
    compiled = compile_help_center(root, settings, cache)
    assert [str(problem) for problem in compiled.problems] == [
        "a.md:4: error: link to internal article 'b.md', which customers cannot see: the link is left out of the page"
    ]
    assert "/articles/b" not in compiled.articles[0].rendered.html


def test_each_article_records_the_media_it_references(write_article: ArticleWriter) -> None:
    write_article(
        "guides/a.md",
        {"title": "A"},
        "![A](../images/a.png) and [the form](../images/b.pdf) and ![again](../images/a.png).",
    )
    (write_article.root / "images").mkdir()
    for name in ("a.png", "b.pdf", "unused.png"):
        (write_article.root / "images" / name).write_bytes(b"file")
    compiled = compile_folder(write_article.root)
    assert compiled.problems == []
    assert compiled.articles[0].media == ["images/a.png", "images/b.pdf"]


def test_media_in_underscore_or_hidden_folders_or_behind_links_are_not_found(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"secret")
    root = tmp_path / "articles"
    for folder in ("_drafts", ".git", "images"):
        (root / folder).mkdir(parents=True)
        (root / folder / "shot.png").write_bytes(b"file")
    (root / "images" / "passwd.txt").symlink_to("/etc/passwd")
    (root / "images" / "alias.png").symlink_to(root / "images" / "shot.png")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    write_article(
        "a.md",
        {"title": "A"},
        "![a](_drafts/shot.png)\n![b](.git/shot.png)\n[c](images/passwd.txt)\n![d](images/alias.png)\n"
        "![e](linked/secret.png)\n![f](images/shot.png)",
        root=root,
    )
    compiled = compile_folder(root)
    assert [str(problem) for problem in compiled.problems] == [
        "a.md:4: error: image not found: '_drafts/shot.png'",
        "a.md:5: error: image not found: '.git/shot.png'",
        "a.md:6: error: link to missing article 'images/passwd.txt'",
        "a.md:7: error: image not found: 'images/alias.png'",
        "a.md:8: error: image not found: 'linked/secret.png'",
    ]
    assert compiled.articles[0].media == ["images/shot.png"]
    assert media_files(root) == frozenset({"images/shot.png"})


def test_an_edit_of_the_same_size_in_the_same_clock_tick_is_seen(write_article: ArticleWriter) -> None:
    root = write_article("a.md", {"title": "A"}, "Alpha.").parent
    cache = CompileCache()
    settings = Settings(articles=root)
    assert "Alpha" in compile_help_center(root, settings, cache).articles[0].rendered.html
    file = root / "a.md"
    times = file.stat()
    write_article("a.md", {"title": "A"}, "Omega.")  # as long as before
    os.utime(file, ns=(times.st_atime_ns, times.st_mtime_ns))  # and no later, as within one tick of the clock
    assert "Omega" in compile_help_center(root, settings, cache).articles[0].rendered.html


def test_an_unchanged_article_is_neither_read_nor_compiled_again(write_article: ArticleWriter) -> None:
    root = write_article("a.md", {"title": "A"}, "Alpha.").parent
    write_article("b.md", {"title": "B"}, "Beta.")
    settled = time.time() - 60
    for file in root.iterdir():
        os.utime(file, (settled, settled))
    cache = CompileCache()
    settings = Settings(articles=root)
    first = compile_help_center(root, settings, cache)
    write_article("b.md", {"title": "B"}, "Beta, edited.")
    second = compile_help_center(root, settings, cache)
    assert second.articles[0] is first.articles[0]
    assert "edited" in second.articles[1].rendered.html
