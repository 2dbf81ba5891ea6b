"""/query without a browser: the form works without JavaScript, the editor's settings come from the server (our
endpoint, prefixes and canned queries), completion terms come from the ontology graph, and a syntax error's problem
JSON carries its line and column (the editor marks them; tests/browser/test_editor.py)."""

from __future__ import annotations

import json
import re

from service.rdf.vocabulary import ONTOLOGY_NS, PREFIXES

BROWSER = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


def _config(html: str) -> dict:
    return json.loads(re.search(r'<script id="config" type="application/json">(.*?)</script>', html, re.S).group(1))


def test_the_page_is_a_form_to_the_endpoint_and_carries_the_editors_settings(client) -> None:
    response = client.get("/query?query=ASK%20%7B%7D", headers={"Accept": BROWSER})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form id="query-form" method="get" action="/sparql">' in html
    assert re.search(r'<textarea id="query" name="query"[^>]*>ASK \{\}</textarea>', html)
    config = _config(html)
    assert config["endpoint"] == "/sparql" and config["prefixes"] == PREFIXES
    titles = [example["title"] for example in config["examples"]]
    assert any(title.startswith("contacts-timeline — ") for title in titles), "canned queries are examples"
    assert not any(title.startswith("federated-") for title in titles), "no example calls another endpoint"
    assert "Escape" in html and "Tab" in html, "the way out of the editor is written on the page"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert 'href="/query"' in client.get("/", headers={"Accept": BROWSER}).get_data(as_text=True)


def test_completion_terms_come_from_the_ontology_and_the_data(client) -> None:
    terms = client.get("/query/terms.json").get_json()
    assert ONTOLOGY_NS + "NegotiationRound" in terms["classes"]
    assert ONTOLOGY_NS + "participant" in terms["properties"]
    assert "http://www.w3.org/2000/01/rdf-schema#label" in terms["properties"], "terms the data uses"
    assert all(iri.startswith(("http://", "https://", "urn:")) for iri in terms["classes"] + terms["properties"])


def test_a_syntax_error_names_its_line_and_column_in_the_problem_json(client) -> None:
    response = client.post("/sparql", data={"query": "SELECT * WHERE {\n ?s ?p \n}} "},
                           headers={"Accept": "application/sparql-results+json, application/json;q=0.5"})
    problem = response.get_json()
    assert response.status_code == 400
    assert (problem["line"], problem["column"]) == (3, 2)
    assert problem["message"].startswith("Syntax error in the query at line 3, column 2")


def test_every_download_link_of_the_query_page_works(app) -> None:
    """query.js offers the whole answer in each format its settings list (the link is /sparql?query=…&download=…)."""
    from tests.sparql_helpers import buffered_client

    client = buffered_client(app)
    config = _config(client.get("/query", headers={"Accept": BROWSER}).get_data(as_text=True))
    assert {f["name"] for f in config["formats"]["results"]} == {"json", "xml", "csv", "tsv"}
    assert {f["name"] for f in config["formats"]["graph"]} >= {"turtle", "ntriples", "jsonld", "rdfxml"}
    for kind, query in (("results", "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3"),
                        ("graph", "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3")):
        for fmt in config["formats"][kind]:
            response = client.get(config["endpoint"], query_string={"query": query, "download": fmt["name"]})
            assert response.status_code == 200, (fmt, response.data)
            assert response.headers["Content-Disposition"] == f'attachment; filename="results.{fmt["extension"]}"'
            assert response.headers["Content-Type"].split(";")[0] == fmt["label"]


def test_a_canned_page_opened_bare_is_its_form_but_a_bare_post_is_refused(client) -> None:
    """A link to a canned query (GET, no values) opens its empty form; a POST is a submission, so one without the
    required values is a 400 naming the parameter (schemathesis: a schema-violating request must not be accepted)."""
    assert client.get("/queries/entity-mentions", headers={"Accept": BROWSER}).status_code == 200
    refused = client.post("/queries/entity-mentions", data={"_format": "html"}, headers={"Accept": BROWSER})
    assert refused.status_code == 400 and "entity" in refused.get_data(as_text=True)
    assert client.post("/queries/entity-mentions", data={"_format": "html", "entity": "djr:japan"},
                       headers={"Accept": BROWSER}).status_code == 200
