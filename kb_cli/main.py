"""The `kb` command: index, check, new, search, eval, watch, serve, agents, db, report; mistakes as one-line errors."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kb import __version__
from kb.config import SearchMode, Settings, unknown_variable_warnings
from kb.content.articles import Visibility
from kb.errors import ArticleError, KbError
from kb.index.embedder import make_embedder
from kb.search.service import Audience
from kb_cli.authoring_commands import import_command, new
from kb_cli.contact_commands import contact
from kb_cli.database_commands import agents, db
from kb_cli.options import env_and_default, location_options
from kb_cli.purge_command import purge
from kb_cli.report_command import report

F = TypeVar("F", bound=Callable[..., Any])


class KbGroup(click.Group):
    """The `kb` command group: the one place a KbError becomes 'Error: message' and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        show_warnings()
        for warning in unknown_variable_warnings():
            click.echo(f"Warning: {warning}", err=True)
        try:
            return super().invoke(ctx)
        except KbError as error:  # settings errors too: each command loads its settings inside this call
            click.echo(f"Error: {error}", err=True)
            ctx.exit(error.exit_code)


class EchoHandler(logging.Handler):
    """Shows the store's logged warnings (a database moved to the data folder, say) on stderr as the CLI's lines.

    A warning from a thread of its own (a server's background writer, say) goes to the process's own
    stderr: it belongs to no command's output, even where a caller has captured that output.
    """

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.levelname.title()}: {record.getMessage()}"
        if click.get_current_context(silent=True) is None:
            print(line, file=sys.__stderr__, flush=True)
        else:
            click.echo(line, err=True)


def show_warnings() -> None:
    """Send `kb.store`'s warnings to stderr (once per process, however many commands run in it)."""
    logger = logging.getLogger("kb.store")
    if not any(isinstance(handler, EchoHandler) for handler in logger.handlers):
        logger.addHandler(EchoHandler(logging.WARNING))


def load_settings(**overrides: Any) -> Settings:
    return Settings.from_env(**overrides)


@click.group(cls=KbGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kb")
def cli() -> None:
    """kb: a self-service help center with semantic search.

    Articles are Markdown files with YAML front matter; `kb index` builds the search index,
    `kb serve` runs the site and its JSON API.
    """


@cli.command()
@location_options
@click.option("--strict", is_flag=True, help="Exit with status 1 when any article has an error.")
def index(articles: Path | None, index: Path | None, model: str | None, strict: bool) -> None:
    """Build the search index from the articles folder (only changed sections are re-embedded)."""
    from indexer.build import build_index

    settings = load_settings(articles=articles, index=index, model=model)
    report = build_index(settings, make_embedder(settings, batch=True))
    for problem in report.problems:
        click.echo(str(problem), err=True)
    click.echo(
        f"Indexed {report.article_count} articles, {report.chunk_count} chunks "
        f"({report.embedded_count} embedded, {report.reused_count} reused) in {report.seconds:.1f} s "
        f"-> {settings.index / 'builds' / report.build_id}"
    )
    if report.errors:
        click.echo(
            f"{len(report.errors)} error(s): the articles named above were left out or have broken links.", err=True
        )
        if strict:
            sys.exit(1)


@cli.command()
@location_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one 'path:line: severity: message' line per problem; json: one object.",
)
@click.option(
    "--similarity",
    type=click.FloatRange(0, 1, min_open=True),
    default=None,
    metavar="FLOAT",
    help=f"Warn about two articles whose vectors are at least this similar (cosine) "
    f"[{env_and_default('duplicate_similarity')}].",
)
@click.option("--no-similarity", is_flag=True, help="Skip the near-duplicate check, and with it the model.")
@click.option(
    "--queries",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Golden-queries YAML file: each query must find its article within its rank.",
)
def check(
    articles: Path | None,
    index: Path | None,
    model: str | None,
    output_format: str,
    similarity: float | None,
    no_similarity: bool,
    queries: Path | None,
) -> None:
    """Lint every article without publishing anything; exit 1 if any has an error.

    Besides the front matter and links to missing articles: links to missing sections, empty
    articles, missing summaries, near-duplicate articles, slugs renamed in git without an alias,
    and with --queries, golden queries that search no longer answers within their rank.
    """
    from kb_cli.check_command import run_check

    settings = load_settings(articles=articles, index=index, model=model, duplicate_similarity=similarity)
    threshold = None if no_similarity else settings.duplicate_similarity
    embedder = make_embedder(settings, batch=True) if threshold is not None or queries is not None else None
    report = run_check(settings, embedder, threshold, queries)
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for problem in report.problems:
            click.echo(str(problem))
        click.echo(
            f"{report.article_count} articles checked: {len(report.errors)} error(s), "
            f"{len(report.warnings)} warning(s)",
            err=True,
        )
    if report.errors:
        sys.exit(1)


@cli.command()
@click.argument("query")
@click.option(
    "-k", "count", type=int, default=None, help=f"Number of articles to return [{env_and_default('default_results')}]."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--audience",
    type=click.Choice([audience.value for audience in Audience]),
    default=Audience.PUBLIC.value,
    show_default=True,
    help="public: customers; agent: internal articles too; preview: drafts too.",
)
@location_options
def search(
    query: str,
    count: int | None,
    as_json: bool,
    audience: str,
    articles: Path | None,
    index: Path | None,
    model: str | None,
) -> None:
    """Search the published index, as the site does."""
    from kb.live import LiveHelpCenter

    settings = load_settings(articles=articles, index=index, model=model)
    help_center = LiveHelpCenter(settings, make_embedder(settings)).get()
    response = help_center.search(query, count or settings.default_results, Audience(audience))
    if as_json:
        click.echo(
            json.dumps(response.to_json(include_visibility=audience != Audience.PUBLIC), ensure_ascii=False, indent=2)
        )
        return
    if response.corrected_query:
        click.echo(f"Showing results for: {response.corrected_query}")
    if not response.results:
        click.echo("No matching articles.")
    for rank, result in enumerate(response.results, start=1):
        section = f" › {result.section}" if result.section else ""
        marker = "" if result.visibility == Visibility.PUBLIC else f" [{result.visibility}]"
        click.echo(f"{rank}. {result.title}{section}{marker}  ({result.score:.3f})")
        click.echo(f"   {result.url}")
        click.echo(f"   {result.snippet}")


@cli.command(name="eval")
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of metrics.")
@click.option(
    "--mode",
    type=click.Choice([mode.value for mode in SearchMode]),
    default=None,
    help=f"Ranking to measure [{env_and_default('search_mode')}].",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the generated articles and index here, so a rerun reuses the embeddings.",
)
@click.option(
    "--articles",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Articles a golden-queries file is measured on [{env_and_default('articles')}].",
)
@click.option(
    "--unanswerable",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Another BEIR-layout folder whose queries DATASET cannot answer: reports abstain_rate.",
)
@click.option("--model", metavar="DIR", default=None, help="Local sentence-transformers model folder [env KB_MODEL].")
def evaluate_command(
    dataset: Path,
    as_json: bool,
    mode: str | None,
    workdir: Path | None,
    articles: Path | None,
    unanswerable: Path | None,
    model: str | None,
) -> None:
    """Score search on a BEIR-layout DATASET folder (corpus.jsonl, queries.jsonl, qrels/test.tsv), or on a
    golden-queries YAML file against the articles (with section accuracy when its queries name sections).

    For a folder it also reports how often search says it has no confident answer (false_abstain_rate)
    and shows an answer card (card_rate, card_precision); with --unanswerable, how often it rightly
    has no answer for the other folder's queries (abstain_rate)."""
    import tempfile

    from kb_cli.eval_command import evaluate, evaluate_golden

    settings = load_settings(model=model, articles=articles)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as temporary:
        if dataset.is_file():
            metrics = evaluate_golden(
                dataset, workdir or Path(temporary), settings, make_embedder(settings, batch=True), mode
            )
        else:
            metrics = evaluate(
                dataset,
                workdir or Path(temporary),
                settings,
                make_embedder(settings, batch=True),
                mode,
                unanswerable=unanswerable,
            )
    if as_json:
        click.echo(json.dumps(metrics))
        return
    click.echo(f"{dataset.name}: {metrics['queries']} queries, mode {mode or settings.search_mode}")
    for name in ("ndcg@10", "mrr@10", "recall@1", "recall@5", "recall@10", "recall@100", "p@1"):
        if name in metrics:
            click.echo(f"  {name:<11}{metrics[name]:.4f}")
    if metrics.get("section_accuracy") is not None:
        click.echo(f"  sections   {metrics['section_accuracy']:.4f} of {metrics['section_queries']} queries")
    for name in ("false_abstain_rate", "abstain_rate", "card_rate", "card_precision"):
        if metrics.get(name) is not None:
            click.echo(f"  {name:<19}{metrics[name]:.4f}")
    click.echo(f"  latency    p50 {metrics['p50_ms']:.1f} ms, p95 {metrics['p95_ms']:.1f} ms")


@cli.command()
@location_options
@click.option("--host", default=None, help=f"Address to listen on [{env_and_default('host')}].")
@click.option("--port", type=int, default=None, help=f"Port to listen on [{env_and_default('port')}].")
@click.option("--workers", type=int, default=None, help=f"Worker processes [{env_and_default('workers')}].")
@click.option("--debug", is_flag=True, help="Flask's development server with reloading and tracebacks.")
@click.option(
    "--watch",
    is_flag=True,
    default=None,
    help="Rebuild the index whenever an article changes, without a restart [env KB_WATCH].",
)
@click.option(
    "--preview",
    is_flag=True,
    default=None,
    help="Writer preview: drafts at /preview/<slug> with banners for problems [env KB_PREVIEW].",
)
def serve(
    articles: Path | None,
    index: Path | None,
    model: str | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    debug: bool,
    watch: bool | None,
    preview: bool | None,
) -> None:
    """Serve the help center and its JSON API (gunicorn; --debug for development)."""
    from kb.search.reranking import CrossEncoderReranker
    from kb_cli.serve_command import index_banner, prepare_database, run_server
    from kb_cli.watch_command import exit_with_watcher, start_watcher_process

    settings = load_settings(
        articles=articles, index=index, model=model, host=host, port=port, workers=workers, watch=watch, preview=preview
    )
    if not settings.secret_key:
        import dataclasses
        import secrets

        # One key for all workers, so a session signed by one worker is valid in the others.
        settings = dataclasses.replace(settings, secret_key=secrets.token_hex(32))
    # Folders that are not there stop the start here; the site would answer 503 to every search.
    make_embedder(settings)
    if settings.reranker:
        CrossEncoderReranker(settings.reranker).check_folder()
    watcher = None
    if settings.watch:
        if not settings.articles.is_dir():
            raise ArticleError(str(settings.articles), None, "articles folder not found")
        watcher = start_watcher_process(settings)
        wait_for_first_build(settings)
    try:
        banner = index_banner(settings)
        prepare_database(settings)  # once, before gunicorn forks its workers
        click.echo(
            f"{banner} on http://{settings.host}:{settings.port}/"
            + (f", watching {settings.articles}" if watcher else ""),
            err=True,
        )
        run_server(settings, debug=debug)
    finally:
        if watcher is not None:
            exit_with_watcher(watcher)


def wait_for_first_build(settings: Settings, timeout: float = 600.0) -> None:
    """Serving starts on the watcher's first build when no index exists yet."""
    import time

    from kb.index.format import CURRENT_LINK

    deadline = time.monotonic() + timeout
    while not (settings.index / CURRENT_LINK).exists() and time.monotonic() < deadline:
        time.sleep(0.2)


@cli.command()
@location_options
def watch(articles: Path | None, index: Path | None, model: str | None) -> None:
    """Keep the index up to date: rebuild after every saved change until interrupted."""
    from kb_cli.watch_command import run_watcher

    settings = load_settings(articles=articles, index=index, model=model)
    if not settings.articles.is_dir():
        raise ArticleError(str(settings.articles), None, "articles folder not found")
    click.echo(f"Watching {settings.articles} (Ctrl+C to stop)", err=True)
    run_watcher(settings)


cli.add_command(new)
cli.add_command(import_command)
cli.add_command(agents)
cli.add_command(contact)
db.add_command(purge)
cli.add_command(db)
cli.add_command(report)


def main() -> None:
    cli(prog_name="kb")


if __name__ == "__main__":
    main()
