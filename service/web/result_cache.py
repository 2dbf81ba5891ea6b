"""The /sparql result cache: finished answers to repeated GET queries, kept until the next write (as WDQS caches GETs).

Why: dashboards, pages and notebooks ask the same queries again and again, and between two writes the answer to a
deterministic query cannot change. Answering from memory skips admission, the protocol's checks, the guard, the
store round trip and serialization — a repeated query then costs less than on the Oxigraph server itself.

What is kept, and how it is found (a WSGI layer between the request-id layer and compression, so a kept answer is
the one compression sent — gzip or not — and every answer still gets its ``X-Request-Id``):

* only ``GET`` (and ``HEAD``, answered from the same entries) requests to ``/sparql`` with a ``query=`` parameter,
  that do not ask for a results page (``Accept`` naming HTML) and whose answer is ``200``: errors, refusals of the
  guard and 406s are never kept; ``POST`` is never cached (a POST is how a client says "ask the store");
* the key is the raw query string (the query, ``default-graph-uri``/``named-graph-uri``, ``download``), the formats
  the ``Accept`` header negotiates (the results format and the RDF format, so two headers that pick the same
  formats share an entry), whether the answer is gzipped, and the base IRI (scheme, host, script root); the
  entries live in a :class:`service.canned.cache.GenerationCache` of the store's write generation — any write (an
  update, the Graph Store, ``/ingest``) empties it on the next look-up;
* non-deterministic queries are never kept: ``SERVICE`` (another endpoint's data changes without our writes), and
  ``NOW()``, ``RAND()``, ``UUID()``, ``STRUUID()``, ``BNODE()`` (a new value on every evaluation);
* memory is bounded by RESULT_CACHE_BYTES (least recently used first out) and no answer larger than
  RESULT_CACHE_ENTRY_BYTES is kept; a streamed answer is passed on as it streams, and kept only when it ended
  within that size.

``Cache-Control: no-cache`` (or ``Pragma: no-cache``) on the request skips the look-up: the answer is computed
afresh (and kept for the next request); ``no-store`` also keeps it out of the cache. Every answer to a
deterministic GET carries a strong ``ETag`` derived from the key, the service's version, the settings that shape
answers (:data:`ANSWER_SETTINGS`) and the store's state: in remote mode the store's version token, the same at every
instance on that store (so any instance answers ``304`` to another's ETag while the store is unchanged); with the
embedded store its generation and this process's start (a restarted service may hold other data at generation 0).
It is weakened when gzipped as compression does;
``If-None-Match`` with it is answered ``304`` with no body, before the query runs. ``X-Cache`` says ``hit``,
``miss`` or ``bypass`` (not looked up).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from flask import Flask

from service import config, problems
from service.canned.cache import GenerationCache
from service.sparql import lexer
from service.store import client
from service.web import negotiation
from service.web.access import cors_headers, varies_by_origin
from service.web.compression import accepts_gzip

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: ``app.extensions`` key of the cache (its hits and misses are the ``sparql`` cache in the metrics).
EXTENSION_KEY = "dprk_kg_sparql_cache"
#: Bytes counted for an entry beyond its body: its key and headers (so many tiny answers are bounded too).
ENTRY_OVERHEAD = 512
#: Words that make a query's answer change without a write: federation and the non-deterministic functions.
NONDETERMINISTIC = frozenset({"SERVICE", "NOW", "RAND", "UUID", "STRUUID", "BNODE"})
#: Headers of a kept answer that a ``304`` repeats (RFC 9110 §15.4.5), besides the ``ETag``.
_NOT_MODIFIED_HEADERS = frozenset({"vary", "cache-control", "content-location", "expires"})
#: Settings that change what a query answers, besides the store's state: part of every ETag (the store's URL: two
#: stores may have the same version token).
ANSWER_SETTINGS = ("STORE_URL", "ENTAILMENT", "UNION_DEFAULT_GRAPH", "RESULT_ROW_CAP")
_HIT, _MISS, _BYPASS = ("X-Cache", "hit"), ("X-Cache", "miss"), ("X-Cache", "bypass")


@dataclass(frozen=True)
class CachedAnswer:
    """A ``200`` answer as the layers inside sent it (``Content-Length`` recomputed), with its ``ETag``."""

    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str


def _weigh(entry: CachedAnswer) -> int:
    return len(entry.body) + ENTRY_OVERHEAD


def deterministic(text: str) -> bool:
    """Whether a query's answer depends only on the store's state (no SERVICE, no NOW()/RAND()/UUID()/…)."""
    return not (lexer.lex(text).words & NONDETERMINISTIC)


@functools.lru_cache(maxsize=256)
def _formats(accept: str | None) -> tuple[str, str] | None:
    """The results and RDF formats an ``Accept`` header negotiates (``None`` when neither: the answer is an error)."""
    picked = []
    for negotiate in (negotiation.results_format, negotiation.rdf_format):
        try:
            picked.append(negotiate(accept).key)
        except problems.ApiError:
            picked.append("")
    return None if not any(picked) else (picked[0], picked[1])


_gzip = functools.lru_cache(maxsize=256)(accepts_gzip)


def _no_cache(environ: dict[str, Any]) -> tuple[bool, bool]:
    """(skip the look-up, do not keep the answer) from the request's ``Cache-Control`` and ``Pragma``."""
    control = environ.get("HTTP_CACHE_CONTROL", "").lower()
    pragma = environ.get("HTTP_PRAGMA", "").lower()
    no_store = "no-store" in control
    return ("no-cache" in control or "no-cache" in pragma or no_store), no_store


def _matches(if_none_match: str, etag: str) -> bool:
    """``If-None-Match`` against an entity tag by the weak comparison (RFC 9110 §13.1.2)."""
    opaque = etag.removeprefix("W/")
    return any(tag.strip() == "*" or tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


def _query_text(query_string: str) -> str | None:
    """The one ``query`` parameter of a query string (``None`` when missing or repeated: the protocol refuses it)."""
    try:
        values = parse_qs(query_string, keep_blank_values=True, strict_parsing=False).get("query")
    except ValueError:
        return None
    return values[0] if values and len(values) == 1 else None


class _Kept:
    """A streamed answer passed on chunk by chunk, kept when it ended within the entry size."""

    def __init__(self, body: Iterable[bytes], keep: Callable[[bytes], None], limit: int) -> None:
        self._body = body
        self._keep = keep
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        parts: list[bytes] | None = []
        size = 0
        for chunk in self._body:
            if parts is not None:
                size += len(chunk)
                if size > self._limit:
                    parts = None
                else:
                    parts.append(chunk)
            yield chunk
        if parts is not None:
            self._keep(b"".join(parts))

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


class ResultCachePath:
    """WSGI middleware: answers repeated ``GET /sparql?query=…`` from the cache (see the module's docstring)."""

    def __init__(self, app: Flask, inner: WSGIApp, cache: GenerationCache[CachedAnswer], max_entry: int) -> None:
        self.app = app
        self.inner = inner
        self.cache = cache
        self.max_entry = max_entry
        # What besides the store's state and the request decides an answer: the service's version and the settings
        # that shape answers. A store every instance shares (remote mode) names its state with a version token read
        # from the store, so any instance answers 304 to another's ETag; the embedded store's generation is a count
        # of this process's, so its ETags get a per-process salt (a restarted service may hold other data).
        self.answers_by = repr((config.VERSION, *(app.config.get(k) for k in ANSWER_SETTINGS)))
        self.epoch = f"{self.answers_by}:{os.urandom(8).hex()}"
        with app.app_context():
            cors = cors_headers("GET")
            vary = "Accept, Origin, Accept-Encoding" if varies_by_origin(cors) else "Accept, Accept-Encoding"
        self._not_modified = [("Vary", vary), *cors]

    def _generation(self) -> int:
        return self.app.extensions[client.EXTENSION_KEY].generation

    def _state_of(self, generation: int) -> tuple[Any, ...]:
        """What an ETag says of the store's state: its shared version token where it has one (read after
        ``generation``, so never older than the state the answer is computed on), else this process's count."""
        token = getattr(self.app.extensions[client.EXTENSION_KEY], "version_token", None)
        if token is None:
            return (self.epoch, generation)
        return (self.answers_by, "store", token)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        query_string = environ.get("QUERY_STRING", "")
        accept = environ.get("HTTP_ACCEPT")
        if (method not in ("GET", "HEAD") or environ.get("PATH_INFO") != "/sparql" or "query=" not in query_string
                or (accept is not None and "html" in accept)):
            return self.inner(environ, start_response)
        formats = _formats(accept)
        if formats is None:
            return self.inner(environ, start_response)
        gzipped = method == "GET" and _gzip(environ.get("HTTP_ACCEPT_ENCODING"))  # compression never gzips HEAD
        key = (query_string, formats, gzipped, environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"),
               environ.get("SCRIPT_NAME", ""))
        generation = self._generation()  # read before the answer is computed: a write meanwhile is never kept as newer
        skip, no_store = _no_cache(environ)
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if not skip:
            entry = self.cache.get(key, generation)
            if entry is not None:
                if if_none_match and _matches(if_none_match, entry.etag):
                    return self._304(start_response, if_none_match, entry.etag, entry.headers)
                start_response("200 OK", [*entry.headers, ("Content-Length", str(len(entry.body))), _HIT])
                return [entry.body] if method == "GET" else []
        text = _query_text(query_string)
        if text is None or not deterministic(text):
            return self._pass(environ, start_response, _BYPASS)
        etag = '"' + hashlib.blake2b(repr((*self._state_of(generation), key)).encode(),
                                     digest_size=16).hexdigest() + '"'
        if if_none_match and not skip and _matches(if_none_match, etag):
            return self._304(start_response, if_none_match, etag, ())
        return self._compute(environ, start_response, key, generation, etag, keep=not no_store and method == "GET",
                             tag=_BYPASS if skip else _MISS)

    def _304(self, start_response: Callable[..., Any], if_none_match: str, etag: str,
             headers: Iterable[tuple[str, str]]) -> list[bytes]:
        """``304 Not Modified``: no body; the ``ETag`` in the form the client holds (weak when it got it gzipped)."""
        opaque = etag.removeprefix("W/")
        sent = "W/" + opaque if "W/" + opaque in if_none_match else opaque
        kept = [(k, v) for k, v in headers if k.lower() in _NOT_MODIFIED_HEADERS or k.startswith("Access-Control-")]
        start_response("304 Not Modified", [("ETag", sent), *(kept or self._not_modified)])
        return []

    def _pass(self, environ: dict[str, Any], start_response: Callable[..., Any],
              tag: tuple[str, str]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, tag] if status.startswith("200") else headers, exc_info)

        return self.inner(environ, start)

    def _compute(self, environ: dict[str, Any], start_response: Callable[..., Any], key: Any, generation: int,
                 etag: str, *, keep: bool, tag: tuple[str, str]) -> Iterable[bytes]:
        """Run the request through the layers inside; an ``ETag`` on its ``200``, kept when whole and small."""
        state: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            state["status"], state["headers"], state["exc_info"] = status, list(headers), exc_info
            if not status.startswith("200"):
                return start_response(status, headers, exc_info)
            state["started"] = True
            headers = [(k, v) for k, v in headers if k.lower() != "etag"]
            gzipped = any(k.lower() == "content-encoding" for k, _ in headers)
            state["etag"] = ("W/" + etag) if gzipped else etag
            state["headers"] = [*headers, ("ETag", state["etag"])]
            return start_response(status, [*state["headers"], tag], exc_info)

        body = self.inner(environ, capture)
        if not state.get("started") or not keep:
            return body
        headers = tuple((k, v) for k, v in state["headers"] if k.lower() != "content-length")
        length = next((v for k, v in state["headers"] if k.lower() == "content-length"), None)

        def put(data: bytes) -> None:
            self.cache.put(key, generation, CachedAnswer(headers, data, state["etag"]))

        if length is None:  # streamed: passed on as it comes, kept if it ends small enough
            return _Kept(body, put, self.max_entry)
        if not length.isdigit() or int(length) > self.max_entry:
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        if len(data) == int(length):
            put(data)
        return [data]


def init_app(app: Flask) -> None:
    """Put the result cache around compression (kept answers are sent as compression made them) unless
    RESULT_CACHE_BYTES is 0."""
    budget = int(app.config.get("RESULT_CACHE_BYTES") or 0)
    if budget <= 0:
        return
    max_entry = int(app.config.get("RESULT_CACHE_ENTRY_BYTES") or 0)
    cache: GenerationCache[CachedAnswer] = GenerationCache(max(1, budget // ENTRY_OVERHEAD), weigh=_weigh,
                                                           max_weight=max_entry + ENTRY_OVERHEAD, budget=budget)
    app.extensions[EXTENSION_KEY] = cache
    app.wsgi_app = ResultCachePath(app, app.wsgi_app, cache, max_entry)  # type: ignore[method-assign]
