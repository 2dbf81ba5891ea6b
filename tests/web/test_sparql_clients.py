"""Real SPARQL clients against the real server over a real socket: SPARQLWrapper, rdflib's SPARQLStore and
SPARQLUpdateStore, and raw HTTP. If these work, the protocol is what clients expect."""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, JSON, JSONLD, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from tests.sparql_helpers import AUTH, EX, TOKEN

DJ = "https://w3id.org/dprk-japan-kg/ontology#"
STATES = f"SELECT ?state WHERE {{ ?state a <{DJ}State> }} ORDER BY ?state"
CONSTRUCT = f"CONSTRUCT {{ ?state a <{DJ}State> }} WHERE {{ ?state a <{DJ}State> }}"


def wrapper(url: str, query: str, fmt: str, method: str | None = None) -> SPARQLWrapper:
    client = SPARQLWrapper(url)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    if method:
        client.setMethod(method)
    return client


@pytest.fixture(scope="module")
def states(live_server) -> list[str]:
    """The states of the bundled graph, read with SPARQLWrapper JSON (the reference for the other formats)."""
    result = wrapper(live_server.sparql, STATES, JSON).query().convert()
    found = [b["state"]["value"] for b in result["results"]["bindings"]]
    assert len(found) >= 3
    return found


# -- SPARQLWrapper -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", [None, POST])
def test_sparqlwrapper_json(live_server, states, method):
    result = wrapper(live_server.sparql, STATES, JSON, method).query().convert()
    assert [b["state"]["value"] for b in result["results"]["bindings"]] == states


def test_sparqlwrapper_xml(live_server, states):
    document = wrapper(live_server.sparql, STATES, XML).query().convert()
    root = document.documentElement  # a SPARQL Query Results XML document, its head naming the variable
    assert (root.namespaceURI, root.localName) == ("http://www.w3.org/2005/sparql-results#", "sparql")
    assert [v.getAttribute("name") for v in document.getElementsByTagName("variable")] == ["state"]
    assert [u.firstChild.data for u in document.getElementsByTagName("uri")] == states


@pytest.mark.parametrize(("fmt", "header"), [(CSV, "state"), (TSV, "?state")])
def test_sparqlwrapper_csv_and_tsv(live_server, states, fmt, header):
    text = wrapper(live_server.sparql, STATES, fmt).query().convert().decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == header
    assert [line.strip("<>") for line in lines[1:]] == states


def test_sparqlwrapper_ask(live_server):
    assert wrapper(live_server.sparql, f"ASK {{ ?s a <{DJ}State> }}", JSON).query().convert()["boolean"] is True


@pytest.mark.parametrize("fmt", [RDFXML, JSONLD])
def test_sparqlwrapper_construct_into_an_rdflib_graph(live_server, states, fmt):
    graph = wrapper(live_server.sparql, CONSTRUCT, fmt).query().convert()
    assert isinstance(graph, Graph)
    assert sorted(str(s) for s in graph.subjects()) == states


def test_sparqlwrapper_construct_as_turtle(live_server, states):
    data = wrapper(live_server.sparql, CONSTRUCT, TURTLE).query().convert()
    graph = Graph().parse(data=data, format="turtle")
    assert sorted(str(s) for s in graph.subjects()) == states


def test_sparqlwrapper_update_with_the_token(make_live_server):
    server = make_live_server("--write-token", TOKEN, "--no-data")
    client = SPARQLWrapper(server.sparql)
    client.setMethod(POST)
    client.addCustomHttpHeader("Authorization", AUTH["Authorization"])
    client.setQuery(f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}a> <{EX}p> "wrapped" }} }}')
    client.query()
    check = wrapper(server.sparql, f"SELECT ?o WHERE {{ <{EX}a> <{EX}p> ?o }}", JSON).query().convert()
    assert [b["o"]["value"] for b in check["results"]["bindings"]] == ["wrapped"]


# -- rdflib's SPARQL stores ----------------------------------------------------------------------------------

def test_rdflib_sparqlstore_queries(live_server, states):
    dataset = Dataset(store=SPARQLStore(live_server.sparql), default_union=True)
    rows = dataset.query(STATES)
    assert [str(row.state) for row in rows] == states
    assert bool(dataset.query(f"ASK {{ ?s a <{DJ}State> }}").askAnswer) is True


def test_rdflib_sparqlstore_construct(live_server, states):
    dataset = Dataset(store=SPARQLStore(live_server.sparql), default_union=True)
    graph = dataset.query(CONSTRUCT).graph
    assert sorted(str(s) for s in graph.subjects()) == states


def test_rdflib_sparqlupdatestore_adds_and_removes_triples(make_live_server):
    server = make_live_server("--write-token", TOKEN, "--no-data")
    store = SPARQLUpdateStore(server.sparql, server.sparql, headers=dict(AUTH))
    dataset = Dataset(store=store, default_union=False)
    graph = dataset.graph(URIRef(EX + "g"))
    graph.add((URIRef(EX + "a"), URIRef(EX + "p"), Literal("one")))
    graph.add((URIRef(EX + "b"), URIRef(EX + "p"), Literal("two", lang="en")))
    assert sorted(str(o) for o in graph.objects(None, URIRef(EX + "p"))) == ["one", "two"]
    graph.remove((URIRef(EX + "a"), None, None))
    assert [str(o) for o in graph.objects(None, URIRef(EX + "p"))] == ["two"]


def test_rdflib_sparqlupdatestore_without_the_token_is_refused(make_live_server):
    server = make_live_server("--write-token", TOKEN, "--no-data")
    dataset = Dataset(store=SPARQLUpdateStore(server.sparql, server.sparql), default_union=False)
    with pytest.raises(Exception, match="401"):
        dataset.graph(URIRef(EX + "g")).add((URIRef(EX + "a"), URIRef(EX + "p"), Literal("x")))


# -- raw HTTP ----------------------------------------------------------------------------------------------

def request(server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        # Header names are case-insensitive (RFC 9110 §5.1): granian sends them in lower case.
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_raw_http_get_post_form_and_post_direct(live_server, states):
    path = "/sparql?" + urllib.parse.urlencode({"query": STATES})
    for status, headers, body in (
        request(live_server, "GET", path, headers={"Accept": "application/sparql-results+json"}),
        request(live_server, "POST", "/sparql", urllib.parse.urlencode({"query": STATES}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"}),
        request(live_server, "POST", "/sparql", STATES.encode(), {"Content-Type": "application/sparql-query"}),
    ):
        assert status == 200 and headers["Content-Type"] == "application/sparql-results+json"
        assert [b["state"]["value"] for b in json.loads(body)["results"]["bindings"]] == states


def test_raw_http_errors_are_plain_text_without_traces(live_server):
    status, headers, body = request(live_server, "GET", "/sparql?" + urllib.parse.urlencode(
        {"query": "SELECT * WHERE { ?s ?p }"}))
    assert status == 400 and headers["Content-Type"].startswith("text/plain")
    assert b"line 1, column" in body and b"Traceback" not in body
    status, _, body = request(live_server, "POST", "/sparql", b"update=CLEAR%20ALL",
                              {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403 and b"read-only" in body
    status, _, _ = request(live_server, "PUT", "/sparql", b"x", {"Content-Type": "text/plain"})
    assert status == 405


def test_raw_http_service_description_and_graph_store(live_server):
    status, headers, body = request(live_server, "GET", "/sparql", headers={"Accept": "application/n-triples"})
    assert status == 200 and b"sparql-service-description#Service" in body
    status, headers, body = request(live_server, "GET", "/store?graph=" + urllib.parse.quote(
        "https://w3id.org/dprk-japan-kg/graph/ontology", safe=""), headers={"Accept": "application/n-triples"})
    assert status == 200 and headers["Content-Type"] == "application/n-triples" and body.count(b" .\n") > 50


# -- `dprk-kg serve` options reach the protocol layer ------------------------------------------------------

def test_serve_options_and_their_environment_twins_take_effect(make_live_server, oxigraph_server):
    oxigraph_server.load(b"<http://example.org/r> <http://example.org/p> \"1\" .\n", "application/n-triples")
    allowlist = json.dumps({oxigraph_server.query_url: {"timeout": 5, "row_cap": 10}})
    server = make_live_server("--result-row-cap", "2", "--service-allowlist", allowlist,
                              env={"DPRK_KG_CORS_ORIGINS": "https://app.example"})
    status, headers, body = request(server, "GET", "/sparql?" + urllib.parse.urlencode(
        {"query": "SELECT ?s WHERE { ?s ?p ?o }"}))
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == 2
    assert headers["X-Result-Truncated"] == "true"
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    status, _, body = request(server, "GET", "/sparql?" + urllib.parse.urlencode(
        {"query": f"SELECT ?o WHERE {{ SERVICE <{oxigraph_server.query_url}> {{ ?s ?p ?o }} }}"}))
    assert status == 200 and [b["o"]["value"] for b in json.loads(body)["results"]["bindings"]] == ["1"]
    status, _, body = request(server, "GET", "/sparql?" + urllib.parse.urlencode(
        {"query": "SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"}))
    assert status == 400 and b"https://query.wikidata.org/sparql" in body, "the option replaces the default list"
