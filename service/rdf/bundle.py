"""Reading the bundled graph (ontology, shapes, data): the one way, for the store worker's first start, the
CLI, the offline canned backend and the export.

Why one module: which file goes into which named graph, and in which syntax, is decided once
(:func:`service.rdf.dataset.bundled_files`); reading the files is done once too, here, so a
store loaded by the worker, a store the CLI builds in memory and an export hold the same quads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from service.config import BUNDLE_ROOT
from service.rdf import derived, documents
from service.rdf.dataset import BundledFile, bundled_files
from service.rdf.formats import STORE_FORMATS


def _target(item: BundledFile) -> ox.NamedNode | None:
    """The named graph a file's triples go into (``None``: a dataset file, whose quads name their graphs)."""
    return ox.NamedNode(item.graph) if item.graph else None


def bundled_quads(root: Path = BUNDLE_ROOT) -> Iterator[ox.Quad]:
    """Every quad of the bundled files, file by file in their fixed order, each in its named graph,
    then the links of the document graphs to their documents (:mod:`service.rdf.documents`)."""
    typed: list[ox.Quad] = []
    for item in bundled_files(root):
        graph = _target(item)
        for quad in ox.parse(path=str(item.path), format=STORE_FORMATS[item.format]):
            quad = quad if graph is None else ox.Quad(quad.subject, quad.predicate, quad.object, graph)
            if documents.own_document_graphs([quad]):
                typed.append(quad)
            yield quad
    yield from documents.document_graph_links(typed)


def load_into(store: ox.Store, root: Path = BUNDLE_ROOT, *, bulk: bool = False) -> None:
    """Load the bundled files into ``store``, each in its named graph.

    ``bulk``: pyoxigraph's bulk loader — fast, but not transactional (the worker's first start,
    which records the load so an interrupted one is redone). The document graphs are then linked
    to their documents (:func:`service.rdf.documents.link_document_graphs`).
    """
    for item in bundled_files(root):
        load = store.bulk_load if bulk else store.load
        load(path=str(item.path), format=STORE_FORMATS[item.format], to_graph=_target(item))
    documents.link_document_graphs(store)


def load_bundled(root: Path = BUNDLE_ROOT, *, derive: bool = False) -> ox.Store:
    """An in-memory store holding the ontology, shapes and data, each in its named graph.

    ``derive``: also the union default graph and the RDFS inferences the service keeps by
    default (:mod:`service.rdf.derived`), so queries answer as the running service does.
    """
    store = ox.Store()
    load_into(store, root)
    if derive:
        store.update(derived.full_rebuild(store, union=True, entailment="rdfs"))
    return store
