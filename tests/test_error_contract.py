"""Every KbError states its code, HTTP status and exit code, and the API, OpenAPI and CLI all obey them."""

from __future__ import annotations

import ast
import http
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Flask

from kb import errors
from kb.config import Settings
from kb.errors import ArticleError, ConfigError, KbError, error_classes
from kb_cli.main import KbGroup
from tests.conftest import REPOSITORY
from web.errors import CODE_OF_STATUS, SERVER_ERROR_MESSAGE, UNAVAILABLE_MESSAGES
from web.openapi import openapi_document

CONTRACT = ("code", "http_status", "exit_code")
SUBCLASSES = [kind for kind in error_classes() if kind is not KbError]


def instance_of(kind: type[KbError]) -> KbError:
    """An error of `kind` with a recognisable message, whatever its constructor takes."""
    if issubclass(kind, ArticleError):
        return kind("articles/broken.md", 3, "something is wrong")
    return kind("something is wrong")


def test_the_hierarchy_is_found() -> None:
    # Guards the tests below against passing on an empty list.
    assert {"ConfigError", "QueryError", "StorageError", "DatasetError"} <= {kind.__name__ for kind in SUBCLASSES}


def test_every_error_class_lives_in_kb_errors() -> None:
    """No module outside kb/errors.py declares a subclass of one of its classes."""
    names = {kind.__name__ for kind in error_classes()}
    elsewhere = []
    for package in ("kb", "indexer", "web", "kb_cli"):
        for file in sorted((REPOSITORY / package).rglob("*.py")):
            if file == Path(errors.__file__):
                continue
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    bases = {
                        base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases
                    }
                    if bases & names:
                        elsewhere.append(f"{file.relative_to(REPOSITORY)}:{node.lineno}: {node.name}")
    assert elsewhere == []


@pytest.mark.parametrize("kind", SUBCLASSES, ids=lambda kind: kind.__name__)
def test_every_error_states_its_own_code_status_and_exit_code(kind: type[KbError]) -> None:
    for attribute in CONTRACT:
        assert attribute in vars(kind), f"{kind.__name__} inherits {attribute} instead of stating it"
    assert isinstance(kind.code, str) and kind.code.isidentifier() and kind.code.islower()
    assert kind.http_status in {status.value for status in http.HTTPStatus} and kind.http_status >= 400
    assert isinstance(kind.exit_code, int) and 1 <= kind.exit_code <= 125  # 0 is success; >125 the shell's


def test_every_code_is_unique_among_errors_and_http_statuses() -> None:
    codes = [kind.code for kind in error_classes()] + list(CODE_OF_STATUS.values())
    assert len(codes) == len(set(codes)), sorted(code for code in codes if codes.count(code) > 1)


@pytest.mark.parametrize("kind", SUBCLASSES, ids=lambda kind: kind.__name__)
def test_the_api_answers_each_error_with_its_class_status_and_code(kind: type[KbError], app: Flask) -> None:
    error = instance_of(kind)

    def fail() -> Any:
        raise error

    app.add_url_rule("/api/fail", "fail", fail)
    response = app.test_client().get("/api/fail")
    assert response.status_code == kind.http_status
    # The server's own failures are told without their details (paths of the server): the log has them.
    public = str(error) if kind.http_status < 500 else UNAVAILABLE_MESSAGES.get(kind.code, SERVER_ERROR_MESSAGE)
    assert response.get_json() == {"error": {"code": kind.code, "message": public}}


def test_openapi_lists_exactly_the_codes_of_each_documented_status(built_settings: Settings) -> None:
    document = openapi_document(built_settings)
    status_of = {
        answer["$ref"].rpartition("/")[2]: int(status)
        for item in document["paths"].values()
        for operation in item.values()
        for status, answer in operation["responses"].items()
        if "$ref" in answer
    }
    assert set(status_of.values()) == {400, 401, 404, 413, 414, 503}  # 405 is described once, for every path
    for name, status in status_of.items():
        schema = document["components"]["responses"][name]["content"]["application/json"]["schema"]
        documented = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
        expected = sorted(kind.code for kind in error_classes() if kind.http_status == status)
        expected += [CODE_OF_STATUS[status]] if status in CODE_OF_STATUS else []
        assert documented == expected, name


@pytest.mark.parametrize("kind", SUBCLASSES, ids=lambda kind: kind.__name__)
def test_the_cli_reports_each_error_in_one_line_with_its_exit_code(kind: type[KbError]) -> None:
    error = instance_of(kind)

    @click.group(cls=KbGroup)
    def group() -> None:
        """A stand-in for `kb`."""

    @group.command()
    def fail() -> None:
        raise error

    result = CliRunner().invoke(group, ["fail"])
    assert result.exit_code == kind.exit_code
    assert result.stderr == f"Error: {error}\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_two_problems_make_one_config_error_naming_both() -> None:
    error = ConfigError("KB_PORT must be a whole number, got 'x'", "KB_WORKERS must be at least 1, got 0")
    assert error.problems == ["KB_PORT must be a whole number, got 'x'", "KB_WORKERS must be at least 1, got 0"]
    assert str(error) == (
        "2 problems with the settings: KB_PORT must be a whole number, got 'x'; KB_WORKERS must be at least 1, got 0"
    )
