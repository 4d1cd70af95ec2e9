"""Images and attachments kept beside the articles, served read-only to those who may read an article showing them."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from flask import Blueprint, Response, abort, send_file

from kb.content.compiler import media_file
from kb.search.service import Audience
from web.auth import signed_in_agent
from web.state import help_center, settings

blueprint = Blueprint("media", __name__)
# Files a browser could run as a page are sent as downloads inside a sandbox, never rendered inline.
DOWNLOAD_ONLY = frozenset({".svg", ".pdf", ".txt", ".csv", ".json", ".zip"})
MAX_AGE_SECONDS = 3600


def may_fetch(filename: str) -> tuple[bool, bool]:
    """(whether this visitor may fetch `filename`, whether everyone may)."""
    center = help_center()
    if filename in center.media(Audience.PUBLIC):
        return True, True
    # Writers in preview and signed-in agents read internal articles and drafts, images included.
    if settings().preview or signed_in_agent() is not None:
        return filename in center.media(Audience.PREVIEW), False
    return False, False


@blueprint.get("/media/<path:filename>")
def media(filename: str) -> Response:
    allowed, public = may_fetch(filename)
    root = settings().articles.resolve()
    # media_file refuses `_` and `.` folders and any symbolic link, checked again now: the file
    # may have changed since the build that recorded it.
    file = media_file(root, filename) if allowed else None
    if file is None:
        abort(404, description="No such file.")
    path = PurePosixPath(filename)
    response = send_file(file, mimetype=mimetypes.guess_type(filename)[0], max_age=MAX_AGE_SECONDS, conditional=True)
    if not public:
        response.cache_control.public = False
        response.cache_control.private = True
    if path.suffix.lower() in DOWNLOAD_ONLY:
        response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
