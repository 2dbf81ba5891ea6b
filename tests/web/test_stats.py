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
    assert stats.compute(stats.in_memory(ox.Store())) == stats.Stats(0, 0, [], [], [])


DJ = "https://w3id.org/dprk-japan-kg/ontology#"
DJR = "https://w3id.org/dprk-japan-kg/id/"


def planted_store() -> ox.Store:
    """One document graph: an evidenced group, an unevidenced one, a labelled-only person (not fact-bearing),
    the document itself; and a batch graph sent with the document as its source, holding one more fact."""
    from service.rdf.vocabulary import DJ_STATEMENTS_OF, PROVENANCE_GRAPH

    store = ox.Store()
    store.load(f"""
    @prefix dj: <{DJ}> . @prefix djr: <{DJR}> . @prefix oa: <http://www.w3.org/ns/oa#> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix dct: <http://purl.org/dc/terms/> .
    GRAPH djr:doc-x {{
      djr:doc-x a dj:SourceDocument ; dct:title "X"@en .
      djr:done a dj:Group ; rdfs:label "Done"@en ; dj:basedIn djr:city ; dct:source djr:doc-x .
      djr:left a dj:Group ; rdfs:label "Left"@en ; dj:basedIn djr:city ; dct:source djr:doc-x .
      djr:person a dj:Person ; rdfs:label "Named only"@en ; dct:source djr:doc-x .
      djr:doc-x-passage-1-9 a oa:Annotation ; oa:hasBody djr:done ; dct:source djr:doc-x .
    }}
    GRAPH <https://example.org/batch-1> {{ djr:batch-fact a dj:Group ; dj:basedIn djr:city . }}
    GRAPH <{PROVENANCE_GRAPH}> {{
      djr:doc-x <{DJ_STATEMENTS_OF}> djr:doc-x . <https://example.org/batch-1> <{DJ_STATEMENTS_OF}> djr:doc-x .
    }}""", format=ox.RdfFormat.TRIG)
    return store


def test_evidence_coverage_counts_fact_bearing_resources_per_document():
    [coverage] = stats.compute(stats.in_memory(planted_store())).evidence
    assert (coverage.document, coverage.evidenced, coverage.fact_bearing) == ("djr:doc-x", 1, 3)
    assert coverage.missing == ["djr:batch-fact", "djr:left"]
    assert coverage.percent == 33


def test_evidence_coverage_of_the_bundled_data_is_the_one_definition():
    """The figures agree with service.rdf.evidence.fact_bearing_query over the document graphs."""
    from service.rdf.evidence import fact_bearing_query
    from service.rdf.vocabulary import curie

    store = load_bundled()
    figures = stats.compute(stats.in_memory(store))
    expected: dict[str, dict[str, bool]] = {}
    for row in store.query(fact_bearing_query()):
        expected.setdefault(curie(row["g"].value), {})[curie(row["resource"].value)] = row["evidenced"].value == "true"
    got = {c.document: (c.evidenced, c.fact_bearing, c.missing) for c in figures.evidence}
    assert got == {doc: (sum(r.values()), len(r), sorted(k for k, v in r.items() if not v))
                   for doc, r in expected.items()}
    assert {c.document for c in figures.evidence} >= {f"djr:doc-00{n}" for n in range(5)}


def test_the_cli_prints_evidence_coverage_and_lists_what_is_left(tmp_path, monkeypatch):
    figures = stats.compute(stats.in_memory(planted_store()))
    monkeypatch.setattr(stats, "compute", lambda select: figures)
    plain = CliRunner().invoke(main, ["stats"])
    assert plain.exit_code == 0, plain.output
    assert "        1         3  djr:doc-x (33 %, 2 left)" in plain.output
    assert "djr:left" not in plain.output
    listed = CliRunner().invoke(main, ["stats", "--evidence"])
    assert "without evidence in djr:doc-x:\n  djr:batch-fact\n  djr:left\n" in listed.output


def test_the_stats_page_shows_evidence_coverage(client):
    html = client.get("/stats", headers={"Accept": BROWSER}).get_data(as_text=True)
    body = client.get("/stats", headers={"Accept": "application/json"}).get_json()
    assert "Evidence coverage per source document" in html
    for item in body["evidence"]:
        assert item["factBearing"] >= item["evidenced"] >= 0
        for resource in item["missing"]:  # shown as a link to the resource's page
            assert resource.removeprefix("djr:") in html
