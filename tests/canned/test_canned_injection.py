"""Injection attempts never change a canned query's meaning: the answer is the safe one, or a 400.

Two checks per attempt: over HTTP the rows equal what an independent oracle computes for
the value taken literally (or the request is refused with 400); and the SPARQL text the
service builds has exactly the structure of the query with an ordinary value — only the
content of one string or IRI differs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from service.canned.header import load_queries
from service.canned.params import ParamError, bind
from service.config import DEFAULT_SERVICE_ALLOWLIST
from service.sparql.lexer import tokenize
from service.web.context import get_store

REPO = Path(__file__).resolve().parents[2]

PAYLOADS = [
    '"', "'", "\\", '"}', "'}", "{", "}", "(", ")", "#", ">", "<", "*", ".", ";",
    '} UNION { ?entity ?p ?o }',
    'Koizumi" } UNION { ?entity ?p ?o } #',
    "Koizumi' } UNION { ?entity ?p ?o } #",
    'Koizumi"))) } } UNION { SELECT * WHERE { ?s ?p ?o } } #',
    '") || true || ("',
    'x" . ?entity ?p ?o . FILTER("1',
    '"""', "'''", '\\" } #', '\\u0022 } UNION {',
    "Koizumi\n} UNION {\n?entity ?p ?o\n#",
    "Koizumi\r\n#",
    "Koizumi#comment",
    "<http://evil.example/> } UNION {",
    "djr:japan> } UNION { ?s ?p ?o",
    "djr:japan#> . ?s ?p ?o",
    "?entity", "$entity", "UNDEF", "VALUES ?text { UNDEF }", "} VALUES ?text { UNDEF",
    "2012 } UNION {", "2012) || true || (", "1; DROP ALL", "1e9", "0x10",
    "\u2028", "\u0000", "\t",
    "%7D%20UNION%20%7B",
    "A" * 10_000,
    "djr:" + "a" * 5_000,
]


@pytest.fixture(scope="module")
def client(app):
    """A test client that sends ``Accept: */*`` as curl and browsers do (Flask's sends no Accept header)."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT"] = "*/*"
    return test_client


@pytest.fixture(scope="module")
def names(app) -> list[tuple[str, str]]:
    """Every (entity, name) pair find-entity searches — read with a fixed query, no parameters."""
    with app.app_context():
        rows = get_store().select(
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            "SELECT ?e ?n WHERE { ?e rdfs:label|skos:altLabel|skos:prefLabel ?n "
            "FILTER(STRSTARTS(STR(?e), 'https://w3id.org/dprk-japan-kg/id/')) }").rows
    return [(e.value, n.value) for e, n in rows]


def entities(response) -> set[str]:
    return {b["entity"]["value"] for b in response.get_json()["results"]["bindings"]}


def test_the_oracle_is_not_vacuous(client, names):
    expected = {e for e, n in names if "koizumi" in n.lower()}
    assert len(expected) >= 2
    assert entities(client.get("/queries/find-entity.json?text=Koizumi")) == expected


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_a_string_parameter_is_only_ever_text(client, names, payload):
    response = client.get("/queries/find-entity.json?text=" + quote(payload, safe=""))
    if response.status_code == 400:
        assert response.get_json()["parameter"] == "text"
        return
    assert response.status_code == 200
    assert entities(response) == {e for e, n in names if payload.lower() in n.lower()}


TYPED = [
    # (query, parameter, rows a 200 may return: None = the request must be refused)
    ("entity-mentions", "entity", []),
    ("contacts-timeline", "participant", None),
    ("contacts-timeline", "year_from", None),
    ("contacts-timeline", "issue", None),
    ("contacts-timeline", "level", None),
    ("claims", "min_value", None),
    ("issue-frequency", "min_rounds", None),
    ("entities-without-links", "include_candidates", None),
    ("documents", "issued_from", None),
]


@pytest.mark.parametrize(("query", "param", "allowed"), TYPED, ids=[f"{q}-{p}" for q, p, _ in TYPED])
def test_typed_parameters_refuse_or_answer_safely(client, query, param, allowed):
    absent = client.get(f"/queries/{query}.json").data
    for payload in PAYLOADS:
        response = client.get(f"/queries/{query}.json?{param}=" + quote(payload, safe=""))
        if not payload.strip():
            assert response.data == absent, "a blank value counts as absent (as HTML forms send it)"
            continue
        if response.status_code == 400:
            assert response.get_json()["parameter"] == param, payload
            continue
        if (query, param, payload) == ("claims", "min_value", "1e9"):  # a decimal in exponent form: a number
            assert response.status_code == 200
            continue
        assert allowed is not None, f"{query}: {param}={payload!r} was not refused"
        assert response.status_code == 200
        assert response.get_json()["results"]["bindings"] == allowed, payload


@pytest.mark.parametrize("payload", ["} UNION {", "x#", "a b", "text\n", "_format2", "VALUES"])
def test_unknown_parameter_names_are_refused(client, payload):
    response = client.get(f"/queries/find-entity.json?text=Koizumi&{quote(payload, safe='')}=1")
    assert response.status_code == 400 and response.get_json()["parameter"] == payload


def _shape(sparql: str) -> list[tuple[str, str]]:
    """The query's tokens as the SPARQL grammar reads them, with the contents of strings and IRIs left out."""
    return [(token.kind, "" if token.kind in ("string", "iri") else token.text) for token in tokenize(sparql)]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_the_bound_query_has_the_structure_of_the_template(payload):
    queries = load_queries(REPO / "queries", DEFAULT_SERVICE_ALLOWLIST)
    for name, param, safe in [("find-entity", "text", "Koizumi"), ("entity-mentions", "entity", "djr:chongryon"),
                              ("external-links", "entity", "djr:kim-jong-un")]:
        query = queries[name]
        try:
            binding = bind(query, {param: [payload]}, lookups=None)
        except ParamError as exc:
            assert exc.param == param
            continue
        reference = bind(query, {param: [safe] if payload.strip() or param == "text" else []}, lookups=None)
        assert _shape(binding.sparql()) == _shape(reference.sparql()), f"{name}: {payload!r} changed the query"


def test_html_pages_escape_values(client):
    page = client.get("/queries/find-entity?text=" + quote("<script>alert(1)</script>"),
                      headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.get_data(as_text=True)
