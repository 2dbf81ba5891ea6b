"""The one access policy: the write token, the metrics token, and the CORS headers of every answer (the endpoint,
the Graph Store, canned queries).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request

from service import problems


def _bearer() -> str | None:
    """The token of the request's ``Authorization: Bearer`` header, or ``None``."""
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    return given.strip() if scheme.lower() == "bearer" and given.strip() else None


def check_write_access() -> None:
    """Refuse the request unless it carries the configured write token.

    403 when no token is configured (the service is read-only), 401 without an
    ``Authorization: Bearer`` header, 403 for a wrong token (compared in constant time).
    """
    token = current_app.config.get("WRITE_TOKEN")
    if not token:
        raise problems.read_only()
    given = _bearer()
    if given is None:
        raise problems.unauthorized()
    if not hmac.compare_digest(given.encode("utf-8"), str(token).encode("utf-8")):
        raise problems.forbidden("The write token is not valid.")


def check_metrics_access() -> None:
    """Refuse ``/metrics`` unless it carries the METRICS_TOKEN, when one is set (unset: open, like ``/health``).

    401 without an ``Authorization: Bearer`` header, 403 for a wrong token (compared in constant time).
    """
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return
    given = _bearer()
    if given is None:
        raise problems.unauthorized("/metrics needs the metrics token: send 'Authorization: Bearer <token>'.")
    if not hmac.compare_digest(given.encode("utf-8"), str(token).encode("utf-8")):
        raise problems.forbidden("The metrics token is not valid.")


def requires_write(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a view that changes the store: it runs only for a request with the write token."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        check_write_access()
        return view(*args, **kwargs)

    return wrapped


#: Headers a browser may send on a cross-origin read (no Authorization: writes stay same-origin).
CORS_ALLOWED_HEADERS = "Accept, Content-Type, X-Request-Id"


def cors_headers(method: str, update: bool = False) -> list[tuple[str, str]]:
    """The CORS headers for a response (setting CORS_ORIGINS; '' turns them off).

    Preflight requests (OPTIONS) get the methods and headers a read needs. Responses to
    updates get none, so a cross-origin page cannot read their outcome. ``Vary: Origin``
    is listed separately by the callers (it merges with ``Vary: Accept``).
    """
    origins = current_app.config.get("CORS_ORIGINS") or ""
    if not origins or update:
        return []
    headers = [("Access-Control-Allow-Origin", origins),
               ("Access-Control-Expose-Headers", "X-Result-Truncated, Link, Content-Disposition, X-Request-Id")]
    if method == "OPTIONS":
        headers += [("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS"),
                    ("Access-Control-Allow-Headers", CORS_ALLOWED_HEADERS),
                    ("Access-Control-Max-Age", "3600")]
    return headers


def varies_by_origin(cors: list[tuple[str, str]]) -> bool:
    """Whether a response with these CORS headers must say ``Vary: Origin`` (an origin other than ``*``)."""
    return bool(cors) and current_app.config.get("CORS_ORIGINS") != "*"


def add_cors_headers(response: Response) -> Response:
    """Let browsers on other origins read our answers (see :func:`cors_headers`)."""
    headers = cors_headers(request.method, g.get("sparql_update", False))
    for name, value in headers:
        response.headers[name] = value
    if varies_by_origin(headers):
        response.vary.add("Origin")
    return response
