"""The store worker: the one process that opens the pyoxigraph store and does the work on it.

Why a separate process: pyoxigraph cannot cancel a running query, and a query timeout
must really stop the work. The web tier sends each operation here over a local socket
and waits with a deadline; past it, it kills this process (the query stops using CPU
at once) and starts a new one. RocksDB's write-ahead log makes every acknowledged
write survive that (or any ``kill -9``), and pyoxigraph applies each update as one
transaction, so a killed write leaves all or nothing.

Inside the worker each connection has a thread: pyoxigraph releases the GIL while it
evaluates, so queries run in parallel on all cores. Writes take one lock, so the
derived graphs (:mod:`service.rdf.derived`) are always computed from a stable state.

Run as ``python -m service.store.worker`` by :class:`service.store.client.StoreClient`; it
reads its settings from the ``DPRK_KG_WORKER`` environment variable (JSON).
"""

from __future__ import annotations

import gc
import io
import itertools
import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from service import logs
from service.rdf import derived
from service.rdf.bundle import load_into
from service.rdf.formats import STORE_FORMATS
from service.rdf.terms import decode, encode
from service.rdf.vocabulary import PREFIXES
from service.sparql.answers import capped_answer, serialize_answer
from service.sparql.lexer import lex, nesting_problem
from service.store import ops
from service.store.lifetime import die_with_parent, release_free_memory
from service.store.writable import unwritable

log = logging.getLogger("dprk_kg.store_worker")

CHUNK = 64 * 1024


#: Answers up to this size travel as one ``("result", head, [body])`` message, so the web tier
#: knows their length (``Content-Length``: HTTP keep-alive works) and pays one round trip, not three.
BUFFER_LIMIT = 1024 * 1024


class ResultSender:
    """Sends an answer (a query's, a dump): whole in one message while it is small, else head, chunks and end.

    Why: most answers are small, and per-message pickling plus a streamed HTTP response
    (no ``Content-Length``, so the connection closes) cost more than the query itself.
    Large answers still stream, so memory stays bounded by :data:`BUFFER_LIMIT`.
    A file-like ``write`` lets ``pyoxigraph.serialize`` write into it directly.
    """

    def __init__(self, conn: Connection, head: dict[str, Any] | None = None, limit: int = BUFFER_LIMIT) -> None:
        self.conn = conn
        self.head = head
        self.limit = limit
        self.buffer = bytearray()
        self.streaming = False

    def write(self, data: bytes) -> int:
        self.buffer += data
        if self.streaming:
            if len(self.buffer) >= CHUNK:
                self._send_buffer()
        elif len(self.buffer) > self.limit:
            self.conn.send(("head", self.head))
            self.streaming = True
            self._send_buffer()
        return len(data)

    def flush(self) -> None:
        """Nothing to do: :meth:`close` sends what is left (``pyoxigraph.serialize`` calls this)."""

    def _send_buffer(self) -> None:
        for start in range(0, len(self.buffer), CHUNK):
            self.conn.send(("chunk", bytes(self.buffer[start:start + CHUNK])))
        self.buffer.clear()

    def close(self) -> None:
        """Send what is left: the whole answer, or the last chunk and the end."""
        if self.streaming:
            if self.buffer:
                self._send_buffer()
            self.conn.send(("end", None))
        else:
            self.conn.send(("result", self.head, [bytes(self.buffer)]))


class Worker:
    """Owns the store and implements the operations the web tier asks for."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.union: bool = settings["UNION_DEFAULT_GRAPH"]
        self.entailment: str = settings["ENTAILMENT"]
        Path(settings["STORE_DIR"]).mkdir(parents=True, exist_ok=True)
        self.store = ox.Store(settings["STORE_DIR"])
        self.write_lock = threading.Lock()
        self._serving = threading.local()  # the connection this thread serves (see announce_commit)
        self.compaction_due = False  # set by bootstrap: see compact

    # -- start-up -----------------------------------------------------------------

    def bootstrap(self) -> bool:
        """Load the bundled graph into an empty store (first start only), then derive; True if it wrote the store.

        The first load uses the bulk loader, which is fast but not transactional, so a
        state file beside the store records it: a first start that was killed half-way is
        detected at the next start (status "loading"), the partial store is cleared and
        loaded again. The file also records the derivation settings, so starting with
        another --entailment or union setting rebuilds the derived graphs.
        """
        marker = Path(self.settings["STORE_DIR"]) / STATE_FILE
        state = json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else {}
        derivation = {"union": self.union, "entailment": self.entailment}
        if state.get("status") == "loading":
            log.warning("the first load of this store was interrupted: clearing it and loading again")
            self.store.clear()
        empty = next(iter(self.store.quads_for_pattern(None, None, None, None)), None) is None
        rewritten = False
        if empty and self.settings["LOAD_DATA"]:
            rewritten = True
            _write_state(marker, {"status": "loading", "derivation": derivation})
            if not self.first_load(Path(self.settings["DATA_ROOT"])):
                load_into(self.store, Path(self.settings["DATA_ROOT"]), bulk=True)
                if not self.bulk_derive():
                    self.rebuild_derived()
        elif state and state.get("derivation") != derivation:
            log.info("derivation settings changed (%s -> %s): rebuilding the derived graphs",
                     state.get("derivation"), derivation)
            before = state.get("derivation") or {}
            stale = [f"DROP SILENT GRAPH {derived.ENTAILED}"]  # what the old settings derived goes first
            if before.get("union") and not self.union:
                stale.append("DROP SILENT DEFAULT")
            self.store.update(" ;\n".join(stale))
            self.rebuild_derived()
            rewritten = True
        self.store.flush()
        # What the bulk loader and a rebuild wrote is compacted once (reads are slower on a freshly loaded store than
        # on the same store compacted, bench/README.md) — by the serving process, in the background
        # (:meth:`compact`): the store answers meanwhile, and the state file says when it is done.
        self.compaction_due = bool(rewritten or (state and not state.get("optimized")))
        _write_state(marker, {"status": "ready", "derivation": derivation, "optimized": not self.compaction_due})
        return rewritten

    def compact(self) -> None:
        """Compact the store and record it in the state file (run in a thread of the serving worker).

        Why in the background: compaction took as long as a fifth of a large first load, and the store
        answers reads and writes meanwhile (pyoxigraph releases the GIL while it compacts); a worker stopped
        before the end leaves the state file saying so, and the next start compacts again.
        """
        started = time.monotonic()
        try:
            self.store.optimize()
        except Exception:  # a failed compaction leaves a store that works, only slower to read
            log.exception("compacting the store failed; it is tried again at the next start")
            return
        marker = Path(self.settings["STORE_DIR"]) / STATE_FILE
        state = json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else {}
        _write_state(marker, {**state, "optimized": True})
        self.compaction_due = False
        release_free_memory()
        took = time.monotonic() - started
        (log.info if took >= 1 else log.debug)("store compacted in %.1f s", took)

    def first_load(self, root: Path) -> bool:
        """Load the bundle and its derived graphs into the empty store in ONE bulk load; False where that does not
        apply (the bundle brings derived quads of its own: the caller loads, then derives).

        Why: the bundle is read into memory first (the engine parses it), and the store's bulk loader is then given
        every quad at once — the bundle's graphs, their union default graph and the RDFS inferences, all written by
        pyoxigraph (:func:`derived.dataset_with_derived`) as the loader reads them — instead of a bulk load of the
        files followed by a second one of the derived quads built in Python; the store also comes out compact. The
        remote first load sends the same chunks to its store (``service.store.remote``).
        """
        bundle = ox.Store()
        load_into(bundle, root, bulk=True)
        chunks = derived.dataset_with_derived(bundle, union=self.union, entailment=self.entailment)
        if chunks is None:
            return False
        self.store.bulk_load(input=io.BufferedReader(derived.ChunkReader(chunks), 1 << 20),
                             format=ox.RdfFormat.N_QUADS)
        return True

    def bulk_derive(self) -> bool:
        """Write the derived graphs of a freshly loaded store with the bulk loader; False if not applicable.

        Why: :func:`derived.full_rebuild` is one SPARQL update, a single transaction that
        holds all its new quads in memory and took many times Oxigraph's load time on a large
        graph (bench/README.md).
        On first start nothing else reads the store yet, so the same quads are computed
        here in one streaming pass and written with ``bulk_extend`` (not transactional:
        a crash during first start leaves a store to delete and load again). The result
        equals ``full_rebuild``'s: entailed = rules rdfs9 (types of subclasses) and rdfs7
        (super-properties) applied once to the named graphs; default = the set union of
        every named graph, the entailed graph included. Applies only while the default
        graph and the entailed graph are still empty (otherwise: ``full_rebuild``).
        """
        quads = self.derived_quads()
        if quads is None:
            return False
        self.store.bulk_extend(quads)
        return True

    def derived_quads(self, copies: bool = True) -> Iterator[ox.Quad] | None:
        """The derived quads :meth:`bulk_derive` writes, as one streaming pass (``None`` where it does not apply).

        Apart from the write so that a remote store's first load can stream them to the store as they are computed
        (``service.store.remote``) instead of writing them here first. A quad may come more than once (a triple in
        two named graphs is one default-graph quad): stores keep one. ``copies=False``: without the union default
        graph's copies of the named graphs' own quads (the caller sends those itself, faster, as each named graph's
        triples); only the quads whose predicate entails something are then read.
        """
        rdfs = self.entailment == "rdfs"
        if not (self.union or rdfs):
            return iter(())
        if self.union and next(iter(self.store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None):
            return None
        if next(iter(self.store.quads_for_pattern(None, None, None, derived.ENTAILED)), None):
            return None
        supers, superprops = derived.hierarchy(self.store) if rdfs else ({}, {})
        rdf_type, entailed, default = derived.RDF_TYPE, derived.ENTAILED, ox.DefaultGraph()
        union = self.union

        def sources() -> Iterator[ox.Quad]:
            if copies:
                yield from self.store.quads_for_pattern(None, None, None, None)
            else:
                for predicate in {rdf_type, *superprops}:
                    yield from self.store.quads_for_pattern(None, predicate, None, None)

        def quads() -> Iterator[ox.Quad]:
            for quad in sources():
                graph = quad.graph_name
                if type(graph) is ox.DefaultGraph:  # exact type: faster than isinstance here
                    continue
                s, p, o = quad.subject, quad.predicate, quad.object
                if union and copies:
                    yield ox.Quad(s, p, o, default)
                if graph == entailed:
                    continue
                if p == rdf_type:
                    for d in supers.get(o, ()):
                        yield ox.Quad(s, rdf_type, d, entailed)
                        if union:
                            yield ox.Quad(s, rdf_type, d, default)
                for q in superprops.get(p, ()):
                    yield ox.Quad(s, q, o, entailed)  # type: ignore[arg-type]
                    if union:
                        yield ox.Quad(s, q, o, default)  # type: ignore[arg-type]

        return quads()

    def rebuild_derived(self) -> None:
        """Recompute the union default graph and the entailed graph from scratch."""
        if self.union or self.entailment == "rdfs":
            self.store.update(derived.full_rebuild(self.store, union=self.union, entailment=self.entailment))

    # -- operations -----------------------------------------------------------------

    def op_ping(self, conn: Connection, req: dict) -> None:
        conn.send(("ok", {"pid": os.getpid()}))

    def _dataset_kwargs(self, req: dict) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        default_graph = req.get("default_graph")
        named = req.get("named_graphs")
        if default_graph is not None:
            kwargs["default_graph"] = [decode(g) for g in default_graph]
        if named is not None:
            kwargs["named_graphs"] = [decode(g) for g in named]
        if req.get("substitutions"):
            kwargs["substitutions"] = {ox.Variable(k): decode(v) for k, v in req["substitutions"].items()}
        if req.get("base_iri"):
            kwargs["base_iri"] = req["base_iri"]
        return kwargs

    def op_query(self, conn: Connection, req: dict) -> None:
        """Evaluate a query; answer ``("result", head, chunks)`` when small, else a head, chunks and an end.

        ``format`` is a results key (json, xml, csv, tsv), an RDF media type, or
        ``terms`` for encoded rows (internal callers).
        """
        kwargs = self._dataset_kwargs(req)
        fmt: str = req.get("format", "json")
        cap: int = req.get("row_cap") or 0
        if fmt != "terms":
            sender = ResultSender(conn)

            def open_sender(head: dict[str, Any]) -> ResultSender:
                sender.head = head
                return sender

            serialize_answer(lambda: self.store.query(req["sparql"], **kwargs), fmt, cap, open_sender)
            sender.close()
            return
        head, items = capped_answer(self.store.query(req["sparql"], **kwargs), cap)
        if head["kind"] == "boolean":
            conn.send(("result", head, []))
        elif head["kind"] == "solutions":
            self._send_terms(conn, head, (tuple(encode(t) for t in row) for row in items))
        else:
            self._send_terms(conn, head, ((encode(t.subject), encode(t.predicate), encode(t.object))
                                          for t in items))

    @staticmethod
    def _send_terms(conn: Connection, head: dict[str, Any], rows: Iterator[Any]) -> None:
        """Encoded rows for internal callers: one message when they fit one batch, else head, batches, end."""
        batches = _batched(rows, 2000)
        first = next(batches, [])
        if len(first) < 2000:
            conn.send(("result", head, [first] if first else []))
            return
        conn.send(("head", head))
        conn.send(("rows", first))
        for batch in batches:
            conn.send(("rows", batch))
        conn.send(("end", None))

    def announce_commit(self) -> None:
        """Tell the client that this thread's write starts to change the store.

        Why: a write is one transaction, so a worker killed before this message has applied
        nothing of it, and the client can say so; killed after it, the write may or may not
        have been committed, and the client says that instead (see ``StoreClient._exchange``).
        """
        conn = getattr(self._serving, "conn", None)
        if conn is not None:
            conn.send(("committing", None))

    def op_update(self, conn: Connection, req: dict) -> None:
        """Run a SPARQL update natively, then re-derive (the delta is unknown here)."""
        with self.write_lock:
            kwargs = {"base_iri": req["base_iri"]} if req.get("base_iri") else {}
            self.announce_commit()
            self.store.update(req["sparql"], **kwargs)
            self.rebuild_derived()
        conn.send(("ok", {}))

    def op_apply(self, conn: Connection, req: dict) -> None:
        """Apply a known change atomically: drop graphs, remove quads, add quads (N-Quads bytes).

        Unlike the guarded writes of :mod:`service.store.ops`, nothing is validated; the
        writable-graph rule (:func:`service.store.writable.unwritable`) holds as everywhere,
        its refusal raised as an error (``forbidden`` or ``value``: 403 or 400, as the guarded paths).
        """
        add, remove = ops.parse_nquads(req.get("add")), ops.parse_nquads(req.get("remove"))
        drop_graphs = [decode(g) for g in req.get("drop_graphs", [])]
        refusal = unwritable([*(q.graph_name for q in (*add, *remove)), *drop_graphs], union=self.union)
        if refusal:
            raise (PermissionError if refusal.reason in ("derived", "service") else ValueError)(refusal.message())
        with self.write_lock:
            ops.commit(self, add, remove, drop_graphs, [])
        conn.send(("ok", {"added": len(add), "removed": len(remove), "dropped_graphs": len(drop_graphs)}))

    def op_dump(self, conn: Connection, req: dict) -> None:
        """Serialize a graph or the whole dataset (without the derived graphs)."""
        fmt = STORE_FORMATS[req["format"]]
        graph = decode(req["graph"]) if req.get("graph") is not None else None
        writer = ResultSender(conn, {"kind": "graph"})
        if graph is not None:
            triples = (ox.Triple(q.subject, q.predicate, q.object)
                       for q in self.store.quads_for_pattern(None, None, None, graph))
            ox.serialize(triples, writer, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TURTLE else None)
        else:
            quads = (q for q in self.store.quads_for_pattern(None, None, None, None) if self._dumped(q))
            ox.serialize(quads, writer, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TRIG else None)
        writer.close()

    def _dumped(self, quad: ox.Quad) -> bool:
        """Dumps hold what clients wrote: not the derived graphs, nor the union default graph."""
        return derived.is_asserted(quad.graph_name, union=self.union)

    def op_graphs(self, conn: Connection, req: dict) -> None:
        """The named graphs (derived ones included, flagged by the caller if it wants)."""
        conn.send(("ok", [encode(g) for g in self.store.named_graphs()]))

    def op_graph_exists(self, conn: Connection, req: dict) -> None:
        graph = decode(req["graph"])
        if isinstance(graph, ox.DefaultGraph):
            conn.send(("ok", True))
            return
        conn.send(("ok", self.store.contains_named_graph(graph)))

    def op_quads(self, conn: Connection, req: dict) -> None:
        """Quads matching a pattern, encoded (for small internal look-ups)."""
        pattern = [decode(t) if t is not None else None for t in req["pattern"]]
        limit = req.get("limit") or 0
        quads = self.store.quads_for_pattern(*pattern)
        if limit:
            quads = itertools.islice(quads, limit)
        conn.send(("ok", [(encode(q.subject), encode(q.predicate), encode(q.object), encode(q.graph_name))
                          for q in quads]))

    # -- serving --------------------------------------------------------------------

    @staticmethod
    def _too_deep(req: dict, operation: Operation) -> str | None:
        """Why the request's SPARQL text may not reach an engine (nested too deeply), or ``None``.

        The web tier's guard refuses these first; this is the last check before either engine
        parses the text, whoever sent it (a deep text would kill this process). The text is
        lexed once: an operation that reads its tokens too (``takes_lexed``) finds them in
        ``req["lexed"]``; for the others they are dropped here (a large update's tokens are
        several times its size).
        """
        if not isinstance(req.get("sparql"), str):
            return None
        lexed = lex(req["sparql"])
        if operation.takes_lexed:
            req["lexed"] = lexed
        return nesting_problem(lexed)

    def handle(self, conn: Connection) -> None:
        """Serve one connection until the client closes it."""
        self._serving.conn = conn
        while True:
            try:
                req = conn.recv()
            except (EOFError, OSError):
                return
            op = req.get("op", "")
            operation = OPERATIONS.get(op)
            try:
                if operation is None:
                    conn.send(("error", "value", f"unknown store operation {op!r}"))
                    continue
                too_deep = self._too_deep(req, operation)
                if too_deep:
                    conn.send(("error", "value", too_deep))
                    continue
                operation.handler(self, conn, req)
            except SyntaxError as exc:
                conn.send(("error", "syntax", str(exc)))
            except PermissionError as exc:
                conn.send(("error", "forbidden", str(exc)))
            except ValueError as exc:
                conn.send(("error", "value", str(exc)))
            except (BrokenPipeError, ConnectionResetError):
                return
            except RuntimeError as exc:
                # pyoxigraph reports a client's mistakes in an update (CLEAR or DROP of a graph
                # that does not exist, CREATE of one that does) as RuntimeError: those are 400s.
                text = str(exc)
                if any(word in text for word in ("does not exist", "already exists", "not found")):
                    conn.send(("error", "conflict", text))
                else:
                    log.error("store operation %s failed:\n%s", op, traceback.format_exc())
                    conn.send(("error", "internal", f"{type(exc).__name__}: {exc}"))
            except OSError as exc:
                conn.send(("error", "os", str(exc)))
            except Exception as exc:
                log.error("store operation %s failed:\n%s", op, traceback.format_exc())
                conn.send(("error", "internal", f"{type(exc).__name__}: {exc}"))


@dataclass(frozen=True)
class Operation:
    """One thing the worker does for the web tier: its handler, and whether it changes the store.

    ``writes`` decides how the client treats it: a read (False) changes nothing, so it is
    retried once on a new worker when the old one died under it; a write is one transaction,
    never sent twice once delivered, and counted in :attr:`StoreClient.generation` (caches).
    """

    handler: Callable[[Worker, Connection, dict], None]
    writes: bool
    takes_lexed: bool = False  # reads req["lexed"], the text's tokens from the worker's nesting check


    @property
    def retried(self) -> bool:
        """True when the client may send it again after a worker restart (reads only)."""
        return not self.writes


#: Every operation the worker serves, by name: the one table the worker dispatches on and the client consults.
OPERATIONS: dict[str, Operation] = {
    "ping": Operation(Worker.op_ping, writes=False),
    "query": Operation(Worker.op_query, writes=False),
    "dump": Operation(Worker.op_dump, writes=False),
    "graphs": Operation(Worker.op_graphs, writes=False),
    "graph_exists": Operation(Worker.op_graph_exists, writes=False),
    "quads": Operation(Worker.op_quads, writes=False),
    "validate": Operation(ops.op_validate, writes=False),
    "validate_update": Operation(ops.op_validate_update, writes=False, takes_lexed=True),
    "update": Operation(Worker.op_update, writes=True),
    "apply": Operation(Worker.op_apply, writes=True),
    "guarded_apply": Operation(ops.op_guarded_apply, writes=True),
    "guarded_update": Operation(ops.op_guarded_update, writes=True, takes_lexed=True),
}


#: The file beside the store that records its first load and its derivation settings.
STATE_FILE = "dprk-kg-state.json"


def _write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically (write, fsync, rename)."""
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _batched(items: Any, size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _hash_without_openssl() -> None:
    """Make ``hashlib`` and ``hmac`` use Python's own hash code in this process, never OpenSSL's.

    Why: the one hash this process computes is the HMAC-MD5 of each connection's handshake
    (``multiprocessing.connection``, a few per start), and importing OpenSSL's ``_hashlib``
    for it maps libcrypto, about 3 MB resident for the worker's whole life. Python's own MD5
    gives the same digest. Done before anything imports ``hashlib``; nothing else here needs it.
    """
    if "hashlib" not in sys.modules and "hmac" not in sys.modules:
        sys.modules.setdefault("_hashlib", None)  # type: ignore[assignment]  # import _hashlib: ImportError


#: Set in the environment while the worker executes itself again after a first load (see :func:`main`).
REEXECUTED = "DPRK_KG_WORKER_REEXECUTED"


def main() -> None:
    """Entry point: open the store, bootstrap it, and serve connections forever."""
    die_with_parent()
    settings = json.loads(os.environ["DPRK_KG_WORKER"])
    logs.configure(settings.get("LOG_FORMAT") or "text", "%(asctime)s store-worker %(levelname)s %(message)s")
    authkey = bytes.fromhex(os.environ["DPRK_KG_WORKER_KEY"])
    _hash_without_openssl()
    worker = Worker(settings)
    if worker.bootstrap() and not os.environ.get(REEXECUTED):
        # The first load and the derivation leave this process with more resident memory than the
        # same store opened afresh (allocator arenas, RocksDB's write buffers), which the store would then
        # hold for its whole life. Closing the store and executing this module again — same pid, same pipe
        # to the client, which is still waiting for "ready" — starts it as a restart would.
        del worker
        gc.collect()
        os.environ[REEXECUTED] = "1"
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "service.store.worker"])  # noqa: S606 (this module)
    os.environ.pop(REEXECUTED, None)
    release_free_memory()  # what the first load and the derivation freed
    if worker.compaction_due:
        threading.Thread(target=worker.compact, name="compaction", daemon=True).start()
    listener = Listener(settings["SOCKET"], family="AF_UNIX", authkey=authkey)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        try:
            conn = listener.accept()
        except Exception:  # a failed handshake must not stop the worker
            log.warning("rejected a connection:\n%s", traceback.format_exc())
            continue
        threading.Thread(target=worker.handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
