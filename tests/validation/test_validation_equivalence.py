"""Incremental validation gives the same answers as validating the whole graph.

For each batch (valid ones, and ones breaking each kind of shape) applied to the bundled
graph, we compare:

* ``validate_change`` (incremental: affected focus nodes, small context), with
* a full validation of the whole dataset after the change, and before it.

Two claims, for every batch: (1) every result that the change adds or removes concerns
a node the incremental validation checked (nothing is missed); (2) for those nodes, the
incremental results are exactly the full validation's results (no false alarms caused
by the small context). And once: the full validation used here (pySHACL's shapes, SPARQL
constraints run by pyoxigraph) equals plain ``pyshacl.validate`` on the whole dataset.

Test resources live in ``http://example.org/test/``; they reference real nodes of the
bundled graph (so the context matters) but state no facts of the project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
import pytest

from service import validation
from service.rdf import derived
from service.rdf.bundle import load_bundled
from service.rdf.terms import from_rdflib, to_rdflib
from service.rdf.vocabulary import ENTAILED_GRAPH, SHAPES_GRAPH

PREFIXES = """
@prefix dj: <https://w3id.org/dprk-japan-kg/ontology#> .
@prefix djr: <https://w3id.org/dprk-japan-kg/id/> .
@prefix ex: <http://example.org/test/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
"""
DJ = "https://w3id.org/dprk-japan-kg/ontology#"
DJR = "https://w3id.org/dprk-japan-kg/id/"
BATCH = ox.NamedNode("http://example.org/test/batch")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
OA = "http://www.w3.org/ns/oa#"


@dataclass
class Batch:
    """A change to the bundled graph and the shapes it must break (none: it must add no violation)."""

    name: str
    trig: str = ""
    remove: Callable[[ox.Store], list[ox.Quad]] = lambda store: []
    drop: list[Any] = field(default_factory=list)
    breaks: set[str] = field(default_factory=set)
    #: Shapes of severity Warning it must make report (a warning does not refuse the write).
    warns: set[str] = field(default_factory=set)

    def quads(self) -> list[ox.Quad]:
        if not self.trig:
            return []
        text = PREFIXES + f"GRAPH <{BATCH.value}> {{\n{self.trig}\n}}"
        return list(ox.parse(text.encode(), format=ox.RdfFormat.TRIG))


def one(store: ox.Store, sparql: str) -> Any:
    """The first value of the first row of a query over the bundled graph."""
    rows = list(store.query(f"PREFIX dj: <{DJ}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> {sparql}",
                            use_default_graph_as_union=True))
    assert rows, f"the bundled graph has no match for: {sparql}"
    return rows[0][0]


def quads_of(subject: str, predicate: str, obj: str | None = None) -> Callable[[ox.Store], list[ox.Quad]]:
    def find(store: ox.Store) -> list[ox.Quad]:
        o = ox.NamedNode(obj) if obj else None
        found = [q for q in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), o, None)
                 if not isinstance(q.graph_name, ox.DefaultGraph) and q.graph_name.value != ENTAILED_GRAPH]
        assert found, f"nothing to remove for <{subject}> <{predicate}>"
        return found
    return find


#: An evidence annotation of doc-000 (its quote has 24 characters).
EVIDENCE = """
ex:evidence-1 a oa:Annotation ; rdfs:label "Test passage"@en ; oa:motivatedBy dj:evidencing ;
    oa:hasBody {bodies} ; dct:source djr:doc-000 ;
    oa:hasTarget [ a oa:SpecificResource ; oa:hasSource djr:doc-000 ;
        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "a quote of 24 characters" ] ,
                       [ a oa:TextPositionSelector ; oa:start 0 ; oa:end {end} ] ] .
"""

VALID_ROUND = """
ex:round-1 a dj:IntergovernmentalTalks ; rdfs:label "Test round of talks"@en ; dct:source djr:doc-000 ;
    dj:participant djr:japan , djr:north-korea ; dj:startDate "2014-05"^^xsd:gYearMonth ;
    dj:level djr:level-bureau-chief ; dj:delegation ex:deleg-1 .
ex:deleg-1 a dj:Delegation ; rdfs:label "Test delegation"@en ; dct:source djr:doc-000 ; dj:represents djr:japan .
"""


#: How many batches :func:`batches` builds; the equivalence test is parametrized over ``range(BATCH_COUNT)``,
#: and a test checks the two agree, so an added batch cannot go unrun.
BATCH_COUNT = 28


def triple_of_a_derived_value(store: ox.Store) -> list[ox.Quad]:
    """The stated triple a dj:DerivedValue marks (to remove it: the mark is left marking nothing)."""
    rows = list(store.query(
        f"SELECT ?s ?p ?o WHERE {{ ?d a <{DJ}DerivedValue> ; <{RDF}subject> ?s ; <{RDF}predicate> ?p ; "
        f"<{RDF}object> ?o . ?s ?p ?o }} ORDER BY ?d LIMIT 1", use_default_graph_as_union=True))
    assert rows, "the bundled graph marks no derived value"
    s, p, o = rows[0]
    return [q for q in store.quads_for_pattern(s, p, o, None)
            if not isinstance(q.graph_name, ox.DefaultGraph) and q.graph_name.value != ENTAILED_GRAPH]


def only_evidence_of_a_claim(store: ox.Store) -> list[ox.Quad]:
    """The oa:hasBody link of a claim evidenced by one annotation only, which has other bodies (to remove it:
    the annotation stays well-formed, the claim is left without evidence)."""
    rows = list(store.query(
        f"SELECT DISTINCT ?annotation ?claim WHERE {{ {{ SELECT (MIN(STR(?a)) AS ?only) ?claim WHERE {{ "
        f"?a <{OA}hasBody> ?claim . ?claim a <{DJ}Claim> }} GROUP BY ?claim HAVING (COUNT(DISTINCT ?a) = 1) }} "
        f"?annotation <{OA}hasBody> ?claim , ?other . FILTER (STR(?annotation) = ?only && ?other != ?claim) }} "
        f"ORDER BY ?claim LIMIT 1", use_default_graph_as_union=True))
    assert rows, "no claim of the bundled graph has exactly one evidence annotation"
    annotation, claim = rows[0]
    return [q for q in store.quads_for_pattern(annotation, ox.NamedNode(OA + "hasBody"), claim, None)
            if not isinstance(q.graph_name, ox.DefaultGraph) and q.graph_name.value != ENTAILED_GRAPH]


def batches(store: ox.Store) -> list[Batch]:
    """The batches, some built from what the bundled graph holds right now."""
    person = one(store, "SELECT ?p WHERE { ?p a dj:Person } ORDER BY ?p LIMIT 1")
    membership = one(store, "SELECT ?m WHERE { ?m a dj:Membership ; dj:member ?p } GROUP BY ?m "
                            "HAVING (COUNT(?p) = 1) ORDER BY ?m LIMIT 1")
    other_person = one(store, f"SELECT ?p WHERE {{ ?p a dj:Person FILTER NOT EXISTS {{ {membership} dj:member ?p }} }}"
                              " ORDER BY ?p LIMIT 1")
    linked, wikidata = next(iter(store.query(
        "SELECT ?s ?w WHERE { ?s <http://www.w3.org/2004/02/skos/core#exactMatch> ?w "
        "FILTER STRSTARTS(STR(?w), 'http://www.wikidata.org/entity/') } ORDER BY ?s LIMIT 1",
        use_default_graph_as_union=True)))
    labelled = one(store, "SELECT ?s WHERE { ?s a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* dj:Organization ; "
                          "<http://www.w3.org/2000/01/rdf-schema#label> ?l }"
                          " ORDER BY ?s LIMIT 1")
    return [
        Batch("valid new round referencing stored participants", VALID_ROUND),
        Batch("valid links and labels on stored nodes",
              f'{linked} rdfs:label "Another English label"@en ; skos:altLabel "Alt"@en .'),
        Batch("a second member on a stored membership", f"{membership} dj:member {other_person} .",
              breaks={"Membership_Property_dj_member"}),
        Batch("a person as a side of a round", VALID_ROUND.replace("djr:north-korea", str(person)),
              breaks={"NegotiationRound_Property_dj_participant"}),
        Batch("a second resource with the same Wikidata id",
              f'ex:dup a dj:Organization ; rdfs:label "Duplicate"@en ; dct:source djr:doc-000 ; '
              f'skos:exactMatch {wikidata} .',
              breaks={"Linked_Constraint_uniqueWikidata"}),
        Batch("a stored state loses its type", remove=quads_of(DJR + "japan", RDF_TYPE.value, DJ + "State"),
              breaks={"Organization_Property_dj_parentState"}),
        Batch("a document without a seed file",
              'ex:doc a dj:SourceDocument ; rdfs:label "Test document"@en ; dct:title "Test"@en ; '
              'dct:language "en" ; dct:issued "2014"^^xsd:gYear .',
              breaks={"SourceDocument_Constraint_seedFileGiven"}),
        Batch("a claim whose minimum exceeds its maximum",
              'ex:claim a dj:Claim ; rdfs:label "Test claim"@en ; dct:source djr:doc-000 ; '
              'dj:quantityMin 10 ; dj:quantityMax 5 .',
              breaks={"Claim_Constraint_minNotAboveMax"}),
        Batch("an event ending before it starts",
              'ex:ev a dj:Event ; rdfs:label "Test event"@en ; dct:source djr:doc-000 ; '
              'dj:startDate "2014-05-02"^^xsd:date ; dj:endDate "2013"^^xsd:gYear .',
              breaks={"Event_Constraint_endNotBeforeStart"}),
        Batch("an issue concept that is not typed dj:Issue",
              'ex:concept a skos:Concept ; rdfs:label "Test concept"@en ; skos:inScheme djr:issues .',
              breaks={"Concept_Constraint_issueTyped"}),
        Batch("a label without a language tag",
              'ex:person a dj:Person ; rdfs:label "No language" ; dct:source djr:doc-000 .',
              breaks={"Agent_Property_rdfs_label"}),
        Batch("a stored organization loses its labels", remove=quads_of(str(labelled)[1:-1],
                                                                          "http://www.w3.org/2000/01/rdf-schema#label"),
              breaks={"Agent_Property_rdfs_label"}),
        Batch("a class hierarchy change makes stored instances persons",
              "dj:TalksLevel rdfs:subClassOf dj:Person .", breaks={"Agent_Property_dct_source"}),
        Batch("a new subclass and an instance of it",
              'ex:Spy rdfs:subClassOf dj:Person . ex:spy a ex:Spy ; rdfs:label "Test spy"@en .',
              breaks={"Agent_Property_dct_source"}),
        Batch("a round with one side", VALID_ROUND.replace("djr:japan , djr:north-korea", "djr:japan"),
              breaks={"NegotiationRound_Property_dj_participant"}),
        Batch("a delegation representing a state that is not a side of its round",
              VALID_ROUND.replace("dj:represents djr:japan", "dj:represents djr:china"),
              breaks={"Delegation_Constraint_representsASide"}),
        Batch("a month that does not exist", 'ex:ev a dj:Event ; rdfs:label "Test event"@en ; dct:source djr:doc-000 ; '
              'dj:startDate "2012-13"^^xsd:gYearMonth .', breaks={"Resource_Constraint_wellFormedDate"}),
        Batch("a year far after its document's date",
              'ex:ev a dj:Event ; rdfs:label "Test event"@en ; dct:source djr:doc-000 ; '
              'dj:startDate "2031"^^xsd:gYear .', breaks={"Resource_Constraint_dateNotAfterSource"}),
        Batch("a claim whose value is below its minimum",
              'ex:claim a dj:Claim ; rdfs:label "Test claim"@en ; dct:source djr:doc-000 ; '
              'dj:quantityValue 5 ; dj:quantityMin 10 .', breaks={"Claim_Constraint_valueWithinRange"}),
        Batch("a generation time without a datatype",
              'ex:record prov:generatedAtTime "2026-11-23T11:56:27Z" .',
              breaks={"Resource_Property_prov_generatedAtTime"}),
        Batch("a fact without evidence in a document that carries evidence",
              'ex:group a dj:Group ; rdfs:label "Test group"@en ; dct:source djr:doc-003 ; dj:basedIn djr:beijing .',
              warns={"Resource_Constraint_evidenced"}),
        Batch("a stored claim loses its only evidence passage", remove=only_evidence_of_a_claim,
              warns={"Resource_Constraint_evidenced"}),
        Batch("an evidence quote that does not fit its position",
              VALID_ROUND + EVIDENCE.format(bodies="ex:round-1 , ex:deleg-1", end=30),
              breaks={"Annotation_Constraint_quoteFitsPosition"}),
        Batch("a stated triple marked as derived is removed", remove=triple_of_a_derived_value,
              breaks={"DerivedValue_Constraint_tripleStated"}),
        Batch("a derived-value mark on a triple nobody states",
              'ex:mark a dj:DerivedValue ; rdfs:label "Test mark"@en ; dct:source djr:doc-003 ; '
              'rdf:subject djr:doc-003 ; rdf:predicate dct:issued ; rdf:object "1999"^^xsd:gYear ; '
              'dj:derivation "test"@en .', breaks={"DerivedValue_Constraint_tripleStated"}),
        Batch("a date as stated that is no EDTF date",
              'ex:ev a dj:Event ; rdfs:label "Test event"@en ; dct:source djr:doc-000 ; dj:dateNote "test"@en ; '
              'dj:edtf "2012-13"^^dj:EDTF .', breaks={"Resource_Constraint_wellFormedEDTF"}),
        Batch("a commitment without a status",
              VALID_ROUND + 'ex:cmt a dj:Commitment ; rdfs:label "Test commitment"@en ; dct:source djr:doc-000 ; '
              'dj:commitmentOf ex:round-1 ; dj:committedParty djr:japan ; dj:obligation "meet again"@en .',
              breaks={"Commitment_Property_dj_commitmentStatus"}),
        Batch("a source document graph is dropped", drop=[ox.NamedNode(DJR + "doc-004")]),
    ]


def copy_with(store: ox.Store, add: list[ox.Quad], remove: list[ox.Quad], drop: list[Any]) -> ox.Store:
    """A new in-memory store holding the state after the change."""
    after = ox.Store()
    removed = set(remove)
    after.extend(q for q in store.quads_for_pattern(None, None, None, None)
                 if q not in removed and q.graph_name not in drop)
    after.extend(add)
    return after


@pytest.fixture(scope="module")
def bundled() -> ox.Store:
    return load_bundled()


@pytest.fixture(scope="module")
def served() -> ox.Store:
    """The bundled graph as the service holds it: plus the union default graph and the RDFS inferences."""
    store = load_bundled()
    store.update(derived.full_rebuild(store, union=True, entailment="rdfs"))
    return store


@pytest.fixture(scope="module")
def before(bundled: ox.Store) -> validation.ValidationReport:
    return validation.validate_store(bundled, union=False)


def keys(report: validation.ValidationReport, focus: set[str] | None = None) -> set[tuple]:
    return {r.key for r in report.results if focus is None or r.focus in focus}


def test_every_shape_in_the_batches_is_exercised(bundled: ox.Store) -> None:
    """The batches break node shapes of every family: core, qualified, SPARQL (own and other nodes)."""
    broken = set().union(*(b.breaks for b in batches(bundled)))
    assert {"Linked_Constraint_uniqueWikidata", "SourceDocument_Constraint_seedFileGiven",
            "NegotiationRound_Property_dj_participant"} <= broken


def test_every_batch_is_run_by_the_equivalence_test(bundled: ox.Store) -> None:
    """The parametrization below indexes the batches; a batch beyond ``BATCH_COUNT`` would never run."""
    assert len(batches(bundled)) == BATCH_COUNT


@pytest.mark.slow  # runs pySHACL over every case: long
@pytest.mark.parametrize("union", [False, True], ids=["plain-store", "served-store"])
@pytest.mark.parametrize("index", range(BATCH_COUNT))
def test_incremental_validation_equals_full_validation(bundled: ox.Store, served: ox.Store,
                                                       before: validation.ValidationReport, index: int,
                                                       union: bool) -> None:
    """``served-store``: the union default graph and inferences are present (the service's layout),
    so node types are read from the union graph; ``plain-store``: named graphs only."""
    store = served if union else bundled
    batch = batches(bundled)[index]
    add, remove = batch.quads(), batch.remove(store)
    incremental = validation.validate_change(store, add, remove, batch.drop, union=union)
    after = validation.validate_store(copy_with(store, add, remove, batch.drop), union=union)
    assert incremental.mode == "incremental", batch.name

    changed = keys(after) ^ keys(before)
    missed = {k for k in changed if k[0] not in incremental.checked}
    assert not missed, f"{batch.name}: results changed on nodes the incremental validation did not check: {missed}"
    assert keys(incremental) == keys(after, incremental.checked), batch.name

    new_violations = {r.shape.split("#")[-1] for r in incremental.results
                      if r.severity == "Violation" and r.key not in keys(before)}
    new_warnings = {r.shape.split("#")[-1] for r in incremental.results
                    if r.severity == "Warning" and r.key not in keys(before)}
    assert batch.warns <= new_warnings, f"{batch.name}: expected warnings {batch.warns}, got {new_warnings}"
    if batch.breaks:
        assert batch.breaks <= new_violations, f"{batch.name}: expected {batch.breaks}, got {new_violations}"
    elif not batch.drop:
        assert not new_violations, f"{batch.name} should add no violation, got {new_violations}"


def test_the_context_stays_small_for_a_small_batch(bundled: ox.Store) -> None:
    """Cost follows the batch: a two-node batch checks a handful of nodes, not the graph."""
    report = validation.validate_change(bundled, batches(bundled)[0].quads(), union=False)
    assert report.focus_nodes <= 5
    assert report.context_triples < len(bundled) / 5


@pytest.mark.slow  # runs pySHACL over the whole graph: long
def test_the_full_validation_used_here_is_plain_pyshacl(bundled: ox.Store) -> None:
    """Our full validation (SPARQL constraints on pyoxigraph) = ``pyshacl.validate`` on the same data.

    Run on the bundled graph with every breaking batch applied at once, so each kind of
    failure is part of the comparison.
    """
    import pyshacl
    from rdflib import Graph
    from rdflib.namespace import SH

    add: list[ox.Quad] = []
    remove: list[ox.Quad] = []
    for batch in batches(bundled):
        if batch.breaks and "hierarchy" not in batch.name:
            add += batch.quads()
            remove += batch.remove(bundled)
    after = copy_with(bundled, add, remove, [])
    ours = validation.validate_store(after, union=False)

    data, shapes = Graph(), Graph()
    for q in after.quads_for_pattern(None, None, None, None):
        target = shapes if q.graph_name == ox.NamedNode(SHAPES_GRAPH) else data
        target.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    _, report_graph, _ = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
    theirs = set()
    for result in report_graph.subjects(predicate=SH.focusNode):
        def text(p: Any, _r: Any = result) -> str | None:
            value = report_graph.value(_r, p)
            return None if value is None else str(from_rdflib(value)).strip("<>")
        theirs.add((text(SH.focusNode), text(SH.sourceShape), text(SH.resultSeverity).split("#")[-1],
                    text(SH.sourceConstraintComponent).split("#")[-1]))
    mine = {(r.focus, r.shape, r.severity, r.component) for r in ours.results}
    assert mine == theirs
