"""One error handler: `{"error": {"code", "message"}}` for the API, a friendly page for the site."""

from __future__ import annotations

import re
from urllib.parse import unquote

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
from kb.search.service import SearchResult

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


# What a visitor reads where Werkzeug would show its developer text ("If you entered the URL manually...").
PLAIN_MESSAGES = {
    400: "Your browser sent a request this site could not understand.",
    404: "We couldn't find that page. It may have been moved or removed.",
    405: "That page cannot be used that way.",
    413: "What you sent is too large for this site.",
    414: "That address is too long for this site.",
    429: "Too many requests in a short time. Please wait a minute and try again.",
}
SUGGESTIONS = 5
NO_SUGGESTION_PATHS = ("/media/", "/static/", "/agent/", "/preview/")
MAX_SUGGESTION_QUERY = 200


def words_of_path(path: str) -> str:
    """The words of a URL's last segment ('/articles/reset-my-password' -> 'reset my password'), as a query."""
    segment = unquote(path.rstrip("/").rpartition("/")[2])
    if path.startswith(NO_SUGGESTION_PATHS) or re.search(r"\.\w{1,5}$", segment):
        return ""  # a missing image or file: its name is no question
    words = re.findall(r"[^\W_]+", segment)
    return " ".join(word for word in words if not word.isdigit())[:MAX_SUGGESTION_QUERY]


def suggestions_for(path: str) -> list[SearchResult]:
    """Public articles matching the words of a URL that answered 404; none when search itself is failing."""
    query = words_of_path(path)
    if not query:
        return []
    try:
        from web.state import help_center

        return help_center().search(query, SUGGESTIONS).results
    except Exception:  # a dead end stays a friendly page even when search is down
        current_app.logger.warning("no suggestions for %s", path, exc_info=True)
        return []


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error_body(code, message)), status
    suggestions = suggestions_for(request.path) if status == 404 else []
    return render_template(
        "error.html",
        status=status,
        code=code,
        message=message,
        suggestions=suggestions,
        suggestion_query=words_of_path(request.path) if status == 404 else "",
    ), status


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
    message = error.description or error.name
    if not wants_json() and (not error.description or error.description == type(error).description):
        message = PLAIN_MESSAGES.get(error.code, SERVER_ERROR_MESSAGE if error.code >= 500 else message)
    response = make_response(*error_response(error.code, code_for_status(error.code), message))
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
