"""The `kb` command through click's CliRunner: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import kb_cli.main
from kb.config import Settings
from kb_cli.main import cli
from tests.conftest import DATA, FakeEmbedder


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeEmbedder:
    embedder = FakeEmbedder()
    monkeypatch.setattr(kb_cli.main, "make_embedder", lambda settings: embedder)
    return embedder


def test_check_passes_a_valid_help_center(runner: CliRunner, articles_dir: Path) -> None:
    result = runner.invoke(cli, ["check", "--articles", str(articles_dir)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "5 articles checked: 0 error(s), 0 warning(s)" in result.stderr


def test_check_fails_and_names_file_and_line(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--articles", str(DATA / "broken")])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "article_without_title.md:1: error: missing required key 'title'" in lines
    assert "article_with_wrong_types.md:5: error: 'draft' must be true or false, got 'sometimes'" in lines
    assert "2 articles checked: 9 error(s), 1 warning(s)" in result.stderr


def test_articles_folder_comes_from_the_environment(runner: CliRunner, articles_dir: Path) -> None:
    result = runner.invoke(cli, ["check"], env={"KB_ARTICLES": str(articles_dir)})
    assert result.exit_code == 0
    missing = runner.invoke(cli, ["check"], env={"KB_ARTICLES": str(articles_dir / "nope")})
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"Error: {articles_dir / 'nope'}: articles folder not found"
    assert "Traceback" not in missing.output


def test_index_then_search_json(runner: CliRunner, articles_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    built = runner.invoke(cli, ["index", "--articles", str(articles_dir), "--index", str(index)])
    assert built.exit_code == 0, built.output
    assert built.stdout.startswith("Indexed 5 articles, ")
    result = runner.invoke(cli, ["search", "paid invoices turn green", "-k", "2", "--json", "--index", str(index)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["query"] == "paid invoices turn green"
    assert len(data["results"]) == 2
    assert list(data["results"][0]) == ["slug", "title", "url", "section", "score", "snippet"]
    assert data["results"][0]["url"] == "/articles/invoice-basics#track-payment"


def test_search_text_output_and_agent_audience(runner: CliRunner, settings: Settings) -> None:
    runner.invoke(cli, ["index", "--articles", str(settings.articles), "--index", str(settings.index)])
    public = runner.invoke(cli, ["search", "refund escalation Admin Console", "--index", str(settings.index)])
    assert "Agent playbook" not in public.stdout
    agent = runner.invoke(cli, ["search", "refund escalation Admin Console", "-k", "1", "--audience", "agent",
                                "--index", str(settings.index)])
    assert agent.stdout.splitlines()[0].startswith("1. Agent playbook for refund escalations")
    assert "[internal]" in agent.stdout.splitlines()[0]


def test_index_strict_fails_on_broken_articles(runner: CliRunner, tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(DATA / "broken", articles)
    lenient = runner.invoke(cli, ["index", "--articles", str(articles), "--index", str(tmp_path / "i")])
    assert lenient.exit_code == 0
    assert "article_without_title.md:1: error: missing required key 'title'" in lenient.stderr
    strict = runner.invoke(cli, ["index", "--strict", "--articles", str(articles), "--index", str(tmp_path / "i")])
    assert strict.exit_code == 1


def test_user_mistakes_are_one_line_errors(runner: CliRunner, tmp_path: Path) -> None:
    no_index = runner.invoke(cli, ["search", "hello", "--index", str(tmp_path / "none")])
    assert no_index.exit_code == 1
    assert no_index.stderr == f"Error: no search index in {tmp_path / 'none'}: run 'kb index' first\n"
    empty = runner.invoke(cli, ["search", "  ", "--index", str(tmp_path / "none")])
    assert empty.exit_code in (1, 2) and empty.stderr.startswith("Error: ")
    bad_port = runner.invoke(cli, ["serve", "--index", str(tmp_path / "none")], env={"KB_PORT": "x"})
    assert bad_port.exit_code == 2
    assert bad_port.stderr == "Error: KB_PORT must be a whole number, got 'x'\n"


def test_serve_refuses_to_start_without_an_index(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["serve", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.stderr == f"Error: no search index in {tmp_path / 'none'}: run 'kb index' first\n"


def test_eval_prints_every_metric_as_json(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["eval", str(DATA / "beir_tiny"), "--json", "--workdir", str(tmp_path / "work")])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert list(metrics) == ["ndcg@10", "mrr@10", "recall@1", "recall@5", "recall@10", "recall@100", "p@1",
                             "queries", "p50_ms", "p95_ms"]
    assert metrics["queries"] == 3
    assert metrics["p@1"] == 1.0 and metrics["ndcg@10"] == 1.0  # each query shares its words with its answer
    rerun = runner.invoke(cli, ["eval", str(DATA / "beir_tiny"), "--mode", "lexical", "--workdir",
                                str(tmp_path / "work")])
    assert rerun.exit_code == 0
    assert rerun.stdout.splitlines()[0] == "beir_tiny: 3 queries, mode lexical"
    assert "  ndcg@10    1.0000" in rerun.stdout.splitlines()


def test_eval_reports_a_bad_dataset_in_one_line(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text("{broken\n")
    result = runner.invoke(cli, ["eval", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {tmp_path / 'corpus.jsonl'}:1: not JSON")
