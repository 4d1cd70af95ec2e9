"""Help centers written for Jekyll, Hugo, Docusaurus and MkDocs compile as they are (tests/data/generators)."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from kb.config import Settings
from kb.content.compiler import CompiledHelpCenter, compile_help_center
from kb.content.loading import load_articles

GENERATORS = Path(__file__).parents[2] / "data" / "generators"
ROOTS = {
    "jekyll": GENERATORS / "jekyll" / "_articles",
    "hugo": GENERATORS / "hugo" / "content",
    "docusaurus": GENERATORS / "docusaurus" / "docs",
    "mkdocs": GENERATORS / "mkdocs" / "docs",
}
CALLOUT = (
    '<div class="admonition warning">\n<p class="admonition-title">Warning</p>\n'
    "<p>Deleting your account <strong>erases</strong> every item in your vault.</p>\n</div>"
)
TEMPLATE_SYNTAX = re.compile(
    r"\{%|%\}|\{\{|\}\}|\{:|^:::|\[!\w+\]|^!!!|^\?\?\?|kb-site:|\{#[\w-]+\}|<Tab", re.MULTILINE
)
CODE = re.compile(r"<code[^>]*>.*?</code>", re.DOTALL)


def compile_generator(name: str) -> CompiledHelpCenter:
    root = ROOTS[name]
    return compile_help_center(root, Settings(articles=root))


def values(compiled: CompiledHelpCenter) -> dict[str, tuple[object, ...]]:
    return {
        item.article.slug: (
            item.article.summary,
            item.article.aliases,
            item.article.order,
            item.article.updated,
            item.article.unlisted,
            item.article.draft,
            item.article.category,
            item.article.category_name,
            item.article.tags,
        )
        for item in compiled.articles
    }


def test_jekyll_front_matter_is_read_as_kb_keys_and_theme_keys_are_not_reported() -> None:
    compiled = compile_generator("jekyll")
    assert values(compiled) == {
        "admin-recovery": (
            "Admins of an organization can reset a member's master password.",
            [],
            1.0,
            None,
            True,
            False,
            "account-management",
            "Account management",
            [],
        ),
        "reset-master-password": (
            "How to get back into your vault when you forgot your master password.",
            ["forgot-master-password"],
            2.0,
            datetime.date(2021, 6, 14),
            False,
            False,
            "account-management",
            "Account management",
            ["password", "reset"],
        ),
    }
    assert [str(problem) for problem in compiled.problems] == [
        "account/reset-master-password.md:28: warning: template tag '{% include support-hours.html %}' "
        "is not understood: it is left out of the page and of search"
    ]


def test_hugo_front_matter_is_read_as_kb_keys() -> None:
    compiled = compile_generator("hugo")
    assert values(compiled) == {
        "change-plan": (
            "Move between the monthly and yearly plans.",
            ["switch-plan", "plans"],
            20.0,
            datetime.date(2024, 5, 2),
            False,
            False,
            "billing",
            "Billing",
            [],
        ),
        "refunds": ("When we refund a payment.", [], 10.0, None, False, False, "billing", "Billing", []),
    }
    assert [str(problem) for problem in compiled.problems] == [
        "billing/change-plan.md:27: warning: template tag '{{< youtube dQw4w9WgXcQ >}}' "
        "is not understood: it is left out of the page and of search"
    ]


def test_docusaurus_and_mkdocs_front_matter_is_read_as_kb_keys_without_warnings() -> None:
    docusaurus, mkdocs = compile_generator("docusaurus"), compile_generator("mkdocs")
    assert values(docusaurus) == {
        "install": (
            "Install the desktop app on Windows, macOS or Linux.",
            [],
            3.0,
            datetime.date(2025, 1, 15),
            True,
            False,
            "guides",
            "Guides",
            ["setup", "download"],
        ),
        "uninstall": ("Remove the app and its data.", [], 4.0, None, False, False, "guides", "Guides", []),
    }
    assert values(mkdocs) == {
        "connect-printer": ("Pair a printer over Wi-Fi.", [], None, None, False, False, "setup", "Setup", []),
    }
    assert docusaurus.problems == mkdocs.problems == []


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_every_admonition_syntax_renders_the_same_callout(name: str) -> None:
    for item in compile_generator(name).articles:
        if "erases" in item.article.body:
            assert CALLOUT in item.rendered.html, item.article.path


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_no_template_syntax_reaches_a_page_a_summary_or_the_search_text(name: str) -> None:
    compiled = compile_generator(name)
    assert compiled.articles
    for item in compiled.articles:
        page = CODE.sub("", item.rendered.html)
        code = "".join(CODE.findall(item.rendered.html))
        assert TEMPLATE_SYNTAX.findall(page) == [], item.article.path
        assert TEMPLATE_SYNTAX.findall(item.article.summary) == []
        for chunk in item.chunks:
            # Template syntax inside a code block is shown as written, on purpose; nowhere else.
            leftovers = [match.group(0) for match in TEMPLATE_SYNTAX.finditer(chunk.text)]
            assert all(leftover in code for leftover in leftovers), (item.article.path, leftovers)
        assert "Old text that must never show" not in item.rendered.html


def test_old_site_links_images_and_kramdown_anchors_resolve() -> None:
    pages = {item.article.slug: item.rendered.html for item in compile_generator("jekyll").articles}
    reset = pages["reset-master-password"]
    assert (
        '<a href="/articles/admin-recovery#before-you-start" rel="noopener noreferrer">recover your account</a>'
        in reset
    )
    assert '<img alt="Reset screen" src="/media/images/account/reset.png">' in reset
    assert '<a href="/articles/admin-recovery" rel="noopener noreferrer">the glossary</a>' in reset
    assert "target" not in reset
    # kb's anchor stays the heading's id; the kramdown form lands on the same heading.
    assert '<h2 id="users-groups"><a id="users--groups" rel="noopener noreferrer"></a>Users &amp; groups' in reset
    assert '<a href="/articles/reset-master-password#users--groups"' in pages["admin-recovery"]
    # The Markdown captured for a theme's tab is rendered, the tab's frame dropped.
    assert '<h4 id="web-vault">Web Vault' in pages["admin-recovery"]
    assert "<li>Select <strong>Members</strong>.</li>" in pages["admin-recovery"]


def test_unknown_theme_keys_are_reported_once_for_the_whole_folder(tmp_path: Path) -> None:
    for number in range(3):
        (tmp_path / f"a{number}.md").write_text(f"---\ntitle: A{number}\nbanner: x.png\nsumary: typo\n---\nText.\n")
    problems = [str(problem) for problem in load_articles(tmp_path).problems]
    assert problems[0].startswith(
        "a0.md:3: warning: unknown key 'banner' is ignored (and in 2 other article(s)); known keys: aliases, category,"
    )
    assert problems[1:] == [
        "a0.md:4: warning: unknown key 'sumary' is ignored: did you mean 'summary'?",
        "a1.md:4: warning: unknown key 'sumary' is ignored: did you mean 'summary'?",
        "a2.md:4: warning: unknown key 'sumary' is ignored: did you mean 'summary'?",
    ]


def test_kramdown_attributes_are_dropped_and_never_get_past_the_sanitizer() -> None:
    from kb.content.rendering import render_markdown

    body = (
        '[site](https://example.com){: onclick="alert(1)" href="javascript:alert(1)" target="_blank"}\n'
        '{: .warning style="color: red"}\n\n'
        "{::nomarkdown}<script>alert(2)</script>{:/nomarkdown}\n\n"
        '## Heading {: #custom onmouseover="alert(3)"}\n'
    )
    html = render_markdown(body).html
    assert html == (
        '<p><a href="https://example.com" rel="noopener noreferrer">site</a></p>\n\n\n'
        '<h2 id="custom"><a id="heading" rel="noopener noreferrer"></a>Heading'
        '<a class="headerlink" href="#custom" title="Link to this section" rel="noopener noreferrer">#</a></h2>'
    )


def test_a_file_without_front_matter_takes_its_title_from_its_first_heading(tmp_path: Path) -> None:
    (tmp_path / "setup").mkdir()
    (tmp_path / "setup" / "install.md").write_text("\n# Install the app\n\nRun the installer.\n")
    (tmp_path / "setup" / "notes.md").write_text("Just text.\n\n# A heading later\n")
    (tmp_path / "setup" / "blog.md").write_text("---\ndate: 2022-09-12\ndescription: News.\n---\n\n# Blog\nPosts.\n")
    loaded = load_articles(tmp_path)
    assert [
        (article.slug, article.title, article.line_of("title"), article.body, article.body_start_line, article.summary)
        for article in loaded.articles
    ] == [
        ("blog", "Blog", 6, "Posts.\n", 7, "News."),
        ("install", "Install the app", 2, "\nRun the installer.\n", 3, ""),
    ]
    assert [str(problem) for problem in loaded.problems] == [
        "setup/notes.md:1: error: missing front matter: the file must start with a '---' line"
    ]


def test_a_folder_page_takes_the_folders_name_as_its_slug(tmp_path: Path) -> None:
    (tmp_path / "guides" / "image-processing").mkdir(parents=True)
    (tmp_path / "guides" / "image-processing" / "index.md").write_text("---\ntitle: Images\n---\nText.\n")
    (tmp_path / "guides" / "README.md").write_text("---\ntitle: Guides\n---\nText.\n")
    (tmp_path / "index.md").write_text("---\ntitle: Home\n---\nText.\n")
    assert sorted(article.slug for article in load_articles(tmp_path).articles) == [
        "guides",
        "image-processing",
        "index",
    ]
