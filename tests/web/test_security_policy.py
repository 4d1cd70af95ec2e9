"""What the Content-Security-Policy allows, and that articles still show as written under it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from indexer.build import build_index
from kb.config import Settings
from kb_cli.main import cli
from tests.conftest import FakeEmbedder
from web import create_app

PRICES = """---
title: Plan prices
summary: What each plan costs.
---
Compare the plans.

| Plan | Seats | Price |
|:-----|:-----:|------:|
| Basic | 1 | 10 |
| Team | 5 | 40 |

![Usage chart](https://tracker.example.com/pixel.png?reader=42)

That is all.
"""


def directives(policy: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (item.strip() for item in policy.split(";"))}


@pytest.fixture
def prices_settings(settings: Settings, fake_embedder: FakeEmbedder) -> Settings:
    (settings.articles / "billing" / "plan-prices.md").write_text(PRICES, encoding="utf-8")
    build_index(settings, fake_embedder, show_progress=False)
    return settings


@pytest.fixture
def prices_client(prices_settings: Settings, fake_embedder: FakeEmbedder) -> FlaskClient:
    return create_app({"TESTING": True, "KB_SETTINGS": prices_settings, "KB_EMBEDDER": fake_embedder}).test_client()


def test_table_alignment_survives_the_content_security_policy(prices_client: FlaskClient) -> None:
    page = prices_client.get("/articles/plan-prices")
    assert directives(page.headers["Content-Security-Policy"])["style-src"] == "'self'"  # inline styles are dropped
    body = page.get_data(as_text=True)
    assert '<th class="align-left">Plan</th>' in body
    assert '<th class="align-center">Seats</th>' in body
    assert '<td class="align-right">40</td>' in body
    assert " style=" not in body
    stylesheet = prices_client.get("/static/style.css").get_data(as_text=True)
    for side in ("left", "center", "right"):
        assert re.search(rf"\.article-body \.align-{side}\{{text-align:{side}\}}", stylesheet), side


def test_images_load_only_from_the_site(prices_client: FlaskClient) -> None:
    policy = directives(prices_client.get("/").headers["Content-Security-Policy"])
    assert policy["img-src"] == "'self' data:"


def test_an_image_from_another_host_is_reported_where_it_is_written(
    prices_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    expected = (
        "billing/plan-prices.md:12: warning: image from another host is not shown: "
        "'https://tracker.example.com/pixel.png?reader=42' (the site shows only its own images: "
        "put the file beside the articles and link it relatively)"
    )
    report = build_index(prices_settings, fake_embedder, show_progress=False)
    assert [str(problem) for problem in report.problems if "image" in problem.message] == [expected]
    checked = CliRunner().invoke(cli, ["check", "--articles", str(prices_settings.articles), "--no-similarity"])
    assert checked.exit_code == 0, checked.output
    assert expected in checked.stdout.splitlines()


def test_an_image_on_the_public_site_itself_is_not_reported(tmp_path: Path, articles_dir: Path) -> None:
    own = Settings(articles=articles_dir, index=tmp_path / "index", public_url="https://help.example.com")
    (articles_dir / "logo.md").write_text(
        "---\ntitle: Logo\nsummary: Our logo.\n---\n![Logo](https://help.example.com/media/images/workspace.png)\n",
        encoding="utf-8",
    )
    report = build_index(own, FakeEmbedder(), show_progress=False)
    assert [problem for problem in report.problems if "image" in problem.message] == []
