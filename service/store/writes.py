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

A batch whose source is a registered source document (``--source djr:doc-003``) carries that
document's statements: its provenance record links the batch graph to the document
(:mod:`service.rdf.documents`), so every query that asks "which document says so" counts it, while
the batch keeps its own graph, sender and time. A batch that registers a new document (types it
``dj:SourceDocument``, with its title, date, publisher …) names that document as its source.
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
from service.rdf import documents, vocabulary
from service.rdf.terms import encode
from service.rdf.vocabulary import (
    BATCH_GRAPH_NS,
    DCT_SOURCE,
    DJ_SOURCE_DOCUMENT,
    DJ_STATEMENTS_OF,
    GENID_NS,
    GRAPH_NS,
    PROV,
    PROV_GENERATED_AT_TIME,
    PROV_HAD_PRIMARY_SOURCE,
    PROVENANCE_GRAPH,
    RESOURCE_NS,
    XSD_DATETIME,
    XSD_INTEGER,
    curie,
    expand_name,
)
from service.store.client import StoreClient
from service.store.writable import Unwritable, names_a_derived_graph

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
    if refused in ("derived", "service", "default-graph"):
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
           create: list[Any] = (), service_graphs: bool = False) -> dict[str, Any]:  # type: ignore[assignment]
    """A guarded apply in the worker; ``service_graphs``: the change writes the provenance graph on purpose."""
    _, validate = _settings(store)
    answer = store.call("guarded_apply", add=ox.serialize(list(add), format=ox.RdfFormat.N_QUADS) or b"",
                        drop_graphs=[encode(g) for g in drop], create_graphs=[encode(g) for g in create],
                        validate=validate, service_graphs=service_graphs)
    return _check(answer, what)


def replace_graph(store: StoreClient, graph: Any, quads: Iterable[ox.Quad]) -> WriteResult:
    """Graph Store PUT: the graph's content becomes exactly ``quads`` (one transaction).

    A graph that types its own name ``dj:SourceDocument`` (a document's own graph) is linked to
    it by the worker, as the bundled document graphs are (:mod:`service.rdf.documents`).
    """
    quads = list(quads)
    create = [graph] if isinstance(graph, ox.NamedNode) else []
    return _result(_apply(store, "write", add=quads, drop=[graph], create=create))


def add_to_graph(store: StoreClient, graph: Any, quads: Iterable[ox.Quad]) -> WriteResult:
    """Graph Store POST: merge ``quads`` into the graph (a document's own graph is linked, as for PUT)."""
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


@dataclass(frozen=True)
class Source:
    """What a batch's ``source`` names: a registered source document, another IRI, or a note.

    ``document``: the source document whose statements the batch carries (the batch graph is
    linked to it); ``iri``: any source IRI (``prov:hadPrimarySource``); ``note``: free text;
    ``hint``: what the client may have meant (a batch citing a document it was not sent with).
    """

    document: str | None = None
    iri: str | None = None
    note: str | None = None
    hint: str | None = None


_TYPE = ox.NamedNode(vocabulary.RDF_TYPE)
_SOURCE_DOCUMENT = ox.NamedNode(DJ_SOURCE_DOCUMENT)
_DCT_SOURCE = ox.NamedNode(DCT_SOURCE)
_STATEMENTS_OF = ox.NamedNode(DJ_STATEMENTS_OF)


def _registered(store: StoreClient, iri: str) -> bool:
    """True when some asserted graph of the store types ``iri`` as a source document."""
    return store.ask(f"ASK {{ GRAPH ?g {{ <{iri}> a <{DJ_SOURCE_DOCUMENT}> }} }}")


def resolve_source(store: StoreClient, source: str | None, quads: list[ox.Quad]) -> Source:
    """Read a batch's ``source`` and check it against the batch; 400 naming the problem, nothing written.

    * A prefixed name is expanded (``djr:doc-003`` → its IRI).
    * An IRI typed ``dj:SourceDocument`` in the store, or by the batch itself (a registration),
      is the batch's document. An IRI under the knowledge graph's own namespace that is neither
      is refused: it names a document nobody registered (a typo, or a registration not yet sent).
    * Any other IRI (an article's URL) is kept as the primary source; other text as a note.

    A batch may not register a document other than its source, state ``dct:source`` of a
    document other than its source, or write the graph → document links itself.
    """
    for q in quads:
        if q.predicate == _STATEMENTS_OF:
            raise problems.bad_request(
                f"The batch states {curie(DJ_STATEMENTS_OF)}, which only the service writes (it links a batch to "
                f"its source document): remove those triples and give the document as the batch's source.")
    registers = sorted({q.subject.value for q in quads if q.predicate == _TYPE and q.object == _SOURCE_DOCUMENT
                        and isinstance(q.subject, ox.NamedNode)})
    text = (source or "").strip()
    iri = expand_name(text) if text else ""
    if not text or not is_iri(iri):
        new = [d for d in registers if not _registered(store, d)]
        if new:
            raise problems.bad_request(
                f"The batch registers the source document {curie(new[0])} but names no source document: send it "
                f"with that document as its source (source={curie(new[0])}), so its metadata is the document's own.")
        return Source(note=text or None, hint=_unsent_document(store, quads))
    known = _registered(store, iri)
    new = [d for d in registers if d != iri and not _registered(store, d)]
    if new:
        raise problems.bad_request(
            f"The batch registers the source document {curie(new[0])}, but its source is {curie(iri)}: register "
            f"each document in a batch of its own, with that document as the source.")
    if not known and iri not in registers:
        if iri.startswith(RESOURCE_NS):
            raise problems.bad_request(
                f"The source {curie(iri)} is not a registered source document (nothing in the store types it "
                f"{curie(DJ_SOURCE_DOCUMENT)}); nothing was written. Register it first — a batch with its "
                f"metadata (dct:title, dct:issued, dct:publisher, dct:language) sent with source={curie(iri)} — "
                f"or check the spelling.")
        return Source(iri=iri, hint=_unsent_document(store, quads))
    others = sorted({q.object.value for q in quads if q.predicate == _DCT_SOURCE
                     and isinstance(q.object, ox.NamedNode) and q.object.value != iri})
    if others:
        raise problems.bad_request(
            f"The batch's source is {curie(iri)}, but it gives dct:source {curie(others[0])}: a batch carries the "
            f"statements of one document; send the facts of {curie(others[0])} as a batch of their own.")
    return Source(document=iri, iri=iri)


def _unsent_document(store: StoreClient, quads: list[ox.Quad]) -> str | None:
    """The hint for a batch sent without a source document whose ``dct:source`` cites registered documents:
    it is accepted, but counts for no document — most likely the source was forgotten."""
    cited = sorted({q.object.value for q in quads if q.predicate == _DCT_SOURCE and isinstance(q.object, ox.NamedNode)})
    cited = [d for d in cited if _registered(store, d)]
    if not cited:
        return None
    names = ", ".join(curie(d) for d in cited)
    return (f"The batch cites {names} (dct:source) but was not sent with a source document, so it counts for no "
            f"document. To make it {curie(cited[0])}'s statement, send it again with source={curie(cited[0])} "
            f"(and delete this batch's graph).")


def provenance(batch_id: str, *, token_name: str, source: str | Source | None, triples: int,
               when: datetime | None = None) -> list[ox.Quad]:
    """The provenance record of a batch (PROV-O), in :data:`PROVENANCE_GRAPH`.

    ``source``: an IRI becomes ``prov:hadPrimarySource``; any other text is kept as an
    ``rdfs:comment`` note. A :class:`Source` naming a document also links the batch graph to
    it (:func:`service.rdf.documents.link`).
    """
    if not isinstance(source, Source):
        source = Source(iri=source) if source and is_iri(source) else Source(note=source or None)
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
    if source.iri:
        quads.append(ox.Quad(batch, ox.NamedNode(PROV_HAD_PRIMARY_SOURCE), ox.NamedNode(source.iri), graph))
    if source.document:
        quads.append(documents.link(batch, ox.NamedNode(source.document)))
    if source.note:
        quads.append(ox.Quad(batch, RDFS_COMMENT, ox.Literal(source.note[:MAX_SOURCE_NOTE]), graph))
    return quads


def ingest_batch(store: StoreClient, quads: Iterable[ox.Quad], *, token_name: str, source: str | None = None,
                 batch_id: str | None = None) -> WriteResult:
    """Validate a batch in context and commit it, with its provenance, in one transaction.

    Every triple lands in the batch's own graph (graph names given in a TriG or N-Quads
    payload are not kept: the batch graph is what names its provenance). Blank nodes are
    skolemized. The source is checked first (:func:`resolve_source`: 400, nothing written);
    422 with the report when the batch breaks a shape; nothing is written.
    """
    batch_id = batch_id or new_batch_id()
    graph = batch_graph(batch_id)
    triples = {(q.subject, q.predicate, q.object) for q in skolemize(quads)}
    batch = [ox.Quad(s, p, o, graph) for s, p, o in sorted(triples, key=str)]
    resolved = resolve_source(store, source, batch)
    record = provenance(batch_id, token_name=token_name, source=resolved, triples=len(batch))
    answer = _apply(store, "batch", add=batch + record, service_graphs=True)
    result = _result(answer, graph=graph.value)
    result.added = len(batch)
    result.details.update({"batch": batch_id, "provenance_graph": PROVENANCE_GRAPH, "document": resolved.document,
                           "hint": resolved.hint})
    return result
