"""Regression tests for defects found in review: each names the behaviour a user relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox

from service import config
from service.store.client import StoreClient
from tests.conftest import WRITE_TOKEN

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
UPDATE = {"Content-Type": "application/sparql-update", **AUTH}


def test_an_update_cannot_hide_operations_from_validation_with_codepoint_escapes(make_app):
    """``\\u0022`` closes a string for rdflib but not for pyoxigraph unless escapes are expanded first."""
    client = make_app(WRITE_TOKEN=WRITE_TOKEN).test_client()
    put = client.put("/store?graph=urn:x:g3", data=b'_:b <urn:x:p> "x" .', headers={**AUTH, "Content-Type":
                                                                                   "text/turtle"})
    assert put.status_code == 201
    hidden = ("PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#> PREFIX djr: <https://w3id.org/dprk-japan-kg/id/>"
              " PREFIX dct: <http://purl.org/dc/terms/>\n"
              "DELETE WHERE { GRAPH <urn:x:g3> { ?b <urn:x:p> \"x\" } } ;\n"
              "INSERT DATA { GRAPH <urn:x:g4> { <urn:x:s> <urn:x:p> \"x\\u0022 # \" } } ; "
              "INSERT DATA { GRAPH <urn:x:upd> { <urn:x:u2> a dj:Person ; dct:source djr:doc-000 . } } ; "
              "INSERT DATA { GRAPH <urn:x:g4> { <urn:x:s> <urn:x:p> \"y\" .\n } }")
    # Escapes are expanded before any parser sees the text, so validation and execution read the same
    # operations: here the escape turns the rest of its line into a comment for both of them.
    # What is left: the DELETE WHERE on g3, then one INSERT DATA of "x" into g4 (closed on the next line).
    response = client.post("/sparql", data=hidden.encode(), headers=UPDATE)
    assert response.status_code == 204, response.data
    g4 = client.get("/sparql", query_string={"query": "SELECT ?s ?p ?o WHERE { GRAPH <urn:x:g4> { ?s ?p ?o } }"},
                    headers={"Accept": "application/sparql-results+json"})
    assert [{k: v["value"] for k, v in b.items()} for b in json.loads(g4.data)["results"]["bindings"]] == [
        {"s": "urn:x:s", "p": "urn:x:p", "o": "x"}], "only the visible insert ran"
    ask = client.get("/sparql", query_string={"query": "ASK { GRAPH <urn:x:upd> { ?s ?p ?o } }"},
                     headers={"Accept": "application/sparql-results+json"})
    assert json.loads(ask.data)["boolean"] is False, "an operation that was not validated was executed"
    plain = hidden.replace("\\u0022 # ", "")
    assert client.post("/sparql", data=plain.encode(), headers=UPDATE).status_code == 422, \
        "the same insert, visible, breaks the Person shapes"


def test_a_slow_reader_does_not_get_the_store_worker_killed(make_app):
    app = make_app(QUERY_TIMEOUT=2.0, RESULT_ROW_CAP=0)
    store = app.extensions["dprk_kg_store"]
    pid = store.pid
    result = store.query("SELECT * WHERE { ?s ?p ?o }", format="json")
    chunks = iter(result.chunks)
    first = next(chunks)
    import time

    time.sleep(2.5)  # longer than the query limit, spent by the reader, not the worker
    rest = b"".join(chunks)
    body = json.loads(first + rest)
    assert len(body["results"]["bindings"]) > 1000
    assert store.pid == pid


def _client(store_dir: Path, **settings) -> StoreClient:
    values = config.defaults()
    values.update(STORE_DIR=str(store_dir), LOAD_DATA=False, **settings)
    return StoreClient(values)


def test_turning_the_union_default_graph_off_removes_the_copies_it_made(tmp_path: Path):
    union = _client(tmp_path / "s")
    union.apply(add=[ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("v"),
                             ox.NamedNode("urn:x:g"))])
    assert union.ask("ASK { <urn:x:s> <urn:x:p> 'v' }")
    union.close()
    plain = _client(tmp_path / "s", UNION_DEFAULT_GRAPH=False, ENTAILMENT="none")
    try:
        assert not plain.ask("ASK { <urn:x:s> <urn:x:p> 'v' }"), "the default graph holds no stale copy"
        assert plain.ask("ASK { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> 'v' } }")
    finally:
        plain.close()


def test_clearing_a_graph_that_does_not_exist_is_a_conflict_not_a_server_failure(make_app):
    client = make_app(WRITE_TOKEN=WRITE_TOKEN, UNION_DEFAULT_GRAPH=False, VALIDATE_WRITES=False).test_client()
    response = client.post("/sparql", data=b"CLEAR GRAPH <urn:nope>", headers={**UPDATE, "Accept": "text/plain"})
    assert response.status_code == 409
    assert b"urn:nope" in response.data
