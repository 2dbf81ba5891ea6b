"""The store as the web tier sees it: one client object, ``get_store()``, and ``init_app(app)``.

Why this shape: every blueprint needs the store, none should know that it lives in a
separate process (see :mod:`service.store.worker` for why it does). :class:`StoreClient`
sends each operation over a local socket and enforces its deadline: when a query or
update runs past it, the worker is killed — so the work really stops — a new one is
started, and the caller gets :class:`StoreTimeout`. Reads that were running beside the
runaway one are retried once on the new worker; a write is never sent twice (it is one
transaction, applied entirely or not at all, and the caller is told which is known).

The client also counts writes (:attr:`StoreClient.generation`), which caches use to
invalidate themselves. Which operations are reads (retried) and which are writes (sent
once, counted) it reads from the worker's one table, :data:`service.store.worker.OPERATIONS`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing.util
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Client, Connection
from typing import Any

import pyoxigraph as ox

from service.config import SOURCE_ROOT
from service.rdf.terms import decode, encode
from service.store.worker import OPERATIONS

log = logging.getLogger(__name__)


EXTENSION_KEY = "dprk_kg_store"


class StoreError(Exception):
    """The store refused or failed an operation; ``kind`` says how (syntax, value, forbidden, os, internal;
    ``unavailable``: a remote store that cannot be reached or says it cannot answer now; ``gateway``: a remote
    store that failed the request or answered what cannot be read)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class StoreTimeout(StoreError):
    """The operation ran past its deadline; the worker was killed and restarted."""

    def __init__(self, limit: float) -> None:
        super().__init__("timeout", f"stopped after {limit:g} s")
        self.limit = limit


class StoreInterrupted(StoreError):
    """The worker stopped while this write ran; the message says whether it was applied (never in part)."""


#: A write's fate when the worker stopped before it began to commit (it had not sent "committing").
NOT_APPLIED = ("the store worker stopped before this write was committed, so nothing of it was applied; "
               "send it again")


#: A write's fate when the worker stopped while committing it.
FATE_UNKNOWN = ("the store worker stopped while this write was being committed; a write is one transaction, so "
                "it was applied entirely or not at all — read the data to check before sending it again")


@dataclass
class QueryResult:
    """A query's answer: its kind, its head, and the serialized body as a stream of chunks.

    Iterate :attr:`chunks` exactly once (it holds the worker connection until done).
    """

    kind: str  # "solutions" | "boolean" | "graph"
    head: dict[str, Any]
    chunks: Iterator[bytes] = field(repr=False)
    #: The whole body when the worker sent it in one message (small answers), else ``None`` (streamed).
    body: bytes | None = field(default=None, repr=False)

    @property
    def truncated(self) -> bool:
        """True when the result-row cap cut the results."""
        return bool(self.head.get("truncated"))

    def read(self) -> bytes:
        """The whole body (for small results and tests)."""
        return b"".join(self.chunks)


@dataclass
class Rows:
    """Decoded SELECT results for internal callers: variable names and rows of pyoxigraph terms."""

    variables: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as ``{variable: term}`` mappings, unbound variables left out."""
        return [{v: t for v, t in zip(self.variables, row, strict=True) if t is not None} for row in self.rows]


class StoreClient:
    """Talks to the store worker; safe to share between threads."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.query_timeout: float = float(settings.get("QUERY_TIMEOUT") or 30.0)
        self.update_timeout: float = float(settings.get("UPDATE_TIMEOUT") or 60.0)
        self._dir = tempfile.mkdtemp(prefix="dprk-kg-")
        self._socket = os.path.join(self._dir, "store.sock")
        self._authkey = secrets.token_bytes(32)
        self._local = threading.local()
        self._restart_lock = threading.Lock()
        # Reads retried after a worker restart are sent one at a time: if one of them is what
        # killed the worker, it kills it again alone, not the other retried reads with it.
        self._retry_lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self.worker_generation = 0
        self.generation = 0  # bumped on every write
        #: Called with (operation, seconds) once per operation when the store's first answer arrives (its round
        #: trip; a streamed answer's later chunks are not counted). The web tier sets it to feed its metrics, so
        #: this layer needs no metrics library; it must be cheap and must not raise.
        self.on_round_trip: Callable[[str, float], None] | None = None
        self._closed = False
        # The worker is always started from this one long-lived thread: it dies with the thread
        # that started it (PR_SET_PDEATHSIG is per thread), and a server's request threads come and go.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-spawner")
        self._start()
        # Closed at interpreter exit — also in a multiprocessing child (which skips atexit handlers
        # but runs multiprocessing's finalizers, which atexit runs in other processes).
        multiprocessing.util.Finalize(self, self.close, exitpriority=10)

    # -- worker lifecycle ---------------------------------------------------------------

    def _start(self) -> None:
        self._spawner.submit(self._start_here).result()

    def _start_here(self) -> None:
        worker_settings = {k: v for k, v in self.settings.items() if _jsonable(v)}
        worker_settings["SOCKET"] = self._socket
        env = dict(os.environ)
        env["DPRK_KG_WORKER"] = json.dumps(worker_settings)
        env["DPRK_KG_WORKER_KEY"] = self._authkey.hex()
        # Two malloc arenas, not glibc's 8 per core: the worker's threads (one per web connection) each
        # keep an arena's free pages otherwise; about 5 MB less resident at idle. A value set outside stays.
        env.setdefault("MALLOC_ARENA_MAX", "2")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE_ROOT), env.get("PYTHONPATH", "")]))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._socket)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "service.store.worker"], env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        started = time.monotonic()
        limit = float(self.settings.get("STARTUP_TIMEOUT") or 600.0)
        assert self._process.stdout is not None
        while True:
            ready, _, _ = select.select([self._process.stdout], [], [], 0.5)
            if ready:
                line = self._process.stdout.readline()
                if line.strip() == b"ready":
                    break
                if not line:
                    raise RuntimeError(f"the store worker exited during start-up (code {self._process.wait()}); "
                                       f"see its log above")
            if self._process.poll() is not None:
                raise RuntimeError(f"the store worker exited during start-up (code {self._process.returncode})")
            if time.monotonic() - started > limit:
                self._kill()
                raise RuntimeError(f"the store worker did not start within {limit:g} s")
        self.worker_generation += 1

    def _kill(self) -> None:
        if self._process and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def _restart(self, seen_generation: int) -> None:
        """Kill and restart the worker unless another thread already did since ``seen_generation``."""
        with self._restart_lock:
            if self.worker_generation != seen_generation or self._closed:
                return
            log.warning("restarting the store worker (pid %s)", self._process.pid if self._process else None)
            self._kill()
            self._start()

    def _worker_alive(self, generation: int) -> bool:
        """True if worker ``generation`` is still the current one and running (waits for a restart under way).

        A worker that is dying closes its socket a moment before it can be reaped: it gets a
        second to be seen dead.
        """
        with self._restart_lock:
            if generation != self.worker_generation or self._process is None:
                return False
            try:
                self._process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                return True
            return False

    @property
    def pid(self) -> int | None:
        """The worker's process id (tests use it to check that a runaway query was stopped)."""
        return self._process.pid if self._process else None

    def close(self) -> None:
        """Stop the worker and remove its socket folder."""
        if self._closed:
            return
        self._closed = True
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill()
        self._spawner.shutdown(wait=False)
        shutil.rmtree(self._dir, ignore_errors=True)

    # -- transport ------------------------------------------------------------------------

    def _connection(self) -> tuple[Connection, int]:
        cached = getattr(self._local, "conn", None)
        if cached and cached[1] == self.worker_generation and not getattr(self._local, "dirty", False):
            return cached
        if cached:
            with contextlib.suppress(OSError):
                cached[0].close()
        with self._restart_lock:
            generation = self.worker_generation
            conn = Client(self._socket, family="AF_UNIX", authkey=self._authkey)
        self._local.conn = (conn, generation)
        self._local.dirty = False
        return conn, generation

    def _exchange(self, request: dict[str, Any], timeout: float) -> Iterator[tuple]:
        """Send one request and yield its messages until a terminal one; enforce the deadline.

        When the worker dies under a request (another request's runaway query got it killed,
        it crashed, it was killed from outside), the worker is restarted and:

        * a read whose answer had not begun is retried once, on the new worker — retried reads
          one at a time, so a read that kills every worker fails alone, answered 503 after its
          one retry;
        * a request that could not even be sent (the worker was already gone) is sent again
          once, write or read: the dead worker received nothing;
        * a write is never re-sent once delivered: it is one transaction, and the answer says
          what is known — nothing applied when the worker stopped before announcing its commit
          (:data:`NOT_APPLIED`), else applied entirely or not at all (:data:`FATE_UNKNOWN`).
        """
        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        is_read = OPERATIONS[request["op"]].retried
        retried = False
        while True:
            delivered = committing = sent = retry_slot = False
            generation = self.worker_generation  # the worker this attempt talks to (set again on connecting)
            try:
                if retried and is_read:
                    retry_slot = self._retry_lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
                    if not retry_slot:
                        raise StoreTimeout(timeout)
                conn, generation = self._connection()
                conn.send(request)
                sent = True
                self._local.dirty = True
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not conn.poll(remaining):
                        self._restart(generation)
                        if committing:
                            raise StoreInterrupted("interrupted", FATE_UNKNOWN)
                        raise StoreTimeout(timeout)
                    message = conn.recv()
                    kind = message[0]
                    if kind == "committing":
                        committing = True
                        continue
                    if not delivered and self.on_round_trip is not None:  # the first answer (retries included)
                        self.on_round_trip(request["op"], time.perf_counter() - started)
                    delivered = True
                    if retry_slot:
                        self._retry_lock.release()
                        retry_slot = False
                    if kind == "error":
                        self._local.dirty = False
                        raise StoreError(message[1], message[2])
                    if kind in ("ok", "end", "result"):
                        self._local.dirty = False
                        yield message
                        return
                    yield message
                    # The limit is on the worker's work, not on the client's reading pace: when the
                    # consumer comes back for more, the next message has a full limit again (a slow
                    # HTTP reader only makes the worker wait on its full pipe, using no CPU).
                    deadline = time.monotonic() + timeout
            except (EOFError, OSError) as exc:  # the worker died under this request (or was gone before it)
                self._local.dirty = True  # never reuse this connection
                if not sent and self._worker_alive(generation):
                    raise  # the worker is alive: this process failed to connect (e.g. no file descriptors left)
                self._restart(generation)
                if not retried and not delivered and time.monotonic() < deadline and (is_read or not sent):
                    retried = True
                    continue
                if is_read:
                    raise StoreError("os", "the store worker was restarted during this request (which was already "
                                     "retried once); retry it") from exc
                raise StoreInterrupted("interrupted", FATE_UNKNOWN if committing else NOT_APPLIED) from exc
            finally:
                if retry_slot:
                    self._retry_lock.release()

    def call(self, op: str, *, timeout: float | None = None, **payload: Any) -> Any:
        """Run an operation that answers with one ``ok`` message; return its value.

        A write (:data:`OPERATIONS`) runs under UPDATE_TIMEOUT unless told otherwise and
        bumps :attr:`generation`, whatever its outcome.
        """
        operation = OPERATIONS.get(op)
        if operation is None:
            raise StoreError("value", f"unknown store operation {op!r}")
        request = {"op": op, **payload}
        try:
            default = self.update_timeout if operation.writes else self.query_timeout
            for message in self._exchange(request, timeout or default):
                if message[0] == "ok":
                    return message[1]
            raise StoreError("internal", f"no answer to {op}")
        finally:
            if operation.writes:
                self.generation += 1

    # -- queries --------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        format: str = "json",
        default_graph: Iterable[Any] | None = None,
        named_graphs: Iterable[Any] | None = None,
        substitutions: dict[str, Any] | None = None,
        base_iri: str | None = None,
        row_cap: int | None = None,
        timeout: float | None = None,
    ) -> QueryResult:
        """Evaluate a query; the head is read before returning, so errors raise here.

        ``format``: a results key (``json``, ``xml``, ``csv``, ``tsv``) for SELECT/ASK,
        an RDF media type (e.g. ``text/turtle``) for CONSTRUCT/DESCRIBE, or ``terms``.
        Graph arguments and substitution values are pyoxigraph terms.
        """
        request: dict[str, Any] = {
            "op": "query",
            "sparql": sparql,
            "format": format,
            "row_cap": self.settings.get("RESULT_ROW_CAP", 0) if row_cap is None else row_cap,
        }
        if default_graph is not None:
            request["default_graph"] = [encode(g) for g in default_graph]
        if named_graphs is not None:
            request["named_graphs"] = [encode(g) for g in named_graphs]
        if substitutions:
            request["substitutions"] = {k: encode(v) for k, v in substitutions.items()}
        if base_iri:
            request["base_iri"] = base_iri
        messages = self._exchange(request, timeout or self.query_timeout)
        first = next(messages)
        head = first[1]
        if first[0] == "result":  # small: the whole answer came in one message
            messages.close()
            parts = first[2]
            whole = b"".join(parts) if format != "terms" else None
            return QueryResult(kind=head["kind"], head=head, chunks=iter(parts), body=whole)

        def body() -> Iterator[bytes]:
            finished = False
            try:
                for message in messages:
                    if message[0] == "chunk":
                        yield message[1]
                    elif message[0] == "rows":
                        yield message[1]  # type: ignore[misc]
                finished = True
            finally:
                if not finished:
                    messages.close()

        return QueryResult(kind=head["kind"], head=head, chunks=body())

    def select(self, sparql: str, **kwargs: Any) -> Rows:
        """Run a SELECT for internal use and decode its rows to pyoxigraph terms.

        Whole answers unless ``row_cap`` is given: the public RESULT_ROW_CAP is for clients'
        queries, and an internal look-up it cut would be silently wrong.
        """
        kwargs.setdefault("row_cap", 0)
        result = self.query(sparql, format="terms", **kwargs)
        if result.kind != "solutions":
            raise StoreError("value", "expected a SELECT query")
        rows = [tuple(decode(t) for t in row) for batch in result.chunks for row in batch]  # type: ignore[union-attr]
        return Rows(result.head["vars"], rows, result.truncated)

    def construct(self, sparql: str, **kwargs: Any) -> list[ox.Triple]:
        """Run a CONSTRUCT/DESCRIBE for internal use; return pyoxigraph triples (whole, as :meth:`select`)."""
        kwargs.setdefault("row_cap", 0)
        result = self.query(sparql, format="terms", **kwargs)
        if result.kind != "graph":
            raise StoreError("value", "expected a CONSTRUCT or DESCRIBE query")
        return [ox.Triple(decode(s), decode(p), decode(o)) for batch in result.chunks for s, p, o in batch]  # type: ignore[union-attr]

    def ask(self, sparql: str, **kwargs: Any) -> bool:
        """Run an ASK for internal use."""
        result = self.query(sparql, format="terms", **kwargs)
        result.read()
        return bool(result.head["value"])

    # -- writes ---------------------------------------------------------------------------

    def update(self, sparql: str, *, base_iri: str | None = None, timeout: float | None = None) -> None:
        """Run a SPARQL update natively (then the derived graphs are rebuilt)."""
        self.call("update", sparql=sparql, base_iri=base_iri, timeout=timeout)

    def apply(
        self,
        *,
        add: Iterable[ox.Quad] = (),
        remove: Iterable[ox.Quad] = (),
        drop_graphs: Iterable[Any] = (),
        timeout: float | None = None,
    ) -> dict[str, int]:
        """Apply a known change atomically: drop graphs, remove quads, then add quads."""
        return self.call(
            "apply",
            add=ox.serialize(list(add), format=ox.RdfFormat.N_QUADS) or b"",
            remove=ox.serialize(list(remove), format=ox.RdfFormat.N_QUADS) or b"",
            drop_graphs=[encode(g) for g in drop_graphs],
            timeout=timeout,
        )

    # -- inspection -----------------------------------------------------------------------

    def dump(self, media_type: str, graph: Any | None = None) -> Iterator[bytes]:
        """Serialize one graph, or the whole dataset without derived graphs, as chunks."""
        messages = self._exchange({"op": "dump", "format": media_type, "graph": encode(graph)},
                                  self.update_timeout)
        first = next(messages)
        if first[0] == "result":  # small: the whole dump came in one message
            messages.close()
            return iter(first[2])
        return (m[1] for m in messages if m[0] == "chunk")

    def named_graphs(self) -> list[Any]:
        """Every named graph, as pyoxigraph terms."""
        return [decode(g) for g in self.call("graphs")]

    def graph_exists(self, graph: Any) -> bool:
        """True if the named graph exists (the default graph always does)."""
        return bool(self.call("graph_exists", graph=encode(graph)))

    def quads(self, subject: Any = None, predicate: Any = None, object: Any = None, graph: Any = None,
              *, limit: int = 0) -> list[ox.Quad]:
        """Quads matching a pattern (``None`` = any), for small internal look-ups."""
        pattern = [encode(t) if t is not None else None for t in (subject, predicate, object, graph)]
        rows = self.call("quads", pattern=pattern, limit=limit)
        return [ox.Quad(decode(s), decode(p), decode(o), decode(g)) for s, p, o, g in rows]

    def ping(self) -> dict[str, Any]:
        """Round-trip to the worker (health checks)."""
        return self.call("ping", timeout=5.0)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def open_store(settings: dict[str, Any]) -> StoreClient:
    """Start a store worker for these settings (the embedded backend; :func:`service.store.backend.open_store`
    chooses between it and a remote store)."""
    return StoreClient(settings)
