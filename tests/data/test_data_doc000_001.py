"""Checks on the curated facts of doc-000 (Sino-NK translation) and doc-001 (Global Times).

Why these tests exist: users query the graph per document ("which documents say X?") and trust
that every fact is read from the seed text at the precision it gives. The tests pin the
properties that make that true for these two files: one named graph per document, shapes
conformance, a self-contained graph (every object typed inside it), labels and variant spellings
that really occur in the seed text, dates at the text's precision, and the cross-document
differences the corpus is interesting for (reparations "as much as" vs "over" $10 billion,
the unnamed vs named Japanese delegate in November 2012).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from pyshacl import validate
from rdflib import RDF, RDFS, Literal, Namespace, URIRef
from rdflib.namespace import SH, SKOS, XSD

from tests.shared_helpers import SEEDS, needs_shared

REPO = Path(__file__).resolve().parents[2]
DJ = Namespace("https://w3id.org/dprk-japan-kg/ontology#")
DJR = Namespace("https://w3id.org/dprk-japan-kg/id/")
DCT = Namespace("http://purl.org/dc/terms/")
SCHEMA = Namespace("https://schema.org/")

DOCS = {
    "doc-000": "000_071235811020e576.txt",
    "doc-001": "001_41b290792f5b8234.txt",
}


def load_graph(doc: str) -> rdflib.Graph:
    """Parse data/<doc>.trig and return its only non-empty named graph (asserted to be the doc's)."""
    dataset = rdflib.Dataset()
    dataset.parse(REPO / "data" / f"{doc}.trig", format="trig")
    graphs = [g for g in dataset.graphs() if len(g)]
    assert [g.identifier for g in graphs] == [DJR[doc]], f"{doc}.trig must hold exactly GRAPH djr:{doc}"
    return graphs[0]


@pytest.fixture(scope="module", params=sorted(DOCS))
def doc(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def graphs() -> dict[str, rdflib.Graph]:
    return {name: load_graph(name) for name in DOCS}


def seed_text(doc: str) -> str:
    """The seed text with typographic apostrophes and no-break spaces made plain, as labels write them."""
    return (SEEDS / DOCS[doc]).read_text(encoding="utf-8").replace("\u2019", "'").replace("\xa0", " ")


def test_file_parses_with_oxigraph_into_one_named_graph(doc: str) -> None:
    store = pyoxigraph.Store()
    store.load(path=str(REPO / "data" / f"{doc}.trig"), format=pyoxigraph.RdfFormat.TRIG)
    names = {quad.graph_name for quad in store}
    assert names == {pyoxigraph.NamedNode(str(DJR[doc]))}
    assert len(store) == len(load_graph(doc))


@pytest.mark.slow  # runs pySHACL over the whole graph: long
def test_graph_conforms_to_shapes(doc: str, graphs: dict[str, rdflib.Graph]) -> None:
    shapes = rdflib.Graph().parse(REPO / "ontology" / "shapes.ttl")
    ontology = rdflib.Graph().parse(REPO / "ontology" / "dprk-japan.ttl")
    data = rdflib.Graph()
    for triple in graphs[doc]:
        data.add(triple)
    _, report, text = validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True, allow_warnings=True
    )
    violations = [r for r in report.subjects(RDF.type, SH.ValidationResult)
                  if report.value(r, SH.resultSeverity) == SH.Violation]
    assert violations == [], text


@pytest.mark.slow  # runs pySHACL over the whole graph: long
def test_shapes_catch_a_round_with_one_side(graphs: dict[str, rdflib.Graph]) -> None:
    """Removing Japan from the November 2012 talks must be reported: the check is not vacuous."""
    shapes = rdflib.Graph().parse(REPO / "ontology" / "shapes.ttl")
    ontology = rdflib.Graph().parse(REPO / "ontology" / "dprk-japan.ttl")
    data = rdflib.Graph()
    for triple in graphs["doc-000"]:
        data.add(triple)
    talks = DJR["ev-2012-11-mongolia-talks"]
    data.remove((talks, DJ.participant, DJR.japan))
    data.remove((talks, DJ.participant, DJR["mofa-japan"]))
    conforms, report, _ = validate(data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True)
    assert not conforms
    assert talks in set(report.objects(None, SH.focusNode))


def test_every_object_is_typed_in_the_same_graph(doc: str, graphs: dict[str, rdflib.Graph]) -> None:
    graph = graphs[doc]
    typed = set(graph.subjects(RDF.type, None))
    untyped = {
        (p, o) for _, p, o in graph
        if isinstance(o, URIRef) and p != RDF.type and str(o).startswith(str(DJR)) and o not in typed
    }
    assert untyped == set()


def test_every_fact_bearing_resource_cites_its_document(doc: str, graphs: dict[str, rdflib.Graph]) -> None:
    """Everything typed with a dj: class carries dct:source to this document (vocabulary terms excepted)."""
    graph = graphs[doc]
    vocabulary = {DJ.Role, DJ.TalksLevel, DJ.QuantityKind}
    unsourced = {
        subject for subject, cls in graph.subject_objects(RDF.type)
        if str(cls).startswith(str(DJ)) and cls not in vocabulary and subject != DJR[doc]
        and (subject, DCT.source, DJR[doc]) not in graph
    }
    assert unsourced == set()


@needs_shared(SEEDS)
def test_alt_labels_and_chinese_forms_occur_in_the_seed_text(doc: str, graphs: dict[str, rdflib.Graph]) -> None:
    """Variant spellings are recorded only as the text writes them (no invented forms)."""
    text = seed_text(doc).lower()
    graph = graphs[doc]
    literals = list(graph.objects(None, SKOS.altLabel))
    literals += [lit for lit in graph.objects(None, RDFS.label) if isinstance(lit, Literal) and lit.language == "zh"]
    assert literals, f"{doc} records no variant spellings, so there is nothing to check against its text"
    missing = [str(lit) for lit in literals if str(lit).lower() not in text]
    assert missing == []


def test_no_external_links_in_document_graphs(doc: str, graphs: dict[str, rdflib.Graph]) -> None:
    assert list(graphs[doc].triples((None, SKOS.exactMatch, None))) == []


def test_no_machine_paths_in_files(doc: str) -> None:
    content = (REPO / "data" / f"{doc}.trig").read_text(encoding="utf-8")
    machine_paths = ("/" + "work/", "/" + "tmp/")  # spelled apart so this check is not itself a match
    assert not any(path in content for path in machine_paths)


def test_document_metadata(graphs: dict[str, rdflib.Graph]) -> None:
    g0, g1 = graphs["doc-000"], graphs["doc-001"]
    assert g0.value(DJR["doc-000"], DCT.issued) == Literal("2013-01-23", datatype=XSD.date)
    assert g0.value(DJR["doc-000"], DJ.translationOf) == DJR["doc-000-orig"]
    assert Literal("朝日关系可能有大突破", lang="zh") in set(g0.objects(DJR["doc-000-orig"], DCT.title))
    assert g0.value(DJR["doc-000-orig"], DCT.issued) == Literal("2013-01-17", datatype=XSD.date)
    assert set(g0.objects(DJR["doc-000"], DCT.contributor)) == {
        DJR["roger-cavazos"], DJR["nathan-beauchamp-mustafaga"], DJR["adam-cathcart"]}
    assert g0.value(DJR["doc-000"], DCT.publisher) == DJR["sino-nk"]
    assert "sinonk.com" in str(g0.value(DJR["doc-000"], DJ.attributionNote))
    assert g1.value(DJR["doc-001"], DCT.publisher) == DJR["global-times"]
    assert g1.value(DJR["doc-001"], DCT.issued) == Literal("2013-01-22T22:53:06", datatype=XSD.dateTime)
    for name, seed in DOCS.items():
        assert str(graphs[name].value(DJR[name], DJ.seedFile)) == seed


def test_reparations_claims_disagree_in_qualifier_only(graphs: dict[str, rdflib.Graph]) -> None:
    c0 = DJR["cl-reparations-000"]
    c1 = DJR["cl-reparations-001"]
    g0, g1 = graphs["doc-000"], graphs["doc-001"]
    # doc-000 "as much as $10 billion" is an upper bound, doc-001 "over $10 billion" a lower one: no point value.
    assert g0.value(c0, DJ.quantityMax).toPython() == Decimal(10**10) and g0.value(c0, DJ.quantityValue) is None
    assert Decimal(10**10) in {o.toPython() for p in (DJ.quantityValue, DJ.quantityMin) for o in g1.objects(c1, p)}
    assert str(g0.value(c0, DJ.quantityQualifier)) == "as much as"
    assert str(g1.value(c1, DJ.quantityQualifier)) == "over"
    assert g0.value(c0, DJ.claimant) == g1.value(c1, DJ.claimant) == DJR["zhang-liangui"]
    assert (c1, None, None) not in g0 and (c0, None, None) not in g1


def test_2012_contacts_are_in_month_precision_and_linked(graphs: dict[str, rdflib.Graph]) -> None:
    g0 = graphs["doc-000"]
    months = {
        "ev-2012-01-song-nakai": "2012-01", "ev-2012-03-song-nakai": "2012-03",
        "ev-2012-04-kis-centenary": "2012-04", "ev-2012-06-graves-shown": "2012-06",
        "ev-2012-07-fujimoto-invited": "2012-07", "ev-2012-08-red-cross-talks": "2012-08",
        "ev-2012-11-mongolia-talks": "2012-11", "ev-2012-12-talks-postponed": "2012-12",
    }
    for event, month in months.items():
        assert g0.value(DJR[event], DJ.startDate) == Literal(month, datatype=XSD.gYearMonth), event
    assert g0.value(DJR["ev-2012-08-red-cross-talks"], DJ.dateNote) == Literal("early August 2012", lang="en")
    assert g0.value(DJR["ev-2012-11-mongolia-talks"], DJ.followedBy) == DJR["ev-2012-12-talks-postponed"]
    assert g0.value(DJR["ev-2012-12-talks-postponed"], SCHEMA.eventStatus) == SCHEMA.EventPostponed
    # 000 only: no June/July events in the Global Times version.
    assert (DJR["ev-2012-06-graves-shown"], None, None) not in graphs["doc-001"]


def test_november_delegate_named_only_in_doc_001(graphs: dict[str, rdflib.Graph]) -> None:
    deleg = DJR["deleg-2012-11-mongolia-talks-japan"]
    assert graphs["doc-000"].value(deleg, DJ.delegationHead) is None
    assert graphs["doc-001"].value(deleg, DJ.delegationHead) == DJR["shinsuke-sugiyama"]
    assert (DJR["shinsuke-sugiyama"], None, None) not in graphs["doc-000"]


def test_misspelling_song_ii_ho_is_recorded_in_doc_001_only(graphs: dict[str, rdflib.Graph]) -> None:
    song = DJR["song-il-ho"]
    assert Literal("Song II-ho", lang="en") in set(graphs["doc-001"].objects(song, SKOS.altLabel))
    assert Literal("Song II-ho", lang="en") not in set(graphs["doc-000"].objects(song, SKOS.altLabel))
    assert Literal("宋日昊", lang="zh") in set(graphs["doc-000"].objects(song, RDFS.label))


def test_which_documents_state_a_claim_by_named_graph() -> None:
    """The user-facing question 'which documents say X' is answered by the graph names."""
    store = pyoxigraph.Store()
    for name in DOCS:
        store.load(path=str(REPO / "data" / f"{name}.trig"), format=pyoxigraph.RdfFormat.TRIG)
    # One claim per attestation (issue 13): each document states the ten-year gap in a claim of its own.
    rows = store.query(
        f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?c a <{DJ.Claim}> ; <{DJ.quantityKind}> <{DJR['qk-time-gap']}> ; "
        f"<{DJ.about}> <{DJR['ev-2012-08-red-cross-talks']}> }} }} ORDER BY ?g"
    )
    assert [row["g"].value for row in rows] == [str(DJR["doc-000"]), str(DJR["doc-001"])]


# -- Corrections (issue 13, item 2): each pinned against the old, wrong data ----------


def test_doc_001_kim_jong_un_is_a_leader_not_a_head_of_state(graphs: dict[str, rdflib.Graph]) -> None:
    """Doc-001 calls Kim Jong-un "North Korea's new leader"; it never names an office such as head of state."""
    g = graphs["doc-001"]
    posts = list(g.objects(DJR["kim-jong-un"], DJ.hasMembership))
    assert posts == [DJR["memb-kim-jong-un-leader-doc-001"]], "doc-001 states its own membership, not a shared node"
    assert set(g.objects(posts[0], DJ.role)) == {DJR["role-leader"]}
    assert (None, DJ.role, DJR["role-head-of-state"]) not in g


def test_doc_001_calls_the_december_2012_launch_a_rocket_launch(graphs: dict[str, rdflib.Graph]) -> None:
    """doc-001 says "rocket launch"; "satellite launch" is doc-000's wording and stays in doc-000's graph only."""
    launch = DJR["ev-2012-12-launch"]
    labels_001 = " ".join(str(o) for p in (RDFS.label, SKOS.altLabel) for o in graphs["doc-001"].objects(launch, p))
    assert "rocket launch" in labels_001
    assert "satellite" not in labels_001.lower()
    assert "satellite launch" in " ".join(str(o) for o in graphs["doc-000"].objects(launch, RDFS.label))


def test_doc_001_says_the_reparations_were_shelved_not_never_paid(graphs: dict[str, rdflib.Graph]) -> None:
    """doc-001: the payment "was later shelved"; it does not say the money was never paid."""
    g = graphs["doc-001"]
    texts = [str(o) for o in g.objects(DJR["reparations-understanding-1990s"], None) if isinstance(o, Literal)]
    assert any("shelved" in t for t in texts)
    assert not any("never paid" in t.lower() for t in texts)


@pytest.mark.parametrize(("society", "state"), [("japanese-red-cross", "japan"), ("dprk-red-cross", "north-korea")])
def test_red_cross_societies_belong_to_their_states(
    graphs: dict[str, rdflib.Graph], doc: str, society: str, state: str
) -> None:
    """doc-000: "the North Korean and Japanese Red Cross"; doc-001: "bilateral Red Cross talks" between the two."""
    g = graphs[doc]
    assert set(g.objects(DJR[society], DJ.parentState)) == {DJR[state]}
    assert (DJR[state], RDF.type, DJ.State) in g, "the state is typed inside the same graph"


@needs_shared(SEEDS)
def test_doc_000_names_both_red_cross_societies_by_their_states() -> None:
    assert "talks restarted between the North Korean and Japanese Red Cross" in seed_text("doc-000")
    assert "bilateral Red Cross talks" in seed_text("doc-001")
