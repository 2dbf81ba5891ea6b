"""The service in front of a store it does not own: any SPARQL 1.1 Protocol + Graph Store Protocol endpoint.

Why this shape: the layers above ``store/`` call the operations of
:class:`service.store.backend.StoreBackend`; this backend answers them over HTTP, so the
protocol's checks, canned queries, guarded writes, VoID, pages and dumps work in front of an
Oxigraph server (or another store) exactly as in front of the embedded one.

* Reads go to the store's query endpoint (``STORE_URL``) as SPARQL Protocol POSTs asking for
  SPARQL JSON results or N-Triples; the answers are parsed with pyoxigraph's parsers and
  serialized again by the same code as the embedded store's (:func:`service.sparql.answers.serialize_answer`),
  so formats, the result-row cap and its truncation mark are the same.
* Writes are validated *here*, before anything is sent: the store's dataset is read into an
  in-memory pyoxigraph store (a snapshot), the worker's own operation (guarded update, guarded
  apply, validation, dry run) runs on it unchanged (:data:`service.store.worker.OPERATIONS`), and
  when it commits, the difference between the snapshot and the result — the change and its
  derived consequences (union default graph, RDFS graph) — is sent to the store as ONE SPARQL
  Update (``DELETE DATA`` / ``INSERT DATA``, plus ``CREATE``/``DROP`` of named graphs). What was
  validated is what is written. The cost: every write reads the whole dataset, which suits
  graphs up to a few hundred thousand triples, not more.
* Blank nodes cannot be named in ``DELETE DATA``: a graph whose stored blank nodes the change
  touches is cleared and written again whole in the same update (:func:`change_update`).
* The version caches are keyed by is :attr:`RemoteStore.generation`, a count of the writes made
  through this process (as the embedded store's). Writes made to the store by anyone else — other
  clients, other service instances — are not seen by it: caches may then answer from before them.
* Bounded: every request has a timeout (QUERY_TIMEOUT, UPDATE_TIMEOUT) and every answer a size
  limit (STORE_RESPONSE_LIMIT), past which the request fails instead of filling memory.
* Credentials come from the environment only (:func:`service.config.store_credentials`), sent as
  HTTP Basic authentication, never from the command line (where ``ps`` would show them).

Where a store deviates from the standard, the adaptation belongs in :class:`Dialect`, one place.
"""

from __future__ import annotations

import base64
import http.client
import io
import logging
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from service.config import data_root, store_credentials
from service.rdf import derived
from service.rdf.bundle import load_into
from service.rdf.formats import STORE_FORMATS
from service.rdf.terms import decode, encode
from service.rdf.vocabulary import PREFIXES
from service.sparql.answers import capped_answer, serialize_answer
from service.store.client import QueryResult, StoreClient, StoreError, StoreTimeout
from service.store.worker import OPERATIONS, Worker

log = logging.getLogger(__name__)

#: Media types asked of the store: SPARQL JSON results for SELECT and ASK, N-Triples for graphs.
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
#: Statuses that say the store cannot answer now (a retry later may succeed): mapped to 503, not 500.
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class Dialect:
    """How this store is spoken to, where stores differ: the one place for their deviations.

    ``empty_graphs``: the store keeps empty named graphs and ``GRAPH ?g {}`` lists them (Oxigraph
    does); otherwise named graphs are those that hold a triple.
    """

    empty_graphs: bool = True
    #: ASK answered as a one-column table (``__ASK_RETVAL``: one row when true, none when false), as Virtuoso 7 does.
    ask_as_table: bool = False
    #: Why the service cannot yet run in front of this store (it then refuses to start), or ``None``.
    unsupported: str | None = None
    #: A POST of N-Quads to the Graph Store URL itself (no ``graph``/``default`` parameter) adds a whole
    #: dataset in one request (Oxigraph does); otherwise the first load is one ``INSERT DATA``.
    dataset_post: bool = True

    @classmethod
    def of(cls, server: str) -> Dialect:
        """The dialect of a store, from its HTTP ``Server`` header."""
        if server.lower().startswith("virtuoso"):
            return cls(empty_graphs=False, ask_as_table=True, dataset_post=False, unsupported=(
                "Virtuoso is not supported yet: its default graph is the union of all its graphs, its own system "
                "graphs included, and the service's default graph is not mapped onto a graph of its own"))
        return cls()

    def results(self, solutions: Any) -> Any:
        """Parsed results as the standard has them (Virtuoso's ASK table becomes a boolean)."""
        if self.ask_as_table and isinstance(solutions, ox.QuerySolutions) and [
                v.value for v in solutions.variables] == ["__ASK_RETVAL"]:
            rows = list(solutions)
            value = bool(rows) and rows[0][0] is not None and rows[0][0].value not in ("0", "false")
            return ox.parse_query_results(b'{"head":{},"boolean":%s}' % (b"true" if value else b"false"),
                                          format=ox.QueryResultsFormat.JSON)
        return solutions

    def named_graphs_query(self) -> str:
        if self.empty_graphs:
            return "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"
        return "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


class _Capture:
    """Stands in for the worker's connection: keeps what an operation answers."""

    def __init__(self) -> None:
        self.messages: list[tuple] = []

    def send(self, message: tuple) -> None:
        self.messages.append(message)


class _Mirror(Worker):
    """The store worker's operations over an in-memory snapshot of the remote dataset."""

    def __init__(self, settings: dict[str, Any], store: ox.Store) -> None:  # no super(): no store folder
        self.settings = settings
        self.union = bool(settings.get("UNION_DEFAULT_GRAPH", True))
        self.entailment = str(settings.get("ENTAILMENT") or "rdfs")
        self.store = store
        self.write_lock = threading.Lock()
        self._serving = threading.local()


def _error_from(exc: Exception) -> StoreError:
    """An exception raised by a worker operation, as the worker itself would have answered it."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, SyntaxError):
        return StoreError("syntax", str(exc))
    if isinstance(exc, PermissionError):
        return StoreError("forbidden", str(exc))
    if isinstance(exc, ValueError):
        return StoreError("value", str(exc))
    text = str(exc)
    if isinstance(exc, RuntimeError) and any(w in text for w in ("does not exist", "already exists", "not found")):
        return StoreError("conflict", text)
    log.error("store operation failed on the snapshot", exc_info=exc)
    return StoreError("internal", f"{type(exc).__name__}: {exc}")


def _quad_text(quad: ox.Quad) -> str:
    triple = f"{quad.subject} {quad.predicate} {quad.object} ."
    return triple if isinstance(quad.graph_name, ox.DefaultGraph) else f"GRAPH {quad.graph_name} {{ {triple} }}"


def _blanks(quad: ox.Quad) -> Iterator[ox.BlankNode]:
    return (t for t in (quad.subject, quad.object, quad.graph_name) if isinstance(t, ox.BlankNode))


def _graph_ref(graph: Any) -> str:
    return "DEFAULT" if isinstance(graph, ox.DefaultGraph) else f"GRAPH {graph}"


def change_update(old: set[ox.Quad], new: set[ox.Quad], old_graphs: set[Any], new_graphs: set[Any]) -> str:
    """One SPARQL Update that turns the dataset ``old`` (its named graphs ``old_graphs``) into ``new``.

    Quads are removed with ``DELETE DATA`` and added with ``INSERT DATA`` — except in graphs that
    must be *rewritten*: cleared and filled again within the same update. A graph is rewritten when
    the change removes all of its quads (a ``CLEAR`` is shorter than listing them), or when it
    holds a blank node the change removes a quad of or adds a quad to: SPARQL cannot name a stored
    blank node, so such a graph is sent whole, together with every graph sharing a blank node with
    it (blank node labels hold within one ``INSERT DATA``, so the nodes stay shared). The quads
    written are exactly ``new``'s.
    """
    added, removed = new - old, old - new
    old_by_graph: dict[Any, set[ox.Quad]] = {}
    new_by_graph: dict[Any, set[ox.Quad]] = {}
    for quads, by_graph in ((old, old_by_graph), (new, new_by_graph)):
        for q in quads:
            by_graph.setdefault(q.graph_name, set()).add(q)
    stored = {b for q in old for b in _blanks(q)}
    holders: dict[ox.BlankNode, set[Any]] = {}  # the graphs holding each stored blank node after the change
    for q in new:
        for b in _blanks(q):
            if b in stored:
                holders.setdefault(b, set()).add(q.graph_name)
    rewrite = {g for g, quads in old_by_graph.items() if quads <= removed}
    pending = set(rewrite) | {q.graph_name for q in removed if any(_blanks(q))}
    pending |= {q.graph_name for q in added if any(b in stored for b in _blanks(q))}
    done: set[Any] = set()
    while pending:  # a rewritten graph's stored blank nodes are written again: so is every graph holding them
        graph = pending.pop()
        done.add(graph)
        rewrite.add(graph)
        for q in new_by_graph.get(graph, ()):
            for b in _blanks(q):
                pending |= holders.get(b, set()) - done
    parts = [f"DROP SILENT GRAPH {g}" for g in old_graphs - new_graphs]
    parts += [f"CLEAR SILENT {_graph_ref(g)}" for g in rewrite
              if isinstance(g, ox.DefaultGraph) or (g in old_graphs and g in new_graphs)]
    deleted = [q for q in removed if q.graph_name not in rewrite]
    inserted = [q for q in added if q.graph_name not in rewrite]
    inserted += [q for g in rewrite for q in new_by_graph.get(g, ())]
    if deleted:
        parts.append("DELETE DATA {\n" + "\n".join(_quad_text(q) for q in deleted) + "\n}")
    parts += [f"CREATE SILENT GRAPH {g}" for g in new_graphs - old_graphs]
    if inserted:
        parts.append("INSERT DATA {\n" + "\n".join(_quad_text(q) for q in inserted) + "\n}")
    return " ;\n".join(parts)


#: Quads serialized per chunk of a streamed Graph Store POST (:func:`_nquads_stream`).
STREAM_QUADS = 50_000


def _nquads_stream(quads: list[ox.Quad]) -> Iterator[bytes]:
    """The quads as N-Quads, chunk by chunk, logging progress: the body of ONE streamed (chunked) request.

    Why streamed: the whole body at once is about 170 bytes a quad — at a million triples (some 3.5 million quads
    with the derived graphs) it no longer fits the web worker's MEMORY_LIMIT and the first start failed. N-Quads is
    line-based and blank node labels are the nodes' own ids, so the chunks concatenate to one valid document in
    which a blank node shared by two graphs stays one node.
    """
    total = len(quads)
    started = time.perf_counter()
    for first in range(0, total, STREAM_QUADS):
        yield ox.serialize(quads[first:first + STREAM_QUADS], format=ox.RdfFormat.N_QUADS) or b""
        sent = min(first + STREAM_QUADS, total)
        if (total > 4 * STREAM_QUADS and (sent // STREAM_QUADS) % 10 == 0) or sent == total:
            log.info("first load: %d of %d quads sent to the store (%.0f s)", sent, total,
                     time.perf_counter() - started)


class RemoteStore:
    """A :class:`~service.store.backend.StoreBackend` over a SPARQL 1.1 store's HTTP endpoints; thread-safe."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.query_url: str = settings["STORE_URL"]
        self.update_url: str = settings.get("UPDATE_URL") or self.query_url
        self.graph_store_url: str | None = settings.get("GRAPH_STORE_URL") or None
        for url in (self.query_url, self.update_url, self.graph_store_url):
            if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"the store's URL must be http or https, not {url!r}")
        self.query_timeout: float = float(settings.get("QUERY_TIMEOUT") or 30.0)
        self.update_timeout: float = float(settings.get("UPDATE_TIMEOUT") or 60.0)
        self.response_limit: int = int(settings.get("STORE_RESPONSE_LIMIT") or 256 * 2**20)
        self.union = bool(settings.get("UNION_DEFAULT_GRAPH", True))
        self.dialect = Dialect()
        self.server = ""  # the store's Server header, once it has answered
        self.generation = 0
        self.worker_generation = 1  # no worker to restart (metrics count restarts from this)
        self.on_round_trip: Callable[[str, float], None] | None = None
        self._write_lock = threading.Lock()  # one write at a time from this process: snapshot, validate, send
        user, password = store_credentials()
        self._auth = ("Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()) if user else None
        self._query_http("ASK {}", timeout=self.query_timeout)  # the store answers, and says what it is
        self.dialect = Dialect.of(self.server)
        if self.dialect.unsupported:
            raise RuntimeError(f"{self.dialect.unsupported} (the store at {self.query_url} says it is "
                               f"{self.server.strip()!r})")
        if settings.get("LOAD_DATA", True):
            self._load_if_empty()

    # -- HTTP ---------------------------------------------------------------------------

    def _http(self, op: str, url: str, *, data: bytes | Iterable[bytes] | None = None,
              content_type: str | None = None, accept: str | None = None, method: str = "POST",
              timeout: float) -> tuple[str, bytes]:
        """One request; its answer's media type and body (at most :attr:`response_limit` bytes)."""
        headers = {"User-Agent": "dprk-kg remote store"}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        if self._auth:
            headers["Authorization"] = self._auth
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 (checked)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the configured store)
                if self.on_round_trip is not None:
                    self.on_round_trip(op, time.perf_counter() - started)
                body = response.read(self.response_limit + 1)
                if len(body) > self.response_limit:
                    raise StoreError("value", f"the store's answer is larger than {self.response_limit} bytes "
                                              f"(STORE_RESPONSE_LIMIT)")
                self.server = response.headers.get("Server", "")
                return response.headers.get_content_type(), body
        except urllib.error.HTTPError as exc:
            text = exc.read(4096).decode("utf-8", "replace").strip()
            if exc.code == 400:
                raise StoreError("syntax" if op == "query" else "value", text or "refused by the store") from exc
            if exc.code in (401, 403):
                raise StoreError("internal", f"the store refused the service's credentials ({exc.code}): "
                                             f"check DPRK_KG_STORE_USER and DPRK_KG_STORE_PASSWORD") from exc
            if exc.code in UNAVAILABLE_STATUSES:  # the store (or a proxy before it) says: not now, try again
                raise StoreError("unavailable", f"the store at {url} answered {exc.code}: {text[:200]}") from exc
            raise StoreError("os", f"the store answered {exc.code}: {text[:500]}") from exc
        except TimeoutError as exc:
            raise StoreTimeout(timeout) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise StoreTimeout(timeout) from exc
            raise StoreError("unavailable", f"the store at {url} could not be reached: {exc.reason}") from exc
        except (ConnectionError, http.client.HTTPException) as exc:  # the store went away during the exchange
            raise StoreError("unavailable", f"the store at {url} broke off the exchange: "
                                            f"{type(exc).__name__}: {exc}") from exc

    def _query_http(self, sparql: str, *, default_graph: Iterable[Any] | None = None,
                    named_graphs: Iterable[Any] | None = None, base_iri: str | None = None,
                    timeout: float | None = None) -> Callable[[], Any]:
        """Run a query at the store; a function that parses its answer (called again if the cap needs it)."""
        text = f"BASE <{base_iri}>\n{sparql}" if base_iri else sparql
        form: list[tuple[str, str]] = [("query", text)]
        # An empty list is an explicit dataset (no graph of that kind): the protocol cannot say so, hence
        # a graph nobody has.
        nothing = "urn:x-dprk-kg:no-such-graph"
        if default_graph is not None:
            form += [("default-graph-uri", g.value) for g in default_graph] or [("default-graph-uri", nothing)]
        if named_graphs is not None:
            form += [("named-graph-uri", g.value) for g in named_graphs] or [("named-graph-uri", nothing)]
        media, body = self._http("query", self.query_url, data=urllib.parse.urlencode(form).encode(),
                                 content_type="application/x-www-form-urlencoded",
                                 accept=f"{RESULTS_JSON}, {N_TRIPLES};q=0.9", timeout=timeout or self.query_timeout)
        if media in (RESULTS_JSON, "application/json"):
            return lambda: self.dialect.results(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))
        if media in (N_TRIPLES, "text/plain"):
            return lambda: [ox.Triple(q.subject, q.predicate, q.object)
                            for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
        fmt = ox.RdfFormat.from_media_type(media)
        if fmt is None:
            raise StoreError("internal", f"the store answered a query with {media!r}")
        return lambda: [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(body, format=fmt)]

    def _update_http(self, sparql: str, timeout: float | None = None) -> None:
        self._http("update", self.update_url, data=urllib.parse.urlencode({"update": sparql}).encode(),
                   content_type="application/x-www-form-urlencoded", timeout=timeout or self.update_timeout)

    # -- queries --------------------------------------------------------------------------

    def query(self, sparql: str, *, format: str = "json", default_graph: Iterable[Any] | None = None,
              named_graphs: Iterable[Any] | None = None, substitutions: dict[str, Any] | None = None,
              base_iri: str | None = None, row_cap: int | None = None, timeout: float | None = None) -> QueryResult:
        """Evaluate a query at the store; the answer in ``format`` as the embedded store gives it."""
        if substitutions:
            raise StoreError("value", "variable substitutions are not supported by the remote store backend")
        cap = self.settings.get("RESULT_ROW_CAP", 0) if row_cap is None else row_cap
        run = self._query_http(sparql, default_graph=default_graph, named_graphs=named_graphs, base_iri=base_iri,
                               timeout=timeout)
        if format == "terms":
            head, items = capped_answer(run(), cap)
            if head["kind"] == "boolean":
                batches: list[Any] = []
            elif head["kind"] == "solutions":
                batches = [[tuple(encode(t) for t in row) for row in items]]
            else:
                batches = [[(encode(t.subject), encode(t.predicate), encode(t.object)) for t in items]]
            return QueryResult(kind=head["kind"], head=head, chunks=iter([b for b in batches if b]))
        sink = io.BytesIO()
        head = serialize_answer(run, format, cap, lambda _head: sink)
        body = sink.getvalue()
        return QueryResult(kind=head["kind"], head=head, chunks=iter([body]), body=body)

    # The internal look-ups decode ``terms`` answers exactly as the embedded client does.
    select = StoreClient.select
    construct = StoreClient.construct
    ask = StoreClient.ask
    update = StoreClient.update
    apply = StoreClient.apply

    def _solutions(self, sparql: str, timeout: float | None = None) -> Iterator[Any]:
        return iter(self._query_http(sparql, timeout=timeout)())

    # -- the dataset as a snapshot ---------------------------------------------------------

    def _snapshot(self) -> ox.Store:
        """The store's whole dataset (empty named graphs included) in an in-memory pyoxigraph store."""
        store = ox.Store()
        rows = self._solutions("SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
                               timeout=self.update_timeout)
        default = ox.DefaultGraph()
        store.extend(ox.Quad(r["s"], r["p"], r["o"], r["g"] or default) for r in rows)
        for graph in self.named_graphs():
            store.add_graph(graph)
        return store

    def _send_change(self, before: ox.Store, after: ox.Store) -> None:
        """Write the difference between two states of the dataset as one SPARQL Update."""
        text = change_update(set(before), set(after), set(before.named_graphs()), set(after.named_graphs()))
        if text:
            self._update_http(text)

    # -- operations -------------------------------------------------------------------------

    def call(self, op: str, *, timeout: float | None = None, **payload: Any) -> Any:
        """Run an operation of the worker's table: reads at the store, the others on a snapshot (module docstring)."""
        local = {"ping": lambda: self.ping(), "graphs": lambda: [encode(g) for g in self.named_graphs()],
                 "graph_exists": lambda: self.graph_exists(decode(payload["graph"])),
                 "quads": lambda: [tuple(encode(t) for t in (q.subject, q.predicate, q.object, q.graph_name))
                                   for q in self.quads(*(decode(t) if t is not None else None
                                                         for t in payload["pattern"]),
                                                       limit=payload.get("limit") or 0)]}
        if op in local:
            return local[op]()
        operation = OPERATIONS.get(op)
        if operation is None or op == "query" or op == "dump":
            raise StoreError("value", f"unknown store operation {op!r}")
        request = {"op": op, **payload}
        too_deep = Worker._too_deep(request, operation)
        if too_deep:
            raise StoreError("value", too_deep)
        lock = self._write_lock if operation.writes else threading.Lock()
        try:
            with lock:
                store = self._snapshot()
                before = ox.Store()
                if operation.writes:
                    before.extend(store)
                    for graph in store.named_graphs():
                        before.add_graph(graph)
                conn = _Capture()
                try:
                    operation.handler(_Mirror(self.settings, store), conn, request)  # type: ignore[arg-type]
                except Exception as exc:
                    raise _error_from(exc) from exc
                kind, *rest = conn.messages[-1]
                if kind != "ok":
                    raise StoreError("internal", f"no answer to {op}")
                answer = rest[0]
                if operation.writes and not (isinstance(answer, dict) and answer.get("applied") is False):
                    self._send_change(before, store)
                return answer
        finally:
            if operation.writes:
                self.generation += 1

    # -- inspection ---------------------------------------------------------------------------

    def dump(self, media_type: str, graph: Any | None = None) -> Iterator[bytes]:
        """One graph, or the dataset without the derived graphs, serialized as the embedded store does."""
        fmt = STORE_FORMATS[media_type]
        sink = io.BytesIO()
        if graph is not None:
            pattern = "{ ?s ?p ?o }" if isinstance(graph, ox.DefaultGraph) else f"{{ GRAPH {graph} {{ ?s ?p ?o }} }}"
            rows = self._solutions(f"SELECT ?s ?p ?o WHERE {pattern}", timeout=self.update_timeout)
            triples = [ox.Triple(r["s"], r["p"], r["o"]) for r in rows]
            ox.serialize(triples, sink, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TURTLE else None)
        else:
            quads = [q for q in self._snapshot() if derived.is_asserted(q.graph_name, union=self.union)]
            ox.serialize(quads, sink, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TRIG else None)
        return iter([sink.getvalue()])

    def named_graphs(self) -> list[Any]:
        return [r["g"] for r in self._solutions(self.dialect.named_graphs_query())]

    def graph_exists(self, graph: Any) -> bool:
        if isinstance(graph, ox.DefaultGraph):
            return True
        return graph in set(self.named_graphs())

    def quads(self, subject: Any = None, predicate: Any = None, object: Any = None, graph: Any = None,
              *, limit: int = 0) -> list[ox.Quad]:
        """Quads matching a pattern (``None`` = any), asked of the store as one SELECT."""
        s, p, o = (str(t) if t is not None else v for t, v in ((subject, "?s"), (predicate, "?p"), (object, "?o")))
        triple = f"{s} {p} {o}"
        if graph is None:
            where = f"{{ {triple} }} UNION {{ GRAPH ?g {{ {triple} }} }}"
        elif isinstance(graph, ox.DefaultGraph):
            where = triple
        else:
            where = f"GRAPH {graph} {{ {triple} }}"
        text = f"SELECT * WHERE {{ {where} }}" + (f" LIMIT {int(limit)}" if limit else "")
        found = []
        for row in self._solutions(text):
            g = graph if graph is not None else (row["g"] or ox.DefaultGraph())
            found.append(ox.Quad(subject or row["s"], predicate or row["p"], object or row["o"], g))
        return found

    def ping(self) -> dict[str, Any]:
        """A round trip to the store (``ASK {}``)."""
        self._query_http("ASK {}", timeout=5.0)()
        return {"pid": None, "store": self.query_url}

    def close(self) -> None:
        """Nothing to release: every request opens its own connection."""

    # -- first start -----------------------------------------------------------------------

    def _load_if_empty(self) -> None:
        """Load the bundled graph (with its derived graphs, as the embedded store keeps them) into an empty store."""
        empty = not bool(self._query_http("ASK { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
                                          timeout=self.query_timeout)())
        if not empty:
            return
        store = ox.Store()
        load_into(store, data_root(self.settings), bulk=True)
        with tempfile.TemporaryDirectory(prefix="dprk-kg-load-") as scratch:  # the worker's derivation may spill here
            mirror = _Mirror({**self.settings, "STORE_DIR": scratch}, store)
            if not mirror.bulk_derive():
                mirror.rebuild_derived()
        started = time.perf_counter()
        self._post_dataset(list(store))
        log.info("loaded the bundled graph into the remote store (%d quads) in %.1f s", len(store),
                 time.perf_counter() - started)

    def _post_dataset(self, quads: list[ox.Quad]) -> None:
        """Add quads to the store in ONE request, so that a blank node shared by two graphs stays one node.

        (Blank node labels are scoped to one document or one update.) Through the Graph Store as N-Quads where
        the store accepts a dataset there (:class:`Dialect`), else as one ``INSERT DATA``.
        """
        if self.graph_store_url and self.dialect.dataset_post:
            self._http("load", self.graph_store_url, data=_nquads_stream(quads), content_type="application/n-quads",
                       timeout=self.update_timeout)
            return
        self._update_http("INSERT DATA {\n" + "\n".join(_quad_text(q) for q in quads) + "\n}")

