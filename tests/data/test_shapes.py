"""The SHACL shapes (ontology/shapes.ttl) catch what they promise to catch, and only that.

Why these tests: the shapes are the contract the data writers and the service's /validate
rely on. Each named shape has one or more minimal invalid fixtures in
tests/fixtures/invalid/<shape>[--variant].ttl; a fixture must make its shape fire, with the
shape's own message and severity, and make no other shape report a violation (so the
fixture proves that rule, not some other one). Valid fixtures hold the edge cases that
must NOT fire, e.g. a start "2012-08" with an end "2012". Finally the committed data must
conform, as a whole and graph by graph.

Validation runs as the service runs it: pySHACL, no inference, the ontology supplied as
ont_graph (pySHACL copies its axioms and named individuals into the data graph) or merged
into the data graph; SHACL targets then reach instances of subclasses through the
rdfs:subClassOf triples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import rdflib
from pyshacl import validate
from pyshacl.entrypoints import meta_validate
from rdflib import RDF, RDFS, URIRef
from rdflib.namespace import SH

from service.rdf.dataset import data_files

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY_FILE = ROOT / "ontology" / "dprk-japan.ttl"
SHAPES_FILE = ROOT / "ontology" / "shapes.ttl"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
INVALID_FIXTURES = sorted((FIXTURES / "invalid").glob("*.ttl"))
VALID_FIXTURES = sorted((FIXTURES / "valid").glob("*.ttl"))
DATA_FILES = data_files(ROOT)  # data/*.trig and the evidence passages data/evidence/*.trig

DJSH = rdflib.Namespace("https://w3id.org/dprk-japan-kg/shapes#")
DJ = rdflib.Namespace("https://w3id.org/dprk-japan-kg/ontology#")

# Predicates a pure "container" node shape may carry: it only groups property shapes.
CONTAINER_PREDICATES = {RDF.type, SH.targetClass, SH.targetSubjectsOf, SH.name, RDFS.comment, SH.property}
SHAPE_NAME = re.compile(r"^(?P<cls>[A-Z][A-Za-z]+)_(?P<kind>Property|Constraint|Recommended)_(?P<rest>[A-Za-z0-9_]+)$")


@dataclass(frozen=True)
class Outcome:
    """One validation result: which shape, how severe, what it said, about which node."""

    shape: URIRef
    severity: URIRef
    message: str
    focus: str


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES_FILE)


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_FILE)


def run(
    data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph | None, mode: str = "ont_graph"
) -> list[Outcome]:
    """Validate like the service does; mode 'merged' adds the ontology to the data graph instead."""
    if mode == "merged" and ontology is not None:
        data = data + ontology
        ontology = None
    _conforms, report, _text = validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True, allow_warnings=True
    )
    outcomes = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        for message in report.objects(result, SH.resultMessage) or [""]:
            outcomes.append(
                Outcome(
                    shape=report.value(result, SH.sourceShape),
                    severity=report.value(result, SH.resultSeverity),
                    message=str(message),
                    focus=str(report.value(result, SH.focusNode)),
                )
            )
    return outcomes


def named_shapes(shapes: rdflib.Graph) -> set[URIRef]:
    """Every shape with an IRI (node shapes and property shapes)."""
    found = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    return {s for s in found if isinstance(s, URIRef)}


def rule_shapes(shapes: rdflib.Graph) -> set[URIRef]:
    """Named shapes that carry constraints of their own (not mere containers of property shapes)."""
    return {s for s in named_shapes(shapes) if set(shapes.predicates(s)) - CONTAINER_PREDICATES}


def fixture_shape(path: Path) -> URIRef:
    """tests/fixtures/invalid/<Shape>[--variant].ttl -> djsh:<Shape>."""
    return DJSH[path.stem.split("--")[0]]


# -- the shapes file itself -------------------------------------------------------------------


def test_shapes_pass_meta_shacl(shapes: rdflib.Graph) -> None:
    conforms, _report, text = meta_validate(shapes, inference="none")
    assert conforms, text


def test_shapes_header(shapes: rdflib.Graph) -> None:
    header = URIRef("https://w3id.org/dprk-japan-kg/shapes")
    assert str(shapes.value(header, rdflib.OWL.versionInfo)) == "0.2.0"
    assert shapes.value(header, rdflib.DCTERMS.title) is not None
    assert shapes.value(header, rdflib.DCTERMS.description) is not None
    assert shapes.value(header, rdflib.DCTERMS.conformsTo) == URIRef("https://www.w3.org/TR/shacl/")
    assert shapes.value(header, rdflib.DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")


def test_every_rule_shape_has_name_severity_and_message(shapes: rdflib.Graph) -> None:
    missing = []
    for shape in sorted(rule_shapes(shapes)):
        for predicate in (SH.name, SH.severity, SH.message):
            if shapes.value(shape, predicate) is None:
                missing.append(f"{shape} lacks {predicate}")
    assert not missing, "\n".join(missing)


def test_every_property_shape_is_a_named_rule(shapes: rdflib.Graph) -> None:
    """Property shapes attached with sh:property are IRIs named <NodeShape>_<kind>_..., so
    a report's sh:sourceShape tells the reader which rule failed."""
    problems = []
    for node_shape, prop in shapes.subject_objects(SH.property):
        if not isinstance(prop, URIRef):
            problems.append(f"{node_shape}: anonymous property shape")
            continue
        match = SHAPE_NAME.match(prop.removeprefix(str(DJSH)))
        if match is None or DJSH[match["cls"]] != node_shape:
            problems.append(f"{prop} is attached to {node_shape} but not named after it")
        for predicate in (SH.name, SH.severity, SH.message):
            if shapes.value(prop, predicate) is None:
                problems.append(f"{prop} lacks {predicate}")
    assert not problems, "\n".join(problems)


def test_rule_shape_names_follow_the_convention(shapes: rdflib.Graph) -> None:
    bad = [s for s in rule_shapes(shapes) if not SHAPE_NAME.match(s.removeprefix(str(DJSH)))]
    assert not bad


def test_messages_are_unique_per_shape(shapes: rdflib.Graph) -> None:
    """The message is how a person finds the rule; one message per rule shape."""
    for shape in rule_shapes(shapes):
        assert len(list(shapes.objects(shape, SH.message))) == 1, shape


def test_every_rule_shape_has_an_invalid_fixture(shapes: rdflib.Graph) -> None:
    covered = {fixture_shape(p) for p in INVALID_FIXTURES}
    assert sorted(rule_shapes(shapes) - covered) == []


def test_every_invalid_fixture_names_an_existing_shape(shapes: rdflib.Graph) -> None:
    unknown = [p.name for p in INVALID_FIXTURES if fixture_shape(p) not in rule_shapes(shapes)]
    assert unknown == []


# -- fixtures ---------------------------------------------------------------------------------


@pytest.mark.slow  # runs pySHACL over every case: long
@pytest.mark.parametrize("mode", ["ont_graph", "merged"])
@pytest.mark.parametrize("path", INVALID_FIXTURES, ids=lambda p: p.stem)
def test_invalid_fixture_fires_its_shape(path: Path, mode: str, shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    expected = fixture_shape(path)
    message = str(shapes.value(expected, SH.message))
    severity = shapes.value(expected, SH.severity)
    outcomes = run(rdflib.Graph().parse(path), shapes, ontology, mode)

    fired = [o for o in outcomes if o.shape == expected]
    assert fired, f"{expected} did not fire; got {sorted({str(o.shape) for o in outcomes})}"
    assert {o.message for o in fired} == {message}
    assert {o.severity for o in fired} == {severity}
    other_violations = [o for o in outcomes if o.severity == SH.Violation and o.shape != expected]
    assert other_violations == [], "the fixture should break one rule only"


@pytest.mark.parametrize("mode", ["ont_graph", "merged"])
@pytest.mark.parametrize("path", VALID_FIXTURES, ids=lambda p: p.stem)
def test_valid_fixture_conforms(path: Path, mode: str, shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    outcomes = run(rdflib.Graph().parse(path), shapes, ontology, mode)
    assert [o for o in outcomes if o.severity == SH.Violation] == []


def test_complete_fixture_has_not_even_warnings(shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    outcomes = run(rdflib.Graph().parse(FIXTURES / "valid" / "agents-no-warnings.ttl"), shapes, ontology)
    assert outcomes == []


def test_subclass_instances_are_targeted_without_inference(shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    """sh:targetClass dj:NegotiationRound reaches a dj:IntergovernmentalTalks only because the
    ontology's rdfs:subClassOf triples are in the data graph; without them the round escapes."""
    data = rdflib.Graph().parse(FIXTURES / "invalid" / "NegotiationRound_Property_dj_participant.ttl")
    rule = DJSH.NegotiationRound_Property_dj_participant
    assert any(o.shape == rule for o in run(data, shapes, ontology, "ont_graph"))
    assert any(o.shape == rule for o in run(data, shapes, ontology, "merged"))
    assert not any(o.shape == rule for o in run(data, shapes, None))


def test_month_start_and_year_end_are_in_order(shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    """'2012-08' to '2012' is not an end before the start; '2013' to '2012-12' is."""
    template = """@prefix dj: <https://w3id.org/dprk-japan-kg/ontology#> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    <urn:x:e> a dj:Period ; dj:startDate "{start}"^^xsd:{st} ; dj:endDate "{end}"^^xsd:{et} ."""
    cases = [
        ("2012-08", "gYearMonth", "2012", "gYear", False),
        ("2012", "gYear", "2012-08", "gYearMonth", False),
        ("2012-08-31", "date", "2012-08", "gYearMonth", False),
        ("2012-08", "gYearMonth", "2012-08-01", "date", False),
        ("2012-09-01", "date", "2012-08", "gYearMonth", True),
        ("2013", "gYear", "2012-12-31", "date", True),
        ("2012-11-15", "date", "2012-11-14", "date", True),
    ]
    for start, st, end, et, violated in cases:
        data = rdflib.Graph().parse(data=template.format(start=start, st=st, end=end, et=et), format="turtle")
        fired = any(o.shape == DJSH.Event_Constraint_endNotBeforeStart for o in run(data, shapes, ontology))
        assert fired == violated, (start, end)


# -- the committed data -----------------------------------------------------------------------


def load_data_graphs() -> dict[str, rdflib.Graph]:
    graphs: dict[str, rdflib.Graph] = {}
    for path in DATA_FILES:
        dataset = rdflib.Dataset()
        dataset.parse(path, format="trig")
        for context in dataset.graphs():
            if len(context):
                target = graphs.setdefault(str(context.identifier), rdflib.Graph())
                for triple in context:
                    target.add(triple)
    return graphs


def test_data_files_exist() -> None:
    assert DATA_FILES, "data/*.trig: no data files"


@pytest.mark.slow  # runs pySHACL over the whole graph: long
def test_whole_dataset_has_no_violations(shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    union = rdflib.Graph()
    for graph in load_data_graphs().values():
        for triple in graph:
            union.add(triple)
    violations = [o for o in run(union, shapes, ontology) if o.severity == SH.Violation]
    assert violations == []


@pytest.mark.slow  # runs pySHACL over the whole graph: long
def test_each_graph_has_no_violations_on_its_own(shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    """A document graph must be self-contained: what it mentions is typed, labelled and
    sourced inside it (vocabulary spec, 'Named graphs')."""
    problems = []
    for name, graph in sorted(load_data_graphs().items()):
        problems += [(name, o) for o in run(graph, shapes, ontology) if o.severity == SH.Violation]
    assert problems == []
