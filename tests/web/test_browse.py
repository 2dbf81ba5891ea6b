"""``/browse`` and ``/browse/<Class>``: classes with counts, a class's instances with facet counts, filters,
sorting and paging, as a page for people and as JSON for programs.

Every count is checked against a SPARQL query sent to the same service's ``/sparql`` endpoint, written here from
the data model (the document graphs, ``dj:statementsOf``, the entailed types), not copied from the engine."""

from __future__ import annotations

import urllib.parse

import pytest

from service.rdf.vocabulary import ONTOLOGY_NS, RESOURCE_NS, sparql_prefix_block

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = {"Accept": "application/json"}


def sparql(client, query: str) -> list[dict[str, str]]:
    """The rows of a SELECT over the service's own endpoint, as {variable: value}."""
    response = client.get("/sparql?" + urllib.parse.urlencode({"query": sparql_prefix_block() + query}),
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in response.get_json()["results"]["bindings"]]


def counts(client, query: str) -> dict[str, int]:
    """``?v`` → ``?n`` of a grouped SELECT."""
    return {row["v"]: int(row["n"]) for row in sparql(client, query)}


def browse(client, path: str, **params) -> dict:
    query = urllib.parse.urlencode(params, doseq=True)
    response = client.get(path + ("?" + query if query else ""), headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def facet(body: dict, key: str) -> dict[str, int]:
    """A facet's counts by value IRI (or year)."""
    found = next(f for f in body["facets"] if f["key"] == key)
    return {v.get("iri", v["value"]): v["count"] for v in found["values"]}


def instances(client, cls: str) -> set[str]:
    return {row["x"] for row in sparql(client, f"SELECT DISTINCT ?x WHERE {{ ?x a dj:{cls} FILTER(isIRI(?x)) }}")}


# -- the index ---------------------------------------------------------------------------------------------------


def test_the_index_lists_classes_with_their_counts(client):
    body = browse(client, "/browse")
    by_id = {c["id"]: c for c in body["classes"]}
    for name in ("Person", "Organization", "State", "Event", "NegotiationRound", "Claim", "Issue", "Place",
                 "SourceDocument"):
        assert by_id[f"dj:{name}"]["count"] == len(instances(client, name)), name
        assert by_id[f"dj:{name}"]["page"] == f"/browse/{name}"
    assert body["featured"][:4] == ["dj:Person", "dj:Organization", "dj:State", "dj:Event"]
    assert all(c["count"] > 0 for c in body["classes"]), "classes without instances are not offered"


def test_the_index_page_links_each_class(client):
    response = client.get("/browse", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'href="/browse/NegotiationRound"' in html and 'href="/browse/Person"' in html
    assert '</browse.json>; rel="alternate"; type="application/json"' in response.headers["Link"]
    assert client.get("/browse.json", headers={"Accept": BROWSER}).mimetype == "application/json"


# -- facet counts against SPARQL ----------------------------------------------------------------------------------

DOCUMENTS = ("SELECT ?v (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a dj:{cls} FILTER(isIRI(?x)) "
             "GRAPH ?g {{ ?x ?p ?o }} GRAPH djg:provenance {{ ?g dj:statementsOf ?v }} {extra} }} GROUP BY ?v")


@pytest.mark.parametrize("cls", ["Event", "Person", "Claim", "Organization"])
def test_document_counts_are_those_of_sparql(client, cls):
    body = browse(client, f"/browse/{cls}")
    assert body["total"] == len(instances(client, cls))
    assert facet(body, "document") == counts(client, DOCUMENTS.format(cls=cls, extra=""))


def test_level_and_year_counts_of_negotiation_rounds(client):
    body = browse(client, "/browse/NegotiationRound")
    assert facet(body, "level") == counts(client, "SELECT ?v (COUNT(DISTINCT ?x) AS ?n) WHERE { "
                                                  "?x a dj:NegotiationRound ; dj:level ?v } GROUP BY ?v")
    years = counts(client, "SELECT ?v (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a dj:NegotiationRound . "
                           "{ ?x dj:edtf ?d } UNION { ?x dj:startDate ?d } BIND(SUBSTR(STR(?d), 1, 4) AS ?v) "
                           "FILTER(REGEX(?v, '^[0-9]{4}$')) } GROUP BY ?v")
    assert facet(body, "year") == years and years, "the rounds are dated"


def test_type_facet_counts_subclasses_and_filters_by_them(client):
    body = browse(client, "/browse/Event")
    types = facet(body, "type")
    assert types[ONTOLOGY_NS + "NegotiationRound"] == len(instances(client, "NegotiationRound"))
    assert ONTOLOGY_NS + "Event" not in types, "the class browsed is not one of its own subtypes"
    narrowed = browse(client, "/browse/Event", type="dj:NegotiationRound")
    assert narrowed["total"] == len(instances(client, "NegotiationRound"))


def test_state_facet_of_events(client):
    body = browse(client, "/browse/Event")
    expected = counts(client, "SELECT ?v (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a dj:Event . "
                              "?x dj:participant|dj:actor|dj:target ?v . ?v a dj:State } GROUP BY ?v")
    assert facet(body, "state") == expected and expected[RESOURCE_NS + "japan"] > 0


# -- filters -------------------------------------------------------------------------------------------------------


def test_filters_combine_and_counts_follow_them(client):
    body = browse(client, "/browse/Event", document="djr:doc-001", year="2012")
    expected = sparql(client, "SELECT DISTINCT ?x WHERE { ?x a dj:Event . "
                              "GRAPH ?g { ?x ?p ?o } GRAPH djg:provenance { ?g dj:statementsOf djr:doc-001 } "
                              "{ ?x dj:edtf ?d } UNION { ?x dj:startDate ?d } FILTER(STRSTARTS(STR(?d), '2012')) }")
    assert body["total"] == len(expected) > 0
    assert {r["iri"] for r in body["results"]} == {row["x"] for row in expected}
    assert all("djr:doc-001" in [d["id"] for d in r["documents"]] for r in body["results"])
    # A facet count is what the total becomes with that value added.
    docs = facet(body, "document")
    extra = "FILTER EXISTS { GRAPH ?h { ?x ?q ?r } GRAPH djg:provenance { ?h dj:statementsOf djr:doc-001 } } " \
            "FILTER EXISTS { { ?x dj:edtf ?d } UNION { ?x dj:startDate ?d } FILTER(STRSTARTS(STR(?d), '2012')) }"
    assert docs == counts(client, DOCUMENTS.format(cls="Event", extra=extra))
    assert docs[RESOURCE_NS + "doc-001"] == body["total"]
    assert [f["facet"] for f in body["filters"]] == ["year", "document"]


def test_each_filter_is_removable_and_values_toggle(client):
    body = browse(client, "/browse/Event", document="djr:doc-001", year="2012")
    removed = {f["facet"]: f["remove"] for f in body["filters"]}
    without_year = client.get(removed["year"], headers=JSON).get_json()
    assert [f["facet"] for f in without_year["filters"]] == ["document"]
    assert without_year["total"] >= body["total"]
    chosen = next(v for f in body["facets"] if f["key"] == "year" for v in f["values"] if v["value"] == "2012")
    assert chosen["selected"] and "year=" not in chosen["toggle"], "a chosen value's link removes it"


def test_the_page_shows_filters_facets_and_rows_with_labels(client):
    response = client.get("/browse/Event?document=djr:doc-001", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Remove the filter document" in html and "Clear all filters" in html
    assert '<h2 id="facet-year"' in html and '<h2 id="facet-state"' in html
    assert '<a href="/id/ev-2012-11-mongolia-talks"' in html, "rows link to their pages"
    assert "^^" not in html and "@en" not in html
    assert '</browse/Event.json?document=djr%3Adoc-001>; rel="alternate"' in response.headers["Link"]


# -- sorting and paging ----------------------------------------------------------------------------------------------


def test_pages_cover_every_instance_once(client):
    everyone = instances(client, "Agent")
    first = browse(client, "/browse/Agent", size=25)
    assert first["pages"] == -(-len(everyone) // 25) > 1 and len(first["results"]) == 25
    seen: list[str] = []
    link = first["links"]["html"]
    while link:
        page = client.get(link, headers=JSON).get_json()
        seen += [r["iri"] for r in page["results"]]
        link = page["links"]["next"]
    assert sorted(seen) == sorted(everyone)
    labels = [r["label"].casefold() for r in first["results"]]
    assert labels == sorted(labels), "by name by default"


def test_sorting_by_date_newest_first(client):
    body = browse(client, "/browse/NegotiationRound", sort="-date")
    dated = [min(d["value"] for d in r["dates"]) for r in body["results"] if r["dates"]]
    assert dated == sorted(dated, reverse=True) and dated
    shown = [d["text"] for r in body["results"] for d in r["dates"]]
    assert "November 2012" in shown, "dates at the precision the data gives"


# -- bad requests --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "parameter"), [
    ("colour=red", "colour"), ("level=djr:level-informal", "level"), ("year=12", "year"), ("year=2012x", "year"),
    ("document=not an iri", "document"), ("type=dj:Person", "type"), ("sort=size", "sort"), ("page=0", "page"),
    ("size=1000", "size"), ("size=many", "size"),
    ("page=", "page"), ("page=%0B", "page"), ("page=10000000000", "page"), ("sort=", "sort"),
    ("sort=label&sort=-label", "sort"),
])
def test_bad_parameters_are_a_400_naming_them(client, query, parameter):
    response = client.get(f"/browse/Event?{query}", headers=JSON)
    assert response.status_code == 400, query
    body = response.get_json()
    assert body["parameter"] == parameter and parameter in body["message"]


def test_a_page_past_the_last_is_a_404_naming_it(client):
    response = client.get("/browse/Event?page=999", headers=JSON)
    assert response.status_code == 404
    assert response.get_json()["parameter"] == "page" and "past the last page" in response.get_json()["message"]


def test_an_undated_class_accepts_the_date_order_but_offers_only_names(client):
    body = browse(client, "/browse/Person", sort="date")
    assert body["total"] == len(instances(client, "Person"))
    assert [s["key"] for s in body["sorts"]] == ["label", "-label"]


def test_a_browser_gets_the_error_as_a_page(client):
    response = client.get("/browse/Event?year=12", headers={"Accept": BROWSER})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "year must be four digits" in response.get_data(as_text=True)


def test_an_unknown_class_is_a_404(client):
    response = client.get("/browse/Unicorn", headers=JSON)
    assert response.status_code == 404 and "dj:Unicorn" in response.get_json()["message"]


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"/browse", "/browse.json", "/browse/{name}"} <= set(paths)
    names = {p["name"] for p in paths["/browse/{name}"]["get"]["parameters"]}
    assert {"name", "sort", "page", "size"} <= names
