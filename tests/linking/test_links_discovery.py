"""Link discovery and review, against a real SPARQL server (standalone Oxigraph) holding a sample in
Wikidata's shape: the right candidates are found and ranked, a review becomes links only after the
checks pass, rejected candidates are not proposed again, and the client is polite and cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.linking.client import EndpointError, SparqlClient
from tests.linking_helpers import (
    DJR,
    WD,
    candidate_records,
    closed_port_url,
    data_root,
    load_sample,
    parse,
    run,
    set_status,
)

SKOS_EXACT = "http://www.w3.org/2004/02/skos/core#exactMatch"
DJ = "https://w3id.org/dprk-japan-kg/ontology#"

TEST_DATA = """
GRAPH djr:doc-test {
  djr:hiroshi-nakai a dj:Person ; rdfs:label "Hiroshi Nakai"@en , "中井洽"@zh ;
      dj:birthDate "1942"^^xsd:gYear ; dct:source djr:doc-test .
  djr:kim-jong-un a dj:Person ; rdfs:label "Kim Jong-un"@en , "김정은"@ko ; dct:source djr:doc-test .
  djr:japan a dj:State ; rdfs:label "Japan"@en , "日本"@ja ; dct:source djr:doc-test .
  djr:song-il-ho a dj:Person ; rdfs:label "Song Il-ho"@en ; dct:source djr:doc-test .
  djr:tokyo a dj:City ; rdfs:label "Tokyo"@en ; skos:exactMatch wd:Q1490 ; dct:source djr:doc-test .
  djr:sino-nk a dj:MediaOrganization ; rdfs:label "Sino-NK"@en ; dct:source djr:doc-test .
}
"""


@pytest.fixture
def endpoint(oxigraph_server) -> str:
    return load_sample(oxigraph_server)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return data_root(tmp_path, TEST_DATA)


def discover(root: Path, endpoint: str, out: Path, *extra: str):
    return run("link", "discover", "--root", str(root), "--endpoint", endpoint, "--delay", "0", "--retries", "0",
               "--no-cache", "--output", str(out), *extra)


def test_candidates_are_found_by_labels_in_several_languages_and_ranked(root, endpoint, tmp_path):
    out = tmp_path / "candidates.ttl"
    result = discover(root, endpoint, out)
    assert result.exit_code == 0, result.output
    found = candidate_records(out)
    scores = {(s.removeprefix(DJR), t.removeprefix(WD)): (float(r["matchScore"]), int(r["matchRank"]))
              for (s, t), r in found.items()}
    assert scores == {
        # label in English and (Han script) Japanese, a human, born 1942: the right one first
        ("hiroshi-nakai", "Q9999000001"): (1.0, 1),
        # the namesake born in 1970 ranks below; the film of the same name is dropped (wrong type)
        ("hiroshi-nakai", "Q9999000002"): (0.4, 2),
        # our Korean label is its label (our English label only one of its aliases)
        ("kim-jong-un", "Q56226"): (0.9, 1),
        ("japan", "Q17"): (0.9, 1),
        # found through an alias only
        ("song-il-ho", "Q9999000004"): (0.7, 1),
    }
    assert all(r["linkStatus"] == "candidate" for r in found.values())
    evidence = found[(DJR + "hiroshi-nakai", WD + "Q9999000002")]["evidence"]
    assert "birth year differs: ours 1942, its 1970" in evidence
    assert any("type fits a state" in e for e in found[(DJR + "japan", WD + "Q17")]["evidence"])


def test_candidates_are_never_asserted_as_links(root, endpoint, tmp_path):
    out = tmp_path / "candidates.ttl"
    assert discover(root, endpoint, out).exit_code == 0
    quads = parse(out)
    assert not [q for q in quads if q.predicate.value == SKOS_EXACT]
    assert {q.predicate.value for q in quads if q.subject.value == DJR + "hiroshi-nakai"} == {DJ + "candidateMatch"}


def test_linked_resources_are_not_searched_and_unmatched_ones_get_nothing(root, endpoint, tmp_path):
    out = tmp_path / "candidates.ttl"
    result = discover(root, endpoint, out)
    subjects = {s for s, _ in candidate_records(out)}
    assert DJR + "tokyo" not in subjects, "tokyo already has a Wikidata link"
    assert DJR + "sino-nk" not in subjects
    assert "5 resources without a Wikidata link" in result.output


def test_only_the_resources_asked_for(root, endpoint, tmp_path):
    out = tmp_path / "candidates.ttl"
    result = discover(root, endpoint, out, "--entity", "djr:japan")
    assert result.exit_code == 0, result.output
    assert {s for s, _ in candidate_records(out)} == {DJR + "japan"}


def test_an_unknown_entity_is_refused(root, endpoint, tmp_path):
    result = discover(root, endpoint, tmp_path / "c.ttl", "--entity", "djr:atlantis")
    assert result.exit_code == 2
    assert "atlantis" in result.output and "--entity" in result.output


def test_a_reviewed_file_becomes_links_and_rejections_are_remembered(root, endpoint, tmp_path):
    review = tmp_path / "candidates.ttl"
    assert discover(root, endpoint, review).exit_code == 0
    reviewed = set_status(review, {
        (DJR + "hiroshi-nakai", WD + "Q9999000001"): "accepted",
        (DJR + "hiroshi-nakai", WD + "Q9999000002"): "rejected",
        (DJR + "kim-jong-un", WD + "Q56226"): "rejected",
    }, tmp_path / "reviewed.ttl")
    result = run("link", "apply", "--root", str(root), str(reviewed))
    assert result.exit_code == 0, result.output
    assert "1 accepted, 2 rejected, 2 still to review" in result.output

    links = parse(root / "data" / "links.trig")
    exact = {(q.subject.value, q.object.value) for q in links if q.predicate.value == SKOS_EXACT}
    assert exact == {(DJR + "hiroshi-nakai", WD + "Q9999000001")}
    statuses = {(r["linkSubject"], r["linkTarget"]): r["linkStatus"]
                for r in candidate_records(root / "data" / "links.trig").values()}
    assert statuses == {(DJR + "hiroshi-nakai", WD + "Q9999000001"): "accepted",
                        (DJR + "hiroshi-nakai", WD + "Q9999000002"): "rejected",
                        (DJR + "kim-jong-un", WD + "Q56226"): "rejected"}
    record = next(r for r in candidate_records(root / "data" / "links.trig").values()
                  if r["linkStatus"] == "accepted")
    assert record["linkRelation"] == SKOS_EXACT
    assert any(q.predicate.value == "http://purl.org/dc/terms/source"
               and q.object.value.startswith(DJR + "link-discovery-") for q in links), "provenance: the run"

    again = tmp_path / "again.ttl"
    assert discover(root, endpoint, again).exit_code == 0
    pairs = set(candidate_records(again))
    assert not {p for p in pairs if p[0] == DJR + "hiroshi-nakai"}, "now linked: no longer searched"
    assert (DJR + "kim-jong-un", WD + "Q56226") not in pairs, "a rejected candidate is not proposed again"
    assert (DJR + "japan", WD + "Q17") in pairs


def test_applying_twice_changes_nothing(root, endpoint, tmp_path):
    review = tmp_path / "candidates.ttl"
    discover(root, endpoint, review)
    reviewed = set_status(review, {(DJR + "japan", WD + "Q17"): "accepted"}, tmp_path / "reviewed.ttl")
    assert run("link", "apply", "--root", str(root), str(reviewed)).exit_code == 0
    first = (root / "data" / "links.trig").read_bytes()
    assert run("link", "apply", "--root", str(root), str(reviewed)).exit_code == 0
    assert (root / "data" / "links.trig").read_bytes() == first


@pytest.mark.parametrize(("target", "expected"), [
    # tokyo is already linked to Q1490: two resources for one Wikidata item
    ("http://www.wikidata.org/entity/Q1490", "same Wikidata entity"),
    # a wiki page URL, not an entity IRI
    ("https://www.wikidata.org/wiki/Q17", "Wikidata entity IRI"),
])
def test_a_review_that_breaks_a_shape_is_not_applied(root, endpoint, tmp_path, target, expected):
    review = tmp_path / "candidates.ttl"
    discover(root, endpoint, review)
    reviewed = set_status(review, {(DJR + "japan", WD + "Q17"): "accepted"}, tmp_path / "reviewed.ttl")
    reviewed.write_text(reviewed.read_text(encoding="utf-8").replace(f"<{WD}Q17>", f"<{target}>"),
                        encoding="utf-8")
    links = root / "data" / "links.trig"
    result = run("link", "apply", "--root", str(root), str(reviewed))
    assert result.exit_code == 1
    assert "not applied" in result.output and expected in result.output
    assert not links.exists(), "nothing was written"


def test_a_review_about_an_unknown_resource_is_not_applied(root, endpoint, tmp_path):
    review = tmp_path / "candidates.ttl"
    discover(root, endpoint, review)
    reviewed = set_status(review, {(DJR + "japan", WD + "Q17"): "accepted"}, tmp_path / "reviewed.ttl")
    reviewed.write_text(reviewed.read_text(encoding="utf-8").replace(f"<{DJR}japan>", f"<{DJR}atlantis>"),
                        encoding="utf-8")
    result = run("link", "apply", "--root", str(root), str(reviewed))
    assert result.exit_code == 1
    assert f"<{DJR}atlantis> is not a resource of the data" in result.output
    assert not (root / "data" / "links.trig").exists()


def test_an_unknown_status_names_the_record(root, endpoint, tmp_path):
    review = tmp_path / "candidates.ttl"
    discover(root, endpoint, review)
    reviewed = set_status(review, {(DJR + "japan", WD + "Q17"): "acepted"}, tmp_path / "reviewed.ttl")
    result = run("link", "apply", "--root", str(root), str(reviewed))
    assert result.exit_code == 2
    assert "link-candidate-japan-Q17" in result.output and "'acepted'" in result.output


def test_an_unreadable_review_file_is_reported_with_its_position(root, tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix dj: <https://w3id.org/dprk-japan-kg/ontology#> .\n<a> dj:linkStatus \n",
                      encoding="utf-8")
    result = run("link", "apply", "--root", str(root), str(broken))
    assert result.exit_code == 2
    assert str(broken) in result.output and "not valid Turtle" in result.output


def test_answers_come_from_the_disk_cache_when_the_endpoint_is_gone(root, oxigraph_server, tmp_path):
    endpoint = load_sample(oxigraph_server)
    cache = tmp_path / "cache"
    common = ["link", "discover", "--root", str(root), "--endpoint", endpoint, "--delay", "0", "--retries", "0",
              "--cache-dir", str(cache)]
    first = run(*common, "--output", str(tmp_path / "first.ttl"))
    assert first.exit_code == 0 and "0 answered from the cache" in first.output
    oxigraph_server.stop()
    second = run(*common, "--output", str(tmp_path / "second.ttl"))
    assert second.exit_code == 0, second.output
    assert "(0 requests" in second.output
    assert candidate_records(tmp_path / "first.ttl").keys() == candidate_records(tmp_path / "second.ttl").keys()
    uncached = run("link", "discover", "--root", str(root), "--endpoint", endpoint, "--delay", "0", "--retries", "0",
                   "--no-cache", "--output", str(tmp_path / "third.ttl"))
    assert uncached.exit_code == 2
    assert endpoint in uncached.output and "cannot connect" in uncached.output


def test_the_client_backs_off_between_retries_and_names_the_endpoint():
    url = closed_port_url()
    waits: list[float] = []
    client = SparqlClient(url, retries=2, backoff=2.0, delay=0, sleep=waits.append)
    with pytest.raises(EndpointError) as caught:
        client.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert waits == [2.0, 4.0], "exponential back-off"
    assert url in str(caught.value) and "3 attempt(s)" in str(caught.value)


def test_the_client_names_itself(endpoint):
    client = SparqlClient(endpoint, delay=0)
    assert client.user_agent.startswith("dprk-japan-kg/")
    assert "https://w3id.org/dprk-japan-kg" in client.user_agent


def test_a_query_the_endpoint_refuses_is_not_retried(endpoint):
    waits: list[float] = []
    client = SparqlClient(endpoint, retries=3, delay=0, sleep=waits.append)
    with pytest.raises(EndpointError) as caught:
        client.select("SELECT * WHERE { ?s ?p }")
    assert "refused the query" in str(caught.value)
    assert waits == []


def test_a_bad_endpoint_url_is_refused(root, tmp_path):
    result = run("link", "discover", "--root", str(root), "--endpoint", "ftp://example.org/sparql",
                 "--output", str(tmp_path / "c.ttl"))
    assert result.exit_code == 2
    assert "--endpoint" in result.output and "ftp://example.org/sparql" in result.output


def test_a_review_can_be_applied_to_a_running_service(endpoint, make_live_server, tmp_path):
    import json
    import urllib.parse
    import urllib.request

    server = make_live_server("--write-token", "test-write-token")
    review = tmp_path / "candidates.ttl"
    assert run("link", "discover", "--endpoint", endpoint, "--delay", "0", "--retries", "0", "--no-cache",
               "--entity", "djr:hiroshi-nakai", "--output", str(review)).exit_code == 0
    reviewed = set_status(review, {(DJR + "hiroshi-nakai", WD + "Q9999000001"): "accepted"}, tmp_path / "r.ttl")
    refused = run("link", "apply", str(reviewed), "--service", server.url, "--token", "wrong-token")
    assert refused.exit_code == 1 and "HTTP 403" in refused.output
    result = run("link", "apply", str(reviewed), "--service", server.url, "--token", "test-write-token")
    assert result.exit_code == 0, result.output
    ask = (f"ASK {{ GRAPH <https://w3id.org/dprk-japan-kg/graph/links> {{ <{DJR}hiroshi-nakai> "
           f"<{SKOS_EXACT}> <{WD}Q9999000001> }} }}")
    url = server.sparql + "?" + urllib.parse.urlencode({"query": ask})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request) as response:
        assert json.load(response)["boolean"] is True
