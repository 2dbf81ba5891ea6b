"""Federated canned queries: SERVICE only to allow-listed endpoints, chosen by an enum, never cached.

The "remote" endpoint is a standalone Oxigraph server on 127.0.0.1 (tests never go online).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import free_port

QUERY = textwrap.dedent("""\
    #+ summary: Names the remote endpoint knows
    #+ federated: true
    #+ params:
    #+   - name: endpoint
    #+     type: enum
    #+     values_from: SERVICE_ALLOWLIST
    #+     required: true
    #+   - name: name
    #+     type: string
    #+     description: Only this name (bound inside the SERVICE block, so the remote endpoint filters).
    #+ columns:
    #+   - {name: thing, type: iri}
    #+   - {name: name, type: string}
    SELECT ?thing ?name WHERE {
      SERVICE ?endpoint {
        VALUES ?name { UNDEF }
        ?thing <http://example.org/name> ?name .
      }
    }
    ORDER BY ?name
    """)


def remote_names_root(tmp_path: Path, oxigraph_server) -> Path:
    """Two names on the "remote" Oxigraph server, and a data root whose only canned query asks for them."""
    oxigraph_server.load(b'<http://example.org/a> <http://example.org/name> "Alpha" .\n'
                         b'<http://example.org/b> <http://example.org/name> "Beta" .\n', "application/n-triples")
    root = tmp_path / "root"
    (root / "queries").mkdir(parents=True)
    (root / "queries" / "remote-names.rq").write_text(QUERY, encoding="utf-8")
    return root


@pytest.fixture
def federated(tmp_path: Path, make_app, oxigraph_server):
    """An app whose only canned query is federated, with the local Oxigraph server allow-listed."""
    root = remote_names_root(tmp_path, oxigraph_server)
    dead = f"http://127.0.0.1:{free_port()}/query"
    allowlist = {oxigraph_server.query_url: {"timeout": 10.0, "row_cap": 100}, dead: {"timeout": 5.0, "row_cap": 100}}
    app = make_app(DATA_ROOT=str(root), LOAD_DATA=False, SERVICE_ALLOWLIST=allowlist)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT"] = "*/*"
    return client, oxigraph_server.query_url, dead


def names(response) -> list[str]:
    return [b["name"]["value"] for b in response.get_json()["results"]["bindings"]]


def test_the_endpoint_is_chosen_from_the_allow_list(federated):
    client, endpoint, _ = federated
    response = client.get("/queries/remote-names.json", query_string={"endpoint": endpoint})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert names(response) == ["Alpha", "Beta"]


def test_a_value_bound_inside_service_is_sent_as_a_term(federated):
    client, endpoint, _ = federated
    response = client.get("/queries/remote-names.json", query_string={"endpoint": endpoint, "name": "Beta"})
    assert names(response) == ["Beta"]
    injected = client.get("/queries/remote-names.json",
                          query_string={"endpoint": endpoint, "name": 'Beta" } UNION { ?thing ?p ?name } #'})
    assert injected.status_code == 200 and names(injected) == []


def test_an_endpoint_outside_the_allow_list_is_refused(federated):
    client, _, _ = federated
    response = client.get("/queries/remote-names.json", query_string={"endpoint": "http://evil.example/sparql"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == "endpoint" and "expected one of: http://127.0.0.1:" in body["message"]


def test_a_failing_endpoint_is_a_502_naming_the_query(federated):
    client, _, dead = federated
    response = client.get("/queries/remote-names.json", query_string={"endpoint": dead})
    assert response.status_code == 502
    assert "The federated query 'remote-names' failed" in response.get_json()["message"]


def test_federated_answers_are_not_cached(federated):
    client, endpoint, _ = federated
    url = "/queries/remote-names.json"
    assert client.get(url, query_string={"endpoint": endpoint}).headers["X-Cache"] == "MISS"
    assert client.get(url, query_string={"endpoint": endpoint}).headers["X-Cache"] == "MISS"


def test_the_catalog_and_openapi_mark_federated_queries(federated):
    client, endpoint, dead = federated
    entry = client.get("/queries.json").get_json()["queries"][0]
    assert entry["federated"] is True
    operation = client.get("/openapi.json").get_json()["paths"]["/queries/remote-names"]["get"]
    assert operation["x-federated"] is True
    endpoint_param = next(p for p in operation["parameters"] if p["name"] == "endpoint")
    assert sorted(endpoint_param["schema"]["enum"]) == sorted([endpoint, dead])
