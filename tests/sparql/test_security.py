"""No server-side request forgery: the service fetches nothing it was not allowed to, and SERVICE calls to
allowed endpoints are bounded. Federation is tested against a real local Oxigraph server."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from service.sparql.guard import find_services
from tests.linking_helpers import closed_port_url, silent_endpoint
from tests.sparql_helpers import AUTH, EX, TOKEN, buffered_client, recording_server, seed, snapshot, values

WIKIDATA = "https://query.wikidata.org/sparql"


def refused(response, iri: str) -> bool:
    return response.status_code == 400 and iri in response.get_data(as_text=True)


@pytest.fixture
def client(app):
    return buffered_client(app)


# -- what is refused before execution --------------------------------------------------------------

@pytest.mark.parametrize(("query", "named"), [
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "http://127.0.0.1:9/sparql"),
    ("select * where { service silent <http://169.254.169.254/latest> { ?s ?p ?o } }", "http://169.254.169.254/latest"),
    ("PREFIX e: <http://10.0.0.1/> SELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }", "http://10.0.0.1/sparql"),
    ("BASE <http://10.0.0.2/> SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }", "http://10.0.0.2/sparql"),
    ("SELECT * WHERE { SERVICE <http://e\\u0078ample.org/> { ?s ?p ?o } }", "http://example.org/"),
    (f"SELECT * WHERE {{ SERVICE <{WIKIDATA}> {{ SERVICE <http://127.0.0.1:9/x> {{ ?s ?p ?o }} }} }}",
     "http://127.0.0.1:9/x"),
    ("SELECT * WHERE { VALUES ?e { <http://127.0.0.1:9/> } SERVICE ?e { ?s ?p ?o } }", "SERVICE ?e"),
    ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "file:///etc/passwd"),
    ("SELECT * FROM NAMED <FILE:///etc/hosts> WHERE { GRAPH ?g { ?s ?p ?o } }", "FILE:///etc/hosts"),
    ("BASE <file:///etc/> SELECT * FROM <passwd> WHERE { ?s ?p ?o }", "file:///etc/passwd"),
])
def test_refused_iris_are_a_400_naming_them_before_anything_runs(client, query, named):
    response = client.get("/sparql", query_string={"query": query})
    assert refused(response, named), response.data


def test_the_allow_list_is_named_in_the_refusal(client):
    text = client.get("/sparql", query_string={
        "query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}).get_data(as_text=True)
    assert "SERVICE_ALLOWLIST" in text and WIKIDATA in text


@pytest.mark.parametrize("query", [
    'SELECT ("SERVICE <http://127.0.0.1:9/>" AS ?x) WHERE {}',
    "SELECT ?x WHERE { BIND(<http://e/SERVICE> AS ?x) } # SERVICE <http://127.0.0.1:9/> { }",
    "PREFIX service: <http://e/> SELECT ?x WHERE { BIND(service:load AS ?x) }",
    "SELECT ?service ?load WHERE { BIND(1 AS ?service) BIND(2 AS ?load) }",
    "SELECT ?x WHERE { BIND('''LOAD <file:///etc/passwd>\nFROM <file:///x>''' AS ?x) }",
])
def test_the_words_in_strings_iris_comments_and_names_are_not_refused(client, query):
    assert client.get("/sparql", query_string={"query": query}).status_code == 200


@pytest.mark.parametrize("update", [
    "LOAD <http://127.0.0.1:9/data.ttl>",
    "LOAD <file:///etc/passwd> INTO GRAPH <http://example.org/g>",
    "PREFIX e: <http://example.org/> INSERT DATA { e:a e:b 1 } ; load <http://example.org/x>",
    "LOAD SILENT <http://example.org/ok> ; LOAD <http://127.0.0.1:9/x>",
])
def test_load_is_always_refused_naming_the_iri(make_app, update):
    app = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False)
    seed(app)
    before = snapshot(app)
    response = buffered_client(app).post("/sparql", data={"update": update}, headers=AUTH)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "LOAD <" in text and "refused" in text
    assert snapshot(app) == before


def test_using_a_file_iri_in_an_update_is_refused(make_app):
    app = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False)
    response = buffered_client(app).post("/sparql", data={
        "update": "DELETE { ?s ?p ?o } USING <file:///etc/passwd> WHERE { ?s ?p ?o }"}, headers=AUTH)
    assert refused(response, "file:///etc/passwd")


def test_find_services_locates_blocks_and_nesting():
    text = (f"SELECT * WHERE {{ SERVICE <{WIKIDATA}> {{ ?s ?p ?o SERVICE SILENT <{WIKIDATA}> {{ ?a ?b '}}' }} }}"
            " ?x ?y ?z }")
    blocks, _ = find_services(text, None, {WIKIDATA: {}})
    assert [(b.silent, b.nested) for b in blocks] == [(False, False), (True, True)]
    assert text[blocks[0].start:blocks[0].end].startswith("SERVICE <") and text[blocks[0].end:] == " ?x ?y ?z }"
    assert blocks[1].group == "{ ?a ?b '}' }"


# -- the store never fetches anything ------------------------------------------------------------------

def test_from_and_default_graph_uri_are_never_dereferenced(client):
    with recording_server() as (url, requests):
        response = client.get("/sparql", query_string={
            "query": f"SELECT * FROM <{url}/data.ttl> FROM NAMED <{url}/named.ttl> WHERE {{ ?s ?p ?o }}"})
        assert response.status_code == 200 and values(response, "s") == []
        response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }",
                                                       "default-graph-uri": f"{url}/data.ttl"})
        assert response.status_code == 200 and values(response, "s") == []
    assert requests == []


def test_json_ld_remote_contexts_and_xml_entities_are_not_fetched(make_app):
    app = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False)
    client = buffered_client(app)
    with recording_server() as (url, requests):
        document = json.dumps({"@context": f"{url}/context.jsonld", "@id": EX + "a", "name": "x"})
        response = client.put(f"/store?graph={EX}g", data=document, content_type="application/ld+json",
                              headers=AUTH)
        assert response.status_code == 400 and "remote context" in response.get_data(as_text=True)
        xml = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "{url}/entity">]>'
               '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/">'
               '<rdf:Description rdf:about="http://example.org/a"><e:p>&e;</e:p></rdf:Description></rdf:RDF>')
        client.put(f"/store?graph={EX}g2", data=xml, content_type="application/rdf+xml", headers=AUTH)
    assert requests == []


# -- federation against a real server -------------------------------------------------------------------

REMOTE_DATA = (b"<http://example.org/a> <http://example.org/name> \"Alpha\" .\n"
               b"<http://example.org/b> <http://example.org/name> \"Beta\"@en .\n"
               b"_:n <http://example.org/name> \"Blank\" .\n")


@pytest.fixture
def federated(make_app, oxigraph_server):
    """Our service, with the local Oxigraph server on its allow-list, and data on both sides."""
    oxigraph_server.load(REMOTE_DATA, "application/n-triples")
    allowlist = {oxigraph_server.query_url: {"timeout": 10.0, "row_cap": 100}}
    app = make_app(LOAD_DATA=False, SERVICE_ALLOWLIST=allowlist)
    seed(app)
    return app, oxigraph_server


def test_service_results_are_joined_with_local_data(federated):
    app, remote = federated
    query = (f"PREFIX e: <{EX}> SELECT ?s ?v ?name WHERE {{ ?s e:p ?v . "
             f"SERVICE <{remote.query_url}> {{ ?s e:name ?name }} }}")
    response = buffered_client(app).get("/sparql", query_string={"query": query})
    assert response.status_code == 200, response.data
    assert sorted((b["s"]["value"], b["v"]["value"], b["name"]["value"]) for b in response.get_json(force=True)[
        "results"]["bindings"]) == [(EX + "a", "1", "Alpha"), (EX + "b", "2", "Beta")]
    assert "X-Result-Truncated" not in response.headers


def test_service_keeps_literal_languages_and_turns_blank_nodes_into_skolem_iris(federated):
    app, remote = federated
    query = f"SELECT ?s ?name WHERE {{ SERVICE <{remote.query_url}> {{ ?s <{EX}name> ?name }} }} ORDER BY ?name"
    bindings = buffered_client(app).get("/sparql", query_string={"query": query}).get_json(force=True)[
        "results"]["bindings"]
    assert [b["name"] for b in bindings] == [{"type": "literal", "value": "Alpha"},
                                             {"type": "literal", "value": "Beta", "xml:lang": "en"},
                                             {"type": "literal", "value": "Blank"}]
    assert bindings[2]["s"]["type"] == "uri" and bindings[2]["s"]["value"].startswith("urn:dprk-kg:service-bnode:")


def test_service_results_are_cut_at_the_endpoints_row_cap_and_the_response_says_so(make_app, oxigraph_server):
    oxigraph_server.load(REMOTE_DATA, "application/n-triples")
    app = make_app(LOAD_DATA=False, SERVICE_ALLOWLIST={oxigraph_server.query_url: {"timeout": 10, "row_cap": 2}})
    response = buffered_client(app).get("/sparql", query_string={
        "query": f"SELECT * WHERE {{ SERVICE <{oxigraph_server.query_url}> {{ ?s ?p ?o }} }}"})
    assert response.status_code == 200
    assert len(values(response, "s")) == 2
    assert response.headers["X-Result-Truncated"] == "true"


def test_a_failing_service_is_a_502_naming_the_endpoint_and_silent_makes_it_one_empty_solution(make_app):
    closed = closed_port_url()
    app = make_app(LOAD_DATA=False, SERVICE_ALLOWLIST={closed: {"timeout": 5, "row_cap": 10}})
    client = buffered_client(app)
    response = client.get("/sparql", query_string={"query": f"SELECT * WHERE {{ SERVICE <{closed}> {{ ?s ?p ?o }} }}"})
    assert response.status_code == 502 and closed in response.get_data(as_text=True)
    response = client.get("/sparql", query_string={
        "query": f"SELECT ?x WHERE {{ SERVICE SILENT <{closed}> {{ ?s ?p ?o }} BIND(1 AS ?x) }}"})
    assert response.status_code == 200 and values(response, "x") == ["1"]


def test_a_service_that_does_not_answer_is_stopped_at_its_time_limit(make_app):
    with silent_endpoint() as endpoint:  # connections are accepted by the kernel, and never answered
        app = make_app(LOAD_DATA=False, SERVICE_ALLOWLIST={endpoint: {"timeout": 0.5, "row_cap": 10}})
        response = buffered_client(app).get("/sparql", query_string={
            "query": f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"})
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert endpoint in text and "time limit of 0.5 s" in text


class RedirectHandler(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_POST(self) -> None:
        self.send_response(307)
        self.send_header("Location", self.target)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_redirect_from_an_allowed_endpoint_is_not_followed(make_app):
    with recording_server() as (inner, requests):
        RedirectHandler.target = inner + "/internal"
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RedirectHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        endpoint = f"http://127.0.0.1:{server.server_address[1]}/sparql"
        try:
            app = make_app(LOAD_DATA=False, SERVICE_ALLOWLIST={endpoint: {"timeout": 5, "row_cap": 10}})
            response = buffered_client(app).get("/sparql", query_string={
                "query": f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"})
        finally:
            server.shutdown()
            server.server_close()
    assert response.status_code == 502 and "redirect" in response.get_data(as_text=True)
    assert requests == []


def test_service_in_an_update_is_evaluated_by_us_too(make_app, oxigraph_server):
    oxigraph_server.load(REMOTE_DATA, "application/n-triples")
    app = make_app(LOAD_DATA=False, WRITE_TOKEN=TOKEN,
                   SERVICE_ALLOWLIST={oxigraph_server.query_url: {"timeout": 10, "row_cap": 10}})
    client = buffered_client(app)
    update = (f"INSERT {{ GRAPH <{EX}copied> {{ ?s <{EX}name> ?n }} }} WHERE {{ "
              f"SERVICE <{oxigraph_server.query_url}> {{ ?s <{EX}name> ?n FILTER(isIRI(?s)) }} }}")
    assert client.post("/sparql", data={"update": update}, headers=AUTH).status_code == 204
    query = f"SELECT ?s WHERE {{ GRAPH <{EX}copied> {{ ?s ?p ?o }} }} ORDER BY ?s"
    assert values(client.get("/sparql", query_string={"query": query}), "s") == [EX + "a", EX + "b"]
