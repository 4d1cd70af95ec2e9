"""The scale benchmarks' help center generator writes valid, varied articles, the same ones for a seed."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

from kb.content.articles import Visibility
from kb.content.loading import load_articles
from kb.content.problems import Severity

GENERATOR = Path(__file__).parents[2] / "bench" / "generate_help_center.py"
spec = importlib.util.spec_from_file_location("generate_help_center", GENERATOR)
assert spec is not None and spec.loader is not None
generator = importlib.util.module_from_spec(spec)
sys.modules["generate_help_center"] = generator
spec.loader.exec_module(generator)


def test_every_generated_article_is_valid_and_the_mix_is_realistic(tmp_path: Path) -> None:
    sections = generator.generate(tmp_path, 400, seed=3)
    loaded = load_articles(tmp_path)
    assert [problem for problem in loaded.problems if problem.severity == Severity.ERROR] == []
    articles = loaded.articles
    assert len(articles) == 400
    assert 3.5 <= sections / 400 <= 4.6  # about 40,000 sections for 10,000 articles
    assert len({article.category for article in articles}) == len(generator.AREAS)
    internal = sum(article.visibility == Visibility.INTERNAL for article in articles)
    drafts = sum(article.draft for article in articles)
    assert 8 <= internal <= 36 and 4 <= drafts <= 24
    titles = Counter(article.title for article in articles)
    assert titles.most_common(1)[0][1] <= 4  # near misses, not copies
    assert sum(bool(article.questions) for article in articles) > 200


def test_the_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    generator.generate(tmp_path / "one", 30, seed=11)
    generator.generate(tmp_path / "two", 30, seed=11)
    generator.generate(tmp_path / "other", 30, seed=12)

    def files(folder: Path) -> dict[str, str]:
        return {path.relative_to(folder).as_posix(): path.read_text() for path in sorted(folder.rglob("*.md"))}

    assert files(tmp_path / "one") == files(tmp_path / "two")
    assert files(tmp_path / "one") != files(tmp_path / "other")
