"""The remote store's fast paths keep their answers exact: kept-alive connections, answers passed on as they came,
and the first load streamed through the Oxigraph server's bulk path.

Each fast path replaces a slower one that was right by construction; these tests hold the fast one to the same
answers, against a real Oxigraph server on 127.0.0.1 (and a real TCP relay where connections are counted).
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from service.config import data_root, resolve
from service.rdf.bundle import load_into
from service.store.remote import Dialect, RemoteStore, _Mirror
from tests.conftest import OxigraphServer, start_oxigraph

RESULTS_JSON = "application/sparql-results+json"
TEN_ROWS = "SELECT ?n WHERE { VALUES ?n { 1 2 3 4 5 6 7 8 9 10 } }"


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[OxigraphServer]:
    server = start_oxigraph(tmp_path_factory.mktemp("remote-perf-oxigraph") / "data")
    yield server
    server.stop()


def settings(url: str, **extra: object) -> dict:
    """The service's settings with the remote store at ``url`` (query, update and Graph Store endpoints)."""
    return {**resolve({}), "STORE_URL": url + "/query", "UPDATE_URL": url + "/update",
            "GRAPH_STORE_URL": url + "/store", **extra}


@pytest.fixture(scope="module")
def remote(oxigraph: OxigraphServer) -> Iterator[RemoteStore]:
    """A remote store backend that made the first load of the bundled graph into the empty server."""
    store = RemoteStore(settings(oxigraph.url))
    yield store
    store.close()


def direct(oxigraph: OxigraphServer, query: str) -> bytes:
    """The server's own answer (SPARQL JSON), bypassing our backend."""
    request = urllib.request.Request(f"{oxigraph.query_url}?{urllib.parse.urlencode({'query': query})}",
                                     headers={"Accept": RESULTS_JSON})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def test_the_oxigraph_server_is_spoken_to_with_its_bulk_load() -> None:
    assert Dialect.of("Oxigraph/0.5.13").bulk_post == "no_transaction"
    assert Dialect.of("Virtuoso/07.20.3240 (Linux) x86_64-ubuntu_noble-linux-gnu").bulk_post == ""
    assert Dialect.of("Apache Jena Fuseki (5.0.0)").bulk_post == ""


def test_the_streamed_first_load_is_the_embedded_stores_dataset(remote: RemoteStore, oxigraph: OxigraphServer,
                                                                tmp_path: Path) -> None:
    """The first load (bundle quads, then derived quads as computed, through ``?no_transaction``) holds exactly
    the dataset the embedded store's bulk derivation makes, blank nodes included (compared canonically)."""
    assert remote.dialect.bulk_post == "no_transaction"
    expected = ox.Store()
    load_into(expected, data_root(remote.settings), bulk=True)
    mirror = _Mirror({**remote.settings, "STORE_DIR": str(tmp_path)}, expected)
    assert mirror.bulk_derive()
    request = urllib.request.Request(oxigraph.store_url, headers={"Accept": "application/n-quads"})
    with urllib.request.urlopen(request, timeout=60) as response:
        loaded = ox.Dataset(ox.parse(response.read(), format=ox.RdfFormat.N_QUADS))
    want = ox.Dataset(expected)
    assert len(loaded) == len(want) > 1000
    loaded.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    want.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    assert set(loaded) == set(want)


def test_an_answer_under_the_cap_is_the_stores_own(remote: RemoteStore, oxigraph: OxigraphServer) -> None:
    """Under the row cap, the SPARQL JSON answer is the store's as it came (byte for byte), never marked."""
    result = remote.query(TEN_ROWS, format="json", row_cap=11)
    assert result.body == direct(oxigraph, TEN_ROWS)
    assert result.head == {"kind": "solutions", "vars": ["n"], "truncated": False}
    asked = remote.query("ASK { ?s ?p ?o }", format="json", row_cap=1)
    assert asked.head["kind"] == "boolean" and asked.head["value"] is True
    assert json.loads(asked.body)["boolean"] is True


@pytest.mark.parametrize(("cap", "rows", "truncated"), [(3, 3, True), (10, 10, False), (9, 9, True), (1, 1, True)])
def test_the_row_cap_and_its_mark_stay_exact(remote: RemoteStore, cap: int, rows: int, truncated: bool) -> None:
    """Around the cap (the answer's ``{`` count above it), the answer is cut at the cap exactly and marked when cut."""
    result = remote.query(TEN_ROWS, format="json", row_cap=cap)
    assert result.head["truncated"] is truncated
    data = json.loads(result.body or b"".join(result.chunks))
    assert len(data["results"]["bindings"]) == rows


class _Relay:
    """A TCP relay on 127.0.0.1 to the store that counts the connections made through it."""

    def __init__(self, target: str) -> None:
        host, port = urllib.parse.urlsplit(target).netloc.split(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            upstream = socket.create_connection(self.target, timeout=30)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


def test_requests_from_one_thread_reuse_one_connection(remote: RemoteStore, oxigraph: OxigraphServer) -> None:
    """Twenty queries and an update from one thread: one TCP connection to the store, not one per request."""
    relay = _Relay(oxigraph.url)
    try:
        store = RemoteStore(settings(relay.url, LOAD_DATA=False))
        try:
            for _ in range(20):
                assert store.query(TEN_ROWS, format="json").head["truncated"] is False
            store._update_http("INSERT DATA { GRAPH <urn:x-test:perf> { <urn:x-test:a> <urn:x-test:b> 1 } }")
            store._update_http("DROP SILENT GRAPH <urn:x-test:perf>")
            assert relay.accepted == 1
        finally:
            store.close()
    finally:
        relay.close()
