"""The OpenAPI document: valid OpenAPI 3.1, generated from the query headers, and every path in it answers."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import urlencode

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from service.config import DEFAULT_SERVICE_ALLOWLIST
from service.web import openapi, openapi_routes


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_canned_query_is_an_operation_with_its_parameters(client):
    document = client.get("/openapi.json").get_json()
    for entry in client.get("/queries.json").get_json()["queries"]:
        operation = document["paths"][f"/queries/{entry['name']}"]["get"]
        assert operation["operationId"] == entry["name"]
        assert [p["name"] for p in operation["parameters"]] == [*(p["name"] for p in entry["params"]), "_format"]
        media = set(operation["responses"]["200"]["content"])
        assert "text/html" in media and ("text/csv" in media or "text/turtle" in media)
        assert operation["responses"]["400"]["content"]["application/json"]


def test_enums_drawn_from_the_data_list_their_values(client):
    document = client.get("/openapi.json").get_json()
    parameters = {p["name"]: p for p in document["paths"]["/queries/contacts-timeline"]["get"]["parameters"]}
    level, issue = parameters["level"], parameters["issue"]
    assert "djr:level-bureau-chief" in level["schema"]["enum"]
    assert issue["schema"]["type"] == "array" and issue["explode"] is True
    assert issue["schema"]["items"]["x-rdf-class"] == "skos:Concept"


@pytest.fixture
def federating_app(make_app, oxigraph_server):
    """The service with a local Oxigraph server added to the SERVICE allow-list (tests never go online)."""
    allowlist = dict(DEFAULT_SERVICE_ALLOWLIST)
    allowlist[oxigraph_server.query_url] = {"timeout": 10.0, "row_cap": 1000}
    return make_app(SERVICE_ALLOWLIST=allowlist), oxigraph_server.query_url


def test_every_canned_path_of_the_document_answers(federating_app):
    app, local_endpoint = federating_app
    client = app.test_client()
    document = client.get("/openapi.json").get_json()
    validate(document, cls=OpenAPIV31SpecValidator)
    for path, item in document["paths"].items():
        if not path.startswith("/queries/"):
            continue
        get = item["get"]
        url = openapi.example_url(path, get)
        if get.get("x-federated"):
            url += ("&" if "?" in url else "?") + urlencode({"endpoint": local_endpoint})
        response = client.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code} {response.get_data(as_text=True)}"
        if "post" in item:
            form = {}
            for parameter in get.get("parameters", []):
                if "example" in parameter:
                    form[parameter["name"]] = parameter["example"]
            if get.get("x-federated"):
                form["endpoint"] = local_endpoint
            posted = client.post(path, data=form)
            assert posted.status_code == 200, f"POST {path}: {posted.get_data(as_text=True)}"


def test_the_api_page_is_rendered_from_the_document_without_external_resources(client):
    page = client.get("/api")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '</openapi.json>; rel="alternate"; type="application/json"' in page.headers["Link"]
    html = unescape(page.get_data(as_text=True))
    document = client.get("/openapi.json").get_json()
    listed = 0
    for path, item in document["paths"].items():
        for method in (m for m in openapi.METHODS if m in item):  # every one, POST-only /ingest included
            operation = item[method]
            assert f"<code>{method.upper()} {path}</code></a> — {operation['summary']}</li>" in html, (method, path)
            assert f'<section class="operation" id="{operation["operationId"]}">' in html, (method, path)
            listed += 1
    assert html.count('<section class="operation"') == listed
    assert "<script" not in html and "http://" not in html.replace("http://localhost", "")
    assert "curl 'http://localhost/queries/contacts-timeline?year_from=2012&year_to=2012'" in html


def test_the_api_page_lists_post_only_operations_with_what_they_accept(client):
    """POST /ingest has no GET twin: the page still lists it, with its summary, its body types and a curl line."""
    html = unescape(client.get("/api").get_data(as_text=True))
    ingest = client.get("/openapi.json").get_json()["paths"]["/ingest"]["post"]
    section = html[html.index('<section class="operation" id="ingest">'):]
    section = section[:section.index("</section>")]
    assert "<h2><code>POST /ingest</code></h2>" in section and ingest["summary"] in section
    assert "<code>text/turtle</code>" in section.split("Accepts:")[1]
    assert "curl -X POST -H 'Content-Type: text/turtle' --data-binary @FILE 'http://localhost/ingest'" in section
    assert "Try it:" not in section, "no link to follow for a POST"


def test_the_document_links_its_readable_twin(client):
    assert '</api>; rel="alternate"; type="text/html"' in client.get("/openapi.json").headers["Link"]


#: Public routes the document leaves out, and why: the HTML UI and its static files, an alias.
UNDOCUMENTED = {"/": "the HTML UI", "/assets/<path:filename>": "static files",
                "/static/<path:filename>": "static files", "/favicon.ico": "the site icon (for browsers)",
                "/queries.json": "alias of GET /queries with Accept: application/json"}


def _rule_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_public_route_is_in_the_document_with_its_methods(app, client):
    document = client.get("/openapi.json").get_json()
    for rule in app.url_map.iter_rules():
        if rule.rule in UNDOCUMENTED:
            continue
        path = _rule_path(rule.rule).replace("{target}", "")
        documented = {p: item for p, item in document["paths"].items() if p.startswith(path) or p == path}
        assert documented, f"{rule.rule} is not in /openapi.json"
        if "<" not in rule.rule:
            methods = {m.lower() for m in rule.methods} - {"options", "head"}
            assert methods <= set(document["paths"][rule.rule]), (rule.rule, methods)


def test_writes_declare_the_bearer_scheme_and_reads_do_not(client):
    document = client.get("/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    paths = document["paths"]
    for method in ("put", "post", "delete"):
        assert paths["/store"][method]["security"] == [{"bearerAuth": []}]
    assert paths["/ingest"]["post"]["security"] == [{"bearerAuth": []}]
    assert {} in paths["/sparql"]["post"]["security"]  # queries need no token, updates do
    assert "security" not in paths["/sparql"]["get"] and "security" not in paths["/store"]["get"]


def test_the_protocol_bodies_name_every_media_type_the_views_read(client):
    from service.rdf.formats import DOCUMENT_INPUT, GRAPH_INPUT
    from service.web import protocol

    paths = client.get("/openapi.json").get_json()["paths"]
    assert set(paths["/sparql"]["post"]["requestBody"]["content"]) == {
        protocol.FORM_TYPE, protocol.QUERY_TYPE, protocol.UPDATE_TYPE}
    assert set(paths["/validate"]["post"]["requestBody"]["content"]) == {
        *DOCUMENT_INPUT, "application/sparql-update", "application/x-www-form-urlencoded", "multipart/form-data"}
    assert set(paths["/store"]["put"]["requestBody"]["content"]) == set(GRAPH_INPUT)
    assert set(paths["/store"]["post"]["requestBody"]["content"]) == {*GRAPH_INPUT,
                                                                    "multipart/form-data"}


def test_the_protocol_examples_succeed(make_app):
    """The examples of the document are requests that work (a query, a conforming batch, an update)."""
    from conftest import WRITE_TOKEN

    app = make_app(WRITE_TOKEN=WRITE_TOKEN)
    client = app.test_client()
    paths = client.get("/openapi.json").get_json()["paths"]
    auth = {"Authorization": f"Bearer {WRITE_TOKEN}"}
    post = paths["/sparql"]["post"]["requestBody"]["content"]
    assert client.get(openapi.example_url("/sparql", paths["/sparql"]["get"])).status_code == 200
    assert client.post("/sparql", data=post["application/sparql-query"]["example"],
                       content_type="application/sparql-query").status_code == 200
    for path in ("/validate", "/ingest"):
        body = paths[path]["post"]["requestBody"]["content"]
        for media_type in ("text/turtle", "application/ld+json"):
            example = body[media_type]["example"]
            data = example if isinstance(example, str) else json.dumps(example)
            answer = client.post(path, data=data, content_type=media_type, headers=auth)
            expected = {"/validate": 200, "/ingest": 201}[path]  # a report; a batch created
            assert answer.status_code == expected, (path, media_type, answer.get_data(as_text=True))
            if path == "/validate":
                assert answer.get_json()["conforms"] is True
    update = post["application/sparql-update"]["example"]
    assert client.post("/sparql", data=update, content_type="application/sparql-update",
                       headers=auth).status_code == 204
    graph = paths["/store"]["get"]["parameters"][1]["example"]
    assert client.get("/store", query_string={"graph": graph}).status_code == 200


def test_a_download_without_a_query_is_refused_as_the_document_says(client):
    """``download`` asks for a query's answer: without ``query`` it is a 400, not a silently ignored parameter
    (schemathesis found ``GET /sparql?download=0`` answered with the service description)."""
    answer = client.get("/sparql?download=0")
    assert answer.status_code == 400 and "'query' parameter is missing" in answer.get_data(as_text=True)
    assert client.get("/sparql").status_code == 200  # no parameter at all: the service description


def test_an_over_long_x_source_is_refused_even_beside_a_source_parameter(make_app):
    """The document caps X-Source at 2,000 characters; the service held to it only when ``?source`` was absent."""
    from conftest import WRITE_TOKEN

    client = make_app(WRITE_TOKEN=WRITE_TOKEN).test_client()
    count = {"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"}
    before = client.get("/sparql", query_string=count, headers={"Accept": "text/csv"}).get_data(as_text=True)
    answer = client.post("/ingest?source=ok", data=openapi_routes.TURTLE_EXAMPLE, content_type="text/turtle",
                         headers={"Authorization": f"Bearer {WRITE_TOKEN}", "X-Source": "x" * 2001})
    assert answer.status_code == 400 and "X-Source" in answer.get_json()["message"]
    assert client.get("/sparql", query_string=count, headers={"Accept": "text/csv"}).get_data(as_text=True) == before


def test_the_iri_length_limit_counts_the_value_as_sent_as_the_document_states():
    """maxLength (2,048) is of the value as sent: padding or <> around a 2,048-character IRI exceed it
    (schemathesis found a padded over-long value accepted)."""
    from service.canned.params import MAX_IRI_LENGTH, parse_iri

    iri = "https://example.org/" + "a" * (MAX_IRI_LENGTH - 20)
    assert parse_iri(iri) == iri
    for sent in (" " + iri, f"<{iri}>"):
        with pytest.raises(ValueError, match="at most 2048"):
            parse_iri(sent)


def test_get_sparql_declares_the_result_cache_headers_and_304_it_answers_with(client):
    """The document's GET /sparql names the cache's request headers, its ETag and X-Cache, 304 and the 503 of an
    unreachable remote store — and a real exchange uses exactly those."""
    document = client.get("/openapi.json").get_json()
    operation = document["paths"]["/sparql"]["get"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert {"If-None-Match", "Cache-Control"} <= headers
    declared = operation["responses"]["200"]["headers"]
    assert {"ETag", "X-Cache"} <= set(declared)
    assert "ETag" in operation["responses"]["304"]["headers"]
    assert "store cannot be reached" in operation["responses"]["503"]["description"]
    url = "/sparql?" + urlencode({"query": "ASK { ?s ?p ?o } # openapi cache headers"})
    first = client.get(url, headers={"Accept": "application/sparql-results+json"})
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["X-Cache"] in declared["X-Cache"]["schema"]["enum"]
    again = client.get(url, headers={"Accept": "application/sparql-results+json",
                                     "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    fresh = client.get(url, headers={"Accept": "application/sparql-results+json", "Cache-Control": "no-cache"})
    assert fresh.status_code == 200 and fresh.headers["X-Cache"] == "bypass"
