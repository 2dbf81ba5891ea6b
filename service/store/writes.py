"""Every write path in one place: SPARQL Update, Graph Store writes and ingest all come here.

Why one module: the same guard must apply to every way of changing the graph —
refuse writes to derived graphs (and, in union mode, to the default graph), validate
the state *after* the change against the SHACL shapes, and commit atomically or not
at all. Blueprints call these functions and never write to the store directly.

How a guarded write runs (all inside the store worker, under its write lock, see
:mod:`service.store.ops`): the change is known first — given as quads, or computed for
a SPARQL Update by :mod:`service.store.update_delta` without writing — then validated in the
context of the stored graph (:mod:`service.validation`), then committed with its
derived-graph consequences in one pyoxigraph transaction. Only ``sh:Violation`` results
refuse a change (422 with the report); warnings are reported and accepted.

With neither UNION_DEFAULT_GRAPH nor VALIDATE_WRITES, SPARQL updates run natively
(the configuration of the W3C conformance runs).

Which graphs may be written is one rule, :func:`service.store.writable.unwritable`, asked on
every path: here for the worker's answers, in the worker on the change itself, and by the
Graph Store blueprint before it reads a body.

Blank nodes in ingested batches are skolemized: each becomes the IRI
``https://w3id.org/dprk-japan-kg/.well-known/genid/<uuid>`` (RDF 1.1 §3.5), so a batch
can be referred to, validated and removed triple by triple later.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from service import problems
from service.rdf import vocabulary
from service.rdf.terms import encode
from service.rdf.vocabulary import (
    BATCH_GRAPH_NS,
    GRAPH_NS,
    PROV,
    PROV_GENERATED_AT_TIME,
    XSD_DATETIME,
    XSD_INTEGER,
)
from service.store.client import StoreClient
from service.store.writable import Unwritable, names_a_derived_graph

#: Skolem IRIs for blank nodes of ingested batches (RDF 1.1 Concepts §3.5).
GENID_NS = "https://w3id.org/dprk-japan-kg/.well-known/genid/"
#: Provenance of ingested batches: one record per batch graph.
PROVENANCE_GRAPH = GRAPH_NS + "provenance"
#: Token agents (``prov:wasAttributedTo``) are named under this prefix.
TOKEN_AGENT_NS = GRAPH_NS + "token/"
#: Longest source note kept in the provenance record.
MAX_SOURCE_NOTE = 2000

RDF_TYPE = ox.NamedNode(vocabulary.RDF_TYPE)
RDFS_LABEL = ox.NamedNode(vocabulary.RDFS_LABEL)
RDFS_COMMENT = ox.NamedNode(vocabulary.RDFS_COMMENT)
DCT_IDENTIFIER = ox.NamedNode(vocabulary.DCT_IDENTIFIER)
VOID_TRIPLES = ox.NamedNode(vocabulary.VOID_TRIPLES)


@dataclass
class WriteResult:
    """What a write did: counts, and the batch graph when the write created one."""

    added: int = 0
    removed: int = 0
    graph: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _settings(store: StoreClient) -> tuple[bool, bool]:
    union = bool(store.settings.get("UNION_DEFAULT_GRAPH", True))
    validate = bool(store.settings.get("VALIDATE_WRITES", True))
    return union, validate


def refusal_message(report: dict[str, Any]) -> str:
    """One paragraph saying why a change was refused, naming the first broken rules in plain words."""
    from service.validation import ValidationReport

    parsed = ValidationReport.from_json(report)
    violations = [r for r in parsed.results if r.severity == "Violation"]
    lines = [f"The change was refused: the graph after it would break {len(violations)} SHACL rule(s) "
             f"(sh:Violation); nothing was written."]
    lines += [f"- {r.summary} {r.message}" for r in violations[:3]]
    if len(violations) > 3:
        lines.append(f"- … and {len(violations) - 3} more (see 'report').")
    return "\n".join(lines)


def _check(answer: dict[str, Any], what: str) -> dict[str, Any]:
    """Turn a worker refusal into the right client error; return the answer when the change was applied."""
    refused = answer.get("refused")
    if refused in ("derived", "default-graph"):
        raise Unwritable(refused, tuple(answer.get("graphs", ()))).problem(what)
    if refused == "shapes":
        raise problems.unprocessable(refusal_message(answer["report"]), report=answer["report"])
    return answer


def _result(answer: dict[str, Any], graph: str | None = None) -> WriteResult:
    details = {"report": answer["report"]} if answer.get("report") else {}
    return WriteResult(added=answer.get("added", 0), removed=answer.get("removed", 0), graph=graph, details=details)


def run_update(store: StoreClient, sparql: str, *, base_iri: str | None = None) -> WriteResult:
    """Run a SPARQL Update request (the protocol layer has already checked syntax and rights, and
    written the protocol's using-graph-uri parameters into the text as USING clauses).

    Guarded (delta computed, refused or validated, committed as one transaction) unless
    neither union mode nor write validation is on, in which case pyoxigraph runs it
    natively — except an update that names a derived graph: it takes the guarded path
    (without validation), so the writable-graph rule answers it as on every other path.
    """
    union, validate = _settings(store)
    if not union and not validate and not names_a_derived_graph(sparql, base_iri):
        store.update(sparql, base_iri=base_iri)
        return WriteResult()
    answer = store.call("guarded_update", sparql=sparql, base_iri=base_iri, validate=validate)
    return _result(_check(answer, "update"))


def _apply(store: StoreClient, what: str, *, add: list[ox.Quad] = (), drop: list[Any] = (),  # type: ignore[assignment]
           create: list[Any] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    _, validate = _settings(store)
    answer = store.call("guarded_apply", add=ox.serialize(list(add), format=ox.RdfFormat.N_QUADS) or b"",
                        drop_graphs=[encode(g) for g in drop], create_graphs=[encode(g) for g in create],
                        validate=validate)
    return _check(answer, what)


def replace_graph(store: StoreClient, graph: Any, quads: Iterable[ox.Quad]) -> WriteResult:
    """Graph Store PUT: the graph's content becomes exactly ``quads`` (one transaction)."""
    quads = list(quads)
    create = [graph] if isinstance(graph, ox.NamedNode) else []
    return _result(_apply(store, "write", add=quads, drop=[graph], create=create))


def add_to_graph(store: StoreClient, graph: Any, quads: Iterable[ox.Quad]) -> WriteResult:
    """Graph Store POST: merge ``quads`` into the graph."""
    quads = list(quads)
    create = [graph] if isinstance(graph, ox.NamedNode) else []
    return _result(_apply(store, "write", add=quads, create=create))


def drop_graph(store: StoreClient, graph: Any) -> WriteResult:
    """Graph Store DELETE: remove the graph and everything in it."""
    return _result(_apply(store, "deletion", drop=[graph]))


# -- ingest -----------------------------------------------------------------------------------


def skolemize(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Replace every blank node by a fresh skolem IRI (``GENID_NS`` + uuid), consistently within the batch."""
    names: dict[str, ox.NamedNode] = {}

    def fix(term: Any) -> Any:
        if isinstance(term, ox.BlankNode):
            if term.value not in names:
                names[term.value] = ox.NamedNode(GENID_NS + str(uuid.uuid4()))
            return names[term.value]
        return term

    return [ox.Quad(fix(q.subject), q.predicate, fix(q.object), fix(q.graph_name)) for q in quads]


def new_batch_id() -> str:
    """A batch identifier that sorts by time: ``20250101T120000Z-1a2b3c4d``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def batch_graph(batch_id: str) -> ox.NamedNode:
    """The named graph of an accepted batch."""
    return ox.NamedNode(BATCH_GRAPH_NS + batch_id)


def is_iri(text: str) -> bool:
    """True for an absolute IRI we can record as a source document (scheme, no spaces)."""
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", text):
        return False
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def provenance(batch_id: str, *, token_name: str, source: str | None, triples: int,
               when: datetime | None = None) -> list[ox.Quad]:
    """The provenance record of a batch (PROV-O), in :data:`PROVENANCE_GRAPH`.

    ``source``: an IRI becomes ``prov:hadPrimarySource``; any other text is kept as an
    ``rdfs:comment`` note.
    """
    graph = ox.NamedNode(PROVENANCE_GRAPH)
    batch = batch_graph(batch_id)
    agent = ox.NamedNode(TOKEN_AGENT_NS + quote(token_name, safe=""))
    moment = (when or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    quads = [
        ox.Quad(batch, RDF_TYPE, ox.NamedNode(PROV + "Entity"), graph),
        ox.Quad(batch, DCT_IDENTIFIER, ox.Literal(batch_id), graph),
        ox.Quad(batch, ox.NamedNode(PROV_GENERATED_AT_TIME),
                ox.Literal(moment, datatype=ox.NamedNode(XSD_DATETIME)), graph),
        ox.Quad(batch, ox.NamedNode(PROV + "wasAttributedTo"), agent, graph),
        ox.Quad(batch, VOID_TRIPLES, ox.Literal(str(triples), datatype=ox.NamedNode(XSD_INTEGER)), graph),
        ox.Quad(agent, RDF_TYPE, ox.NamedNode(PROV + "Agent"), graph),
        ox.Quad(agent, RDFS_LABEL, ox.Literal(token_name), graph),
    ]
    if source:
        if is_iri(source):
            quads.append(ox.Quad(batch, ox.NamedNode(PROV + "hadPrimarySource"), ox.NamedNode(source), graph))
        else:
            quads.append(ox.Quad(batch, RDFS_COMMENT, ox.Literal(source[:MAX_SOURCE_NOTE]), graph))
    return quads


def ingest_batch(store: StoreClient, quads: Iterable[ox.Quad], *, token_name: str, source: str | None = None,
                 batch_id: str | None = None) -> WriteResult:
    """Validate a batch in context and commit it, with its provenance, in one transaction.

    Every triple lands in the batch's own graph (graph names given in a TriG or N-Quads
    payload are not kept: the batch graph is what names its provenance). Blank nodes are
    skolemized. 422 with the report when the batch breaks a shape; nothing is written.
    """
    batch_id = batch_id or new_batch_id()
    graph = batch_graph(batch_id)
    triples = {(q.subject, q.predicate, q.object) for q in skolemize(quads)}
    batch = [ox.Quad(s, p, o, graph) for s, p, o in sorted(triples, key=str)]
    record = provenance(batch_id, token_name=token_name, source=source, triples=len(batch))
    answer = _apply(store, "batch", add=batch + record)
    result = _result(answer, graph=graph.value)
    result.added = len(batch)
    result.details.update({"batch": batch_id, "provenance_graph": PROVENANCE_GRAPH})
    return result
