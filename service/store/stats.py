"""How big the graph is — quads, named graphs, resources per class, facts per source document, evidence
coverage per source document: one computation
for ``dprk-kg stats`` (the bundled files in an in-memory store) and ``GET /stats`` (the service's store).

Why SPARQL through a ``select`` function: the same queries run on a pyoxigraph store in this process and
through the store worker, so the two answers agree. The derived graphs (inferences) are left out: they are
recomputed from the asserted data, and counting them would inflate every figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from service.rdf.evidence import fact_bearing_query
from service.rdf.vocabulary import DERIVED_GRAPHS, DJ_STATEMENTS_OF, PROVENANCE_GRAPH, RESOURCE_NS, curie

#: Runs a SELECT query and gives its rows, each a sequence of terms in the order of the projected variables.
Select = Callable[[str], Sequence[Sequence[Any]]]

_ASSERTED = "FILTER(?g NOT IN ({}))".format(", ".join(f"<{g}>" for g in sorted(DERIVED_GRAPHS)))


@dataclass(frozen=True)
class Coverage:
    """Evidence coverage of one source document: of its fact-bearing resources (the one definition,
    :func:`service.rdf.evidence.fact_bearing_query`), how many an evidence passage states, and which are left."""

    document: str
    evidenced: int
    fact_bearing: int
    missing: list[str]

    @property
    def percent(self) -> int:
        """Whole percent, rounded down: 99 % while one resource is left, never a rounded-up 100 %."""
        return 100 * self.evidenced // self.fact_bearing if self.fact_bearing else 100


@dataclass(frozen=True)
class Stats:
    """The figures: ``classes`` as (CURIE, distinct resources), ``documents`` as (CURIE, triples, resources),
    ``evidence`` as one :class:`Coverage` per source document."""

    quads: int
    graphs: int
    classes: list[tuple[str, int]]
    documents: list[tuple[str, int, int]]
    evidence: list[Coverage] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The figures as a JSON object (what ``GET /stats`` answers)."""
        return {
            "quads": self.quads,
            "graphs": self.graphs,
            "classes": [{"class": name, "resources": count} for name, count in self.classes],
            "documents": [{"document": name, "triples": triples, "resources": resources}
                          for name, triples, resources in self.documents],
            "evidence": [{"document": c.document, "evidenced": c.evidenced, "factBearing": c.fact_bearing,
                          "missing": c.missing} for c in self.evidence],
        }


def from_json(body: dict[str, Any]) -> Stats:
    """The figures as ``GET /stats`` answers them (:meth:`Stats.to_json`), back as :class:`Stats`."""
    return Stats(
        quads=int(body["quads"]),
        graphs=int(body["graphs"]),
        classes=[(item["class"], int(item["resources"])) for item in body["classes"]],
        documents=[(item["document"], int(item["triples"]), int(item["resources"])) for item in body["documents"]],
        evidence=[Coverage(item["document"], int(item["evidenced"]), int(item["factBearing"]), list(item["missing"]))
                  for item in body.get("evidence", [])],
    )


def _integer(term: Any) -> int:
    return int(term.value) if term is not None else 0


def compute(select: Select) -> Stats:
    """Count the asserted named graphs: their quads, the graphs, resources per class and per source document."""
    totals = select(f"SELECT (COUNT(*) AS ?quads) (COUNT(DISTINCT ?g) AS ?graphs) "
                    f"WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {_ASSERTED} }}")
    classes = select(
        f"SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?class }} {_ASSERTED} "
        f"FILTER(STRSTARTS(STR(?s), \"{RESOURCE_NS}\")) }} GROUP BY ?class ORDER BY DESC(?n) ?class")
    # A document's triples are those of every graph linked to it (its own graph and the batches sent with it as
    # their source, service.rdf.documents), each distinct triple once.
    documents = select(
        f"SELECT ?doc (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?resources) "
        f"WHERE {{ SELECT DISTINCT ?doc ?s ?p ?o "
        f"WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?g <{DJ_STATEMENTS_OF}> ?doc }} GRAPH ?g {{ ?s ?p ?o }} }} }} "
        f"GROUP BY ?doc ORDER BY ?doc")
    quads, graphs = (totals[0][0], totals[0][1]) if totals else (None, None)
    return Stats(
        quads=_integer(quads),
        graphs=_integer(graphs),
        classes=[(curie(row[0].value), _integer(row[1])) for row in classes],
        documents=[(curie(row[0].value), _integer(row[1]), _integer(row[2])) for row in documents],
        evidence=evidence_coverage(select),
    )


def evidence_coverage(select: Select) -> list[Coverage]:
    """Per source document, its fact-bearing resources and whether an evidence passage states each.

    The graphs of a document are those linked to it in the provenance graph (its own graph and the batches
    sent with it as their source); a resource is evidenced when an annotation in the graph holding its facts
    has it as body (:func:`~service.rdf.evidence.fact_bearing_query`, the one definition).
    """
    linked = f"EXISTS {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?g <{DJ_STATEMENTS_OF}> ?linkedDocument }} }}"
    rows = select(f"SELECT ?doc ?resource ?evidenced WHERE {{ {{ {fact_bearing_query(linked)} }} "
                  f"GRAPH <{PROVENANCE_GRAPH}> {{ ?g <{DJ_STATEMENTS_OF}> ?doc }} }}")
    per_document: dict[str, dict[str, bool]] = {}
    for doc, resource, evidenced in rows:
        resources = per_document.setdefault(doc.value, {})
        resources[resource.value] = resources.get(resource.value, False) or evidenced.value == "true"
    return [Coverage(curie(doc), sum(resources.values()), len(resources),
                     sorted(curie(r) for r, done in resources.items() if not done))
            for doc, resources in sorted(per_document.items())]


def in_memory(store: ox.Store) -> Select:
    """A :data:`Select` over a pyoxigraph store in this process (the CLI's bundled graph)."""
    def select(query: str) -> list[list[Any]]:
        solutions = store.query(query)
        assert isinstance(solutions, ox.QuerySolutions)
        return [[solution[v] for v in solutions.variables] for solution in solutions]

    return select
