"""The one site: the layout's navigation, fingerprinted static assets, the favicon and the display filters.

Why one module: every page (``/``, ``/queries``, ``/validate``, ``/api``, ``/stats``, entity, document, search and
browse pages) extends ``templates/layout.html``; what that layout needs from Python — the navigation bar, the URL of
an asset, the display filters of :mod:`service.web.display` — is registered here once, so a new page gets all of it
by extending the layout.

Assets are served under ``/assets/<hash>/<file>`` where ``<hash>`` is a digest of the file's bytes: the URL changes
whenever the file does, so the answer may be cached for a year (``immutable``). A stale or wrong hash is a 404, never
an old file under a new name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    has_request_context,
    redirect,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue

from service.config import VERSION

STATIC = Path(__file__).resolve().parent / "static"

#: ``app.extensions`` key: the set of route rules (:func:`_route_paths`).
ROUTES_KEY = "dprk_kg_route_paths"

#: The shape of a fingerprint in a URL (:func:`fingerprint`).
_HASH = re.compile(r"[0-9a-f]{12}")

#: Long-lived caching for URLs that carry their content's hash.
IMMUTABLE = "public, max-age=31536000, immutable"

bp = Blueprint("site", __name__)


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation bar."""

    key: str
    label: str
    href: str
    current: bool = False


#: The navigation bar: (key, label, path). An entry whose path no route serves (yet) is left out, so the bar never
#: holds a broken link.
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("browse", "Browse", "/browse"),
    ("query", "SPARQL", "/query"),
    ("queries", "Queries", "/queries"),
    ("validate", "Validate", "/validate"),
    ("ontology", "Ontology", "/ontology"),
    ("api", "API", "/api"),
)


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    """A short content hash of a static file (re-read only when the file changes)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _static_file(filename: str) -> Path | None:
    """The file under ``static/`` called ``filename``, or None (no escaping the folder)."""
    path = (STATIC / filename).resolve()
    if STATIC not in path.parents or not path.is_file():
        return None
    return path


def fingerprint(filename: str) -> str:
    """The content hash of ``static/<filename>`` (raises ``FileNotFoundError`` for a missing asset)."""
    path = _static_file(filename)
    if path is None:
        raise FileNotFoundError(f"no static asset {filename!r}")
    stat = path.stat()
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


def asset(filename: str) -> str:
    """The fingerprinted URL of a static asset — what templates call (``{{ asset('site.css') }}``)."""
    return url_for("site.assets", filename=f"{fingerprint(filename)}/{filename}")


def _route_paths() -> frozenset[str]:
    """The app's route rules, read once (routes are fixed when the app starts serving)."""
    paths = current_app.extensions.get(ROUTES_KEY)
    if paths is None:
        paths = current_app.extensions[ROUTES_KEY] = frozenset(rule.rule for rule in current_app.url_map.iter_rules())
    return paths


def nav_items() -> list[NavItem]:
    """The navigation bar entries whose routes exist in this app; ``current`` marks the one the page is under."""
    paths = _route_paths()
    here = request.path if has_request_context() else ""
    return [NavItem(key, label, href, here == href or here.startswith(href + "/"))
            for key, label, href in NAVIGATION if href in paths]


def has_endpoint(endpoint: str) -> bool:
    """Whether ``url_for(endpoint)`` can be built (for optional links to pages other helpers add)."""
    return endpoint in current_app.view_functions


@bp.get("/assets/<path:filename>")
def assets(filename: str) -> ResponseReturnValue:
    """A static asset: at its fingerprinted URL (``/assets/<hash>/<file>``) cacheable for a year; at its plain URL
    (``/assets/<file>``, for links written by hand) revalidated on each use."""
    digest, _, rest = filename.partition("/")
    if rest and _HASH.fullmatch(digest):
        path = _static_file(rest)
        if path is None or fingerprint(rest) != digest:
            abort(404)  # a stale hash is never answered with other bytes
        response = send_file(path, conditional=True, max_age=31536000)
        response.headers["Cache-Control"] = IMMUTABLE
        return response
    path = _static_file(filename)
    if path is None:
        abort(404)
    response = send_file(path, conditional=True)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for ``/favicon.ico`` whatever the page says: send them to the SVG icon."""
    response = redirect(asset("favicon.svg"), code=301)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def init_app(app: Flask) -> None:
    """Give every template the layout's helpers and the display filters."""
    from service.web import display

    app.jinja_env.globals.update(asset=asset, nav_items=nav_items, has_endpoint=has_endpoint,
                                 service_version=VERSION)
    display.init_app(app)
