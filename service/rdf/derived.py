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

import itertools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from service.rdf.vocabulary import DERIVED_GRAPHS, ENTAILED_GRAPH

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
SUBPROPERTY = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subPropertyOf")
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


def derived_among(graphs: Iterable[object]) -> list[str]:
    """The service-derived graphs among these graph names, sorted: clients may not write them."""
    return sorted({g.value for g in graphs if isinstance(g, ox.NamedNode) and g.value in DERIVED_GRAPHS})


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
    if remove:
        base.append("DELETE DATA {\n" + _data_block(remove) + "\n}")
    if add:
        base.append("INSERT DATA {\n" + _data_block(add) + "\n}")
    derive = union or entailment == "rdfs"
    hierarchy_touched = any(q.predicate in (SUBCLASS, SUBPROPERTY) for q in (*add, *remove))
    if derive and (drop_graphs or _has_blank(add) or hierarchy_touched):
        return " ;\n".join([*base, full_rebuild(store, union=union, entailment=entailment, extra=add)])
    if not derive or not base:
        return " ;\n".join(base)
    return " ;\n".join([*base, *_incremental(store, add, remove, union=union, entailment=entailment)])


def _incremental(store: ox.Store, add: list[ox.Quad], remove: list[ox.Quad], *, union: bool,
                 entailment: str) -> list[str]:
    """Derived-graph changes for a blank-node-free change that leaves the hierarchy alone."""
    removed = {(q.subject, q.predicate, q.object, q.graph_name) for q in remove}
    added = {(q.subject, q.predicate, q.object, q.graph_name) for q in add}
    # Indexes of the added quads (named graphs only), so each look-up costs O(its answer):
    # scanning ``added`` per subject made large batches quadratic.
    added_by_subject: dict[object, set[tuple]] = defaultdict(set)
    added_by_triple: dict[Triple3, set[tuple]] = defaultdict(set)
    for quad in added:
        if not isinstance(quad[3], ox.DefaultGraph):
            added_by_subject[quad[0]].add(quad)
            added_by_triple[quad[:3]].add(quad)

    def asserted_after(s: object, p: object | None = None, o: object | None = None) -> set[tuple]:
        """Quads in real named graphs (not default, not entailed) after the change."""
        found = {(q.subject, q.predicate, q.object, q.graph_name)
                 for q in store.quads_for_pattern(s, p, o, None)
                 if not isinstance(q.graph_name, ox.DefaultGraph) and q.graph_name != ENTAILED}
        found -= removed
        if p is not None and o is not None:
            found |= added_by_triple.get((s, p, o), set())
        else:
            found |= {a for a in added_by_subject.get(s, ()) if (p is None or a[1] == p) and (o is None or a[2] == o)}
        return found

    e_add: set[Triple3] = set()
    e_remove: set[Triple3] = set()
    entailed_after: dict[object, set[tuple[object, object]]] = {}
    if entailment == "rdfs":
        supers, superprops = hierarchy(store)
        for s in {q[0] for q in removed | added}:
            now = {(p, o) for _, p, o, _ in asserted_after(s)}
            after = _entail(now, supers, superprops)
            before = {(q.predicate, q.object) for q in store.quads_for_pattern(s, None, None, ENTAILED)}
            entailed_after[s] = after
            e_add |= {(s, p, o) for p, o in after - before}
            e_remove |= {(s, p, o) for p, o in before - after}

    d_add: set[Triple3] = set()
    d_remove: set[Triple3] = set()
    if union:
        candidates = {(s, p, o) for s, p, o, _ in removed | added} | e_add | e_remove
        for s, p, o in candidates:
            present_after = bool(asserted_after(s, p, o)) or (p, o) in entailed_after.get(s, set())
            present_before = any(True for _ in store.quads_for_pattern(s, p, o, ox.DefaultGraph()))
            if present_after and not present_before:
                d_add.add((s, p, o))
            elif present_before and not present_after:
                d_remove.add((s, p, o))

    def quads(triples: set[Triple3], graph: object) -> list[ox.Quad]:
        return [ox.Quad(s, p, o, graph) for s, p, o in triples]  # type: ignore[arg-type]

    parts: list[str] = []
    derived_remove = quads(e_remove, ENTAILED) + quads(d_remove, ox.DefaultGraph())
    derived_add = quads(e_add, ENTAILED) + quads(d_add, ox.DefaultGraph())
    if derived_remove:
        parts.append("DELETE DATA {\n" + _data_block(derived_remove) + "\n}")
    if derived_add:
        parts.append("INSERT DATA {\n" + _data_block(derived_add) + "\n}")
    return parts
