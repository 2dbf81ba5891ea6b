"""The whole service in front of OpenLink Virtuoso: ``dprk-kg serve --store-url <virtuoso>/sparql``.

The same promises as in front of the Oxigraph server (tests/store/test_remote.py, whose helpers
are reused): the service loads the bundled graph into the empty store, answers canned queries
with the golden answers of the embedded store, speaks the SPARQL Protocol (SELECT, CONSTRUCT,
ASK), refuses an invalid write with 422 and leaves the store unchanged (asked of Virtuoso
itself), writes a valid one, and serves links, VoID and dumps — despite Virtuoso's deviations,
which :class:`service.store.remote.Dialect` meets: its default graph (the union of all its graphs,
its system graphs included) is not the service's, which lives in a named graph of its own.
One Virtuoso and one service per module; both real processes on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.error
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest

from service.store.remote import VIRTUOSO_DEFAULT_GRAPH, VIRTUOSO_SYSTEM_GRAPHS
from tests.canned.test_canned_golden import GOLDEN
from tests.conftest import REPO, WRITE_TOKEN, LiveServer, start_live_server
from tests.shared_helpers import W3C, needs_shared
from tests.store import test_remote as over_oxigraph
from tests.store.test_remote import PREFIXES, RESULTS_JSON, HttpClient, _void_linksets, update
from tests.store.virtuoso import VirtuosoServer, skip_or_fail_without_virtuoso, start_virtuoso

SERVICE_GRAPHS = f"FILTER(?g NOT IN ({', '.join(f'<{g}>' for g in sorted(VIRTUOSO_SYSTEM_GRAPHS))}))"


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[VirtuosoServer]:
    skip_or_fail_without_virtuoso()
    server = start_virtuoso(tmp_path_factory.mktemp("remote-virtuoso") / "db")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory, virtuoso: VirtuosoServer) -> Iterator[LiveServer]:
    """Our service with --store-url at Virtuoso's /sparql (queries and updates), which it loads on first start."""
    server = start_live_server(tmp_path_factory.mktemp("virtuoso-service") / "store", "--store-url",
                               virtuoso.sparql_url, env={"DPRK_KG_WRITE_TOKEN": WRITE_TOKEN})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http(remote: LiveServer) -> HttpClient:
    return HttpClient(remote.url)


def direct_count(virtuoso: VirtuosoServer) -> int:
    """Quads in the service's graphs, counted by Virtuoso itself."""
    answer = virtuoso.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {SERVICE_GRAPHS} }}")
    return int(answer["results"]["bindings"][0]["n"]["value"])


def ask(virtuoso: VirtuosoServer, where: str, default_graph: str | None = None) -> bool:
    """ASK Virtuoso itself, with the test's prefixes."""
    answer = virtuoso.query(PREFIXES + f"ASK {{ {where} }}", default_graph=default_graph)
    return bool(answer["boolean"]) if "boolean" in answer else bool(answer["results"]["bindings"])


def test_the_bundled_graph_is_loaded_into_graphs_of_its_own(remote: LiveServer, virtuoso: VirtuosoServer) -> None:
    assert ask(virtuoso, "GRAPH djr:doc-000 { djr:doc-000 a dj:SourceDocument }")
    assert ask(virtuoso, f"GRAPH <{VIRTUOSO_DEFAULT_GRAPH}> {{ djr:song-il-ho rdfs:label ?l }}"), \
        "the service's (union) default graph is a named graph of its own in Virtuoso"


def test_the_stores_system_graphs_are_not_the_services(http: HttpClient, virtuoso: VirtuosoServer) -> None:
    """Virtuoso's own graphs are in the store (its default graph reads them) but never in the service's answers."""
    assert any(ask(virtuoso, f"GRAPH <{g}> {{ ?s ?p ?o }}") for g in VIRTUOSO_SYSTEM_GRAPHS)
    graphs = http.get("/sparql", query_string={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
                      headers={"Accept": RESULTS_JSON})
    assert graphs.status_code == 200
    named = {b["g"]["value"] for b in graphs.get_json()["results"]["bindings"]}
    assert "https://w3id.org/dprk-japan-kg/id/doc-000" in named
    assert not named & (VIRTUOSO_SYSTEM_GRAPHS | {VIRTUOSO_DEFAULT_GRAPH})
    count = http.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                     headers={"Accept": RESULTS_JSON})
    in_default = int(count.get_json()["results"]["bindings"][0]["n"]["value"])
    own = virtuoso.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{VIRTUOSO_DEFAULT_GRAPH}> {{ ?s ?p ?o }} }}")
    assert in_default == int(own["results"]["bindings"][0]["n"]["value"]) > 0


#: Canned queries Virtuoso 7.2 itself answers wrongly or not at all (the same text, dataset and data as the
#: embedded store's). Not adaptable in the backend: they are faults of Virtuoso's evaluation, named here so that
#: each stays visible (strict: a query that starts passing fails the run, to be taken off this list).
#: (Where a rewrite in equally standard SPARQL avoids a fault, the query was rewritten instead: the timelines read
#: a year parameter with xsd:integer(STR(…)), as Virtuoso aborts on YEAR() of an absent one.)
CALENDAR = ("Virtuoso compares and keeps xsd:gYear and xsd:gYearMonth values as dates: \"2012\"^^xsd:gYear equals "
            "\"2012-01\"^^xsd:gYearMonth, and of the two on one resource in one graph (the union default graph "
            "holds both where two documents date an event differently) it keeps one, so dates differ")
WRONG_ROWS = ("Virtuoso's answer differs (rows merged or missing): a parameter named like an output column "
              "(?wording) inside a sub-SELECT that does not project it is taken for that column; renamed apart, "
              "Virtuoso's plan no longer finishes within the query time limit")
VIRTUOSO_FAILS = {
    "documents": "Virtuoso's SPARQL-to-SQL compiler fails on the query (SQ074, an empty message); without the "
                 "two BIND(… EXISTS …) it compiles, but counting each document's statements (GRAPH ?graph { ?s ?p ?o } "
                 "joined with the provenance graph) does not finish within the service's query time limit",
    "round-details": CALENDAR, "co-participation": CALENDAR,
    "persons-by-role": WRONG_ROWS,
}


@pytest.mark.parametrize(("name", "params", "columns", "expected"), [
    pytest.param(*g, marks=pytest.mark.xfail(reason=VIRTUOSO_FAILS[g[0]], strict=True)) if g[0] in VIRTUOSO_FAILS
    else g for g in GOLDEN], ids=[f"{g[0]}-{i}" for i, g in enumerate(GOLDEN)])
def test_canned_queries_give_the_golden_answers_over_virtuoso(http: HttpClient, name: str, params: dict,
                                                              columns: list, expected: list) -> None:
    over_oxigraph.test_canned_queries_give_the_golden_answers(http, name, params, columns, expected)


def test_sparql_select_construct_and_ask_over_virtuoso(http: HttpClient) -> None:
    over_oxigraph.test_sparql_select_construct_and_ask(http)


def test_an_invalid_write_is_422_and_virtuoso_is_unchanged(http: HttpClient, virtuoso: VirtuosoServer) -> None:
    before = direct_count(virtuoso)
    response = update(http, "INSERT DATA { GRAPH <http://example.org/remote-bad> { <http://example.org/nobody> "
                            "a dj:Person ; dct:source djr:doc-000 . } }")  # a Person needs a label
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["report"]["conforms"] is False
    assert direct_count(virtuoso) == before
    assert not ask(virtuoso, "GRAPH ?g { <http://example.org/nobody> ?p ?o }")


def test_a_valid_guarded_write_lands_with_its_derived_triples(http: HttpClient, virtuoso: VirtuosoServer) -> None:
    response = update(http, "INSERT DATA { GRAPH <http://example.org/remote-good> { <http://example.org/someone> "
                            "a dj:Person ; rdfs:label \"Someone\"@en ; dct:source djr:doc-000 ; "
                            "dj:note [ rdfs:label \"a blank node\" ] . } }")
    assert response.status_code == 204, response.get_data(as_text=True)
    assert ask(virtuoso, "GRAPH <http://example.org/remote-good> { <http://example.org/someone> a dj:Person }")
    assert ask(virtuoso, f"GRAPH <{VIRTUOSO_DEFAULT_GRAPH}> {{ <http://example.org/someone> rdfs:label "
                         "\"Someone\"@en }"), "the union default graph, in the service's graph for it"
    seen = http.get("/sparql", query_string={"query": "ASK { <http://example.org/someone> ?p ?o }"},
                    headers={"Accept": RESULTS_JSON})
    assert seen.get_json()["boolean"] is True
    removed = update(http, "DELETE WHERE { GRAPH <http://example.org/remote-good> { ?s ?p ?o } }")
    assert removed.status_code == 204, removed.get_data(as_text=True)
    assert not ask(virtuoso, "GRAPH ?g { <http://example.org/someone> ?p ?o }"), "gone from every graph"


def test_a_whole_decimal_written_through_the_service_stays_a_decimal(http: HttpClient, virtuoso: VirtuosoServer
                                                                    ) -> None:
    """Virtuoso stores ``"1"^^xsd:decimal`` from an INSERT template as an xsd:integer (the service's write
    form: :meth:`Dialect.insert`), and pyoxigraph writes the decimal 1.0 so: sent as ``"1.0"``, it stays a
    decimal (W3C agg-group-builtin failed through the service on this alone)."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    scratch = "http://example.org/remote-decimal-direct"
    virtuoso.query(f'INSERT {{ GRAPH <{scratch}> {{ <http://example.org/d> <http://example.org/p> "1"^^<{xsd}decimal> '
                   "} } WHERE { BIND(1 AS ?one) }")  # Virtuoso itself, as the service would write it unadapted
    try:
        assert virtuoso.ask(f"GRAPH <{scratch}> {{ ?s ?p ?o FILTER(DATATYPE(?o) = <{xsd}integer>) }}"), \
            "Virtuoso keeps a whole decimal from a template now: Dialect.decimal_point may go"
    finally:
        virtuoso.query(f"DROP SILENT GRAPH <{scratch}>")
    response = update(http, "INSERT DATA { GRAPH <http://example.org/remote-decimal> { <http://example.org/d> "
                            "<http://example.org/p> 1.0, 2.50 } }")
    assert response.status_code == 204, response.get_data(as_text=True)
    try:
        answer = http.get("/sparql", query_string={"query": "SELECT (DATATYPE(?o) AS ?d) WHERE { GRAPH "
                                                            "<http://example.org/remote-decimal> { ?s ?p ?o } }"},
                          headers={"Accept": RESULTS_JSON})
        datatypes = [b["d"]["value"] for b in answer.get_json()["results"]["bindings"]]
        assert datatypes == [xsd + "decimal"] * 2
    finally:
        update(http, "DROP SILENT GRAPH <http://example.org/remote-decimal>")


def test_an_open_parameter_keeps_the_column_it_would_restrict(http: HttpClient, virtuoso: VirtuosoServer) -> None:
    """Virtuoso lets ``VALUES ?x { UNDEF }`` (a canned parameter left open) unbind ``?x`` where it is joined with a
    group of ``GRAPH ?g { … ?x }`` and an OPTIONAL, in a query with a default graph (every query the service
    sends has one): the canned query ``representatives`` lost its person column. Shown here on Virtuoso itself, on
    two graphs of its own; the service leaves such a VALUES out (the identity of a join)."""
    scratch, default = "http://example.org/open-values", "http://example.org/open-values-default"
    virtuoso.query(f"INSERT DATA {{ GRAPH <{scratch}> {{ <http://example.org/s> <http://example.org/p> "
                   f"<http://example.org/o> }} GRAPH <{default}> {{ <http://example.org/s> <http://example.org/q> 1 "
                   "} }")
    try:
        pattern = ("WHERE { VALUES ?x { UNDEF } { GRAPH ?g { ?s <http://example.org/p> ?x } "
                   "OPTIONAL { ?s <http://example.org/q> ?y } } }")
        direct = virtuoso.query(f"SELECT ?x ?s FROM <{default}> FROM NAMED <{scratch}> {pattern}")
        assert direct["results"]["bindings"] == [{"s": {"type": "uri", "value": "http://example.org/s"}}], \
            "Virtuoso binds ?x now: Dialect.open_values may go"
    finally:
        virtuoso.query(f"DROP SILENT GRAPH <{scratch}>")
        virtuoso.query(f"DROP SILENT GRAPH <{default}>")
    answer = post_query(http, PREFIXES + "SELECT ?person ?via WHERE { VALUES ?person { UNDEF } { GRAPH ?g { ?via "
                                         "dj:member ?person } OPTIONAL { ?via dj:endDate ?end } } }")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    bindings = answer.get_json()["results"]["bindings"]
    assert bindings and all("person" in b for b in bindings)


def test_void_and_dumps(http: HttpClient) -> None:
    void = http.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert void.status_code == 200
    description = list(ox.parse(void.data, format=ox.RdfFormat.TURTLE))
    assert any(t.predicate.value == "http://rdfs.org/ns/void#triples" for t in description)
    dump = http.get("/dump", headers={"Accept": "application/n-quads"})
    assert dump.status_code == 200, dump.get_data(as_text=True)[:300]
    graphs = {q.graph_name for q in ox.parse(dump.data, format=ox.RdfFormat.N_QUADS)}
    assert ox.NamedNode("https://w3id.org/dprk-japan-kg/id/doc-000") in graphs
    assert ox.DefaultGraph() not in graphs, "the union default graph is derived, not dumped"
    assert not {g.value for g in graphs if isinstance(g, ox.NamedNode)} & (VIRTUOSO_SYSTEM_GRAPHS | {
        VIRTUOSO_DEFAULT_GRAPH}), "neither Virtuoso's graphs nor the graph holding the default graph"
    one = http.get("/store", query_string={"graph": "https://w3id.org/dprk-japan-kg/id/doc-000"},
                   headers={"Accept": "application/n-triples"})
    assert one.status_code == 200 and len(list(ox.parse(one.data, format=ox.RdfFormat.N_TRIPLES))) > 0


def test_links_and_linksets_are_the_embedded_services(http: HttpClient, live_server: LiveServer) -> None:
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


def post_query(http: HttpClient, sparql: str, accept: str = RESULTS_JSON) -> Any:
    """A query POSTed to the service (never answered from its cache of GETs)."""
    return http.post("/sparql", data=sparql.encode(), headers={"Content-Type": "application/sparql-query",
                                                               "Accept": accept})


def test_iri_of_a_relative_iri_is_resolved_against_the_querys_base(http: HttpClient, virtuoso: VirtuosoServer
                                                                  ) -> None:
    """Virtuoso's IRI()/URI() ignore BASE and answer a relative IRI, which SPARQL results cannot carry (the service
    answered 500 on reading it): the service resolves it against the query's base, as the functions should."""
    select = 'BASE <http://example.org/> SELECT (URI("uri") AS ?uri) (IRI("iri") AS ?iri) WHERE {}'
    direct = virtuoso.query(select)["results"]["bindings"][0]
    assert direct["iri"]["value"] == "iri", "Virtuoso resolves IRI() now: Dialect.unresolved_iris may go"
    answer = post_query(http, select)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    row = answer.get_json()["results"]["bindings"][0]
    assert row == {"uri": {"type": "uri", "value": "http://example.org/uri"},
                   "iri": {"type": "uri", "value": "http://example.org/iri"}}
    construct = post_query(http, 'BASE <http://example.org/> CONSTRUCT { ?x ?x ?x } WHERE { BIND(IRI("rel") AS ?x) }',
                           accept="application/n-triples")
    assert construct.status_code == 200, construct.get_data(as_text=True)
    node = ox.NamedNode("http://example.org/rel")
    assert [q.triple for q in ox.parse(construct.data, format=ox.RdfFormat.N_TRIPLES)] == [ox.Triple(node, node, node)]


def test_invalid_syntax_virtuoso_answers_is_refused_as_invalid(http: HttpClient, virtuoso: VirtuosoServer) -> None:
    """``SELECT COUNT(*) {}`` is no SPARQL 1.1 (an aggregate is projected with AS): Virtuoso answers it, in a column
    ``callret-0`` that no SPARQL variable can be; the service says 400 with the syntax error, as the embedded
    store does (not 500 on reading the column)."""
    assert virtuoso.query("SELECT COUNT(*) {}")["head"]["vars"] == ["callret-0"]
    answer = post_query(http, "SELECT COUNT(*) {}")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "Syntax error" in answer.get_data(as_text=True)


def test_a_valid_query_answered_unreadably_is_502(http: HttpClient, virtuoso: VirtuosoServer) -> None:
    """A datatype left relative by IRI() is not resolved (only IRIs in the answer's terms are): that answer cannot
    be read, the query is valid SPARQL, so the store is at fault — 502 naming what could not be read, never 500."""
    select = 'BASE <http://example.org/> SELECT (STRDT("a", IRI("rel")) AS ?x) WHERE {}'
    assert virtuoso.query(select)["results"]["bindings"][0]["x"]["datatype"] == "rel"
    answer = post_query(http, select)
    assert answer.status_code == 502, answer.get_data(as_text=True)
    text = answer.get_data(as_text=True)
    assert "could not be read" in text and "Traceback" not in text


def test_a_query_virtuoso_fails_is_502_with_its_reason(http: HttpClient, virtuoso: VirtuosoServer) -> None:
    """Virtuoso answers 500 where SPARQL makes an expression an error (STRLANG with no language tag: the binding is
    left unbound); the service was a gateway passing on its upstream's failure as its own 500: now 502, in
    Virtuoso's words (the embedded store answers one row with ?x unbound)."""
    select = 'SELECT (STRLANG("a", "not a tag!") AS ?x) WHERE {}'
    with pytest.raises(urllib.error.HTTPError) as failed:
        virtuoso.query(select)
    assert failed.value.code == 500
    answer = post_query(http, select)
    assert answer.status_code == 502, answer.get_data(as_text=True)
    text = answer.get_data(as_text=True)
    assert "failed on the query" in text and "language" in text and "Traceback" not in text


@needs_shared(W3C)
def test_the_w3c_suites_through_the_service_in_front_of_virtuoso(tmp_path_factory: pytest.TempPathFactory,
                                                                  starts_processes: None) -> None:
    """Every W3C SPARQL 1.1 suite through our service in front of a fresh Virtuoso passes at least the tests
    recorded for it (``ours-over-virtuoso`` in bench/conformance-scores.json, ``--check-scores``); the tests it
    fails there are listed under known_failures with their reasons. Run as test_remote.py runs the suites
    in front of the Oxigraph server: empty store, no entailment, no union default graph, writes unguarded."""
    skip_or_fail_without_virtuoso()
    folder = tmp_path_factory.mktemp("virtuoso-conformance")
    store = start_virtuoso(folder / "db")
    try:
        service = start_live_server(folder / "store", "--no-data", "--entailment", "none", "--no-union-default-graph",
                                    "--no-validate-writes", "--store-url", store.sparql_url,
                                    env={"DPRK_KG_WRITE_TOKEN": WRITE_TOKEN})
        try:
            result = subprocess.run([sys.executable, "bench/conformance.py", "--w3c", str(W3C), "--url", service.url,
                                     "--write-token", WRITE_TOKEN, "--target", "ours", "--as", "ours-over-virtuoso",
                                     "--check-scores", "--list-failures"], cwd=REPO, capture_output=True, text=True,
                                    timeout=1200)
        finally:
            service.stop()
    finally:
        store.stop()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
