"""Store-worker operations for validation and guarded writes (loaded by :mod:`service.store.worker`).

Why in the worker: validation reads the neighbourhood of a change from the store, and
a guarded write must validate and commit under the same lock so that nothing changes
between the check and the commit. Each operation answers one ``("ok", value)``
message; refusals (a shape violation, a write to the default or a derived graph) are
answers too, not errors, so the web tier can show the report.

The worker's one table of operations (:data:`service.store.worker.OPERATIONS`) lists these
beside its own:

* ``validate`` — validate quads to add without writing (POST /validate, dry runs).
* ``validate_update`` — compute a SPARQL Update's delta and validate it, nothing written.
* ``guarded_apply`` — validate a change in context and commit it atomically if it conforms.
* ``guarded_update`` — the same for a SPARQL Update: delta, checks, validation, commit.
"""

from __future__ import annotations

import threading
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from service.rdf import derived, documents
from service.rdf.terms import decode, encode
from service.store.writable import unwritable

if TYPE_CHECKING:  # imported where used: it loads rdflib, needed only to validate and for guarded writes
    from service.store.update_delta import Delta

#: rdflib work, one piece at a time: computing an update's delta and validating (pySHACL).
#: Why: rdflib's SPARQL parser (pyparsing) is not thread-safe — a query parsed by a validation
#: while a dry run parses its update makes both fail with nonsense errors — and dry runs
#: (``validate_update``) run outside the write lock. Being pure Python, this work gains
#: nothing from running in parallel, and the GIL stays free for queries between pieces.
RDFLIB_WORK = threading.Lock()
#: Most triples a diff lists (counts are always complete).
DIFF_LIST_CAP = 2000


def parse_nquads(data: bytes | None) -> list[ox.Quad]:
    """Quads sent over the worker socket as N-Quads bytes (empty or missing: none)."""
    return list(ox.parse(data, format=ox.RdfFormat.N_QUADS)) if data else []


def _added(req: dict) -> list[ox.Quad]:
    """The quads a request adds, as the store will keep them (what is validated is what is stored)."""
    from service.store.update_delta import stored_forms

    return stored_forms(parse_nquads(req.get("add")))


def _nquads(quads: list[ox.Quad]) -> bytes:
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""


def _validate(worker: Any, add: list[ox.Quad], remove: list[ox.Quad], drop: list[Any]) -> dict[str, Any]:
    from service.validation import validate_change

    with RDFLIB_WORK:
        return validate_change(worker.store, add, remove, drop, union=worker.union).to_json()


def _refusal(worker: Any, delta: Delta, req: dict) -> dict[str, Any] | None:
    """Why the change may not be written at all (:func:`service.store.writable.unwritable`), as an answer, or None.

    ``req["service_graphs"]``: the change writes the service's own graphs on purpose (an ingest's record).
    """
    refusal = unwritable(delta.graphs(), union=worker.union, service=bool(req.get("service_graphs")))
    return refusal.to_json() if refusal else None


def _diff(worker: Any, add: list[ox.Quad], remove: list[ox.Quad]) -> dict[str, Any]:
    """The quads a change adds and removes, with how many of the added triples are new to the data."""
    from service.validation import DataScope

    scope = DataScope(worker.union)
    new = [q for q in add if not any(scope.is_data(x.graph_name) for x in
                                     worker.store.quads_for_pattern(q.subject, q.predicate, q.object, None))]
    return {
        "added": len(add), "removed": len(remove), "new_triples": len(new),
        "add": _nquads(add[:DIFF_LIST_CAP]).decode(), "remove": _nquads(remove[:DIFF_LIST_CAP]).decode(),
        "listed_cap": DIFF_LIST_CAP,
    }


#: The internal function that turns a blank node id back into that blank node inside a commit.
_BLANK_NODE_FN = ox.NamedNode("urn:x-dprk-japan-kg:blank-node")
_BLANK_NODE_FUNCTIONS = {_BLANK_NODE_FN: lambda label: ox.BlankNode(label.value)}


def _has_blank(quad: ox.Quad) -> bool:
    return any(isinstance(t, ox.BlankNode) for t in (quad.subject, quad.object, quad.graph_name))


def _blank_node_update(add: list[ox.Quad], remove: list[ox.Quad]) -> str:
    """One ``DELETE … INSERT … WHERE`` that writes quads naming blank nodes *by id*.

    Why: SPARQL cannot name a blank node (``_:x`` in ``INSERT DATA`` is always fresh and
    forbidden in ``DELETE DATA``), so a delta that removes stored blank-node quads, or adds
    quads to a stored blank node, cannot be written as data. Each blank node becomes a
    variable bound by the internal function :data:`_BLANK_NODE_FN` to the blank node with
    that id (pyoxigraph keeps stored ids), so exactly these quads are written, in the same
    transaction as the rest of the change.
    """
    names: dict[str, str] = {}

    def term(t: Any) -> str:
        if isinstance(t, ox.BlankNode):
            return names.setdefault(t.value, f"?b{len(names)}")
        return str(t)

    def template(quads: list[ox.Quad]) -> str:
        lines = []
        for q in quads:
            triple = f"{term(q.subject)} {term(q.predicate)} {term(q.object)} ."
            lines.append(triple if isinstance(q.graph_name, ox.DefaultGraph)
                         else f"GRAPH {term(q.graph_name)} {{ {triple} }}")
        return "\n".join(lines)

    delete, insert = template(remove), template(add)
    binds = " ".join(f"BIND({_BLANK_NODE_FN}({ox.Literal(label)}) AS {var})" for label, var in names.items())
    return f"DELETE {{\n{delete}\n}}\nINSERT {{\n{insert}\n}}\nWHERE {{ {binds} }}"


def commit(worker: Any, add: list[ox.Quad], remove: list[ox.Quad], drop: list[Any], create: list[Any]) -> None:
    """Apply exactly this change and its derived consequences in ONE store transaction (caller holds the write lock).

    Exactly: the quads written are the quads given, blank nodes included (they keep their
    ids), so what was validated is what is committed — never the update text re-run by
    another engine, which may evaluate an expression differently. A change that only adds
    blank-node-free quads is written with ``Store.extend`` (one transaction, the quads as they
    are); any other as one SPARQL Update.
    """
    worker.announce_commit()  # from here on, a worker killed before its answer leaves the write's fate unknown
    blank_add = [q for q in add if _has_blank(q)]
    blank_remove = [q for q in remove if _has_blank(q)]
    if add and not (remove or drop or create or blank_add):
        # Only additions (a batch, a Graph Store POST): the quads and their derived ones in one transaction of
        # their own, without writing them out as SPARQL text for the engine to parse back.
        derived_add = derived.derived_additions(worker.store, add, union=worker.union, entailment=worker.entailment)
        if derived_add is not None:
            worker.store.extend([*add, *derived_add])
            return
    if not (blank_add or blank_remove):
        text = derived.delta_update(worker.store, add, remove, union=worker.union, entailment=worker.entailment,
                                    drop_graphs=drop)
        parts = [text] if text else []
    else:
        plain_add = [q for q in add if not _has_blank(q)]
        plain_remove = [q for q in remove if not _has_blank(q)]
        base = derived.delta_update(worker.store, plain_add, plain_remove, union=False, entailment="none",
                                    drop_graphs=drop)
        parts = [base] if base else []
        parts.append(_blank_node_update(blank_add, blank_remove))
        if worker.union or worker.entailment == "rdfs":
            parts.append(derived.full_rebuild(worker.store, union=worker.union, entailment=worker.entailment,
                                              extra=add))
    parts += [f"CREATE SILENT GRAPH {g}" for g in create]
    if parts:
        worker.store.update(" ;\n".join(parts), custom_functions=_BLANK_NODE_FUNCTIONS)


def op_validate(worker: Any, conn: Connection, req: dict) -> None:
    """Validate quads to add (``add``, N-Quads) in context; nothing is written. Answers the report and the diff."""
    add = _added(req)
    report = _validate(worker, add, [], [])
    conn.send(("ok", {"report": report, "diff": _diff(worker, add, [])}))


def _update_delta(worker: Any, req: dict) -> Delta:
    """The delta of the request's SPARQL Update against the store as it is (nothing written).

    Reads the text's tokens from the worker's nesting check (``req["lexed"]``, taken out of the
    request so that they are freed once parsed) rather than lexing the text again.
    """
    from service.store.update_delta import compute_delta

    sparql = req.pop("lexed", None) or req["sparql"]
    with RDFLIB_WORK:
        return compute_delta(worker.store, sparql, base_iri=req.get("base_iri"), union=worker.union)


def _guarded_commit(worker: Any, req: dict, delta: Delta) -> dict[str, Any]:
    """Refuse, validate, commit: the answer of a guarded write (caller holds the write lock).

    ``req["validate"]`` False skips the validation. The delta validated is the delta committed. A graph the
    change types as its own ``dj:SourceDocument`` (a document's own graph, written with the Graph Store or a
    SPARQL Update) is linked to that document in the same change (:mod:`service.rdf.documents`).
    """
    refusal = _refusal(worker, delta, req)
    if refusal:
        return {"applied": False, **refusal}
    delta.add = delta.add + [q for q in documents.document_graph_links(delta.add) if q not in worker.store]
    report = _validate(worker, delta.add, delta.remove, delta.drop_graphs) if req.get("validate", True) else None
    if report is not None and not report["conforms"]:
        return {"applied": False, "refused": "shapes", "report": report}
    commit(worker, delta.add, delta.remove, delta.drop_graphs, delta.create_graphs)
    return {"applied": True, "report": report, "added": len(delta.add), "removed": len(delta.remove),
            "dropped_graphs": len(delta.drop_graphs)}


def op_validate_update(worker: Any, conn: Connection, req: dict) -> None:
    """Dry run of a SPARQL Update: its delta and the validation of the state after it.

    A change to the shapes graph is refused (403) unless ``may_change_shapes`` (the web tier
    saw the write token): :func:`service.validation.refuse_shape_change`.
    """
    delta = _update_delta(worker, req)
    if not req.get("may_change_shapes"):
        from service.validation import refuse_shape_change

        refuse_shape_change(delta.add, delta.remove, delta.drop_graphs)
    refusal = _refusal(worker, delta, req)
    report = _validate(worker, delta.add, delta.remove, delta.drop_graphs)
    conn.send(("ok", {"report": report, "diff": _diff(worker, delta.add, delta.remove),
                      "drop_graphs": [encode(g) for g in delta.drop_graphs],
                      "create_graphs": [encode(g) for g in delta.create_graphs], **(refusal or {})}))


def op_guarded_apply(worker: Any, conn: Connection, req: dict) -> None:
    """Drop ``drop_graphs``, add ``add``, create ``create_graphs``: refused, validated, committed only if it conforms.

    (The Graph Store's PUT, POST and DELETE and ingest: none of them removes single quads.)
    """
    from service.store.update_delta import Delta

    delta = Delta(add=_added(req),
                  drop_graphs=[decode(g) for g in req.get("drop_graphs", [])],
                  create_graphs=[decode(g) for g in req.get("create_graphs", [])])
    with worker.write_lock:
        answer = _guarded_commit(worker, req, delta)
    conn.send(("ok", answer))


def op_guarded_update(worker: Any, conn: Connection, req: dict) -> None:
    """A SPARQL Update, guarded: delta first (nothing written), then checks, validation, one commit."""
    with worker.write_lock:
        delta = _update_delta(worker, req)
        answer = _guarded_commit(worker, req, delta)
    conn.send(("ok", answer))
