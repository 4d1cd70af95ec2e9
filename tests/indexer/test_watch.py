"""The watcher driven by real file-system changes: what search returns after each."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import indexer.watch
from indexer.build import BuildReport, IndexBuilder
from indexer.watch import is_watched, watch_articles
from kb.config import Settings
from kb.live import LiveHelpCenter
from tests.conftest import ArticleWriter, FakeEmbedder


class Watcher:
    """Runs watch_articles in a thread and waits for the builds that follow each change."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = FakeEmbedder()
        self.reports: list[tuple[BuildReport, set[str]]] = []
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(
            target=watch_articles, daemon=True, args=(settings, self.embedder, self.record, self.stop, self.ready)
        )
        self.live = LiveHelpCenter(settings, self.embedder)

    def record(self, report: BuildReport, changed: set[str]) -> None:
        self.reports.append((report, changed))

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(20), "the watcher did not start"

    def wait_for_build(self, after: int, timeout: float = 15.0) -> tuple[BuildReport, set[str]]:
        deadline = time.monotonic() + timeout
        while len(self.reports) <= after and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.reports) > after, "no rebuild after the change"
        return self.reports[-1]

    def slugs_for(self, query: str) -> list[str]:
        return [result.slug for result in self.live.settled().search(query, 5).results]


@pytest.fixture
def watcher(settings: Settings) -> Iterator[Watcher]:
    running = Watcher(settings)
    running.start()
    yield running
    running.stop.set()
    running.thread.join(timeout=10)


def test_added_edited_renamed_and_deleted_articles_are_searchable_without_restart(
    watcher: Watcher, write_article: ArticleWriter
) -> None:
    articles = watcher.settings.articles
    assert watcher.reports[0][0].article_count == 5

    builds = len(watcher.reports)
    write_article(
        "billing/late-fees.md",
        {"title": "Late fees"},
        "## Charge a late fee\n\nAdd a zanzibar surcharge.",
        root=articles,
    )
    report, changed = watcher.wait_for_build(builds)
    assert changed == {"billing/late-fees.md"}
    assert report.embedded_count >= 1 and report.reused_count >= 1
    assert watcher.slugs_for("zanzibar surcharge")[0] == "late-fees"

    builds = len(watcher.reports)
    write_article(
        "billing/late-fees.md",
        {"title": "Late fees"},
        "## Charge a late fee\n\nAdd a marimba surcharge.",
        root=articles,
    )
    watcher.wait_for_build(builds)
    top = watcher.live.settled().search("marimba surcharge", 1).results[0]
    assert (top.slug, top.snippet) == ("late-fees", "Add a marimba surcharge.")

    builds = len(watcher.reports)
    (articles / "billing" / "late-fees.md").rename(articles / "billing" / "overdue-charges.md")
    watcher.wait_for_build(builds)
    assert watcher.slugs_for("marimba surcharge")[0] == "overdue-charges"
    assert watcher.live.settled().article("late-fees") is None

    builds = len(watcher.reports)
    (articles / "billing" / "overdue-charges.md").unlink()
    watcher.wait_for_build(builds)
    assert "overdue-charges" not in watcher.slugs_for("marimba surcharge")
    assert watcher.live.settled().index.manifest.article_count == 5


def test_a_broken_save_reports_the_error_and_keeps_the_last_good_version(
    watcher: Watcher, write_article: ArticleWriter
) -> None:
    article = watcher.settings.articles / "account" / "reset-password.md"
    builds = len(watcher.reports)
    article.write_text("---\ntitle: [unclosed\n---\nHalf-written text about a xylophone.\n", encoding="utf-8")
    report, changed = watcher.wait_for_build(builds)
    assert changed == {"account/reset-password.md"}
    assert [str(problem) for problem in report.problems if problem.path == "account/reset-password.md"] == [
        "account/reset-password.md:2: error: invalid YAML in front matter: "
        "the '[' opened on this line is never closed with ']'",
        "account/reset-password.md:2: warning: the last good version stays published until the errors above are fixed",
    ]
    center = watcher.live.settled()
    assert center.article("reset-password") is not None
    assert watcher.slugs_for("spam folder wait five minutes")[0] == "reset-password"
    assert "xylophone" not in " ".join(chunk.text for chunk in center.index.chunks)
    assert [problem.path for problem in center.index.problems if problem.is_error] == ["account/reset-password.md"]

    builds = len(watcher.reports)
    write_article(
        "account/reset-password.md",
        {"title": "Reset your password"},
        "## Fixed\n\nA xylophone guide.",
        root=watcher.settings.articles,
    )
    report, _ = watcher.wait_for_build(builds)
    assert report.problems == []
    assert watcher.slugs_for("xylophone guide")[0] == "reset-password"


def test_only_articles_category_files_and_media_trigger_builds() -> None:
    assert is_watched("/kb/articles/billing/refunds.md")
    assert is_watched("/kb/articles/billing/_category.yml")
    assert is_watched("/kb/articles/images/screenshot.png")
    assert not is_watched("/kb/articles/billing/.refunds.md.swp")
    assert not is_watched("/kb/articles/notes.txt~")
    assert not is_watched("/kb/articles/.git/index")


def test_a_save_with_a_date_that_does_not_exist_is_reported_and_watching_goes_on(watcher: Watcher) -> None:
    article = watcher.settings.articles / "billing" / "late-fees.md"
    builds = len(watcher.reports)
    # Written by hand: a YAML writer would quote the date, and YAML itself must read it here.
    article.write_text("---\ntitle: Late fees\nupdated: 2026-02-30\n---\nAdd a zanzibar surcharge.\n")
    report, changed = watcher.wait_for_build(builds)
    assert changed == {"billing/late-fees.md"}
    assert [str(problem) for problem in report.problems] == [
        "billing/late-fees.md:3: error: 'updated' must be a date like 2026-01-31, got '2026-02-30'"
    ]
    builds = len(watcher.reports)
    article.write_text("---\ntitle: Late fees\nupdated: 2026-02-28\n---\nAdd a zanzibar surcharge.\n")
    watcher.wait_for_build(builds)
    assert watcher.slugs_for("zanzibar surcharge")[0] == "late-fees"


class CrashingBuilder(IndexBuilder):
    """Fails the builds whose numbers (1 for the first) are in `crashes`, as an unforeseen bug would."""

    crashes: frozenset[int] = frozenset()
    count = 0

    def build(self, show_progress: bool | None = None) -> BuildReport:
        CrashingBuilder.count += 1
        if CrashingBuilder.count in self.crashes:
            raise RuntimeError("an unforeseen bug")
        return super().build(show_progress)


@pytest.mark.parametrize("crashes", [{1}, {2}], ids=["the first build", "a rebuild"])
def test_the_watcher_survives_a_build_that_crashes(
    settings: Settings,
    write_article: ArticleWriter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    crashes: set[int],
) -> None:
    monkeypatch.setattr(CrashingBuilder, "crashes", frozenset(crashes))
    monkeypatch.setattr(CrashingBuilder, "count", 0)
    monkeypatch.setattr(indexer.watch, "IndexBuilder", CrashingBuilder)
    running = Watcher(settings)
    running.start()
    try:
        articles = settings.articles
        write_article("billing/late-fees.md", {"title": "Late fees"}, "Add a zanzibar surcharge.", root=articles)
        deadline = time.monotonic() + 30
        while CrashingBuilder.count < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert CrashingBuilder.count == 2
        write_article("billing/refunds.md", {"title": "Refunds"}, "Refund a marimba order.", root=articles)
        while (
            not any("billing/refunds.md" in changed for _, changed in running.reports) and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert running.slugs_for("zanzibar surcharge")[0] == "late-fees"
        assert running.slugs_for("marimba order")[0] == "refunds"
    finally:
        running.stop.set()
        running.thread.join(timeout=10)
    failures = [record for record in caplog.records if record.levelname == "ERROR"]
    assert len(failures) == 1
    assert "an unforeseen bug" in caplog.text
    if crashes == {2}:
        assert failures[0].getMessage().startswith("rebuild after changes to billing/late-fees.md failed")
