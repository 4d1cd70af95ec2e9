"""Access to the live help center and settings from inside a request."""

from __future__ import annotations

from flask import current_app

from kb.config import Settings
from kb.help_center import HelpCenter


def help_center() -> HelpCenter:
    return current_app.extensions["kb"].get()


def settings() -> Settings:
    return current_app.config["KB_SETTINGS"]
