"""Options several `kb` commands share, with help that names their KB_* variable and default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kb.config import Settings, env_variable

F = TypeVar("F", bound=Callable[..., Any])


def env_and_default(name: str) -> str:
    """'env KB_NAME; default VALUE' for an option's help, from the settings registry."""
    return f"env {env_variable(name)}; default {getattr(Settings(), name)}"


def location_options(function: F) -> F:
    """--articles, --index and --model, each defaulting to its KB_* variable, then to the built-in default."""
    function = click.option(
        "--model", metavar="DIR", default=None, help="Local sentence-transformers model folder [env KB_MODEL]."
    )(function)
    function = click.option(
        "--index",
        "index",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=f"Index folder [{env_and_default('index')}].",
    )(function)
    function = click.option(
        "--articles",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=f"Articles folder [{env_and_default('articles')}].",
    )(function)
    return function
