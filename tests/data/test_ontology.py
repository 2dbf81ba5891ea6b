"""The ontology (ontology/dprk-japan.ttl) and the zero-row SPARQL checks (ontology/checks).

Why these tests: every helper writes data against the binding vocabulary, so each of its
terms must exist with the kind, alignment and documentation the spec gives; a typo in a
term IRI is silently accepted by RDF tools (the W3C ORG ontology shipped one), so dangling
dj: IRIs are caught here. The checks are build gates over the whole dataset, so each must
return no rows on the committed data and at least one row on a planted mistake.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, SKOS, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, XSD

from service.rdf.dataset import data_files

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY_FILE = ROOT / "ontology" / "dprk-japan.ttl"
SHAPES_FILE = ROOT / "ontology" / "shapes.ttl"
CHECKS_DIR = ROOT / "ontology" / "checks"
CHECKS = sorted(CHECKS_DIR.glob("*-violation.rq"))
DATA_FILES = data_files(ROOT)  # data/*.trig and the evidence passages data/evidence/*.trig

ONTOLOGY_IRI = URIRef("https://w3id.org/dprk-japan-kg/ontology")
DJ = rdflib.Namespace("https://w3id.org/dprk-japan-kg/ontology#")
DJR = rdflib.Namespace("https://w3id.org/dprk-japan-kg/id/")
ORG = rdflib.Namespace("http://www.w3.org/ns/org#")
SCHEMA = rdflib.Namespace("https://schema.org/")
ONTOLOGY_GRAPH = ox.NamedNode("https://w3id.org/dprk-japan-kg/graph/ontology")
TERM_KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, RDFS.Datatype)

# The binding vocabulary (vocab.md v0.1.0): these IRIs must exist; the ontology may add more.
VOCAB_CLASSES = """Agent State Organization GovernmentBody Ministry Bureau Administration IntelligenceAgency
PartyOrganization PoliticalParty PartyDepartment MilitaryBody Association HumanitarianOrganization CivicGroup
MediaOrganization InternationalOrganization AcademicInstitution Group Person Place City Region BodyOfWater
Islands Border Event NegotiationRound IntergovernmentalTalks RedCrossTalks InformalContact Summit Visit
Invitation Agreement SanctionsMeasure WeaponsTest NuclearTest Launch PartyCongress Statement Period
PoliticalChange Membership Role Delegation Claim SourceDocument ExternalLink TalksLevel Issue QuantityKind
DerivedValue Commitment CommitmentStatus ContributorRole""".split()
VOCAB_OBJECT_PROPERTIES = """parentState subOrganizationOf basedIn nationality birthPlace parent child
hasMembership member organization role location participant delegation represents delegationHead
delegationMember level discussedIssue precededBy followedBy actor target partOf about quantityKind claimant
translationOf candidateMatch statesProperty commitmentOf committedParty conditionOn commitmentStatus causedBy caused
concernsPlace concernsParty""".split()
VOCAB_DATATYPE_PROPERTIES = """birthDate deathDate roleLabel startDate endDate dateNote headRoleLabel outcome
quantityValue quantityMin quantityMax quantityQualifier valueText unit claimDate claimContext seedFile
attributionNote derivation edtf birthEDTF deathEDTF obligation condition function quote""".split()

# Alignment the vocabulary spec states (term, rdfs:subClassOf/subPropertyOf, target).
SUBCLASS = [
    ("Agent", FOAF.Agent),
    ("Agent", PROV.Agent),
    ("State", DJ.Agent),
    ("State", SCHEMA.Country),
    ("Organization", DJ.Agent),
    ("Organization", ORG.Organization),
    ("GovernmentBody", DJ.Organization),
    ("Ministry", DJ.GovernmentBody),
    ("Bureau", DJ.GovernmentBody),
    ("Administration", DJ.GovernmentBody),
    ("IntelligenceAgency", DJ.Organization),
    ("PartyOrganization", DJ.Organization),
    ("PoliticalParty", DJ.PartyOrganization),
    ("PartyDepartment", DJ.PartyOrganization),
    ("MilitaryBody", DJ.Organization),
    ("Association", DJ.Organization),
    ("HumanitarianOrganization", DJ.Organization),
    ("CivicGroup", DJ.Organization),
    ("MediaOrganization", DJ.Organization),
    ("InternationalOrganization", DJ.Organization),
    ("AcademicInstitution", DJ.Organization),
    ("Group", DJ.Agent),
    ("Group", FOAF.Group),
    ("Person", DJ.Agent),
    ("Person", FOAF.Person),
    ("Person", SCHEMA.Person),
    ("Place", SCHEMA.Place),
    ("City", DJ.Place),
    ("Region", DJ.Place),
    ("BodyOfWater", DJ.Place),
    ("Islands", DJ.Place),
    ("Border", DJ.Place),
    ("Event", SCHEMA.Event),
    ("Event", PROV.Activity),
    ("NegotiationRound", DJ.Event),
    ("IntergovernmentalTalks", DJ.NegotiationRound),
    ("RedCrossTalks", DJ.NegotiationRound),
    ("InformalContact", DJ.NegotiationRound),
    ("Summit", DJ.Event),
    ("Visit", DJ.Event),
    ("Invitation", DJ.Event),
    ("Agreement", DJ.Event),
    ("SanctionsMeasure", DJ.Event),
    ("WeaponsTest", DJ.Event),
    ("NuclearTest", DJ.WeaponsTest),
    ("Launch", DJ.WeaponsTest),
    ("PartyCongress", DJ.Event),
    ("Statement", DJ.Event),
    ("Period", DJ.Event),
    ("PoliticalChange", DJ.Event),
    ("Membership", ORG.Membership),
    ("Role", ORG.Role),
    ("Claim", PROV.Entity),
    ("SourceDocument", FOAF.Document),
    ("SourceDocument", PROV.Entity),
    ("SourceDocument", SCHEMA.CreativeWork),
    ("TalksLevel", SKOS.Concept),
    ("Issue", SKOS.Concept),
    ("QuantityKind", SKOS.Concept),
    ("DerivedValue", RDF.Statement),
    ("DerivedValue", PROV.Entity),
    ("Commitment", PROV.Entity),
    ("ContributorRole", PROV.Role),
]
SUBPROPERTY = [
    ("subOrganizationOf", ORG.subOrganizationOf),
    ("birthDate", SCHEMA.birthDate),
    ("parent", SCHEMA.parent),
    ("startDate", SCHEMA.startDate),
    ("endDate", SCHEMA.endDate),
    ("participant", SCHEMA.participant),
    ("discussedIssue", DCTERMS.subject),
    ("actor", PROV.wasAssociatedWith),
    ("concernsPlace", DCTERMS.spatial),
    ("quote", SCHEMA.text),
]
# Properties that apply to anything, so they have no rdfs:domain by design.
NO_DOMAIN = {DJ.candidateMatch}

TALKS_LEVELS = [
    "level-summit",
    "level-ministerial",
    "level-bureau-chief",
    "level-working",
    "level-red-cross",
    "level-informal",
]
QUANTITY_KINDS = [
    "qk-abductees-total",
    "qk-abductees-admitted",
    "qk-abductees-returned",
    "qk-abductees-remaining",
    "qk-reparations-amount",
    "qk-chongryon-members",
    "qk-ethnic-koreans-in-japan",
    "qk-japanese-in-korea-1945",
    "qk-china-trade-share",
    "qk-china-oil-share",
    "qk-nuclear-tests-count",
    "qk-time-gap",
    "qk-duration",
]


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_FILE)


def dj_terms(graph: rdflib.Graph) -> set[URIRef]:
    return {
        s
        for kind in TERM_KINDS
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and s.startswith(str(DJ))
    }


def has_lang(graph: rdflib.Graph, subject: URIRef, predicate: URIRef, lang: str = "en") -> bool:
    return any(getattr(o, "language", None) == lang for o in graph.objects(subject, predicate))


# -- parsing and header -----------------------------------------------------------------------


def test_parses_identically_with_rdflib_and_pyoxigraph(onto: rdflib.Graph) -> None:
    store = ox.Store()
    store.load(path=str(ONTOLOGY_FILE), format=ox.RdfFormat.TURTLE)
    assert len(store) == len(onto) > 0


def test_header(onto: rdflib.Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in onto
    assert onto.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef("https://w3id.org/dprk-japan-kg/ontology/0.2.0")
    assert onto.value(ONTOLOGY_IRI, OWL.priorVersion) == URIRef("https://w3id.org/dprk-japan-kg/ontology/0.1.0")
    assert str(onto.value(ONTOLOGY_IRI, OWL.versionInfo)) == "0.2.0"
    assert onto.value(ONTOLOGY_IRI, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert has_lang(onto, ONTOLOGY_IRI, DCTERMS.title)
    assert has_lang(onto, ONTOLOGY_IRI, DCTERMS.description)
    for predicate in (DCTERMS.created, DCTERMS.modified):
        assert onto.value(ONTOLOGY_IRI, predicate).datatype == XSD.date
    assert onto.value(ONTOLOGY_IRI, RDFS.seeAlso) is not None


def test_prefix_block_comes_first_and_is_aligned() -> None:
    lines = ONTOLOGY_FILE.read_text(encoding="utf-8").splitlines()
    prefixes = [line for line in lines if line.startswith("@prefix")]
    assert lines[: len(prefixes)] == prefixes
    assert len({line.index("<") for line in prefixes}) == 1


# -- the binding vocabulary -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "kind"),
    [
        (VOCAB_CLASSES, OWL.Class),
        (VOCAB_OBJECT_PROPERTIES, OWL.ObjectProperty),
        (VOCAB_DATATYPE_PROPERTIES, OWL.DatatypeProperty),
    ],
    ids=["classes", "object-properties", "datatype-properties"],
)
def test_every_vocabulary_term_is_declared(onto: rdflib.Graph, names: list[str], kind: URIRef) -> None:
    missing = [name for name in names if (DJ[name], RDF.type, kind) not in onto]
    assert missing == []


@pytest.mark.parametrize(("term", "parent"), SUBCLASS, ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_class_alignment(onto: rdflib.Graph, term: str, parent: URIRef) -> None:
    assert (DJ[term], RDFS.subClassOf, parent) in onto


@pytest.mark.parametrize(("term", "parent"), SUBPROPERTY, ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_property_alignment(onto: rdflib.Graph, term: str, parent: URIRef) -> None:
    assert (DJ[term], RDFS.subPropertyOf, parent) in onto


def test_inverse_pairs(onto: rdflib.Graph) -> None:
    assert (DJ.precededBy, OWL.inverseOf, DJ.followedBy) in onto
    assert (DJ.causedBy, OWL.inverseOf, DJ.caused) in onto
    assert (DJ.parent, OWL.inverseOf, DJ.child) in onto


def test_every_term_has_label_comment_and_is_defined_by(onto: rdflib.Graph) -> None:
    problems = []
    for term in sorted(dj_terms(onto)):
        if not has_lang(onto, term, RDFS.label):
            problems.append(f"{term}: no rdfs:label@en")
        if not has_lang(onto, term, RDFS.comment):
            problems.append(f"{term}: no rdfs:comment@en")
        if (term, RDFS.isDefinedBy, ONTOLOGY_IRI) not in onto:
            problems.append(f"{term}: no rdfs:isDefinedBy")
    assert problems == []


OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
DJ_INDIVIDUALS = {
    "evidencing": OA.Motivation,
    **{f"Status{n}": DJ.CommitmentStatus
       for n in ("Agreed", "Implemented", "PartlyImplemented", "Shelved", "Broken", "Pending", "Unknown")},
    **{f"{n}Role": DJ.ContributorRole
       for n in ("Author", "Translator", "Annotator", "Editor", "Publisher", "PhotoCredit")},
}


@pytest.mark.parametrize(("name", "kind"), DJ_INDIVIDUALS.items(), ids=list(DJ_INDIVIDUALS))
def test_dj_individuals_are_typed_and_documented(onto: rdflib.Graph, name: str, kind: URIRef) -> None:
    term = DJ[name]
    assert (term, RDF.type, kind) in onto and (term, RDF.type, OWL.NamedIndividual) in onto
    assert has_lang(onto, term, RDFS.label) and has_lang(onto, term, RDFS.comment)
    assert (term, RDFS.isDefinedBy, ONTOLOGY_IRI) in onto


def test_evidencing_is_a_kind_of_linking(onto: rdflib.Graph) -> None:
    assert (DJ.evidencing, SKOS.broader, OA.linking) in onto


def test_edtf_datatype_points_to_the_standard(onto: rdflib.Graph) -> None:
    assert (DJ.EDTF, RDF.type, RDFS.Datatype) in onto
    assert (DJ.EDTF, RDFS.seeAlso, URIRef("https://www.loc.gov/standards/datetime/")) in onto
    for name in ("edtf", "birthEDTF", "deathEDTF"):
        assert onto.value(DJ[name], RDFS.range) == DJ.EDTF, name


def test_changelog_names_every_version(onto: rdflib.Graph) -> None:
    notes = [str(n) for n in onto.objects(ONTOLOGY_IRI, SKOS.changeNote)]
    assert any(n.startswith("0.2.0 ") for n in notes) and any(n.startswith("0.1.0 ") for n in notes)
    latest = next(n for n in notes if n.startswith("0.2.0 "))
    names = ("evidencing", "DerivedValue", "EDTF", "Commitment", "causedBy", "function",
             "ContributorRole", "quote", "concernsPlace", "concernsParty")
    assert [name for name in names if f"`dj:{name}`" not in latest] == []


def test_main_classes_have_japanese_and_korean_labels(onto: rdflib.Graph) -> None:
    for name in ("State", "Organization", "Person", "Place", "Event", "Summit", "Delegation", "Claim", "Issue"):
        assert has_lang(onto, DJ[name], RDFS.label, "ja") and has_lang(onto, DJ[name], RDFS.label, "ko"), name


def test_every_property_has_a_domain(onto: rdflib.Graph) -> None:
    properties = {
        t for t in dj_terms(onto) if (t, RDF.type, OWL.Class) not in onto and (t, RDF.type, RDFS.Datatype) not in onto
    }
    assert sorted(p for p in properties - NO_DOMAIN if onto.value(p, RDFS.domain) is None) == []


def test_date_properties_range_over_the_three_precisions(onto: rdflib.Graph) -> None:
    union = onto.value(onto.value(DJ.PartialDate, OWL.equivalentClass), OWL.unionOf)
    assert list(rdflib.collection.Collection(onto, union)) == [XSD.date, XSD.gYearMonth, XSD.gYear]
    for name in ("startDate", "endDate", "birthDate", "deathDate", "claimDate"):
        assert onto.value(DJ[name], RDFS.range) == DJ.PartialDate, name


# -- concept schemes and generic individuals --------------------------------------------------


def check_concepts(onto: rdflib.Graph, scheme: URIRef, cls: URIRef, names: list[str]) -> None:
    assert (scheme, RDF.type, SKOS.ConceptScheme) in onto and has_lang(onto, scheme, RDFS.label)
    for name in names:
        concept = DJR[name]
        assert (concept, RDF.type, cls) in onto, name
        assert (concept, SKOS.inScheme, scheme) in onto and (concept, SKOS.topConceptOf, scheme) in onto, name
        for predicate in (RDFS.label, SKOS.prefLabel, SKOS.definition):
            assert has_lang(onto, concept, predicate), (name, predicate)


def test_issue_scheme_is_defined(onto: rdflib.Graph) -> None:
    assert (DJR.issues, RDF.type, SKOS.ConceptScheme) in onto
    assert has_lang(onto, DJR.issues, RDFS.label) and has_lang(onto, DJR.issues, SKOS.definition)


def test_talks_levels(onto: rdflib.Graph) -> None:
    check_concepts(onto, DJR["talks-levels"], DJ.TalksLevel, TALKS_LEVELS)


def test_quantity_kinds(onto: rdflib.Graph) -> None:
    check_concepts(onto, DJR["quantity-kinds"], DJ.QuantityKind, QUANTITY_KINDS)


def test_individuals_survive_pyshacl_inoculation(onto: rdflib.Graph) -> None:
    """pySHACL's ont_graph copies only axioms and owl:NamedIndividual nodes into the data graph;
    levels, quantity kinds, roles and schemes must be among them or sh:class checks fail."""
    individuals = [s for s in onto.subjects(RDF.type, None) if isinstance(s, URIRef) and s.startswith(str(DJR))]
    assert individuals
    assert [s for s in individuals if (s, RDF.type, OWL.NamedIndividual) not in onto] == []
    assert list(onto.subject_objects(SKOS.hasTopConcept)) == [], "hasTopConcept cycles explode pySHACL's deep clone"


# -- SPARQL checks ----------------------------------------------------------------------------


def store_with(*trig: str, data_files: list[Path] | None = None, shapes: bool = False) -> ox.Store:
    """A store holding the ontology (graph djg:ontology), optional data files and TriG snippets."""
    store = ox.Store()
    store.load(path=str(ONTOLOGY_FILE), format=ox.RdfFormat.TURTLE, to_graph=ONTOLOGY_GRAPH)
    if shapes:
        store.load(
            path=str(SHAPES_FILE),
            format=ox.RdfFormat.TURTLE,
            to_graph=ox.NamedNode("https://w3id.org/dprk-japan-kg/graph/shapes"),
        )
    for path in data_files or []:
        store.load(path=str(path), format=ox.RdfFormat.TRIG)
    for text in trig:
        store.load(PREFIXES + text, format=ox.RdfFormat.TRIG)
    return store


def run_check(store: ox.Store, check: Path) -> list[ox.QuerySolution]:
    return list(store.query(check.read_text(encoding="utf-8"), use_default_graph_as_union=True))


PREFIXES = """@prefix dj: <https://w3id.org/dprk-japan-kg/ontology#> .
@prefix djr: <https://w3id.org/dprk-japan-kg/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
"""
DOC = 'djr:doc-x a dj:SourceDocument ; rdfs:label "X"@en ; dct:title "X"@en ; dj:seedFile "x.txt" .'
# Planted mistakes per check: the check must report each of them.
PLANTED = {
    "undefined-dj-term-violation.rq": [
        f"GRAPH djr:doc-x {{ {DOC} djr:g a dj:Group ; dj:partcipant djr:doc-x . }}",
        f"GRAPH djr:doc-x {{ {DOC} djr:g a dj:Grup . }}",
    ],
    "unlabelled-resource-violation.rq": [f"GRAPH djr:doc-x {{ {DOC} djr:g a dj:Group ; dct:source djr:doc-x . }}"],
    "undated-event-violation.rq": [f'GRAPH djr:doc-x {{ {DOC} djr:e a dj:Summit ; rdfs:label "E"@en . }}'],
    "dangling-object-violation.rq": [f"GRAPH djr:doc-x {{ {DOC} djr:g a dj:Group ; dj:basedIn djr:nowhere . }}"],
    "term-annotation-violation.rq": [
        'GRAPH djr:doc-x { dj:NewThing a owl:Class ; rdfs:label "new thing"@en . }',
        'GRAPH djr:doc-x { dj:newLink a owl:ObjectProperty ; rdfs:label "new link" ; rdfs:comment "c"@en ; '
        "rdfs:isDefinedBy <https://w3id.org/dprk-japan-kg/ontology> . }",
    ],
    "event-class-disagreement-violation.rq": [
        f'GRAPH djr:doc-x {{ {DOC} djr:e a dj:Visit ; rdfs:label "E"@en ; dct:source djr:doc-x . }} '
        f'GRAPH djr:doc-y {{ djr:e a dj:Summit ; rdfs:label "E"@en ; dct:source djr:doc-y . }}',
    ],
    "shared-claim-violation.rq": [
        f'GRAPH djr:doc-x {{ {DOC} djr:c a dj:Claim ; rdfs:label "C"@en ; dj:quantityValue 17 . }} '
        'GRAPH djr:doc-y { djr:c dj:claimDate "2014"^^<http://www.w3.org/2001/XMLSchema#gYear> . }',
    ],
    "derived-value-graph-violation.rq": [
        # the mark sits in doc-y, the triple it marks in doc-x
        f'GRAPH djr:doc-x {{ {DOC} djr:doc-x dct:issued "2014" . }} '
        'GRAPH djr:doc-y { djr:d a dj:DerivedValue ; rdf:subject djr:doc-x ; rdf:predicate dct:issued ; '
        'rdf:object "2014" . }',
    ],
    "unevidenced-fact-violation.rq": [
        f'GRAPH djr:doc-x {{ {DOC} djr:g a dj:Group ; rdfs:label "G"@en ; dj:basedIn djr:p . }}',
        # evidence in another document's graph does not count for this one
        f'GRAPH djr:doc-x {{ {DOC} djr:g a dj:Group ; rdfs:label "G"@en ; dj:basedIn djr:p . }} '
        'GRAPH djr:doc-y { djr:a a oa:Annotation ; oa:hasBody djr:g . }',
    ],
    "graph-source-violation.rq": [
        f'GRAPH djr:doc-x {{ {DOC} djr:g a dj:Group ; rdfs:label "G"@en ; dct:source djr:doc-y . }}',
        f'GRAPH djr:doc-x {{ {DOC} djr:g a dj:Group ; rdfs:label "G"@en . }}',
    ],
}


def test_there_are_checks() -> None:
    assert {p.name for p in CHECKS} == set(PLANTED)


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_check_opens_with_why(check: Path) -> None:
    assert check.read_text(encoding="utf-8").startswith("# Why: ")


@pytest.mark.parametrize(
    ("check", "planted"),
    [(c, text) for c in CHECKS for text in PLANTED.get(c.name, [])],
    ids=lambda v: v.stem if isinstance(v, Path) else "",
)
def test_check_reports_a_planted_mistake(check: Path, planted: str) -> None:
    assert run_check(store_with(planted), check) != []


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_check_passes_on_ontology_and_shapes(check: Path) -> None:
    """Covers dangling dj: IRIs in the ontology and in the shapes (paths, targets, sh:class)."""
    assert run_check(store_with(shapes=True), check) == []


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_check_passes_on_the_whole_dataset(check: Path) -> None:
    assert DATA_FILES, "data/*.trig: no data files"
    rows = run_check(store_with(data_files=DATA_FILES), check)
    assert [str(row[0]) for row in rows] == []


def test_checks_readme_lists_every_check() -> None:
    readme = (CHECKS_DIR / "README.md").read_text(encoding="utf-8")
    assert [p.name for p in CHECKS if p.name not in readme] == []


def test_no_dj_iri_in_shapes_is_undefined(onto: rdflib.Graph) -> None:
    used = set(re.findall(r"\bdj:([A-Za-z]+)", SHAPES_FILE.read_text(encoding="utf-8")))
    assert sorted(name for name in used if (DJ[name], None, None) not in onto) == []


def test_unevidenced_check_is_the_fact_bearing_definition() -> None:
    """The check's text restates service.rdf.evidence.fact_bearing_query (a .rq file cannot import it);
    on the bundled data and on planted cases both must list the same resources."""
    from service.rdf.evidence import fact_bearing_query

    planted = (
        f'GRAPH djr:doc-x {{ {DOC} djr:g a dj:Group ; rdfs:label "G"@en ; dj:basedIn djr:p . '
        'djr:n a dj:Group ; rdfs:label "N"@en ; dct:source djr:doc-x ; dj:dateNote "once"@en . '
        'djr:e a dj:Group ; rdfs:label "E"@en ; dj:basedIn djr:p . djr:a a oa:Annotation ; oa:hasBody djr:e . '
        'djr:d a dj:DerivedValue ; rdf:subject djr:doc-x ; rdf:predicate dct:issued ; rdf:object "2014" . }'
    )
    check = CHECKS_DIR / "unevidenced-fact-violation.rq"
    for store in (store_with(planted), store_with(data_files=DATA_FILES)):
        by_check = {(str(r["graph"]), str(r["resource"])) for r in run_check(store, check)}
        by_code = {(str(r["g"]), str(r["resource"])) for r in store.query(fact_bearing_query())
                   if r["evidenced"].value == "false"}
        assert by_check == by_code
    assert by_check or True  # the bundled data may be complete; the planted store above is not
