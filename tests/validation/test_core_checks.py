"""Parity of the two evaluators: the SHACL core checks in plain Python (:mod:`service.validation.core_checks`)
and pySHACL must give the same report, result for result.

Each test validates the same change twice — once with the compiled shapes left to pySHACL
(``validate.USE_CORE_CHECKS = False``), once evaluated by the core checks — and compares every field of every
result (focus, value, path, shape, component, severity, message, labels). The corpora: the bundled store, a
synthetic batch that breaks most shapes thousands of times, hand-made invalid writes against the bundled shapes
(one per component), and a small shapes graph of our own that uses every component the core checks evaluate,
with the corners where pySHACL has its own reading (ill-typed literals, warnings inside ``sh:or``, literal
focus nodes, implicit class targets). Tests also check that the shapes are really compiled, so the comparison
is never pySHACL against itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from service.rdf.bundle import load_bundled
from service.rdf.vocabulary import SHAPES_GRAPH
from service.validation import validate as validate_module
from service.validation.shapes import shapes_model
from service.validation.validate import validate_change, validate_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import synth  # bench/synth.py: the synthetic graphs of the benchmarks

DJSH = "https://w3id.org/dprk-japan-kg/shapes#"
BATCH = ox.NamedNode("https://w3id.org/dprk-japan-kg/graph/batch")
PREFIXES = """@prefix dj: <https://w3id.org/dprk-japan-kg/ontology#> .
@prefix djr: <https://w3id.org/dprk-japan-kg/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix oa: <http://www.w3.org/ns/oa#> . @prefix schema: <https://schema.org/> .
@prefix ex: <http://example.org/> . @prefix sh: <http://www.w3.org/ns/shacl#> .
"""


@pytest.fixture(scope="module")
def bundled() -> ox.Store:
    return load_bundled(derive=True)


def both(monkeypatch: pytest.MonkeyPatch, run) -> list[dict]:
    """The report's results from pySHACL alone and with the core checks; asserts they are identical."""
    reports = {}
    for core in (False, True):
        monkeypatch.setattr(validate_module, "USE_CORE_CHECKS", core)
        report = run()
        reports[core] = (report.conforms, [r.to_json() for r in report.results])
    assert reports[True] == reports[False]
    return reports[True][1]


def turtle_quads(text: str, graph: ox.NamedNode = BATCH) -> list[ox.Quad]:
    return [ox.Quad(t.subject, t.predicate, t.object, graph)
            for t in ox.parse((PREFIXES + text).encode(), format=ox.RdfFormat.TURTLE)]


def test_bundled_shapes_are_compiled_except_sparql(bundled: ox.Store) -> None:
    core = validate_module._engine(shapes_model(bundled)).core
    assert {URIRef(DJSH + name) for name in ("NegotiationRound", "Agent", "Annotation")} <= set(core.compiled)
    assert len(core.compiled) >= 20
    for node, reason in core.left.items():
        assert "sparql" in reason, (node, reason)


def test_full_validation_of_the_bundled_store(bundled: ox.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    results = both(monkeypatch, lambda: validate_store(bundled))
    assert results  # the bundled graph has its warnings: the comparison is not of two empty lists


def test_synthetic_batch(bundled: ox.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synth.generate(tmp_path, 4000)
    registration = (ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                    ox.NamedNode("https://w3id.org/dprk-japan-kg/ontology#SourceDocument"))
    triples = {(q.subject, q.predicate, q.object) for path in sorted((tmp_path / "data").glob("*.trig"))
               for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG) if (q.predicate, q.object) != registration}
    results = both(monkeypatch, lambda: validate_change(bundled, add=[ox.Quad(*t, BATCH) for t in triples]))
    components = {r["component"] for r in results}
    assert len(results) > 500 and {"ClassConstraintComponent", "MinCountConstraintComponent"} <= components


WRITES = {
    "wrong datatype": ("djr:t-sel a oa:TextQuoteSelector ; oa:exact \"x\" ; oa:prefix \"p\"@en .",
                       "DatatypeConstraintComponent"),
    "ill-typed date": ("djr:t-ev a dj:Event ; rdfs:label \"E\"@en ; dct:source djr:doc-002 ; "
                       "dj:startDate \"2001-13-45\"^^xsd:date .", "OrConstraintComponent"),
    "literal for a class": ("djr:t-org a dj:Organization ; rdfs:label \"O\"@en ; dct:source djr:doc-002 ; "
                            "dj:parentState \"Japan\" .", "ClassConstraintComponent"),
    "no English label": ("djr:t-state a dj:State ; rdfs:label \"X\"@ja ; dct:source djr:doc-002 .",
                         "QualifiedMinCountConstraintComponent"),
    "too many values": ("djr:t-pos a oa:TextPositionSelector ; oa:start 1, 2 ; oa:end 3 .",
                        "MaxCountConstraintComponent"),
    "below the minimum": ("djr:t-pos a oa:TextPositionSelector ; oa:start -1 ; oa:end 3 .",
                          "MinInclusiveConstraintComponent"),
    "not in the list": ("djr:t-ev a dj:Event ; rdfs:label \"E\"@en ; dct:source djr:doc-002 ; "
                        "schema:eventStatus schema:EventRescheduled .", "InConstraintComponent"),
    "pattern": ("djr:japan skos:exactMatch <http://example.org/japan> .", "PatternConstraintComponent"),
    "has value": ("djr:t-issue a dj:Issue ; skos:prefLabel \"I\"@en ; dct:source djr:doc-002 ; "
                  "skos:inScheme djr:other .", "HasValueConstraintComponent"),
    "unique language": ("djr:t-issue a dj:Issue ; skos:prefLabel \"I\"@en, \"J\"@en ; dct:source djr:doc-002 ; "
                        "skos:inScheme djr:issues .", "UniqueLangConstraintComponent"),
    "or and qualified count": ("djr:t-round a dj:NegotiationRound ; rdfs:label \"R\"@en ; dct:source djr:doc-002 ; "
                               "dj:participant djr:japan, djr:t-nobody .", "QualifiedMinCountConstraintComponent"),
    "node kind": ("djr:t-claim a dj:Claim ; dj:about \"x\" .", "NodeKindConstraintComponent"),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_invalid_write(name: str, bundled: ox.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    text, component = WRITES[name]
    quads = turtle_quads(text)
    results = both(monkeypatch, lambda: validate_change(bundled, add=quads))
    assert component in {r["component"] for r in results}


#: A shapes graph of our own using every component the core checks evaluate, with pySHACL's corners.
SHAPES = """
ex:Thing a sh:NodeShape ; sh:targetClass ex:Thing ;
  sh:property ex:date, ex:count, ex:kind, ex:link, ex:code, ex:choice, ex:label, ex:flag, ex:size, ex:when,
              ex:back, ex:nested, ex:seq .
ex:date a sh:PropertyShape ; sh:path ex:date ; sh:datatype xsd:date ; sh:maxCount 1 ; sh:message "date"@en .
ex:count a sh:PropertyShape ; sh:path ex:count ; sh:datatype xsd:integer ; sh:minCount 1 ;
  sh:message "count"@en , "Anzahl"@de .
ex:kind a sh:PropertyShape ; sh:path ex:kind ; sh:class ex:Kind ; sh:nodeKind sh:BlankNodeOrIRI ;
  sh:message "kind"@en .
ex:link a sh:PropertyShape ; sh:path ex:link ; sh:pattern "^http://EXAMPLE\\\\.org/" ; sh:flags "i" ;
  sh:message "link"@en .
ex:code a sh:PropertyShape ; sh:path ex:code ; sh:in ( 1 2 "three" ex:four ) ; sh:message "code"@en .
ex:choice a sh:PropertyShape ; sh:path ex:choice ;
  sh:or ( [ sh:datatype xsd:gYear ] [ sh:class ex:Kind ] [ sh:severity sh:Warning ; sh:datatype xsd:boolean ] ) ;
  sh:message "choice"@en .
ex:label a sh:PropertyShape ; sh:path ex:label ; sh:languageIn ( "en" "ja" ) ; sh:uniqueLang true ;
  sh:qualifiedValueShape [ sh:languageIn ( "en" ) ] ; sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1 ;
  sh:severity sh:Warning ; sh:message "label"@en .
ex:flag a sh:PropertyShape ; sh:path ex:flag ; sh:hasValue true ; sh:severity sh:Info ; sh:message "flag" .
ex:size a sh:PropertyShape ; sh:path ex:size ; sh:minInclusive 0 ; sh:maxExclusive 10.5 ; sh:message "size"@en .
ex:when a sh:PropertyShape ; sh:path ex:when ; sh:minExclusive "2000-01-01"^^xsd:date ; sh:message "when"@en .
ex:back a sh:PropertyShape ; sh:path [ sh:inversePath ex:owns ] ; sh:maxCount 1 ; sh:message "back"@en .
ex:nested a sh:PropertyShape ; sh:path ex:part ; sh:minCount 1 ; sh:message "nested"@en ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "part name"@en ] .
ex:seq a sh:PropertyShape ; sh:path ( ex:part ex:name ) ; sh:maxCount 1 ; sh:class ex:Kind ; sh:message "seq"@en .
ex:Either a sh:NodeShape ; sh:targetSubjectsOf ex:either ; sh:message "either"@en ;
  sh:or ( [ sh:path ex:a ; sh:minCount 1 ] [ sh:path ex:b ; sh:minCount 1 ] ) .
ex:Literals a sh:NodeShape ; sh:targetObjectsOf ex:note ; sh:nodeKind sh:IRI ; sh:message "no literals"@en .
ex:Named a sh:NodeShape ; sh:targetNode ex:absent, ex:t1 ; sh:property [ sh:path ex:tag ; sh:minCount 1 ;
  sh:message "tagged"@en ] .
ex:Kind a sh:NodeShape, rdfs:Class ; sh:property [ sh:path rdfs:label ; sh:minCount 1 ; sh:message "kind label"@en ] .
ex:Closed a sh:NodeShape ; sh:targetClass ex:Thing ; sh:closed true ; sh:ignoredProperties ( ex:date ) .
ex:NoMessage a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:date ; sh:minCount 2 ] .
"""

DATA = """
ex:SubKind rdfs:subClassOf ex:Kind . ex:k1 a ex:SubKind ; rdfs:label "k" .
ex:t1 a ex:Thing ; ex:date "2001-13-45"^^xsd:date, "2001-01-01"^^xsd:date ; ex:count "x"^^xsd:integer ;
  ex:kind ex:k1, "literal", ex:other ; ex:link <http://example.org/a>, <http://other.org/b>, _:b1 ;
  ex:code 1, "01"^^xsd:integer, "three", "three"@en, ex:four, ex:five ;
  ex:choice "2001"^^xsd:gYear, "20x1"^^xsd:gYear, ex:k1, true, "no" ;
  ex:label "a"@en, "b"@en-GB, "c"@ko, "d"@ja, "f"@JA, "e" ; ex:flag false ;
  ex:size 3, -1, 10.5, "4", "2"^^xsd:decimal ; ex:when "2001-01-01"^^xsd:date, "1999-01-01"^^xsd:date, "x" ;
  ex:part [ ex:name "p" ], [ ex:other 1 ], [ ex:name ex:k1 ] ; ex:note "text", ex:t2 .
ex:x ex:owns ex:t1 . ex:y ex:owns ex:t1 .
ex:t2 a ex:Thing ; ex:count 2 ; ex:either 1 ; ex:b 2 ; ex:flag true .
ex:t3 ex:either 1 .
ex:k2 a ex:Kind .
"""


def test_every_component_and_corner(monkeypatch: pytest.MonkeyPatch) -> None:
    store = ox.Store()
    store.extend(turtle_quads(SHAPES, ox.NamedNode(SHAPES_GRAPH)))
    core = validate_module._engine(shapes_model(store)).core
    compiled = {str(n).split("/")[-1] for n in core.compiled}
    assert compiled == {"Thing", "Either", "Literals", "Named", "Kind"}, core.left
    assert set(str(n).split("/")[-1] for n in core.left) == {"Closed", "NoMessage"}
    data = turtle_quads(DATA)  # parsed once: both runs see the same blank nodes
    full = both(monkeypatch, lambda: validate_change(store, add=data, full=True))
    components = {r["component"] for r in full}
    assert {"DatatypeConstraintComponent", "ClassConstraintComponent", "NodeKindConstraintComponent",
            "MaxCountConstraintComponent", "MinCountConstraintComponent", "PatternConstraintComponent",
            "InConstraintComponent", "OrConstraintComponent", "LanguageInConstraintComponent",
            "UniqueLangConstraintComponent", "QualifiedMaxCountConstraintComponent",
            "HasValueConstraintComponent", "MinInclusiveConstraintComponent", "MaxExclusiveConstraintComponent",
            "MinExclusiveConstraintComponent", "ClosedConstraintComponent"} <= components
    assert {r["component"] for r in full if r["shape"] == "http://example.org/seq"} == {
        "MaxCountConstraintComponent", "ClassConstraintComponent"}  # the sequence path's values
    # The same data written into a store that already holds part of it: an incremental validation.
    store.extend(turtle_quads("ex:SubKind rdfs:subClassOf ex:Kind . ex:k1 a ex:SubKind ; rdfs:label \"k\" ."))
    incremental = both(monkeypatch, lambda: validate_change(store, add=data))
    assert incremental


def test_partial_rdflib_graph_answers_rdflib_queries_over_every_triple() -> None:
    """pySHACL's rdflib graph holds only the triples its SPARQL-only shapes' targets read; a query pyoxigraph
    cannot take (answered by rdflib) still sees every triple."""
    a, p, b = ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p"), ox.Literal("b")
    typed = (a, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode("http://example.org/C"))
    data = validate_module._data_graph([typed, (a, p, b)], {typed[1]})
    assert len(list(data.triples((None, None, None)))) == 1
    answer = data.rdflib_query("SELECT ?o WHERE { <http://example.org/a> <http://example.org/p> ?o }")
    assert [str(row[0]) for row in answer] == ["b"]
