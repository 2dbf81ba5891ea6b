"""Every write path in one place: SPARQL Update, Graph Store writes and ingest all come here.

Why one module: the same guard must apply to every way of changing the graph —
check the write token, refuse writes to derived graphs (and, in union mode, to the
default graph), validate the state after the change against the SHACL shapes, and
commit atomically or not at all. Blueprints call these functions and never write to
the store directly.

(Interface first version: unguarded. The validation work (issue 5) adds SHACL checks
behind the same signatures.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from .store import StoreClient


@dataclass
class WriteResult:
    """What a write did: counts, and the batch graph when the write created one."""

    added: int = 0
    removed: int = 0
    graph: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def run_update(store: StoreClient, sparql: str, *, base_iri: str | None = None,
               using_graphs: list[str] | None = None, using_named_graphs: list[str] | None = None) -> WriteResult:
    """Run a SPARQL Update request (the protocol layer has already checked syntax and rights)."""
    store.update(sparql, base_iri=base_iri)
    return WriteResult()


def replace_graph(store: StoreClient, graph: Any, quads: Iterable[ox.Quad]) -> WriteResult:
    """Graph Store PUT: the graph's content becomes exactly ``quads`` (one transaction)."""
    quads = list(quads)
    store.apply(add=quads, drop_graphs=[graph])
    return WriteResult(added=len(quads))


def add_to_graph(store: StoreClient, graph: Any, quads: Iterable[ox.Quad]) -> WriteResult:
    """Graph Store POST: merge ``quads`` into the graph."""
    quads = list(quads)
    store.apply(add=quads)
    return WriteResult(added=len(quads))


def drop_graph(store: StoreClient, graph: Any) -> WriteResult:
    """Graph Store DELETE: remove the graph and everything in it."""
    store.apply(drop_graphs=[graph])
    return WriteResult()
