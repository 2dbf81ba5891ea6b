"""The outermost WSGI layer: a request id on every answer, and one observation per request (metrics, JSON log).

Why outermost — outside compression, admission control and the SPARQL fast path: those layers answer some
requests themselves (a 503 from admission, a query on the fast path), and only a layer around all of them sees
every answer, with the bytes actually sent. For each request it:

* takes the client's (or proxy's) ``X-Request-Id`` when it is well-formed — at most :data:`MAX_ID_LENGTH`
  characters of a safe set (letters, digits and ``._:+/=-``), so a hostile value (huge, CR/LF, quotes) never
  reaches a header or a log line — and otherwise makes one; the id is echoed in the answer's ``X-Request-Id``
  header, errors included, and carried by every log record written while answering (:data:`service.logs.REQUEST_ID`);
* when the answer is finished (a whole body: when the app returns it; a streamed one: when the server closes it),
  counts it once in the metrics by method, route and status, with its latency (:mod:`service.web.metrics`), and
  with LOG_FORMAT=json writes one line: time, request_id, method, route, status, duration_ms, bytes.

The route is the URL rule that answered (``/id/<path:slug>``), never the raw path, so neither the metrics' labels
nor the log's field grow with the URLs clients invent; a request no rule matches is :data:`metrics.UNMATCHED`.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask

from service import logs
from service.web import metrics

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: The longest ``X-Request-Id`` taken from a request (longer ones are replaced, not cut).
MAX_ID_LENGTH = 128
_SAFE_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,%d}" % MAX_ID_LENGTH)  # noqa: UP031 (a regex: braces stay literal)
#: The request's id, for the layers and views inside (``environ[ENVIRON_KEY]``).
ENVIRON_KEY = "dprk_kg.request_id"
HEADER = "X-Request-Id"

access_log = logging.getLogger("dprk_kg.access")


def request_id(given: str | None) -> str:
    """``given`` when it is a well-formed id, else a new one (32 hex digits)."""
    if given is not None and _SAFE_ID.fullmatch(given):
        return given
    return os.urandom(16).hex()  # as random as uuid4, without building a UUID object


class _Observed:
    """A streamed body: counts its bytes and finishes the observation when exhausted or closed (once)."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[int], None]) -> None:
        self._body = body
        self._finish = finish
        self._sent = 0
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._sent += len(chunk)
            yield chunk
        self._end()

    def _end(self) -> None:
        if not self._done:
            self._done = True
            self._finish(self._sent)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._end()


class Observe:
    """WSGI middleware: request ids, metrics and the JSON request log (see the module's docstring)."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self.app = app
        self.inner = inner
        self.metrics = metrics.of(app)
        self.log_requests = app.config.get("LOG_FORMAT") == "json"
        self._adapter = app.url_map.bind("localhost")
        self._match = functools.lru_cache(maxsize=1024)(self._match_rule)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        rid = request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_KEY] = rid
        logs.REQUEST_ID.set(rid)
        status: list[str] = []

        def start(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            status[:] = [status_line]
            if any(name.lower() == "x-request-id" for name, _ in headers):
                headers = [(name, value) for name, value in headers if name.lower() != "x-request-id"]
            headers = [*headers, (HEADER, rid)]
            return start_response(status_line, headers, exc_info)

        def finish(sent: int) -> None:
            self._finish(environ, rid, status[0] if status else "500", started, sent)

        try:
            body = self.inner(environ, start)
        except BaseException:
            finish(0)
            raise
        if isinstance(body, list):  # a whole answer: observed now, handed on as it is (no wrapper on the hot path)
            finish(sum(map(len, body)))
            return body
        return _Observed(body, finish)

    def _finish(self, environ: dict[str, Any], rid: str, status_line: str, started: float, sent: int) -> None:
        seconds = time.perf_counter() - started
        method = environ.get("REQUEST_METHOD", "GET")
        route = self.route(environ)
        status = int(status_line[:3]) if status_line[:3].isdigit() else 500
        if self.metrics is not None:
            self.metrics.observe_request(method, route, status, seconds)
        if self.log_requests:
            access_log.info("%s %s %d", method, route, status, extra={
                "request_id": rid, "method": method, "route": route, "status": status,
                "duration_ms": round(seconds * 1000, 3), "bytes": sent})
        logs.REQUEST_ID.set(None)

    def route(self, environ: dict[str, Any]) -> str:
        """The URL rule that answered: Flask's, else the rule the path matches (the fast path, admission's
        refusals), else :data:`metrics.UNMATCHED`."""
        request = environ.get("werkzeug.request")
        rule = getattr(request, "url_rule", None)
        if rule is not None:
            return rule.rule
        return self._match(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))

    def _match_rule(self, method: str, path: str) -> str:
        try:
            rule, _ = self._adapter.match(path, method, return_rule=True)
        except Exception:  # not found, method not allowed, a redirect to the slash form
            return metrics.UNMATCHED
        return rule.rule


def init_app(app: Flask) -> None:
    """Put the observing layer around everything else (after compression: the bytes counted are those sent)."""
    app.wsgi_app = Observe(app, app.wsgi_app)  # type: ignore[method-assign]
