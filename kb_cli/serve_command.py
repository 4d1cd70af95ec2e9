"""Run the site under gunicorn (or Flask's development server), warming the model before traffic."""

from __future__ import annotations

from typing import Any

from kb.config import Settings


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """Gunicorn's configuration for `settings`: threaded workers, so one slow request blocks no other."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": settings.threads,
        "timeout": 60,
        "accesslog": "-",
    }


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
            app.extensions["kb"].warm_up()  # load the model now, not on the first customer's search
            return app

    HelpCenterServer().run()
