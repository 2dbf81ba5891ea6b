"""Small answers travel whole (Content-Length, keep-alive); large ones stream; the fast paths change no output.

Why these tests: the speed-ups of the query path (one worker message and a
``Content-Length`` for answers up to 1 MiB, a template-based JSON writer, a token
cache, bulk derivation on first start) must not change a byte a client sees, and a
large answer must still stream instead of being held in memory.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest

from service.sparql import lexer as protocol
from service.sparql import writers as results
from service.store.worker import BUFFER_LIMIT, Worker

EX = "http://example.org/"


def _get(conn: http.client.HTTPConnection, query: str) -> http.client.HTTPResponse:
    conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                 headers={"Accept": "application/sparql-results+json"})
    return conn.getresponse()


def test_a_small_answer_has_a_content_length_and_keeps_the_connection_open(live_server):
    conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
    try:
        first = _get(conn, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3")
        body = first.read()
        assert first.status == 200
        assert int(first.getheader("Content-Length")) == len(body)
        assert not first.will_close
        assert len(json.loads(body)["results"]["bindings"]) == 3
        sock = conn.sock
        second = _get(conn, "ASK { ?s ?p ?o }")
        assert json.loads(second.read()) == {"head": {}, "boolean": True}
        assert conn.sock is sock  # the same TCP connection answered both
    finally:
        conn.close()


def test_a_large_answer_still_streams_complete(live_server):
    conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=60)
    try:
        response = _get(conn, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")
        body = response.read()
        assert response.status == 200
        assert len(body) > BUFFER_LIMIT
        assert response.getheader("Content-Length") is None
        assert response.getheader("Transfer-Encoding") == "chunked" or response.will_close
        data = json.loads(body)
        assert sorted(data["head"]["vars"]) == ["g", "o", "p", "s"]
        assert len(data["results"]["bindings"]) > 5000
    finally:
        conn.close()


def test_small_and_large_answers_of_the_store_client_carry_the_same_bytes(app):
    from service.web.context import get_store

    with app.app_context():
        store = get_store()
        small = store.query("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?s ?p ?o LIMIT 50")
        assert small.body is not None and small.read() == small.body
        large = store.query("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?s ?p ?o")
        assert large.body is None
        whole = json.loads(large.read())["results"]["bindings"]
        assert json.loads(small.body)["results"]["bindings"] == whole[:50]
        assert len(whole) > 5000


def _reference_json(variables, rows, truncated):
    """The writer as it was before the speed-up: one ``json.dumps`` per row."""
    head = {"vars": list(variables)}
    if truncated:
        head["link"] = [results.TRUNCATION_LINK]
    parts = ['{"head":' + json.dumps(head) + ',"results":{"bindings":[']
    parts.append(",".join(json.dumps({v: results._json_term(t) for v, t in zip(variables, row, strict=True)
                                      if t is not None}, ensure_ascii=False) for row in rows))
    return ("".join(parts) + "]}}").encode("utf-8")


def test_the_json_writer_writes_the_same_bytes_as_json_dumps():
    iri = ox.NamedNode(EX + "caf\u00e9")
    rows = [
        (iri, ox.Literal('say "hi"\n\t\\ \u2028 \x01', language="ko-Kore"), None),
        (ox.BlankNode("b0"), ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
         ox.Literal("plain")),
        (None, None, ox.Triple(iri, ox.NamedNode(EX + "p"), ox.Literal("x", language="en"))),
    ]
    variables = ["s", "l\u00e9", "o"]
    for truncated in (False, True):
        assert b"".join(results.write_json(variables, rows, truncated)) == _reference_json(variables, rows, truncated)


def test_the_json_writer_refuses_a_row_of_the_wrong_width():
    with pytest.raises(ValueError):
        b"".join(results.write_json(["a", "b"], [(ox.NamedNode(EX + "x"),)], False))


def test_cached_tokens_are_the_tokens_of_the_text():
    text = "PREFIX ex: <http://example.org/> SELECT ?s # SERVICE <x>\nWHERE { ?s ex:p 'LOAD' }"
    first, again = protocol.tokenize(text), protocol.tokenize(text)
    assert first == again == protocol.tokenize.__wrapped__(text)  # the uncached lexer
    assert [t.text for t in first if t.kind == "word"] == ["PREFIX", "SELECT", "WHERE"]
    assert protocol.query_kind(text) == "select"


# -- first-start derivation -------------------------------------------------------------------

_DATA = f"""
@prefix ex: <{EX}> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
GRAPH ex:onto {{ ex:Minister rdfs:subClassOf ex:Person . ex:Person rdfs:subClassOf ex:Agent .
                 ex:leads rdfs:subPropertyOf ex:memberOf . ex:memberOf rdfs:subPropertyOf ex:relatedTo . }}
GRAPH ex:doc1 {{ ex:abe a ex:Minister ; ex:leads ex:ldp . _:n ex:leads ex:ldp . }}
GRAPH ex:doc2 {{ ex:abe a ex:Minister ; ex:label "Abe" . ex:kim a ex:Person . }}
"""


def _worker(directory: Path, quads: list[ox.Quad]) -> Worker:
    worker = Worker({"UNION_DEFAULT_GRAPH": True, "ENTAILMENT": "rdfs", "STORE_DIR": str(directory),
                     "LOAD_DATA": False})
    worker.store.bulk_extend(quads)
    return worker


def test_bulk_derivation_on_first_start_equals_the_transactional_rebuild(tmp_path):
    quads = list(ox.parse(_DATA, format=ox.RdfFormat.TRIG))
    bulk, rebuilt = _worker(tmp_path / "one", quads), _worker(tmp_path / "two", quads)
    assert bulk.bulk_derive()
    rebuilt.rebuild_derived()
    assert set(bulk.store) == set(rebuilt.store)
    default = {(q.subject, q.predicate, q.object) for q in bulk.store.quads_for_pattern(
        None, None, None, ox.DefaultGraph())}
    abe = ox.NamedNode(EX + "abe")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    assert (abe, rdf_type, ox.NamedNode(EX + "Person")) in default
    assert (abe, ox.NamedNode(EX + "relatedTo"), ox.NamedNode(EX + "ldp")) in default


def test_bulk_derivation_steps_aside_when_the_default_graph_already_has_data(tmp_path):
    quads = [*ox.parse(_DATA, format=ox.RdfFormat.TRIG),
             ox.Quad(ox.NamedNode(EX + "x"), ox.NamedNode(EX + "p"), ox.Literal("y"), ox.DefaultGraph())]
    assert not _worker(tmp_path, quads).bulk_derive()


def test_blank_node_labels_survive_bulk_derivation(tmp_path):
    quads = list(ox.parse(_DATA, format=ox.RdfFormat.TRIG))
    worker = _worker(tmp_path, quads)
    worker.bulk_derive()
    found = [q for q in worker.store if isinstance(q.subject, ox.BlankNode)]
    # its own graph (leads), the entailed graph (memberOf, relatedTo) and the default graph (all three)
    assert len(found) == 6
    assert len({q.subject.value for q in found}) == 1
