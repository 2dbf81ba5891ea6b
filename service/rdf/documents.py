"""Which named graphs carry which source document's statements: the one rule, written once.

Why a link rather than "graph name = document": a document's statements live in its own graph
(``djr:doc-003``, bundled) *and* in every batch ingested later with that document as its source
(``djg:batch/…``, which keeps who sent it and when). A query that asks "which documents say X"
must see both, so every graph that carries a document's statements is linked to the document by
one triple in the provenance graph::

    GRAPH djg:provenance { ?g dj:statementsOf ?doc }

and queries say ``GRAPH ?g { … } GRAPH djg:provenance { ?g dj:statementsOf ?doc }`` (queries/README.md,
"Which document says so"). Only the service writes these links, with the rule of this module: for a
graph that types its own name as a document — at load for the bundled ``data/doc-00N.trig``
(:mod:`service.rdf.bundle`), in the store worker's guarded commit for such a graph written with the Graph
Store or a SPARQL Update (:mod:`service.store.ops`) — and at ingest for a batch whose source is a
registered document (:mod:`service.store.writes`). A batch may not state them itself.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from service.rdf.vocabulary import DJ_SOURCE_DOCUMENT, DJ_STATEMENTS_OF, PROVENANCE_GRAPH, RDF_TYPE

_TYPE = ox.NamedNode(RDF_TYPE)
_SOURCE_DOCUMENT = ox.NamedNode(DJ_SOURCE_DOCUMENT)
STATEMENTS_OF = ox.NamedNode(DJ_STATEMENTS_OF)
PROVENANCE = ox.NamedNode(PROVENANCE_GRAPH)


def link(graph: ox.NamedNode, document: ox.NamedNode) -> ox.Quad:
    """The quad saying that ``graph`` carries statements of ``document``."""
    return ox.Quad(graph, STATEMENTS_OF, document, PROVENANCE)


def own_document_graphs(quads: Iterable[ox.Quad]) -> set[ox.NamedNode]:
    """The graphs among ``quads`` that type their own name as a ``dj:SourceDocument`` (a document's own graph)."""
    return {q.graph_name for q in quads
            if isinstance(q.graph_name, ox.NamedNode) and q.subject == q.graph_name
            and q.predicate == _TYPE and q.object == _SOURCE_DOCUMENT}


def document_graph_links(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """One :func:`link` per document graph among ``quads`` (each linked to itself), in a fixed order."""
    return [link(g, g) for g in sorted(own_document_graphs(quads), key=lambda g: g.value)]


def link_document_graphs(store: ox.Store) -> None:
    """Add the links of every document graph in ``store`` (after loading the bundled files)."""
    typed = store.quads_for_pattern(None, _TYPE, _SOURCE_DOCUMENT, None)
    store.extend(document_graph_links(typed))
