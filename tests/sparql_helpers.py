"""Helpers shared by the SPARQL protocol tests: a small writable service and a way to count what it holds."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyoxigraph as ox
from flask.testing import FlaskClient

EX = "http://example.org/"
TOKEN = "test-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SELECT_JSON = {"Accept": "application/sparql-results+json"}


def n(local: str) -> ox.NamedNode:
    """An IRI in the example namespace."""
    return ox.NamedNode(EX + local)


def seed(app: Any) -> None:
    """Two small named graphs: g1 says a→1, g2 says b→2 (through the store, like any setup)."""
    app.extensions["dprk_kg_store"].apply(add=[
        ox.Quad(n("a"), n("p"), ox.Literal("1"), n("g1")),
        ox.Quad(n("b"), n("p"), ox.Literal("2"), n("g2")),
    ])


def quad_count(app: Any) -> int:
    """Every quad of the store, the default graph included (to check that nothing changed)."""
    rows = app.extensions["dprk_kg_store"].select(
        "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }").rows
    return int(rows[0][0].value)


def snapshot(app: Any) -> str:
    """The whole store as sorted N-Quads lines (to check that nothing changed, term for term)."""
    store = app.extensions["dprk_kg_store"]
    return "\n".join(sorted(str(q) for q in store.quads()))


def values(response: Any, variable: str) -> list[str]:
    """The values of one variable in a SPARQL JSON response."""
    return [b[variable]["value"] for b in response.get_json(force=True)["results"]["bindings"] if variable in b]


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """An HTTP server that records every request it gets and answers 404 (to prove nothing was fetched)."""

    requests: list[str]

    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        self.send_response(404)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def recording_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server on a free port; yields its base URL and the list of paths it was asked for."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


class BufferedClient(FlaskClient):
    """A test client that reads each streamed response at once, as a WSGI server does before the next request.

    (Flask's default client leaves a streamed body unread until ``.data`` is used; two unread streams on one
    thread would share the store connection, which never happens under a real server.)
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def buffered_client(app: Any) -> BufferedClient:
    """A :class:`BufferedClient` of ``app``."""
    return BufferedClient(app, app.response_class, use_cookies=True)
