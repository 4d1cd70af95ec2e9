"""A newly published build is loaded and warmed off the request path; requests keep the old one until then."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import kb.live
from indexer.build import build_index
from kb.config import Settings
from kb.index.format import PublishedIndex
from kb.live import LiveHelpCenter
from tests.conftest import FakeEmbedder

RETITLED = ("title: Invoice basics", "title: Invoices from scratch")


def publish_retitled(settings: Settings, embedder: FakeEmbedder) -> None:
    """Publish a new build in which the invoice article has another title."""
    article = settings.articles / "billing" / "invoice-basics.md"
    article.write_text(article.read_text(encoding="utf-8").replace(*RETITLED), encoding="utf-8")
    build_index(settings, embedder, show_progress=False)


def live_build(settings: Settings) -> Path:
    return (settings.index / "current").resolve()


class SlowLoads:
    """Stands in for `load_build`: each load after the first waits until the test lets it finish."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.real = kb.live.load_build
        self.loads = 0

    def __call__(self, build_dir: Path, *args: object) -> PublishedIndex:
        self.loads += 1
        if self.loads > 1:
            self.started.set()
            assert self.release.wait(10), "the test never let the load finish"
        return self.real(build_dir, *args)  # type: ignore[arg-type]


def test_requests_get_the_old_build_at_once_while_the_new_one_loads_then_the_new_one(
    built_settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SlowLoads()
    monkeypatch.setattr(kb.live, "load_build", slow)
    live = LiveHelpCenter(built_settings, fake_embedder)
    old = live.get()
    publish_retitled(built_settings, fake_embedder)
    assert live.get() is old  # notices the publish, starts the loader, does not wait for it
    assert slow.started.wait(10)
    started = time.monotonic()
    for _ in range(20):
        assert live.get() is old
        assert old.article("invoice-basics").title == "Invoice basics"  # type: ignore[union-attr]
    assert time.monotonic() - started < 1.0  # while the load is held up
    assert slow.loads == 2  # one loader, however many requests noticed
    slow.release.set()
    new = live.settled(10)
    assert new is not old and new.build_id == live_build(built_settings).name
    assert new.article("invoice-basics").title == "Invoices from scratch"  # type: ignore[union-attr]
    assert live.get() is new and live.fallback_note is None
    assert new.search_service.common_stems is not None  # warmed before the switch


def test_a_damaged_new_build_leaves_the_old_one_served(
    built_settings: Settings, fake_embedder: FakeEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    live = LiveHelpCenter(built_settings, fake_embedder)
    old = live.get()
    publish_retitled(built_settings, fake_embedder)
    damaged = live_build(built_settings)
    (damaged / "vectors.faiss").write_bytes(b"not a faiss index")
    assert live.get() is old
    served = live.settled(10)
    assert served.build_id == old.build_id  # the newest build that loads: the one already served
    assert served.article("invoice-basics").title == "Invoice basics"  # type: ignore[union-attr]
    assert live.fallback_note == (
        f"the published build {damaged.name} is damaged; serving the earlier build {old.build_id}"
    )
    assert "vectors.faiss" in caplog.text


def test_a_build_that_fails_to_load_unexpectedly_keeps_the_one_in_memory_and_is_tried_once(
    built_settings: Settings,
    fake_embedder: FakeEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    live = LiveHelpCenter(built_settings, fake_embedder)
    old = live.get()
    attempts = []

    def crash(build_dir: Path, *args: object) -> PublishedIndex:
        attempts.append(build_dir.name)
        raise MemoryError("no room for another build")

    monkeypatch.setattr(kb.live, "load_build", crash)
    publish_retitled(built_settings, fake_embedder)
    assert live.get() is old
    assert live.settled(10) is old
    assert live.settled(10) is old and live.get() is old
    assert attempts == [live_build(built_settings).name]  # not retried by every request that follows
    assert "cannot be served; keeping the one in memory" in caplog.text
    monkeypatch.undo()
    publish_retitled(built_settings, fake_embedder)  # the next publish is tried again
    assert live.settled(10).build_id == live_build(built_settings).name
