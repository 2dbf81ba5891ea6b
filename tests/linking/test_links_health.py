"""Link health against a real SPARQL server holding a Wikidata-shaped sample: our links are all
healthy there, and planted drift — a merged item, a deleted one, one of the wrong kind with another
name — is reported, in text and JSON, with exit code 1."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from service.linking.health import normalize, roughly_agree
from tests.linking_helpers import DJR, REPO, WD, closed_port_url, load_sample, run
from tests.shared_helpers import REFERENCE, needs_shared

PLANTED = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix djr: <https://w3id.org/dprk-japan-kg/id/> .
@prefix wd: <http://www.wikidata.org/entity/> .
djr:japan skos:exactMatch wd:Q9999000010 .
djr:kim-il-sung skos:exactMatch wd:Q9999000011 .
djr:tokyo skos:exactMatch wd:Q9999000003 .
djr:china skos:exactMatch wd:Q148 .
djr:japan skos:exactMatch <http://dbpedia.org/resource/Japan> .
"""


@pytest.fixture
def endpoint(oxigraph_server) -> str:
    return load_sample(oxigraph_server)


def check(endpoint: str, *extra: str):
    return run("link", "check", "--root", str(REPO), "--endpoint", endpoint, "--delay", "0", "--retries", "0",
               "--no-cache", *extra)


def wikidata_ids_in_inventory() -> int:
    with (REFERENCE / "entities.tsv").open(encoding="utf-8") as handle:
        return sum(1 for row in csv.DictReader(handle, delimiter="\t")
                   if row["wikidata_qid"].strip() and row["verified_by"].strip())


@needs_shared(REFERENCE)
def test_our_links_are_healthy(endpoint):
    result = check(endpoint)
    assert result.exit_code == 0, result.output
    assert f"{wikidata_ids_in_inventory()} wikidata links checked" in result.output
    assert "no drift" in result.output


def test_planted_drift_is_reported(endpoint, tmp_path):
    planted = tmp_path / "planted.ttl"
    planted.write_text(PLANTED, encoding="utf-8")
    result = check(endpoint, "--links", str(planted), "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["checked"] == 4, "only the Wikidata links of the file"
    assert report["drifted_links"] == 3
    found = {(d["subject"].removeprefix(DJR), d["target"].removeprefix(WD), d["kind"]): d for d in report["drift"]}
    assert set(found) == {
        ("japan", "Q9999000010", "redirected"),
        ("kim-il-sung", "Q9999000011", "missing"),
        ("tokyo", "Q9999000003", "type"),
        ("tokyo", "Q9999000003", "label"),
    }
    assert found[("japan", "Q9999000010", "redirected")]["replacement"] == WD + "Q17"
    assert "Hiroshi Nakai" in found[("tokyo", "Q9999000003", "label")]["detail"]


def test_the_text_report_lists_each_drift(endpoint, tmp_path):
    planted = tmp_path / "planted.ttl"
    planted.write_text(PLANTED, encoding="utf-8")
    result = check(endpoint, "--links", str(planted))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("REDIRECTED") and "djr:japan" in line and "wd:Q17" in line for line in lines)
    assert any(line.startswith("MISSING") and "djr:kim-il-sung" in line for line in lines)
    assert any(line.startswith("TYPE") and "djr:tokyo" in line for line in lines)
    assert lines[-1].endswith("3 drifted")


def test_an_unreachable_endpoint_is_an_error_not_drift():
    url = closed_port_url()
    result = check(url)
    assert result.exit_code == 2
    assert url in result.output and "cannot connect" in result.output


def test_an_unreadable_links_file_is_refused(endpoint, tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text("djr:japan skos:exactMatch", encoding="utf-8")
    result = check(endpoint, "--links", str(broken))
    assert result.exit_code == 2
    assert str(broken) in result.output


@pytest.mark.parametrize(("ours", "theirs", "agree"), [
    (["Kim Il-sung"], ["Kim Il Sung"], True),
    (["China"], ["People's Republic of China"], True),
    (["Abduction issue"], ["North Korean abductions of Japanese citizens"], True),
    (["Korea"], ["Korea"], True),
    (["平壤"], ["平壤"], True),
    (["Tokyo"], ["Hiroshi Nakai"], False),
    (["United Nations"], ["Sea of Japan"], False),
])
def test_labels_roughly_agree(ours, theirs, agree):
    assert roughly_agree(ours, theirs) is agree


def test_normalization_folds_case_accents_and_punctuation():
    assert normalize("Hà Nội") == normalize("ha noi")
    assert normalize("Kim Jong-un") == normalize("KIM JONG UN")


def test_the_sample_is_marked_as_a_test_fixture():
    text = (REPO / "tests" / "fixtures" / "wikidata-sample.ttl").read_text(encoding="utf-8")
    assert text.startswith("# TEST FIXTURE — NOT DATA.")
    data = " ".join(p.read_text(encoding="utf-8") for p in (REPO / "data").glob("*.trig"))
    assert "Q99990000" not in data, "fictitious test items must never reach the data"


def test_every_verified_wikidata_item_is_in_the_sample():
    """The offline tests cover every link: the sample has each item our data links to."""
    import pyoxigraph as ox

    sample = {q.subject.value for q in ox.parse(path=str(Path(REPO / "tests" / "fixtures" / "wikidata-sample.ttl")),
                                                   format=ox.RdfFormat.TURTLE)}
    links = {q.object.value for q in ox.parse(path=str(REPO / "data" / "links.trig"), format=ox.RdfFormat.TRIG)
             if q.predicate.value == "http://www.w3.org/2004/02/skos/core#exactMatch" and q.object.value.startswith(WD)}
    assert links <= sample, sorted(links - sample)


DBPEDIA_SAMPLE = b"""\
@prefix dbr: <http://dbpedia.org/resource/> .
@prefix dbo: <http://dbpedia.org/ontology/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
dbr:Japan a owl:Thing , dbo:Place , dbo:PopulatedPlace , dbo:Country ;
    rdfs:label "Japan"@en , "\xe6\x97\xa5\xe6\x9c\xac"@ja .
dbr:Nippon dbo:wikiPageRedirects dbr:Japan .
dbr:Global_Times a owl:Thing ; rdfs:label "Global Times"@en .
"""


def test_dbpedia_links_are_checked_with_dbpedia_conventions(oxigraph_server, tmp_path):
    oxigraph_server.load(DBPEDIA_SAMPLE, "text/turtle")
    planted = tmp_path / "planted.ttl"
    planted.write_text("""\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix djr: <https://w3id.org/dprk-japan-kg/id/> .
djr:japan skos:exactMatch <http://dbpedia.org/resource/Japan> .
djr:south-korea skos:exactMatch <http://dbpedia.org/resource/Nippon> .
djr:global-times skos:exactMatch <http://dbpedia.org/resource/Global_Times> .
djr:china skos:exactMatch <http://www.wikidata.org/entity/Q148> .
""", encoding="utf-8")
    result = check(oxigraph_server.query_url, "--dataset", "dbpedia", "--links", str(planted), "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["checked"] == 3, "only the DBpedia links"
    kinds = {(d["subject"].removeprefix(DJR), d["kind"]) for d in report["drift"]}
    # Nippon redirects to Japan, whose names do not fit South Korea; Global Times has no DBpedia-ontology
    # class at all, which is not drift; Japan is fine.
    assert kinds == {("south-korea", "redirected"), ("south-korea", "label")}
