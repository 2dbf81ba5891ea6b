"""Content negotiation: what a client gets for the Accept header it sends (a table of cases)."""

from __future__ import annotations

import pytest

from service.problems import ApiError
from service.web import negotiation

results_cases = [
    (None, "application/sparql-results+json"),
    ("", "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/json"),  # compatibility alias, answered as SPARQL JSON
    ("application/xml", "application/xml"),
    ("text/xml", "text/xml"),
    ("text/*", "text/csv"),
    ("application/*", "application/sparql-results+json"),
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    ("application/sparql-results+xml;q=0.9, text/csv;q=0.9", "application/sparql-results+xml"),
    ("text/csv, */*;q=0.1", "text/csv"),
    ("text/turtle, */*;q=0.1", "application/sparql-results+json"),
    ("text/csv;q=0, */*", "application/sparql-results+json"),
    ("TEXT/CSV", "text/csv"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/xml"),
    # what SPARQLWrapper and rdflib send
    ("application/sparql-results+json,application/json,text/javascript,application/javascript",
     "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
]


@pytest.mark.parametrize(("accept", "expected"), results_cases)
def test_select_results_follow_the_accept_header(accept, expected):
    assert negotiation.results_format(accept).media_type == expected


rdf_cases = [
    (None, "text/turtle"),
    ("*/*", "text/turtle"),
    ("application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/n-quads", "application/n-quads"),
    ("application/trig", "application/trig"),
    ("application/json", "application/json"),
    ("application/xml", "application/xml"),
    ("text/plain", "text/plain"),
    ("application/x-turtle", "application/x-turtle"),
    ("application/*", "application/n-triples"),
    ("text/*", "text/turtle"),
    ("application/rdf+xml;q=0.5, application/ld+json", "application/ld+json"),
    ("text/turtle;q=0.2, application/n-triples;q=0.8", "application/n-triples"),
]


@pytest.mark.parametrize(("accept", "expected"), rdf_cases)
def test_graph_results_follow_the_accept_header(accept, expected):
    assert negotiation.rdf_format(accept).media_type == expected


@pytest.mark.parametrize(("accept", "content_type"), [
    ("application/json", "application/sparql-results+json"),
    ("text/xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv; charset=utf-8"),
])
def test_aliases_are_answered_with_the_standard_type(accept, content_type):
    assert negotiation.results_format(accept).content_type == content_type


@pytest.mark.parametrize(("accept", "content_type"), [
    ("application/json", "application/ld+json"),
    ("application/xml", "application/rdf+xml"),
    ("text/plain", "application/n-triples"),
])
def test_graph_aliases_follow_the_clients_intent(accept, content_type):
    assert negotiation.rdf_format(accept).content_type == content_type


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "text/turtle"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("application/ld+json", "application/ld+json"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/n-triples", "application/n-triples"),
])
def test_service_description_formats(accept, expected):
    assert negotiation.description_format(accept).media_type == expected


@pytest.mark.parametrize(("function", "accept"), [
    (negotiation.results_format, "text/turtle"),
    (negotiation.results_format, "image/png"),
    (negotiation.rdf_format, "text/csv"),
    (negotiation.rdf_format, "application/sparql-results+json"),
    (negotiation.rdf_format, "application/json;q=0, text/csv"),
])
def test_nothing_acceptable_is_a_406_listing_what_we_produce(function, accept):
    with pytest.raises(ApiError) as info:
        function(accept)
    assert info.value.status == 406
    table = negotiation.RESULT_FORMATS if function is negotiation.results_format else negotiation.RDF_FORMATS
    for fmt in table:
        if fmt.standard:
            assert fmt.media_type in info.value.message


@pytest.mark.parametrize("accept", ["text/csv;q=abc", "text/csv;q=2", "textcsv"])
def test_a_malformed_accept_header_is_a_400_naming_it(accept):
    with pytest.raises(ApiError) as info:
        negotiation.results_format(accept)
    assert info.value.status == 400
    assert "Accept" in info.value.message


def test_the_download_parameter_names_a_format_by_short_name_or_media_type():
    assert negotiation.by_name("csv", negotiation.RESULT_FORMATS).key == "csv"
    assert negotiation.by_name("text/turtle", negotiation.RDF_FORMATS).key == "text/turtle"
    with pytest.raises(ApiError) as info:
        negotiation.by_name("png", negotiation.RESULT_FORMATS)
    assert info.value.status == 400 and "'download'" in info.value.message


# -- the one table of formats (service.rdf.formats): every reader and writer agrees with it ---------------------


def test_each_syntax_row_agrees_with_pyoxigraph_and_the_tables_are_views_of_the_rows():
    from service.rdf import formats

    for syntax in formats.SYNTAXES:
        assert syntax.media_type == syntax.rdf_format.media_type, syntax.name
        assert syntax.extension == syntax.rdf_format.file_extension, syntax.name
        assert syntax.datasets == (syntax.name in ("trig", "nquads")), syntax.name
        assert formats.STORE_FORMATS[syntax.media_type] == syntax.rdf_format
    names = [s.name for s in formats.SYNTAXES]
    assert len(names) == len(set(names)), "one name per syntax"
    # Every answer format is one row's media type or one of its aliases, and answers in that row's syntax.
    for fmt in negotiation.RDF_FORMATS:
        syntax = formats.syntax(fmt.name)
        assert fmt.key == syntax.media_type and fmt.extension == syntax.extension
        assert fmt.media_type in (syntax.media_type, *syntax.aliases, *syntax.answer_aliases)


def test_who_may_send_which_syntax():
    """A Graph Store body is one graph (no TriG or N-Quads); N3 only there (its formulas would be graphs);
    a generic type (plain JSON or XML, text/plain) is never read as an RDF syntax."""
    import pyoxigraph as ox

    from service.rdf.formats import DOCUMENT_INPUT, EXTENSIONS, GRAPH_INPUT

    assert set(GRAPH_INPUT) == {"text/turtle", "application/x-turtle", "application/n-triples", "application/ld+json",
                                "application/rdf+xml", "text/n3"}
    assert set(DOCUMENT_INPUT) == {"text/turtle", "application/x-turtle", "application/n-triples",
                                   "application/ld+json", "application/rdf+xml", "application/n-quads",
                                   "application/trig"}
    for generic in ("application/json", "application/xml", "text/xml", "text/plain"):
        assert generic not in GRAPH_INPUT and generic not in DOCUMENT_INPUT
    assert EXTENSIONS[".trig"] == ox.RdfFormat.TRIG and EXTENSIONS[".json"] == ox.RdfFormat.JSON_LD
    assert ".n3" not in EXTENSIONS, "the CLI reads what /validate reads"


def test_canned_queries_answer_in_the_formats_of_the_one_table():
    from service.canned import run

    assert run.RESULT_FORMATS == {
        "json": ("application/sparql-results+json", "json"), "xml": ("application/sparql-results+xml", "xml"),
        "csv": ("text/csv; charset=utf-8", "csv"), "tsv": ("text/tab-separated-values; charset=utf-8", "tsv")}
    assert run.GRAPH_FORMATS == {
        "ttl": ("text/turtle; charset=utf-8", "text/turtle"),
        "jsonld": ("application/ld+json", "application/ld+json"),
        "nt": ("application/n-triples", "application/n-triples")}


# -- the error body: JSON or plain text, by the same negotiation (service.web.errors.wants_json) ----------------

error_body_cases = [
    # (Accept, JSON on a machine route (canned, /validate, /ingest …), JSON on /sparql and /store)
    (None, True, False),
    ("", True, False),
    ("*/*", True, False),
    ("application/json", True, True),
    ("text/plain", False, False),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False, False),  # a browser: text
    ("text/*", False, False),
    ("application/*", True, True),
    ("application/json;q=0.5, text/plain", False, False),
    ("text/plain;q=0.5, application/json", True, True),
    ("text/csv", True, False),  # accepts neither (406): the route's default
    ("application/sparql-results+json", True, False),
    ("application/json;q=0", True, False),
    # equal q-values: the range the client lists first wins (the one negotiation's rule)
    ("application/json, text/plain, */*", True, True),
    ("text/plain, application/json", False, False),
    ("text/html, application/json", False, False),
    ("*/*, application/json", False, False),  # */* comes first and matches text/plain as well
    # malformed (the negotiation's 400): an error is answered all the same, in the route's default
    ("application/json;q=abc", True, False),
    ("text/plain;q=2", True, False),
    ("textplain", True, False),
]


@pytest.mark.parametrize(("accept", "machine_json", "text_json"), error_body_cases)
def test_the_error_body_format_is_negotiated_by_the_one_negotiation(accept, machine_json, text_json):
    """Error bodies are negotiated by :func:`negotiation.negotiate`, as every answer is, and never raise.

    Changed from werkzeug's ``best_match``, which was used here before: when several ranges have the
    same q-value, werkzeug let the server's order or the more specific range decide, while the one
    negotiation gives the tie to the range the client lists first (then the route's default). So
    ``application/json, text/plain, */*`` (what axios sends) now gets JSON errors on /sparql (it got text),
    ``text/plain, application/json`` and ``text/html, application/json`` get text on a machine route
    (they got JSON), and ``*/*, application/json`` gets text (it got JSON: ``*/*``, listed first, matches
    text too). None of these was pinned by a test; one rule for every answer is the standard kept. A
    malformed header, which werkzeug read in part, now gets the route's default: the error is answered,
    never a second error.
    """
    from service.web.errors import wants_json

    assert wants_json(True, accept) is machine_json
    assert wants_json(False, accept) is text_json


def test_a_malformed_accept_header_still_gets_an_error_body(client):
    """An error is answered whatever the Accept header: JSON on a machine route, text on /sparql."""
    canned = client.get("/queries/no-such-query", headers={"Accept": "application/json;q=abc"})
    assert canned.status_code == 404 and canned.mimetype == "application/json"
    assert "no-such-query" in canned.get_json()["message"]
    sparql = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "application/json;q=abc"})
    assert sparql.status_code == 400 and sparql.mimetype == "text/plain"
    assert "Accept" in sparql.get_data(as_text=True)
