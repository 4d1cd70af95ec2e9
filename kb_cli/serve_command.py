"""Run the site under gunicorn (or Flask's development server), warming the model before traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kb.config import Settings
from kb.errors import IndexFormatError
from kb.index.format import Manifest, check_build_files, read_manifest
from kb.live import first_loadable_build

GUNICORN_REQUEST_LINE_CEILING = 8190  # gunicorn reads no longer request line than this
GUNICORN_DEFAULT_REQUEST_LINE = 4094
BYTES_PER_QUERY_CHARACTER = 12  # a 4-byte UTF-8 character, percent-encoded


def request_line_limit(settings: Settings) -> int:
    """Bytes of request line to accept: the longest query allowed, percent-encoded, within gunicorn's ceiling.

    A 700-character Cyrillic query is about 4,200 bytes once percent-encoded, past gunicorn's default.
    """
    longest = len(f"GET /api/search?q=&k={settings.max_results} HTTP/1.1")
    longest += BYTES_PER_QUERY_CHARACTER * settings.max_query_length
    return min(GUNICORN_REQUEST_LINE_CEILING, max(GUNICORN_DEFAULT_REQUEST_LINE, longest))


def index_banner(settings: Settings) -> str:
    """What start-up says about the index to serve; a damaged live build never stops the start.

    Checks what the workers will load, cheaply (manifests and file presence), falling back as they do.

    Raises:
        IndexNotFoundError: nothing was ever published in the index folder.
    """

    def manifest_of(build_dir: Path) -> Manifest:
        manifest = read_manifest(build_dir)
        check_build_files(build_dir)
        return manifest

    try:
        manifest, _, note = first_loadable_build(settings.index, manifest_of)
    except IndexFormatError as error:
        return (
            f"Warning: {error}\nNo build in {settings.index} can be read: every page answers 503 "
            "until 'kb index' publishes a sound build. Serving"
        )
    warning = f"Warning: {note}\n" if note else ""
    return f"{warning}Serving {manifest.article_count} articles from {settings.index}"


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """Gunicorn's configuration for `settings`: threaded workers, so one slow request blocks no other."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "kb_cli.http_worker.HelpCenterWorker",  # gthread, with gunicorn's own errors in our shapes
        "threads": settings.threads,
        "timeout": 60,
        "accesslog": "-",
        "limit_request_line": request_line_limit(settings),
        "http_parser": "python",  # the parser HelpCenterWorker learns an over-long request's target from
        # gunicorn 27's control socket lives at one path per user: two servers on a host would share it.
        "control_socket_disable": True,
        "worker_exit": flush_search_log,
    }


def flush_search_log(server: Any, worker: Any) -> None:
    """gunicorn's worker exit: write what the worker's search log still holds before the process ends."""
    from kb.store.search_log import close_all

    close_all()


def prepare_database(settings: Settings) -> None:
    """Before any worker starts: move an old database into the data folder, create a new one at head.

    Done once here, so workers never race to create tables. A database that cannot be reached does
    not stop the server: the public site needs none, and agent features answer 503 until it is back.

    Raises:
        SchemaOutdatedError: the database needs `kb db upgrade` first.
    """
    from kb.errors import DatabaseUnavailableError
    from kb.store.data_folder import database_url
    from kb.store.schema import ensure_schema

    try:
        ensure_schema(database_url(settings))
    except DatabaseUnavailableError as error:
        click.echo(f"Warning: {error}; serving the public site, agent features answer 503 until it answers", err=True)


def run_server(settings: Settings, debug: bool = False) -> None:
    from web import create_app

    if debug:
        app = create_app(settings=settings)
        app.run(host=settings.host, port=settings.port, debug=True)
        return

    from gunicorn.app.base import BaseApplication

    class HelpCenterServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in gunicorn_options(settings).items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            app = create_app(settings=settings)
            live = app.extensions["kb"]
            live.settles_heap = True  # a worker serves for hours: its builds stay out of the collector's walks
            live.warm_up()  # load the model now, not on the first customer's search
            return app

    HelpCenterServer().run()
