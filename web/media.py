"""Images and attachments kept beside the articles, served read-only and only from that folder."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from flask import Blueprint, Response, abort, send_from_directory

from kb.content.compiler import MEDIA_SUFFIXES
from web.state import settings

blueprint = Blueprint("media", __name__)
# Files a browser could run as a page are sent as downloads inside a sandbox, never rendered inline.
DOWNLOAD_ONLY = frozenset({".svg", ".pdf", ".txt", ".csv"})


@blueprint.get("/media/<path:filename>")
def media(filename: str) -> Response:
    path = PurePosixPath(filename)
    if path.suffix.lower() not in MEDIA_SUFFIXES or any(part.startswith(".") for part in path.parts):
        abort(404, description="No such file.")
    root = settings().articles.resolve()
    # send_from_directory refuses paths that leave `root` (.., absolute paths) with a 404.
    response = send_from_directory(root, filename, mimetype=mimetypes.guess_type(filename)[0], max_age=3600)
    if path.suffix.lower() in DOWNLOAD_ONLY:
        response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
