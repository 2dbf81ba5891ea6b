"""data/links.trig says exactly what the reference inventory verified — every identifier, nothing more —
each link with its provenance record, in the IRI forms Wikidata and DBpedia use."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from service.linking.linkfile import INVENTORY_IRI
from service.rdf.bundle import load_bundled
from service.rdf.vocabulary import LINKS_GRAPH, ONTOLOGY_NS, RESOURCE_NS
from tests.shared_helpers import REFERENCE, needs_shared

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REFERENCE / "entities.tsv"
LINKS = REPO / "data" / "links.trig"
SKOS_EXACT = "http://www.w3.org/2004/02/skos/core#exactMatch"
OWL_SAMEAS = "http://www.w3.org/2002/07/owl#sameAs"
CANDIDATE = ONTOLOGY_NS + "candidateMatch"
DJ = ONTOLOGY_NS
WD = "http://www.wikidata.org/entity/"
DBR = "http://dbpedia.org/resource/"

sys.path.insert(0, str(REPO / "scripts"))
import make_links  # noqa: E402


def inventory_rows() -> list[dict[str, str]]:
    with INVENTORY.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def verified_links() -> set[tuple[str, str]]:
    """(our IRI, external IRI) for every identifier the inventory marks as verified, read independently."""
    expected = set()
    for row in inventory_rows():
        verified_by = row["verified_by"].strip()
        if not verified_by or verified_by.lower().startswith("candidate"):
            continue
        subject = RESOURCE_NS + row["id"].replace("_", "-")
        if row["wikidata_qid"].strip():
            expected.add((subject, WD + row["wikidata_qid"].strip()))
        if row["dbpedia_resource"].strip():
            expected.add((subject, DBR + row["dbpedia_resource"].strip().replace(" ", "_")))
    return expected


@pytest.fixture(scope="module")
def quads() -> list[ox.Quad]:
    return list(ox.parse(path=str(LINKS), format=ox.RdfFormat.TRIG))


def records(quads: list[ox.Quad]) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for quad in quads:
        out.setdefault(quad.subject.value, {}).setdefault(quad.predicate.value, []).append(quad.object.value)
    return {s: props for s, props in out.items()
            if DJ + "ExternalLink" in props.get("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", [])}


@needs_shared(REFERENCE)
def test_every_verified_identifier_is_linked_and_nothing_else_is_asserted(quads):
    expected = verified_links()
    assert len(expected) >= 70, "the inventory verifies 73 identifiers; the reader above must find them"
    asserted = {(q.subject.value, q.object.value) for q in quads if q.predicate.value == SKOS_EXACT}
    reviewed = {(r[DJ + "linkSubject"][0], r[DJ + "linkTarget"][0]) for r in records(quads).values()
                if r.get(DJ + "linkStatus") == ["accepted"]}
    assert asserted - reviewed == expected
    assert not [q for q in quads if q.predicate.value == OWL_SAMEAS], "identity links (owl:sameAs) are not used"


@needs_shared(REFERENCE)
def test_the_inventory_wikidata_and_dbpedia_counts(quads):
    rows = inventory_rows()
    wikidata = {r["id"] for r in rows if r["wikidata_qid"].strip() and r["verified_by"].strip()}
    dbpedia = {r["id"] for r in rows if r["dbpedia_resource"].strip() and r["verified_by"].strip()}
    links = [q for q in quads if q.predicate.value == SKOS_EXACT]
    assert sum(q.object.value.startswith(WD) for q in links) == len(wikidata)
    assert sum(q.object.value.startswith(DBR) for q in links) == len(dbpedia)


def test_every_quad_is_in_the_links_graph(quads):
    assert {q.graph_name.value for q in quads} == {LINKS_GRAPH}


def test_each_link_has_one_provenance_record(quads):
    by_link: dict[tuple[str, str], list[dict[str, list[str]]]] = {}
    for record in records(quads).values():
        by_link.setdefault((record[DJ + "linkSubject"][0], record[DJ + "linkTarget"][0]), []).append(record)
    for quad in quads:
        if quad.predicate.value != SKOS_EXACT:
            continue
        found = by_link.get((quad.subject.value, quad.object.value), [])
        assert len(found) == 1, f"{quad} needs exactly one dj:ExternalLink record, has {len(found)}"
        record = found[0]
        assert record[DJ + "linkRelation"] == [SKOS_EXACT]
        assert record[DJ + "linkStatus"] in (["verified"], ["accepted"])
        assert record["http://purl.org/dc/terms/source"], "a record names its source"
        assert record["http://www.w3.org/ns/prov#generatedAtTime"], "a record says when the link was made"
        assert record[DJ + "verificationNote"], "a record says how the link was checked"
        if record[DJ + "linkStatus"] == ["verified"]:
            assert record["http://purl.org/dc/terms/source"] == [INVENTORY_IRI]


def test_the_reference_inventory_is_described(quads):
    described = {q.predicate.value for q in quads if q.subject.value == INVENTORY_IRI}
    assert "http://www.w3.org/2000/01/rdf-schema#label" in described
    assert "http://purl.org/dc/terms/description" in described


def test_every_linked_resource_is_a_resource_of_the_data(quads):
    store = load_bundled(REPO)
    described = {q.subject.value for q in store.quads_for_pattern(None, None, None, None)
                 if q.graph_name.value.startswith(RESOURCE_NS + "doc-")}
    linked = {q.subject.value for q in quads if q.predicate.value in (SKOS_EXACT, CANDIDATE)}
    assert linked <= described, f"links from resources no document describes: {sorted(linked - described)}"


@pytest.mark.parametrize(("name", "iri"), [
    ("Workers'_Party_of_Korea", "http://dbpedia.org/resource/Workers'_Party_of_Korea"),
    ("Japan–North_Korea_relations", "http://dbpedia.org/resource/Japan–North_Korea_relations"),
    ("Korean People's Army", "http://dbpedia.org/resource/Korean_People's_Army"),
    ("What?", "http://dbpedia.org/resource/What%3F"),
    ("C#_(language)", "http://dbpedia.org/resource/C%23_(language)"),
    ("100%", "http://dbpedia.org/resource/100%25"),
])
def test_dbpedia_iris_are_written_as_dbpedia_writes_them(name, iri):
    assert make_links.dbpedia_iri(name) == iri


def test_apostrophes_and_dashes_stay_raw_in_the_file():
    text = LINKS.read_text(encoding="utf-8")
    assert "<http://dbpedia.org/resource/Korean_People's_Army>" in text
    assert "<http://dbpedia.org/resource/Japan–North_Korea_relations>" in text
    assert "%27" not in text and "%E2%80%93" not in text


@pytest.mark.slow  # runs a subprocess
@needs_shared(REFERENCE)
def test_the_file_is_what_the_script_generates():
    result = subprocess.run([sys.executable, "scripts/make_links.py", "--check"], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


@needs_shared(REFERENCE)
def test_generation_is_deterministic_and_keeps_link_times(tmp_path):
    target = tmp_path / "links.trig"
    first = make_links.generate(INVENTORY, target, now="2000-01-01T00:00:00Z")
    target.write_text(first, encoding="utf-8")
    second = make_links.generate(INVENTORY, target, now="2099-01-01T00:00:00Z")
    assert first == second, "an unchanged inventory must give the same file, times included"


@pytest.mark.slow  # runs a subprocess
def test_a_malformed_identifier_names_file_and_line(tmp_path):
    bad = tmp_path / "entities.tsv"
    bad.write_text("id\tkind\tlabel\twikidata_qid\tdbpedia_resource\tverified_by\n"
                   "japan\tState\tJapan\tQ17\tJapan\tconfirmed\n"
                   "rgb\tIntelligenceAgency\tRGB\twd:Q99\t\tconfirmed\n", encoding="utf-8")
    out = tmp_path / "links.trig"
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "make_links.py"), "--inventory", str(bad),
                             "--output", str(out)], capture_output=True, text=True)
    assert result.returncode == 2
    assert f"{bad}:3" in result.stderr and "wd:Q99" in result.stderr
    assert not out.exists(), "nothing is written when the inventory is malformed"


def test_candidate_only_identifiers_become_candidates_not_links(tmp_path):
    inventory = tmp_path / "entities.tsv"
    inventory.write_text("id\tkind\tlabel\twikidata_qid\tdbpedia_resource\tverified_by\n"
                         "japan\tState\tJapan\tQ17\t\tconfirmed in public sources\n"
                         "jilin\tPlace\tJilin\tQ9999000099\t\tcandidate only: identifier not verified\n",
                         encoding="utf-8")
    text = make_links.generate(inventory, tmp_path / "links.trig", now="2000-01-01T00:00:00Z")
    quads = list(ox.parse(text.encode(), format=ox.RdfFormat.TRIG))
    exact = {(q.subject.value, q.object.value) for q in quads if q.predicate.value == SKOS_EXACT}
    candidates = {(q.subject.value, q.object.value) for q in quads if q.predicate.value == CANDIDATE}
    assert exact == {(RESOURCE_NS + "japan", WD + "Q17")}
    assert candidates == {(RESOURCE_NS + "jilin", WD + "Q9999000099")}
    statuses = {r[DJ + "linkSubject"][0]: r[DJ + "linkStatus"][0] for r in records(quads).values()}
    assert statuses == {RESOURCE_NS + "japan": "verified", RESOURCE_NS + "jilin": "candidate"}


def test_the_links_graph_passes_the_shapes(quads):
    import rdflib
    from pyshacl import validate

    from service.rdf.terms import to_rdflib

    data = rdflib.Graph().parse(REPO / "ontology" / "dprk-japan.ttl", format="turtle")
    for quad in quads:
        data.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    shapes = rdflib.Graph().parse(REPO / "ontology" / "shapes.ttl", format="turtle")
    conforms, _, text = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms, text
