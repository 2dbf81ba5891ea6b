"""The whole service in front of a remote store: ``dprk-kg serve --store-url`` over a real Oxigraph server.

What a user of the remote mode relies on: the service loads the bundled graph into an empty
store, answers canned queries exactly as over the embedded store (the same golden answers),
speaks the SPARQL Protocol (SELECT, CONSTRUCT, ASK), refuses an invalid write with 422 and
leaves the store unchanged (checked at the Oxigraph server itself, not through our service),
writes a valid one, and serves VoID and dumps. Both servers are real processes on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pyoxigraph as ox
import pytest

from service.config import SETTINGS, resolve
from service.store.client import StoreError
from service.store.remote import Dialect, RemoteStore, change_update
from tests.canned.test_canned_golden import GOLDEN, TEXT
from tests.canned_helpers import rows
from tests.conftest import REPO, WRITE_TOKEN, LiveServer, OxigraphServer, start_live_server, start_oxigraph
from tests.shared_helpers import W3C, needs_shared

PREFIXES = """PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>
PREFIX djr: <https://w3id.org/dprk-japan-kg/id/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
RESULTS_JSON = "application/sparql-results+json"


class _Response:
    """The parts of a Flask test response the canned-query helpers read, from a real HTTP response."""

    def __init__(self, status: int, body: bytes, headers: Any) -> None:
        self.status_code = status
        self.data = body
        self.headers = headers

    def get_json(self, force: bool = False) -> Any:
        return json.loads(self.data)

    def get_data(self, as_text: bool = False) -> Any:
        return self.data.decode() if as_text else self.data


class HttpClient:
    """``client.get(path, query_string=…, headers=…)`` over a real socket (the helpers' Flask-client calls)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def request(self, method: str, path: str, query_string: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None, data: bytes | None = None) -> _Response:
        url = self.url + path + ("?" + urllib.parse.urlencode(query_string) if query_string else "")
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return _Response(response.status, response.read(), response.headers)
        except urllib.error.HTTPError as exc:
            return _Response(exc.code, exc.read(), exc.headers)

    def get(self, path: str, **kwargs: Any) -> _Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> _Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[OxigraphServer]:
    server = start_oxigraph(tmp_path_factory.mktemp("remote-oxigraph") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory, oxigraph: OxigraphServer) -> Iterator[LiveServer]:
    """Our service with --store-url at the Oxigraph server (which it loads on first start), writes allowed."""
    server = start_live_server(tmp_path_factory.mktemp("remote-service") / "store",
                               "--store-url", oxigraph.query_url, "--update-url", oxigraph.update_url,
                               "--graph-store-url", oxigraph.store_url, env={"DPRK_KG_WRITE_TOKEN": WRITE_TOKEN})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http(remote: LiveServer) -> HttpClient:
    return HttpClient(remote.url)


def direct_ask(oxigraph: OxigraphServer, where: str) -> bool:
    """Ask the Oxigraph server itself, bypassing our service."""
    query = urllib.parse.urlencode({"query": PREFIXES + f"ASK {{ {where} }}"})
    request = urllib.request.Request(f"{oxigraph.query_url}?{query}", headers={"Accept": RESULTS_JSON})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["boolean"]


def direct_count(oxigraph: OxigraphServer) -> int:
    query = urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION "
                                             "{ GRAPH ?g { ?s ?p ?o } } }"})
    request = urllib.request.Request(f"{oxigraph.query_url}?{query}", headers={"Accept": RESULTS_JSON})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.loads(response.read())["results"]["bindings"][0]["n"]["value"])


def update(http: HttpClient, text: str) -> _Response:
    return http.post("/sparql", data=(PREFIXES + text).encode(),
                     headers={**AUTH, "Content-Type": "application/sparql-update", "Accept": "application/json"})


def test_the_bundled_graph_is_loaded_into_the_empty_store(remote: LiveServer, oxigraph: OxigraphServer) -> None:
    assert direct_ask(oxigraph, "GRAPH djr:doc-000 { djr:doc-000 a dj:SourceDocument }")
    assert direct_ask(oxigraph, "djr:song-il-ho rdfs:label ?l"), "the union default graph is materialized"


@pytest.mark.parametrize(("name", "params", "columns", "expected"), GOLDEN,
                         ids=[f"{g[0]}-{i}" for i, g in enumerate(GOLDEN)])
def test_canned_queries_give_the_golden_answers(http: HttpClient, name: str, params: dict, columns: list,
                                                expected: list) -> None:
    got = rows(http, name, params, columns)
    if len(got) == len(expected):  # cells of our own wording: any non-empty text
        got = [tuple(TEXT if e == TEXT and isinstance(g, str) and g.strip() else g for g, e in zip(gr, er, strict=True))
               for gr, er in zip(got, expected, strict=True)]
    assert got == expected


def test_sparql_select_construct_and_ask(http: HttpClient) -> None:
    select = http.get("/sparql", query_string={"query": PREFIXES + "SELECT ?l WHERE { djr:song-il-ho rdfs:label ?l "
                                               "FILTER(LANG(?l) = 'en') }"}, headers={"Accept": RESULTS_JSON})
    assert select.status_code == 200
    labels = {b["l"]["value"] for b in select.get_json()["results"]["bindings"]}
    assert "Song Il-ho" in labels
    construct = http.get("/sparql", query_string={"query": PREFIXES + "CONSTRUCT { djr:song-il-ho ?p ?o } WHERE "
                                                  "{ djr:song-il-ho ?p ?o }"}, headers={"Accept": "text/turtle"})
    assert construct.status_code == 200 and construct.headers["Content-Type"].startswith("text/turtle")
    triples = list(ox.parse(construct.data, format=ox.RdfFormat.TURTLE))
    assert any(t.predicate.value.endswith("#type") for t in triples)
    ask = http.get("/sparql", query_string={"query": PREFIXES + "ASK { djr:song-il-ho a dj:Person }"},
                   headers={"Accept": RESULTS_JSON})
    assert ask.status_code == 200 and ask.get_json()["boolean"] is True
    bad = http.get("/sparql", query_string={"query": "SELECT WHERE {"}, headers={"Accept": RESULTS_JSON})
    assert bad.status_code == 400


def test_an_invalid_write_is_422_and_the_store_is_unchanged(http: HttpClient, oxigraph: OxigraphServer) -> None:
    before = direct_count(oxigraph)
    response = update(http, "INSERT DATA { GRAPH <http://example.org/remote-bad> { <http://example.org/nobody> "
                            "a dj:Person ; dct:source djr:doc-000 . } }")  # a Person needs a label
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["report"]["conforms"] is False
    assert direct_count(oxigraph) == before
    assert not direct_ask(oxigraph, "<http://example.org/nobody> ?p ?o")


def test_a_valid_guarded_write_lands_with_its_derived_triples(http: HttpClient, oxigraph: OxigraphServer) -> None:
    response = update(http, "INSERT DATA { GRAPH <http://example.org/remote-good> { <http://example.org/someone> "
                            "a dj:Person ; rdfs:label \"Someone\"@en ; dct:source djr:doc-000 . } }")
    assert response.status_code == 204, response.get_data(as_text=True)
    assert direct_ask(oxigraph, "GRAPH <http://example.org/remote-good> { <http://example.org/someone> a dj:Person }")
    assert direct_ask(oxigraph, "<http://example.org/someone> rdfs:label \"Someone\"@en"), "the union default graph"
    seen = http.get("/sparql", query_string={"query": "ASK { <http://example.org/someone> ?p ?o }"},
                    headers={"Accept": RESULTS_JSON})
    assert seen.get_json()["boolean"] is True


def test_void_and_dumps(http: HttpClient) -> None:
    void = http.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert void.status_code == 200
    description = list(ox.parse(void.data, format=ox.RdfFormat.TURTLE))
    assert any(t.predicate.value == "http://rdfs.org/ns/void#triples" for t in description)
    dump = http.get("/dump", headers={"Accept": "application/n-quads"})
    assert dump.status_code == 200, dump.get_data(as_text=True)[:300]
    quads = list(ox.parse(dump.data, format=ox.RdfFormat.N_QUADS))
    graphs = {q.graph_name for q in quads}
    assert ox.NamedNode("https://w3id.org/dprk-japan-kg/id/doc-000") in graphs
    assert ox.DefaultGraph() not in graphs, "the union default graph is derived, not dumped"
    one = http.get("/store", query_string={"graph": "https://w3id.org/dprk-japan-kg/id/doc-000"},
                   headers={"Accept": "application/n-triples"})
    assert one.status_code == 200 and len(list(ox.parse(one.data, format=ox.RdfFormat.N_TRIPLES))) > 0


def _void_linksets(client: HttpClient) -> set[ox.Triple]:
    response = client.get("/.well-known/void", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    return {t for t in (ox.Triple(q.subject, q.predicate, q.object)
                        for q in ox.parse(response.data, format=ox.RdfFormat.N_TRIPLES))
            if isinstance(t.subject, ox.NamedNode) and "/linkset-" in t.subject.value}


def test_links_and_linksets_are_the_embedded_services(http: HttpClient, live_server: LiveServer) -> None:
    """The links to Wikidata and DBpedia (the links graph, an entity's exactMatch, VoID's linksets) read alike over
    the remote store and over the embedded store of the shared live server."""
    embedded = HttpClient(live_server.url)
    links = PREFIXES + ("SELECT ?s ?p ?o WHERE { GRAPH <https://w3id.org/dprk-japan-kg/graph/links> { ?s ?p ?o } } "
                        "ORDER BY ?s ?p ?o")
    answers = [c.get("/sparql", query_string={"query": links}, headers={"Accept": RESULTS_JSON})
               for c in (http, embedded)]
    assert answers[0].status_code == answers[1].status_code == 200
    remote_rows, embedded_rows = (a.get_json()["results"]["bindings"] for a in answers)
    assert remote_rows == embedded_rows and len(remote_rows) > 0
    pages = [c.get("/id/song-il-ho", headers={"Accept": "application/n-triples"}) for c in (http, embedded)]
    matches = [{t.object for t in ox.parse(p.data, format=ox.RdfFormat.N_TRIPLES)
                if t.predicate.value == "http://www.w3.org/2004/02/skos/core#exactMatch"} for p in pages]
    assert matches[0] == matches[1] and len(matches[0]) > 0
    linksets = _void_linksets(http)
    assert linksets == _void_linksets(embedded) and len(linksets) > 0


@needs_shared(W3C)
def test_the_w3c_suites_pass_through_the_service_as_over_the_embedded_store(
        tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> None:
    """Every W3C SPARQL 1.1 suite (protocol, query, update, graph store, service description) through our service
    in front of an Oxigraph server passes at least the tests recorded for the embedded store (``--check-scores``).

    The service runs as the conformance runner runs its own (empty store, no entailment, no union default graph,
    writes unguarded), so the suites see plain SPARQL 1.1 semantics.
    """
    folder = tmp_path_factory.mktemp("remote-conformance")
    store = start_oxigraph(folder / "oxigraph")
    try:
        service = start_live_server(folder / "store", "--no-data", "--entailment", "none", "--no-union-default-graph",
                                    "--no-validate-writes", "--store-url", store.query_url, "--update-url",
                                    store.update_url, "--graph-store-url", store.store_url,
                                    env={"DPRK_KG_WRITE_TOKEN": WRITE_TOKEN})
        try:
            result = subprocess.run([sys.executable, "bench/conformance.py", "--w3c", str(W3C), "--url", service.url,
                                     "--write-token", WRITE_TOKEN, "--target", "ours", "--check-scores",
                                     "--list-failures"], cwd=REPO, capture_output=True, text=True, timeout=900)
        finally:
            service.stop()
    finally:
        store.stop()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


# -- the change sent to the store, without servers: applied to an in-memory store, it gives exactly the new state --

def _canonical(quads: set[ox.Quad]) -> set[ox.Quad]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def _applied(old: set[ox.Quad], new: set[ox.Quad]) -> set[ox.Quad]:
    store = ox.Store()
    store.extend(old)
    old_graphs = {q.graph_name for q in old if not isinstance(q.graph_name, ox.DefaultGraph)}
    new_graphs = {q.graph_name for q in new if not isinstance(q.graph_name, ox.DefaultGraph)}
    text = change_update(old, new, old_graphs, new_graphs)
    if text:
        store.update(text)
    return set(store)


N, B, P = ox.NamedNode, ox.BlankNode, ox.NamedNode("urn:x:p")
G1, G2, DEFAULT = N("urn:x:g1"), N("urn:x:g2"), ox.DefaultGraph()
SHARED = B("shared")
OLD = {ox.Quad(SHARED, P, N("urn:x:o1"), G1), ox.Quad(SHARED, P, N("urn:x:o2"), G1),
       ox.Quad(SHARED, P, N("urn:x:o1"), DEFAULT), ox.Quad(SHARED, P, N("urn:x:o2"), DEFAULT),
       ox.Quad(N("urn:x:s"), P, ox.Literal("kept"), G2), ox.Quad(N("urn:x:s"), P, ox.Literal("kept"), DEFAULT)}


@pytest.mark.parametrize("new", [
    OLD | {ox.Quad(N("urn:x:s"), P, ox.Literal("added"), G2)},  # plain insert
    OLD - {ox.Quad(N("urn:x:s"), P, ox.Literal("kept"), G2)},  # plain delete
    OLD - {ox.Quad(SHARED, P, N("urn:x:o2"), G1)},  # a stored blank node loses a quad in one graph
    OLD | {ox.Quad(SHARED, P, N("urn:x:o3"), G1), ox.Quad(SHARED, P, N("urn:x:o3"), DEFAULT)},  # and gains one
    {q for q in OLD if q.graph_name != G1},  # a graph dropped; the default graph keeps the blank node
    {ox.Quad(B("fresh"), P, N("urn:x:o9"), G1), ox.Quad(B("fresh"), P, N("urn:x:o9"), DEFAULT)},  # all replaced
], ids=["insert", "delete", "blank-loses", "blank-gains", "drop-graph", "replace-all"])
def test_the_update_sent_turns_the_old_state_into_the_new_one(new: set[ox.Quad]) -> None:
    assert _canonical(_applied(OLD, new)) == _canonical(new)


def test_virtuosos_ask_table_reads_as_a_boolean() -> None:
    dialect = Dialect.of("Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu")
    table = ('{ "head": { "link": [], "vars": ["__ASK_RETVAL"] }, "results": { "distinct": false, "ordered": true, '
             '"bindings": [%s] } }')
    row = '{ "__ASK_RETVAL": { "type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", ' \
          '"value": "1" }}'
    for bindings, expected in ((row, True), ("", False)):
        parsed = ox.parse_query_results((table % bindings).encode(), format=ox.QueryResultsFormat.JSON)
        answer = dialect.results(parsed)
        assert isinstance(answer, ox.QueryBoolean) and bool(answer) is expected
    assert Dialect.of("Oxigraph/0.5").results(parsed) is parsed, "other stores' tables stay tables"


# -- credentials: from the environment only, sent as HTTP Basic over a real socket -----------------------------------

class _AuthStore(BaseHTTPRequestHandler):
    """A stand-in SPARQL endpoint that wants one user: it answers every query ``true`` once authorized."""

    seen: ClassVar[list[str | None]] = []
    wanted = "Basic " + base64.b64encode(b"reader:s3cret").decode()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(self.headers.get("Authorization"))
        if self.headers.get("Authorization") != self.wanted:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"head":{},"boolean":true}'
        self.send_response(200)
        self.send_header("Content-Type", RESULTS_JSON)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def auth_store() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AuthStore)
    _AuthStore.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


def test_credentials_come_from_the_environment(auth_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPRK_KG_STORE_USER", "reader")
    monkeypatch.setenv("DPRK_KG_STORE_PASSWORD", "s3cret")
    store = RemoteStore(resolve({"STORE_URL": auth_store, "LOAD_DATA": False}))
    assert store.ask("ASK { ?s ?p ?o }") is True
    assert _AuthStore.seen and set(_AuthStore.seen) == {_AuthStore.wanted}
    assert not any(s.env in ("DPRK_KG_STORE_USER", "DPRK_KG_STORE_PASSWORD") for s in SETTINGS), \
        "credentials are never settings (a setting is also a command-line option)"


def test_wrong_credentials_are_named_at_start(auth_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPRK_KG_STORE_USER", "reader")
    monkeypatch.setenv("DPRK_KG_STORE_PASSWORD", "wrong")
    with pytest.raises(StoreError, match="DPRK_KG_STORE_PASSWORD"):
        RemoteStore(resolve({"STORE_URL": auth_store, "LOAD_DATA": False}))
