"""Rendering: Markdown features, sanitized HTML, stable heading ids, links between articles."""

from __future__ import annotations

from kb.content.rendering import render_markdown


def test_script_tags_event_handlers_and_javascript_urls_are_stripped() -> None:
    body = (
        'Hello <script>alert("x")</script> world.\n\n'
        '<img src="logo.png" onerror="alert(1)">\n\n'
        '[click me](javascript:alert(1)) and <a href="JaVaScRiPt:alert(2)">raw link</a>\n\n'
        '<div onclick="steal()" style="position:fixed">boxed</div>\n\n'
        '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>\n'
    )
    html = render_markdown(body).html
    lowered = html.lower()
    for forbidden in ("<script", "alert(", "onerror", "javascript:", "onclick", "<iframe", "<style", "position:fixed"):
        assert forbidden not in lowered, forbidden
    assert '<img src="logo.png">' in html
    assert "click me" in html and "raw link" in html and "boxed" in html


def test_tables_fenced_code_and_admonitions_render() -> None:
    body = (
        "| Plan | Price |\n|:-----|------:|\n| Pro | 20 |\n\n"
        '```json\n{"ok": true}\n```\n\n'
        '!!! warning "Careful"\n    Back up first.\n'
    )
    html = render_markdown(body).html
    assert '<table tabindex="0">' in html and '<td class="align-right">20</td>' in html
    assert '<pre tabindex="0"><code class="language-json">{"ok": true}\n</code></pre>' in html
    assert '<div class="admonition warning">\n<p class="admonition-title">Careful</p>' in html


def test_heading_ids_are_stable_and_unique() -> None:
    body = "## Set up\n\ntext\n\n## Set up\n\nmore\n\n### Café & Co.!\n\nend\n"
    first = render_markdown(body)
    second = render_markdown(body)
    assert [heading.anchor for heading in first.headings] == ["set-up", "set-up_1", "cafe-co"]
    assert [heading.anchor for heading in second.headings] == ["set-up", "set-up_1", "cafe-co"]
    assert '<h2 id="set-up">' in first.html and '<h2 id="set-up_1">' in first.html


def test_links_go_through_the_resolver_and_unknown_articles_are_reported() -> None:
    targets = {"billing.md#refunds": "/articles/billing#refunds"}

    def resolve(href: str) -> str | None:
        if href.startswith("https:"):
            return href
        return targets.get(href)

    rendered = render_markdown("[a](billing.md#refunds) [b](missing.md) [c](https://example.com)", resolve)
    assert 'href="/articles/billing#refunds"' in rendered.html
    assert 'href="https://example.com"' in rendered.html
    assert rendered.unresolved_links == ["missing.md"]


def test_sections_split_at_h2_and_h3_with_heading_paths() -> None:
    body = "Intro words.\n\n## Install\n\nStep one.\n\n### On Android\n\nTap install.\n\n## Use it\n\nOpen it.\n"
    sections = render_markdown(body).sections
    assert [(section.anchor, section.heading_path, section.text) for section in sections] == [
        ("", (), "Intro words."),
        ("install", ("Install",), "Step one."),
        ("on-android", ("Install", "On Android"), "Tap install."),
        ("use-it", ("Use it",), "Open it."),
    ]


def test_permalink_marker_is_not_part_of_heading_titles() -> None:
    rendered = render_markdown("## Billing FAQ\n\nText.")
    assert rendered.headings[0].title == "Billing FAQ"
    assert 'class="headerlink" href="#billing-faq"' in rendered.html
