"""Reading the W3C test manifests into plain test records, one list per suite.

Why a fixed base IRI: the suites name their files with relative IRIs (``qt:data
<data.ttl>``, ``FROM <data-g1.ttl>``, expected results holding ``<data-g1.ttl>``), and
every harness resolves them against the file's location. We map the local folder to
``http://rdf-tests.invalid/…`` — the same IRIs for the data we load, the queries we send
(prefixed with ``BASE``) and the results we expect, and a host that can never be fetched
(``.invalid`` is reserved), so a test that would LOAD a relative IRI cannot reach the
internet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rdflib
from rdflib import RDF, RDFS, BNode, Namespace, URIRef
from rdflib.collection import Collection

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")

BASE_ROOT = "http://rdf-tests.invalid/"

#: Suites: name → manifest paths relative to the W3C folder (``--w3c``).
SUITES: dict[str, list[str]] = {
    "protocol": ["sparql/sparql11/protocol/manifest.ttl"],
    "query": ["sparql/sparql10/manifest-evaluation.ttl", "sparql/sparql10/manifest-syntax.ttl",
              "sparql/sparql11/manifest-sparql11-query.ttl", "sparql/sparql11/manifest-sparql11-results.ttl"],
    "update": ["sparql/sparql11/manifest-sparql11-update.ttl"],
    "graph-store": ["sparql/sparql11/graph-store-protocol/manifest.ttl"],
    "service-description": ["sparql/sparql11/service-description/manifest.ttl"],
}

#: Test types → what the runner does with them.
KINDS = {
    MF.QueryEvaluationTest: "query-eval",
    MF.CSVResultFormatTest: "query-eval",
    MF.PositiveSyntaxTest: "syntax+",
    MF.PositiveSyntaxTest11: "syntax+",
    MF.NegativeSyntaxTest: "syntax-",
    MF.NegativeSyntaxTest11: "syntax-",
    MF.PositiveUpdateSyntaxTest11: "syntax+",
    MF.NegativeUpdateSyntaxTest11: "syntax-",
    MF.UpdateEvaluationTest: "update-eval",
    MF.ProtocolTest: "protocol",
    MF.GraphStoreProtocolTest: "graph-store",
    MF.ServiceDescriptionTest: "service-description",
}


@dataclass
class TestCase:
    """One W3C test, as the runner needs it."""

    iri: str
    suite: str
    kind: str
    name: str
    manifest: Path
    #: The query or update file (syntax and evaluation tests).
    action: str | None = None
    #: Files (IRIs) merged into the default graph.
    data: list[str] = field(default_factory=list)
    #: (graph name, file IRI) pairs loaded as named graphs.
    graph_data: list[tuple[str, str]] = field(default_factory=list)
    #: Expected results file (query tests).
    result: str | None = None
    #: Expected store state (update tests).
    result_data: list[str] = field(default_factory=list)
    result_graph_data: list[tuple[str, str]] = field(default_factory=list)
    lax: bool = False
    service_data: bool = False
    approval: str | None = None
    #: The manifest graph and the test node, for tests described as HTTP exchanges.
    graph: Any = field(default=None, repr=False)
    node: Any = field(default=None, repr=False)


def to_iri(path: Path, w3c: Path) -> str:
    """The IRI a local file of the suite is known by."""
    return BASE_ROOT + path.resolve().relative_to(w3c.resolve()).as_posix()


def to_path(iri: str, w3c: Path) -> Path | None:
    """The local file behind an IRI of the suite, or ``None`` for anything else (a remote document)."""
    if not iri.startswith(BASE_ROOT):
        return None
    path = w3c / iri[len(BASE_ROOT):]
    return path if path.is_file() else None


def load_suite(suite: str, w3c: Path) -> list[TestCase]:
    """Every test of a suite, in manifest order."""
    tests: list[TestCase] = []
    seen: set[Path] = set()
    for relative in SUITES[suite]:
        _walk(w3c / relative, suite, w3c, tests, seen)
    return tests


def _walk(path: Path, suite: str, w3c: Path, tests: list[TestCase], seen: set[Path]) -> None:
    if path in seen:
        return
    seen.add(path)
    graph = rdflib.Graph()
    graph.parse(path, format="turtle", publicID=to_iri(path, w3c))
    for manifest in graph.subjects(RDF.type, MF.Manifest):
        for include in graph.objects(manifest, MF.include):
            for item in Collection(graph, include):
                local = to_path(str(item), w3c)
                if local is None:
                    raise ValueError(f"{path}: included manifest {item} is not a local file")
                _walk(local, suite, w3c, tests, seen)
        for entries in graph.objects(manifest, MF.entries):
            for node in Collection(graph, entries):
                test = _test(graph, node, suite, path)
                if test is not None:
                    tests.append(test)


def _first(graph: rdflib.Graph, node: Any, prop: URIRef) -> Any:
    return next(iter(graph.objects(node, prop)), None)


def _graph_data(graph: rdflib.Graph, node: Any, prop: URIRef, graph_prop: URIRef) -> list[tuple[str, str]]:
    out = []
    for value in graph.objects(node, prop):
        if isinstance(value, BNode):
            file_iri = str(_first(graph, value, graph_prop))
            label = _first(graph, value, RDFS.label)
            out.append((str(label) if label is not None else file_iri, file_iri))
        else:
            out.append((str(value), str(value)))
    return sorted(out)


def _test(graph: rdflib.Graph, node: Any, suite: str, manifest: Path) -> TestCase | None:
    kind = KINDS.get(_first(graph, node, RDF.type))  # type: ignore[arg-type]
    if kind is None:
        return None
    approval = _first(graph, node, DAWGT.approval)
    test = TestCase(
        iri=str(node), suite=suite, kind=kind, name=str(_first(graph, node, MF.name) or node), manifest=manifest,
        approval=str(approval).rsplit("#", 1)[-1] if approval is not None else None, graph=graph, node=node)
    action = _first(graph, node, MF.action)
    result = _first(graph, node, MF.result)
    test.lax = _first(graph, node, MF.resultCardinality) == MF.LaxCardinality
    if kind in ("syntax+", "syntax-"):
        test.action = str(action)
    elif kind == "query-eval":
        test.action = str(_first(graph, action, QT.query))
        test.data = sorted(str(d) for d in graph.objects(action, QT.data))
        test.graph_data = _graph_data(graph, action, QT.graphData, QT.graph)
        test.service_data = _first(graph, action, QT.serviceData) is not None
        test.result = str(result) if result is not None else None
    elif kind == "update-eval":
        test.action = str(_first(graph, action, UT.request))
        test.data = sorted(str(d) for d in graph.objects(action, UT.data))
        test.graph_data = _graph_data(graph, action, UT.graphData, UT.graph)
        if result is not None:
            test.result_data = sorted(str(d) for d in graph.objects(result, UT.data))
            test.result_graph_data = _graph_data(graph, result, UT.graphData, UT.graph)
    return test
