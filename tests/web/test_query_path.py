"""The WSGI fast path for queries (``service.web.query_path``) answers exactly as the Flask view does.

Each request of the table is sent twice to the same app: once through the fast path (the app
as served) and once straight to Flask's own ``wsgi_app``; status, headers and body must match
byte for byte — answers, every error, CORS. Other tests check that the fast path is really
taken, that what it hands over to Flask (updates, service descriptions) still works, and that
the FAST_QUERY_PATH setting turns it off.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import pytest
from werkzeug.test import Client

from service.web import query_path, sparql
from tests.sparql_helpers import AUTH, TOKEN

PERSON = "SELECT ?p ?o WHERE { <https://w3id.org/dprk-japan-kg/id/kim-jong-il> ?p ?o } ORDER BY ?p ?o"
PREFIXED = ("PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#> "
            "SELECT ?e WHERE { ?e a dj:NegotiationRound } ORDER BY ?e LIMIT 3")
CONSTRUCT = ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o . "
             "FILTER(?s = <https://w3id.org/dprk-japan-kg/id/kim-jong-il>) }")
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
IGNORED = {"date", "server"}


def fast_path(app: Any) -> Any:
    """The WSGI entry point behind admission control (service.web.admission): the fast path when it is on."""
    from service.web.admission import Admission

    entry = app.wsgi_app
    while not isinstance(entry, Admission):  # compression (service.web.compression) wraps admission
        entry = entry.inner
    return entry.inner


def get(query: str | None = None, extra: str = "", **headers: str) -> dict[str, Any]:
    qs = (f"query={quote(query)}" if query is not None else "") + extra
    return {"method": "GET", "path": "/sparql", "query_string": qs, "headers": headers}


def post(body: bytes | str, content_type: str, query_string: str = "", **headers: str) -> dict[str, Any]:
    data = body.encode() if isinstance(body, str) else body
    return {"method": "POST", "path": "/sparql", "query_string": query_string, "data": data,
            "headers": {"Content-Type": content_type, **headers}}


CASES: dict[str, dict[str, Any]] = {
    "select, default format": get(PERSON),
    "select, JSON": get(PERSON, Accept="application/sparql-results+json"),
    "select, XML": get(PERSON, Accept="application/sparql-results+xml"),
    "select, CSV": get(PERSON, Accept="text/csv"),
    "select, TSV": get(PERSON, Accept="text/tab-separated-values"),
    "select, q-values": get(PERSON, Accept="text/csv;q=0.5, application/sparql-results+xml;q=0.9"),
    "select, any": get(PERSON, Accept="*/*"),
    "select, prefixed names": get(PREFIXED),
    "ask": get("ASK { ?s a <https://w3id.org/dprk-japan-kg/ontology#Person> }"),
    "ask, XML": get("ASK {}", Accept="application/sparql-results+xml"),
    "construct, Turtle": get(CONSTRUCT, Accept="text/turtle"),
    "construct, N-Triples": get(CONSTRUCT, Accept="application/n-triples"),
    "construct, JSON-LD": get(CONSTRUCT, Accept="application/ld+json"),
    "construct, RDF/XML": get(CONSTRUCT, Accept="application/rdf+xml"),
    "describe": get("DESCRIBE <https://w3id.org/dprk-japan-kg/id/kim-jong-il>"),
    "download csv": get(PERSON, "&download=csv"),
    "download unknown": get(PERSON, "&download=pdf"),
    "dataset parameters": get("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                              "&default-graph-uri=" + quote("https://w3id.org/dprk-japan-kg/id/doc-000")),
    "named graphs": get("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
                        "&named-graph-uri=" + quote("https://w3id.org/dprk-japan-kg/id/doc-001")),
    "relative graph IRI": get("ASK {}", "&default-graph-uri=not-absolute"),
    "file: graph IRI": get("ASK {}", "&named-graph-uri=" + quote("file:///etc/passwd")),
    "syntax error, text": get("SELECT * WHERE { ?s ?p }"),
    "syntax error, JSON": get("SELECT * WHERE { ?s ?p }", Accept="application/json"),
    "not acceptable": get(PERSON, Accept="image/png"),
    "bad Accept": get(PERSON, Accept="text/csv;q=abc"),
    "syntax error, bad Accept": get("SELECT * WHERE { ?s ?p }", Accept="application/json;q=abc"),
    "syntax error, JSON listed first": get("SELECT * WHERE { ?s ?p }", Accept="application/json, text/plain, */*"),
    "query twice": get(PERSON, "&query=" + quote("ASK {}")),
    "query and update": get(PERSON, "&update=" + quote("CLEAR ALL")),
    "empty query": get(""),
    "update parameter on a query": get(PERSON, "&using-graph-uri=" + quote("http://example.org/g")),
    "update in the query parameter": get("INSERT DATA { <urn:a> <urn:b> <urn:c> }"),
    "LOAD in a query": get("LOAD <http://example.org/data.ttl>"),
    "SERVICE off the allow-list": get("SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"),
    "SERVICE by variable": get("SELECT * WHERE { SERVICE ?x { ?s ?p ?o } }"),
    "FROM a file": get("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"),
    "codepoint escapes": get("SELECT ?x WHERE { BIND(\"\\u0041\" AS ?x) }"),
    "bad codepoint escape": get("SELECT ?x WHERE { BIND(\"\\uD800\" AS ?x) }"),
    "not UTF-8 query string": {"method": "GET", "path": "/sparql", "query_string": "query=%FF%FE", "headers": {}},
    "CORS": get(PERSON, Origin="https://example.org"),
    "CORS on an error": get("SELECT", Origin="https://example.org"),
    "POST direct": post(PERSON, DIRECT),
    "POST direct, charset": post(PERSON, DIRECT + "; charset=utf-8", Accept="text/csv"),
    "POST direct, other charset": post(PERSON, DIRECT + "; charset=latin-1"),
    "POST direct, not UTF-8": post(b"ASK { \xff }", DIRECT),
    "POST direct, empty": post(b"", DIRECT),
    "POST direct, query in URL too": post(PERSON, DIRECT, "query=" + quote("ASK {}")),
    "POST direct, dataset in URL": post("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", DIRECT,
                                        "default-graph-uri=" + quote("https://w3id.org/dprk-japan-kg/id/doc-002")),
    "POST form": post("query=" + quote(PERSON), FORM, Accept="application/sparql-results+xml"),
    "POST form, construct": post("query=" + quote(CONSTRUCT), FORM, Accept="text/turtle"),
    "POST form, update (read-only: 403)": post("update=" + quote("CLEAR ALL"), FORM),
    "POST form, both": post("query=" + quote(PERSON) + "&update=" + quote("CLEAR ALL"), FORM),
    "POST form, not UTF-8": post(b"query=%FF", FORM),
    "POST direct update body (Flask)": post("CLEAR ALL", "application/sparql-update"),
    "POST, other type (Flask)": post(PERSON, "text/plain"),
    "service description (Flask)": get(None, Accept="text/turtle"),
    "update by GET (Flask)": get(None, "update=" + quote("CLEAR ALL")),
}


def exchange(wsgi_app: Any, case: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request to a WSGI callable; the answer with headers normalized for comparison."""
    response = Client(wsgi_app).open(case["path"], method=case["method"], query_string=case["query_string"],
                                     data=case.get("data"), headers=case["headers"])
    body = response.get_data()
    headers = sorted((name.lower(), value) for name, value in response.headers.items()
                     if name.lower() not in IGNORED)
    return response.status_code, headers, body


@pytest.mark.parametrize("name", list(CASES))
def test_fast_path_answers_as_flask_does(app: Any, name: str) -> None:
    case = CASES[name]
    assert isinstance(fast_path(app), query_path.QueryPath)
    fast = exchange(fast_path(app), case)
    flask = exchange(fast_path(app).fallback, case)
    assert fast == flask
    assert fast[0] != 500, fast[2][:300]


def test_the_table_covers_answers_and_errors(app: Any) -> None:
    """The table is only worth something if it has successes and each class of error in it."""
    statuses = {exchange(fast_path(app), case)[0] for case in CASES.values()}
    assert {200, 400, 403, 405, 406, 415} <= statuses


def test_eligible_queries_never_reach_flask(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    fallback = fast_path(app).fallback

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(f"{environ['REQUEST_METHOD']} {environ.get('QUERY_STRING', '')[:20]}")
        return fallback(environ, start_response)

    monkeypatch.setattr(fast_path(app), "fallback", spy)
    for name in ("select, JSON", "construct, Turtle", "POST direct", "POST form", "syntax error, text"):
        exchange(fast_path(app), CASES[name])
    assert calls == []
    exchange(fast_path(app), CASES["service description (Flask)"])
    exchange(fast_path(app), CASES["POST form, update (read-only: 403)"])
    assert len(calls) == 2


def test_unexpected_errors_are_logged_and_answered_alike(app: Any, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(sparql.guard, "guard", broken)
    with caplog.at_level(logging.ERROR):
        fast = exchange(fast_path(app), CASES["select, JSON"])
        flask = exchange(fast_path(app).fallback, CASES["select, JSON"])
    assert fast == flask
    assert fast[0] == 500
    assert b"secret" not in fast[2] and b"server log" in fast[2]
    assert sum("unhandled error on GET /sparql" in r.getMessage() for r in caplog.records) == 2


def test_row_cap_and_truncation_headers_match(make_app: Any) -> None:
    app = make_app(RESULT_ROW_CAP=2)
    case = get("SELECT ?s WHERE { ?s a <https://w3id.org/dprk-japan-kg/ontology#Person> } ORDER BY ?s")
    fast = exchange(fast_path(app), case)
    assert fast == exchange(fast_path(app).fallback, case)
    assert ("x-result-truncated", "true") in fast[1]
    assert fast[2].count(b'"type": "uri"') == 2


def test_cors_settings_match(make_app: Any) -> None:
    app = make_app(CORS_ORIGINS="https://analyst.example", LOAD_DATA=False)
    for name in ("select, JSON", "CORS", "syntax error, text", "POST form"):
        fast = exchange(fast_path(app), CASES[name])
        assert fast == exchange(fast_path(app).fallback, CASES[name])
        assert ("access-control-allow-origin", "https://analyst.example") in fast[1]
        assert any(n == "vary" and "Origin" in v for n, v in fast[1])


def test_form_update_is_handed_to_flask_with_its_body(make_app: Any) -> None:
    """An update POSTed as a form is read by the fast path, then run by Flask: nothing of it is lost."""
    app = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False)
    insert = 'INSERT DATA { GRAPH <urn:test:g> { <urn:test:a> <urn:test:p> "kept" } }'
    status, _, body = exchange(fast_path(app), post("update=" + quote(insert), FORM, **AUTH))
    assert status == 204, body
    status, _, body = exchange(fast_path(app), get("SELECT ?o WHERE { GRAPH <urn:test:g> { ?s ?p ?o } }"))
    assert status == 200 and b'"kept"' in body


def test_setting_turns_the_fast_path_off(make_app: Any) -> None:
    app = make_app(FAST_QUERY_PATH=False, LOAD_DATA=False)
    assert not isinstance(fast_path(app), query_path.QueryPath)
    assert exchange(fast_path(app), get("ASK {}"))[0] == 200
