"""The terminal side of live updates: what a writer sees after each save."""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading

import click

from indexer.build import BuildReport
from kb.config import Settings


def print_report(report: BuildReport, changed: set[str]) -> None:
    """Problems of the files just saved (all problems on the first build), then a one-line summary."""
    shown = [problem for problem in report.problems if not changed or problem.path in changed]
    for problem in shown:
        click.echo(str(problem), err=True)
    what = f"{len(changed)} file(s) changed" if changed else "initial build"
    click.echo(
        f"[kb] {what}: {report.article_count} articles, {report.embedded_count} chunk(s) embedded, "
        f"published in {report.seconds:.2f} s",
        err=True,
    )


def run_watcher(settings: Settings, stop: threading.Event | None = None) -> None:
    """Watch forever (or until `stop`): the body of `kb watch` and of the process `kb serve --watch` starts."""
    from indexer.watch import watch_articles
    from kb.index.embedder import make_embedder

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how a writer stops watching
        watch_articles(settings, make_embedder(settings, batch=True), print_report, stop=stop)


def start_watcher_process(settings: Settings) -> multiprocessing.process.BaseProcess:
    """A separate process (started fresh, not forked, so the server's threads and model stay its own)."""
    process = multiprocessing.get_context("spawn").Process(
        target=run_watcher, args=(settings,), daemon=True, name="kb-watch"
    )
    process.start()
    return process


def exit_with_watcher(process: multiprocessing.process.BaseProcess) -> None:
    if process.is_alive():
        process.terminate()
        process.join(timeout=5)
    sys.stderr.flush()
