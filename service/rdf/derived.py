"""Keeps the derived graphs right after every write: the union default graph and the RDFS inferences.

Why materialize rather than rewrite queries:

* pyoxigraph's "default graph as union" mode concatenates the named graphs without
  merging them, so a fact stated by two documents would be counted twice. The service
  therefore keeps the *real* default graph equal to the RDF merge (a set) of all named
  graphs, and queries it directly — correct and as fast as a plain graph.
* Entailment (``rdfs``): a query for instances of a class must find instances of its
  subclasses, and likewise for sub-properties. The inferred triples are kept in their
  own named graph (:data:`~service.rdf.vocabulary.ENTAILED_GRAPH`), so "which document says X"
  never sees an inference, while the union default graph does.

Every function here returns the text of one SPARQL Update request; the worker applies
it with a single ``Store.update`` call, which pyoxigraph runs as one transaction — the
change and its derived consequences land together or not at all.

Incremental maintenance (cost grows with the change, not the store) is used for
blank-node-free additions and removals; anything else (graph drops, blank nodes,
changes to the class or property hierarchy, native SPARQL updates) uses the
pattern-based full rebuild, which is correct in every case.
"""

from __future__ import annotations

import io
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import pyoxigraph as ox

from service.rdf import vocabulary
from service.rdf.vocabulary import DERIVED_GRAPHS, ENTAILED_GRAPH

#: The terms the RDFS rules read, as pyoxigraph nodes.
RDF_TYPE = ox.NamedNode(vocabulary.RDF_TYPE)
SUBCLASS = ox.NamedNode(vocabulary.RDFS_SUBCLASS_OF)
SUBPROPERTY = ox.NamedNode(vocabulary.RDFS_SUBPROPERTY_OF)
ENTAILED = ox.NamedNode(ENTAILED_GRAPH)

Triple3 = tuple[object, object, object]
#: Each term → every term above it (superclasses or superproperties), transitively.
Closure = dict[object, set[object]]


def _closure(pairs: Iterable[tuple[object, object]]) -> Closure:
    """Transitive closure of a relation given as (child, parent) pairs; reflexive pairs dropped."""
    parents: dict[object, set[object]] = defaultdict(set)
    for child, parent in pairs:
        if child != parent:
            parents[child].add(parent)
    closed: dict[object, set[object]] = {}
    for start in list(parents):
        seen: set[object] = set()
        stack = list(parents[start])
        while stack:
            node = stack.pop()
            if node in seen or node == start:
                continue
            seen.add(node)
            stack.extend(parents.get(node, ()))
        closed[start] = seen
    return closed


def is_asserted(graph: object, *, union: bool) -> bool:
    """True for a graph holding what was stated (bundled or written by a client), false for what the service derives.

    Every named graph but the derived ones (:data:`~service.rdf.vocabulary.DERIVED_GRAPHS`) is asserted;
    the default graph is asserted unless ``union`` (then it is the service's union of the named
    graphs, and counting it as well would count every triple twice).
    """
    if isinstance(graph, ox.DefaultGraph):
        return not union
    return not (isinstance(graph, ox.NamedNode) and graph.value in DERIVED_GRAPHS)


def unasserted_graphs(*, union: bool) -> set[object]:
    """The graph names :func:`is_asserted` rejects, as pyoxigraph terms (to skip them while reading quads)."""
    graphs: set[object] = {ox.NamedNode(g) for g in DERIVED_GRAPHS}
    if union:
        graphs.add(ox.DefaultGraph())
    return graphs


def asserted_pattern(pattern: str, *, union: bool) -> str:
    """A SPARQL group pattern matching ``pattern`` in the asserted graphs only (:func:`is_asserted`)."""
    derived = ", ".join(f"<{g}>" for g in sorted(DERIVED_GRAPHS))
    named = f"{{ GRAPH ?g {{ {pattern} }} FILTER(?g NOT IN ({derived})) }}"
    return named if union else f"{{ {named} UNION {{ {pattern} }} }}"


def hierarchy(store: ox.Store, extra: Iterable[ox.Quad] = ()) -> tuple[Closure, Closure]:
    """The superclass and superproperty closures, read from every named graph.

    ``extra``: quads about to be added in the same update. The store is read before the
    change is applied, so their hierarchy triples are counted here.
    """
    pairs: dict[Any, list[tuple[Any, Any]]] = {SUBCLASS: [], SUBPROPERTY: []}
    stored = itertools.chain(store.quads_for_pattern(None, SUBCLASS, None, None),
                             store.quads_for_pattern(None, SUBPROPERTY, None, None))
    for q in itertools.chain(stored, extra):
        # Only IRIs count, stored or new: a blank node has no place in the VALUES rows below.
        if q.predicate in pairs and isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode):
            pairs[q.predicate].append((q.subject, q.object))
    return _closure(pairs[SUBCLASS]), _closure(pairs[SUBPROPERTY])


def _values(pairs: Closure) -> str:
    rows = " ".join(f"({child} {parent})" for child, parents in pairs.items() for parent in parents)
    return rows


def entailment_constructs(store: ox.Store) -> Iterator[str]:
    """CONSTRUCT queries whose answers, together, are the entailed graph of :func:`full_rebuild` (rules rdfs9 and
    rdfs7 applied once to the named graphs), one query per subclass or sub-property.

    Why queries: the engine finds and serializes the inferred triples itself, where computing them quad by quad in
    Python took most of a remote first load (``service.store.remote``). One query per term keeps each answer small
    enough to hold while it is sent. A query's answer may repeat a triple (a resource typed by two documents): stores
    keep one.
    """
    supers, superprops = hierarchy(store)
    for child, parents in sorted(supers.items(), key=lambda item: str(item[0])):
        above = " ".join(str(d) for d in sorted(parents, key=str))
        yield (f"CONSTRUCT {{ ?s a ?d }} WHERE {{ VALUES ?d {{ {above} }} "
               f"GRAPH ?g {{ ?s a {child} }} FILTER(?g != {ENTAILED}) }}")
    for child, parents in sorted(superprops.items(), key=lambda item: str(item[0])):
        above = " ".join(str(q) for q in sorted(parents, key=str))
        yield (f"CONSTRUCT {{ ?s ?q ?o }} WHERE {{ VALUES ?q {{ {above} }} "
               f"GRAPH ?g {{ ?s {child} ?o }} FILTER(?g != {ENTAILED}) }}")


def graph_dumps(store: ox.Store, union: bool) -> Iterator[bytes]:
    """Every quad of ``store`` as N-Quads, one graph at a time, written by pyoxigraph itself; with ``union``, each
    named graph's triples a second time as the union default graph's (an N-Triples line is an N-Quads line of the
    default graph).

    Why: the same bytes as serializing the quads one Python object at a time, several times faster. Each graph is
    dumped as N-Triples and its name put before each line's final `` .`` (a line ends so and only there: N-Triples
    escapes line breaks inside literals). Blank node labels are the store's node ids throughout, so a node shared
    between graphs (and with the entailed quads, :func:`entailed_dumps`) stays one where the chunks are loaded.
    """
    default = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    if default:
        yield default
    for graph in store.named_graphs():
        triples = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph) or b""
        yield triples.replace(b" .\n", b" " + str(graph).encode() + b" .\n")
        if union:
            yield triples


def entailed_dumps(store: ox.Store, union: bool) -> Iterator[bytes]:
    """The entailed graph of a freshly loaded ``store`` as N-Quads (with its copy in the union default graph when
    ``union``), computed and written by the engine: the answers of :func:`entailment_constructs`.

    Why: the quads :meth:`service.store.worker.Worker.derived_quads` yields, without building a Python object per
    quad — that took most of a first load at a million triples. A CONSTRUCT answer names a blank node by the
    store's own id, as :func:`graph_dumps` does.
    """
    graph = b" " + str(ENTAILED).encode() + b" .\n"
    for query in entailment_constructs(store):
        triples = store.query(query).serialize(format=ox.RdfFormat.N_TRIPLES) or b""
        yield triples.replace(b" .\n", graph)
        if union:
            yield triples


def dataset_with_derived(store: ox.Store, *, union: bool, entailment: str) -> Iterator[bytes] | None:
    """A freshly loaded ``store`` with the derived graphs :func:`full_rebuild` would add, as N-Quads chunks (one
    document), for one bulk load elsewhere; ``None`` when the store already holds derived quads (a default graph
    under ``union``, an entailed graph), which this does not merge.
    """
    if union and next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
        return None
    if next(iter(store.quads_for_pattern(None, None, None, ENTAILED)), None) is not None:
        return None
    entailed = entailed_dumps(store, union=union) if entailment == "rdfs" else iter(())
    return itertools.chain(graph_dumps(store, union=union), entailed)


class ChunkReader(io.RawIOBase):
    """Byte chunks as a binary file, so that a loader reading a file (``Store.bulk_load``) reads them as they come."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not len(self._rest):
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = memoryview(chunk)
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


def full_rebuild(store: ox.Store, *, union: bool, entailment: str, extra: Iterable[ox.Quad] = ()) -> str:
    """An update that recomputes both derived graphs from the named graphs (blank-node safe).

    ``extra``: quads the same update adds before this text runs; hierarchy triples among
    them are counted (see :func:`hierarchy`).
    """
    parts: list[str] = [f"DROP SILENT GRAPH {ENTAILED}"]
    if entailment == "rdfs":
        supers, superprops = hierarchy(store, extra)
        if supers:
            parts.append(
                f"INSERT {{ GRAPH {ENTAILED} {{ ?s a ?d }} }} WHERE {{ VALUES (?c ?d) {{ {_values(supers)} }} "
                f"GRAPH ?g {{ ?s a ?c }} FILTER(?g != {ENTAILED}) }}")
        if superprops:
            parts.append(
                f"INSERT {{ GRAPH {ENTAILED} {{ ?s ?q ?o }} }} WHERE {{ VALUES (?p ?q) {{ {_values(superprops)} }} "
                f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != {ENTAILED}) }}")
    if union:
        parts.append("DROP SILENT DEFAULT")
        parts.append("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    return " ;\n".join(parts)


def _has_blank(quads: Iterable[ox.Quad]) -> bool:
    return any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object, q.graph_name))


def _data_block(quads: Iterable[ox.Quad]) -> str:
    by_graph: dict[object, list[str]] = defaultdict(list)
    for q in quads:
        by_graph[q.graph_name].append(f"{q.subject} {q.predicate} {q.object} .")
    out: list[str] = []
    for graph, lines in by_graph.items():
        body = "\n".join(lines)
        out.append(body if isinstance(graph, ox.DefaultGraph) else f"GRAPH {graph} {{\n{body}\n}}")
    return "\n".join(out)


def _entail(triples: set[tuple[object, object]], supers: dict, superprops: dict) -> set[tuple[object, object]]:
    """The (predicate, object) pairs RDFS rules 7 and 9 derive for one subject."""
    derived: set[tuple[object, object]] = set()
    for p, o in triples:
        for q in superprops.get(p, ()):
            derived.add((q, o))
    types = {o for p, o in triples | derived if p == RDF_TYPE}
    for c in types:
        for d in supers.get(c, ()):
            derived.add((RDF_TYPE, d))
    return derived


def delta_update(
    store: ox.Store,
    add: list[ox.Quad],
    remove: list[ox.Quad],
    *,
    union: bool,
    entailment: str,
    drop_graphs: Iterable[object] = (),
) -> str:
    """One update that applies a change and keeps the derived graphs right.

    ``add`` may contain blank nodes; ``remove`` may not (SPARQL forbids them in
    ``DELETE DATA``): callers remove blank-node content by dropping its graph.
    """
    drop_graphs = list(drop_graphs)
    base: list[str] = [f"DROP SILENT GRAPH {g}" if not isinstance(g, ox.DefaultGraph) else "DROP SILENT DEFAULT"
                       for g in drop_graphs]
    base += _data_updates(remove, add)
    if needs_full_rebuild(add, remove, drop_graphs, union=union, entailment=entailment):
        return " ;\n".join([*base, full_rebuild(store, union=union, entailment=entailment, extra=add)])
    if not (union or entailment == "rdfs") or not base:
        return " ;\n".join(base)
    return " ;\n".join([*base, *_data_updates(*derived_changes(store, add, remove, union=union,
                                                                  entailment=entailment))])


def needs_full_rebuild(add: list[ox.Quad], remove: list[ox.Quad], drop_graphs: list[object], *, union: bool,
                       entailment: str) -> bool:
    """Whether a change's derived consequences need :func:`full_rebuild` rather than :func:`derived_changes`
    (graph drops, blank nodes, changes to the class or property hierarchy: see the module's docstring)."""
    if not (union or entailment == "rdfs"):
        return False
    hierarchy_touched = any(q.predicate in (SUBCLASS, SUBPROPERTY) for q in (*add, *remove))
    return bool(drop_graphs) or _has_blank(add) or hierarchy_touched


def derived_additions(store: ox.Store, add: list[ox.Quad], *, union: bool, entailment: str) -> list[ox.Quad] | None:
    """The derived quads that a change which only ADDS ``add`` brings, to be written with it in one transaction;
    ``None`` where that does not hold (a full rebuild is needed, or ``add`` writes a derived graph).

    Why: a large batch's commit was spent writing its quads and their derived ones as the text of one
    ``INSERT DATA`` and having the engine parse that text back; ``Store.extend`` takes the quads themselves, in one
    transaction all the same (:func:`service.store.ops.commit`).
    """
    if needs_full_rebuild(add, [], [], union=union, entailment=entailment):
        return None
    if not (union or entailment == "rdfs"):
        return []
    if any(not is_asserted(q.graph_name, union=union) for q in add):
        return None  # a derived graph written directly: the general path sorts it out
    # With the hierarchy unchanged (checked above), rules rdfs7 and rdfs9 take one premise each, so an addition
    # entails exactly what its own triples entail (:func:`_entail`, per subject), and the union default graph gains
    # its triples and those: nothing stored before is read but the hierarchy. A quad already there is written
    # again, which changes nothing.
    supers, superprops = hierarchy(store) if entailment == "rdfs" else ({}, {})
    by_subject: dict[object, set[tuple[object, object]]] = defaultdict(set)
    for q in add:
        by_subject[q.subject].add((q.predicate, q.object))
    entailed = {(s, p, o) for s, pairs in by_subject.items() for p, o in _entail(pairs, supers, superprops)}
    derived = _in_graph(entailed, ENTAILED)
    if union:
        derived += _in_graph({(q.subject, q.predicate, q.object) for q in add} | entailed, ox.DefaultGraph())
    return derived


def derived_changes(store: ox.Store, add: list[ox.Quad], remove: list[ox.Quad], *, union: bool,
                    entailment: str) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """The derived quads to remove and to add for a blank-node-free change that leaves the hierarchy alone.

    Step 1 recomputes the entailments of the subjects the change touches; step 2 brings the
    union default graph in line for the triples the change and step 1 touched.
    """
    after = _AssertedAfter(store, add, remove)
    e_add: set[Triple3] = set()
    e_remove: set[Triple3] = set()
    entailed_after: dict[object, set[tuple[object, object]]] = {}
    if entailment == "rdfs":
        e_add, e_remove, entailed_after = _entailment_changes(store, after)
    d_add: set[Triple3] = set()
    d_remove: set[Triple3] = set()
    if union:
        d_add, d_remove = _union_changes(store, after, after.touched() | e_add | e_remove, entailed_after)
    return (_in_graph(e_remove, ENTAILED) + _in_graph(d_remove, ox.DefaultGraph()),
            _in_graph(e_add, ENTAILED) + _in_graph(d_add, ox.DefaultGraph()))


class _AssertedAfter:
    """The asserted quads (named graphs, not the entailed one) as they will be after a change.

    Read from the store (which still holds the state before) and corrected by the change.
    The added quads are indexed by subject and by triple, so each look-up costs O(its answer):
    scanning them per subject made large batches quadratic.
    """

    def __init__(self, store: ox.Store, add: list[ox.Quad], remove: list[ox.Quad]) -> None:
        self.store = store
        self.removed = {(q.subject, q.predicate, q.object, q.graph_name) for q in remove}
        self.added = {(q.subject, q.predicate, q.object, q.graph_name) for q in add}
        self._by_subject: dict[object, set[tuple]] = defaultdict(set)
        self._by_triple: dict[Triple3, set[tuple]] = defaultdict(set)
        for quad in self.added:
            if not isinstance(quad[3], ox.DefaultGraph):
                self._by_subject[quad[0]].add(quad)
                self._by_triple[quad[:3]].add(quad)

    def touched(self) -> set[Triple3]:
        """The triples the change adds or removes (in any graph)."""
        return {(s, p, o) for s, p, o, _ in self.removed | self.added}

    def quads(self, s: object, p: object | None = None, o: object | None = None) -> set[tuple]:
        """The asserted quads matching the pattern after the change."""
        found = {(q.subject, q.predicate, q.object, q.graph_name)
                 for q in self.store.quads_for_pattern(s, p, o, None)
                 if not isinstance(q.graph_name, ox.DefaultGraph) and q.graph_name != ENTAILED}
        found -= self.removed
        if p is not None and o is not None:
            found |= self._by_triple.get((s, p, o), set())
        else:
            found |= {a for a in self._by_subject.get(s, ()) if (p is None or a[1] == p) and (o is None or a[2] == o)}
        return found


def _entailment_changes(store: ox.Store, after: _AssertedAfter
                        ) -> tuple[set[Triple3], set[Triple3], dict[object, set[tuple[object, object]]]]:
    """Step 1: for each subject the change touches, its entailed triples after the change against before.

    Returns the entailed triples to add and to remove, and each subject's entailed (predicate,
    object) pairs after the change (step 2 needs them).
    """
    supers, superprops = hierarchy(store)
    to_add: set[Triple3] = set()
    to_remove: set[Triple3] = set()
    entailed_after: dict[object, set[tuple[object, object]]] = {}
    for s in {t[0] for t in after.touched()}:
        now = {(p, o) for _, p, o, _ in after.quads(s)}
        entailed = _entail(now, supers, superprops)
        before = {(q.predicate, q.object) for q in store.quads_for_pattern(s, None, None, ENTAILED)}
        entailed_after[s] = entailed
        to_add |= {(s, p, o) for p, o in entailed - before}
        to_remove |= {(s, p, o) for p, o in before - entailed}
    return to_add, to_remove, entailed_after


def _union_changes(store: ox.Store, after: _AssertedAfter, candidates: set[Triple3],
                   entailed_after: dict[object, set[tuple[object, object]]]) -> tuple[set[Triple3], set[Triple3]]:
    """Step 2: the union default graph's triples to add and to remove.

    A candidate (a triple the change or step 1 touched) belongs in the union after the change
    when some named graph asserts it or it is entailed; it is there now when the default graph
    holds it. Only the triples whose presence differs change.
    """
    to_add: set[Triple3] = set()
    to_remove: set[Triple3] = set()
    for s, p, o in candidates:
        present_after = bool(after.quads(s, p, o)) or (p, o) in entailed_after.get(s, set())
        present_before = any(True for _ in store.quads_for_pattern(s, p, o, ox.DefaultGraph()))
        if present_after and not present_before:
            to_add.add((s, p, o))
        elif present_before and not present_after:
            to_remove.add((s, p, o))
    return to_add, to_remove


def _data_updates(remove: list[ox.Quad], add: list[ox.Quad]) -> list[str]:
    """Step 3: the ``DELETE DATA`` and ``INSERT DATA`` operations of the derived quads (none when empty)."""
    parts: list[str] = []
    if remove:
        parts.append("DELETE DATA {\n" + _data_block(remove) + "\n}")
    if add:
        parts.append("INSERT DATA {\n" + _data_block(add) + "\n}")
    return parts


def _in_graph(triples: set[Triple3], graph: object) -> list[ox.Quad]:
    return [ox.Quad(s, p, o, graph) for s, p, o in triples]  # type: ignore[arg-type]

