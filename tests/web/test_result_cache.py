"""The /sparql result cache: a repeated GET is answered from memory until the next write, never wrongly.

What a client relies on: the answer after a write (SPARQL Update, the Graph Store, /ingest) is the new one; each
negotiated format has its own entry; a POST, ``Cache-Control: no-cache``/``Pragma: no-cache`` and queries whose
answer changes without a write (SERVICE, NOW(), RAND(), UUID(), STRUUID(), BNODE()) are never answered from the
cache; a guard refusal or an error is never kept; ``If-None-Match`` with the answer's ``ETag`` gets a ``304`` with
no body; HEAD works; kept answers are compressed as the others and carry their own ``X-Request-Id``; memory stays
within its budget; a large answer is streamed as before. The last tests run over a real ``dprk-kg serve``.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from conftest import OxigraphServer

from service.canned.cache import GenerationCache
from service.config import DEFAULT_SERVICE_ALLOWLIST
from service.web import result_cache
from tests.sparql_helpers import AUTH, EX, SELECT_JSON, TOKEN, seed, values

PREFIXES = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
LABEL_OF_X = f"SELECT ?label WHERE {{ <{EX}x> <{EX}label> ?label }}"
ALL_P = f"SELECT ?s ?o WHERE {{ GRAPH ?g {{ ?s <{EX}p> ?o }} }} ORDER BY ?s"


def url(query: str, **params: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": query, **params})


def hits(app: Any) -> int:
    return app.extensions[result_cache.EXTENSION_KEY].hits


@pytest.fixture
def app(make_app: Any) -> Any:
    """A small writable service: two graphs (ex:a p 1, ex:b p 2)."""
    application = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False)
    seed(application)
    return application


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


# -- repeated reads ---------------------------------------------------------------------------------------------

def test_a_repeated_get_is_answered_from_the_cache_with_the_same_bytes_and_its_own_request_id(app, client):
    first = client.get(url(ALL_P), headers=SELECT_JSON)
    second = client.get(url(ALL_P), headers=SELECT_JSON)
    assert first.status_code == second.status_code == 200
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert second.data == first.data and values(second, "o") == ["1", "2"]
    for name in ("Content-Type", "Content-Length", "ETag", "Vary", "Access-Control-Allow-Origin"):
        assert second.headers[name] == first.headers[name], name
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"], "each answer is its own request"
    assert hits(app) == 1
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'dprk_kg_cache_hits_total{cache="sparql"} 1.0' in metrics


def test_each_negotiated_format_has_its_own_entry_and_headers_picking_the_same_format_share_one(app, client):
    json_answer = client.get(url(ALL_P), headers=SELECT_JSON)
    csv_answer = client.get(url(ALL_P), headers={"Accept": "text/csv"})
    assert json_answer.headers["Content-Type"].startswith("application/sparql-results+json")
    assert csv_answer.headers["Content-Type"].startswith("text/csv") and csv_answer.headers["X-Cache"] == "miss"
    assert csv_answer.headers["ETag"] != json_answer.headers["ETag"]
    same_format = client.get(url(ALL_P), headers={"Accept": "application/sparql-results+json, text/csv;q=0.5"})
    assert same_format.headers["X-Cache"] == "hit" and same_format.data == json_answer.data
    again_csv = client.get(url(ALL_P), headers={"Accept": "text/csv"})
    assert again_csv.headers["X-Cache"] == "hit" and again_csv.data == csv_answer.data


def test_the_host_is_part_of_the_key_as_relative_iris_resolve_against_it(client):
    query = "SELECT ?v WHERE { BIND(<relative> AS ?v) }"
    first = client.get(url(query), headers={**SELECT_JSON, "Host": "one.example"})
    second = client.get(url(query), headers={**SELECT_JSON, "Host": "two.example"})
    assert second.headers["X-Cache"] == "miss"
    assert values(first, "v") == ["http://one.example/relative"] and values(second, "v") == ["http://two.example/relative"]


# -- writes invalidate ------------------------------------------------------------------------------------------

def _label_after(client: Any, write: Any) -> tuple[list[str], list[str]]:
    before = client.get(url(LABEL_OF_X), headers=SELECT_JSON)
    assert client.get(url(LABEL_OF_X), headers=SELECT_JSON).headers["X-Cache"] == "hit"
    response = write()
    assert response.status_code in (200, 201, 204), response.get_data(as_text=True)
    after = client.get(url(LABEL_OF_X), headers=SELECT_JSON)
    assert after.headers["X-Cache"] == "miss", "a write empties the cache"
    assert after.headers["ETag"] != before.headers["ETag"]
    return values(before, "label"), values(after, "label")


def test_an_update_changes_the_next_answer(client):
    update = f'INSERT DATA {{ GRAPH <{EX}g3> {{ <{EX}x> <{EX}label> "after update" }} }}'
    assert _label_after(client, lambda: client.post("/sparql", data={"update": update}, headers=AUTH)) == (
        [], ["after update"])


def test_a_graph_store_write_changes_the_next_answer(client):
    def put() -> Any:
        return client.put(f"/store?graph={EX}g4", data=f'<{EX}x> <{EX}label> "after PUT" .',
                          content_type="text/turtle", headers=AUTH)

    assert _label_after(client, put) == ([], ["after PUT"])


def test_an_ingest_changes_the_next_answer(make_app):
    application = make_app(WRITE_TOKEN=TOKEN)  # the bundled graph: an ingested batch must fit the shapes
    client = application.test_client()
    query = f"SELECT ?label WHERE {{ <{EX}ingested> rdfs:label ?label }}"
    before = client.get(url(PREFIXES + query), headers=SELECT_JSON)
    assert client.get(url(PREFIXES + query), headers=SELECT_JSON).headers["X-Cache"] == "hit"
    batch = (PREFIXES + "PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>\n"
             "PREFIX dct: <http://purl.org/dc/terms/>\nPREFIX djr: <https://w3id.org/dprk-japan-kg/id/>\n"
             f'<{EX}ingested> a dj:Person ; rdfs:label "Ingested person"@en ; dct:source djr:doc-000 .')
    response = client.post("/ingest", data=batch, content_type="text/turtle", headers=AUTH)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    after = client.get(url(PREFIXES + query), headers=SELECT_JSON)
    assert (values(before, "label"), values(after, "label")) == ([], ["Ingested person"])


# -- what bypasses the cache ------------------------------------------------------------------------------------

def test_posts_are_never_answered_from_the_cache(app, client):
    client.get(url(ALL_P), headers=SELECT_JSON)
    for _ in range(2):
        response = client.post("/sparql", data={"query": ALL_P}, headers=SELECT_JSON)
        assert response.status_code == 200 and "X-Cache" not in response.headers and "ETag" not in response.headers
    assert hits(app) == 0


@pytest.mark.parametrize("headers", [{"Cache-Control": "no-cache"}, {"Pragma": "no-cache"},
                                     {"Cache-Control": "no-store"}])
def test_no_cache_skips_the_lookup(app, client, headers):
    client.get(url(ALL_P), headers=SELECT_JSON)
    response = client.get(url(ALL_P), headers={**SELECT_JSON, **headers})
    assert response.status_code == 200 and response.headers["X-Cache"] == "bypass" and hits(app) == 0
    assert values(response, "o") == ["1", "2"]


def test_no_store_keeps_the_answer_out_and_no_cache_refreshes_it(app, client):
    client.get(url(ALL_P), headers={**SELECT_JSON, "Cache-Control": "no-store"})
    assert client.get(url(ALL_P), headers=SELECT_JSON).headers["X-Cache"] == "miss", "no-store: nothing kept"
    client.get(url(LABEL_OF_X), headers={**SELECT_JSON, "Cache-Control": "no-cache"})
    assert client.get(url(LABEL_OF_X), headers=SELECT_JSON).headers["X-Cache"] == "hit", "no-cache: kept afresh"


@pytest.mark.parametrize("expression", ["NOW()", "RAND()", "UUID()", "STRUUID()", "BNODE()", "str(rand())"])
def test_non_deterministic_queries_are_never_cached(app, client, expression):
    query = f"SELECT ?v WHERE {{ BIND({expression} AS ?v) }}"
    answers = [client.get(url(query), headers=SELECT_JSON) for _ in range(2)]
    for response in answers:
        assert response.status_code == 200 and response.headers["X-Cache"] == "bypass"
        assert "ETag" not in response.headers
    if expression not in ("NOW()",):  # NOW() may repeat within a clock tick; the others never do
        assert values(answers[0], "v") != values(answers[1], "v")
    assert hits(app) == 0 and len(app.extensions[result_cache.EXTENSION_KEY]) == 0


def test_a_variable_or_prefixed_name_spelt_like_a_function_does_not_stop_caching(client):
    query = f"PREFIX rand: <{EX}> SELECT ?now WHERE {{ ?now rand:p ?rand }}"
    client.get(url(query), headers=SELECT_JSON)
    assert client.get(url(query), headers=SELECT_JSON).headers["X-Cache"] == "hit"


def test_guard_refusals_and_errors_are_never_kept(app, client):
    for query in ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "SELECT * WHERE { ?s ?p"):
        for _ in range(2):
            response = client.get(url(query), headers=SELECT_JSON)
            assert response.status_code == 400 and "X-Cache" not in response.headers
            assert "ETag" not in response.headers
    unacceptable = client.get(url(ALL_P), headers={"Accept": "image/png"})
    assert unacceptable.status_code == 406 and "ETag" not in unacceptable.headers
    assert hits(app) == 0 and len(app.extensions[result_cache.EXTENSION_KEY]) == 0


@pytest.fixture
def federating(make_app: Any, oxigraph_server: OxigraphServer) -> tuple[Any, OxigraphServer]:
    """The service with a local Oxigraph server on the SERVICE allow-list (tests never go online)."""
    allowlist = dict(DEFAULT_SERVICE_ALLOWLIST)
    allowlist[oxigraph_server.query_url] = {"timeout": 10.0, "row_cap": 1000}
    return make_app(SERVICE_ALLOWLIST=allowlist, LOAD_DATA=False), oxigraph_server


def test_a_federated_query_sees_the_remote_endpoints_changes(federating):
    app, remote = federating
    client = app.test_client()
    query = f"SELECT ?o WHERE {{ SERVICE <{remote.query_url}> {{ <{EX}r> <{EX}p> ?o }} }}"
    remote.load(f'<{EX}r> <{EX}p> "first" .'.encode(), "text/turtle")
    first = client.get(url(query), headers=SELECT_JSON)
    remote.load(f'<{EX}r> <{EX}p> "second" .'.encode(), "text/turtle")  # behind our back: no write of ours
    second = client.get(url(query), headers=SELECT_JSON)
    assert first.status_code == second.status_code == 200, second.get_data(as_text=True)
    assert values(first, "o") == ["first"] and sorted(values(second, "o")) == ["first", "second"]
    assert second.headers["X-Cache"] == "bypass" and "ETag" not in second.headers


# -- validators, HEAD, compression ------------------------------------------------------------------------------

def test_if_none_match_gets_304_without_a_body_until_a_write(app, client):
    first = client.get(url(ALL_P), headers=SELECT_JSON)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"'), "a strong validator"
    again = client.get(url(ALL_P), headers={**SELECT_JSON, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert "Accept" in again.headers["Vary"]
    listed = client.get(url(ALL_P), headers={**SELECT_JSON, "If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304 and listed.headers["ETag"] == f"W/{etag}", "weak comparison"
    stale = client.get(url(ALL_P), headers={**SELECT_JSON, "If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.data == first.data
    client.post("/sparql", data={"update": f"INSERT DATA {{ GRAPH <{EX}g1> {{ <{EX}c> <{EX}p> 3 }} }}"},
                headers=AUTH)
    changed = client.get(url(ALL_P), headers={**SELECT_JSON, "If-None-Match": etag})
    assert changed.status_code == 200 and values(changed, "o") == ["1", "2", "3"]
    assert changed.headers["ETag"] != etag


def test_a_revalidation_is_answered_before_the_query_runs_when_the_answer_was_not_kept(make_app):
    app = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False, RESULT_CACHE_ENTRY_BYTES=10)
    seed(app)
    client = app.test_client()
    first = client.get(url(ALL_P), headers=SELECT_JSON)
    assert first.headers["X-Cache"] == "miss" and len(app.extensions[result_cache.EXTENSION_KEY]) == 0
    assert client.get(url(ALL_P), headers=SELECT_JSON).headers["X-Cache"] == "miss", "too large to keep"
    revalidated = client.get(url(ALL_P), headers={**SELECT_JSON, "If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304 and revalidated.data == b""


def test_head_is_answered_like_get_without_a_body(app, client):
    cold = client.head(url(LABEL_OF_X), headers=SELECT_JSON)
    assert cold.status_code == 200 and cold.data == b"" and "ETag" in cold.headers
    got = client.get(url(ALL_P), headers=SELECT_JSON)
    head = client.head(url(ALL_P), headers=SELECT_JSON)
    assert head.status_code == 200 and head.data == b"" and head.headers["X-Cache"] == "hit"
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert head.headers["ETag"] == got.headers["ETag"]


def test_kept_answers_are_compressed_as_the_others(app, client):
    big = f"SELECT ?s ?o ?pad WHERE {{ GRAPH ?g {{ ?s <{EX}p> ?o }} BIND(CONCAT(STR(?s), \"{'x' * 2000}\") AS ?pad) }}"
    wanted = {**SELECT_JSON, "Accept-Encoding": "gzip"}
    first, second = (client.get(url(big), headers=wanted) for _ in range(2))
    plain = client.get(url(big), headers=SELECT_JSON)
    assert second.headers["X-Cache"] == "hit" and plain.headers["X-Cache"] == "miss", "gzip: an entry of its own"
    for response in (first, second):
        assert response.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in response.headers["Vary"]
        assert response.headers["ETag"].startswith("W/"), "compressed bytes: a weak validator"
        assert gzip.decompress(response.data) == plain.data
    assert "Content-Encoding" not in plain.headers and not plain.headers["ETag"].startswith("W/")


# -- memory -----------------------------------------------------------------------------------------------------

def test_the_cache_keeps_within_its_byte_budget_least_recently_used_first():
    cache: GenerationCache[bytes] = GenerationCache(100, weigh=len, max_weight=60, budget=100)
    for key in "abc":
        cache.put(key, 1, b"x" * 40)
    assert cache.weight <= 100 and cache.get("a", 1) is None and cache.get("c", 1) is not None
    cache.put("big", 1, b"x" * 61)
    assert cache.get("big", 1) is None, "over the per-entry size: answered, not kept"
    cache.put("c", 1, b"x" * 10)
    assert cache.weight == 50, "a replaced entry's weight is given back"
    cache.get("c", 2)
    assert cache.weight == 0 and len(cache) == 0, "a write empties it"


def test_a_large_answer_stays_streamed_and_is_kept_only_within_the_entry_size(make_app):
    graph = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"  # the bundled graph: megabytes, so streamed
    ntriples = {"Accept": "application/n-triples"}
    default = make_app()
    client = default.test_client()
    for _ in range(2):
        response = client.get(url(graph), headers=ntriples)
        assert response.status_code == 200 and "Content-Length" not in response.headers
        assert response.headers["X-Cache"] == "miss" and len(response.data) > 1 << 20
    roomy = make_app(RESULT_CACHE_ENTRY_BYTES=64 << 20, RESULT_CACHE_BYTES=128 << 20)
    client = roomy.test_client()
    streamed = client.get(url(graph), headers=ntriples)
    assert "Content-Length" not in streamed.headers and streamed.headers["X-Cache"] == "miss"
    assert len(streamed.data) > 1 << 20  # read to its end: only a finished answer is kept
    kept = client.get(url(graph), headers=ntriples)
    assert kept.headers["X-Cache"] == "hit" and kept.data == streamed.data
    assert kept.headers["Content-Length"] == str(len(streamed.data))


def test_a_zero_budget_turns_the_cache_off(make_app):
    app = make_app(LOAD_DATA=False, RESULT_CACHE_BYTES=0)
    response = app.test_client().get(url(ALL_P), headers=SELECT_JSON)
    assert response.status_code == 200 and "X-Cache" not in response.headers and "ETag" not in response.headers
    assert result_cache.EXTENSION_KEY not in app.extensions


# -- over a real server -----------------------------------------------------------------------------------------

def _get(server_url: str, headers: dict[str, str], method: str = "GET") -> tuple[int, Any, bytes]:
    request = urllib.request.Request(server_url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_a_live_server_answers_repeats_from_the_cache_and_revalidations_with_304(live_server):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?type }"
    target = live_server.sparql + "?" + urllib.parse.urlencode({"query": query})
    status, first, body = _get(target, {**SELECT_JSON, "X-Request-Id": "first-request"})
    assert status == 200 and first["X-Request-Id"] == "first-request"
    status, second, again = _get(target, {**SELECT_JSON, "X-Request-Id": "second-request"})
    assert status == 200 and again == body and second["X-Cache"] == "hit"
    assert second["X-Request-Id"] == "second-request" and second["ETag"] == first["ETag"]
    assert int(second["Content-Length"]) == len(body)
    status, not_modified, empty = _get(target, {**SELECT_JSON, "If-None-Match": first["ETag"]})
    assert status == 304 and empty == b"" and not_modified["ETag"] == first["ETag"]
    assert not_modified["X-Request-Id"] and "Accept" in not_modified["Vary"]
    status, head, nothing = _get(target, SELECT_JSON, method="HEAD")
    assert status == 200 and nothing == b"" and head["Content-Length"] == str(len(body))
    status, _, metrics = _get(live_server.url + "/metrics", {})
    hit_lines = [line for line in metrics.decode().splitlines()
                 if line.startswith('dprk_kg_cache_hits_total{cache="sparql"}')]
    assert status == 200 and hit_lines and float(hit_lines[0].split()[-1]) >= 2
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"].isdigit()
