"""The SPARQL 1.1 Protocol as clients rely on it: every way to send a query or an update, every way to
get it wrong (a 4xx naming the problem, nothing changed), dataset parameters, formats, limits."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from service.sparql.lexer import add_using_clauses, query_kind, tokenize
from tests.process_helpers import alive
from tests.shared_helpers import W3C, needs_shared
from tests.sparql_helpers import AUTH, EX, SELECT_JSON, TOKEN, buffered_client, n, quad_count, seed, snapshot, values

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture
def client(app):
    """The read-only service over the bundled graph (responses read at once, as a server does)."""
    return buffered_client(app)


@pytest.fixture
def writable(make_app):
    """A fresh service with a write token and two small graphs."""
    app = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False)
    seed(app)
    return app


# -- the lexer ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind"), [
    ("SELECT * {}", "select"),
    ("  select * {}", "select"),
    ("PREFIX ex: <http://e/> BASE <http://b/> ASK {}", "ask"),
    ("# CONSTRUCT in a comment\nDESCRIBE <x>", "describe"),
    ("PREFIX : <http://e/#SELECT> CONSTRUCT WHERE { ?s ?p ?o }", "construct"),
    ("INSERT DATA { <a> <b> <c> }", "update"),
    ("PREFIX ex: <http://e/> DELETE WHERE { ?s ?p ?o }", "update"),
    ("WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "update"),
    ("", None),
    ("garbage", None),
])
def test_the_query_kind_is_read_after_the_prologue(text, kind):
    assert query_kind(text) == kind


def test_keywords_inside_strings_iris_and_comments_are_not_keywords():
    tokens = tokenize('SELECT ("SERVICE" AS ?x) \'\'\'LOAD\n\'\'\' <http://e/SERVICE> # SERVICE <x>\n'
                      "?SERVICE ex:SERVICE")
    words = [t.text for t in tokens if t.kind == "word"]
    assert words == ["SELECT", "AS"]
    assert [t.kind for t in tokens][-2:] == ["var", "pname"]


def test_escaped_quotes_do_not_end_a_string():
    tokens = tokenize(r'SELECT ("a\"b SERVICE" AS ?x) {}')
    assert [t.kind for t in tokens][:3] == ["word", "punct", "string"]
    assert not any(t.kind == "word" and t.text == "SERVICE" for t in tokens)


# -- queries: every way to send one --------------------------------------------------------------

def test_a_query_by_get_by_post_form_and_by_post_direct_gives_the_same_answer(client):
    by_get = client.get("/sparql", query_string={"query": COUNT}, headers=SELECT_JSON)
    by_form = client.post("/sparql", data={"query": COUNT}, headers=SELECT_JSON)
    direct = client.post("/sparql", data=COUNT.encode(), content_type="application/sparql-query", headers=SELECT_JSON)
    assert by_get.status_code == by_form.status_code == direct.status_code == 200
    assert values(by_get, "n") == values(by_form, "n") == values(direct, "n")
    assert int(values(by_get, "n")[0]) > 100


def test_a_direct_post_must_be_utf8_whatever_charset_it_declares(client):
    ok = client.post("/sparql", data="ASK { FILTER(\"é\" = \"é\") }".encode(),
                     content_type="application/sparql-query; charset=UTF-8")
    assert ok.status_code == 200 and ok.get_json(force=True)["boolean"] is True
    response = client.post("/sparql", data="ASK {}".encode("utf-16"),
                           content_type="application/sparql-query; charset=UTF-16")
    assert response.status_code == 415 and "charset=utf-16" in response.get_data(as_text=True)


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"query_string": [("query", COUNT), ("query", COUNT)]}, "'query'"),
    ({"method": "POST", "data": {"query": [COUNT, COUNT]}}, "'query'"),
    ({"method": "POST", "data": {"default-graph-uri": EX + "g"}}, "'query'"),
    ({"query_string": {"default-graph-uri": EX + "g"}}, "'query'"),
    ({"query_string": {"query": ""}}, "'query'"),
    ({"method": "POST", "data": {"query": COUNT, "update": "CLEAR ALL"}}, "'update'"),
    ({"query_string": {"query": COUNT, "using-graph-uri": EX + "g"}}, "'using-graph-uri'"),
    ({"query_string": {"query": COUNT, "default-graph-uri": "not an iri"}}, "'default-graph-uri'"),
    ({"query_string": {"query": COUNT, "named-graph-uri": "file:///etc/passwd"}}, "'named-graph-uri'"),
    ({"method": "POST", "data": b"", "content_type": "application/sparql-query"}, "empty"),
    ({"method": "POST", "query_string": {"query": COUNT}, "data": COUNT, "content_type": "application/sparql-query"},
     "'query'"),
])
def test_bad_parameters_are_a_400_naming_the_parameter(client, kwargs, named):
    kwargs = dict(kwargs)
    method = kwargs.pop("method", "GET")
    response = client.open("/sparql", method=method, **kwargs)
    assert response.status_code == 400, response.data
    assert named in response.get_data(as_text=True)


def test_an_update_sent_with_get_is_a_405_naming_it(client):
    response = client.get("/sparql", query_string={"update": "CLEAR ALL"})
    assert response.status_code == 405
    assert "'update'" in response.get_data(as_text=True) and "POST" in response.get_data(as_text=True)
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "application/sparql-results+json",
                                          "multipart/form-data; boundary=x"])
def test_other_content_types_are_a_415_listing_the_supported_ones(client, content_type):
    response = client.post("/sparql", data=COUNT, content_type=content_type)
    assert response.status_code == 415
    text = response.get_data(as_text=True)
    assert "application/sparql-query" in text and "application/x-www-form-urlencoded" in text


@pytest.mark.parametrize(("data", "content_type"), [
    (b"SELECT * WHERE { ?s ?p \xff }", "application/sparql-query"),
    (b"query=SELECT%20%FF", "application/x-www-form-urlencoded"),
    (b"query=SELECT \xe9", "application/x-www-form-urlencoded"),
])
def test_a_body_that_is_not_utf8_is_a_400(client, data, content_type):
    response = client.post("/sparql", data=data, content_type=content_type)
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)


def test_a_syntax_error_names_its_line_and_column(client):
    response = client.post("/sparql", data={"query": "SELECT *\nWHERE { ?s ?p }"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "line 2, column 16" in text  # pyoxigraph's position, just past the point where a term was expected
    assert "Traceback" not in text


def test_an_update_sent_as_a_query_is_refused_and_the_reverse_too(client, writable):
    response = client.get("/sparql", query_string={"query": "CLEAR ALL"})
    assert response.status_code == 400 and "'update'" in response.get_data(as_text=True)
    response = buffered_client(writable).post("/sparql", data={"update": COUNT}, headers=AUTH)
    assert response.status_code == 400 and "'query'" in response.get_data(as_text=True)


# -- dataset parameters ----------------------------------------------------------------------------

def test_default_graph_uri_replaces_the_union_default_graph(writable):
    client = buffered_client(writable)
    query = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"
    assert values(client.get("/sparql", query_string={"query": query}), "s") == [EX + "a", EX + "b"]
    only_g1 = client.get("/sparql", query_string={"query": query, "default-graph-uri": EX + "g1"})
    assert values(only_g1, "s") == [EX + "a"]
    both = client.post("/sparql", data={"query": query, "default-graph-uri": [EX + "g1", EX + "g2"]})
    assert values(both, "s") == [EX + "a", EX + "b"]


def test_named_graph_uri_limits_the_named_graphs_and_empties_the_default_graph(writable):
    client = buffered_client(writable)
    query = "SELECT ?g ?s WHERE { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } }"
    response = client.get("/sparql", query_string={"query": query, "named-graph-uri": EX + "g2"})
    assert [(b.get("g", {}).get("value"), b["s"]["value"]) for b in response.get_json(force=True)["results"][
        "bindings"]] == [(EX + "g2", EX + "b")]


def test_dataset_parameters_also_work_with_a_direct_post(writable):
    response = buffered_client(writable).post(
        f"/sparql?default-graph-uri={EX}g2", data="SELECT ?s WHERE { ?s ?p ?o }",
        content_type="application/sparql-query")
    assert values(response, "s") == [EX + "b"]


def test_from_a_graph_that_is_not_in_the_store_is_an_empty_graph(writable):
    response = buffered_client(writable).get("/sparql", query_string={
        "query": "SELECT ?s FROM <http://example.org/nowhere> WHERE { ?s ?p ?o }"})
    assert response.status_code == 200 and values(response, "s") == []


# -- formats ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "content_type", "start"), [
    ("application/sparql-results+json", "application/sparql-results+json", b'{"head"'),
    ("application/sparql-results+xml", "application/sparql-results+xml", b"<?xml"),
    ("text/csv", "text/csv; charset=utf-8", b"s\r\n"),
    ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8", b"?s\n"),
])
def test_select_results_in_every_format(writable, accept, content_type, start):
    response = buffered_client(writable).get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o }"},
                                          headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.data.startswith(start)
    assert b"http://example.org/a" in response.data


@pytest.mark.parametrize(("accept", "content_type", "rdf_format"), [
    (None, "text/turtle; charset=utf-8", ox.RdfFormat.TURTLE),
    ("text/turtle", "text/turtle; charset=utf-8", ox.RdfFormat.TURTLE),
    ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/rdf+xml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
    ("application/n-quads", "application/n-quads", ox.RdfFormat.N_QUADS),
    ("application/trig", "application/trig", ox.RdfFormat.TRIG),
    ("application/json", "application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/xml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
])
def test_construct_results_in_every_format(writable, accept, content_type, rdf_format):
    headers = {"Accept": accept} if accept else {}
    response = buffered_client(writable).get("/sparql", query_string={
        "query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    triples = {(q.subject, q.predicate, q.object) for q in ox.parse(response.data, rdf_format)}
    assert triples == {(n("a"), n("p"), ox.Literal("1")), (n("b"), n("p"), ox.Literal("2"))}


def test_describe_is_a_graph_result(writable):
    response = buffered_client(writable).get("/sparql", query_string={"query": f"DESCRIBE <{EX}a>"},
                                          headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert response.data.strip() == b'<http://example.org/a> <http://example.org/p> "1" .'


@pytest.mark.parametrize(("accept", "body"), [
    ("application/sparql-results+json", b'{"head": {}, "boolean": true}'),
    ("application/sparql-results+xml", b"<boolean>true</boolean>"),
    ("text/csv", b"true"),
])
def test_ask_in_every_results_format(client, accept, body):
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": accept})
    assert response.status_code == 200
    assert body in response.data


def test_a_graph_result_cannot_be_had_as_csv_406_lists_the_formats(client):
    response = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"},
                          headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert "text/turtle" in response.get_data(as_text=True)


def test_the_download_parameter_overrides_accept_and_makes_an_attachment(client):
    response = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1",
                                                    "download": "csv"}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="results.csv"'
    response = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1",
                                                    "download": "csv"})
    assert response.status_code == 400 and "'download'" in response.get_data(as_text=True)


def test_other_clients_format_parameters_are_left_to_the_accept_header(client):
    response = client.get("/sparql", query_string={"query": "ASK {}", "format": ["tsv", "tsv"], "output": "xml"},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/sparql-results+json"


# -- no query: the service description --------------------------------------------------------------

def test_get_without_a_query_describes_the_service(client):
    response = client.get("/sparql")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
    triples = list(ox.parse(response.data, ox.RdfFormat.TURTLE))
    assert any(t.predicate.value == SD + "endpoint" and t.object.value == "http://localhost/sparql" for t in triples)


SD = "http://www.w3.org/ns/sparql-service-description#"


def description(client, accept: str, rdf_format: ox.RdfFormat) -> set[tuple[str, str]]:
    response = client.get("/sparql", headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["Content-Type"].split(";")[0] == accept
    return {(t.predicate.value, t.object.value) for t in ox.parse(response.data, rdf_format)}


def test_the_service_description_follows_the_settings_in_every_syntax(make_app):
    app = make_app(LOAD_DATA=False)
    seed(app)
    client = buffered_client(app)
    for accept, rdf_format in (("application/ld+json", ox.RdfFormat.JSON_LD),
                               ("application/rdf+xml", ox.RdfFormat.RDF_XML),
                               ("application/n-triples", ox.RdfFormat.N_TRIPLES)):
        facts = description(client, accept, rdf_format)
        assert (SD + "feature", SD + "UnionDefaultGraph") in facts
        assert (SD + "feature", SD + "BasicFederatedQuery") in facts
        assert (SD + "defaultEntailmentRegime", "http://www.w3.org/ns/entailment/RDFS") in facts
        assert (SD + "resultFormat", "http://www.w3.org/ns/formats/SPARQL_Results_CSV") in facts
        assert {(SD + "name", EX + "g1"), (SD + "name", EX + "g2")} <= facts
    plain = make_app(LOAD_DATA=False, ENTAILMENT="none", UNION_DEFAULT_GRAPH=False, SERVICE_ALLOWLIST={})
    facts = description(buffered_client(plain), "application/n-triples", ox.RdfFormat.N_TRIPLES)
    assert (SD + "defaultEntailmentRegime", "http://www.w3.org/ns/entailment/Simple") in facts
    assert not {p for p, o in facts if p == SD + "feature"}


def test_a_browser_without_a_query_gets_the_service_description_as_a_page(client):
    response = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "SPARQL service description" in response.get_data(as_text=True)


# -- limits ---------------------------------------------------------------------------------------------

def test_the_row_cap_cuts_results_and_says_so_in_headers_and_head(make_app):
    app = make_app(RESULT_ROW_CAP=3, LOAD_DATA=False)
    app.extensions["dprk_kg_store"].apply(add=[ox.Quad(n(f"s{i}"), n("p"), ox.Literal(str(i)), n("g"))
                                               for i in range(10)])
    client = buffered_client(app)
    response = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o }"})
    assert response.headers["X-Result-Truncated"] == "true"
    assert response.headers["Link"] == '<urn:dprk-kg:results-truncated>; rel="truncated"'
    body = response.get_json(force=True)
    assert len(body["results"]["bindings"]) == 3 and body["head"]["link"] == ["urn:dprk-kg:results-truncated"]
    whole = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3"})
    assert "X-Result-Truncated" not in whole.headers


@pytest.mark.slow  # waits out a time limit: long
def test_a_runaway_query_is_a_503_and_its_worker_process_is_gone(make_app):
    app = make_app(QUERY_TIMEOUT=1.0, LOAD_DATA=False)
    store = app.extensions["dprk_kg_store"]
    store.apply(add=[ox.Quad(n(f"s{i}"), n("p"), ox.Literal(str(i)), n("big")) for i in range(2000)])
    old_pid = store.pid
    response = buffered_client(app).get("/sparql", query_string={
        "query": f"SELECT (COUNT(*) AS ?c) WHERE {{ ?a <{EX}p> ?x . ?b <{EX}p> ?y . ?c <{EX}p> ?z }}"})
    assert response.status_code == 503
    assert "QUERY_TIMEOUT" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "1"
    assert store.pid != old_pid
    assert not alive(old_pid), "the process that ran the runaway query must be gone"
    follow_up = buffered_client(app).get("/sparql", query_string={"query": COUNT})
    assert values(follow_up, "n") == ["2000"]


def test_a_body_above_the_limit_is_a_413_naming_the_setting(make_app):
    app = make_app(MAX_BODY_BYTES=1000, LOAD_DATA=False, WRITE_TOKEN=TOKEN)
    client = buffered_client(app)
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 2000
    for response in (client.post("/sparql", data=big, content_type="application/sparql-query"),
                     client.post("/sparql", data={"query": big}),
                     client.post("/sparql", data={"update": big}, headers=AUTH)):
        assert response.status_code == 413
        assert "MAX_BODY_BYTES" in response.get_data(as_text=True) and "1000" in response.get_data(as_text=True)


# -- updates --------------------------------------------------------------------------------------------

INSERT = f"INSERT DATA {{ GRAPH <{EX}g3> {{ <{EX}c> <{EX}p> 3 }} }}"


def test_updates_by_post_form_and_post_direct(writable):
    client = buffered_client(writable)
    assert client.post("/sparql", data={"update": INSERT}, headers=AUTH).status_code == 204
    direct = client.post("/sparql", data=f"DELETE DATA {{ GRAPH <{EX}g3> {{ <{EX}c> <{EX}p> 3 }} }}",
                         content_type="application/sparql-update", headers=AUTH)
    assert direct.status_code == 204
    assert values(client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"}),
                  "s") == [EX + "a", EX + "b"]
    client.post("/sparql", data={"update": INSERT}, headers=AUTH)
    assert EX + "c" in values(client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o }"}), "s")


@pytest.mark.parametrize("update", ["", "# nothing", "BASE <http://e/>\nPREFIX : <http://e/> # otherwise empty"])
def test_an_update_with_no_operation_is_valid_and_changes_nothing(writable, update):
    before = snapshot(writable)
    client = buffered_client(writable)
    assert client.post("/sparql", data={"update": update}, headers=AUTH).status_code == 204
    assert client.post("/sparql", data=update, content_type="application/sparql-update", headers=AUTH
                       ).status_code == 204
    assert snapshot(writable) == before


def test_without_a_configured_token_the_service_is_read_only(client, app):
    before = quad_count(app)
    response = client.post("/sparql", data={"update": INSERT}, headers=AUTH)
    assert response.status_code == 403 and "read-only" in response.get_data(as_text=True)
    assert quad_count(app) == before


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ({"Authorization": "Bearer"}, 401),
    ({"Authorization": "Bearer wrong-token"}, 403),
    ({"Authorization": f"Bearer {TOKEN}x"}, 403),
])
def test_a_missing_token_is_401_and_a_wrong_one_403(writable, headers, status):
    before = snapshot(writable)
    response = buffered_client(writable).post("/sparql", data={"update": INSERT}, headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot(writable) == before


def test_using_graph_uri_sets_the_dataset_of_the_update(writable):
    client = buffered_client(writable)
    copy = f"INSERT {{ GRAPH <{EX}copy> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"
    response = client.post("/sparql", data={"update": copy, "using-graph-uri": EX + "g1"}, headers=AUTH)
    assert response.status_code == 204
    query = f"SELECT ?s WHERE {{ GRAPH <{EX}copy> {{ ?s ?p ?o }} }}"
    assert values(client.get("/sparql", query_string={"query": query}), "s") == [EX + "a"]


def test_using_named_graph_uri_on_a_direct_post(writable):
    client = buffered_client(writable)
    copy = f"INSERT {{ GRAPH <{EX}copy> {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    response = client.post(f"/sparql?using-named-graph-uri={EX}g2", data=copy,
                           content_type="application/sparql-update", headers=AUTH)
    assert response.status_code == 204
    query = f"SELECT ?s WHERE {{ GRAPH <{EX}copy> {{ ?s ?p ?o }} }}"
    assert values(client.get("/sparql", query_string={"query": query}), "s") == [EX + "b"]


def test_using_parameters_with_using_or_with_in_the_update_are_a_400(writable):
    before = snapshot(writable)
    for update in (f"DELETE {{ ?s ?p ?o }} USING <{EX}g1> WHERE {{ ?s ?p ?o }}",
                   f"WITH <{EX}g1> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}"):
        response = buffered_client(writable).post("/sparql", data={"update": update, "using-graph-uri": EX + "g2"},
                                               headers=AUTH)
        assert response.status_code == 400
        assert "using-graph-uri" in response.get_data(as_text=True)
    assert snapshot(writable) == before


def test_using_clauses_are_written_before_each_where():
    update = ("PREFIX ex: <http://e/> INSERT { ?s ex:q ?o } WHERE { ?s ex:p ?o . FILTER EXISTS { SELECT * WHERE "
              "{ ?s ?p ?o } } } ; DELETE WHERE { ?s ex:gone ?o } ; INSERT DATA { ex:a ex:b \"WHERE\" }")
    rewritten = add_using_clauses(update, ["http://e/g1"], ["http://e/g2"])
    assert rewritten == (
        "PREFIX ex: <http://e/> INSERT { ?s ex:q ?o } USING <http://e/g1> USING NAMED <http://e/g2> WHERE { ?s ex:p "
        "?o . FILTER EXISTS { SELECT * WHERE { ?s ?p ?o } } } ; DELETE { ?s ex:gone ?o } USING <http://e/g1> USING "
        "NAMED <http://e/g2> WHERE { ?s ex:gone ?o } ; INSERT DATA { ex:a ex:b \"WHERE\" }")
    assert add_using_clauses(update, [], []) == update


def test_delete_where_with_using_graph_uri_only_deletes_what_that_graph_matches(writable):
    client = buffered_client(writable)
    response = client.post("/sparql", data={"update": "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }",
                                            "using-named-graph-uri": EX + "g1"}, headers=AUTH)
    assert response.status_code == 204
    query = "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert values(client.get("/sparql", query_string={"query": query, "named-graph-uri": [EX + "g1", EX + "g2"]}),
                  "s") == [EX + "b"]


@pytest.mark.parametrize("data", [
    {"update": "INSERT DATA { GRAPH <http://example.org/g3> { <http://example.org/c> <http://example.org/p> }"},
    {"update": INSERT, "default-graph-uri": EX + "g1"},
    {"update": INSERT, "query": COUNT},
    {"update": "LOAD <http://example.org/data.ttl> INTO GRAPH <http://example.org/g4>"},
    {"update": f"DELETE {{ ?s ?p ?o }} WHERE {{ SERVICE <{EX}sparql> {{ ?s ?p ?o }} }}"},
    {"update": f"INSERT DATA {{ <{EX}c> <{EX}p> 3 }}"},  # the union default graph cannot be written
    {"update": f"INSERT DATA {{ GRAPH <{EX}g3> {{ <{EX}c> <{EX}p> 3 }} }} ; "
               "INSERT DATA { GRAPH <https://w3id.org/dprk-japan-kg/graph/entailed> { <http://e/x> <http://e/y> 1 } }"},
])
def test_every_refused_update_leaves_the_store_unchanged(writable, data):
    before_count, before = quad_count(writable), snapshot(writable)
    response = buffered_client(writable).post("/sparql", data=data, headers=AUTH)
    assert 400 <= response.status_code < 500, response.data
    assert "Traceback" not in response.get_data(as_text=True)
    assert quad_count(writable) == before_count
    assert snapshot(writable) == before


# -- CORS -------------------------------------------------------------------------------------------------

def test_reads_carry_cors_headers_and_preflight_is_answered(client):
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "http://elsewhere.test"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/sparql", headers={"Origin": "http://elsewhere.test",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Authorization" not in preflight.headers["Access-Control-Allow-Headers"]


def test_updates_carry_no_cors_headers(writable):
    response = buffered_client(writable).post("/sparql", data={"update": INSERT}, headers={**AUTH, "Origin": "http://x"})
    assert response.status_code == 204
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_can_be_turned_off(make_app):
    app = make_app(CORS_ORIGINS="", LOAD_DATA=False)
    response = buffered_client(app).get("/sparql", query_string={"query": "ASK {}"})
    assert "Access-Control-Allow-Origin" not in response.headers


# -- the lexer agrees with the store on the W3C test suites -------------------------------------------------

W3C_SPARQL = W3C / "sparql"


@needs_shared(W3C)
def test_the_lexer_reads_every_w3c_query_as_the_store_does():
    """Every query of the W3C suites that the store parses: no unknown characters, and the same query form."""
    store = ox.Store()  # an empty in-memory store, only to ask the engine what each query is
    forms = {ox.QueryBoolean: {"ask"}, ox.QuerySolutions: {"select"}, ox.QueryTriples: {"construct", "describe"}}
    checked = 0
    for path in sorted(W3C_SPARQL.rglob("*.rq")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        try:
            result = store.query(text, base_iri="http://example.org/base/")
        except (SyntaxError, OSError, RuntimeError):
            continue
        assert query_kind(text) in forms[type(result)], path
        assert not [t for t in tokenize(text) if t.kind == "error"], path
        checked += 1
    assert checked > 500
    updates = 0
    for path in sorted(W3C_SPARQL.rglob("*.ru")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        kind = query_kind(text)
        if kind is None:
            # Only an update with no operation (an empty request, or a prologue alone) is unrecognisable.
            assert all(t.kind in ("iri", "pname") or t.is_word("BASE", "PREFIX") for t in tokenize(text)), path
            continue
        assert kind == "update", path
        updates += 1
    assert updates > 100


def test_clearing_a_graph_that_does_not_exist_is_a_conflict_not_a_server_failure(make_app):
    client = make_app(WRITE_TOKEN=TOKEN, UNION_DEFAULT_GRAPH=False, VALIDATE_WRITES=False).test_client()
    response = client.post("/sparql", data=b"CLEAR GRAPH <urn:nope>", content_type="application/sparql-update",
                           headers={**AUTH, "Accept": "text/plain"})
    assert response.status_code == 409
    assert b"urn:nope" in response.data
