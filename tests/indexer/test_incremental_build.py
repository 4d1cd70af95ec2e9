"""A watcher's rebuild after edits writes what a fresh build of the same articles writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from indexer.build import IndexBuilder
from kb.config import Settings
from kb.index.format import ARTICLES_FILE, CHUNKS_FILE, PROBLEMS_FILE, Audience, current_build, load_published_index
from tests.conftest import DATA, FakeEmbedder


def build_files(settings: Settings) -> dict[str, object]:
    """What readers see of the live build: its record files as text, its BM25 postings, vocabularies and vectors."""
    build = current_build(settings.index)
    index = load_published_index(settings.index)
    files: dict[str, object] = {
        name: (build / name).read_text(encoding="utf-8") for name in (CHUNKS_FILE, PROBLEMS_FILE)
    }
    files[ARTICLES_FILE] = (build / ARTICLES_FILE).read_text(encoding="utf-8")
    for audience in Audience:
        lexical = index.lexical[audience]
        assert lexical.retriever is not None
        stems = sorted(stem for stem in lexical.retriever.vocab_dict if stem)
        files[f"{audience} postings"] = {stem: [array.tolist() for array in lexical.postings(stem)] for stem in stems}
        files[f"{audience} vocabulary"] = lexical.vocabulary
        files[f"{audience} chunks"] = lexical.chunk_ids.tolist()
    files["vectors"] = index.vectors.vectors(np.arange(index.vectors.size)).tolist()
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    files["manifest"] = {key: value for key, value in manifest.items() if key not in ("build_id", "built_at")}
    return files


def edit(articles: Path) -> None:
    """A body edit, a new article, an article made internal, a deleted one and one made invalid."""
    password = articles / "account" / "reset-password.md"
    password.write_text(password.read_text().replace("\n## ", "\nAsk about the zanzibar setting.\n\n## ", 1))
    (articles / "account" / "new-article.md").write_text("---\ntitle: Quarterly exports\n---\nExport every quarter.\n")
    invoices = articles / "billing" / "invoice-basics.md"
    invoices.write_text(invoices.read_text().replace("---\n", "---\nvisibility: internal\n", 1))
    (articles / "getting-started" / "welcome.md").unlink()
    playbook = articles / "playbooks" / "refund-escalation-playbook.md"
    playbook.write_text(playbook.read_text().replace("title:", "title: [unclosed", 1))


def test_a_rebuild_after_edits_writes_what_a_fresh_build_writes(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(DATA / "help_center", articles)
    watched = Settings(articles=articles, index=tmp_path / "watched")
    builder = IndexBuilder(watched, FakeEmbedder())
    builder.build(show_progress=False)
    edit(articles)
    report = builder.build(show_progress=False)
    assert 0 < report.embedded_count < report.chunk_count  # only the edited and new articles' chunks

    fresh = Settings(articles=articles, index=tmp_path / "fresh")
    IndexBuilder(fresh, FakeEmbedder()).build(show_progress=False)  # nothing published there: no kept version
    rebuilt, scratch = build_files(watched), build_files(fresh)
    assert "refund-escalation-playbook" in rebuilt[ARTICLES_FILE]  # kept as last published
    assert "refund-escalation-playbook" not in scratch[ARTICLES_FILE]
    (articles / "playbooks" / "refund-escalation-playbook.md").unlink()  # now both builds leave it out
    report = builder.build(show_progress=False)
    IndexBuilder(fresh, FakeEmbedder()).build(show_progress=False)
    assert report.embedded_count == 0
    rebuilt, scratch = build_files(watched), build_files(fresh)
    assert rebuilt.keys() == scratch.keys()
    for name in rebuilt:
        assert rebuilt[name] == scratch[name], name
    assert "zanzibar" in rebuilt["agent vocabulary"]  # type: ignore[operator]
    index = load_published_index(watched.index)
    internal = {chunk.id for chunk in index.chunks if chunk.slug == "invoice-basics"}
    assert internal <= set(index.lexical[Audience.AGENT].chunk_ids.tolist())
    assert not internal & set(index.lexical[Audience.PUBLIC].chunk_ids.tolist())
