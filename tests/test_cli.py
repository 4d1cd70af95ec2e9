"""The `kb` command through click's CliRunner: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import kb_cli.main
from kb.config import Settings
from kb_cli.main import cli
from tests.conftest import DATA, ArticleWriter, FakeEmbedder, GitRepository


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeEmbedder:
    embedder = FakeEmbedder()
    monkeypatch.setattr(kb_cli.main, "make_embedder", lambda settings, batch=False: embedder)
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
    assert "2 articles checked: 17 error(s), 3 warning(s)" in result.stderr


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
    assert list(data) == ["query", "results", "confident", "answer_card"]
    assert list(data["results"][0]) == ["slug", "title", "url", "section", "score", "snippet", "confidence", "answers"]
    assert data["results"][0]["url"] == "/articles/invoice-basics#track-payment"


def test_search_text_output_and_agent_audience(runner: CliRunner, settings: Settings) -> None:
    runner.invoke(cli, ["index", "--articles", str(settings.articles), "--index", str(settings.index)])
    public = runner.invoke(cli, ["search", "refund escalation Admin Console", "--index", str(settings.index)])
    assert "Agent playbook" not in public.stdout
    agent = runner.invoke(
        cli,
        ["search", "refund escalation Admin Console", "-k", "1", "--audience", "agent", "--index", str(settings.index)],
    )
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
    assert list(metrics) == [
        "ndcg@10",
        "mrr@10",
        "recall@1",
        "recall@5",
        "recall@10",
        "recall@100",
        "p@1",
        "queries",
        "p50_ms",
        "p95_ms",
        "false_abstain_rate",
        "card_rate",
        "card_precision",
    ]
    assert metrics["queries"] == 3
    assert metrics["p@1"] == 1.0 and metrics["ndcg@10"] == 1.0  # each query shares its words with its answer
    rerun = runner.invoke(
        cli, ["eval", str(DATA / "beir_tiny"), "--mode", "lexical", "--workdir", str(tmp_path / "work")]
    )
    assert rerun.exit_code == 0
    assert rerun.stdout.splitlines()[0] == "beir_tiny: 3 queries, mode lexical"
    assert "  ndcg@10    1.0000" in rerun.stdout.splitlines()


def test_eval_measures_abstention_on_another_set_s_queries(runner: CliRunner, tmp_path: Path) -> None:
    """Gardening questions have no answer in a help center about passwords, refunds and invoices."""
    arguments = ["eval", str(DATA / "beir_tiny"), "--workdir", str(tmp_path / "work")]
    result = runner.invoke(cli, [*arguments, "--json", "--unanswerable", str(DATA / "beir_tiny_gardening")])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert {name: metrics[name] for name in list(metrics)[10:]} == {
        "false_abstain_rate": 0.3333,  # "when will my refund arrive on my card" shares too few words with its answer
        "card_rate": 0.3333,
        "card_precision": 1.0,
        "unanswerable_queries": 2,
        "abstain_rate": 1.0,
        "unanswerable_card_rate": 0.0,
    }
    text = runner.invoke(cli, [*arguments, "--unanswerable", str(DATA / "beir_tiny_gardening")]).stdout.splitlines()
    assert text[-5:-1] == [
        "  false_abstain_rate 0.3333",
        "  abstain_rate       1.0000",
        "  card_rate          0.3333",
        "  card_precision     1.0000",
    ]
    missing = runner.invoke(cli, [*arguments, "--unanswerable", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "'--unanswerable': Directory" in missing.stderr


def test_eval_reports_a_bad_dataset_in_one_line(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text("{broken\n")
    result = runner.invoke(cli, ["eval", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {tmp_path / 'corpus.jsonl'}:1: not JSON")


def test_check_reports_a_link_to_a_missing_section(runner: CliRunner, write_article: ArticleWriter) -> None:
    write_article(
        "billing/refunds.md", {"title": "Refunds", "summary": "Money back."}, "Intro.\n\n## Monthly plans\n\nText."
    )
    write_article(
        "guide.md",
        {"title": "Guide", "summary": "A guide."},
        "Read [monthly](billing/refunds.md#monthly-plans).\nRead [annual](refunds#annual-plans).",
    )
    result = runner.invoke(cli, ["check", "--articles", str(write_article.root), "--no-similarity"])
    assert result.exit_code == 1
    assert result.stdout == "guide.md:6: error: link to missing section 'refunds#annual-plans'\n"
    assert result.stderr == "2 articles checked: 1 error(s), 0 warning(s)\n"


def test_check_reports_an_article_without_text(runner: CliRunner, write_article: ArticleWriter) -> None:
    write_article("empty.md", {"summary": "Nothing yet.", "title": "Empty"}, "\n")
    result = runner.invoke(cli, ["check", "--articles", str(write_article.root), "--no-similarity"])
    assert result.exit_code == 1
    assert result.stdout == "empty.md:3: error: article has no text below its title\n"


def test_check_warns_about_a_missing_summary_and_still_passes(runner: CliRunner, write_article: ArticleWriter) -> None:
    write_article("a.md", {"title": "A"}, "Text.")
    result = runner.invoke(cli, ["check", "--articles", str(write_article.root), "--no-similarity"])
    assert result.exit_code == 0
    assert result.stdout == "a.md:2: warning: no summary: search results and lists show the first sentence instead\n"
    assert result.stderr == "1 articles checked: 0 error(s), 1 warning(s)\n"


def test_check_warns_about_near_duplicates_reusing_published_vectors(
    runner: CliRunner, write_article: ArticleWriter, tmp_path: Path, fake_model: FakeEmbedder
) -> None:
    articles, index = write_article.root, tmp_path / "index"
    same = {"title": "Refunds", "summary": "Money back."}
    write_article("billing/refund-policy.md", same, "Ask for your money back within 30 days.")
    write_article("billing/refunds.md", same, "Ask for your money back within 30 days.")
    write_article("account/password.md", {"title": "Password", "summary": "Reset."}, "Reset it here.")
    assert runner.invoke(cli, ["index", "--articles", str(articles), "--index", str(index)]).exit_code == 0
    fake_model.calls = 0
    result = runner.invoke(cli, ["check", "--articles", str(articles), "--index", str(index)])
    assert result.exit_code == 0
    assert result.stdout == "billing/refunds.md:1: warning: looks like billing/refund-policy.md (1.00)\n"
    assert fake_model.calls == 0  # every section's vector came from the published index
    strict = runner.invoke(cli, ["check", "--articles", str(articles), "--index", str(index), "--similarity", "0.5"])
    assert "billing/refunds.md:1: warning: looks like billing/refund-policy.md (1.00)" in strict.stdout
    bad = runner.invoke(cli, ["check", "--articles", str(articles), "--similarity", "1.5"])
    assert bad.exit_code == 2


def test_check_without_similarity_never_makes_the_model(
    runner: CliRunner, articles_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_model(settings: Settings, batch: bool = False) -> None:
        raise AssertionError("the model was asked for")

    monkeypatch.setattr(kb_cli.main, "make_embedder", no_model)
    result = runner.invoke(cli, ["check", "--articles", str(articles_dir), "--no-similarity"])
    assert result.exit_code == 0, result.output


def test_check_warns_about_a_slug_renamed_in_git_without_alias(
    runner: CliRunner, write_article: ArticleWriter, make_git_repository: Callable[[Path], GitRepository]
) -> None:
    write_article("billing/refund.md", {"title": "Refunds", "summary": "Money back."}, "Text.")
    repository = make_git_repository(write_article.root)
    repository.commit("Add refunds")
    repository.rename("billing/refund.md", "billing/refunds.md")
    repository.commit("Rename refunds")
    result = runner.invoke(cli, ["check", "--articles", str(write_article.root), "--no-similarity"])
    assert result.exit_code == 0
    assert result.stdout == (
        "billing/refunds.md:2: warning: slug changed from 'refund' to 'refunds' in git history: "
        "add 'refund' to aliases so old links keep working\n"
    )
    write_article("billing/refunds.md", {"title": "Refunds", "summary": "Money back.", "aliases": ["refund"]}, "Text.")
    fixed = runner.invoke(cli, ["check", "--articles", str(write_article.root), "--no-similarity"])
    assert fixed.stdout == ""


def test_check_json_format(runner: CliRunner, write_article: ArticleWriter) -> None:
    write_article("a.md", {"title": "A"}, "See [b](#b).")
    result = runner.invoke(cli, ["check", "--articles", str(write_article.root), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "articles": 1,
        "errors": 1,
        "warnings": 1,
        "problems": [
            {
                "path": "a.md",
                "line": 2,
                "severity": "warning",
                "message": "no summary: search results and lists show the first sentence instead",
            },
            {"path": "a.md", "line": 4, "severity": "error", "message": "link to missing section '#b'"},
        ],
    }
    passing = runner.invoke(cli, ["check", "--articles", str(DATA / "help_center"), "--format", "json"])
    assert passing.exit_code == 0
    assert json.loads(passing.stdout) == {"articles": 5, "errors": 0, "warnings": 0, "problems": []}


def test_check_queries_pass_and_reuse_the_published_vectors(
    runner: CliRunner, settings: Settings, fake_model: FakeEmbedder
) -> None:
    queries = DATA / "golden_queries_answered_by_the_test_help_center.yaml"
    runner.invoke(cli, ["index", "--articles", str(settings.articles), "--index", str(settings.index)])
    fake_model.texts.clear()
    result = runner.invoke(
        cli, ["check", "--articles", str(settings.articles), "--index", str(settings.index), "--queries", str(queries)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert fake_model.texts == ["paid invoices turn green", "forgot password", "workspace currency"]


def test_check_queries_fail_with_their_lines(runner: CliRunner, articles_dir: Path) -> None:
    queries = DATA / "golden_queries_with_misses_and_mistakes.yaml"
    result = runner.invoke(cli, ["check", "--articles", str(articles_dir), "--queries", str(queries)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{queries}:{line}: error: {message}"
        for line, message in [
            (2, "'paid invoices turn green' expected welcome within rank 1, found at rank 2"),
            (
                4,
                "'spam folder' expected reset-password#request-a-reset-link within rank 1, found at rank 1 "
                "but landing on '#the-reset-email-never-arrives'",
            ),
            (
                7,
                "'refund escalation Admin Console' expects 'refund-escalation-playbook', which customers never see "
                "(internal)",
            ),
            (9, "'forgot password' expects 'no-such-article', but no indexed article has that slug"),
            (11, "'workspace currency' expects section 'pricing', which welcome does not have"),
            (14, "'expect' is required and must be an article slug"),
            (15, "'rank' must be a whole number of at least 1, got 0"),
            (16, "each entry must be a mapping with 'query' and 'expect'"),
            (19, "unknown key 'expected' (known keys: query, expect, section, rank, kind)"),
        ]
    ]
    assert result.stderr == "5 articles checked: 9 error(s), 0 warning(s)\n"


def test_new_creates_a_draft_that_passes_check_until_it_is_published_with_its_placeholders(
    runner: CliRunner, articles_dir: Path
) -> None:
    result = runner.invoke(cli, ["new", "Export your data", "--category", "Account", "--articles", str(articles_dir)])
    assert result.exit_code == 0, result.output
    created = articles_dir / "account" / "export-your-data.md"
    assert result.stdout == f"{created}\n"
    text = created.read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Export your data\n")
    assert "\ntags: []\n" in text and "\n## " in text
    assert "\ndraft: true  # only the preview shows it; delete this line to publish\n" in text
    check = runner.invoke(cli, ["check", "--no-similarity", "--articles", str(articles_dir)])
    assert check.exit_code == 0
    assert check.stdout == (
        "account/export-your-data.md:2: warning: no summary: search results and lists show the first sentence instead\n"
    )
    created.write_text(text.replace("draft: true", "draft: false"), encoding="utf-8")
    published = runner.invoke(cli, ["check", "--no-similarity", "--articles", str(articles_dir)])
    assert published.exit_code == 1
    assert published.stdout.splitlines()[1] == (
        "account/export-your-data.md:10: error: placeholder text from `kb new` in a published article (3 place(s), "
        "the first here): write the real text, or keep it a draft (draft: true)"
    )


def test_new_warns_about_a_new_category_and_a_title_in_use_and_takes_the_common_options(
    runner: CliRunner, articles_dir: Path, tmp_path: Path
) -> None:
    (articles_dir / "billing-and-plans").mkdir()
    (articles_dir / "billing-and-plans" / "refunds.md").write_text("---\ntitle: Refunds\n---\nText.\n")
    result = runner.invoke(
        cli,
        ["new", "refunds", "--category", "plans", "--summary", "How refunds work.", "--tag", "money", "--tag",
         "refund", "--articles", str(articles_dir), "--index", str(tmp_path / "index")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Warning: category 'plans' is new and gets a folder of its own: did you mean billing-and-plans?\n"
        "Warning: an article titled 'Refunds' already exists: billing-and-plans/refunds.md\n"
    )
    created = articles_dir / "plans" / "refunds-2.md"
    assert result.stdout == f"{created}\n"
    assert "\nsummary: How refunds work.\ntags: [money, refund]\n" in created.read_text(encoding="utf-8")
    by_name = runner.invoke(
        cli, ["new", "Card declined", "--category", "Billing and plans", "--articles", str(articles_dir)]
    )
    assert (by_name.stdout, by_name.stderr) == (f"{articles_dir / 'billing-and-plans' / 'card-declined.md'}\n", "")


def test_new_never_reuses_a_taken_slug(runner: CliRunner, articles_dir: Path) -> None:
    first = runner.invoke(cli, ["new", "Invoice basics", "--articles", str(articles_dir)])
    assert first.stdout == f"{articles_dir / 'invoice-basics-2.md'}\n"
    second = runner.invoke(cli, ["new", "Invoice basics", "--articles", str(articles_dir)])
    assert second.stdout == f"{articles_dir / 'invoice-basics-3.md'}\n"
    alias = runner.invoke(cli, ["new", "Forgot password!", "--articles", str(articles_dir)])
    assert alias.stdout == f"{articles_dir / 'forgot-password-2.md'}\n"


def test_new_refuses_an_empty_title(runner: CliRunner, articles_dir: Path) -> None:
    result = runner.invoke(cli, ["new", "  ", "--articles", str(articles_dir)])
    assert result.exit_code == 2
    assert result.stderr == 'Error: the title is empty: kb new "How to reset your password"\n'


def test_eval_copes_with_untitled_documents_and_long_or_empty_queries(runner: CliRunner, tmp_path: Path) -> None:
    dataset = tmp_path / "odd"
    (dataset / "qrels").mkdir(parents=True)
    (dataset / "corpus.jsonl").write_text(
        '{"_id": "a", "title": "", "text": "Reset your password from the sign-in page."}\n'
        '{"_id": "b", "title": "Refunds: \\"quoted\\" ---", "text": "---\\nRefunds take five days."}\n'
    )
    (dataset / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "password reset " * 200})
        + "\n"
        + json.dumps({"_id": "q2", "text": "   "})
        + "\n"
        + json.dumps({"_id": "q3", "text": "refunds take days"})
        + "\n"
    )
    (dataset / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\ta\t1\nq2\tb\t1\nq3\tb\t1\n")
    result = runner.invoke(cli, ["eval", str(dataset), "--json", "--workdir", str(tmp_path / "work")])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["queries"] == 3
    assert metrics["p@1"] == 0.6667  # the empty query finds nothing; the other two come first


def test_a_misspelled_variable_is_warned_about_once_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    environ = {"KB_LEXICAL_WIEGHT": "0.5", "KB_TEST_POSTGRES_URL": "postgresql://db/test"}
    result = runner.invoke(cli, ["agents", "list", "--database", f"sqlite:///{tmp_path / 'kb.sqlite3'}"], env=environ)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Warning: KB_LEXICAL_WIEGHT is not a kb setting; did you mean KB_LEXICAL_WEIGHT?\n"
        "No agents yet: add one with 'kb agents add NAME'.\n"
    )


def test_every_bad_setting_is_one_error_line_with_exit_status_2(runner: CliRunner, tmp_path: Path) -> None:
    environ = {"KB_PORT": "eighty", "KB_WORKERS": "0"}
    result = runner.invoke(cli, ["serve", "--index", str(tmp_path / "none")], env=environ)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: 2 problems with the settings: KB_PORT must be a whole number, got 'eighty'; "
        "KB_WORKERS must be at least 1, got 0\n"
    )


def test_the_near_duplicate_threshold_comes_from_the_settings(
    runner: CliRunner, write_article: ArticleWriter, tmp_path: Path
) -> None:
    # The fake embedder gives these two a cosine of 0.87: below the default threshold, 0.92.
    refunds = {"title": "Refunds", "summary": "Money back."}
    write_article("refunds.md", refunds, "Ask for your money back within 30 days.")
    write_article("returns.md", refunds, "Ask for your money back within 60 weeks.")
    command = ["check", "--articles", str(write_article.root), "--index", str(tmp_path / "index")]
    assert runner.invoke(cli, command).stdout == ""
    lower = runner.invoke(cli, command, env={"KB_DUPLICATE_SIMILARITY": "0.85"})
    assert lower.stdout == "returns.md:1: warning: looks like refunds.md (0.87)\n"
    assert runner.invoke(cli, [*command, "--similarity", "0.9"], env={"KB_DUPLICATE_SIMILARITY": "0.85"}).stdout == ""


def test_the_server_runs_the_configured_threads_per_worker() -> None:
    from kb_cli.serve_command import gunicorn_options

    options = gunicorn_options(Settings.from_env({"KB_THREADS": "8", "KB_WORKERS": "3"}))
    assert (options["worker_class"], options["workers"], options["threads"]) == (
        "kb_cli.http_worker.HelpCenterWorker",
        3,
        8,
    )


def test_two_servers_on_one_host_share_no_control_socket() -> None:
    from kb_cli.serve_command import gunicorn_options

    assert gunicorn_options(Settings.from_env({}))["control_socket_disable"] is True


def test_check_and_index_report_a_public_link_to_an_internal_article(runner: CliRunner, articles_dir: Path) -> None:
    welcome = articles_dir / "getting-started" / "welcome.md"
    welcome.write_text(
        welcome.read_text() + "\nAsk an agent to follow [the playbook](../playbooks/refund-escalation-playbook.md).\n"
    )
    expected = (
        "getting-started/welcome.md:32: error: link to internal article "
        "'../playbooks/refund-escalation-playbook.md', which customers cannot see: the link is left out of the page"
    )
    checked = runner.invoke(cli, ["check", "--articles", str(articles_dir)])
    assert checked.exit_code == 1
    assert expected in checked.stdout.splitlines()
    indexed = runner.invoke(cli, ["index", "--articles", str(articles_dir), "--index", str(articles_dir.parent / "i")])
    assert expected in indexed.stderr.splitlines()


def test_eval_on_golden_queries_reports_section_accuracy(runner: CliRunner, articles_dir: Path, tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(
        "- query: paid invoices turn green\n  expect: invoice-basics\n  section: track-payment\n"
        "- query: paid invoices turn green\n  expect: invoice-basics\n  section: send-an-invoice\n"
        "- query: forgot password\n  expect: reset-password\n"
    )
    arguments = ["eval", str(golden), "--articles", str(articles_dir), "--workdir", str(tmp_path / "work")]
    result = runner.invoke(cli, [*arguments, "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert list(metrics) == ["p@1", "section_queries", "section_accuracy", "queries", "p50_ms", "p95_ms"]
    assert (metrics["p@1"], metrics["section_queries"], metrics["section_accuracy"], metrics["queries"]) == (
        1.0,
        2,
        0.5,
        3,
    )
    shown = runner.invoke(cli, arguments)
    assert shown.stdout.splitlines()[:3] == [
        "golden.yaml: 3 queries, mode hybrid",
        "  p@1        1.0000",
        "  sections   0.5000 of 2 queries",
    ]


def test_eval_reports_a_bad_golden_entry_on_its_line(runner: CliRunner, articles_dir: Path, tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text("- query: forgot password\n  expect: Not A Slug\n")
    result = runner.invoke(cli, ["eval", str(golden), "--articles", str(articles_dir)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {golden}:2: 'expect' is required and must be an article slug\n"


def test_a_background_threads_warning_stays_out_of_a_commands_output(
    runner: CliRunner, articles_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A server thread left from earlier work warns while a command runs: the command's stderr stays its own."""
    import logging
    import threading

    kb_cli.main.show_warnings()
    release = threading.Event()

    def warn_later() -> None:
        release.wait(5)
        logging.getLogger("kb.store").warning("the agents database is unavailable")

    thread = threading.Thread(target=warn_later)
    thread.start()
    original = kb_cli.main.cli.commands["new"].callback
    assert original is not None

    def new_while_warned(*args: object, **kwargs: object) -> object:
        release.set()
        thread.join()
        return original(*args, **kwargs)

    kb_cli.main.cli.commands["new"].callback = new_while_warned
    try:
        result = runner.invoke(cli, ["new", "  ", "--articles", str(articles_dir)])
    finally:
        kb_cli.main.cli.commands["new"].callback = original
    assert result.stderr == 'Error: the title is empty: kb new "How to reset your password"\n'
    assert "Warning: the agents database is unavailable" in capfd.readouterr().err
