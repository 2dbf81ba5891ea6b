"""A WSGI front for SPARQL queries on ``/sparql``: the hot path, without Flask's per-request dispatch.

Why: for a small lookup, Flask's request context, routing, response object and
after-request hooks cost more than the store's own work — the gap that kept small
queries far below the standalone Oxigraph server (figures in ``bench/README.md``).
This front answers exactly one kind of request itself: a SPARQL *query* sent to
``/sparql`` by GET or by POST with a ``Content-Length`` (form or direct). It runs the same
functions as the Flask view — :func:`service.web.protocol.parse_request`,
:func:`service.web.sparql.answer_query`, :func:`service.web.errors.render`,
:func:`service.web.access.cors_headers` — so the answers are the same, byte for byte
(``tests/web/test_query_path.py`` compares both paths on a table of requests, errors included).

Everything else — updates, the service description, HEAD, OPTIONS, chunked bodies, every
other path — goes to Flask untouched; a form POST that turns out to be an update is
handed over with its body put back.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from service import problems
from service.web import errors, protocol
from service.web.access import cors_headers, varies_by_origin
from service.web.sparql import answer_query

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Content types of POST requests this front answers (others go to Flask).
_POST_TYPES = (protocol.QUERY_TYPE, protocol.FORM_TYPE)

def status_line(status: int) -> str:
    """``"200 OK"`` for WSGI's ``start_response`` (the reason phrases Flask sends)."""
    return f"{status} {HTTP_STATUS_CODES.get(status, 'Error')}"


class QueryPath:
    """WSGI middleware: answers SPARQL queries on ``/sparql``; passes every other request to ``fallback``.

    Installed by :func:`service.create_app` as ``app.wsgi_app`` (setting FAST_QUERY_PATH);
    ``fallback`` is Flask's own ``wsgi_app``.
    """

    def __init__(self, app: Flask, fallback: WSGIApp) -> None:
        self.app = app
        self.fallback = fallback
        self.endpoint = "/sparql"

    def eligible(self, environ: dict[str, Any]) -> bool:
        """Cheap checks on the request line and headers: is this a query this front answers?"""
        if environ.get("PATH_INFO") != self.endpoint:
            return False
        if "html" in environ.get("HTTP_ACCEPT", ""):
            return False  # a browser may prefer a results page (sparql.html_answer): Flask decides
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            return "query=" in environ.get("QUERY_STRING", "")  # else: service description, errors → Flask
        if method != "POST" or not environ.get("CONTENT_LENGTH"):
            return False  # chunked bodies, HEAD, OPTIONS …: Flask
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        return content_type in _POST_TYPES

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.eligible(environ):
            return self.fallback(environ, start_response)
        with self.app.app_context():
            request = self.app.request_class(environ)
            try:
                base_url = self._base_url(environ)
            except HTTPException:  # e.g. a host not in TRUSTED_HOSTS: Flask answers as it always does
                return self.fallback(environ, start_response)
            try:
                sparql_request = protocol.parse_request(request)
                if sparql_request is None or sparql_request.operation != "query":
                    if environ["REQUEST_METHOD"] == "POST":  # give Flask the body we read
                        body = request.get_data(cache=True)
                        environ["wsgi.input"] = io.BytesIO(body)
                        environ["CONTENT_LENGTH"] = str(len(body))
                    return self.fallback(environ, start_response)
                answer = answer_query(sparql_request, environ.get("HTTP_ACCEPT"), base_url)
            except problems.ApiError as error:
                # /sparql: text errors unless the client asks for JSON
                status, headers, body = errors.render(error, False, environ.get("HTTP_ACCEPT", ""))
                start_response(status_line(status), headers + self._cors(environ, success=False))
                return [body]
            except Exception:
                log.exception("unhandled error on %s %s", environ.get("REQUEST_METHOD"), self.endpoint)
                status, headers, body = errors.render(
                    problems.ApiError(500, "Internal server error; the details are in the server log.",
                                      title="Internal Server Error"), False, environ.get("HTTP_ACCEPT", ""))
                start_response(status_line(status), headers + self._cors(environ, success=False))
                return [body]
            headers = [("Content-Type", answer.content_type)]
            if answer.body is not None:
                headers.append(("Content-Length", str(len(answer.body))))
            headers += answer.headers
            headers += self._cors(environ, success=True)
            start_response("200 OK", headers)
            return [answer.body] if answer.body is not None else answer.chunks

    def _base_url(self, environ: dict[str, Any]) -> str:
        """``request.base_url`` (the base IRI of queries), computed by werkzeug once per host and path."""
        return self._base_url_of(environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST"),
                                 environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
                                 environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""))

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one instance per app, living as long as the app)
    def _base_url_of(self, scheme: str, host: str | None, server_name: str | None, server_port: str | None,
                     script_name: str, path_info: str) -> str:
        environ = {"wsgi.url_scheme": scheme, "SERVER_NAME": server_name, "SERVER_PORT": server_port,
                   "SCRIPT_NAME": script_name, "PATH_INFO": path_info, "REQUEST_METHOD": "GET"}
        if host is not None:
            environ["HTTP_HOST"] = host
        return self.app.request_class(environ).base_url

    def _cors(self, environ: dict[str, Any], success: bool) -> list[tuple[str, str]]:
        """CORS headers plus the ``Vary`` the Flask view sends: Accept on answers, Origin unless CORS is ``*``."""
        headers = cors_headers(environ["REQUEST_METHOD"])
        vary = ["Accept"] if success else []
        if varies_by_origin(headers):
            vary.append("Origin")
        return ([("Vary", ", ".join(vary))] if vary else []) + headers


def init_app(app: Flask) -> None:
    """Put the fast path in front of Flask unless FAST_QUERY_PATH is off."""
    if app.config.get("FAST_QUERY_PATH", True):
        app.wsgi_app = QueryPath(app, app.wsgi_app)  # type: ignore[method-assign]
