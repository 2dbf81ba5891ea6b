"""Loading the bundled graph (ontology, shapes, data) into an in-memory store: the one way, for the CLI and the
offline backends.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from service.config import BUNDLE_ROOT
from service.rdf.dataset import bundled_files
from service.rdf.parsing import RDF_FORMATS


def load_bundled(root: Path = BUNDLE_ROOT) -> ox.Store:
    """An in-memory store holding the ontology, shapes and data, each in its named graph."""
    store = ox.Store()
    for item in bundled_files(root):
        to_graph = ox.NamedNode(item.graph) if item.graph else None
        store.load(path=str(item.path), format=RDF_FORMATS[item.format], to_graph=to_graph)
    return store
