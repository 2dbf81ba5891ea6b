"""The state after a change, and which nodes and triples the change can touch.

Why: a change is validated in the context of the stored graph, at the cost of the change.
:class:`AfterView` reads the *after* state lazily (the store, minus what the change removes,
plus what it adds — nothing is written); :func:`affected_focus_nodes` walks back from each
changed triple, along what the shapes read (:mod:`.shapes`), to the nodes that could validate
differently; :func:`context_triples` gathers exactly what validating them reads.

What counts as data (:class:`DataScope`): every named graph except the shapes graph and the
graphs the service derives (the RDFS inferences); the default graph too when it is not the
maintained union of the named graphs. The ontology graph is data (it holds the class
hierarchy SHACL's ``sh:targetClass`` and ``sh:class`` follow, and concept instances).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from service.rdf import derived, vocabulary
from service.validation.shapes import ALL, SHAPES, ShapesModel, Steps

RDF_TYPE = ox.NamedNode(vocabulary.RDF_TYPE)
SUBCLASS = ox.NamedNode(vocabulary.RDFS_SUBCLASS_OF)
RDFS_LABEL = ox.NamedNode(vocabulary.RDFS_LABEL)
SKOS_PREFLABEL = ox.NamedNode(vocabulary.SKOS_PREF_LABEL)

Triple = tuple[Any, Any, Any]


@dataclass(frozen=True)
class DataScope:
    """Which graphs of the store are data to validate.

    ``union``: the default graph is the service-maintained union of the named graphs
    (so it is not data of its own).
    """

    union: bool = True

    def is_data(self, graph: Any) -> bool:
        """True for graphs whose triples the shapes apply to: the asserted graphs but the shapes graph."""
        return derived.is_asserted(graph, union=self.union) and graph != SHAPES


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
        self._hidden: set[Any] = {SHAPES, *derived.unasserted_graphs(union=self.scope.union), *self.dropped}
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

    def hierarchy(self) -> set[tuple[Any, Any]]:
        """Every ``rdfs:subClassOf`` pair after the change."""
        pairs = {(q.subject, q.object) for q in self.store.quads_for_pattern(None, SUBCLASS, None, None)
                 if self._kept(q)}
        pairs |= {(q.subject, q.object) for q in self.added if q.predicate == SUBCLASS}
        return pairs

    def all_triples(self) -> Iterator[Triple]:
        """Every data triple after the change (full validation); duplicates across graphs merged."""
        seen: set[Triple] = set()
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


# -- what a change touches -----------------------------------------------------------------


def changes_shapes(add: Iterable[ox.Quad], remove: Iterable[ox.Quad], drop_graphs: Iterable[Any]) -> bool:
    """True if the change adds to, removes from or drops the shapes graph."""
    return SHAPES in drop_graphs or any(q.graph_name == SHAPES for q in (*add, *remove))


def shapes_after(store: ox.Store, add: list[ox.Quad], remove: list[ox.Quad], drop: list[Any]) -> ox.Store:
    """An in-memory store holding just the shapes graph as it will be after the change."""
    shapes = ox.Store()
    if SHAPES not in drop:
        removed = set(remove)
        shapes.extend(q for q in store.quads_for_pattern(None, None, None, SHAPES) if q not in removed)
    shapes.extend(q for q in add if q.graph_name == SHAPES)
    return shapes


def changed_triples(store: ox.Store, add: Iterable[ox.Quad], remove: Iterable[ox.Quad], drop_graphs: Iterable[Any],
                    scope: DataScope) -> set[Triple]:
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
    if changes_shapes(add, remove, drop_graphs):
        return "the change edits the shapes graph"
    return None


def hierarchy_consequences(view: AfterView, store: ox.Store, changed: set[Triple],
                           hierarchy: set[tuple[Any, Any]]) -> set[Triple]:
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
    return {(instance, RDF_TYPE, c) for c in classes for instance in view.inc(c, RDF_TYPE)}


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


def affected_focus_nodes(model: ShapesModel, view: AfterView, changed: Iterable[Triple]) -> set[Any]:
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


def context_triples(model: ShapesModel, view: AfterView, focus: Iterable[Any]) -> set[Triple]:
    """The triples validating ``focus`` reads: the reads of every location from each focus node."""
    triples: set[Triple] = set()
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
