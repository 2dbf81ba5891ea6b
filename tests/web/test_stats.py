"""``GET /stats`` (JSON and HTML) and ``dprk-kg stats``: the same figures, from one computation."""

from __future__ import annotations

import pyoxigraph as ox
from click.testing import CliRunner
from conftest import WRITE_TOKEN

from service.cli.main import main
from service.rdf.bundle import load_bundled
from service.store import stats

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_stats_as_json_are_the_figures_of_the_bundled_graph(client):
    response = client.get("/stats", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    offline = stats.compute(stats.in_memory(load_bundled()))
    assert body == offline.to_json(), "the served store's asserted graphs are the bundled files"
    assert body["quads"] > 0 and body["graphs"] > 0
    assert {"class": "skos:Concept", "resources": dict(offline.classes)["skos:Concept"]} in body["classes"]
    assert all(d["document"].startswith("djr:") and d["triples"] > 0 for d in body["documents"])


def test_stats_as_html_for_browsers(client):
    response = client.get("/stats", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    figures = client.get("/stats", headers={"Accept": "application/json"}).get_json()
    assert f"{figures['quads']} quads in {figures['graphs']} named graphs" in html
    assert "skos:Concept" in html and "<script" not in html
    assert "Accept" in response.headers["Vary"]


def test_stats_refuse_what_they_cannot_answer_in_json(client):
    response = client.get("/stats", headers={"Accept": "image/png"})
    assert response.status_code == 406 and response.get_json()["accepted"] == ["application/json", "text/html"]
    response = client.post("/stats")
    assert response.status_code == 405 and response.mimetype == "application/json"


def test_stats_follow_writes(make_app):
    app = make_app(WRITE_TOKEN=WRITE_TOKEN, VALIDATE_WRITES=False)
    client = app.test_client()
    before = client.get("/stats").get_json()
    assert client.get("/stats").get_json() == before
    response = client.put("/store?graph=https://example.org/extra", data=b"<https://example.org/a> "
                          b"<https://example.org/p> <https://example.org/b> .", content_type="text/turtle",
                          headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
    assert response.status_code == 201
    after = client.get("/stats").get_json()
    assert after["quads"] == before["quads"] + 1 and after["graphs"] == before["graphs"] + 1


def test_the_derived_graphs_are_not_counted(make_app):
    with_inferences = make_app(ENTAILMENT="rdfs").test_client().get("/stats").get_json()
    without = stats.compute(stats.in_memory(load_bundled())).to_json()
    assert with_inferences == without


def test_the_cli_prints_the_same_figures():
    result = CliRunner().invoke(main, ["stats"])
    assert result.exit_code == 0, result.output
    figures = stats.compute(stats.in_memory(load_bundled()))
    assert result.output.startswith(f"{figures.quads} quads in {figures.graphs} named graphs\n")
    name, count = figures.classes[0]
    assert f"{count:>9}  {name}" in result.output


def test_the_figures_of_an_empty_store_are_zero():
    assert stats.compute(stats.in_memory(ox.Store())) == stats.Stats(0, 0, [], [])
