"""Guarded writes: /ingest, SPARQL Update and the Graph Store all check the state after the change
against the shapes and refuse the whole change (422, with the report) when it breaks one.

Accepted batches land in their own graph with provenance; refused changes leave the store exactly
as it was (the tests count quads before and after). Test resources live in ``http://example.org/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from service import create_app
from service.rdf.vocabulary import BATCH_GRAPH_NS
from tests.sparql_helpers import quad_count

TOKEN = "test-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PREFIXES = """PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>
PREFIX djr: <https://w3id.org/dprk-japan-kg/id/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX ex: <http://example.org/>
"""
PERSON_OK = PREFIXES + 'ex:{name} a dj:Person ; rdfs:label "Test person {name}"@en ; dct:source djr:doc-000 .'
PERSON_NO_LABEL = PREFIXES + "ex:{name} a dj:Person ; dct:source djr:doc-000 ."
PROVENANCE = "https://w3id.org/dprk-japan-kg/graph/provenance"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = create_app({"TESTING": True, "STORE_DIR": str(tmp_path_factory.mktemp("store")),
                              "WRITE_TOKEN": TOKEN, "WRITE_TOKEN_NAME": "curator-bot"})
    yield application
    application.extensions["dprk_kg_store"].close()


@pytest.fixture(scope="module")
def client(app: Any) -> Any:
    return app.test_client()


def store(app: Any) -> Any:
    return app.extensions["dprk_kg_store"]


def ask(app: Any, pattern: str) -> bool:
    return store(app).ask(PREFIXES + f"ASK {{ {pattern} }}")


@pytest.fixture
def unchanged(app: Any) -> Iterator[None]:
    before = quad_count(app)
    yield
    assert quad_count(app) == before, "a refused write changed the store"


def ingest(client: Any, body: str, content_type: str = "text/turtle", headers: dict | None = None,
           query: str = "") -> Any:
    return client.post(f"/ingest{query}", data=body, content_type=content_type, headers={**AUTH, **(headers or {})})


# -- /ingest ---------------------------------------------------------------------------------------


def test_an_accepted_batch_is_201_in_its_own_graph_with_provenance(app: Any, client: Any) -> None:
    response = ingest(client, PERSON_OK.format(name="p1"), headers={"X-Source": "https://w3id.org/dprk-japan-kg/id/doc-000"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["added"] == 3 and body["graph"] == BATCH_GRAPH_NS + body["batch"]
    assert body["document"] == "https://w3id.org/dprk-japan-kg/id/doc-000", "the batch counts as doc-000's statement"
    assert response.headers["Location"].endswith("/store?graph=" + quote(body["graph"], safe=""))
    graph = body["graph"]
    assert ask(app, f"GRAPH <{graph}> {{ ex:p1 a dj:Person }}")
    assert ask(app, f"""GRAPH <{PROVENANCE}> {{
        <{graph}> <http://www.w3.org/ns/prov#generatedAtTime> ?t ;
                  <http://www.w3.org/ns/prov#wasAttributedTo> ?agent ;
                  <http://www.w3.org/ns/prov#hadPrimarySource> djr:doc-000 ;
                  dj:statementsOf djr:doc-000 ;
                  <http://purl.org/dc/terms/identifier> "{body['batch']}" .
        ?agent rdfs:label "curator-bot" . FILTER(DATATYPE(?t) = xsd:dateTime) }}""")
    assert ask(app, "ex:p1 a dj:Agent"), "the accepted batch joins the union default graph, with inferences"


def test_a_source_note_may_be_given_as_a_parameter(app: Any, client: Any) -> None:
    response = ingest(client, PERSON_OK.format(name="p2"), query="?source=" + quote("typed in from a press release"))
    assert response.status_code == 201
    graph = response.get_json()["graph"]
    assert ask(app, f'GRAPH <{PROVENANCE}> {{ <{graph}> rdfs:comment "typed in from a press release" }}')


def test_a_batch_breaking_a_shape_is_422_with_the_report_and_nothing_is_written(
        app: Any, client: Any, unchanged: None) -> None:
    response = ingest(client, PERSON_NO_LABEL.format(name="p3"))
    assert response.status_code == 422
    body = response.get_json()
    assert "nothing was written" in body["message"]
    report = body["report"]
    assert report["conforms"] is False
    [group] = report["by_focus_node"]
    assert group["focus"] == "http://example.org/p3"
    assert any(r["path_text"] == "rdfs:label" and r["severity"] == "Violation" for r in group["results"])
    assert not ask(app, "ex:p3 ?p ?o")


def test_warnings_are_reported_but_accepted(client: Any) -> None:
    response = ingest(client, PERSON_OK.format(name="p4"))
    assert response.status_code == 201
    assert response.get_json()["report"]["warnings"] >= 1, "a person without an external link is a warning"


def test_a_batch_may_reference_nodes_already_in_the_graph(client: Any) -> None:
    batch = PREFIXES + """ex:round a dj:IntergovernmentalTalks ; rdfs:label "Test round"@en ; dct:source djr:doc-000 ;
        dj:participant djr:japan , djr:north-korea ; dj:startDate "2014-05"^^xsd:gYearMonth ."""
    assert ingest(client, batch).status_code == 201


def test_blank_nodes_of_a_batch_become_skolem_iris(app: Any, client: Any) -> None:
    batch = PREFIXES + """ex:round2 a dj:IntergovernmentalTalks ; rdfs:label "Test round 2"@en ;
        dct:source djr:doc-000 ; dj:participant djr:japan , djr:north-korea ;
        dj:delegation [ a dj:Delegation ; rdfs:label "Test delegation"@en ; dct:source djr:doc-000 ;
                        dj:represents djr:japan ] ."""
    response = ingest(client, batch)
    assert response.status_code == 201, response.get_data(as_text=True)
    rows = store(app).select(PREFIXES + "SELECT ?d WHERE { ex:round2 dj:delegation ?d }").rows
    assert rows and rows[0][0].value.startswith("https://w3id.org/dprk-japan-kg/.well-known/genid/")


@pytest.mark.parametrize("headers, status", [({}, 401), ({"Authorization": "Bearer wrong"}, 403)])
def test_ingest_needs_the_write_token(app: Any, client: Any, unchanged: None, headers: dict, status: int) -> None:
    response = client.post("/ingest", data=PERSON_OK.format(name="p5"), content_type="text/turtle", headers=headers)
    assert response.status_code == status


@pytest.mark.parametrize("body, content_type, status, needle", [
    ("ex:a ex:b", "text/turtle", 400, "line 1"),
    (PERSON_OK.format(name="p6"), "text/csv", 415, "Unsupported Content-Type"),
    ("", "text/turtle", 400, "empty"),
    ("INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }", "application/sparql-update", 415,
     "text/turtle"),
])
def test_bad_batches_are_4xx_naming_the_problem(client: Any, unchanged: None, body: str, content_type: str,
                                                 status: int, needle: str) -> None:
    response = ingest(client, body, content_type)
    assert response.status_code == status
    assert needle in response.get_json()["message"]


def test_a_batch_over_the_size_limit_is_413(make_app: Any) -> None:
    small = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False, MAX_BODY_BYTES=200)
    response = small.test_client().post("/ingest", data=PERSON_OK.format(name="p7") * 3, content_type="text/turtle",
                                        headers=AUTH)
    assert response.status_code == 413 and "MAX_BODY_BYTES" in response.get_json()["message"]


# -- the same guard on SPARQL Update and the Graph Store -----------------------------------------


def update(client: Any, text: str) -> Any:
    return client.post("/sparql", data=text, content_type="application/sparql-update",
                       headers={**AUTH, "Accept": "application/json"})


def test_an_update_that_breaks_a_shape_is_refused_whole(app: Any, client: Any, unchanged: None) -> None:
    text = PREFIXES + """INSERT DATA { GRAPH ex:upd {
        ex:u1 a dj:Person ; rdfs:label "Fine"@en ; dct:source djr:doc-000 .
        ex:u2 a dj:Person ; dct:source djr:doc-000 . } }"""
    response = update(client, text)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["report"]["by_focus_node"][0]["focus"] == "http://example.org/u2"
    assert not ask(app, "ex:u1 ?p ?o"), "the valid half of the update was not written either"


def test_an_update_that_conforms_is_applied_with_its_inferences(app: Any, client: Any) -> None:
    text = PREFIXES + 'INSERT DATA { GRAPH ex:upd { ex:u3 a dj:Person ; rdfs:label "U3"@en ; dct:source djr:doc-000 } }'
    assert update(client, text).status_code == 204
    assert ask(app, "ex:u3 a dj:Agent")


def test_an_update_removing_what_others_need_is_refused(app: Any, client: Any, unchanged: None) -> None:
    """Deleting Japan's type would break every node that points to Japan as a state."""
    text = PREFIXES + """DELETE { GRAPH ?g { djr:japan a dj:State } } WHERE { GRAPH ?g { djr:japan a dj:State }
        FILTER(?g != <https://w3id.org/dprk-japan-kg/graph/entailed>) }"""
    response = update(client, text)
    assert response.status_code == 422
    assert len(response.get_json()["report"]["by_focus_node"]) > 1
    assert ask(app, "GRAPH djr:doc-000 { djr:japan a dj:State }")


ENTAILED = "https://w3id.org/dprk-japan-kg/graph/entailed"
E = quote(ENTAILED, safe="")
TTL = '<http://example.org/d2> <http://example.org/p> "x" .'


def derived_state(app: Any) -> tuple[int, int]:
    """The whole store's size and the derived graph's: a refused write changes neither."""
    entailed = store(app).select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ENTAILED}> {{ ?s ?p ?o }} }}")
    return quad_count(app), int(entailed.rows[0][0].value)


#: Every write path a client has, aimed at the derived graph or (union mode) the default graph.
UNWRITABLE = [
    # the Graph Store protocol, indirect and direct naming
    ("PUT", f"/store?graph={E}", TTL, 403), ("POST", f"/store?graph={E}", TTL, 403),
    ("DELETE", f"/store?graph={E}", None, 403),
    ("PUT", "/store?default", TTL, 400), ("POST", "/store?default", TTL, 400), ("DELETE", "/store?default", None, 400),
    # SPARQL Update: every operation that can write a named graph
    ("UPDATE", f"INSERT DATA {{ GRAPH <{ENTAILED}> {{ {TTL} }} }}", None, 403),
    ("UPDATE", f"DELETE WHERE {{ GRAPH <{ENTAILED}> {{ djr:japan ?p ?o }} }}", None, 403),
    ("UPDATE", f"INSERT {{ GRAPH <{ENTAILED}> {{ ?s ex:p 1 }} }} WHERE {{ GRAPH djr:doc-000 {{ ?s a dj:State }} }}",
     None, 403),
    ("UPDATE", f"WITH <{ENTAILED}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", None, 403),
    ("UPDATE", "PREFIX djg: <https://w3id.org/dprk-japan-kg/graph/> CLEAR GRAPH djg:entailed", None, 403),
    ("UPDATE", f"DROP GRAPH <{ENTAILED}>", None, 403),
    ("UPDATE", f"COPY djr:doc-000 TO <{ENTAILED}>", None, 403),
    ("UPDATE", f"ADD djr:doc-000 TO <{ENTAILED}>", None, 403),
    ("UPDATE", f"MOVE <{ENTAILED}> TO ex:elsewhere", None, 403),
    ("UPDATE", f'INSERT DATA {{ GRAPH ex:fine {{ {TTL} }} }} ; INSERT DATA {{ GRAPH <{ENTAILED}> {{ {TTL} }} }}',
     None, 403),
    ("UPDATE", f"INSERT DATA {{ {TTL} }}", None, 400),
    ("UPDATE", "DELETE WHERE { <https://w3id.org/dprk-japan-kg/id/japan> ?p ?o }", None, 400),
]


@pytest.mark.parametrize(("method", "target", "body", "status"), UNWRITABLE)
def test_the_writable_graph_rule_answers_alike_on_every_write_path_and_changes_nothing(
        app: Any, client: Any, method: str, target: str, body: str | None, status: int) -> None:
    """One rule (service.store.writes.unwritable), one status per reason: derived graph 403, union default graph 400.

    (LOAD … INTO GRAPH is refused before: the service fetches nothing. /ingest names no graph: see below.)
    """
    before = derived_state(app)
    if method == "UPDATE":
        response = update(client, PREFIXES + target)
    else:
        response = client.open(target, method=method, data=body, content_type="text/turtle",
                               headers={**AUTH, "Accept": "application/json"})
    assert response.status_code == status, response.get_data(as_text=True)
    message = response.get_json()["message"]
    if status == 403:
        assert f"<{ENTAILED}>" in message and "derives" in message
    else:
        assert "default graph" in message and "name a graph" in message
    assert derived_state(app) == before
    assert not ask(app, "GRAPH ?g { <http://example.org/d2> ?p ?o }")


def test_ingest_never_writes_the_derived_graph_even_when_the_payload_names_it(app: Any, client: Any) -> None:
    """/ingest writes only the batch's own graph (and its provenance): a TriG graph name is not kept."""
    before = derived_state(app)[1]
    response = ingest(client, f"<{ENTAILED}> {{ <http://example.org/d3> <http://example.org/p> \"x\" }}",
                      content_type="application/trig")
    assert response.status_code == 201, response.get_data(as_text=True)
    graph = response.get_json()["graph"]
    assert ask(app, f'GRAPH <{graph}> {{ <http://example.org/d3> <http://example.org/p> "x" }}')
    assert not ask(app, f"GRAPH <{ENTAILED}> {{ <http://example.org/d3> ?p ?o }}")
    assert derived_state(app)[1] == before


def test_without_union_or_validation_the_derived_graph_is_still_refused(make_app: Any) -> None:
    """Native updates (the W3C configuration) that name a derived graph take the guarded path: 403 as elsewhere.

    An update that only reads the derived graph is applied.
    """
    native = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False, UNION_DEFAULT_GRAPH=False, VALIDATE_WRITES=False,
                      ENTAILMENT="none")
    client = native.test_client()
    assert update(client, f"INSERT DATA {{ GRAPH <http://example.org/g> {{ {TTL} }} }}").status_code == 204
    for text in (f"INSERT DATA {{ GRAPH <{ENTAILED}> {{ {TTL} }} }}",
                 "PREFIX g: <https://w3id.org/dprk-japan-kg/graph/> INSERT { GRAPH g:entailed { ?s ?p ?o } } "
                 "WHERE { GRAPH ?g { ?s ?p ?o } }"):
        assert update(client, text).status_code == 403
    assert client.put(f"/store?graph={E}", data=TTL, content_type="text/turtle", headers=AUTH).status_code == 403
    assert not native.extensions["dprk_kg_store"].ask(f"ASK {{ GRAPH <{ENTAILED}> {{ ?s ?p ?o }} }}")
    copy = f"INSERT {{ GRAPH <http://example.org/h> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{ENTAILED}> {{ ?s ?p ?o }} }}"
    assert update(client, copy).status_code == 204
    assert native.extensions["dprk_kg_store"].ask("ASK { GRAPH <http://example.org/h> { ?s ?p ?o } }") is False


def insert_noted_persons(app: Any, client: Any, graph: str) -> None:
    """Two persons in ``graph``, each given a note on a fresh blank node by one INSERT … WHERE."""
    setup = PREFIXES + f"""INSERT DATA {{ GRAPH {graph} {{
        {graph}-s1 a dj:Person ; rdfs:label "S1"@en ; dct:source djr:doc-000 .
        {graph}-s2 a dj:Person ; rdfs:label "S2"@en ; dct:source djr:doc-000 . }} }}"""
    assert update(client, setup).status_code == 204
    text = PREFIXES + f"""INSERT {{ GRAPH {graph} {{ ?s ex:note [ ex:text "n" ] }} }}
        WHERE {{ GRAPH {graph} {{ ?s a dj:Person }} }}"""
    assert update(client, text).status_code == 204


def test_blank_nodes_created_by_insert_are_fresh_per_solution(app: Any, client: Any) -> None:
    insert_noted_persons(app, client, "ex:bn")
    rows = store(app).select(PREFIXES + "SELECT DISTINCT ?n WHERE { GRAPH ex:bn { ?s ex:note ?n } }").rows
    assert len(rows) == 2


def test_an_update_rewriting_stored_blank_nodes_is_applied_as_validated(app: Any, client: Any) -> None:
    """Blank nodes read from the store keep their identity (the delta is committed with their ids)."""
    insert_noted_persons(app, client, "ex:bn-rewrite")
    text = PREFIXES + """DELETE { GRAPH ex:bn-rewrite { ?n ex:text "n" } }
        INSERT { GRAPH ex:bn-rewrite { ?n ex:text "m" } }
        WHERE { GRAPH ex:bn-rewrite { ?n ex:text "n" } }"""
    assert update(client, text).status_code == 204
    texts = {r[0].value for r in store(app).select(
        PREFIXES + "SELECT ?t WHERE { GRAPH ex:bn-rewrite { ?n ex:text ?t } }").rows}
    assert texts == {"m"}
    count = store(app).select(
        PREFIXES + "SELECT (COUNT(DISTINCT ?n) AS ?c) WHERE { GRAPH ex:bn-rewrite { ?s ex:note ?n } }")
    assert count.rows[0][0].value == "2"


def test_using_restricts_the_where_clause_to_the_named_graphs(app: Any, client: Any) -> None:
    source = PREFIXES + """INSERT DATA { GRAPH ex:using {
        ex:w1 a dj:Person ; rdfs:label "W1"@en ; dct:source djr:doc-000 } }"""
    assert update(client, source).status_code == 204
    text = PREFIXES + """INSERT { GRAPH ex:copy { ?s rdfs:label ?l } } USING ex:using
        WHERE { ?s rdfs:label ?l }"""
    assert update(client, text).status_code == 204
    labels = {r[0].value for r in store(app).select(PREFIXES + "SELECT ?l WHERE { GRAPH ex:copy { ?s rdfs:label ?l } }")
              .rows}
    assert labels == {"W1"}


def test_graph_store_put_post_and_delete_are_guarded(app: Any, client: Any) -> None:
    target = "/store?graph=" + quote("http://example.org/gs", safe="")
    good = PERSON_OK.format(name="g1")
    assert client.put(target, data=good, content_type="text/turtle", headers=AUTH).status_code == 201
    before = quad_count(app)
    json_auth = {**AUTH, "Accept": "application/json"}
    response = client.post(target, data=PERSON_NO_LABEL.format(name="g2"), content_type="text/turtle",
                           headers=json_auth)
    assert response.status_code == 422 and response.get_json()["report"]["conforms"] is False
    response = client.put(target, data=PERSON_NO_LABEL.format(name="g3"), content_type="text/turtle",
                          headers=json_auth)
    assert response.status_code == 422
    assert quad_count(app) == before and ask(app, "GRAPH ex:gs { ex:g1 a dj:Person }")
    assert client.delete(target, headers=AUTH).status_code == 204
    assert not ask(app, "ex:g1 ?p ?o")


def test_deleting_a_document_graph_others_depend_on_is_refused(app: Any, client: Any, unchanged: None) -> None:
    """Dropping djr:doc-000's graph removes the document itself, which many nodes cite as their source."""
    response = client.delete("/store?graph=" + quote("https://w3id.org/dprk-japan-kg/id/doc-000", safe=""),
                             headers=AUTH)
    assert response.status_code == 422
    assert ask(app, "GRAPH djr:doc-000 { djr:doc-000 a dj:SourceDocument }")


def test_without_union_or_validation_updates_run_natively(make_app: Any) -> None:
    """The configuration of the W3C conformance runs: plain SPARQL Update semantics, no guard."""
    native = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False, UNION_DEFAULT_GRAPH=False, VALIDATE_WRITES=False,
                      ENTAILMENT="none")
    client = native.test_client()
    assert update(client, 'INSERT DATA { <http://example.org/a> <http://example.org/p> "1" }').status_code == 204
    assert native.extensions["dprk_kg_store"].ask("ASK { <http://example.org/a> ?p ?o }")


def test_an_update_cannot_hide_operations_from_validation_with_codepoint_escapes(make_app):
    """``\\u0022`` closes a string for rdflib but not for pyoxigraph unless escapes are expanded first."""
    client = make_app(WRITE_TOKEN=TOKEN).test_client()
    update = {**AUTH, "Content-Type": "application/sparql-update"}
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
    response = client.post("/sparql", data=hidden.encode(), headers=update)
    assert response.status_code == 204, response.data
    g4 = client.get("/sparql", query_string={"query": "SELECT ?s ?p ?o WHERE { GRAPH <urn:x:g4> { ?s ?p ?o } }"},
                    headers={"Accept": "application/sparql-results+json"})
    assert [{k: v["value"] for k, v in b.items()} for b in g4.get_json(force=True)["results"]["bindings"]] == [
        {"s": "urn:x:s", "p": "urn:x:p", "o": "x"}], "only the visible insert ran"
    ask = client.get("/sparql", query_string={"query": "ASK { GRAPH <urn:x:upd> { ?s ?p ?o } }"},
                     headers={"Accept": "application/sparql-results+json"})
    assert ask.get_json(force=True)["boolean"] is False, "an operation that was not validated was executed"
    plain = hidden.replace("\\u0022 # ", "")
    assert client.post("/sparql", data=plain.encode(), headers=update).status_code == 422, \
        "the same insert, visible, breaks the Person shapes"
