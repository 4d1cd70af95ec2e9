"""Static files under content-hashed names, gzip-compressed, cached for a year; a theme's files come first.

Every file of `web/static` and of the theme folder's `static` (which overrides them by name) is read
once at start-up, CSS and JavaScript minified. Pages link `/static/style.3f2a9c1b.css`: the name
changes whenever the content does, so browsers may keep it forever (`immutable`) and a repeat
visit loads nothing but the page.
The plain name (`/static/style.css`) still answers, with `no-cache`, for links from outside.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import rcssmin
import rjsmin
from flask import Blueprint, Flask, Response, abort, current_app, request

BUILT_IN = Path(__file__).parent / "static"
YEAR_SECONDS = 365 * 24 * 3600
MAX_ASSET_BYTES = 5 * 1024 * 1024  # a logo or a font; anything bigger belongs on a CDN
COMPRESSIBLE = ("text/", "application/javascript", "image/svg+xml", "application/json")
HASH_LENGTH = 10

blueprint = Blueprint("assets", __name__)


@dataclass(frozen=True)
class Asset:
    name: str  # as templates ask for it: 'style.css', 'images/logo.svg'
    hashed_name: str  # 'style.0123456789.css'
    body: bytes
    compressed: bytes | None  # gzip, when that is smaller
    mimetype: str
    etag: str


def minified(name: str, body: bytes) -> bytes:
    """CSS and JavaScript without comments and spare whitespace (rcssmin and rjsmin keep strings and regexes)."""
    if name.endswith(".css"):
        return bytes(rcssmin.cssmin(body.decode("utf-8")).encode("utf-8"))
    if name.endswith(".js"):
        return bytes(rjsmin.jsmin(body.decode("utf-8")).encode("utf-8"))
    return body


def make_asset(name: str, body: bytes) -> Asset:
    body = minified(name, body)
    digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
    stem, dot, suffix = name.rpartition(".")
    hashed_name = f"{stem}.{digest}.{suffix}" if dot and stem else f"{name}.{digest}"
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    compressed = None
    if mimetype.startswith(COMPRESSIBLE):
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        compressed = packed if len(packed) < len(body) else None
    return Asset(name, hashed_name, body, compressed, mimetype, digest)


class Assets:
    """The site's static files by name and by hashed name."""

    def __init__(self, folders: list[Path], extra: dict[str, bytes] | None = None) -> None:
        """`folders` in order of precedence (the theme's first); `extra` holds generated files such as brand.css."""
        self.by_name: dict[str, Asset] = {}
        for folder in reversed(folders):
            for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
                relative = path.relative_to(folder).as_posix()
                hidden = any(part.startswith(".") for part in relative.split("/"))
                if path.is_file() and not hidden and path.stat().st_size <= MAX_ASSET_BYTES:
                    self.by_name[relative] = make_asset(relative, path.read_bytes())
        for name, body in (extra or {}).items():
            self.by_name[name] = make_asset(name, body)
        self.by_hashed_name = {asset.hashed_name: asset for asset in self.by_name.values()}

    def url(self, name: str) -> str:
        """The fingerprinted URL of `name`; a missing file is a bug in a template, so it fails loudly."""
        return f"/static/{self.by_name[name].hashed_name}"

    def has(self, name: str) -> bool:
        return name in self.by_name


def assets() -> Assets:
    found: Assets = current_app.extensions["kb_assets"]
    return found


@blueprint.get("/static/<path:filename>")
def static_file(filename: str) -> Response:
    found = assets()
    asset = found.by_hashed_name.get(filename)
    fingerprinted = asset is not None
    asset = asset or found.by_name.get(filename)
    if asset is None:
        abort(404)
    if request.if_none_match.contains(asset.etag):
        response = Response(status=304)
    elif asset.compressed is not None and "gzip" in request.accept_encodings:
        response = Response(asset.compressed, mimetype=asset.mimetype)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(asset.body, mimetype=asset.mimetype)
    if asset.compressed is not None:
        response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(asset.etag)
    response.headers["Cache-Control"] = f"public, max-age={YEAR_SECONDS}, immutable" if fingerprinted else "no-cache"
    return response


def init_app(app: Flask, folders: list[Path], extra: dict[str, bytes]) -> None:
    app.extensions["kb_assets"] = Assets(folders, extra)
    app.jinja_env.globals["asset_url"] = lambda name: assets().url(name)
    app.jinja_env.globals["has_asset"] = lambda name: assets().has(name)
    app.register_blueprint(blueprint)
