"""One error handler: `{"error": {"code", "message"}}` for the API, a friendly page for the site."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from kb.errors import (
    DatabaseUnavailableError,
    IndexFormatError,
    IndexNotFoundError,
    KbError,
    ModelLoadError,
    ModelMismatchError,
    SchemaOutdatedError,
)

SERVER_ERROR_MESSAGE = "Something went wrong on our side. Please try again."
UNAVAILABLE_MESSAGES = {
    IndexNotFoundError.code: "The help center has no search index yet. Please try again in a few minutes.",
    IndexFormatError.code: "The help center's search index cannot be read right now. Please try again shortly.",
    ModelMismatchError.code: "The help center's search index does not match its search model. Please try again later.",
    ModelLoadError.code: "The help center's search model cannot be loaded. Please try again later.",
    DatabaseUnavailableError.code: (
        "The agents' database is not answering, so agent sign-in, the workspace and the agent API are paused "
        "(the public help center keeps working). Please try again in a minute."
    ),
    SchemaOutdatedError.code: (
        "Agent sign-in, the workspace and the agent API are paused until the agents' database is upgraded "
        "(the public help center keeps working)."
    ),
}
# Errors raised by Flask and Werkzeug carry a status only: the code each status gets.
CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    414: "uri_too_long",
    429: "too_many_requests",
    431: "request_headers_too_large",
}


JSON_PATHS = ("/api", "/healthz", "/agent/track")  # and everything under /api/


def is_json_path(path: str) -> bool:
    """Whether errors at `path` answer in the JSON shape (the API, the health check, the workspace tracker)."""
    return path in JSON_PATHS or path.startswith("/api/")


def wants_json() -> bool:
    return is_json_path(request.path)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The one JSON shape of every API error, the HTTP server's own errors included."""
    return {"error": {"code": code, "message": message}}


def code_for_status(status: int) -> str:
    """The error code of an HTTP error that no KbError describes."""
    return CODE_OF_STATUS.get(status, "http_error" if status < 500 else "server_error")


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error_body(code, message)), status
    return render_template("error.html", status=status, code=code, message=message), status


def public_message(error: KbError, status: int) -> str:
    """What a visitor may read of `error`: a failure on the server's side is logged in full (with its paths)
    and described without any detail of the server."""
    if status < 500:
        return str(error)
    current_app.logger.error("%s: %s", error.code, error)
    return UNAVAILABLE_MESSAGES.get(error.code, SERVER_ERROR_MESSAGE)


def handle_kb_error(error: KbError) -> tuple[Response | str, int]:
    return error_response(error.http_status, error.code, public_message(error, error.http_status))


def handle_http_error(error: HTTPException) -> Response | HTTPException:
    if error.code is None or error.code < 400:
        return error  # redirects pass through untouched
    response = make_response(*error_response(error.code, code_for_status(error.code), error.description or error.name))
    for name, value in error.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value  # such as Allow on a 405
    return response


def handle_unexpected(error: Exception) -> tuple[Response | str, int]:
    current_app.logger.exception("unhandled error")
    return error_response(500, "server_error", SERVER_ERROR_MESSAGE)


def init_app(app: Flask) -> None:
    app.register_error_handler(KbError, handle_kb_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
