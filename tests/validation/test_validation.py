"""The validation core as its users meet it: reports that say which node broke which rule, in plain
words and as a SHACL report; the analysis that bounds what each shape reads; and the pySHACL
behaviour that made us select focus nodes ourselves.

Small shapes graphs are written inline (as pySHACL's own issue tests do), so each test shows
the rule it exercises; ``bundled`` tests use the project's real shapes and data.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import SH

from service import validation
from service.rdf.bundle import load_bundled
from service.rdf.terms import from_rdflib
from service.rdf.vocabulary import SHAPES_GRAPH
from service.validation import shapes

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:TalksShape a sh:NodeShape ; sh:targetClass ex:Talks ;
  sh:property ex:Talks_side , ex:Talks_date .
ex:Talks_side a sh:PropertyShape ; sh:path ex:side ; sh:name "talks side"@en ;
  sh:or ( [ sh:class ex:State ] [ sh:class ex:Org ] ) ; sh:minCount 2 ;
  sh:message "A round needs two sides, each a state or an organization."@en .
ex:Talks_date a sh:PropertyShape ; sh:path ex:date ; sh:maxCount 1 ; sh:datatype xsd:gYear ;
  sh:message "One date, as xsd:gYear."@en .
ex:Report a sh:NodeShape ; sh:targetObjectsOf ex:reportedBy ;
  sh:property [ sh:path [ sh:inversePath ex:reportedBy ] ; sh:maxCount 1 ;
                sh:message "A reporter reports one talk at most."@en ] .
"""
EX = "http://example.org/"


def n(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
G = n("g")


def store_with(shapes: str = SHAPES, data: list[ox.Quad] | None = None) -> ox.Store:
    store = ox.Store()
    store.load(shapes.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(SHAPES_GRAPH))
    store.extend(data or [])
    return store


BASE = [
    ox.Quad(n("japan"), RDF_TYPE, n("State"), G), ox.Quad(n("japan"), LABEL, ox.Literal("Japan", language="en"), G),
    ox.Quad(n("dprk"), RDF_TYPE, n("State"), G), ox.Quad(n("koizumi"), RDF_TYPE, n("Person"), G),
    ox.Quad(n("koizumi"), LABEL, ox.Literal("Junichiro Koizumi", language="en"), G),
]


def round_with(*sides: str, date: str | None = "2012") -> list[ox.Quad]:
    quads = [ox.Quad(n("round"), RDF_TYPE, n("Talks"), G),
             ox.Quad(n("round"), LABEL, ox.Literal("A round of talks", language="en"), G)]
    quads += [ox.Quad(n("round"), n("side"), n(s), G) for s in sides]
    if date:
        quads.append(ox.Quad(n("round"), n("date"),
                             ox.Literal(date, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear")), G))
    return quads


def test_a_new_round_may_name_sides_already_stored() -> None:
    """The context matters: the sides' types are in the store, not in the batch."""
    report = validation.validate_change(store_with(data=BASE), round_with("japan", "dprk"), union=False)
    assert report.conforms and report.results == []


def test_the_report_names_the_node_the_rule_and_the_value_with_labels() -> None:
    report = validation.validate_change(store_with(data=BASE), round_with("japan", "koizumi"), union=False)
    assert not report.conforms
    [result] = [r for r in report.results if r.component == "OrConstraintComponent"]
    assert result.focus == EX + "round" and result.focus_label == "A round of talks"
    assert result.value == f"<{EX}koizumi>" and result.value_label == "Junichiro Koizumi"
    assert result.shape == EX + "Talks_side" and result.shape_name == "talks side"
    assert result.message == "A round needs two sides, each a state or an organization."
    assert result.summary == ("A round of talks (<http://example.org/round>) has a <http://example.org/side> value "
                              "that matches none of the allowed forms (value: Junichiro Koizumi, "
                              "<http://example.org/koizumi>) — rule “talks side”.")


def test_a_statement_can_break_a_rule_of_a_stored_node() -> None:
    """A second date added to a stored round breaks sh:maxCount on that round."""
    store = store_with(data=BASE + round_with("japan", "dprk"))
    second = [ox.Quad(n("round"), n("date"), ox.Literal("2013", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#gYear")), n("other-graph"))]
    report = validation.validate_change(store, second, union=False)
    assert [r.component for r in report.results] == ["MaxCountConstraintComponent"]


def test_removing_a_type_breaks_the_nodes_that_point_to_it() -> None:
    store = store_with(data=BASE + round_with("japan", "dprk"))
    report = validation.validate_change(store, remove=[ox.Quad(n("dprk"), RDF_TYPE, n("State"), G)], union=False)
    assert {(r.focus, r.component) for r in report.results} == {(EX + "round", "OrConstraintComponent")}
    assert EX + "round" in report.checked


def test_inverse_paths_and_target_objects_of_reach_the_object_of_a_new_triple() -> None:
    store = store_with(data=[ox.Quad(n("t1"), n("reportedBy"), n("agency"), G)])
    report = validation.validate_change(store, [ox.Quad(n("t2"), n("reportedBy"), n("agency"), G)], union=False)
    assert [(r.focus, r.component) for r in report.results] == [(EX + "agency", "MaxCountConstraintComponent")]


def test_blank_node_focus_nodes_are_validated() -> None:
    """pySHACL's focus_nodes option drops blank nodes; our own selection keeps them."""
    quads = [ox.Quad(ox.BlankNode("r1"), RDF_TYPE, n("Talks"), G),
             ox.Quad(ox.BlankNode("r1"), n("side"), n("japan"), G)]
    report = validation.validate_change(store_with(data=BASE), quads, union=False)
    assert {r.component for r in report.results} == {"MinCountConstraintComponent"}
    assert report.results[0].focus == "_:r1"


def test_pyshacl_focus_nodes_option_misses_nested_shapes() -> None:
    """Why validation selects focus nodes itself: with ``focus_nodes``, pySHACL 0.40 also filters
    the value nodes of ``sh:or`` members, so a wrong side passes. If this starts failing, pySHACL
    was fixed and its option could be used again."""
    import pyshacl

    data = Graph().parse(data=f"@prefix ex: <{EX}> . ex:round a ex:Talks ; ex:side ex:koizumi , ex:japan . "
                              "ex:koizumi a ex:Person . ex:japan a ex:State .", format="turtle")
    shapes = Graph().parse(data=SHAPES, format="turtle")
    assert pyshacl.validate(data, shacl_graph=shapes)[0] is False
    assert pyshacl.validate(data, shacl_graph=shapes, focus_nodes=[EX + "round"])[0] is True
    store = store_with()
    for s, p, o in data:
        store.add(ox.Quad(from_rdflib(s), from_rdflib(p), from_rdflib(o), G))
    assert validation.validate_store(store, union=False).conforms is False


def test_warnings_do_not_make_a_change_non_conforming() -> None:
    shapes = SHAPES + f"""
    <{EX}Link> a <http://www.w3.org/ns/shacl#NodeShape> ; <http://www.w3.org/ns/shacl#targetClass> <{EX}State> ;
      <http://www.w3.org/ns/shacl#property> [ <http://www.w3.org/ns/shacl#path> <{EX}link> ;
        <http://www.w3.org/ns/shacl#minCount> 1 ;
        <http://www.w3.org/ns/shacl#severity> <http://www.w3.org/ns/shacl#Warning> ] ."""
    report = validation.validate_change(store_with(shapes), [ox.Quad(n("china"), RDF_TYPE, n("State"), G)],
                                        union=False)
    assert report.conforms and [r.severity for r in report.results] == ["Warning"]


def test_a_change_to_the_shapes_is_validated_in_full_with_the_new_shapes() -> None:
    store = store_with(data=BASE + round_with("japan", "dprk"))
    stricter = [ox.Quad(n("Talks_date"), ox.NamedNode(str(SH.minCount)), ox.Literal("2", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer")), ox.NamedNode(SHAPES_GRAPH))]
    report = validation.validate_change(store, stricter, union=False)
    assert report.mode == "full" and "shapes graph" in (report.reason or "")
    assert [r.component for r in report.results] == ["MinCountConstraintComponent"]


def test_the_json_report_groups_results_by_focus_node_and_round_trips() -> None:
    report = validation.validate_change(store_with(data=BASE), round_with("koizumi", date=None), union=False)
    data = report.to_json()
    assert data["conforms"] is False and data["violations"] == len(report.results) == 2
    [group] = data["by_focus_node"]
    assert group["focus"] == EX + "round" and group["label"] == "A round of talks"
    assert {r["component"] for r in group["results"]} == {"OrConstraintComponent", "MinCountConstraintComponent"}
    again = validation.ValidationReport.from_json(json.loads(json.dumps(data)))
    assert [r.key for r in again.results] == [r.key for r in report.results]


def test_the_shacl_report_graph_is_a_conforming_sh_validation_report() -> None:
    """The Turtle/JSON-LD report is a SHACL validation report (checked against the W3C shapes for reports)."""
    report = validation.validate_change(store_with(data=BASE), round_with("koizumi"), union=False)
    graph = report.to_graph()
    [node] = list(graph.subjects(predicate=SH.conforms))
    assert str(graph.value(node, SH.conforms)) == "false"
    results = list(graph.objects(node, SH.result))
    assert len(results) == len(report.results)
    for result in results:
        for required in (SH.focusNode, SH.resultSeverity, SH.sourceConstraintComponent, SH.sourceShape):
            assert graph.value(result, required) is not None, required
    Graph().parse(data=graph.serialize(format="turtle"), format="turtle")


def test_the_text_table_groups_by_node_with_labels() -> None:
    report = validation.validate_change(store_with(data=BASE), round_with("koizumi"), union=False)
    text = report.to_text()
    assert text.startswith("Conforms: no — 2 violation(s)")
    assert "<http://example.org/round>  “A round of talks”" in text
    assert "value <http://example.org/koizumi> (Junichiro Koizumi)" in text


@pytest.fixture(scope="module")
def bundled() -> ox.Store:
    return load_bundled()


def test_the_bundled_graph_conforms_to_its_shapes(bundled: ox.Store) -> None:
    """`dprk-kg validate` with no argument: the curated graph has no violation (warnings are advice)."""
    report = validation.validate_store(bundled, union=False)
    violations = [r.summary for r in report.results if r.severity == "Violation"]
    assert report.conforms, violations[:5]


def test_the_project_shapes_are_analysed_without_falling_back_to_full_validation(bundled: ox.Store) -> None:
    """Every shape of ontology/shapes.ttl has bounded reads: changes are validated incrementally."""
    model = shapes.shapes_model(bundled)
    assert model.unbounded_reason is None
    root = model.reads[()]
    assert root.out is shapes.ALL
    wikidata_holders = [steps for steps, reads in model.reads.items()
                        if steps and "http://www.w3.org/2004/02/skos/core#exactMatch" in reads.inc]
    assert wikidata_holders, "the unique-Wikidata-id rule must read the other holders of the id"


def test_the_shapes_are_parsed_once_and_reparsed_when_they_change(bundled: ox.Store) -> None:
    first = shapes.shapes_model(bundled)
    assert shapes.shapes_model(bundled) is first
    copy = ox.Store()
    copy.extend(bundled.quads_for_pattern(None, None, None, None))
    copy.add(ox.Quad(n("x"), LABEL, ox.Literal("x"), ox.NamedNode(SHAPES_GRAPH)))
    assert shapes.shapes_model(copy) is not first


@pytest.mark.parametrize("query, reads", [
    ("SELECT $this WHERE { $this <http://ex/p> ?v }", {(): (["http://ex/p"], [])}),
    ("SELECT $this WHERE { FILTER NOT EXISTS { ?x <http://ex/of> $this } }", {(): ([], ["http://ex/of"])}),
    ("SELECT $this ?value WHERE { $this <http://ex/id> ?value . ?other <http://ex/id> ?value "
     "FILTER(?other != $this) }", {(): (["http://ex/id"], []), (("http://ex/id", "out"),): ([], ["http://ex/id"])}),
    ("SELECT $this WHERE { $this a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* <http://ex/C> }",
     {(): (["http://www.w3.org/1999/02/22-rdf-syntax-ns#type"], [])}),
])
def test_sparql_constraints_are_analysed_relative_to_this(query: str, reads: dict) -> None:
    found = shapes.sparql_analysis(query).reads
    assert {k: (sorted(v.out or []), sorted(v.inc)) for k, v in found.items()} == reads


def test_a_sparql_constraint_with_a_free_pattern_cannot_be_bounded() -> None:
    with pytest.raises(shapes.Unbounded):
        shapes.sparql_analysis("SELECT $this WHERE { ?a <http://ex/p> ?b }")


def test_a_variable_predicate_reads_every_triple_of_a_placed_node() -> None:
    """'Is the reified triple stated?' (``?s ?p ?o`` with ?s reached from $this) is bounded: it reads
    all of ?s's outgoing triples, types included; on a node nothing places it stays unbounded."""
    subject = "http://www.w3.org/1999/02/22-rdf-syntax-ns#subject"
    found = shapes.sparql_analysis(
        f"SELECT $this WHERE {{ $this <{subject}> ?s . FILTER NOT EXISTS {{ ?s ?p ?o }} }}")
    assert found.plain_type
    assert found.reads[((subject, "out"),)].out is shapes.ALL
    with pytest.raises(shapes.Unbounded):
        shapes.sparql_analysis("SELECT $this WHERE { $this <http://ex/p> ?v . ?a ?p ?b }")
