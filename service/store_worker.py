"""The store worker: the one process that opens the pyoxigraph store and does the work on it.

Why a separate process: pyoxigraph cannot cancel a running query, and a query timeout
must really stop the work. The web tier sends each operation here over a local socket
and waits with a deadline; past it, it kills this process (the query stops using CPU
at once) and starts a new one. RocksDB's write-ahead log makes every acknowledged
write survive that (or any ``kill -9``), and pyoxigraph applies each update as one
transaction, so a killed write leaves all or nothing.

Inside the worker each connection has a thread: pyoxigraph releases the GIL while it
evaluates, so queries run in parallel on all cores. Writes take one lock, so the
derived graphs (:mod:`service.derived`) are always computed from a stable state.

Run as ``python -m service.store_worker`` by :class:`service.store.StoreClient`; it
reads its settings from the ``DPRK_KG_WORKER`` environment variable (JSON).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import derived, results
from .dataset import bundled_files
from .graphs import DERIVED_GRAPHS, PREFIXES
from .terms import decode, encode

log = logging.getLogger("dprk_kg.store_worker")

#: Media types → pyoxigraph RDF formats (graphs and datasets).
RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/n3": ox.RdfFormat.N3,
}

CHUNK = 64 * 1024


class ChunkWriter:
    """A binary file-like object that sends what is written as ``("chunk", bytes)`` messages."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            self.conn.send(("chunk", bytes(self.buffer)))
            self.buffer.clear()


class Worker:
    """Owns the store and implements the operations the web tier asks for."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.union: bool = settings["UNION_DEFAULT_GRAPH"]
        self.entailment: str = settings["ENTAILMENT"]
        Path(settings["STORE_DIR"]).mkdir(parents=True, exist_ok=True)
        self.store = ox.Store(settings["STORE_DIR"])
        self.write_lock = threading.Lock()
        self.extensions: dict[str, Callable[..., Any]] = {}
        self._load_extensions()

    # -- start-up -----------------------------------------------------------------

    def bootstrap(self) -> None:
        """Load the bundled graph into an empty store (first start only), then derive."""
        empty = next(iter(self.store.quads_for_pattern(None, None, None, None)), None) is None
        if empty and self.settings["LOAD_DATA"]:
            root = Path(self.settings["DATA_ROOT"])
            for item in bundled_files(root):
                to_graph = ox.NamedNode(item.graph) if item.graph else None
                self.store.bulk_load(path=str(item.path), format=RDF_FORMATS[item.format], to_graph=to_graph)
            self.rebuild_derived()
        self.store.flush()

    def rebuild_derived(self) -> None:
        """Recompute the union default graph and the entailed graph from scratch."""
        if self.union or self.entailment == "rdfs":
            self.store.update(derived.full_rebuild(self.store, union=self.union, entailment=self.entailment))

    def _load_extensions(self) -> None:
        """Operations contributed by other modules (validation, guarded writes).

        They are looked up lazily so the worker starts fast and runs without them.
        """
        with contextlib.suppress(ImportError):
            from . import worker_ops  # type: ignore[attr-defined]

            self.extensions.update(worker_ops.OPERATIONS)

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
        """Evaluate a query; answer a head, then the serialized result in chunks.

        ``format`` is a results key (json, xml, csv, tsv), an RDF media type, or
        ``terms`` for encoded rows (internal callers).
        """
        result = self.store.query(req["sparql"], **self._dataset_kwargs(req))
        fmt: str = req.get("format", "json")
        cap: int = req.get("row_cap") or 0
        if isinstance(result, ox.QueryBoolean):
            value = bool(result)
            conn.send(("head", {"kind": "boolean", "value": value, "truncated": False}))
            if fmt != "terms":
                for chunk in results.BOOLEAN_WRITERS[fmt](value):
                    conn.send(("chunk", chunk))
        elif isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            rows, truncated = self._capped((tuple(s) for s in result), cap)
            conn.send(("head", {"kind": "solutions", "vars": variables, "truncated": truncated}))
            if fmt == "terms":
                for batch in _batched(rows, 2000):
                    conn.send(("rows", [tuple(encode(t) for t in row) for row in batch]))
            else:
                for chunk in results.SOLUTION_WRITERS[fmt](variables, rows, truncated):
                    conn.send(("chunk", chunk))
        else:
            triples, truncated = self._capped(iter(result), cap)
            conn.send(("head", {"kind": "graph", "truncated": truncated}))
            if fmt == "terms":
                for batch in _batched(triples, 2000):
                    conn.send(("rows", [(encode(t.subject), encode(t.predicate), encode(t.object)) for t in batch]))
            else:
                writer = ChunkWriter(conn)
                ox.serialize(triples, writer, RDF_FORMATS[fmt], prefixes=PREFIXES if fmt in (
                    "text/turtle", "application/trig") else None)
                writer.flush()
        conn.send(("end", None))

    @staticmethod
    def _capped(items: Iterator[Any], cap: int) -> tuple[Any, bool]:
        """Buffer at most ``cap`` + 1 items to learn whether the cap cut the results.

        Without a cap the iterator is passed on untouched, so results stream.
        """
        if not cap:
            return items, False
        head = list(itertools.islice(items, cap + 1))
        return head[:cap], len(head) > cap

    def op_update(self, conn: Connection, req: dict) -> None:
        """Run a SPARQL update natively, then re-derive (the delta is unknown here)."""
        with self.write_lock:
            kwargs = {"base_iri": req["base_iri"]} if req.get("base_iri") else {}
            self.store.update(req["sparql"], **kwargs)
            self.rebuild_derived()
        conn.send(("ok", {}))

    def op_apply(self, conn: Connection, req: dict) -> None:
        """Apply a known change atomically: drop graphs, remove quads, add quads (N-Quads bytes)."""
        with self.write_lock:
            summary = self.apply_change(
                add=_parse_quads(req.get("add", b"")),
                remove=_parse_quads(req.get("remove", b"")),
                drop_graphs=[decode(g) for g in req.get("drop_graphs", [])],
            )
        conn.send(("ok", summary))

    def apply_change(self, *, add: list[ox.Quad], remove: list[ox.Quad], drop_graphs: list[Any]) -> dict:
        """Apply a change and its derived consequences as one transaction (caller holds the lock)."""
        for quad in add + remove:
            if not isinstance(quad.graph_name, ox.DefaultGraph) and quad.graph_name.value in DERIVED_GRAPHS:
                raise PermissionError(f"the graph <{quad.graph_name.value}> is derived by the service")
        update = derived.delta_update(self.store, add, remove, union=self.union, entailment=self.entailment,
                                      drop_graphs=drop_graphs)
        if update:
            self.store.update(update)
        return {"added": len(add), "removed": len(remove), "dropped_graphs": len(drop_graphs)}

    def op_dump(self, conn: Connection, req: dict) -> None:
        """Serialize a graph or the whole dataset (without the derived graphs)."""
        fmt = RDF_FORMATS[req["format"]]
        graph = decode(req["graph"]) if req.get("graph") is not None else None
        conn.send(("head", {"kind": "graph"}))
        writer = ChunkWriter(conn)
        if graph is not None:
            triples = (ox.Triple(q.subject, q.predicate, q.object)
                       for q in self.store.quads_for_pattern(None, None, None, graph))
            ox.serialize(triples, writer, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TURTLE else None)
        else:
            quads = (q for q in self.store.quads_for_pattern(None, None, None, None) if self._dumped(q))
            ox.serialize(quads, writer, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TRIG else None)
        writer.flush()
        conn.send(("end", None))

    def _dumped(self, quad: ox.Quad) -> bool:
        """Dumps hold what clients wrote: not the derived graphs, nor the union default graph."""
        if isinstance(quad.graph_name, ox.DefaultGraph):
            return not self.union
        return quad.graph_name.value not in DERIVED_GRAPHS

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

    def op_create_graph(self, conn: Connection, req: dict) -> None:
        with self.write_lock:
            self.store.add_graph(decode(req["graph"]))
        conn.send(("ok", {}))

    def op_rebuild(self, conn: Connection, req: dict) -> None:
        with self.write_lock:
            self.rebuild_derived()
        conn.send(("ok", {}))

    def op_flush(self, conn: Connection, req: dict) -> None:
        self.store.flush()
        conn.send(("ok", {}))

    # -- serving --------------------------------------------------------------------

    def handle(self, conn: Connection) -> None:
        """Serve one connection until the client closes it."""
        while True:
            try:
                req = conn.recv()
            except (EOFError, OSError):
                return
            op = req.get("op", "")
            method = getattr(self, f"op_{op}", None) or (
                (lambda c, r, _f=self.extensions[op]: _f(self, c, r)) if op in self.extensions else None)
            try:
                if method is None:
                    conn.send(("error", "value", f"unknown store operation {op!r}"))
                    continue
                method(conn, req)
            except SyntaxError as exc:
                conn.send(("error", "syntax", str(exc)))
            except PermissionError as exc:
                conn.send(("error", "forbidden", str(exc)))
            except ValueError as exc:
                conn.send(("error", "value", str(exc)))
            except (BrokenPipeError, ConnectionResetError):
                return
            except OSError as exc:
                conn.send(("error", "os", str(exc)))
            except Exception as exc:
                log.error("store operation %s failed:\n%s", op, traceback.format_exc())
                conn.send(("error", "internal", f"{type(exc).__name__}: {exc}"))


def _batched(items: Any, size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _parse_quads(data: bytes) -> list[ox.Quad]:
    if not data:
        return []
    return list(ox.parse(data, format=ox.RdfFormat.N_QUADS))


def _die_with_parent() -> None:
    """Exit when the web tier dies, so a killed service never leaves an orphan holding the store lock."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    parent = os.getppid()

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    """Entry point: open the store, bootstrap it, and serve connections forever."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s store-worker %(levelname)s %(message)s")
    _die_with_parent()
    settings = json.loads(os.environ["DPRK_KG_WORKER"])
    authkey = bytes.fromhex(os.environ["DPRK_KG_WORKER_KEY"])
    worker = Worker(settings)
    worker.bootstrap()
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
