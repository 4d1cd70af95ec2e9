"""The writers' lint rules of kb.authoring.rules, each on a small folder of articles written for the case."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build_index
from indexer.embed import embed_chunks
from kb.authoring.rules import (
    empty_articles,
    missing_sections,
    missing_summaries,
    near_duplicates,
    published_vectors,
    renamed_without_alias,
    section_chunks,
    similar_pairs,
)
from kb.authoring.slug_history import follow_names, historical_slugs
from kb.config import Settings
from kb.content.compiler import CompiledHelpCenter, compile_help_center
from kb.content.problems import Problem
from kb.index.embedder import Embedder
from tests.conftest import ArticleWriter, FakeEmbedder, GitRepository


def compile_folder(root: Path) -> CompiledHelpCenter:
    return compile_help_center(root, Settings(articles=root, index=root.parent / "index"))


def lines_of(problems: Sequence[Problem]) -> list[str]:
    return [str(problem) for problem in problems]


def test_links_to_missing_sections_are_errors_on_their_lines(write_article: ArticleWriter) -> None:
    write_article(
        "billing/refunds.md", {"title": "Refunds"}, "Intro.\n\n## Monthly plans\n\nText.\n\n#### Fine print\n\nMore."
    )
    write_article(
        "guide.md",
        {"title": "Guide", "aliases": ["old-guide"]},
        "\n".join(
            [
                "See [monthly](billing/refunds.md#monthly-plans) and [print](refunds#fine-print).",  # 5: fine
                "See [annual](billing/refunds.md#annual-plans).",  # 6
                "Or [annual by slug](refunds#annual-plans) and a note[^1].",  # 7
                "Jump [down](#setup), [up](#nowhere) or [old](old-guide#setup) or [top](refunds).",  # 8
                "Again [annual](refunds#annual-plans).",  # 9
                "Encoded [x](#caf%C3%A9-menu).",  # 10
                "",
                "## Setup",
                "",
                "Text.",
                "",
                "[^1]: A footnote.",
                "",
            ]
        ),
    )
    problems = missing_sections(compile_folder(write_article.root))
    assert lines_of(problems) == [
        "guide.md:6: error: link to missing section 'refunds#annual-plans'",
        "guide.md:7: error: link to missing section 'refunds#annual-plans'",
        "guide.md:8: error: link to missing section '#nowhere'",
        "guide.md:9: error: link to missing section 'refunds#annual-plans'",
        "guide.md:10: error: link to missing section '#café-menu'",
    ]


def test_a_missing_article_is_left_to_the_compiler(write_article: ArticleWriter) -> None:
    write_article("a.md", {"title": "A"}, "See [b](b.md#part).")
    compiled = compile_folder(write_article.root)
    assert missing_sections(compiled) == []
    assert lines_of(compiled.problems) == ["a.md:4: error: link to missing article 'b.md#part'"]


def test_articles_without_text_are_errors(write_article: ArticleWriter) -> None:
    write_article("empty.md", {"title": "Empty"}, "")
    write_article("title-only.md", {"summary": "Only a title.", "title": "Title only"}, "# Title  only")
    write_article("headings-only.md", {"title": "Headings only"}, "## One\n\n## Two")
    write_article("short.md", {"title": "Short"}, "One word: yes.")
    problems = empty_articles(compile_folder(write_article.root))
    assert lines_of(problems) == [
        "empty.md:2: error: article has no text below its title",
        "headings-only.md:2: error: article has no text below its title",
        "title-only.md:3: error: article has no text below its title",
    ]


def test_an_article_without_summary_gets_a_warning_on_its_title(write_article: ArticleWriter) -> None:
    write_article("with.md", {"title": "With", "summary": "It has one."}, "Text.")
    write_article("without.md", {"tags": ["x"], "title": "Without"}, "Text.")
    assert lines_of(missing_summaries(compile_folder(write_article.root))) == [
        "without.md:3: warning: no summary: search results and lists show the first sentence instead"
    ]


class ChosenVectors:
    """Gives texts about refunds fixed vectors whose cosine is 0.93; counts what it embeds."""

    model_name = "chosen"
    model_fingerprint = "chosen01"
    dimension = 3

    def __init__(self) -> None:
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        rows = []
        for text in texts:
            if "policy" in text:
                rows.append([1.0, 0.0, 0.0])
            elif "refund" in text.lower():
                rows.append([0.93, float(np.sqrt(1 - 0.93**2)), 0.0])
            else:
                rows.append([0.0, 0.0, 1.0])
        return np.array(rows, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


def section_vectors(
    compiled: CompiledHelpCenter, embedder: Embedder, known: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    sections = section_chunks(compiled)
    vectors, _ = embed_chunks(sections, embedder, known, show_progress=False)
    return {chunk.text_hash: vector for chunk, vector in zip(sections, vectors, strict=True)}


def test_near_duplicates_warn_on_the_later_path(write_article: ArticleWriter) -> None:
    write_article("billing/refund-policy.md", {"title": "Refund policy"}, "Our policy.")
    write_article("billing/refunds.md", {"title": "Refunds"}, "Get a refund.\n\n## Ask\n\nAsk for a refund.")
    write_article("account/password.md", {"title": "Password"}, "Reset it.")
    compiled = compile_folder(write_article.root)
    vectors = section_vectors(compiled, ChosenVectors(), {})
    assert lines_of(near_duplicates(compiled, vectors, 0.92)) == [
        "billing/refunds.md:1: warning: looks like billing/refund-policy.md (0.93)"
    ]
    assert near_duplicates(compiled, vectors, 0.94) == []


def test_near_duplicates_reuse_known_vectors(write_article: ArticleWriter, tmp_path: Path) -> None:
    write_article("a.md", {"title": "Same"}, "The very same words.")
    write_article("b.md", {"title": "Same"}, "The very same words.")
    compiled = compile_folder(write_article.root)
    settings = Settings(articles=write_article.root, index=tmp_path / "index")
    build_index(settings, FakeEmbedder(), show_progress=False)
    embedder = FakeEmbedder()
    hashes = [chunk.text_hash for item in compiled.articles for chunk in item.chunks]
    known = published_vectors(settings.index, embedder, hashes)
    assert set(known) == set(hashes)
    vectors = section_vectors(compiled, embedder, known)
    assert lines_of(near_duplicates(compiled, vectors, settings.duplicate_similarity)) == [
        "b.md:1: warning: looks like a.md (1.00)"
    ]
    assert embedder.calls == 0
    other_model = ChosenVectors()
    assert published_vectors(settings.index, other_model, hashes) == {}
    assert published_vectors(tmp_path / "no-index", embedder, hashes) == {}


def test_a_renamed_file_without_alias_gets_a_warning(
    write_article: ArticleWriter, make_git_repository: Callable[[Path], GitRepository]
) -> None:
    root = write_article.root
    write_article("billing/refund.md", {"title": "Refunds", "summary": "Money back."}, "Text.")
    write_article("billing/credit.md", {"title": "Credit", "slug": "money-back"}, "Credit notes.")
    write_article("other.md", {"title": "Other"}, "Unrelated.")
    repository = make_git_repository(root)
    repository.commit("First articles")
    repository.rename("billing/refund.md", "billing/refunds.md")
    write_article("billing/credit.md", {"title": "Credit", "slug": "credit-notes"}, "Credit notes.")
    repository.commit("Rename and re-slug")
    problems = renamed_without_alias(compile_folder(root), root)
    assert lines_of(problems) == [
        "billing/credit.md:3: warning: slug changed from 'money-back' to 'credit-notes' in git history: "
        "add 'money-back' to aliases so old links keep working",
        "billing/refunds.md:2: warning: slug changed from 'refund' to 'refunds' in git history: "
        "add 'refund' to aliases so old links keep working",
    ]
    write_article(
        "billing/credit.md", {"title": "Credit", "slug": "credit-notes", "aliases": ["money-back"]}, "Credit."
    )
    write_article("refund.md", {"title": "A new refund article"}, "The slug 'refund' is taken again.")
    assert renamed_without_alias(compile_folder(root), root) == []


def test_a_staged_rename_is_followed_and_a_slug_changed_before_commit_is_seen(
    write_article: ArticleWriter, make_git_repository: Callable[[Path], GitRepository]
) -> None:
    root = write_article.root
    write_article("old-name.md", {"title": "Topic"}, "Text.")
    repository = make_git_repository(root)
    repository.commit("One")
    repository.rename("old-name.md", "new-name.md")
    assert historical_slugs(root, ["new-name.md"]) == {"new-name.md": ["old-name"]}
    write_article("new-name.md", {"title": "Topic", "slug": "topic"}, "Text.")
    problems = renamed_without_alias(compile_folder(root), root)
    assert lines_of(problems) == [
        "new-name.md:3: warning: slug changed from 'old-name' to 'topic' in git "
        "history: add 'old-name' to aliases so old links keep working"
    ]


def test_without_git_history_nothing_is_reported(
    write_article: ArticleWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_article("a.md", {"title": "A"}, "Text.")
    assert historical_slugs(write_article.root, ["a.md"]) == {}
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # git itself is missing
    assert renamed_without_alias(compile_folder(write_article.root), write_article.root) == []


def test_a_rename_and_a_new_file_at_the_old_path_in_one_commit_are_told_apart() -> None:
    names = {"refunds.md": "refunds.md", "refund.md": "refund.md", "edited.md": "edited.md"}
    touched = follow_names(
        names, [("R", ["refund.md", "refunds.md"]), ("A", ["refund.md"]), ("M", ["edited.md"]), ("D", ["gone.md"])]
    )
    assert touched == [("refunds.md", "refunds.md"), ("refund.md", "refund.md"), ("edited.md", "edited.md")]
    assert names == {"refund.md": "refunds.md", "edited.md": "edited.md"}


def test_similar_pairs_are_found_within_and_across_row_blocks() -> None:
    rows = np.eye(7, 4, dtype=np.float32)  # rows 4..6 are zero: similar to nothing
    rows[3] = rows[0]  # 0 ~ 3: across the first block of two rows
    rows[5] = [0.0, 0.6, 0.8, 0.0]  # 5 ~ 2 at exactly 0.8: the threshold counts
    rows[6] = rows[0]  # 6 ~ 0 and 6 ~ 3
    pairs = similar_pairs(rows, 0.8, block_rows=2)
    assert [(earlier, later) for earlier, later, _ in pairs] == [(0, 3), (2, 5), (0, 6), (3, 6)]  # by later row
    assert [score for _, _, score in pairs] == pytest.approx([1.0, 0.8, 1.0, 1.0])
    assert similar_pairs(rows, 0.8, block_rows=100) == pairs
    assert [(earlier, later) for earlier, later, _ in similar_pairs(rows, 0.81)] == [(0, 3), (0, 6), (3, 6)]
