"""Parity of the SHACL-SPARQL constraints evaluated by our code (:mod:`service.validation.sparql_checks`) with pySHACL.

Each test validates the same change twice — with the compiled shapes left to pySHACL (``USE_CORE_CHECKS = False``)
and with them evaluated by the core and SPARQL checks — and compares every field of every result (focus, value, path,
shape, component, severity, message, constraint, labels). The corpora: hand-made writes that break each bundled
SPARQL rule (each test also asserts its rule fires), and a small shapes graph of our own with ``?path``, ``?value``,
``?failure``, message templates, ``$PATH`` on property shapes (predicate, inverse, sequence), ``$currentShape``,
``sh:deactivated``, duplicate rows and rows with nothing to report. The bundled store in full and the synthetic
batch are compared in ``test_core_checks.py``. Tests check that the shapes are really compiled, so the comparison is
never pySHACL against itself.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from service.rdf.bundle import load_bundled
from service.rdf.vocabulary import SHAPES_GRAPH
from service.validation import sparql_checks
from service.validation import validate as validate_module
from service.validation.shapes import shapes_model
from service.validation.validate import validate_change
from tests.validation.test_core_checks import DJSH, both, turtle_quads


@pytest.fixture(scope="module")
def bundled() -> ox.Store:
    return load_bundled(derive=True)


#: The bundled SPARQL-based node shapes, each with a write that breaks it.
WRITES = {
    "Membership_Constraint_endNotBeforeStart": (
        "djr:t-m a dj:Membership ; rdfs:label \"M\"@en ; dct:source djr:doc-002 ; dj:member djr:barack-obama ; "
        "dj:organization djr:japan ; dj:roleLabel \"x\"@en ; dj:startDate \"2012\"^^xsd:gYear ; "
        "dj:endDate \"2011\"^^xsd:gYear ."),
    "Event_Constraint_endNotBeforeStart": (
        "djr:t-ev a dj:Event ; rdfs:label \"E\"@en ; dct:source djr:doc-002 ; "
        "dj:startDate \"2012-05-01\"^^xsd:date ; dj:endDate \"2012-04\"^^xsd:gYearMonth ."),
    "Delegation_Constraint_representsASide": (
        "djr:t-round dj:delegation djr:t-del . djr:t-del a dj:Delegation ; dj:represents djr:t-other ."),
    "Claim_Constraint_minNotAboveMax": "djr:t-c a dj:Claim ; dj:quantityMin 5 ; dj:quantityMax 3 .",
    "Claim_Constraint_valueWithinRange": "djr:t-c a dj:Claim ; dj:quantityValue 10 ; dj:quantityMax 3 .",
    "Concept_Constraint_issueTyped": "djr:t-concept skos:inScheme djr:issues .",
    "SourceDocument_Constraint_seedFileGiven": "djr:t-doc a dj:SourceDocument .",
    "Linked_Constraint_uniqueWikidata": "djr:t-a skos:exactMatch <http://www.wikidata.org/entity/Q76> .",
    "Resource_Constraint_wellFormedDate": (
        "djr:t-ev a dj:Event ; rdfs:label \"E\"@en ; dct:source djr:doc-002 ; "
        "dj:startDate \"2012-13\"^^xsd:gYearMonth ."),
    "Resource_Constraint_dateNotAfterSource": (
        "djr:t-ev a dj:Event ; rdfs:label \"E\"@en ; dct:source djr:doc-002 ; dj:startDate \"2099\"^^xsd:gYear ."),
    "Annotation_Constraint_quoteFitsPosition": (
        "djr:t-ann a oa:Annotation ; oa:hasTarget djr:t-target . "
        "djr:t-target oa:hasSelector djr:t-quote, djr:t-pos . djr:t-quote oa:exact \"four\" . "
        "djr:t-pos oa:start 0 ; oa:end 9 ."),
    "Resource_Constraint_evidenced": (
        "djr:t-ev a dj:Event ; rdfs:label \"E\"@en ; dct:source djr:doc-002 ; dj:startDate \"2012\"^^xsd:gYear ."),
    "DerivedValue_Constraint_tripleStated": "djr:t-dv a dj:DerivedValue ; rdf:subject djr:japan .",
    "Resource_Constraint_wellFormedEDTF": (
        "djr:t-ev a dj:Event ; rdfs:label \"E\"@en ; dct:source djr:doc-002 ; dj:edtf \"2012-13\"^^dj:EDTF ."),
}


def test_bundled_shapes_are_all_compiled(bundled: ox.Store) -> None:
    core = validate_module._engine(shapes_model(bundled)).core
    assert not core.left, core.left
    assert {URIRef(DJSH + name) for name in WRITES} <= set(core.compiled)


@pytest.mark.parametrize("name", sorted(WRITES))
def test_write_breaking_a_bundled_sparql_rule(name: str, bundled: ox.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    quads = turtle_quads("@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n" + WRITES[name])
    results = both(monkeypatch, lambda: validate_change(bundled, add=quads))
    fired = [r for r in results if r["shape"] == DJSH + name]
    assert fired and all(r["component"] == "SPARQLConstraintComponent" and r["constraint"] for r in fired)


#: A shapes graph of our own: every way a SPARQL constraint's rows become results.
SHAPES = """
ex:prefixes sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .
ex:Rows a sh:NodeShape ; sh:targetClass ex:Thing ; sh:message "node {$this}"@en ;
  sh:sparql [ sh:prefixes ex:prefixes ; sh:message "bad {?x} of {$this} via {?path}: {?value}" ;
    sh:select \"\"\"SELECT $this ?path ?value ?x WHERE { $this ?path ?value . FILTER (?path IN (ex:p, ex:q))
                   BIND (STR(?value) AS ?x) }\"\"\" ] ,
  [ sh:prefixes ex:prefixes ; sh:select "SELECT $this ?value WHERE { $this ex:p ?value . $this ex:p ?other }" ] ,
  [ sh:prefixes ex:prefixes ; sh:select "SELECT ?x WHERE { ?s ex:p ?x }" ] ,
  [ sh:prefixes ex:prefixes ; sh:deactivated true ; sh:select "SELECT $this WHERE { $this a ex:Thing }" ] .
ex:Failure a sh:NodeShape ; sh:targetSubjectsOf ex:fail ; sh:severity sh:Warning ; sh:message "failed {?f}"@en ;
  sh:sparql [ sh:prefixes ex:prefixes ;
    sh:select "SELECT $this ?failure ?f WHERE { $this ex:fail ?f . BIND (true AS ?failure) }" ] .
ex:Current a sh:NodeShape ; sh:targetClass ex:Thing ; sh:message "shape"@en , "Form"@de ;
  sh:sparql [ sh:prefixes ex:prefixes ; sh:message "shape {$currentShape} {?value}"@en ;
    sh:select "SELECT $this $currentShape ?value WHERE { $this ex:shape ?value FILTER (?value != $currentShape) }" ] .
ex:Direct a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:q ; sh:message "q {?value} of {$this}"@en ;
  sh:datatype xsd:integer ;
  sh:sparql [ sh:prefixes ex:prefixes ;
    sh:select "SELECT $this ?value WHERE { $this $PATH ?value . FILTER (isLiteral(?value) && ?value > 2) }" ] .
ex:Inverse a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path [ sh:inversePath ex:owns ] ;
  sh:message "owned by {?value}"@en ;
  sh:sparql [ sh:prefixes ex:prefixes ; sh:select "SELECT $this ?value WHERE { $this $PATH ?value }" ] .
ex:Sequence a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ( ex:part <http://other.example/name> ) ;
  sh:message "part named {?value}"@en ;
  sh:sparql [ sh:select "SELECT $this ?value WHERE { $this $PATH ?value }" ] .
ex:Node a sh:NodeShape ; sh:targetClass ex:Thing ; sh:message "nested"@en ;
  sh:property [ sh:path ex:part ; sh:message "part {?value}"@en ; sh:sparql [ sh:prefixes ex:prefixes ;
    sh:select "SELECT $this ?value WHERE { $this ex:broken ?value }" ] ] ;
  sh:or ( [ sh:sparql [ sh:prefixes ex:prefixes ; sh:select "SELECT $this WHERE { $this ex:bad true }" ] ]
          [ sh:class ex:Fine ] ) .
"""

DATA = """
ex:t1 a ex:Thing ; ex:p 1, "01"^^xsd:integer, "a" ; ex:q 3, 1, "x" ; ex:shape ex:Current, ex:Other ;
  ex:part [ <http://other.example/name> "n" ; ex:broken "yes" ], [ ex:broken 2 ] ; ex:bad true ; ex:fail 1, 2 .
ex:t2 a ex:Thing ; ex:p ex:t1 ; ex:bad false .
ex:x ex:owns ex:t1 . ex:y ex:owns ex:t2 .
ex:t3 ex:fail "z" .
"""


def test_own_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    store = ox.Store()
    store.extend(turtle_quads(SHAPES, ox.NamedNode(SHAPES_GRAPH)))
    core = validate_module._engine(shapes_model(store)).core
    assert {str(n).split("/")[-1] for n in core.compiled} == {
        "Rows", "Failure", "Current", "Direct", "Inverse", "Sequence", "Node"}, core.left
    data = turtle_quads(DATA)  # parsed once: both runs see the same blank nodes
    full = both(monkeypatch, lambda: validate_change(store, add=data, full=True))
    by_shape: dict[str, list[dict]] = {}
    for r in full:
        by_shape.setdefault(r["shape"].split("/")[-1], []).append(r)
    assert {"Rows", "Failure", "Current", "Direct", "Inverse", "Sequence", "Node"} <= set(by_shape)
    assert any(r["path"] == "<http://example.org/q>" and "bad 3 of http://example.org/t1" in r["message"]
               for r in by_shape["Rows"])
    assert len(by_shape["Failure"]) == 2  # one per focus node, however many ?failure rows
    assert {r["component"] for r in by_shape["Direct"]} == {"DatatypeConstraintComponent", "SPARQLConstraintComponent"}
    store.extend(turtle_quads("ex:x ex:owns ex:t1 ."))  # some of it stored: an incremental validation
    assert both(monkeypatch, lambda: validate_change(store, add=data))


LEFT = """
ex:prefixes sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .
ex:Unprojected a sh:NodeShape ; sh:targetClass ex:Thing ; sh:message "m"@en ;
  sh:sparql [ sh:prefixes ex:prefixes ; sh:select "SELECT ?value WHERE { $this ex:p ?value }" ] .
ex:Minus a sh:NodeShape ; sh:targetClass ex:None ; sh:message "m"@en ;
  sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o MINUS { $this a ?c } }" ] .
ex:NodePath a sh:NodeShape ; sh:targetClass ex:None ; sh:message "m"@en ;
  sh:sparql [ sh:select "SELECT $this WHERE { $this $PATH ?o }" ] .
ex:TwoMessages a sh:NodeShape ; sh:targetClass ex:None ; sh:message "m"@en ;
  sh:sparql [ sh:message "a", "b" ; sh:select "SELECT $this WHERE { $this ?p ?o }" ] .
ex:AltPath a sh:PropertyShape ; sh:targetClass ex:None ; sh:message "m"@en ;
  sh:path [ sh:alternativePath ( ex:a ex:b ) ] ; sh:sparql [ sh:select "SELECT $this WHERE { $this $PATH ?o }" ] .
"""


def test_forms_left_to_pyshacl(monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts pyoxigraph cannot run with the substitutions, that pySHACL refuses, or whose message is ambiguous stay
    with pySHACL; a shape left to it still validates alike."""
    store = ox.Store()
    store.extend(turtle_quads(LEFT, ox.NamedNode(SHAPES_GRAPH)))
    core = validate_module._engine(shapes_model(store)).core
    assert not core.compiled
    reasons = {str(n).split("/")[-1]: reason for n, reason in core.left.items()}
    assert "pyoxigraph" in reasons["Unprojected"] and "MINUS" in reasons["Minus"]
    assert "$PATH" in reasons["NodePath"] and "message" in reasons["TwoMessages"] and "path" in reasons["AltPath"]
    results = both(monkeypatch, lambda: validate_change(store, add=turtle_quads("ex:t a ex:Thing ; ex:p 1 .")))
    assert [r["shape"] for r in results] == ["http://example.org/Unprojected"]


def test_regular_expressions_are_pyshacls() -> None:
    """The texts we bind and refuse are the ones pySHACL binds and refuses: its expressions, verbatim."""
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper as helper

    pairs = {"_BIND_THIS": "bind_this_regex", "_BIND_PATH": "bind_path_regex", "_BIND_SG": "bind_sg_regex",
             "_BIND_CS": "bind_cs_regex", "_HAS_MINUS": "has_minus_regex", "_HAS_VALUES": "has_values_regex",
             "_HAS_SERVICE": "has_service_regex", "_HAS_NESTED_SELECT": "has_nested_select_regex",
             "_HAS_AS_VAR": "has_as_var_regex"}
    for ours, theirs in pairs.items():
        mine, pyshacl = getattr(sparql_checks, ours), getattr(helper, theirs)
        assert isinstance(mine, re.Pattern) and (mine.pattern, mine.flags) == (pyshacl.pattern, pyshacl.flags), ours
