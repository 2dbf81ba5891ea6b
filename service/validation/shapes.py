"""The shapes graph, analysed once: what each shape reads relative to its focus node.

Why: incremental validation must know which triples a rule can look at — the node's own
triples, values reached by its paths (``sh:class`` reads their types, nested shapes read
more), incoming triples for inverse paths and ``sh:targetObjectsOf``, what SPARQL-based
constraints join on (two resources sharing one Wikidata id) — to find the nodes a change
can affect and the context they need. Shapes whose reads cannot be bounded (recursive
shapes, repetition paths, SPARQL with free patterns) are marked so that changes get a full
validation. This module knows nothing of pySHACL's engine (:mod:`.validate` runs it).
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from service.rdf.terms import to_rdflib
from service.rdf.vocabulary import SHAPES_GRAPH, curie
from service.validation.shape_queries import check_shapes

SHAPES = ox.NamedNode(SHAPES_GRAPH)

#: A location relative to a focus node: the steps ``(predicate IRI, "out"|"in")`` that reach it.
Steps = tuple[tuple[str, str], ...]
#: "Every predicate" in a read set.
ALL = None

MAX_DEPTH = 4
SHAPE_PARAMS_ON_VALUES = (SH.node, SH.qualifiedValueShape, SH["not"])
SHAPE_LIST_PARAMS = (SH["or"], SH["and"], SH.xone)
TARGET_PARAMS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


@dataclass
class Reads:
    """What shapes read at one location: outgoing predicates (``None`` = all) and incoming ones."""

    out: set[str] | None = field(default_factory=set)
    inc: set[str] = field(default_factory=set)

    def add_out(self, predicates: Iterable[str] | None) -> None:
        if predicates is ALL or self.out is ALL:
            self.out = ALL
        else:
            self.out |= set(predicates)  # type: ignore[operator]


class Unbounded(Exception):
    """The analysis cannot bound what a shape reads; changes then get a full validation."""


# -- the walk over the shapes --------------------------------------------------------------


class ShapesAnalysis:
    """Walks the shapes and records, per location relative to a focus node, what is read."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.reads: dict[Steps, Reads] = defaultdict(Reads)
        self.unbounded_reason: str | None = None
        #: Some rule looks at a node's exact set of types (a path through rdf:type, a closed shape, a
        #: SPARQL pattern on rdf:type other than rdf:type/rdfs:subClassOf*), not just class membership.
        self.exact_types = False

    def run(self) -> None:
        """Analyse every shape that has targets (the others are reached through them)."""
        top = set()
        for param in TARGET_PARAMS:
            top |= set(self.graph.subjects(param, None))
        top |= {s for s in self.graph.subjects(RDF.type, SH.NodeShape) if (s, RDF.type, RDFS.Class) in self.graph}
        try:
            for shape in sorted(top, key=str):
                self.reads[()].add_out(ALL)  # the focus node's own triples: types, targets, values
                for p in self.graph.objects(shape, SH.targetObjectsOf):
                    self.reads[()].inc.add(str(p))
                self.shape(shape, (), ())
        except Unbounded as exc:
            self.unbounded_reason = str(exc)

    # A shape applied at `at` (its focus nodes are the nodes at that location).
    def shape(self, shape: Node, at: Steps, stack: tuple[Node, ...]) -> None:
        if shape in stack:
            raise Unbounded(f"recursive shape {shape}")
        if len(at) > MAX_DEPTH:
            raise Unbounded(f"shape {shape} nests deeper than {MAX_DEPTH} steps")
        stack = (*stack, shape)
        g = self.graph
        path = g.value(shape, SH.path)
        values = self.path(path, at) if path is not None else [at]
        for value_at in values:
            self.on_values(shape, value_at, stack)
        for prop in g.objects(shape, SH.property):
            for value_at in values:  # a node shape's value node is its focus node
                self.shape(prop, value_at, stack)
        for param in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            for p in g.objects(shape, param):
                self.reads[at].add_out([str(p)])
        for constraint in g.objects(shape, SH.sparql):
            self.sparql(constraint, at)
        if (shape, SH.closed, Literal(True)) in g:
            self.exact_types = True
            for value_at in values:
                self.reads[value_at].add_out(ALL)

    def on_values(self, shape: Node, at: Steps, stack: tuple[Node, ...]) -> None:
        """Constraints of ``shape`` that look at the value nodes located at ``at``."""
        g = self.graph
        if any(True for _ in g.objects(shape, SH["class"])):
            self.reads[at].add_out([str(RDF.type)])
        for param in SHAPE_PARAMS_ON_VALUES:
            for nested in g.objects(shape, param):
                self.shape(nested, at, stack)
        for param in SHAPE_LIST_PARAMS:
            for head in g.objects(shape, param):
                for member in g.items(head):
                    self.shape(member, at, stack)

    def path(self, path: Node, at: Steps) -> list[Steps]:
        """Record the reads a SHACL path makes from ``at``; return where its values are."""
        g = self.graph
        if isinstance(path, URIRef):
            self.exact_types = self.exact_types or path == RDF.type
            self.reads[at].add_out([str(path)])
            return [(*at, (str(path), "out"))]
        inverse = g.value(path, SH.inversePath)
        if inverse is not None:
            if not isinstance(inverse, URIRef):
                raise Unbounded("complex inverse path")
            self.exact_types = self.exact_types or inverse == RDF.type
            self.reads[at].inc.add(str(inverse))
            return [(*at, (str(inverse), "in"))]
        alternative = g.value(path, SH.alternativePath)
        if alternative is not None:
            return [loc for member in g.items(alternative) for loc in self.path(member, at)]
        for unbounded in (SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
            if g.value(path, unbounded) is not None:
                raise Unbounded(f"path {unbounded.split('#')[-1]} cannot be bounded")
        if (path, RDF.first, None) in g:
            locations = [at]
            for member in g.items(path):
                locations = [loc for start in locations for loc in self.path(member, start)]
            return locations
        raise Unbounded(f"unknown path form {path}")

    def sparql(self, constraint: Node, at: Steps) -> None:
        """Record what a SPARQL-based constraint reads, relative to its ``$this`` at ``at``."""
        select = self.graph.value(constraint, SH.select)
        if select is None:
            raise Unbounded("SPARQL constraint without sh:select")
        text = str(select)
        if "$PATH" in text or "$shapesGraph" in text or "$currentShape" in text:
            raise Unbounded("SPARQL constraint using $PATH, $shapesGraph or $currentShape")
        found = sparql_analysis(prefixed_query(self.graph, constraint, text))
        self.exact_types = self.exact_types or found.plain_type
        for steps, reads in found.reads.items():
            location = (*at, *steps)
            if len(location) > MAX_DEPTH:
                raise Unbounded("SPARQL constraint reaches too far")
            self.reads[location].add_out(reads.out)
            self.reads[location].inc |= reads.inc


def prefixed_query(graph: Graph, constraint: Node, text: str) -> str:
    """The query text with the PREFIX declarations its ``sh:prefixes`` name (SHACL 5.2.1)."""
    declarations = []
    for source in graph.objects(constraint, SH.prefixes):
        for declaration in graph.objects(source, SH.declare):
            prefix = graph.value(declaration, SH.prefix)
            namespace = graph.value(declaration, SH.namespace)
            if prefix is not None and namespace is not None:
                declarations.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join([*declarations, text])


# -- what a SPARQL-based constraint reads -----------------------------------------------------

#: A triple pattern whose predicate is a set of single steps ``(predicate IRI, "out"|"in")``.
_Resolved = tuple[Any, list[tuple[str, str]], Any]


class SparqlAnalysis(NamedTuple):
    """What a SELECT reads relative to ``$this``, per location, and whether it looks at rdf:type
    other than through ``rdf:type/rdfs:subClassOf*`` (class membership)."""

    reads: dict[Steps, Reads]
    plain_type: bool


def sparql_analysis(query: str) -> SparqlAnalysis:
    """What a SELECT reads relative to ``$this`` (see :class:`SparqlAnalysis`).

    Every triple pattern must connect to ``$this`` (through variables); patterns that
    do not, property paths with repetition (other than ``rdfs:subClassOf*``, which
    the hierarchy in every context answers), sub-queries, GRAPH and SERVICE make the
    constraint unbounded. A pattern with a variable predicate reads all outgoing triples of
    its subject, which other patterns must place. In four steps: the query's triple patterns; their predicates
    as single steps; where each variable sits relative to ``$this``; the reads, each
    triple taken from its nearer end.
    """
    patterns = _triple_patterns(query)
    free = [t for t in patterns if _is_var(t[1])]
    resolved, plain_type = _single_steps([t for t in patterns if not _is_var(t[1])])
    where = _place_variables(resolved)
    reads = _reads_of(resolved, where)
    for s, _p, _o in free:
        # ``?x ?p ?o`` reads every outgoing triple of a node the other patterns place (e.g. "has this
        # node a fact triple?", "is the reified triple stated?"): bounded, and it may read rdf:type.
        if s not in where:
            raise Unbounded("SPARQL pattern with a variable predicate on a node not reached from $this")
        for at in where[s]:
            reads[at].add_out(ALL)
        plain_type = True
    return SparqlAnalysis(reads, plain_type)


def _triple_patterns(query: str) -> list[tuple[Any, Any, Any]]:
    """Every triple pattern of the query's algebra; GRAPH, SERVICE and sub-queries are unbounded."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    algebra = translateQuery(parseQuery(query)).algebra
    patterns: list[tuple[Any, Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            name = getattr(node, "name", "")
            if name in ("Graph", "GraphGraphPattern", "ServiceGraphPattern", "SubSelect") or (
                    name == "SelectQuery" and node is not algebra):
                raise Unbounded(f"SPARQL constraint uses {name}")
            if name in ("BGP", "TriplesBlock"):  # EXISTS patterns stay untranslated (TriplesBlock)
                for t in node["triples"]:  # untranslated, "a p o ; q r" is one flat run of triples
                    patterns.extend(tuple(t[i:i + 3]) for i in range(0, len(t), 3))
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    walk(algebra)
    return patterns


def _single_steps(patterns: list[tuple[Any, Any, Any]]) -> tuple[list[_Resolved], bool]:
    """Each pattern's predicate as alternatives of single steps, and whether rdf:type is read plainly.

    ``x rdf:type/rdfs:subClassOf* C`` counts as the type step alone: the hierarchy is in every context.
    """
    from rdflib.paths import SequencePath

    resolved: list[_Resolved] = []
    plain_type = False
    for s, p, o in patterns:
        membership = isinstance(p, SequencePath) and len(p.args) == 2 and _hierarchy_tail(p.args[1])
        if membership:
            p = p.args[0]
        steps = _simple_path(p)
        if steps is None:
            raise Unbounded(f"SPARQL property path {p} cannot be bounded")
        plain_type = plain_type or (not membership and any(step == str(RDF.type) for step, _ in steps))
        resolved.append((s, steps, o))
    return resolved, plain_type


def _simple_path(path: Any) -> list[tuple[str, str]] | None:
    """A path as alternatives of single steps, or None when it is a sequence/repetition."""
    from rdflib.paths import AlternativePath, InvPath

    if isinstance(path, URIRef):
        return [(str(path), "out")]
    if isinstance(path, InvPath) and isinstance(path.arg, URIRef):
        return [(str(path.arg), "in")]
    if isinstance(path, AlternativePath):
        steps = [_simple_path(arg) for arg in path.args]
        if any(s is None for s in steps):
            return None
        return [step for s in steps for step in s]  # type: ignore[union-attr]
    return None


def _hierarchy_tail(path: Any) -> bool:
    from rdflib.paths import MulPath

    return isinstance(path, MulPath) and path.path == RDFS.subClassOf and path.mod in ("*", "+")


def _is_var(term: Any) -> bool:
    from rdflib.term import Variable

    return isinstance(term, Variable | BNode)


def _place_variables(resolved: list[_Resolved]) -> dict[Any, set[Steps]]:
    """Where each variable sits relative to ``$this``: breadth-first, placed where the first patterns reach it."""
    from rdflib.term import Variable

    this = Variable("this")
    where: dict[Any, set[Steps]] = {this: {()}}
    frontier = {this}
    while frontier:
        reached: dict[Any, set[Steps]] = defaultdict(set)
        for s, steps, o in resolved:
            for predicate, direction in steps:
                if s in frontier and _is_var(o) and o not in where:
                    reached[o] |= {(*at, (predicate, direction)) for at in where[s]}
                if o in frontier and _is_var(s) and s not in where:
                    back = "in" if direction == "out" else "out"
                    reached[s] |= {(*at, (predicate, back)) for at in where[o]}
        for var, locations in reached.items():
            if any(len(loc) > MAX_DEPTH for loc in locations):
                raise Unbounded("SPARQL constraint reaches too far from $this")
            where[var] = locations
        frontier = set(reached)
    return where


def _reads_of(resolved: list[_Resolved], where: dict[Any, set[Steps]]) -> dict[Steps, Reads]:
    """The reads of the patterns: a triple is both its subject's outgoing and its object's incoming,
    so it is read from the nearer end."""

    def depth(term: Any) -> int | None:
        locations = where.get(term) if _is_var(term) else None
        return min(len(loc) for loc in locations) if locations else None

    reads: dict[Steps, Reads] = defaultdict(Reads)
    for s, steps, o in resolved:
        s_depth, o_depth = depth(s), depth(o)
        if s_depth is None and o_depth is None:
            raise Unbounded("SPARQL constraint has patterns not connected to $this")
        from_subject = o_depth is None or (s_depth is not None and s_depth <= o_depth)
        for predicate, direction in steps:
            for at in where[s] if from_subject else where[o]:
                if (direction == "out") == from_subject:
                    reads[at].add_out([predicate])
                else:
                    reads[at].inc.add(predicate)
    return reads


# -- the shapes, parsed once ---------------------------------------------------------------


class FrozenGraph(Graph):
    """A graph that no longer changes, with every triple-pattern lookup memoized.

    Why: pySHACL re-reads each shape's parameters from the shapes graph for every focus
    node and every value node of a nested shape; memoizing those lookups makes a large
    batch several times faster. Any ``add`` clears the memo, so it is always exact.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memo: dict[tuple, list] = {}

    def add(self, triple: Any) -> Any:
        self._memo.clear()
        return super().add(triple)

    def triples(self, triple: Any) -> Iterator[Any]:  # type: ignore[override]
        from rdflib.paths import Path

        if isinstance(triple[1], Path):
            yield from super().triples(triple)
            return
        found = self._memo.get(triple)
        if found is None:
            found = self._memo[triple] = list(super().triples(triple))
        yield from found


class ShapesModel:
    """The shapes graph checked and analysed, kept until the shapes change."""

    def __init__(self, shapes: Graph, fingerprint: str) -> None:
        check_shapes(shapes)  # before anything reads them: no SPARQL text in them may fetch anything
        self.graph = shapes
        self.fingerprint = fingerprint
        analysis = ShapesAnalysis(shapes)
        analysis.run()
        self.reads = dict(analysis.reads)
        self.unbounded_reason = analysis.unbounded_reason
        self.exact_types = analysis.exact_types

    def name(self, shape: Any) -> str | None:
        """The shape's ``sh:name`` (English preferred)."""
        names = list(self.graph.objects(shape, SH.name))
        english = [n for n in names if getattr(n, "language", None) == "en"]
        return str((english or names)[0]) if names else None

    def path_text(self, path: Node | None, *, short: bool) -> str | None:
        """A SHACL path as SPARQL property-path text."""
        if path is None:
            return None
        g = self.graph
        if isinstance(path, URIRef):
            return curie(str(path), brackets=True) if short else f"<{path}>"
        inverse = g.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + (self.path_text(inverse, short=short) or "?")
        alternative = g.value(path, SH.alternativePath)
        if alternative is not None:
            return "(" + "|".join(self.path_text(m, short=short) or "?" for m in g.items(alternative)) + ")"
        for param, mark in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
            inner = g.value(path, param)
            if inner is not None:
                return f"({self.path_text(inner, short=short)}){mark}"
        return "/".join(self.path_text(m, short=short) or "?" for m in g.items(path))


_models: dict[str, ShapesModel] = {}
_models_lock = threading.Lock()
MODEL_CACHE_SIZE = 4


def shapes_fingerprint(store: ox.Store) -> str:
    """A digest of the shapes graph: the cache key of :class:`ShapesModel`."""
    data = ox.serialize(store.quads_for_pattern(None, None, None, SHAPES), format=ox.RdfFormat.N_QUADS) or b""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def shapes_model(store: ox.Store) -> ShapesModel:
    """The checked, analysed shapes of ``store``, cached by content: a change to the shapes graph
    (through any write path, native updates included) gives a new fingerprint and a new model."""
    fingerprint = shapes_fingerprint(store)
    with _models_lock:
        model = _models.get(fingerprint)
        if model is not None:
            return model
        graph = FrozenGraph()
        for quad in store.quads_for_pattern(None, None, None, SHAPES):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        model = ShapesModel(graph, fingerprint)
        while len(_models) >= MODEL_CACHE_SIZE:
            _models.pop(next(iter(_models)))
        _models[fingerprint] = model
        return model
