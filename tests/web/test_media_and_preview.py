"""Images beside the articles, served safely; the writer preview with draft and problem banners."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from indexer.build import build_index
from kb.config import Settings
from tests.conftest import AppFactory, FakeEmbedder, sign_in

INTERNAL_IMAGE = "/media/images/refund-approval.png"  # shown only by the internal playbook
DRAFT_IMAGE = "/media/images/ai-drafts.png"  # shown only by the draft


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
    welcome = articles_dir / "getting-started" / "welcome.md"
    welcome.write_text(welcome.read_text() + "\n![The diagram](../images/diagram.svg)\n")
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
    assert (
        "account/reset-password.md:2: error: invalid YAML in front matter: the &#39;[&#39; opened on this line" in text
    )
    assert "the last good version stays published until the errors above are fixed" in text
    assert "Request a reset link" in text  # the last good version


def test_preview_shows_the_errors_of_a_new_file_that_never_built(
    built_settings: Settings, fake_embedder: FakeEmbedder, make_app: AppFactory
) -> None:
    (built_settings.articles / "account" / "export-data.md").write_text("---\ntitle: Export: data\n---\nText.\n")
    (built_settings.articles / "account" / "named.md").write_text("---\nslug: keep-it\ntitle: [x\n---\nText.\n")
    build_index(built_settings, fake_embedder, show_progress=False)
    client = make_app(preview=True).test_client()
    page = client.get("/preview/export-data")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "This article cannot be built yet" in text
    assert "account/export-data.md:2: error: invalid YAML in front matter: the value contains &#39;: &#39;" in text
    assert "We couldn&#39;t find that article" not in text
    assert "account/named.md:3: error" in client.get("/preview/keep-it").get_data(as_text=True)
    assert "cannot be built" not in client.get("/preview/no-such-article").get_data(as_text=True)
    # Customers and agents never see a file's errors.
    assert "export-data.md" not in make_app().test_client().get("/articles/export-data").get_data(as_text=True)


def test_the_preview_page_learns_of_each_new_build_to_reload_itself(
    built_settings: Settings, fake_embedder: FakeEmbedder, make_app: AppFactory
) -> None:
    app = make_app(preview=True)
    client = app.test_client()
    page = client.get("/preview/reset-password").get_data(as_text=True)
    build_id = app.extensions["kb"].get().build_id
    assert f'data-preview-build="{build_id}" data-preview-events="/preview/build"' in page
    assert re.search(r'<script src="/static/preview[.][0-9a-f]{10}[.]js" defer></script>', page)
    assert "window.location.reload()" in client.get("/static/preview.js").get_data(as_text=True)
    published = client.get("/preview/build")
    assert (published.get_json(), published.headers["Cache-Control"]) == ({"build": build_id}, "no-store")
    write_article = built_settings.articles / "account" / "new-page.md"
    write_article.write_text("---\ntitle: New page\n---\nText.\n")
    build_index(built_settings, fake_embedder, show_progress=False)
    assert client.get("/preview/build").get_json()["build"] == build_id  # until the new build is loaded
    app.extensions["kb"].settled()
    assert client.get("/preview/build").get_json()["build"] not in ("", build_id)
    # Without the preview, an agent's view of the same page has no reloading script.
    assert "preview.js" not in make_app().test_client().get("/articles/reset-password").get_data(as_text=True)


def cache_control(response: TestResponse) -> set[str]:
    return {part.strip() for part in response.headers["Cache-Control"].split(",")}


def test_media_of_hidden_articles_are_served_only_to_those_who_may_read_them(client: FlaskClient, token: str) -> None:
    for url in (INTERNAL_IMAGE, DRAFT_IMAGE):
        assert client.get(url).status_code == 404, url
    public = client.get("/media/images/workspace.png")
    assert public.status_code == 200
    assert cache_control(public) == {"public", "max-age=3600"}
    sign_in(client)
    playbook = client.get("/agent/articles/refund-escalation-playbook").get_data(as_text=True)
    assert f'src="{INTERNAL_IMAGE}"' in playbook
    draft = client.get("/agent/articles/upcoming-ai-drafts").get_data(as_text=True)
    assert f'src="{DRAFT_IMAGE}"' in draft  # agents read drafts there, so their images load too
    for url in (INTERNAL_IMAGE, DRAFT_IMAGE):
        image = client.get(url)
        assert image.status_code == 200, url
        assert image.data.startswith(b"\x89PNG")
        assert cache_control(image) == {"private", "max-age=3600"}  # never kept by a shared cache


def test_the_writer_preview_serves_draft_media(make_app: AppFactory) -> None:
    client = make_app(preview=True).test_client()
    assert f'src="{DRAFT_IMAGE}"' in client.get("/preview/upcoming-ai-drafts").get_data(as_text=True)
    assert client.get(DRAFT_IMAGE).status_code == 200


def test_media_that_no_article_shows_is_not_served(articles_dir: Path, make_app: AppFactory) -> None:
    (articles_dir / "images" / "unused.png").write_bytes(b"\x89PNG unused")
    (articles_dir / "_private").mkdir()
    (articles_dir / "_private" / "plan.pdf").write_bytes(b"%PDF private")
    welcome = articles_dir / "getting-started" / "welcome.md"
    welcome.write_text(welcome.read_text() + "\n[The plan](../_private/plan.pdf)\n")
    client = make_app().test_client()
    for url in ("/media/images/unused.png", "/media/_private/plan.pdf"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"unused" not in response.data and b"private" not in response.data


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_media_is_never_served_through_a_symbolic_link(
    articles_dir: Path, make_app: AppFactory, tmp_path: Path, kind: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd.txt").write_text("root:x:0:0:root:/root:/bin/bash\n")
    if kind == "file":
        (articles_dir / "images" / "passwd.txt").symlink_to(outside / "passwd.txt")
        url, source = "/media/images/passwd.txt", "../images/passwd.txt"
    else:
        (articles_dir / "linked").symlink_to(outside, target_is_directory=True)
        url, source = "/media/linked/passwd.txt", "../linked/passwd.txt"
    welcome = articles_dir / "getting-started" / "welcome.md"
    welcome.write_text(welcome.read_text() + f"\n[Accounts]({source})\n")
    response = make_app().test_client().get(url)
    assert response.status_code == 404
    assert b"root:" not in response.data


def test_a_file_swapped_for_a_symbolic_link_after_the_build_is_not_served(
    articles_dir: Path, client: FlaskClient, tmp_path: Path
) -> None:
    assert client.get("/media/images/workspace.png").status_code == 200
    (tmp_path / "secret.png").write_bytes(b"\x89PNG secret")
    image = articles_dir / "images" / "workspace.png"
    image.unlink()
    image.symlink_to(tmp_path / "secret.png")
    response = client.get("/media/images/workspace.png")
    assert response.status_code == 404
    assert b"secret" not in response.data
