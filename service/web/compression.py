"""Compressed answers: gzip when the client accepts it and the body is worth it — the outermost WSGI layer.

Why WSGI middleware rather than an ``after_request`` hook: the SPARQL fast path (:mod:`service.web.query_path`) and
admission control answer without Flask's hooks, and streamed answers must stay streamed. Here every answer passes
through once:

* a whole body (the app set ``Content-Length``) is compressed in one piece and sent with its new length, so
  keep-alive works as before;
* a streamed body (no ``Content-Length``) is compressed chunk by chunk, each flushed (``Z_SYNC_FLUSH``), so a client
  reading a large result sees rows as the store produces them;
* nothing is compressed twice (a ``Content-Encoding`` already set is left alone), nor below
  :data:`MIN_SIZE` bytes, nor a type that is compressed already (images, archives), nor a partial (``206``) or
  ``no-transform`` answer, nor the answer to ``HEAD``;
* every answer whose body could be compressed says ``Vary: Accept-Encoding``, compressed or not, so caches keep the
  two forms apart; a compressed answer's strong ``ETag`` becomes weak (its bytes differ from the identity form's).

Why gzip only: every client and proxy reads it, and it needs nothing beyond the standard library; Brotli would
need a compiled extension for a gain of a few per cent on our answers.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Bodies smaller than this are sent as they are (the gzip header and the round trip cost more than they save).
MIN_SIZE = 1024
#: zlib's level: 6 is its default, nearly the ratio of 9 at a fraction of the time.
LEVEL = 6
#: Whole bodies above this are compressed as a stream instead (never held twice in memory).
MAX_WHOLE = 8 << 20

#: Media types worth compressing: text, and the JSON, XML and RDF syntaxes we write.
_COMPRESSIBLE = re.compile(
    r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|javascript|n-triples|n-quads|trig|turtle|"
    r"sparql-results\+(json|xml)|sparql-query|sparql-update|problem\+json|ld\+json|x-ndjson)|image/svg\+xml)$")


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (RFC 9110 §12.5.3: ``gzip``, ``x-gzip`` or ``*`` with a
    q-value above 0, unless gzip itself is refused)."""
    if not header:
        return False
    found: dict[str, float] = {}
    for part in header.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        found[coding.lower()] = q
    for name in ("gzip", "x-gzip"):
        if name in found:
            return found[name] > 0
    return found.get("*", 0) > 0


def compressible(content_type: str | None) -> bool:
    """Whether an answer of this ``Content-Type`` is worth compressing."""
    if not content_type:
        return False
    return bool(_COMPRESSIBLE.match(content_type.split(";", 1)[0].strip().lower()))


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def _without(headers: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    lowered = {n.lower() for n in names}
    return [(k, v) for k, v in headers if k.lower() not in lowered]


def _add_vary(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``Accept-Encoding`` added to the answer's ``Vary`` (merged into an existing one, never repeated)."""
    vary = [v.strip() for k, value in headers if k.lower() == "vary" for v in value.split(",") if v.strip()]
    if "*" in vary or any(v.lower() == "accept-encoding" for v in vary):
        return headers
    return [*_without(headers, "Vary"), ("Vary", ", ".join([*vary, "Accept-Encoding"]))]


class _Started:
    """A body whose first chunk was read (so that a generator app has called ``start_response``), then the rest;
    ``close()`` reaches the app's own body, as WSGI requires."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self.body = body
        self.iterator = iter(body)
        self.first = next(self.iterator, None)

    def __iter__(self) -> Iterator[bytes]:
        if self.first is not None:
            yield self.first
        yield from self.iterator

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


class Compression:
    """WSGI middleware: gzip for clients that accept it (see the module's docstring)."""

    def __init__(self, app: WSGIApp, *, min_size: int = MIN_SIZE, level: int = LEVEL) -> None:
        self.inner = app
        self.min_size = min_size
        self.level = level

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        wanted = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")) and environ.get("REQUEST_METHOD") != "HEAD"
        state: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            state["status"], state["headers"], state["exc_info"] = status, list(headers), exc_info
            return self._write_unsupported

        body = self.inner(environ, capture)
        if "status" not in state:  # a generator app calls start_response when first iterated
            body = _Started(body)
            if "status" not in state:
                body.close()
                raise RuntimeError("the application returned its body without calling start_response")
        return self._respond(body, start_response, state, wanted)

    @staticmethod
    def _write_unsupported(data: bytes) -> None:
        raise RuntimeError("the legacy WSGI write() callable is not supported behind compression")

    def _respond(self, body: Iterable[bytes], start_response: Callable[..., Any], state: dict[str, Any],
                 wanted: bool) -> Iterable[bytes]:
        status: str = state["status"]
        headers: list[tuple[str, str]] = state["headers"]
        code = int(status.split(" ", 1)[0])
        eligible = (compressible(_header(headers, "Content-Type")) and code not in (204, 206, 304)
                    and _header(headers, "Content-Encoding") is None and _header(headers, "Content-Range") is None
                    and "no-transform" not in (_header(headers, "Cache-Control") or "").lower())
        if eligible:
            headers = _add_vary(headers)
        length = _header(headers, "Content-Length")
        size = int(length) if length and length.isdigit() else None
        if not (eligible and wanted) or (size is not None and size < self.min_size):
            start_response(status, headers, state.get("exc_info"))
            return body
        headers = [*_without(headers, "Content-Length", "ETag"), ("Content-Encoding", "gzip")]
        etag = _header(state["headers"], "ETag")
        if etag:
            headers.append(("ETag", etag if etag.startswith("W/") else "W/" + etag))
        if size is not None and size <= MAX_WHOLE:
            try:
                data = b"".join(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
            compressor = zlib.compressobj(self.level, zlib.DEFLATED, 31)
            packed = compressor.compress(data) + compressor.flush()
            start_response(status, [*headers, ("Content-Length", str(len(packed)))], state.get("exc_info"))
            return [packed]
        start_response(status, headers, state.get("exc_info"))
        return self._stream(body)

    def _stream(self, body: Iterable[bytes]) -> Iterator[bytes]:
        """Compress a streamed body chunk by chunk, flushing each so the client is never kept waiting."""
        compressor = zlib.compressobj(self.level, zlib.DEFLATED, 31)
        try:
            for chunk in body:
                if chunk:
                    yield compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
            yield compressor.flush()
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


def init_app(app: Flask) -> None:
    """Put compression outermost, around admission control and the SPARQL fast path."""
    app.wsgi_app = Compression(app.wsgi_app)  # type: ignore[method-assign]
