"""The writers' lint rules of kb.authoring.rules, each on a small folder of articles written for the case."""

from __future__ import annotations

import shutil
import subprocess
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
)
from kb.authoring.slug_history import follow_names, historical_slugs
from kb.config import Settings
from kb.content.compiler import CompiledHelpCenter, compile_help_center
from tests.conftest import FakeEmbedder

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def write(root: Path, path: str, text: str) -> None:
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")


def compile_folder(root: Path) -> CompiledHelpCenter:
    return compile_help_center(root, Settings(articles=root, index=root.parent / "index"))


def lines_of(problems: list) -> list[str]:  # type: ignore[type-arg]
    return [str(problem) for problem in problems]


def git(root: Path, *arguments: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=Writer",
            "-c",
            "user.email=writer@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *arguments,
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_links_to_missing_sections_are_errors_on_their_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        "billing/refunds.md",
        "---\ntitle: Refunds\n---\nIntro.\n\n## Monthly plans\n\nText.\n\n#### Fine print\n\nMore.\n",
    )
    write(
        tmp_path,
        "guide.md",
        "\n".join(
            [
                "---",
                "title: Guide",
                "aliases: [old-guide]",
                "---",
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
    problems = missing_sections(compile_folder(tmp_path))
    assert lines_of(problems) == [
        "guide.md:6: error: link to missing section 'refunds#annual-plans'",
        "guide.md:7: error: link to missing section 'refunds#annual-plans'",
        "guide.md:8: error: link to missing section '#nowhere'",
        "guide.md:9: error: link to missing section 'refunds#annual-plans'",
        "guide.md:10: error: link to missing section '#café-menu'",
    ]


def test_a_missing_article_is_left_to_the_compiler(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\ntitle: A\n---\nSee [b](b.md#part).\n")
    compiled = compile_folder(tmp_path)
    assert missing_sections(compiled) == []
    assert lines_of(compiled.problems) == ["a.md:4: error: link to missing article 'b.md#part'"]


def test_articles_without_text_are_errors(tmp_path: Path) -> None:
    write(tmp_path, "empty.md", "---\ntitle: Empty\n---\n")
    write(tmp_path, "title-only.md", "---\nsummary: Only a title.\ntitle: Title only\n---\n# Title  only\n")
    write(tmp_path, "headings-only.md", "---\ntitle: Headings only\n---\n## One\n\n## Two\n")
    write(tmp_path, "short.md", "---\ntitle: Short\n---\nOne word: yes.\n")
    problems = empty_articles(compile_folder(tmp_path))
    assert lines_of(problems) == [
        "empty.md:2: error: article has no text below its title",
        "headings-only.md:2: error: article has no text below its title",
        "title-only.md:3: error: article has no text below its title",
    ]


def test_an_article_without_summary_gets_a_warning_on_its_title(tmp_path: Path) -> None:
    write(tmp_path, "with.md", "---\ntitle: With\nsummary: It has one.\n---\nText.\n")
    write(tmp_path, "without.md", "---\ntags: [x]\ntitle: Without\n---\nText.\n")
    assert lines_of(missing_summaries(compile_folder(tmp_path))) == [
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


def section_vectors(compiled: CompiledHelpCenter, embedder, known):  # type: ignore[no-untyped-def]
    sections = section_chunks(compiled)
    vectors, _ = embed_chunks(sections, embedder, known, show_progress=False)
    return {chunk.text_hash: vector for chunk, vector in zip(sections, vectors, strict=True)}


def test_near_duplicates_warn_on_the_later_path(tmp_path: Path) -> None:
    write(tmp_path, "billing/refund-policy.md", "---\ntitle: Refund policy\n---\nOur policy.\n")
    write(tmp_path, "billing/refunds.md", "---\ntitle: Refunds\n---\nGet a refund.\n\n## Ask\n\nAsk for a refund.\n")
    write(tmp_path, "account/password.md", "---\ntitle: Password\n---\nReset it.\n")
    compiled = compile_folder(tmp_path)
    vectors = section_vectors(compiled, ChosenVectors(), {})
    assert lines_of(near_duplicates(compiled, vectors, 0.92)) == [
        "billing/refunds.md:1: warning: looks like billing/refund-policy.md (0.93)"
    ]
    assert near_duplicates(compiled, vectors, 0.94) == []


def test_near_duplicates_reuse_known_vectors(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\ntitle: Same\n---\nThe very same words.\n")
    write(tmp_path, "b.md", "---\ntitle: Same\n---\nThe very same words.\n")
    compiled = compile_folder(tmp_path)
    settings = Settings(articles=tmp_path, index=tmp_path.parent / "index")
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


@needs_git
def test_a_renamed_file_without_alias_gets_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "repository" / "articles"
    write(root, "billing/refund.md", "---\ntitle: Refunds\nsummary: Money back.\n---\nText.\n")
    write(root, "billing/credit.md", "---\ntitle: Credit\nslug: money-back\n---\nCredit notes.\n")
    write(root, "other.md", "---\ntitle: Other\n---\nUnrelated.\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "First articles")
    git(root, "mv", "billing/refund.md", "billing/refunds.md")
    write(root, "billing/credit.md", "---\ntitle: Credit\nslug: credit-notes\n---\nCredit notes.\n")
    git(root, "commit", "-qam", "Rename and re-slug")
    problems = renamed_without_alias(compile_folder(root), root)
    assert lines_of(problems) == [
        "billing/credit.md:3: warning: slug changed from 'money-back' to 'credit-notes' in git history: "
        "add 'money-back' to aliases so old links keep working",
        "billing/refunds.md:2: warning: slug changed from 'refund' to 'refunds' in git history: "
        "add 'refund' to aliases so old links keep working",
    ]
    write(root, "billing/credit.md", "---\ntitle: Credit\nslug: credit-notes\naliases: [money-back]\n---\nCredit.\n")
    write(root, "refund.md", "---\ntitle: A new refund article\n---\nThe slug 'refund' is taken again.\n")
    assert renamed_without_alias(compile_folder(root), root) == []


@needs_git
def test_a_staged_rename_is_followed_and_a_slug_changed_before_commit_is_seen(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    write(root, "old-name.md", "---\ntitle: Topic\n---\nText.\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "One")
    git(root, "mv", "old-name.md", "new-name.md")
    assert historical_slugs(root, ["new-name.md"]) == {"new-name.md": ["old-name"]}
    write(root, "new-name.md", "---\ntitle: Topic\nslug: topic\n---\nText.\n")
    problems = renamed_without_alias(compile_folder(root), root)
    assert lines_of(problems) == [
        "new-name.md:3: warning: slug changed from 'old-name' to 'topic' in git "
        "history: add 'old-name' to aliases so old links keep working"
    ]


def test_without_git_history_nothing_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "articles/a.md", "---\ntitle: A\n---\nText.\n")
    assert historical_slugs(tmp_path / "articles", ["a.md"]) == {}
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # git itself is missing
    assert renamed_without_alias(compile_folder(tmp_path / "articles"), tmp_path / "articles") == []


def test_a_rename_and_a_new_file_at_the_old_path_in_one_commit_are_told_apart() -> None:
    names = {"refunds.md": "refunds.md", "refund.md": "refund.md", "edited.md": "edited.md"}
    touched = follow_names(
        names, [("R", ["refund.md", "refunds.md"]), ("A", ["refund.md"]), ("M", ["edited.md"]), ("D", ["gone.md"])]
    )
    assert touched == [("refunds.md", "refunds.md"), ("refund.md", "refund.md"), ("edited.md", "edited.md")]
    assert names == {"refund.md": "refunds.md", "edited.md": "edited.md"}
