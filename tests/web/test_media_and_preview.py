"""Images beside the articles, served safely; the writer preview with draft and problem banners."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from indexer.build import build_index
from kb.config import Settings
from tests.conftest import AppFactory, FakeEmbedder


def test_article_images_are_served_with_their_content_type(client: FlaskClient) -> None:
    page = client.get("/articles/welcome").get_data(as_text=True)
    assert '<img alt="The new workspace form" src="/media/images/workspace.png">' in page
    image = client.get("/media/images/workspace.png")
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG")


def test_media_never_serves_articles_or_escapes_the_folder(client: FlaskClient, settings: Settings) -> None:
    (settings.articles.parent / "secret.png").write_bytes(b"\x89PNG outside")
    (settings.articles / "images" / ".hidden.png").write_bytes(b"\x89PNG hidden")
    for url in (
        "/media/account/reset-password.md",
        "/media/../secret.png",
        "/media/%2e%2e/secret.png",
        "/media/images/%2e%2e/%2e%2e/secret.png",
        "/media/images/.hidden.png",
        "/media/images/nope.png",
        "/media//etc/passwd.png",
    ):
        response = client.get(url, follow_redirects=True)  # "//" is merged by a redirect first
        assert response.status_code == 404, url
        assert b"PNG outside" not in response.data and b"PNG hidden" not in response.data


def test_svg_is_a_sandboxed_download(articles_dir: Path, make_app: AppFactory) -> None:
    (articles_dir / "images" / "diagram.svg").write_text("<svg><script>alert(1)</script></svg>")
    client = make_app().test_client()
    response = client.get("/media/images/diagram.svg")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="diagram.svg"'
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_preview_shows_drafts_with_a_banner(make_app: AppFactory) -> None:
    client = make_app(preview=True).test_client()
    page = client.get("/preview/upcoming-ai-drafts")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<strong>Draft.</strong> Customers cannot see this article" in text
    assert "Secret upcoming feature" in text
    assert client.get("/articles/upcoming-ai-drafts").status_code == 404  # still never public


def test_preview_is_absent_unless_enabled(client: FlaskClient) -> None:
    assert client.get("/preview/upcoming-ai-drafts").status_code == 404
    assert client.get("/preview/welcome").status_code == 404


def test_preview_shows_the_problems_of_a_broken_save(
    built_settings: Settings, fake_embedder: FakeEmbedder, make_app: AppFactory
) -> None:
    article: Path = built_settings.articles / "account" / "reset-password.md"
    article.write_text(article.read_text().replace("title: Reset your password", "title: [broken"))
    build_index(built_settings, fake_embedder, show_progress=False)
    text = make_app(preview=True).test_client().get("/preview/reset-password").get_data(as_text=True)
    assert "account/reset-password.md:3: error: invalid YAML in front matter" in text
    assert "the last good version stays published until the errors above are fixed" in text
    assert "Request a reset link" in text  # the last good version
