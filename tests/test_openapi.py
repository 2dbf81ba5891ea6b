"""The OpenAPI document: valid OpenAPI 3.1, generated from the query headers, and every path in it answers."""

from __future__ import annotations

from html import unescape
from urllib.parse import urlencode

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from service import openapi
from service.config import DEFAULT_SERVICE_ALLOWLIST


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


def test_every_path_of_the_document_answers(federating_app):
    app, local_endpoint = federating_app
    client = app.test_client()
    document = client.get("/openapi.json").get_json()
    validate(document, cls=OpenAPIV31SpecValidator)
    for path, item in document["paths"].items():
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
    for path, item in document["paths"].items():
        assert f"<code>{'|'.join(m.upper() for m in item)} {path}</code>" in html, path
    assert "<script" not in html and "http://" not in html.replace("http://localhost", "")
    assert "curl 'http://localhost/queries/contacts-timeline?year_from=2012&year_to=2012'" in html


def test_the_document_links_its_readable_twin(client):
    assert '</api>; rel="alternate"; type="text/html"' in client.get("/openapi.json").headers["Link"]
