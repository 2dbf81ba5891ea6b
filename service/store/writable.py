"""Which graphs a client may write: one rule, asked on every write path, with one answer per reason.

Why one module: the Graph Store blueprint (before it reads a body), the store worker
(guarded writes, ingest and its internal ``apply``, on the change itself) and the client
side of the writes (:mod:`service.store.writes`, turning the worker's answer into an error)
must agree. A derived graph is 403 — it exists, the service writes it, a client may not;
so is the provenance graph, which the service writes with every ingested batch (its record,
and the links that make a batch count as its source document's statement: a client who could
write them could make any graph speak for any document); the default graph while it is the
union of the named graphs is 400 — the request must name a graph instead. The same status and
message on every path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from service import problems
from service.rdf.vocabulary import DERIVED_GRAPHS, PROVENANCE_GRAPH
from service.sparql.lexer import read_prologues, tokenize

#: Graphs the service alone writes that are data rather than derived (dumped and kept, never rebuilt).
SERVICE_GRAPHS = frozenset({PROVENANCE_GRAPH})


@dataclass(frozen=True)
class Unwritable:
    """Why a change may not be written at all: it writes a derived graph, or the union default graph."""

    reason: str  # "derived" | "service" | "default-graph"
    graphs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The worker's answer for a refused guarded write (``refused`` names the reason)."""
        return {"refused": self.reason, "graphs": list(self.graphs)} if self.graphs else {"refused": self.reason}

    def message(self, what: str = "write") -> str:
        """What the client is told, the same on every path."""
        if self.reason == "derived":
            graphs = ", ".join(f"<{g}>" for g in self.graphs)
            return (f"The {what} would change {graphs}, which the service derives or keeps itself (materialized "
                    "inferences rebuilt after every write; the remote store's version), so it cannot be written; "
                    "write the asserted triples instead.")
        if self.reason == "service":
            graphs = ", ".join(f"<{g}>" for g in self.graphs)
            return (f"The {what} would change {graphs}, which the service writes itself: the provenance record of "
                    "each ingested batch and the links saying which graphs carry which source document's "
                    "statements. Send data with /ingest (its provenance is recorded) or write another graph.")
        return (f"The {what} would write the default graph, which in this service is the union of the named graphs "
                "(setting UNION_DEFAULT_GRAPH) and cannot be written directly: name a graph — "
                "'?graph=<iri>' in the Graph Store protocol; INSERT DATA { GRAPH <https://example.org/my-graph> "
                "{ ... } } or WITH <g> in an update.")

    def problem(self, what: str = "write") -> problems.ApiError:
        """The client error: 403 for a derived graph or the provenance graph, 400 for the union default graph."""
        if self.reason in ("derived", "service"):
            return problems.forbidden(self.message(what))
        return problems.bad_request(self.message(what))


def unwritable(graphs: Iterable[Any], *, union: bool, service: bool = False) -> Unwritable | None:
    """The one writable-graph rule: why a change writing ``graphs`` (pyoxigraph terms) is refused, or ``None``.

    Derived graphs (:data:`DERIVED_GRAPHS`) are never written by clients, nor are the service's own graphs
    (:data:`SERVICE_GRAPHS`) unless ``service`` (an ingest writing its batch's record); the default graph
    is not written while it is the union of the named graphs (``union``).
    """
    graphs = list(graphs)
    derived = sorted({g.value for g in graphs if isinstance(g, ox.NamedNode) and g.value in DERIVED_GRAPHS})
    if derived:
        return Unwritable("derived", tuple(derived))
    own = sorted({g.value for g in graphs if isinstance(g, ox.NamedNode) and g.value in SERVICE_GRAPHS})
    if own and not service:
        return Unwritable("service", tuple(own))
    if union and any(isinstance(g, ox.DefaultGraph) for g in graphs):
        return Unwritable("default-graph")
    return None


def names_a_derived_graph(sparql: str, base_iri: str | None = None) -> bool:
    """True if the update text names a derived graph or a service graph anywhere (IRI or prefixed name, read or
    written): such an update takes the guarded path, where the writable-graph rule answers it."""
    tokens = tokenize(sparql)
    prologue = read_prologues(tokens, base_iri)
    protected = DERIVED_GRAPHS | SERVICE_GRAPHS
    return any(t.kind in ("iri", "pname") and prologue.resolve(t) in protected for t in tokens)
