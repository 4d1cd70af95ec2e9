"""The terminal side of live updates: what a writer sees after each save."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

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


WATCHER_MODULE = "kb_cli.watch_command"  # run as `python -m WATCHER_MODULE ARTICLES INDEX MODEL` (see `main`)


def start_watcher_process(settings: Settings) -> subprocess.Popen[bytes]:
    """The watcher as a plain child process, started fresh (not forked: the server's threads and model stay its own).

    Not a multiprocessing child: gunicorn's workers, forked after it, inherit multiprocessing's record
    of its children, and a worker that exited (a restart) terminated the watcher on its way out, then
    failed to join it. The other settings come from the environment, which the child inherits.
    """
    return subprocess.Popen(
        [sys.executable, "-m", WATCHER_MODULE, os.fspath(settings.articles), os.fspath(settings.index), settings.model]
    )


def exit_with_watcher(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    sys.stderr.flush()


def main(arguments: list[str]) -> None:
    """The body of the process `start_watcher_process` starts."""
    articles, index, model = arguments
    run_watcher(Settings.from_env(articles=Path(articles), index=Path(index), model=model))


if __name__ == "__main__":
    main(sys.argv[1:])
