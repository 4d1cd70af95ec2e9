"""Run the site under gunicorn (or Flask's development server), warming the model before traffic."""

from __future__ import annotations

from typing import Any

from kb.config import Settings


def run_server(settings: Settings, debug: bool = False) -> None:
    from web import create_app

    if debug:
        app = create_app(settings=settings)
        app.run(host=settings.host, port=settings.port, debug=True)
        return

    from gunicorn.app.base import BaseApplication

    class HelpCenterServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{settings.host}:{settings.port}",
                "workers": settings.workers,
                "worker_class": "gthread",
                "threads": 4,
                "timeout": 60,
                "accesslog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            app = create_app(settings=settings)
            app.extensions["kb"].warm_up()  # load the model now, not on the first customer's search
            return app

    HelpCenterServer().run()
