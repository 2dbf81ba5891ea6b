"""The canned-query HTTP API as clients use it: the catalog, formats, forms, errors and the cache."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from service.canned.header import query_files
from service.store.writes import add_to_graph
from service.web.context import get_store

REPO = Path(__file__).resolve().parents[2]
DJR = "https://w3id.org/dprk-japan-kg/id/"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def client(app):
    """A test client that sends ``Accept: */*`` as curl and browsers do (Flask's sends no Accept header)."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT"] = "*/*"
    return test_client


# -- the catalog -----------------------------------------------------------------------------


def test_the_catalog_lists_every_query_file_with_its_text_and_an_example_url(client):
    catalog = client.get("/queries", headers={"Accept": "application/json"})
    assert catalog.status_code == 200 and catalog.mimetype == "application/json"
    entries = {q["name"]: q for q in catalog.get_json()["queries"]}
    assert set(entries) == {p.stem for p in query_files(REPO / "queries")}
    for entry in entries.values():
        assert entry["query"].lstrip().upper().startswith("PREFIX"), entry["name"]
        assert "#+" not in entry["query"], "the header is metadata, not part of the query text"
        assert entry["example_url"].startswith(f"/queries/{entry['name']}")
        assert entry["summary"]
        # Every parameter the file declares is listed, in order, with what a client needs to send it.
        declared = declared_params(REPO / "queries" / f"{entry['name']}.rq")
        assert [p["name"] for p in entry["params"]] == declared, entry["name"]
        for param in entry["params"]:
            assert param["type"] and param["description"] and isinstance(param["required"], bool), param
        assert set(entry["example_params"]) <= set(declared), entry["name"]


def declared_params(path: Path) -> list[str]:
    """The names in a query file's ``#+ params:`` header, read from the file itself (YAML after ``#+``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = "\n".join(line[2:].removeprefix(" ") for line in lines if line.startswith("#+"))
    return [param["name"] for param in yaml.safe_load(header).get("params") or []]


#: The queries that need no remote endpoint (federated ones are run in tests/canned/test_canned_federated.py).
LOCAL = [p.stem for p in query_files(REPO / "queries") if "#+ federated: true" not in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("name", LOCAL)
def test_every_example_url_answers(client, name):
    entry = next(q for q in client.get("/queries.json").get_json()["queries"] if q["name"] == name)
    response = client.get(entry["example_url"], headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_browsers_get_an_html_catalog_with_a_form_per_query_and_a_machine_twin(client):
    page = client.get("/queries", headers={"Accept": BROWSER})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '</queries.json>; rel="alternate"; type="application/json"' in page.headers["Link"]
    html = page.get_data(as_text=True)
    for entry in client.get("/queries.json").get_json()["queries"]:
        assert f'action="/queries/{entry["name"]}"' in html, f"no form for {entry['name']}"
    # Forms are plain HTML (they work without JavaScript); scripts only enhance them, and come from this
    # service's own fingerprinted assets: no inline script, nothing from a CDN.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all(re.search(r'\bsrc="/assets/[^"]+"', tag) for tag in scripts), scripts
    assert "cdn" not in html.lower()


# -- formats ---------------------------------------------------------------------------------

TIMELINE = "/queries/contacts-timeline"
PARAMS = "?year_from=2012&year_to=2012&level=djr:level-bureau-chief"


@pytest.mark.parametrize(("suffix", "media_type"), [
    ("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
    ("csv", "text/csv"), ("tsv", "text/tab-separated-values")])
def test_a_suffix_chooses_the_format(client, suffix, media_type):
    response = client.get(f"{TIMELINE}.{suffix}{PARAMS}")
    assert response.status_code == 200 and response.mimetype == media_type


@pytest.mark.parametrize(("accept", "media_type"), [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/json", "application/sparql-results+json"),
    ("text/csv", "text/csv"), ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("*/*", "application/sparql-results+json"), (BROWSER, "text/html")])
def test_the_accept_header_chooses_the_format(client, accept, media_type):
    response = client.get(TIMELINE + PARAMS, headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == media_type


def test_all_formats_carry_the_same_rows(client):
    data = client.get(f"{TIMELINE}.json{PARAMS}").get_json()
    events = [b["event"]["value"] for b in data["results"]["bindings"]]
    assert events == [DJR + "ev-2012-11-mongolia-talks", DJR + "ev-2012-12-talks-postponed"]
    rows = list(csv.DictReader(io.StringIO(client.get(f"{TIMELINE}.csv{PARAMS}").get_data(as_text=True))))
    assert [r["event"] for r in rows] == events
    tsv = client.get(f"{TIMELINE}.tsv{PARAMS}").get_data(as_text=True).splitlines()
    assert [line.split("\t")[0] for line in tsv[1:]] == [f"<{e}>" for e in events]


def test_an_unacceptable_accept_header_gets_406_listing_the_formats(client):
    response = client.get(TIMELINE, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/csv" in response.get_data(as_text=True)


def test_an_unknown_suffix_or_query_is_a_404_that_says_what_exists(client):
    response = client.get(f"{TIMELINE}.pdf")
    assert response.status_code == 404 and "available: json, xml, csv, tsv" in response.get_json()["message"]
    response = client.get("/queries/no-such-query")
    assert response.status_code == 404 and "GET /queries lists them" in response.get_json()["message"]


@pytest.mark.parametrize(("suffix", "rdf_format"), [
    ("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES), ("jsonld", ox.RdfFormat.JSON_LD)])
def test_a_construct_query_answers_in_rdf_formats(client, suffix, rdf_format):
    response = client.get(f"/queries/round-in-full.{suffix}?round=djr:ev-2012-11-mongolia-talks")
    assert response.status_code == 200
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(response.data, format=rdf_format)]
    location = ox.NamedNode("https://w3id.org/dprk-japan-kg/ontology#location")
    mongolia = ox.Triple(ox.NamedNode(DJR + "ev-2012-11-mongolia-talks"), location, ox.NamedNode(DJR + "mongolia"))
    assert mongolia in triples


def test_a_construct_query_refuses_result_formats(client):
    assert client.get("/queries/round-in-full.csv?round=djr:ev-2012-11-mongolia-talks").status_code == 404
    response = client.get("/queries/round-in-full?round=djr:ev-2012-11-mongolia-talks",
                          headers={"Accept": "text/csv"})
    assert response.status_code == 406


# -- pages -----------------------------------------------------------------------------------


def test_the_html_page_of_a_query_shows_its_rows_and_links_its_machine_twin(client):
    page = client.get(TIMELINE + PARAMS, headers={"Accept": BROWSER})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # rows shown by their labels, each IRI kept as the link's tooltip (service.web.display)
    assert "2 rows" in html and 'title="https://w3id.org/dprk-japan-kg/id/ev-2012-11-mongolia-talks"' in html
    link = page.headers["Link"]
    assert 'rel="alternate"; type="application/sparql-results+json"' in link
    twin = link.split(">")[0].lstrip("<")
    assert client.get(twin).get_json()["results"]["bindings"], "the twin answers the same question"


def test_an_html_page_with_a_bad_value_shows_the_form_and_the_problem(client):
    page = client.get(TIMELINE + "?year_from=twenty", headers={"Accept": BROWSER})
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "expected a year YYYY" in page.get_data(as_text=True)


def test_machine_answers_point_back_to_their_page(client):
    response = client.get(f"{TIMELINE}.json{PARAMS}")
    assert 'rel="alternate"; type="text/html"' in response.headers["Link"]


# -- parameters ------------------------------------------------------------------------------


def test_post_form_json_and_get_give_the_same_answer(client):
    get = client.get(f"{TIMELINE}.csv?participant=djr:song-il-ho").data
    form = client.post(f"{TIMELINE}.csv", data={"participant": "djr:song-il-ho"}).data
    body = client.post(f"{TIMELINE}.csv", data=json.dumps({"participant": "djr:song-il-ho"}),
                       content_type="application/json").data
    assert get == form == body
    assert get.count(b"\r\n") == 3, "a header line and the two Song–Nakai meetings"


def test_list_values_repeat_or_are_space_separated(client):
    repeated = client.get(f"{TIMELINE}.csv?issue=djr:grave-visits&issue=djr:japanese-wives-issue").data
    spaced = client.get(f"{TIMELINE}.csv?issue=djr:grave-visits%20djr:japanese-wives-issue").data
    assert repeated == spaced
    events = [r["event"] for r in csv.DictReader(io.StringIO(repeated.decode()))]
    # A list of issues means "any of them": the answer is the union of the single-issue answers, each event
    # once, every single-issue answer keeping its order.
    single = [[r["event"] for r in csv.DictReader(io.StringIO(client.get(f"{TIMELINE}.csv?issue={issue}").data
                                                                 .decode()))]
              for issue in ("djr:grave-visits", "djr:japanese-wives-issue")]
    assert all(single) and set(single[0]) != set(single[1]), "each issue alone must find its own events"
    assert len(events) == len(set(events))
    assert set(events) == set(single[0]) | set(single[1])
    for answer in single:
        assert [e for e in events if e in answer] == answer


def test_iri_spellings_are_equivalent(client):
    full = client.get(f"{TIMELINE}.csv?participant={DJR}song-il-ho").data
    assert full == client.get(f"{TIMELINE}.csv?participant=djr:song-il-ho").data
    assert full == client.get(f"{TIMELINE}.csv?participant=song-il-ho").data
    assert full == client.get(f"{TIMELINE}.csv?participant=%3C{DJR}song-il-ho%3E").data


def test_empty_form_fields_count_as_absent(client):
    assert client.get(f"{TIMELINE}.csv?year_from=&participant=").data == client.get(f"{TIMELINE}.csv").data


def test_defaults_apply_when_a_parameter_is_absent(client):
    default = client.get("/queries/sub-organizations.csv").data
    assert default == client.get("/queries/sub-organizations.csv?state=djr:north-korea").data
    assert b"/rgb," in default


BAD_REQUESTS = [
    # (query, parameters, parameter named, what the message says)
    ("contacts-timeline", "participant=djr:song il-ho", "participant", "spaces and the characters"),
    ("contacts-timeline", "participant=djr:japan%3E", "participant", "expected an IRI"),
    ("contacts-timeline", "participant=djr:abduction-issue", "participant", "is not an instance of dj:Agent"),
    ("round-details", "round=djr:japan", "round", "djr:japan is not an instance of dj:Event"),
    ("round-details", "", "round", "is required (for example round=djr:ev-2012-11-mongolia-talks)"),
    ("contacts-timeline", "year_from=2012-01-01", "year_from", "expected a year YYYY"),
    ("documents", "issued_from=2013-02-30", "issued_from", "expected a date YYYY-MM-DD"),
    ("documents", "issued_from=23/01/2013", "issued_from", "expected a date YYYY-MM-DD"),
    ("contacts-timeline", "level=djr:level-galactic", "level", "unknown value 'djr:level-galactic'; expected one of"),
    ("contacts-timeline", "kind=dj:Person", "kind", "expected one of: dj:NegotiationRound"),
    ("contacts-timeline", "yearfrom=2012", "yearfrom", "unknown parameter for query 'contacts-timeline'"),
    ("contacts-timeline", "year_from=2012&year_from=2013", "year_from", "takes one value, got 2"),
    ("issue-frequency", "min_rounds=two", "min_rounds", "expected an integer"),
    ("issue-frequency", "min_rounds=-1", "min_rounds", "expected at least 0"),
    ("claims", "min_value=1e5x", "min_value", "expected a decimal number"),
    ("entities-without-links", "include_candidates=maybe", "include_candidates", "expected true or false"),
    ("entities-without-links", "class=djr:japan", "class", "is not an instance of owl:Class"),
    ("find-entity", "text=" + "x" * 101, "text", "expected at most 100 characters"),
    ("find-entity", "text=a%00b", "text", "control characters are not allowed"),
    ("contacts-timeline", "issue=djr:abduction-issue%20djr:japan", "issue",
     "djr:japan is not an instance of skos:Concept"),
]


@pytest.mark.parametrize(("name", "query", "param", "fragment"), BAD_REQUESTS,
                         ids=[f"{n}-{p}-{i}" for i, (n, _, p, _) in enumerate(BAD_REQUESTS)])
def test_a_bad_value_gets_400_naming_the_parameter_and_what_was_expected(client, name, query, param, fragment):
    response = client.get(f"/queries/{name}?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["parameter"] == param
    assert f"parameter {param!r}" in body["message"] and fragment in body["message"], body["message"]


def test_errors_are_plain_text_for_clients_that_ask_for_it(client):
    response = client.get("/queries/round-details.csv", headers={"Accept": "text/plain"})
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "parameter 'round': is required" in response.get_data(as_text=True)


def test_read_answers_allow_cross_origin_use(client):
    assert client.get(f"{TIMELINE}.json").headers["Access-Control-Allow-Origin"] == "*"


# -- the cache -------------------------------------------------------------------------------


def test_answers_are_cached_per_parameters_and_format(client):
    url = f"{TIMELINE}.tsv?participant=djr:hiroshi-nakai"
    first = client.get(url)
    second = client.get(url)
    assert second.headers["X-Cache"] == "HIT" and second.data == first.data
    assert client.get(f"{TIMELINE}.tsv?participant={DJR}hiroshi-nakai").headers["X-Cache"] == "HIT", \
        "the key is the bound terms, not their spelling"
    assert client.get(f"{TIMELINE}.csv?participant=djr:hiroshi-nakai").headers["X-Cache"] == "MISS"


def test_a_write_invalidates_the_cache(make_app, tmp_path):
    app = make_app(WRITE_TOKEN="test-write-token", VALIDATE_WRITES=False)
    client = app.test_client()
    url = "/queries/find-entity.json?text=Zzyzx"
    assert client.get(url).get_json()["results"]["bindings"] == []
    assert client.get(url).headers["X-Cache"] == "HIT"
    graph = ox.NamedNode("https://w3id.org/dprk-japan-kg/graph/test-batch")
    with app.app_context():
        add_to_graph(get_store(), graph, [ox.Quad(ox.NamedNode(DJR + "zzyzx"),
                                                  ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                                                  ox.Literal("Zzyzx", language="en"), graph)])
    after = client.get(url)
    assert after.headers["X-Cache"] == "MISS"
    assert [b["entity"]["value"] for b in after.get_json()["results"]["bindings"]] == [DJR + "zzyzx"]


def test_the_cache_can_be_turned_off(make_app):
    client = make_app(CANNED_CACHE_SIZE=0, LOAD_DATA=False).test_client()
    url = "/queries/documents.json"
    assert client.get(url).headers["X-Cache"] == "MISS"
    assert client.get(url).headers["X-Cache"] == "MISS"


def test_catalog_entries_carry_the_example_query_with_its_values_bound(client):
    entries = {q["name"]: q for q in client.get("/queries.json").get_json()["queries"]}
    timeline = entries["contacts-timeline"]
    assert "VALUES ?year_from { UNDEF }" in timeline["query"]
    assert 'VALUES ?year_from { "2012"^^<http://www.w3.org/2001/XMLSchema#gYear> }' in timeline["example_query"]
    assert client.get(timeline["example_url"]).status_code == 200


# -- one owner per concern: CORS, negotiation, truncation, errors (issue "One house") ----------


def test_canned_answers_send_the_one_cors_policy_exposing_the_truncation_headers(make_app):
    client = make_app(CORS_ORIGINS="https://analyst.example", RESULT_ROW_CAP=1, LOAD_DATA=True).test_client()
    response = client.get(f"{TIMELINE}.json{PARAMS}")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://analyst.example"
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Result-Truncated", "Link"} <= exposed, "a cross-origin page must be able to read both"
    assert "Origin" in response.headers["Vary"] and "Accept" in response.headers["Vary"]
    assert response.headers["X-Result-Truncated"] == "true"
    links = response.headers.getlist("Link")
    assert '<urn:dprk-kg:results-truncated>; rel="truncated"' in links, "as /sparql says it"
    assert any('rel="alternate"' in link for link in links), "the page link is kept beside it"
    assert len(response.get_json()["results"]["bindings"]) == 1


def test_an_uncut_canned_answer_says_nothing_of_truncation(make_app):
    response = make_app(LOAD_DATA=True).test_client().get(f"{TIMELINE}.json{PARAMS}", headers={"Accept": "*/*"})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" in response.headers
    assert "X-Result-Truncated" not in response.headers
    assert all("truncated" not in link for link in response.headers.getlist("Link"))


def test_canned_queries_answer_a_cors_preflight_as_sparql_does(make_app):
    client = make_app(CORS_ORIGINS="*", LOAD_DATA=False).test_client()
    canned = client.options("/queries/documents", headers={"Origin": "https://a.example",
                                                           "Access-Control-Request-Method": "POST"})
    sparql = client.options("/sparql", headers={"Origin": "https://a.example",
                                                "Access-Control-Request-Method": "POST"})
    names = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
             "Access-Control-Expose-Headers", "Access-Control-Max-Age")
    assert [canned.headers.get(n) for n in names] == [sparql.headers.get(n) for n in names]
    assert canned.headers["Access-Control-Allow-Methods"]


def test_without_cors_origins_canned_answers_carry_no_cors_headers(make_app):
    response = make_app(CORS_ORIGINS="", LOAD_DATA=False).test_client().get("/queries/documents.json")
    assert response.status_code == 200
    assert not [n for n in response.headers.keys() if n.startswith("Access-Control-")]


@pytest.mark.parametrize(("accept", "media_type"), [
    ("text/*", "text/html"),  # the first text type of the table
    ("application/json;q=0.5, text/csv", "text/csv"),
    ("text/html;q=0.1, application/sparql-results+xml;q=0.2", "application/sparql-results+xml"),
    ("text/csv;q=0, */*", "application/sparql-results+json"),
])
def test_canned_negotiation_is_the_one_negotiation(client, accept, media_type):
    response = client.get(TIMELINE + PARAMS, headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == media_type


def test_a_malformed_accept_header_on_a_canned_query_is_a_400_naming_it(client):
    response = client.get(TIMELINE + PARAMS, headers={"Accept": "text/csv;q=2"})
    assert response.status_code == 400 and "q-value" in response.get_json()["message"]


def test_the_406_lists_the_standard_types_a_query_produces_not_the_aliases(client):
    body = client.get(TIMELINE, headers={"Accept": "image/png"}).get_json()
    assert body["accepted"] == ["application/sparql-results+json", "text/html", "application/sparql-results+xml",
                                "text/csv", "text/tab-separated-values"]
    graph = client.get("/queries/round-in-full", headers={"Accept": "image/png"}).get_json()
    assert graph["accepted"] == ["text/turtle", "text/html", "application/ld+json", "application/n-triples"]


def test_the_catalog_refuses_an_accept_header_it_cannot_meet(client):
    response = client.get("/queries", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.get_json()["accepted"] == ["application/json", "text/html"]


def test_a_store_failure_in_a_canned_query_goes_through_the_one_map(make_app, monkeypatch):
    from service.store.client import StoreError
    from service.web import canned

    app = make_app(LOAD_DATA=False, CANNED_CACHE_SIZE=0)
    client = app.test_client()

    def failing(binding, fmt):
        raise StoreError("os", "the store worker restarted")

    with app.app_context():
        monkeypatch.setattr(canned.runner(), "run", failing)
    response = client.get("/queries/documents.json")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"

    def broken(binding, fmt):
        raise StoreError("internal", "secret detail /var/lib/store")

    with app.app_context():
        monkeypatch.setattr(canned.runner(), "run", broken)
    response = client.get("/queries/documents.json")
    assert response.status_code == 500 and "secret" not in response.get_data(as_text=True)
    assert "server log" in response.get_json()["message"]


def test_errors_of_a_machine_route_are_json_even_when_routing_refuses_the_method(client):
    response = client.delete("/queries/documents", headers={"Accept": "*/*"})
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert client.delete("/validate").mimetype == "application/json"
    assert client.delete("/sparql").mimetype == "text/plain", "SPARQL clients get text, as before"


def test_a_cross_origin_page_can_read_the_truncation_of_a_canned_answer_over_http(make_live_server):
    import urllib.request

    server = make_live_server(env={"DPRK_KG_CORS_ORIGINS": "https://analyst.example",
                                   "DPRK_KG_RESULT_ROW_CAP": "1"})
    request = urllib.request.Request(f"{server.url}{TIMELINE}.json{PARAMS}",
                                     headers={"Origin": "https://analyst.example"})
    with urllib.request.urlopen(request, timeout=30) as response:
        headers = response.headers
        assert headers["Access-Control-Allow-Origin"] == "https://analyst.example"
        assert "X-Result-Truncated" in headers["Access-Control-Expose-Headers"]
        assert headers["X-Result-Truncated"] == "true"
        assert '<urn:dprk-kg:results-truncated>; rel="truncated"' in headers.get_all("Link")


def test_the_generation_cache_keeps_values_until_the_next_write():
    from service.canned.cache import GenerationCache

    cache: GenerationCache[str] = GenerationCache(2, weigh=len, max_weight=5)
    computed: list[str] = []

    def compute(value: str) -> str:
        computed.append(value)
        return value

    assert cache.get_or_compute("a", 1, lambda: compute("one")) == "one"
    assert cache.get_or_compute("a", 1, lambda: compute("again")) == "one", "same generation: kept"
    assert cache.get_or_compute("a", 2, lambda: compute("two")) == "two", "a write happened: computed again"
    cache.put("late", 1, "old")
    assert cache.get("late", 2) is None, "a value computed before a write is never kept as newer"
    cache.put("big", 2, "too large")
    assert cache.get("big", 2) is None and len(cache) == 1
    cache.put("b", 2, "b")
    cache.put("c", 2, "c")
    assert cache.get("a", 2) is None and len(cache) == 2, "least recently used goes first"
    assert computed == ["one", "two"]
    assert GenerationCache(0).get_or_compute("x", 1, lambda: "y") == "y", "size 0: answered, never kept"


def test_data_lookups_ask_the_store_once_per_write_generation():
    """Class membership and data-drawn enums are asked once, and asked again after a write (a False is kept too)."""
    from service.canned.backend import DataLookups
    from service.canned.contract import TypeSpec

    class Counting:
        generation = 1
        asks = 0
        selects = 0

        def ask(self, sparql: str) -> bool:
            self.asks += 1
            return False

        def select(self, sparql: str) -> list[dict[str, ox.NamedNode]]:
            self.selects += 1
            return [{"value": ox.NamedNode(DJR + "b")}, {"value": ox.NamedNode(DJR + "a")}]

    backend = Counting()
    lookups = DataLookups(backend)  # type: ignore[arg-type]
    spec = TypeSpec("enum", values_from="SELECT ?value WHERE { ?value a ?class }")
    for _ in range(3):
        assert lookups.is_instance(DJR + "x", DJR + "Person") is False
        assert [v.value for v in lookups.enum_values(spec)] == [DJR + "a", DJR + "b"]
    assert (backend.asks, backend.selects) == (1, 1)
    backend.generation = 2
    lookups.is_instance(DJR + "x", DJR + "Person")
    lookups.enum_values(spec)
    assert (backend.asks, backend.selects) == (2, 2), "a write: asked again"
