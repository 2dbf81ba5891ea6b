"""The one interface the layers above ``store/`` use, and the choice of backend behind it.

Why an interface: the web tier, the canned queries and the CLI only ever call the operations
named here. Two backends implement them: :class:`service.store.client.StoreClient` (the
embedded pyoxigraph store in its worker process, the default) and
:class:`service.store.remote.RemoteStore` (any store that speaks the SPARQL 1.1 Protocol and
Graph Store Protocol, chosen with ``STORE_URL``). Nothing above this module knows which one
it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import pyoxigraph as ox


class StoreBackend(Protocol):
    """What every store backend offers (see the two implementations for how)."""

    settings: dict[str, Any]
    query_timeout: float
    update_timeout: float
    #: The key caches are invalidated by: bumped on every write made through this backend (embedded), or whenever
    #: the store's version changes (remote: a write through any service instance on that store).
    generation: int
    #: Called with (operation, seconds) when the store's first answer to an operation arrives (metrics).
    on_round_trip: Callable[[str, float], None] | None

    def query(self, sparql: str, *, format: str = "json", default_graph: Iterable[Any] | None = None,
              named_graphs: Iterable[Any] | None = None, substitutions: dict[str, Any] | None = None,
              base_iri: str | None = None, row_cap: int | None = None, timeout: float | None = None) -> Any:
        """Evaluate a query; a :class:`service.store.client.QueryResult`."""

    def select(self, sparql: str, **kwargs: Any) -> Any:
        """A SELECT's rows as pyoxigraph terms (:class:`service.store.client.Rows`)."""

    def construct(self, sparql: str, **kwargs: Any) -> list[ox.Triple]:
        """A CONSTRUCT's or DESCRIBE's triples."""

    def ask(self, sparql: str, **kwargs: Any) -> bool:
        """An ASK's answer."""

    def call(self, op: str, *, timeout: float | None = None, **payload: Any) -> Any:
        """One operation of :data:`service.store.worker.OPERATIONS` (validate, guarded writes …) by name."""

    def update(self, sparql: str, *, base_iri: str | None = None, timeout: float | None = None) -> None:
        """An unguarded SPARQL Update (the derived graphs follow)."""

    def apply(self, *, add: Iterable[ox.Quad] = (), remove: Iterable[ox.Quad] = (),
              drop_graphs: Iterable[Any] = (), timeout: float | None = None) -> dict[str, int]:
        """A known change, applied atomically, unvalidated."""

    def dump(self, media_type: str, graph: Any | None = None) -> Iterator[bytes]:
        """One graph, or the dataset without the derived graphs, serialized."""

    def named_graphs(self) -> list[Any]:
        """Every named graph."""

    def graph_exists(self, graph: Any) -> bool:
        """True if the named graph exists (the default graph always does)."""

    def quads(self, subject: Any = None, predicate: Any = None, object: Any = None, graph: Any = None,
              *, limit: int = 0) -> list[ox.Quad]:
        """Quads matching a pattern, for small internal look-ups."""

    def ping(self) -> dict[str, Any]:
        """A round trip to the store (health checks): ``{"pid": …}`` (``None`` when the store is remote)."""

    def close(self) -> None:
        """Release what the backend holds."""


def open_store(settings: dict[str, Any]) -> StoreBackend:
    """The backend the settings ask for: the remote store when ``STORE_URL`` is set, else the embedded one."""
    if settings.get("STORE_URL"):
        from service.store.remote import RemoteStore

        return RemoteStore(settings)
    from service.store.client import StoreClient

    return StoreClient(settings)
