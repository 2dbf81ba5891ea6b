"""Checks on the curated graphs of doc-002, doc-003 and doc-004.

These pin the properties users of the graph rely on: each file is one named graph
named after its document; every resource is labelled, typed and sourced inside that
graph; conflicting abductee figures stay side by side as separately attributed claims;
dates never carry more precision than the text gives; and the unrelated web junk
trailing seeds 002/003 does not leak into the data.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, RDFS, XSD, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, SKOS

from tests.shared_helpers import SEEDS, needs_shared

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
ONTOLOGY = REPO / "ontology" / "dprk-japan.ttl"

DJ = Namespace("https://w3id.org/dprk-japan-kg/ontology#")
DJR = Namespace("https://w3id.org/dprk-japan-kg/id/")
SCHEMA = Namespace("https://schema.org/")

DOCS = ("doc-002", "doc-003", "doc-004")
PARTIAL_DATES = {XSD.date, XSD.gYearMonth, XSD.gYear}
# Resources that are vocabulary (defined in the ontology), not facts of a document.
VOCAB_PREFIXES = ("role-", "level-", "qk-")


def load_graph(doc: str) -> rdflib.Graph:
    """Return the single named graph of a document file (fails if the file holds more)."""
    ds = rdflib.Dataset()
    ds.parse(DATA / f"{doc}.trig", format="trig")
    graphs = [g for g in ds.graphs() if len(g)]
    assert [g.identifier for g in graphs] == [DJR[doc]], f"{doc}.trig must hold exactly GRAPH djr:{doc}"
    return graphs[0]


@pytest.fixture(scope="module", params=DOCS)
def doc_graph(request: pytest.FixtureRequest) -> tuple[str, rdflib.Graph]:
    return request.param, load_graph(request.param)


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY)


def test_file_parses_identically_in_oxigraph(doc_graph: tuple[str, rdflib.Graph]) -> None:
    doc, g = doc_graph
    store = ox.Store()
    store.load(path=str(DATA / f"{doc}.trig"), format=ox.RdfFormat.TRIG)
    assert len(store) == len(g)
    assert {str(q.graph_name.value) for q in store} == {str(DJR[doc])}


def test_every_subject_is_typed_labelled_and_sourced(doc_graph: tuple[str, rdflib.Graph]) -> None:
    doc, g = doc_graph
    for s in set(g.subjects()):
        assert (s, RDF.type, None) in g, f"{s} has no rdf:type in {doc}"
        labels = [lab for lab in g.objects(s, RDFS.label) if isinstance(lab, Literal) and lab.language == "en"]
        assert labels, f"{s} has no English rdfs:label in {doc}"
        if s != DJR[doc]:
            assert (s, DCTERMS.source, DJR[doc]) in g, f"{s} lacks dct:source djr:{doc}"


def test_every_object_resource_is_typed_here_or_in_ontology(
    doc_graph: tuple[str, rdflib.Graph], ontology: rdflib.Graph
) -> None:
    doc, g = doc_graph
    typed = set(g.subjects(RDF.type, None)) | set(ontology.subjects(RDF.type, None))
    for _s, p, o in g:
        if p != RDF.type and isinstance(o, URIRef) and str(o).startswith(str(DJR)):
            assert o in typed, f"{o} is used as an object in {doc} but typed nowhere"


def test_vocabulary_resources_come_from_the_ontology(
    doc_graph: tuple[str, rdflib.Graph], ontology: rdflib.Graph
) -> None:
    doc, g = doc_graph
    for o in set(g.objects()):
        name = str(o).removeprefix(str(DJR))
        if isinstance(o, URIRef) and str(o).startswith(str(DJR)) and name.startswith(VOCAB_PREFIXES):
            assert (o, RDF.type, None) in ontology, f"{doc} uses {name}, which the ontology does not define"


def test_issues_are_skos_concepts_in_the_issue_scheme(doc_graph: tuple[str, rdflib.Graph]) -> None:
    _doc, g = doc_graph
    issues = set(g.subjects(RDF.type, DJ.Issue))
    assert issues
    for issue in issues:
        assert (issue, RDF.type, SKOS.Concept) in g
        assert (issue, SKOS.inScheme, DJR.issues) in g
        pref = g.value(issue, SKOS.prefLabel)
        assert pref is not None and pref.language == "en"
        assert pref in set(g.objects(issue, RDFS.label)), f"{issue}: prefLabel and rdfs:label differ"


def test_dates_are_partial_dates_and_ordered(doc_graph: tuple[str, rdflib.Graph]) -> None:
    doc, g = doc_graph
    for prop in (DJ.startDate, DJ.endDate, DJ.claimDate, DJ.deathDate, DCTERMS.issued):
        for s, o in g.subject_objects(prop):
            assert isinstance(o, Literal) and o.datatype in PARTIAL_DATES, f"{s} {prop} {o!r} in {doc}"
    for s, start in g.subject_objects(DJ.startDate):
        end = g.value(s, DJ.endDate)
        if end is not None:
            width = min(len(str(start)), len(str(end)))
            assert str(start)[:width] <= str(end)[:width], f"{s} ends before it starts"


def test_negotiation_rounds_have_two_sides(doc_graph: tuple[str, rdflib.Graph]) -> None:
    doc, g = doc_graph
    rounds = set()
    for cls in (DJ.IntergovernmentalTalks, DJ.InformalContact, DJ.RedCrossTalks, DJ.NegotiationRound):
        rounds |= set(g.subjects(RDF.type, cls))
    for r in rounds:
        sides = set(g.objects(r, DJ.participant))
        assert len(sides) >= 2, f"{r} in {doc} has fewer than two sides"
        for deleg in g.objects(r, DJ.delegation):
            assert g.value(deleg, DJ.represents) in sides


def test_seed_junk_is_not_extracted(doc_graph: tuple[str, rdflib.Graph]) -> None:
    doc, g = doc_graph
    text = " ".join(str(o) for o in g.objects() if isinstance(o, Literal)).lower()
    for junk in ("barrel bomb", "zakharova", "london police", "daraya", "vladivostok"):
        assert junk not in text, f"{doc} contains trailing-page junk: {junk!r}"


@needs_shared(SEEDS)
def test_seed_file_names_an_existing_seed(doc_graph: tuple[str, rdflib.Graph]) -> None:
    doc, g = doc_graph
    seed = g.value(DJR[doc], DJ.seedFile)
    assert seed is not None and str(seed).startswith(doc.removeprefix("doc-") + "_")
    assert (SEEDS / str(seed)).is_file(), f"{doc} names {seed}, which is not in ../shared/seeds"


def claim(g: rdflib.Graph, name: str) -> dict[str, object]:
    """Collect the figures of one claim, failing with the claim's id if it is absent."""
    c = DJR[name]
    assert (c, RDF.type, DJ.Claim) in g, f"claim {name} missing"
    value = g.value(c, DJ.quantityValue)
    return {
        "kind": g.value(c, DJ.quantityKind),
        "value": None if value is None else Decimal(str(value)),
        "text": None if g.value(c, DJ.valueText) is None else str(g.value(c, DJ.valueText)),
        "qualifier": None if g.value(c, DJ.quantityQualifier) is None else str(g.value(c, DJ.quantityQualifier)),
        "claimant": g.value(c, DJ.claimant),
    }


@pytest.mark.parametrize(
    ("name", "kind", "value", "text", "qualifier", "claimant"),
    [
        ("cl-abductees-official-17", "qk-abductees-total", 17, None, None, "official-estimates-source"),
        ("cl-abductees-nk-admitted-13", "qk-abductees-admitted", 13, None, None, "gov-dprk"),
        ("cl-abductees-dozens-civic", "qk-abductees-total", None, "dozens", None, "japanese-civic-groups"),
        (
            "cl-abductees-standoff-8",
            "qk-abductees-remaining",
            None,  # "eight (or possibly more ...)": a lower bound, dj:quantityMin 8, not a value
            "eight (or possibly more)",
            "or possibly more",
            "author-doc-002",
        ),
        ("cl-remaining-per-nk-8", "qk-abductees-remaining", 8, None, None, "gov-dprk"),
        ("cl-remaining-per-japan-12", "qk-abductees-remaining", 12, None, None, "gov-japan"),
        ("cl-returned-5", "qk-abductees-returned", 5, None, None, "author-doc-002"),
    ],
)
def test_doc002_abductee_figures_stand_side_by_side(
    name: str, kind: str, value: int | None, text: str | None, qualifier: str | None, claimant: str
) -> None:
    got = claim(load_graph("doc-002"), name)
    assert got["kind"] == DJR[kind]
    assert got["value"] == (None if value is None else Decimal(value))
    assert got["text"] == text
    assert got["qualifier"] == qualifier
    assert got["claimant"] == DJR[claimant]


@pytest.mark.parametrize(
    ("name", "kind", "value", "text", "qualifier"),
    [
        ("cl-abductees-nearly-90", "qk-abductees-total", None, None, "nearly"),  # "nearly 90": dj:quantityMax 90
        ("cl-abductees-dozens-003", "qk-abductees-total", None, "dozens", None),
        ("cl-abductees-admitted-several-003", "qk-abductees-admitted", None, "several", None),
        ("cl-returned-several", "qk-abductees-returned", None, "several", None),
        ("cl-chongryon-members", "qk-chongryon-members", 150000, None, "about"),
        ("cl-ethnic-koreans-japan", "qk-ethnic-koreans-in-japan", None, None, "more than"),  # dj:quantityMin 600000
        ("cl-china-share-trade", "qk-china-trade-share", 50, None, "about"),
        ("cl-china-share-oil", "qk-china-oil-share", 95, None, "about"),
    ],
)
def test_doc003_claims_are_attributed_to_the_publisher(
    name: str, kind: str, value: int | None, text: str | None, qualifier: str | None
) -> None:
    got = claim(load_graph("doc-003"), name)
    assert got["kind"] == DJR[kind]
    assert got["value"] == (None if value is None else Decimal(value))
    assert got["text"] == text
    assert got["qualifier"] == qualifier
    assert got["claimant"] == DJR.stratfor


def test_doc003_trade_share_range_excluding_inter_korean_trade() -> None:
    g = load_graph("doc-003")
    c = DJR["cl-china-share-trade-ex-interkorean"]
    assert Decimal(str(g.value(c, DJ.quantityMin))) == 70
    assert Decimal(str(g.value(c, DJ.quantityMax))) == 90


def test_every_claim_has_claimant_kind_and_a_value() -> None:
    """Every claim says who makes it and what; a claim that counts (a number) says what it counts."""
    numbers = (DJ.quantityValue, DJ.quantityMin, DJ.quantityMax)
    for doc in DOCS:
        g = load_graph(doc)
        for c in g.subjects(RDF.type, DJ.Claim):
            assert g.value(c, DJ.claimant) is not None, f"{c} has no claimant"
            if any(g.value(c, p) is not None for p in numbers):
                assert g.value(c, DJ.quantityKind) is not None, f"{c} has no quantity kind"
            has_value = any(g.value(c, p) is not None for p in (*numbers, DJ.valueText))  # "nearly 90" is a max
            assert has_value, f"{c} states no value"


def test_doc002_does_not_assert_an_author_or_date() -> None:
    g = load_graph("doc-002")
    doc = DJR["doc-002"]
    assert g.value(doc, DCTERMS.creator) is None
    # No date is printed: the year is inferred from the talks that ended on "August 31", and flagged as derived.
    issued = g.value(doc, DCTERMS.issued)
    assert issued == Literal("2012", datatype=XSD.gYear)
    assert any(g.value(d, RDF.predicate) == DCTERMS.issued and g.value(d, RDF.object) == issued
               for d in g.subjects(RDF.subject, doc) if (d, RDF.type, DJ.DerivedValue) in g)
    assert g.value(doc, DCTERMS.publisher) is None
    assert "inference" in str(g.value(doc, DJ.attributionNote))


def test_doc002_beijing_talks_year_is_flagged_as_derived() -> None:
    g = load_graph("doc-002")
    talks = DJR["ev-2012-08-beijing-talks"]
    assert g.value(talks, DJ.endDate) == Literal("2012-08-31", datatype=XSD.date)
    assert g.value(talks, DJ.startDate) is None, "the start day is not stated in the text"
    assert "derived" in str(g.value(talks, DJ.dateNote))
    assert g.value(talks, DJ.level) == DJR["level-working"]
    nxt = g.value(talks, DJ.followedBy)
    assert g.value(nxt, SCHEMA.eventStatus) == SCHEMA.EventScheduled


def test_doc003_and_doc004_publishers_are_explained() -> None:
    for doc, publisher in (("doc-003", "stratfor"), ("doc-004", "nippon-com")):
        g = load_graph(doc)
        assert g.value(DJR[doc], DCTERMS.publisher) == DJR[publisher]
        assert "public copy" in str(g.value(DJR[doc], DJ.attributionNote))
    assert "Japanese" in str(load_graph("doc-004").value(DJR["doc-004"], DCTERMS.description))


def test_doc004_family_relations_and_derived_death_year() -> None:
    g = load_graph("doc-004")
    assert (DJR["kim-jong-un"], DJ.parent, DJR["kim-jong-il"]) in g
    assert (DJR["megumi-yokota"], DJ.parent, DJR["shigeru-yokota"]) in g
    assert Literal("Yokota Megumi", lang="en") in set(g.objects(DJR["megumi-yokota"], SKOS.altLabel))
    death = DJR["ev-2020-yokota-death"]
    assert g.value(death, DJ.startDate) == Literal("2020", datatype=XSD.gYear)
    assert "derived" in str(g.value(death, DJ.dateNote))


def test_doc004_special_agencies_and_their_parents() -> None:
    """Which bodies the 'special agencies' are is hedged ("likely covers"): a claim, never foaf:member facts."""
    g = load_graph("doc-004")
    assert set(g.objects(DJR["special-agencies"], rdflib.FOAF.member)) == set()
    claim = DJR["cl-special-agencies-groups"]
    assert (claim, RDF.type, DJ.Claim) in g
    assert g.value(claim, DJ.claimant) == DJR["author-doc-004"]
    members = set(g.objects(claim, DJ.about)) - {DJR["special-agencies"]}
    assert members == {DJR[x] for x in ("mss", "gpb", "gsd", "rgb", "ufd")}
    assert set(g.objects(DJR["ev-2021-special-agencies-reform"], DJ.target)) == {DJR["special-agencies"]}
    for m in members:
        assert g.value(m, DJ.parentState) == DJR["north-korea"]
    assert (DJR.ufd, DJ.subOrganizationOf, DJR.wpk) in g


# -- Corrections (issue 13, item 2): each pinned against the old, wrong data ----------


@pytest.mark.parametrize(
    ("doc", "person", "membership", "role", "wording"),
    [
        ("doc-002", "kim-jong-un", "memb-kim-jong-un-leader-doc-002", "role-supreme-leader", "current Supreme Leader"),
        ("doc-002", "kim-il-sung", "memb-kim-il-sung-leader", "role-leader", "Great Leader Generalissimo"),
        ("doc-003", "kim-jong-il", "memb-kim-jong-il-leader", "role-leader", "then-North Korean leader"),
        ("doc-004", "kim-jong-un", "memb-kim-jong-un-leader-doc-004", "role-supreme-leader", "Supreme Leader"),
    ],
)
def test_north_korean_leaders_hold_the_role_the_text_names(
    doc: str, person: str, membership: str, role: str, wording: str
) -> None:
    """The texts call the Kims "leader" or "Supreme Leader", never head of state; each document has its own post."""
    g = load_graph(doc)
    assert (DJR[person], DJ.hasMembership, DJR[membership]) in g
    assert set(g.objects(DJR[membership], DJ.role)) == {DJR[role]}
    assert Literal(wording, lang="en") in set(g.objects(DJR[membership], DJ.roleLabel))
    assert (None, DJ.role, DJR["role-head-of-state"]) not in g


@needs_shared(SEEDS)
@pytest.mark.parametrize("doc", DOCS)
def test_leaders_role_wording_occurs_in_the_text(doc: str) -> None:
    g = load_graph(doc)
    seed = (SEEDS / str(g.value(DJR[doc], DJ.seedFile))).read_text(encoding="utf-8")
    for membership in g.subjects(DJ.role, DJR["role-leader"]):
        assert str(g.value(membership, DJ.roleLabel)) in seed
    for membership in g.subjects(DJ.role, DJR["role-supreme-leader"]):
        assert str(g.value(membership, DJ.roleLabel)) in seed


def test_no_membership_node_of_kim_jong_un_is_shared_between_documents() -> None:
    """One statement per document: a reused node would merge doc-002's and doc-004's wording in the union."""
    seen: dict[URIRef, str] = {}
    for doc in ("doc-001", *DOCS):
        for membership in load_graph(doc).objects(DJR["kim-jong-un"], DJ.hasMembership):
            assert membership not in seen, f"{membership} is stated by both {seen.get(membership)} and {doc}"
            seen[membership] = doc
    assert len(seen) == 3


def test_leader_roles_are_labelled_and_commented_skos_concepts(ontology: rdflib.Graph) -> None:
    for role in ("role-leader", "role-supreme-leader", "role-assistant-secretary-of-state"):
        assert (DJR[role], RDF.type, DJ.Role) in ontology
        assert ontology.value(DJR[role], RDFS.label) is not None
        assert ontology.value(DJR[role], RDFS.comment) is not None
    assert (DJR["role-supreme-leader"], SKOS.broader, DJR["role-leader"]) in ontology


def test_doc004_sung_kim_is_an_acting_assistant_secretary_not_a_director_general() -> None:
    g = load_graph("doc-004")
    post = DJR["memb-sung-kim-eap"]
    assert set(g.objects(post, DJ.role)) == {DJR["role-assistant-secretary-of-state"]}
    assert str(g.value(post, DJ.roleLabel)).startswith("acting assistant secretary of state")


def test_doc004_yokota_death_is_not_a_political_change() -> None:
    """Yokota Shigeru was an abductee's father, not a holder of power: his death is a plain event."""
    g = load_graph("doc-004")
    types = set(g.objects(DJR["ev-2020-yokota-death"], RDF.type))
    assert DJ.PoliticalChange not in types
    assert types == {DJ.Event}


def test_doc004_kim_jong_il_account_of_the_perpetrators_is_his_claim() -> None:
    """doc-004 reports that Kim Jong-il "noted that factions within these agencies perpetrated the abductions":
    his account, so a claim he makes, not an actor of the abductions stated as fact."""
    g = load_graph("doc-004")
    assert (DJR["ev-abductions-1970s-80s"], DJ.actor, DJR["special-agencies"]) not in g
    claim = DJR["cl-abductions-by-agency-factions"]
    assert g.value(claim, DJ.claimant) == DJR["kim-jong-il"]
    assert {DJR["ev-abductions-1970s-80s"], DJR["special-agencies"]} <= set(g.objects(claim, DJ.about))
    assert g.value(claim, DJ.claimDate) == Literal("2002", datatype=XSD.gYear)


@needs_shared(SEEDS)
def test_doc004_kim_jong_il_claim_wording_is_the_text_s() -> None:
    seed = (SEEDS / str(load_graph("doc-004").value(DJR["doc-004"], DJ.seedFile))).read_text(encoding="utf-8")
    wording = str(load_graph("doc-004").value(DJR["cl-abductions-by-agency-factions"], DJ.valueText))
    assert wording in seed


def test_doc002_official_estimate_of_17_is_not_attributed_to_the_japanese_government() -> None:
    """doc-002: "according to official estimates, the number is 17" names no body, so no government is asserted."""
    g = load_graph("doc-002")
    claimant = g.value(DJR["cl-abductees-official-17"], DJ.claimant)
    assert claimant not in (DJR["gov-japan"], None)
    assert g.value(claimant, DJ.parentState) is None
    assert "official" in str(g.value(claimant, RDFS.label)).lower()


ALL_DOCS = ("doc-000", "doc-001", *DOCS)


def test_doc004_singapore_summit_is_held_in_singapore() -> None:
    """doc-004: "their June 2018 Singapore Summit"; Singapore is typed like every other place of an event."""
    g = load_graph("doc-004")
    assert set(g.objects(DJR["ev-2018-06-singapore-summit"], DJ.location)) == {DJR.singapore}
    assert {DJ.State, DJ.Place} <= set(g.objects(DJR.singapore, RDF.type))


@needs_shared(SEEDS)
@pytest.mark.parametrize("doc", ALL_DOCS)
def test_every_document_naming_the_singapore_summit_gives_its_place(doc: str) -> None:
    g = load_graph(doc)
    seed = (SEEDS / str(g.value(DJR[doc], DJ.seedFile))).read_text(encoding="utf-8")
    if "Singapore Summit" in seed:
        assert (DJR["ev-2018-06-singapore-summit"], DJ.location, DJR.singapore) in g
    else:
        assert (DJR["ev-2018-06-singapore-summit"], None, None) not in g


def test_states_have_the_same_types_in_every_graph(ontology: rdflib.Graph) -> None:
    """A state used as a place (North Korea, Mongolia, Singapore) is a dj:Place in every graph that types it."""
    places = set(ontology.transitive_subjects(RDFS.subClassOf, DJ.Place))
    types: dict[URIRef, dict[str, frozenset]] = {}
    for doc in ALL_DOCS:
        g = load_graph(doc)
        for state in set(g.subjects(RDF.type, DJ.State)):
            types.setdefault(state, {})[doc] = frozenset(g.objects(state, RDF.type))
        for where in (DJ.location, DJ.basedIn, DJ.birthPlace):
            for place in set(g.objects(None, where)):
                assert set(g.objects(place, RDF.type)) & places, f"{doc}: {place} is used as a place but not typed one"
    for state, by_doc in types.items():
        assert len(set(by_doc.values())) == 1, f"{state} is typed differently across documents: {by_doc}"
    assert DJ.Place in types[DJR["north-korea"]]["doc-003"]


def test_no_membership_node_is_shared_between_documents() -> None:
    """One statement per document: a node stated by two graphs merges their wordings in the union graph."""
    seen: dict[URIRef, str] = {}
    for doc in ALL_DOCS:
        for membership in set(load_graph(doc).subjects(RDF.type, DJ.Membership)):
            assert membership not in seen, f"{membership} is stated by both {seen.get(membership)} and {doc}"
            seen[membership] = doc


@pytest.mark.parametrize(
    ("doc", "person", "wording"),
    [
        ("doc-000", "junichiro-koizumi", "Japanese Prime Minister"),
        ("doc-001", "junichiro-koizumi", "then Japanese prime minister"),
        ("doc-002", "junichiro-koizumi", "Japanese Prime Minister"),
        ("doc-003", "junichiro-koizumi", "Japanese Prime Minister"),
        ("doc-000", "hiroshi-nakai", "Japan's previously-assumed official for the abduction issue"),
        ("doc-001", "hiroshi-nakai", "former Japanese state minister in charge (of the abduction issue)"),
        ("doc-000", "song-il-ho", "Ambassador for the Negotiations of Normalization of North Korean-Japanese ties"),
        ("doc-001", "song-il-ho",
         "North Korea's ambassador for talks on normalizing Japan-North Korea diplomatic ties"),
        ("doc-000", "zhang-liangui", "professor at the Central Party School"),
        ("doc-001", "zhang-liangui", "professor at the Party School of the Central Committee of CPC"),
    ],
)
def test_each_document_states_its_own_membership_in_its_own_words(doc: str, person: str, wording: str) -> None:
    g = load_graph(doc)
    memberships = list(g.objects(DJR[person], DJ.hasMembership))
    assert len(memberships) == 1 and str(memberships[0]).endswith(f"-{doc}")
    assert set(g.objects(memberships[0], DJ.roleLabel)) == {Literal(wording, lang="en")}
