"""SHACL validation of a change *in the context of the stored graph*, incrementally.

Why this module exists: every write is checked against the shapes before it is
committed, and the check must cost what the change costs, not what the graph costs.
Validating the batch alone is wrong (a new round of talks names participants whose
types live in the store), and validating the whole graph is too slow (minutes at a
million triples). So :func:`validate_change`:

1. reads the *after* state through :class:`AfterView` (the store, minus what the
   change removes, plus what it adds — nothing is written);
2. works out which nodes could validate differently after the change (the
   *affected focus nodes*) from an analysis of the shapes (:class:`ShapesModel`):
   which triples each shape reads, relative to its focus node — the node's own
   triples, values reached by its paths (``sh:class`` reads their types, nested
   shapes read more), incoming triples for inverse paths and ``sh:targetObjectsOf``,
   and what SPARQL-based constraints join on (two resources sharing one Wikidata id);
3. builds a small data graph holding exactly those reads plus the class hierarchy;
4. runs pySHACL's shapes on the affected focus nodes only.

pySHACL's own ``focus_nodes`` option is not used: in 0.40.1 it also filters the value
nodes of nested shapes (``sh:or``, ``sh:node``, ``sh:qualifiedValueShape``) against the
focus list, so a wrong participant type inside ``sh:or`` passes unnoticed. We select
each shape's focus nodes ourselves and hand them to the shape.

SPARQL-based constraints run on pyoxigraph (a copy of the small context), which is
30–100× faster than rdflib's engine here; everything else is pySHACL's. Neither engine
may reach the network: every SPARQL text of a shapes graph is checked when the shapes
are parsed (:class:`ShapesModel`), and every text pySHACL runs is checked again at the
engine (:func:`_data_graph`), by :mod:`service.validation.shape_queries` — whatever path brought the
shapes (a dry run, a write, the bundled files, the CLI).

What counts as data: every named graph except the shapes graph and the graphs the
service derives (the RDFS inferences); the default graph too when it is not the
maintained union of the named graphs. The ontology graph is data (it holds the class
hierarchy SHACL's ``sh:targetClass`` and ``sh:class`` follow, and concept instances).

Changes to the shapes graph are validated in full (every node, every shape), and so
are shapes the analysis cannot bound (recursive shapes, ``sh:zeroOrMorePath`` outside
``rdfs:subClassOf``, SPARQL constraints with free patterns).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from service.rdf.terms import XSD_STRING, from_rdflib, to_rdflib
from service.rdf.vocabulary import DERIVED_GRAPHS, PREFIXES, SHAPES_GRAPH, curie
from service.validation.shape_queries import check_query, check_shapes

RDF_TYPE = ox.NamedNode(str(RDF.type))
SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
RDFS_LABEL = ox.NamedNode(str(RDFS.label))
SKOS_PREFLABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
SHAPES = ox.NamedNode(SHAPES_GRAPH)

#: A location relative to a focus node: the steps ``(predicate IRI, "out"|"in")`` that reach it.
Steps = tuple[tuple[str, str], ...]
#: "Every predicate" in a read set.
ALL = None

SEVERITY_NAMES = {str(SH.Violation): "Violation", str(SH.Warning): "Warning", str(SH.Info): "Info"}


# -- terms ---------------------------------------------------------------------------------


def term_text(term: Any) -> str:
    """A term as N-Triples text (pyoxigraph's own rendering)."""
    return str(term)


def short_text(term: Any) -> str:
    """A term for people: CURIEs for IRIs, ``"lexical"^^xsd:type`` or ``"text"@lang`` for literals."""
    if isinstance(term, ox.NamedNode):
        return curie(term.value, brackets=True)
    if isinstance(term, ox.Literal):
        if term.language:
            return f'"{term.value}"@{term.language}'
        if term.datatype.value == XSD_STRING:
            return f'"{term.value}"'
        return f'"{term.value}"^^{curie(term.datatype.value, brackets=True)}'
    return str(term)


# -- the scope of validation and the state after a change -----------------------------------


@dataclass(frozen=True)
class DataScope:
    """Which graphs of the store are data to validate.

    ``union``: the default graph is the service-maintained union of the named graphs
    (so it is not data of its own).
    """

    union: bool = True

    def is_data(self, graph: Any) -> bool:
        """True for graphs whose triples the shapes apply to."""
        if isinstance(graph, ox.DefaultGraph):
            return not self.union
        return graph.value != SHAPES_GRAPH and graph.value not in DERIVED_GRAPHS


class AfterView:
    """The data (as a set of triples) as it will be after a change, read lazily from the store.

    Nothing is copied: each read asks the store for the pattern and corrects the
    answer by the change. ``remove`` and ``drop_graphs`` are at the quad level; a triple
    stays present while any data graph still holds it.
    """

    def __init__(self, store: ox.Store, add: Iterable[ox.Quad] = (), remove: Iterable[ox.Quad] = (),
                 drop_graphs: Iterable[Any] = (), scope: DataScope | None = None, *, fast_types: bool = False) -> None:
        self.store = store
        self.scope = scope or DataScope()
        self.dropped = set(drop_graphs)
        self.removed = set(remove)
        # Graph names whose quads are not data after the change (checked for every quad read).
        self._hidden: set[Any] = {SHAPES, *(ox.NamedNode(g) for g in DERIVED_GRAPHS), *self.dropped}
        if self.scope.union:
            self._hidden.add(ox.DefaultGraph())
        self.added = [q for q in add if self.scope.is_data(q.graph_name)]
        self._by_subject: dict[Any, set[tuple[Any, Any]]] = defaultdict(set)
        self._by_object: dict[Any, set[tuple[Any, Any]]] = defaultdict(set)
        for q in self.added:
            self._by_subject[q.subject].add((q.predicate, q.object))
            self._by_object[q.object].add((q.subject, q.predicate))
        self._out_cache: dict[Any, set[tuple[Any, Any]]] = {}
        self._pred_cache: dict[tuple[Any, Any], set[Any]] = {}
        # Types may be read from the maintained union default graph (deduplicated: a state restated by
        # a thousand documents has one type triple there) unless the change could make it stale.
        self.fast_types = (fast_types and self.scope.union and not self.dropped
                           and not any(q.predicate == SUBCLASS for q in (*self.added, *self.removed)))
        self._types_touched = {q.subject for q in self.removed if q.predicate == RDF_TYPE}

    def _kept(self, quad: ox.Quad) -> bool:
        return quad.graph_name not in self._hidden and (not self.removed or quad not in self.removed)

    def out(self, subject: Any) -> set[tuple[Any, Any]]:
        """Every (predicate, object) of ``subject`` after the change."""
        cached = self._out_cache.get(subject)
        if cached is None:
            cached = {(q.predicate, q.object) for q in self.store.quads_for_pattern(subject, None, None, None)
                      if self._kept(q)}
            cached |= self._by_subject.get(subject, set())
            self._out_cache[subject] = cached
        return cached

    def out_pred(self, subject: Any, predicate: Any) -> set[Any]:
        """The objects of ``subject predicate`` after the change.

        Looked up by predicate unless the node's whole description is already cached:
        nodes that many others point to (states, documents) have large descriptions,
        and a value check usually needs only their types.
        """
        cached = self._out_cache.get(subject)
        if cached is not None:
            return {o for p, o in cached if p == predicate}
        key = (subject, predicate)
        found = self._pred_cache.get(key)
        if found is None:
            if predicate == RDF_TYPE and self._fast_types_for(subject):
                quads = self.store.quads_for_pattern(subject, predicate, None, ox.DefaultGraph())
                found = {q.object for q in quads}
            else:
                found = {q.object for q in self.store.quads_for_pattern(subject, predicate, None, None)
                         if self._kept(q)}
            found |= {o for p, o in self._by_subject.get(subject, ()) if p == predicate}
            self._pred_cache[key] = found
        return found

    def _fast_types_for(self, subject: Any) -> bool:
        """May this node's types come from the union default graph?

        That graph also holds the inferred supertypes (harmless: SHACL follows the
        subclass hierarchy, which every context holds, so ``sh:class`` and
        ``sh:targetClass`` answer the same) and the shapes graph's triples (so nodes
        described there take the exact path). Not when the change removes a type of
        the node: its inferred supertypes would outlive it until the commit.
        """
        if not self.fast_types or subject in self._types_touched or isinstance(subject, ox.Literal):
            return False
        return next(iter(self.store.quads_for_pattern(subject, None, None, SHAPES)), None) is None

    def inc(self, obj: Any, predicate: Any) -> set[Any]:
        """The subjects of ``? predicate obj`` after the change."""
        found = {q.subject for q in self.store.quads_for_pattern(None, predicate, obj, None) if self._kept(q)}
        found |= {s for s, p in self._by_object.get(obj, set()) if p == predicate}
        return found

    def subjects(self, predicate: Any, obj: Any) -> set[Any]:
        """Alias of :meth:`inc` that reads better for type look-ups."""
        return self.inc(obj, predicate)

    def hierarchy(self) -> set[tuple[Any, Any]]:
        """Every ``rdfs:subClassOf`` pair after the change."""
        pairs = {(q.subject, q.object) for q in self.store.quads_for_pattern(None, SUBCLASS, None, None)
                 if self._kept(q)}
        pairs |= {(q.subject, q.object) for q in self.added if q.predicate == SUBCLASS}
        return pairs

    def all_triples(self) -> Iterator[tuple[Any, Any, Any]]:
        """Every data triple after the change (full validation); duplicates across graphs merged."""
        seen: set[tuple[Any, Any, Any]] = set()
        for q in self.store.quads_for_pattern(None, None, None, None):
            if self._kept(q):
                triple = (q.subject, q.predicate, q.object)
                if triple not in seen:
                    seen.add(triple)
                    yield triple
        for q in self.added:
            triple = (q.subject, q.predicate, q.object)
            if triple not in seen:
                seen.add(triple)
                yield triple

    def label(self, node: Any) -> str | None:
        """The node's English label (rdfs:label, else skos:prefLabel), else any label."""
        if not isinstance(node, ox.NamedNode | ox.BlankNode):
            return None
        labels = [(p, o) for p in (RDFS_LABEL, SKOS_PREFLABEL) for o in self.out_pred(node, p)
                  if isinstance(o, ox.Literal)]
        if not labels:
            return None

        def rank(item: tuple[Any, Any]) -> tuple[int, int, str]:
            p, o = item
            return (0 if o.language == "en" else 1 if not o.language else 2, 0 if p == RDFS_LABEL else 1, o.value)

        return min(labels, key=rank)[1].value


# -- what the shapes read ------------------------------------------------------------------


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


MAX_DEPTH = 4
SHAPE_PARAMS_ON_VALUES = (SH.node, SH.qualifiedValueShape, SH["not"])
SHAPE_LIST_PARAMS = (SH["or"], SH["and"], SH.xone)
TARGET_PARAMS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


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
        found, plain_type = _sparql_analysis(prefixed_query(self.graph, constraint, text))
        self.exact_types = self.exact_types or plain_type
        for steps, reads in found.items():
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


def sparql_reads(query: str) -> dict[Steps, Reads]:
    """What a SELECT reads relative to ``$this``: per location, outgoing and incoming predicates.

    See :func:`_sparql_analysis`.
    """
    return _sparql_analysis(query)[0]


def _sparql_analysis(query: str) -> tuple[dict[Steps, Reads], bool]:
    """What a SELECT reads relative to ``$this``, and whether it looks at rdf:type other than through
    ``rdf:type/rdfs:subClassOf*`` (class membership).

    Every triple pattern must connect to ``$this`` (through variables); patterns that
    do not, property paths with repetition (other than ``rdfs:subClassOf*``, which
    the hierarchy in every context answers), sub-queries, GRAPH and SERVICE make the
    constraint unbounded.
    """
    from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.term import Variable

    algebra = translateQuery(parseQuery(query)).algebra
    patterns: list[tuple[Any, Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            name = getattr(node, "name", "")
            if name in ("Graph", "GraphGraphPattern", "ServiceGraphPattern", "SubSelect") or (
                    name == "SelectQuery" and node is not algebra):
                raise Unbounded(f"SPARQL constraint uses {name}")
            if name in ("BGP", "TriplesBlock"):  # EXISTS patterns stay untranslated (TriplesBlock)
                patterns.extend(tuple(t) for t in node["triples"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    walk(algebra)
    reads: dict[Steps, Reads] = defaultdict(Reads)
    where: dict[Any, set[Steps]] = {Variable("this"): {()}}

    def is_var(term: Any) -> bool:
        return isinstance(term, Variable | BNode)

    def simple(path: Any) -> list[tuple[str, str]] | None:
        """A path as alternatives of single steps, or None when it is a sequence/repetition."""
        if isinstance(path, URIRef):
            return [(str(path), "out")]
        if isinstance(path, InvPath) and isinstance(path.arg, URIRef):
            return [(str(path.arg), "in")]
        if isinstance(path, AlternativePath):
            steps = [simple(arg) for arg in path.args]
            if any(s is None for s in steps):
                return None
            return [step for s in steps for step in s]  # type: ignore[union-attr]
        return None

    def hierarchy_tail(path: Any) -> bool:
        return isinstance(path, MulPath) and path.path == RDFS.subClassOf and path.mod in ("*", "+")

    resolved: list[tuple[Any, list[tuple[str, str]], Any]] = []
    plain_type = False
    for s, p, o in patterns:
        membership = isinstance(p, SequencePath) and len(p.args) == 2 and hierarchy_tail(p.args[1])
        if membership:
            p = p.args[0]  # x rdf:type/rdfs:subClassOf* C: the type step; the hierarchy is always there
        steps = simple(p)
        if steps is None:
            raise Unbounded(f"SPARQL property path {p} cannot be bounded")
        plain_type = plain_type or (not membership and any(step == str(RDF.type) for step, _ in steps))
        resolved.append((s, steps, o))

    # Breadth-first from $this: each variable is placed where the first patterns reach it.
    frontier = {Variable("this")}
    while frontier:
        reached: dict[Any, set[Steps]] = defaultdict(set)
        for s, steps, o in resolved:
            for predicate, direction in steps:
                if s in frontier and is_var(o) and o not in where:
                    reached[o] |= {(*at, (predicate, direction)) for at in where[s]}
                if o in frontier and is_var(s) and s not in where:
                    back = "in" if direction == "out" else "out"
                    reached[s] |= {(*at, (predicate, back)) for at in where[o]}
        for var, locations in reached.items():
            if any(len(loc) > MAX_DEPTH for loc in locations):
                raise Unbounded("SPARQL constraint reaches too far from $this")
            where[var] = locations
        frontier = set(reached)

    def depth(term: Any) -> int | None:
        locations = where.get(term) if is_var(term) else None
        return min(len(loc) for loc in locations) if locations else None

    for s, steps, o in resolved:
        s_depth, o_depth = depth(s), depth(o)
        if s_depth is None and o_depth is None:
            raise Unbounded("SPARQL constraint has patterns not connected to $this")
        # A triple is both its subject's outgoing and its object's incoming: read it from the nearer end.
        from_subject = o_depth is None or (s_depth is not None and s_depth <= o_depth)
        for predicate, direction in steps:
            for at in where[s] if from_subject else where[o]:
                if (direction == "out") == from_subject:
                    reads[at].add_out([predicate])
                else:
                    reads[at].inc.add(predicate)
    return reads, plain_type


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
    """The shapes graph parsed for pySHACL and analysed, kept until the shapes change."""

    def __init__(self, shapes: Graph, fingerprint: str) -> None:
        from pyshacl.shapes_graph import ShapesGraph

        check_shapes(shapes)  # before pySHACL reads them: no SPARQL text in them may fetch anything
        self.graph = shapes
        self.fingerprint = fingerprint
        self.pyshacl = ShapesGraph(shapes)
        self.shapes = [s for s in self.pyshacl.shapes if any(True for p in TARGET_PARAMS
                                                               for _ in shapes.objects(s.node, p))
                       or (s.node, RDF.type, RDFS.Class) in shapes]
        analysis = ShapesAnalysis(shapes)
        analysis.run()
        self.reads = dict(analysis.reads)
        self.unbounded_reason = analysis.unbounded_reason
        self.exact_types = analysis.exact_types
        self.lock = threading.Lock()  # pySHACL's shape objects keep caches: one validation at a time

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
    """The parsed, analysed shapes of ``store``, cached by content: a change to the shapes graph
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


# -- affected focus nodes and their context -------------------------------------------------


def _walk_back(view: AfterView, node: Any, steps: Steps) -> set[Any]:
    """The focus nodes from which ``steps`` lead to ``node`` (in the state after the change).

    Edges that exist only before the change need no walk: such an edge is itself a
    changed triple, read at a shorter location, so its owner is found from there.
    """
    current = {node}
    for predicate, direction in reversed(steps):
        p = ox.NamedNode(predicate)
        following: set[Any] = set()
        for n in current:
            if direction == "out":
                following |= view.inc(n, p)
            else:
                following |= {o for o in view.out_pred(n, p) if not isinstance(o, ox.Literal)}
        current = following
    return current


def affected_focus_nodes(model: ShapesModel, view: AfterView, changed: Iterable[tuple[Any, Any, Any]]) -> set[Any]:
    """Nodes whose validation results may differ after the change.

    For each changed triple and each location where shapes read triples of that
    predicate, walk back from the node holding the triple to the focus nodes that
    reach it.
    """
    by_out: dict[str, list[Steps]] = defaultdict(list)
    by_in: dict[str, list[Steps]] = defaultdict(list)
    any_out: list[Steps] = []
    for steps, reads in model.reads.items():
        if reads.out is ALL:
            any_out.append(steps)
        else:
            for p in reads.out:
                by_out[p].append(steps)
        for p in reads.inc:
            by_in[p].append(steps)
    focus: set[Any] = set()
    for s, p, o in changed:
        for steps in (*any_out, *by_out.get(p.value, ())):
            focus |= _walk_back(view, s, steps)
        if not isinstance(o, ox.Literal):
            for steps in by_in.get(p.value, ()):
                focus |= _walk_back(view, o, steps)
    return {n for n in focus if not isinstance(n, ox.Literal)}


def context_triples(model: ShapesModel, view: AfterView, focus: Iterable[Any]) -> set[tuple[Any, Any, Any]]:
    """The triples validating ``focus`` reads: the reads of every location from each focus node."""
    triples: set[tuple[Any, Any, Any]] = set()
    locations = sorted(model.reads.items(), key=lambda item: len(item[0]))
    for start in focus:
        at: dict[Steps, set[Any]] = {(): {start}}
        for steps, reads in locations:
            if steps not in at:
                parent = at.get(steps[:-1])
                if parent is None:
                    continue
                predicate, direction = steps[-1]
                p = ox.NamedNode(predicate)
                nodes: set[Any] = set()
                for n in parent:
                    if isinstance(n, ox.Literal):
                        continue
                    if direction == "out":
                        nodes |= view.out_pred(n, p)
                    else:
                        nodes |= view.inc(n, p)
                at[steps] = nodes
            for n in at[steps]:
                if isinstance(n, ox.Literal):
                    continue
                if reads.out is ALL:
                    triples |= {(n, p, o) for p, o in view.out(n)}
                else:
                    for predicate in reads.out or ():
                        p = ox.NamedNode(predicate)
                        triples |= {(n, p, o) for o in view.out_pred(n, p)}
                for predicate in reads.inc:
                    p = ox.NamedNode(predicate)
                    triples |= {(s, p, n) for s in view.inc(n, p)}
                    # the other ends' own triples of that predicate (e.g. all holders of one Wikidata id)
    return triples


# -- running pySHACL -----------------------------------------------------------------------


def _data_graph(triples: Iterable[tuple[Any, Any, Any]]) -> Any:
    """A pySHACL data graph whose SPARQL queries run on pyoxigraph (same triples, same terms)."""
    from pyshacl.graph_abstraction import RdfLibDataGraph

    class HybridDataGraph(RdfLibDataGraph):
        """rdflib for pySHACL's core constraints, pyoxigraph for its SPARQL queries."""

        oxstore: ox.Store

        def query(self, query_object: Any, *args: Any, initBindings: Any = None, **kwargs: Any) -> Any:
            if not isinstance(query_object, str):
                return super().query(query_object, *args, initBindings=initBindings, **kwargs)
            from rdflib.query import Result
            from rdflib.term import Variable

            # The text as pySHACL built it (its substitutions, prefixes): checked again at the engine.
            check_query(query_object, "a query the shapes run")
            subs = {ox.Variable(str(k)): from_rdflib(v) for k, v in (initBindings or {}).items()
                    if f"${k}" in query_object or f"?{k}" in query_object}
            try:
                answer = self.oxstore.query(query_object, substitutions=subs or None)
            except RuntimeError:  # a pre-bound variable outside the projection: let rdflib do it
                return super().query(query_object, *args, initBindings=initBindings, **kwargs)
            if isinstance(answer, ox.QueryBoolean):
                result = Result("ASK")
                result.askAnswer = bool(answer)
                return result
            result = Result("SELECT")
            result.vars = [Variable(v.value) for v in answer.variables]
            result.bindings = [{var: to_rdflib(value) for var, value in zip(result.vars, row, strict=True)
                                if value is not None} for row in answer]
            return result

    triples = list(triples)
    graph = Graph()
    graph.addN((to_rdflib(s), to_rdflib(p), to_rdflib(o), graph) for s, p, o in triples)
    oxstore = ox.Store()
    oxstore.extend(ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in triples)
    data = HybridDataGraph(graph.store, graph)
    data.oxstore = oxstore
    return data


def _fast_parameter_lookup() -> None:
    """Let pySHACL test "is this predicate a constraint parameter?" with a set instead of a list.

    Why: ``Shape.validate`` runs that test for every predicate of a shape, for every
    focus node and every value node of a nested shape, against a list of ~40 IRIs —
    most of a large batch's validation time went to ``URIRef.__eq__``. pySHACL caches
    the (list, map) pair on its ``shape`` module the first time; we seed that cache with
    a list whose membership test uses a set. It stays a real list — pySHACL's advanced
    mode, which other callers in the same process may use, copies it and appends to the
    copy — so results cannot change.
    """
    from pyshacl import shape
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP

    if not isinstance(getattr(shape, "CONSTRAINT_PARAMS", (None,))[0], _ParameterList):
        shape.CONSTRAINT_PARAMS = (_ParameterList(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)


class _ParameterList(list):
    """A list with set-speed membership; ``copy()`` gives a plain list pySHACL may append to."""

    def __init__(self, items: Any) -> None:
        super().__init__(items)
        self._members = frozenset(self)

    def __contains__(self, item: object) -> bool:
        return item in self._members

    def copy(self) -> list:  # type: ignore[override]
        return list(self)


def _run(model: ShapesModel, data: Any, focus: set[Any] | None) -> list[tuple[Any, Any, list]]:
    """Validate ``data`` with every targeting shape, restricted to ``focus`` when given."""
    from pyshacl.monkey import apply_patches
    from pyshacl.pytypes import SHACLExecutor

    apply_patches()
    _fast_parameter_lookup()
    executor = SHACLExecutor(allow_warnings=True, allow_infos=True)
    wanted = {to_rdflib(n) for n in focus} if focus is not None else None
    reports: list[tuple[Any, Any, list]] = []
    with model.lock:
        for shape in model.shapes:
            if wanted is None:
                _, found = shape.validate(executor, data)
            else:
                targets = [n for n in shape.focus_nodes(data) if n in wanted]
                if not targets:
                    continue
                _, found = shape.validate(executor, data, focus=targets)
            reports.extend(found)
    return reports


# -- the report ----------------------------------------------------------------------------

#: What a failed constraint component means, in plain words ({path} is filled in).
PLAIN_WORDS = {
    "MinCountConstraintComponent": "is missing {path} (or has too few values)",
    "MaxCountConstraintComponent": "has more than the allowed number of {path} values",
    "ClassConstraintComponent": "has a {path} value that is not of the required type",
    "DatatypeConstraintComponent": "has a {path} value of the wrong datatype",
    "NodeKindConstraintComponent": "has a {path} value of the wrong kind (IRI, literal or blank node)",
    "LanguageInConstraintComponent": "has a {path} value in a language that is not allowed",
    "UniqueLangConstraintComponent": "has two {path} values in the same language",
    "PatternConstraintComponent": "has a {path} value that does not match the expected pattern",
    "InConstraintComponent": "has a {path} value that is not one of the allowed values",
    "HasValueConstraintComponent": "lacks the required {path} value",
    "OrConstraintComponent": "has a {path} value that matches none of the allowed forms",
    "XoneConstraintComponent": "has a {path} value that must match exactly one of the allowed forms",
    "AndConstraintComponent": "has a {path} value that does not meet all the required conditions",
    "NotConstraintComponent": "has a {path} value of a form that is not allowed",
    "NodeConstraintComponent": "has a {path} value that does not have the required shape",
    "QualifiedMinCountConstraintComponent": "has too few {path} values of the required kind",
    "QualifiedMaxCountConstraintComponent": "has too many {path} values of one kind",
    "SPARQLConstraintComponent": "breaks a rule about {path}",
    "ClosedConstraintComponent": "uses a property the rule does not allow",
    "LessThanConstraintComponent": "has {path} values that are not less than they should be",
    "EqualsConstraintComponent": "has {path} values that differ where they must be equal",
    "DisjointConstraintComponent": "shares {path} values it must not share",
    "MinInclusiveConstraintComponent": "has a {path} value that is too small",
    "MaxInclusiveConstraintComponent": "has a {path} value that is too large",
    "MinLengthConstraintComponent": "has a {path} value that is too short",
    "MaxLengthConstraintComponent": "has a {path} value that is too long",
}


@dataclass
class ValidationResult:
    """One SHACL result, with what a person needs to act on it."""

    focus: str
    focus_label: str | None
    severity: str
    message: str
    shape: str
    shape_name: str | None
    component: str
    path: str | None = None
    path_text: str | None = None
    value: str | None = None
    value_text: str | None = None
    value_label: str | None = None
    constraint: str | None = None

    @property
    def key(self) -> tuple:
        """Identity of the result (for comparisons between validations)."""
        return (self.focus, self.path, self.value, self.shape, self.component, self.severity, self.constraint)

    @property
    def problem(self) -> str:
        """What is wrong, in plain words, without naming the resource: "has too few … values"."""
        phrase = PLAIN_WORDS.get(self.component, "breaks the rule on {path}")
        what = phrase.format(path=self.path_text or "a property")
        if self.value_text is not None and self.value != self.focus:
            what += f" (value: {self.value_label}, {self.value_text})" if self.value_label else \
                f" (value: {self.value_text})"
        return what

    @property
    def summary(self) -> str:
        """The result as one sentence in plain words, naming the resource and the rule."""
        who = f"{self.focus_label} ({short_node(self.focus)})" if self.focus_label else short_node(self.focus)
        rule = self.shape_name or short_node(self.shape)
        return f"{who} {self.problem} — rule “{rule}”."

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "focus": self.focus, "focus_label": self.focus_label, "severity": self.severity,
            "path": self.path, "path_text": self.path_text, "value": self.value, "value_text": self.value_text,
            "value_label": self.value_label, "message": self.message, "summary": self.summary,
            "problem": self.problem,
            "shape": self.shape, "shape_name": self.shape_name, "component": self.component,
            "constraint": self.constraint,
        }


def short_node(text: str) -> str:
    """An N-Triples/IRI string as a CURIE when possible."""
    if text.startswith("_:"):
        return text
    return curie(text, brackets=True)


@dataclass
class ValidationReport:
    """The outcome of a validation: conforms (no sh:Violation), results, and how it was computed.

    Warnings and infos are reported but do not make a change non-conforming.
    """

    conforms: bool
    results: list[ValidationResult]
    mode: str = "incremental"
    focus_nodes: int = 0
    context_triples: int = 0
    elapsed_ms: float = 0.0
    reason: str | None = None
    #: The focus nodes checked (incremental mode; empty for full validation). Not serialized.
    checked: set[str] = field(default_factory=set, repr=False)

    def count(self, severity: str) -> int:
        """How many results have this severity (Violation, Warning, Info)."""
        return sum(1 for r in self.results if r.severity == severity)

    def groups(self) -> list[tuple[str, str | None, list[ValidationResult]]]:
        """Results grouped by focus node: violations first, then by node."""
        grouped: dict[str, list[ValidationResult]] = defaultdict(list)
        for result in self.results:
            grouped[result.focus].append(result)

        def order(item: tuple[str, list[ValidationResult]]) -> tuple[int, str]:
            return (0 if any(r.severity == "Violation" for r in item[1]) else 1, item[0])

        return [(focus, results[0].focus_label, sorted(results, key=_result_order))
                for focus, results in sorted(grouped.items(), key=order)]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON: counts, results grouped by focus node, and the flat list."""
        return {
            "conforms": self.conforms,
            "violations": self.count("Violation"),
            "warnings": self.count("Warning"),
            "infos": self.count("Info"),
            "mode": self.mode,
            "checked_focus_nodes": self.focus_nodes,
            "context_triples": self.context_triples,
            "elapsed_ms": round(self.elapsed_ms, 1),
            **({"full_validation_reason": self.reason} if self.reason else {}),
            "by_focus_node": [{"focus": focus, "label": label, "results": [r.to_json() for r in results]}
                              for focus, label, results in self.groups()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ValidationReport:
        """Rebuild a report from :meth:`to_json` (it crosses the pipe from the store worker as JSON)."""
        results = []
        for group in data.get("by_focus_node", []):
            for r in group["results"]:
                results.append(ValidationResult(
                    focus=r["focus"], focus_label=r["focus_label"], severity=r["severity"], message=r["message"],
                    shape=r["shape"], shape_name=r["shape_name"], component=r["component"], path=r["path"],
                    path_text=r["path_text"], value=r["value"], value_text=r["value_text"],
                    value_label=r["value_label"], constraint=r["constraint"]))
        return cls(conforms=data["conforms"], results=results, mode=data.get("mode", "incremental"),
                   focus_nodes=data.get("checked_focus_nodes", 0), context_triples=data.get("context_triples", 0),
                   elapsed_ms=data.get("elapsed_ms", 0.0), reason=data.get("full_validation_reason"))

    def to_graph(self) -> Graph:
        """The report as a SHACL ``sh:ValidationReport`` graph (W3C SHACL §3.6)."""
        graph = Graph()
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        for r in self.results:
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.focusNode, _node_from_text(r.focus)))
            graph.add((node, SH.resultSeverity, SH[r.severity]))
            graph.add((node, SH.sourceConstraintComponent, SH[r.component]))
            graph.add((node, SH.sourceShape, _node_from_text(r.shape)))
            graph.add((node, SH.resultMessage, Literal(r.message, lang="en")))
            if r.path and not r.path.startswith(("^", "(")) and "/" not in r.path:
                graph.add((node, SH.resultPath, URIRef(r.path.strip("<>"))))
            if r.value is not None:
                graph.add((node, SH.value, to_rdflib(_parse_term(r.value))))
            if r.constraint:
                graph.add((node, SH.sourceConstraint, _node_from_text(r.constraint)))
        return graph

    def to_text(self) -> str:
        """A table for people, grouped by focus node, with labels."""
        lines = [f"Conforms: {'yes' if self.conforms else 'no'} — {self.count('Violation')} violation(s), "
                 f"{self.count('Warning')} warning(s), {self.count('Info')} info(s); "
                 f"{self.focus_nodes} focus node(s) checked ({self.mode} validation)."]
        for focus, label, results in self.groups():
            lines.append("")
            lines.append(f"{short_node(focus)}" + (f"  “{label}”" if label else ""))
            for r in results:
                value = ""
                if r.value_text is not None and r.value != r.focus:
                    value = f"  value {r.value_text}" + (f" ({r.value_label})" if r.value_label else "")
                lines.append(f"  {r.severity:<9} {r.path_text or '-':<28}{value}")
                lines.append(f"            rule: {r.shape_name or short_node(r.shape)} ({short_node(r.shape)})")
                lines.append(f"            {r.message}")
        return "\n".join(lines) + "\n"


def _result_order(r: ValidationResult) -> tuple[int, str, str]:
    return ({"Violation": 0, "Warning": 1}.get(r.severity, 2), r.path_text or "", r.value_text or "")


def _node_from_text(text: str) -> Node:
    return BNode(text[2:]) if text.startswith("_:") else URIRef(text)


def _parse_term(text: str) -> Any:
    """An N-Triples term back to pyoxigraph (for report graphs rebuilt from JSON)."""
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    if text.startswith("<"):
        return ox.NamedNode(text[1:-1])
    quad = next(iter(ox.parse(f"<urn:x:s> <urn:x:p> {text} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    return quad.object


def _text_of(term: Node) -> str:
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def build_report(model: ShapesModel, view: AfterView, reports: list[tuple[Any, Any, list]], *, mode: str,
                 focus_count: int, context_count: int, started: float, reason: str | None = None
                 ) -> ValidationReport:
    """Turn pySHACL's result tuples into a :class:`ValidationReport` with labels and names."""
    results: list[ValidationResult] = []
    seen: set[tuple] = set()
    for _text, _node, parts in reports:
        fields: dict[Any, Any] = {}
        messages: list[Any] = []
        for _, predicate, obj in parts:
            value = obj[1] if isinstance(obj, tuple) else obj
            if predicate == SH.resultMessage:
                messages.append(value)
            else:
                fields[predicate] = value
        english = [m for m in messages if getattr(m, "language", None) == "en"]
        message = str((english or messages)[0]) if messages else ""
        focus = fields[SH.focusNode]
        focus_ox = from_rdflib(focus)
        path = fields.get(SH.resultPath)
        value = fields.get(SH.value)
        value_ox = from_rdflib(value) if value is not None else None
        shape = fields[SH.sourceShape]
        result = ValidationResult(
            focus=_text_of(focus),
            focus_label=view.label(focus_ox),
            severity=SEVERITY_NAMES.get(str(fields.get(SH.resultSeverity)), "Violation"),
            message=message,
            shape=_text_of(shape),
            shape_name=model.name(shape),
            component=str(fields.get(SH.sourceConstraintComponent, "")).split("#")[-1],
            path=model.path_text(path, short=False),
            path_text=model.path_text(path, short=True),
            value=term_text(value_ox) if value_ox is not None else None,
            value_text=short_text(value_ox) if value_ox is not None else None,
            value_label=view.label(value_ox) if value_ox is not None else None,
            constraint=_text_of(fields[SH.sourceConstraint]) if SH.sourceConstraint in fields else None,
        )
        if result.key not in seen:
            seen.add(result.key)
            results.append(result)
    results.sort(key=lambda r: (r.focus, *_result_order(r)))
    conforms = not any(r.severity == "Violation" for r in results)
    return ValidationReport(conforms=conforms, results=results, mode=mode, focus_nodes=focus_count,
                            context_triples=context_count, elapsed_ms=(time.perf_counter() - started) * 1000,
                            reason=reason)


# -- the API -------------------------------------------------------------------------------


def changed_triples(store: ox.Store, add: Iterable[ox.Quad], remove: Iterable[ox.Quad], drop_graphs: Iterable[Any],
                    scope: DataScope) -> set[tuple[Any, Any, Any]]:
    """The data triples a change touches (added, removed, or in a dropped graph)."""
    changed = {(q.subject, q.predicate, q.object) for q in (*add, *remove) if scope.is_data(q.graph_name)}
    for graph in drop_graphs:
        if scope.is_data(graph):
            changed |= {(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, graph)}
    return changed


def full_validation_reason(model: ShapesModel, add: list[ox.Quad], remove: list[ox.Quad],
                           drop_graphs: list[Any]) -> str | None:
    """Why this change needs a full validation, or ``None`` when the incremental one is exact."""
    if model.unbounded_reason:
        return f"the shapes cannot be checked incrementally: {model.unbounded_reason}"
    if any(q.graph_name == SHAPES for q in (*add, *remove)) or SHAPES in drop_graphs:
        return "the change edits the shapes graph"
    return None


def validate_change(
    store: ox.Store,
    add: Iterable[ox.Quad] = (),
    remove: Iterable[ox.Quad] = (),
    drop_graphs: Iterable[Any] = (),
    *,
    union: bool = True,
    full: bool = False,
) -> ValidationReport:
    """Validate the state ``store`` would have after the change, nothing written.

    Incremental unless ``full`` is asked or the change needs it (see
    :func:`full_validation_reason`); the report says which. Class-hierarchy changes
    stay incremental: every instance of an affected class becomes a focus node.
    """
    started = time.perf_counter()
    add, remove, drop_graphs = list(add), list(remove), list(drop_graphs)
    scope = DataScope(union=union)
    shapes_change = changes_shapes(add, remove, drop_graphs)
    with _client_shapes(shapes_change):
        model = shapes_model(_store_with_new_shapes(store, add, remove, drop_graphs) if shapes_change else store)
    view = AfterView(store, add, remove, drop_graphs, scope, fast_types=not model.exact_types)
    reason = "full validation was asked for" if full else full_validation_reason(model, add, remove, drop_graphs)
    hierarchy = view.hierarchy()
    if reason:
        triples = set(view.all_triples())
        data = _data_graph(triples)
        with _client_shapes(shapes_change):
            reports = _run(model, data, None)
        focus_count = len({s for s, _, _ in triples})
        return build_report(model, view, reports, mode="full", focus_count=focus_count,
                            context_count=len(triples), started=started, reason=reason)
    changed = changed_triples(store, add, remove, drop_graphs, scope)
    changed |= _hierarchy_consequences(view, store, changed, hierarchy)
    focus = affected_focus_nodes(model, view, changed)
    triples = context_triples(model, view, focus)
    triples |= {(c, SUBCLASS, d) for c, d in hierarchy}
    data = _data_graph(triples)
    reports = _run(model, data, focus)
    report = build_report(model, view, reports, mode="incremental", focus_count=len(focus),
                          context_count=len(triples), started=started)
    report.checked = {_text_of(to_rdflib(n)) for n in focus}
    return report


def changes_shapes(add: Iterable[ox.Quad], remove: Iterable[ox.Quad], drop_graphs: Iterable[Any]) -> bool:
    """True if the change adds to, removes from or drops the shapes graph."""
    return SHAPES in drop_graphs or any(q.graph_name == SHAPES for q in (*add, *remove))


def refuse_shape_change(add: Iterable[ox.Quad], remove: Iterable[ox.Quad], drop_graphs: Iterable[Any]) -> None:
    """Raise ``PermissionError`` (403) if the change touches the shapes graph: a dry run without the write token.

    Why: shapes are the service's rules, and SHACL-SPARQL in them is code the validator
    runs; a change to them forces a full validation of the whole store. Only whoever may
    commit a shapes change (the token holder) may have one tried.
    """
    if changes_shapes(list(add), list(remove), list(drop_graphs)):
        raise PermissionError(f"A dry run that changes the shapes graph <{SHAPES_GRAPH}> needs the write token "
                              "(send 'Authorization: Bearer <token>'): shapes are the service's rules, and "
                              "their SPARQL runs in the validator.")


@contextmanager
def _client_shapes(active: bool) -> Iterator[None]:
    """While ``active`` (the change brings its own shapes), pySHACL's refusals of them are the client's: ``ValueError``.

    Stored shapes that pySHACL cannot use stay a server error.
    """
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError, ValidationFailure

    try:
        yield
    except (ConstraintLoadError, ReportableRuntimeError, ShapeLoadError, ValidationFailure) as exc:
        if not active:
            raise
        message = getattr(exc, "message", None) or str(exc)
        raise ValueError(f"the new shapes cannot be used: {message}") from exc


def _hierarchy_consequences(view: AfterView, store: ox.Store, changed: set[tuple[Any, Any, Any]],
                            hierarchy: set[tuple[Any, Any]]) -> set[tuple[Any, Any, Any]]:
    """A changed subclass link changes the classes of every instance below it: treat their types as changed."""
    roots = {s for s, p, _ in changed if p == SUBCLASS}
    if not roots:
        return set()
    before = {(q.subject, q.object) for q in store.quads_for_pattern(None, SUBCLASS, None, None)}
    children: dict[Any, set[Any]] = defaultdict(set)
    for c, d in hierarchy | before:
        children[d].add(c)
    classes: set[Any] = set()
    stack = list(roots)
    while stack:
        c = stack.pop()
        if c in classes:
            continue
        classes.add(c)
        stack.extend(children.get(c, ()))
    consequences = set()
    for c in classes:
        for instance in view.subjects(RDF_TYPE, c):
            consequences.add((instance, RDF_TYPE, c))
    return consequences


def _store_with_new_shapes(store: ox.Store, add: list[ox.Quad], remove: list[ox.Quad], drop: list[Any]) -> ox.Store:
    """An in-memory store holding just the shapes graph as it will be after the change."""
    shapes = ox.Store()
    if SHAPES not in drop:
        removed = set(remove)
        shapes.extend(q for q in store.quads_for_pattern(None, None, None, SHAPES) if q not in removed)
    shapes.extend(q for q in add if q.graph_name == SHAPES)
    return shapes


def validate_store(store: ox.Store, *, union: bool = True) -> ValidationReport:
    """Full validation of everything the store holds (``dprk-kg validate`` without files)."""
    return validate_change(store, union=union, full=True)
