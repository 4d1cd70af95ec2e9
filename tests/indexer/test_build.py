"""Index builds: broken articles skipped, incremental re-embedding, atomic switch, model check."""

from __future__ import annotations

import gc
import json
import os
import shutil
import weakref
from pathlib import Path

import numpy as np
import pytest

from indexer.build import IndexBuilder, build_index
from indexer.publish import new_build_directory, publish
from kb.config import Settings
from kb.content.articles import Visibility
from kb.content.chunking import ChunkKind
from kb.content.loading import HIDDEN_NOTE, LAST_GOOD_NOTE
from kb.content.problems import Severity
from kb.errors import IndexNotFoundError, ModelMismatchError
from kb.index.format import CURRENT_LINK, Audience, current_build, load_published_index
from kb.live import LiveHelpCenter
from tests.conftest import DATA, FakeEmbedder


def test_build_writes_manifest_chunks_articles_and_vectors(built_settings: Settings) -> None:
    index = load_published_index(built_settings.index)
    manifest = index.manifest
    assert (manifest.format_version, manifest.model_name, manifest.dimension) == (5, "fake-bag-of-words", 256)
    assert manifest.article_count == 5 == len(index.articles)
    assert manifest.chunk_count == len(index.chunks) == index.vectors.size
    assert sorted(manifest.article_hashes) == [
        "account/reset-password.md",
        "billing/invoice-basics.md",
        "billing/upcoming-ai-drafts.md",
        "getting-started/welcome.md",
        "playbooks/refund-escalation-playbook.md",
    ]
    assert index.aliases == {"forgot-password": "reset-password", "lost-password": "reset-password"}
    sections = {(chunk.slug, chunk.anchor) for chunk in index.chunks}
    assert ("reset-password", "the-reset-email-never-arrives") in sections
    assert ("welcome", "invite-your-team") in sections


def test_a_broken_article_is_reported_while_the_rest_are_indexed(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(DATA / "broken", articles)
    settings = Settings(articles=articles, index=tmp_path / "index")
    report = build_index(settings, fake_embedder, show_progress=False)
    assert report.article_count == 2
    assert sorted(load_published_index(settings.index).articles) == ["article-with-unknown-key", "valid-article"]
    assert sorted({problem.path for problem in report.errors}) == [
        "article_with_empty_title.md",
        "article_with_invalid_yaml.md",
        "article_with_wrong_types.md",
        "article_without_front_matter.md",
        "article_without_title.md",
        "category_title_tagged_as_an_integer/_category.yml",
        "draft_that_expands_a_billion_times.md",
        "hex_number_with_5000_digits.md",
        "list_nested_5000_deep.md",
        "number_with_5000_digits.md",
        "title_tagged_as_an_integer.md",
        "updated_in_month_13.md",
        "updated_on_february_30.md",
        "valid_article_duplicate_slug.md",
    ]
    stored = json.loads((current_build(settings.index) / "problems.json").read_text())
    assert len(stored) == len(report.problems)


def test_rebuild_embeds_only_changed_chunks(settings: Settings) -> None:
    first_embedder = FakeEmbedder()
    first = build_index(settings, first_embedder, show_progress=False)
    assert first.embedded_count == first.chunk_count and first.reused_count == 0

    unchanged_embedder = FakeEmbedder()
    unchanged = build_index(settings, unchanged_embedder, show_progress=False)
    assert (unchanged.embedded_count, unchanged_embedder.calls) == (0, 0)

    article = settings.articles / "account" / "reset-password.md"
    article.write_text(article.read_text().replace("wait five minutes", "wait ten minutes"))
    edited_embedder = FakeEmbedder()
    edited = build_index(settings, edited_embedder, show_progress=False)
    assert edited.embedded_count == 1
    assert edited_embedder.texts == [
        "Reset your password > The reset email never arrives\nCheck your spam folder and wait ten minutes."
    ]
    assert edited.reused_count == edited.chunk_count - 1


def test_deleted_articles_vanish_from_the_next_build(built_settings: Settings) -> None:
    (built_settings.articles / "billing" / "invoice-basics.md").unlink()
    build_index(built_settings, FakeEmbedder(), show_progress=False)
    index = load_published_index(built_settings.index)
    assert "invoice-basics" not in index.articles
    assert all(chunk.slug != "invoice-basics" for chunk in index.chunks)


def test_publish_switches_the_current_link_atomically_and_prunes(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    builds = []
    for _ in range(4):
        build = new_build_directory(index_dir)
        (build / "manifest.json").write_text(build.name)
        published = publish(index_dir, build, keep_builds=1)
        assert not build.exists() and (published / "manifest.json").read_text() == build.name
        builds.append(published)
        assert current_build(index_dir) == published.resolve()
        assert not os.path.isabs(os.readlink(index_dir / CURRENT_LINK))
    remaining = sorted(path.name for path in (index_dir / "builds").iterdir())
    assert remaining == [builds[2].name, builds[3].name]
    assert [path.name for path in index_dir.iterdir() if path.name.startswith(".")] == []


def test_a_server_keeps_its_build_out_of_the_collectors_walks_and_frees_the_build_it_leaves(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    """A full collection walks every object the collector tracks; a server's builds are frozen out of it.

    A build whose objects refer to each other in a cycle is still freed once the server has switched
    away from it: frozen objects are not collected, so each switch unfreezes before it collects.
    """
    live = LiveHelpCenter(built_settings, fake_embedder)
    live.settles_heap = True
    try:
        before = live.get()
        tracked = {id(item) for item in gc.get_objects()}
        assert id(before) not in tracked and id(before.index) not in tracked
        assert gc.get_freeze_count() > 0
        before.cycle = before  # type: ignore[attr-defined]
        left = weakref.ref(before)
        del before
        (built_settings.articles / "account" / "reset-password.md").unlink()
        build_index(built_settings, fake_embedder, show_progress=False)
        after = live.settled()
        assert after.article("reset-password") is None
        assert left() is None
        assert id(after) not in {id(item) for item in gc.get_objects()}
    finally:
        gc.unfreeze()


def test_readers_keep_their_build_while_a_new_one_is_published(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    live = LiveHelpCenter(built_settings, fake_embedder)
    before = live.get()
    old_build = before.index.directory
    (built_settings.articles / "account" / "reset-password.md").unlink()
    build_index(built_settings, fake_embedder, show_progress=False)
    assert before.article("reset-password") is not None  # an open reader keeps a whole, consistent build
    assert old_build.is_dir()
    assert live.get() is before  # the request that notices the publish is not kept waiting
    after = live.settled()
    assert after is not before and after.article("reset-password") is None
    assert live.get() is after


def test_a_failed_build_leaves_the_live_index_untouched(built_settings: Settings) -> None:
    live_before = current_build(built_settings.index)

    class BrokenEmbedder(FakeEmbedder):
        model_fingerprint = FakeEmbedder.model_fingerprint

        def encode(self, texts: list[str]) -> np.ndarray:
            raise RuntimeError("model crashed")

    (built_settings.articles / "new.md").write_text("---\ntitle: New\n---\nFresh text.\n")
    with pytest.raises(RuntimeError):
        build_index(built_settings, BrokenEmbedder(), show_progress=False)
    assert current_build(built_settings.index) == live_before
    assert len(list((built_settings.index / "builds").iterdir())) == 1


def test_an_index_built_with_another_model_is_refused(built_settings: Settings) -> None:
    class OtherModel(FakeEmbedder):
        model_name = "other-model"
        model_fingerprint = "other0002"

    with pytest.raises(ModelMismatchError) as refused:
        LiveHelpCenter(built_settings, OtherModel()).get()
    message = str(refused.value)
    assert "built with model 'fake-bag-of-words'" in message and "'other-model'" in message
    assert "kb index" in message


def test_another_model_reembeds_everything_instead_of_reusing(built_settings: Settings) -> None:
    class OtherModel(FakeEmbedder):
        model_fingerprint = "other0002"

    report = build_index(built_settings, OtherModel(), show_progress=False)
    assert report.reused_count == 0


def test_missing_index_is_reported(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    with pytest.raises(IndexNotFoundError, match="run 'kb index' first"):
        LiveHelpCenter(Settings(index=tmp_path / "none"), fake_embedder).get()


def test_index_records_spell_the_vocabulary_as_plain_strings(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """The enums serialise as before, byte for byte, and come back as enum members."""
    articles = tmp_path / "articles"
    shutil.copytree(DATA / "help_center", articles)
    (articles / "no-title.md").write_text("---\nsummary: Lost its title.\n---\nText.\n", encoding="utf-8")
    settings = Settings(articles=articles, index=tmp_path / "index")
    build_index(settings, fake_embedder, show_progress=False)
    build = current_build(settings.index)
    playbook = next(
        item
        for item in json.loads((build / "articles.json").read_text(encoding="utf-8"))
        if item["slug"] == "refund-escalation-playbook"
    )
    assert playbook["visibility"] == "internal"
    chunk_lines = (build / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    assert any('"kind": "question"' in line for line in chunk_lines)
    assert any('"kind": "section"' in line for line in chunk_lines)
    assert '"severity": "error"' in (build / "problems.json").read_text(encoding="utf-8")
    index = load_published_index(settings.index)
    assert index.articles["refund-escalation-playbook"].visibility is Visibility.INTERNAL
    assert {chunk.kind for chunk in index.chunks} == {ChunkKind.SECTION, ChunkKind.QUESTION}
    assert [problem.severity for problem in index.problems] == [Severity.ERROR]


HIDING_EDITS = {
    "internal with a bad tags value": ("tags: [password, login]", "tags: {password: login}\nvisibility: internal"),
    "an unknown visibility": ("tags: [password, login]", "tags: [password, login]\nvisibility: internal-only"),
    "draft as text": ("tags: [password, login]", 'tags: [password, login]\ndraft: "true"'),
    "internal with broken YAML": ("title: Reset your password", "title: [unclosed\nvisibility: internal"),
    "draft with broken YAML": ("title: Reset your password", "title: [unclosed\ndraft: yes"),
    "a capitalised visibility key": ("tags: [password, login]", "tags: [password, login]\nVisibility: internal"),
    "a misspelled draft key": ("tags: [password, login]", "tags: [password, login]\ndarft: true"),
    "a misspelled key with broken YAML": ("title: Reset your password", "title: [unclosed\nvisiblity: internal"),
}


@pytest.mark.parametrize("restarted", [False, True], ids=["same builder", "after a restart"])
@pytest.mark.parametrize("edit", HIDING_EDITS, ids=list(HIDING_EDITS))
def test_a_broken_edit_that_asks_to_hide_an_article_hides_it_at_once(
    settings: Settings, fake_embedder: FakeEmbedder, edit: str, restarted: bool
) -> None:
    builder = IndexBuilder(settings, fake_embedder)
    builder.build(show_progress=False)
    live = LiveHelpCenter(settings, fake_embedder)
    assert live.get().article("reset-password") is not None
    article = settings.articles / "account" / "reset-password.md"
    old, new = HIDING_EDITS[edit]
    article.write_text(article.read_text().replace(old, new))
    report = (IndexBuilder(settings, fake_embedder) if restarted else builder).build(show_progress=False)
    assert {problem.path for problem in report.errors} == {"account/reset-password.md", "getting-started/welcome.md"}
    assert [str(problem) for problem in report.errors if problem.path == "getting-started/welcome.md"] == [
        "getting-started/welcome.md:18: error: link to internal article 'reset-password', "
        "which customers cannot see: the link is left out of the page"
    ]
    assert [problem.message for problem in report.problems if not problem.is_error] == [HIDDEN_NOTE]
    center = live.settled()
    assert "/articles/reset-password" not in center.article("welcome").html  # type: ignore[union-attr]
    assert center.article("reset-password") is None
    assert center.renamed_to("forgot-password") is None
    assert "reset-password" not in [result.slug for result in center.search("forgot my password reset", 5).results]
    assert "reset-password" not in {record.slug for record in center.articles()}
    kept = center.article("reset-password", Audience.AGENT)  # agents keep the last good version
    assert kept is not None and "Request a reset link" in kept.html


def test_a_broken_edit_that_does_not_ask_to_hide_keeps_the_last_good_version_public(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    build_index(settings, fake_embedder, show_progress=False)
    article = settings.articles / "account" / "reset-password.md"
    article.write_text(
        article.read_text().replace("tags: [password, login]", "tags: {password: login}\nvisibility: public")
    )
    report = build_index(settings, fake_embedder, show_progress=False)
    assert [problem.message for problem in report.problems if not problem.is_error] == [LAST_GOOD_NOTE]
    assert LiveHelpCenter(settings, fake_embedder).get().article("reset-password") is not None


@pytest.mark.parametrize("restarted", [False, True], ids=["same builder", "after a restart"])
def test_an_edit_that_hides_an_article_but_takes_a_used_alias_hides_it(
    settings: Settings, fake_embedder: FakeEmbedder, restarted: bool
) -> None:
    builder = IndexBuilder(settings, fake_embedder)
    builder.build(show_progress=False)
    article = settings.articles / "billing" / "invoice-basics.md"
    article.write_text(article.read_text().replace("tags:", "visibility: internal\naliases: [forgot-password]\ntags:"))
    report = (IndexBuilder(settings, fake_embedder) if restarted else builder).build(show_progress=False)
    assert [str(problem) for problem in report.problems if problem.path == "billing/invoice-basics.md"] == [
        "billing/invoice-basics.md:5: error: duplicate alias 'forgot-password': "
        "already used by account/reset-password.md",
        f"billing/invoice-basics.md:5: warning: {HIDDEN_NOTE}",
    ]
    center = LiveHelpCenter(settings, fake_embedder).get()
    assert center.article("invoice-basics") is None
    assert center.article("invoice-basics", Audience.AGENT) is not None


def test_a_new_file_that_takes_an_articles_alias_is_one_error_and_the_established_article_stays(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    billing = settings.articles / "billing"
    (billing / "pricing.md").write_text(
        "---\ntitle: Pricing\naliases: [plans]\n---\nOur plans cost little and include a xylophone.\n"
    )
    build_index(settings, fake_embedder, show_progress=False)
    # A new file sorting before it, whose slug is the established article's alias.
    (billing / "plans.md").write_text("---\ntitle: Plans\n---\nA duplicate about a xylophone.\n")
    report = build_index(settings, fake_embedder, show_progress=False)
    assert [str(problem) for problem in report.problems if "plans" in problem.message] == [
        "billing/plans.md:2: error: duplicate slug 'plans': already used by billing/pricing.md; "
        "this article stays unpublished until its slug changes"
    ]
    index = load_published_index(settings.index)
    assert index.articles["pricing"].path == "billing/pricing.md"
    assert "plans" not in index.articles
    assert index.aliases["plans"] == "pricing"
