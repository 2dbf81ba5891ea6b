"""Admission control: a bounded lane per kind of work, so slow requests can never take every web thread.

Why: the WSGI server has THREADS threads and nothing else decides who gets them; twenty
slow queries (or eight bodies sent a byte at a time) used to hold them all, and a cheap
``ASK`` or the home page waited behind them. This middleware sits in front of the whole app
(Flask and the WSGI fast path for queries alike) and sorts each request by its request line
and headers into a kind:

* ``query`` — SPARQL queries and Graph Store reads (MAX_QUERIES at once);
* ``write`` — updates, Graph Store writes, ``/ingest`` (MAX_WRITES);
* ``validate`` — ``POST /validate`` (MAX_VALIDATIONS);
* ``other`` — pages, canned queries, ``/health``, documents: not limited here.

The first three are *heavy*: together (waiting or running, body reads of any request
included) they hold at most ``THREADS - RESERVED_THREADS`` threads, so the reserved threads
always remain for the ``other`` kind. A heavy request finds its lane full → it waits up to
ADMISSION_WAIT seconds for a slot; all heavy threads taken → it is refused at once. Both
answer 503 with ``Retry-After`` and a message naming the setting.

Request bodies are read here, once, by :class:`service.web.bodies.BodyReader` (size and time
bounded), before any view runs.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import unquote_plus

from flask import Flask

from service import problems
from service.web import errors
from service.web.bodies import BodyReader, has_body

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

QUERY, WRITE, VALIDATE, OTHER = "query", "write", "validate", "other"

#: Each heavy kind's concurrency setting and how its requests are named in a refusal.
LANES: dict[str, tuple[str, str]] = {
    QUERY: ("MAX_QUERIES", "SPARQL queries and Graph Store reads"),
    WRITE: ("MAX_WRITES", "updates and writes"),
    VALIDATE: ("MAX_VALIDATIONS", "validations"),
}

_READ_METHODS = ("GET", "HEAD")


def classify(environ: dict[str, Any]) -> str:
    """The kind of work of a request, from its request line and headers only (the body is not read yet).

    A form POST to ``/sparql`` counts as a query until its body shows an ``update``
    (:func:`form_is_update`).
    """
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    if path == "/sparql":
        if method == "POST":
            content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
            return WRITE if content_type == "application/sparql-update" else QUERY
        return QUERY if method == "GET" and "query=" in environ.get("QUERY_STRING", "") else OTHER
    if path == "/store" or path.startswith("/store/"):
        if method in _READ_METHODS:
            return QUERY
        return OTHER if method == "OPTIONS" else WRITE
    if path == "/ingest" and method == "POST":
        return WRITE
    if path == "/validate" and method == "POST":
        return VALIDATE
    return OTHER


def form_is_update(body: bytes) -> bool:
    """True when a form body has an ``update`` field (names may be percent-encoded)."""
    for pair in body.split(b"&"):
        name = pair.split(b"=", 1)[0]
        if name == b"update" or ((b"%" in name or b"+" in name)
                                 and unquote_plus(name.decode("latin-1")) == "update"):
            return True
    return False


class _Released:
    """A response iterable that gives its admission slot back once the answer is sent (streamed answers).

    The slot is released when the iterable is exhausted or closed, whichever comes first
    (servers close it; an in-process client may only read it to the end), and at the latest
    when it is collected, so no slot is ever lost.
    """

    def __init__(self, inner: Iterable[bytes], release: Callable[[], None]) -> None:
        self._inner = inner
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner
        self._release()

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._release()

    def __del__(self) -> None:
        self._release()


class Admission:
    """WSGI middleware: reads the body (bounded), admits the request to its lane, releases the slot at the end."""

    def __init__(self, app: Flask, inner: WSGIApp, reader: BodyReader) -> None:
        config = app.config
        threads = int(config["THREADS"])
        self.app = app
        self.inner = inner
        self.reader = reader
        self.heavy_cap = max(1, threads - int(config["RESERVED_THREADS"]))
        self.wait = float(config["ADMISSION_WAIT"])
        self.retry_after = max(1, math.ceil(self.wait))
        self._heavy = 0
        self._lock = threading.Lock()
        self.limits = {kind: self._limit(int(config[setting])) for kind, (setting, _) in LANES.items()}
        self._lanes = {kind: threading.BoundedSemaphore(limit) for kind, limit in self.limits.items()}

    def _limit(self, value: int) -> int:
        """A lane's limit: the setting, 0 meaning (and anything larger capped at) all heavy threads."""
        return self.heavy_cap if value <= 0 else min(value, self.heavy_cap)

    def _take_heavy(self) -> None:
        with self._lock:
            if self._heavy >= self.heavy_cap:
                raise problems.overloaded(
                    f"All {self.heavy_cap} web threads for queries, writes, validation and request bodies are busy; "
                    "try again shortly", "THREADS, RESERVED_THREADS", self.retry_after)
            self._heavy += 1

    def _give_heavy(self) -> None:
        with self._lock:
            self._heavy -= 1

    def _take_lane(self, kind: str) -> None:
        if not self._lanes[kind].acquire(timeout=self.wait):
            setting, what = LANES[kind]
            raise problems.overloaded(
                f"{self.limits[kind]} {what} are already running and none finished within {self.wait:g} s; "
                "try again shortly", f"{setting}, ADMISSION_WAIT", self.retry_after)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        kind = classify(environ)
        body = has_body(environ)
        if kind == OTHER and not body:
            return self.inner(environ, start_response)
        lane: str | None = None
        try:
            self._take_heavy()
            try:
                if body:
                    data = self.reader.read(environ)
                    if kind == QUERY and environ.get("PATH_INFO") == "/sparql" and form_is_update(data):
                        kind = WRITE
                if kind != OTHER:
                    self._take_lane(kind)
                    lane = kind
            except BaseException:
                self._give_heavy()
                raise
        except problems.ApiError as error:
            return self._refuse(error, environ, start_response)
        if lane is None:  # an 'other' request whose body is now read: it runs outside the heavy threads
            self._give_heavy()
            return self.inner(environ, start_response)
        return self._run(lane, environ, start_response)

    def _run(self, lane: str, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._lanes[lane].release()
                self._give_heavy()

        try:
            response = self.inner(environ, start_response)
        except BaseException:
            release()
            raise
        if isinstance(response, list):  # answered in full: the work is done
            release()
            return response
        return _Released(response, release)

    def _refuse(self, error: problems.ApiError, environ: dict[str, Any],
                start_response: Callable[..., Any]) -> Iterable[bytes]:
        from service.web.query_path import status_line

        accept = environ.get("HTTP_ACCEPT", "")
        with self.app.app_context():
            status, headers, payload = errors.render(error, errors.is_machine_path(self.app, environ), accept)
        start_response(status_line(status), headers)
        return [payload]


def init_app(app: Flask) -> None:
    """Put admission control (and the one body reader) in front of the finished app's WSGI entry point."""
    reader = BodyReader(int(app.config["MAX_BODY_BYTES"]), float(app.config["BODY_READ_TIMEOUT"]),
                        max_pending=4 * max(1, int(app.config["THREADS"])))
    app.extensions["dprk_kg_bodies"] = reader
    app.wsgi_app = Admission(app, app.wsgi_app, reader)  # type: ignore[method-assign]
