"""Believing a reverse proxy's ``X-Forwarded-*`` headers, only as far as TRUSTED_PROXIES says.

Why: behind a proxy that terminates TLS or serves the service under another host name or prefix, the
service's absolute URLs — the VoID ``void:sparqlEndpoint``, the OpenAPI server, ``Link`` headers, the
``curl`` lines on the pages — must name the address clients use, not ``http://127.0.0.1:8000``. But the
headers are plain request headers that any client can send, so they are ignored unless the operator says
how many proxies stand in front (each appends one value; only that many, counted from the right, are
taken). Werkzeug's ``ProxyFix`` does the rewriting; this module only decides whether and how deep.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """Wrap the app's WSGI entry point in ``ProxyFix`` when TRUSTED_PROXIES is positive."""
    depth = int(app.config.get("TRUSTED_PROXIES") or 0)
    if depth < 0:
        raise ValueError(f"TRUSTED_PROXIES must be 0 or more, not {depth}")
    if depth:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=depth, x_proto=depth, x_host=depth,  # type: ignore[method-assign]
                                x_port=depth, x_prefix=depth)
