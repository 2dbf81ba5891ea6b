"""Federated canned queries enrich our resources with facts from an allow-listed endpoint — here a real
Oxigraph server holding a Wikidata-shaped sample — joined on our links; a failing endpoint degrades
(SERVICE SILENT) or fails with a message (SERVICE), never hangs; endpoints not on the allow-list are
refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from service.canned.header import load_queries
from service.config import DEFAULT_SERVICE_ALLOWLIST
from tests.linking_helpers import DJR, REPO, WD, closed_port_url, data_root, load_sample, silent_endpoint

FEDERATED = sorted((REPO / "queries").glob("federated-*.rq"))
SELECT_JSON = {"Accept": "application/sparql-results+json"}
#: Plain JSON: results in SPARQL JSON, errors as a JSON object (message, parameter).
JSON = {"Accept": "application/json"}


def rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in response.get_json()["results"]["bindings"]]


@pytest.fixture
def endpoint(oxigraph_server) -> str:
    return load_sample(oxigraph_server)


@pytest.fixture
def client(make_app, tmp_path: Path, endpoint: str) -> Any:
    """The service over the bundled data with the federated queries, allow-listing the sample server
    (10 s, 1000 rows), an endpoint that refuses connections and one that never answers (1 s)."""
    root = data_root(tmp_path, queries=FEDERATED, real_data=True)
    dead = closed_port_url()
    with silent_endpoint() as silent:
        app = make_app(DATA_ROOT=str(root), SERVICE_ALLOWLIST={
            endpoint: {"timeout": 10, "row_cap": 1000},
            dead: {"timeout": 5, "row_cap": 100},
            silent: {"timeout": 1, "row_cap": 100},
        })
        test_client = app.test_client()
        test_client.dead, test_client.silent = dead, silent
        yield test_client


def expected_capitals() -> dict[str, tuple[str, str | None]]:
    """Our state → (its capital in the sample, our resource for that capital), from the files."""
    sample = list(ox.parse(path=str(REPO / "tests" / "fixtures" / "wikidata-sample.ttl"), format=ox.RdfFormat.TURTLE))
    capital = {q.subject.value: q.object.value for q in sample
               if q.predicate.value == "http://www.wikidata.org/prop/direct/P36"}
    links = [q for q in ox.parse(path=str(REPO / "data" / "links.trig"), format=ox.RdfFormat.TRIG)
             if q.predicate.value == "http://www.w3.org/2004/02/skos/core#exactMatch"]
    ours = {q.object.value: q.subject.value for q in links}
    return {ours[item]: (cap, ours.get(cap)) for item, cap in capital.items() if item in ours}


def test_the_federated_queries_are_well_formed_and_allow_listed_by_default():
    queries = load_queries(REPO / "queries", DEFAULT_SERVICE_ALLOWLIST)
    federated = {name for name, query in queries.items() if query.federated}
    assert federated == {path.stem for path in FEDERATED} and len(federated) >= 2


def test_capitals_are_joined_with_our_states_and_places(client, endpoint):
    found = rows(client.get("/queries/federated-state-capitals", query_string={"endpoint": endpoint},
                            headers=SELECT_JSON))
    joined = {r["state"]: (r.get("capital"), r.get("our_capital")) for r in found if "capital" in r}
    assert joined == expected_capitals()
    assert joined[DJR + "japan"] == (WD + "Q1490", DJR + "tokyo")
    assert joined[DJR + "north-korea"] == (WD + "Q18808", DJR + "pyongyang")
    labels = {r["state"]: r.get("capital_label") for r in found}
    assert labels[DJR + "united-states"] == "Washington, D.C."
    assert {r["state"] for r in found} >= {DJR + "mongolia", DJR + "singapore"}, "states without a capital stay"


def test_a_silent_service_failure_keeps_our_rows(client):
    found = rows(client.get("/queries/federated-state-capitals", query_string={"endpoint": client.dead},
                            headers=SELECT_JSON))
    assert {r["state"] for r in found} >= {DJR + "japan", DJR + "north-korea"}
    assert not [r for r in found if "capital" in r or "our_capital" in r], "nothing invented, nothing cross-joined"


def test_heads_of_state_with_their_birth_dates(client, endpoint):
    found = rows(client.get("/queries/federated-heads-of-state", query_string={"endpoint": endpoint},
                            headers=SELECT_JSON))
    births = {r["entity"]: (r["person"], r["birth_date"][:10], r["role"]) for r in found}
    assert births == {
        DJR + "barack-obama": (WD + "Q76", "1961-08-04", "head of state"),
        DJR + "donald-trump": (WD + "Q22686", "1946-06-14", "head of state"),
        DJR + "joe-biden": (WD + "Q6279", "1942-11-20", "head of state"),
    }


def test_a_state_our_graph_does_not_link_is_refused(client, endpoint):
    response = client.get("/queries/federated-heads-of-state", query_string={"endpoint": endpoint,
                                                                             "state": "wd:Q9999000001"},
                          headers=JSON)
    assert response.status_code == 400
    assert "state" in response.get_json()["message"]


def test_a_failing_service_is_an_error_that_says_so(client):
    response = client.get("/queries/federated-heads-of-state", query_string={"endpoint": client.dead},
                          headers=JSON)
    assert response.status_code == 502
    assert response.get_json()["message"]


def test_a_silent_endpoint_is_cut_off_at_its_time_limit(client):
    response = client.get("/queries/federated-heads-of-state", query_string={"endpoint": client.silent},
                          headers=SELECT_JSON)
    assert response.status_code == 502, response.get_data(as_text=True)  # the remote failed, not the service
    assert f"SERVICE <{client.silent}>" in response.get_json()["message"]


def test_an_endpoint_not_on_the_allow_list_is_refused(client):
    elsewhere = closed_port_url()
    response = client.get("/queries/federated-state-capitals", query_string={"endpoint": elsewhere},
                          headers=JSON)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == "endpoint" and elsewhere in body["message"]


def test_sparql_service_to_an_allowed_endpoint_joins(client, endpoint):
    query = f"""
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX wdt: <http://www.wikidata.org/prop/direct/>
        SELECT ?state ?birth WHERE {{
          SERVICE <{endpoint}> {{ ?item wdt:P569 ?birth }}
          ?state skos:exactMatch ?item .
        }} ORDER BY ?birth"""
    found = rows(client.post("/sparql", data={"query": query}, headers=SELECT_JSON))
    assert [r["state"].removeprefix(DJR) for r in found] == [
        "kim-il-sung", "junichiro-koizumi", "joe-biden", "donald-trump", "shinzo-abe", "barack-obama"]


def test_sparql_service_elsewhere_is_refused(client):
    elsewhere = closed_port_url()
    query = f"SELECT * WHERE {{ SERVICE <{elsewhere}> {{ ?s ?p ?o }} }}"
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 400
    assert elsewhere in response.get_data(as_text=True)
