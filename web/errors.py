"""One error handler: `{"error": {"code", "message"}}` for the API, a friendly page for the site."""

from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from kb.errors import KbError

# Errors raised by Flask and Werkzeug carry a status only: the code each status gets.
CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "too_many_requests",
}


JSON_PATHS = ("/api", "/healthz", "/agent/track")  # and everything under /api/


def is_json_path(path: str) -> bool:
    """Whether errors at `path` answer in the JSON shape (the API, the health check, the workspace tracker)."""
    return path in JSON_PATHS or path.startswith("/api/")


def wants_json() -> bool:
    return is_json_path(request.path)


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def handle_kb_error(error: KbError) -> tuple[Response | str, int]:
    return error_response(error.http_status, error.code, str(error))


def handle_http_error(error: HTTPException) -> Response | HTTPException:
    if error.code is None or error.code < 400:
        return error  # redirects pass through untouched
    code = CODE_OF_STATUS.get(error.code, "http_error" if error.code < 500 else "server_error")
    response = make_response(*error_response(error.code, code, error.description or error.name))
    for name, value in error.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value  # such as Allow on a 405
    return response


def handle_unexpected(error: Exception) -> tuple[Response | str, int]:
    from flask import current_app

    current_app.logger.exception("unhandled error")
    return error_response(500, "server_error", "Something went wrong on our side. Please try again.")


def init_app(app: Flask) -> None:
    app.register_error_handler(KbError, handle_kb_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
