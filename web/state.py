"""Access to the live help center and settings from inside a request."""

from __future__ import annotations

from flask import current_app

from kb.config import Settings
from kb.errors import ModelLoadError
from kb.help_center import HelpCenter
from kb.live import LiveHelpCenter


def live_help_center() -> LiveHelpCenter:
    return current_app.extensions["kb"]


def help_center() -> HelpCenter:
    return live_help_center().get()


def settings() -> Settings:
    return current_app.config["KB_SETTINGS"]


class UnavailableHelpCenter:
    """Stands in for the live help center when the model cannot be loaded, so the site still starts.

    Every request that needs the help center gets the model's error: a 503 with the error shape
    for the API and /healthz, the "unavailable" page for the site.
    """

    def __init__(self, error: ModelLoadError) -> None:
        self.message = str(error)

    def get(self) -> HelpCenter:
        raise ModelLoadError(self.message)  # a new error each time: a raised one keeps growing its traceback

    def warm_up(self) -> None:
        """Nothing can be loaded."""
