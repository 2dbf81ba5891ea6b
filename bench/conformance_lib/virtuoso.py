"""OpenLink Virtuoso run directly (not behind our service) for its own W3C scores.

Why a target of its own: Virtuoso cannot be judged with the plain harness. Its default graph is the
union of every graph (its system graphs included), it takes one ``BASE`` only, its Graph Store
endpoint wants digest authentication, and a query it cannot finish keeps a thread of it busy after
the client gives up (a run stalled on ``base-prefix-2`` at 100 % CPU). So each request is sent the
way our service sends it to Virtuoso — the same :class:`service.store.remote.Dialect` writes the
one ``BASE``, chooses the dataset (the test's data as the default graph, its named graphs or a graph
nobody has, never the system graphs) and writes the data — and nothing more of the service is in
between: what fails here is Virtuoso's own. Time is bounded twice: Virtuoso's own query time limit
(``[SPARQL]`` in the ini) and a client timeout, after which Virtuoso is killed and started again
on the same database.

The query and update suites run. Virtuoso's default graph is not a graph of its own, and an update
without ``GRAPH`` is refused ("No plain default graph specified") unless the protocol names one: each
test update is sent with ``using-graph-uri`` (the graph holding the test's default graph, as for
queries) and ``using-named-graph-uri`` (the test's named graphs), which Virtuoso takes as the dataset
it writes to — ``CLEAR ALL``/``DROP NAMED`` then reach those graphs only, never its system graphs —
and the store is read back graph by graph, its system graphs left out. The protocol and Graph Store
suites do not run: they replay raw HTTP requests against the store's own endpoints (its ``/sparql``
reading the union of all its graphs as the default graph, its Graph Store under digest
authentication, no direct graph identification), so they would measure how Virtuoso is set up, not
what it does.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from service.store.remote import VIRTUOSO_DEFAULT_GRAPH, Dialect, batches

from . import compare, results, terms
from .manifest import TestCase
from .runner import Harness, HarnessError, Outcome, failed, uses_keyword
from .server import Response, Target, free_port

XML = results.RESULT_MEDIA_TYPES["xml"]
SERVER = "virtuoso-t"
ISQL = "isql-vt"
PACKAGE = "virtuoso-opensource-7-bin"
#: Virtuoso's own limit on one query, in seconds (it then stops the query itself).
QUERY_SECONDS = 10
#: The client's limit: past it Virtuoso is taken to be stuck and is restarted.
CLIENT_SECONDS = 30
#: Suites this target runs (see the module docstring).
SUITES = ("query", "update")

#: What the anonymous SPARQL user (whom ``/sparql`` runs as) may do: read and write every graph
#: (RDF_DEFAULT_USER_PERMS_SET's 7 = read + write + list), run SPARQL Update, and the procedures an update's SQL
#: translation calls. Shared with the service's Virtuoso tests (tests/store/virtuoso.py), as is :data:`INI`.
GRANTS = ("DB.DBA.RDF_DEFAULT_USER_PERMS_SET('nobody', 7);"
          "GRANT SPARQL_UPDATE TO \"SPARQL\";"
          "GRANT EXECUTE ON DB.DBA.SPARQL_INSERT_DICT_CONTENT TO \"SPARQL\";"
          "GRANT EXECUTE ON DB.DBA.SPARQL_DELETE_DICT_CONTENT TO \"SPARQL\";"
          "GRANT EXECUTE ON DB.DBA.L_O_LOOK TO \"SPARQL\";"
          "GRANT EXECUTE ON DB.DBA.SPARUL_RUN TO \"SPARQL\";"
          "GRANT DELETE ON DB.DBA.RDF_QUAD TO \"SPARQL\";")

INI = """[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = ., {folder}
CheckpointInterval = 0
ThreadsPerQuery = 2
MaxQueryMem = 200M

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {folder}
MaxClientConnections = 4
ServerThreads = 4

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = {seconds}
ExecutionTimeout = {seconds}
MaxSortedTopRows = 1000000
"""


def missing() -> str | None:
    """Why Virtuoso cannot be started here, or None when it can."""
    for program in (SERVER, ISQL):
        if shutil.which(program) is None:
            return f"no {program} on this machine (Debian: apt-get install {PACKAGE})"
    return None


@dataclass
class VirtuosoTarget(Target):
    """A Virtuoso this runner started, spoken to as our service speaks to it (:class:`Dialect`)."""

    sql_port: int = 0
    dialect: Dialect = field(default_factory=lambda: Dialect.of("Virtuoso"))
    #: The test's named graphs as loaded (their names), given as the named graphs of a query that says GRAPH.
    named: list[str] = field(default_factory=list)
    restarts: int = 0
    #: Read each SPARQL JSON/XML answer as our service reads Virtuoso's (:meth:`Dialect.results_json`,
    #: :meth:`Dialect.results`, the standard parser) before judging it: its format deviations (ASK as a table,
    #: SPARQL 1.0 ``typed-literal`` terms, ``nodeID://`` blank nodes) then no longer hide whether the answer
    #: itself is right. A diagnostic reading, never recorded as Virtuoso's score.
    as_service_reads: bool = False

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            parts = urllib.parse.urlsplit(self.url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=CLIENT_SECONDS)
            self._local.conn = conn
        return conn

    def query(self, sparql: str, accept: str) -> Response:
        """A query with one resolved BASE and the test's dataset, as :class:`RemoteStore` sends it."""
        default, named = self.dialect.dataset(sparql, None, None, lambda: [ox.NamedNode(n) for n in self.named])
        form: list[tuple[str, str]] = [("query", self.dialect.with_base(sparql, None))]
        nothing = "urn:x-dprk-kg:no-such-graph"
        if default is not None:
            form += [("default-graph-uri", g.value) for g in default] or [("default-graph-uri", nothing)]
        if named is not None:
            form += [("named-graph-uri", g.value) for g in named] or [("named-graph-uri", nothing)]
        response = self.request("POST", self.query_path, urllib.parse.urlencode(form).encode(),
                                {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
        if self.as_service_reads and response.status == 200:
            response = self._as_service_reads(response)
        return response

    def _as_service_reads(self, response: Response) -> Response:
        media = response.content_type.split(";")[0].strip().lower()
        formats = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                   "application/sparql-results+xml": ox.QueryResultsFormat.XML}
        if media not in formats:
            return response
        body = self.dialect.results_json(response.body) if media.endswith("json") else response.body
        try:
            answer = self.dialect.results(ox.parse_query_results(body, format=formats[media]))
            body = answer.serialize(format=formats[media])
        except (SyntaxError, ValueError):
            return response
        return Response(response.status, response.headers, body)

    def update(self, sparql: str) -> Response:
        return self.request("POST", self.update_path, urllib.parse.urlencode({"update": sparql}).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def test_update(self, sparql: str) -> Response:
        """A test's update with one resolved BASE, and the test's dataset as the graphs it writes to and reads
        (Virtuoso's reading of ``using-graph-uri``: without it an update cannot write a default graph) — unless
        the update names its own with ``USING`` or ``WITH``, which the protocol forbids giving both of (Virtuoso
        then refuses it: "violates restrictions on allowed graphs")."""
        form = [("update", self.dialect.with_base(sparql, None))]
        if not (uses_keyword(sparql, "USING") or uses_keyword(sparql, "WITH")):
            form += [("using-graph-uri", VIRTUOSO_DEFAULT_GRAPH)]
            form += [("using-named-graph-uri", n) for n in self.named] or [
                ("using-named-graph-uri", "urn:x-dprk-kg:no-such-graph")]
        return self.request("POST", self.update_path, urllib.parse.urlencode(form).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def graphs(self) -> set[str]:
        """Every graph holding a triple, Virtuoso's own left out."""
        query = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self.dialect.ours()} }}"
        answer = self.raw_query(query)
        return {row["g"][1] for row in answer.rows} | ({VIRTUOSO_DEFAULT_GRAPH} if self.raw_query(
            f"SELECT ?s WHERE {{ GRAPH <{VIRTUOSO_DEFAULT_GRAPH}> {{ ?s ?p ?o }} }} LIMIT 1").rows else set())

    def raw_query(self, sparql: str) -> results.Results:
        """A query as it is, no dataset added, its answer in SPARQL XML (Virtuoso's JSON is SPARQL 1.0's)."""
        response = self.request("POST", self.query_path, urllib.parse.urlencode({"query": sparql}).encode(),
                                {"Content-Type": "application/x-www-form-urlencoded", "Accept": XML})
        if response.status != 200:
            raise HarnessError(f"reading the store failed: {response.brief()}")
        return results.parse_answer(response.body, response.content_type)

    def isql(self, statements: str) -> str:
        """SQL statements as ``dba`` (a fresh database's administrator) on the SQL port."""
        done = subprocess.run([ISQL, str(self.sql_port), "dba", "dba", f"exec={statements}"], capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
        if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
            raise RuntimeError(f"isql failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
        return done.stdout

    def launch(self, timeout: float = 120.0) -> None:
        """Start Virtuoso on the database in ``folder`` (fresh ports each time) and wait until it answers."""
        assert self.folder is not None
        folder = Path(self.folder)
        self.sql_port, http_port = free_port(), free_port()
        ini = folder / "virtuoso.ini"
        ini.write_text(INI.format(folder=folder, sql_port=self.sql_port, http_port=http_port,
                                  seconds=QUERY_SECONDS), encoding="utf-8")
        self.log = folder / "stdout.log"
        with open(self.log, "ab") as sink:
            self.process = subprocess.Popen([SERVER, "-f", "-c", str(ini)], cwd=folder, stdin=subprocess.DEVNULL,
                                            stdout=sink, stderr=subprocess.STDOUT)
        self.pids = [self.process.pid]
        self.url = f"http://127.0.0.1:{http_port}"
        self._local.conn = None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"virtuoso-t exited with code {self.process.returncode} during start-up: {tail}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.request("GET", "/sparql?query=ASK%7B%7D").status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"virtuoso-t did not answer within {timeout:g} s")
            time.sleep(0.2)

    def kill(self) -> None:
        """Kill Virtuoso at once (a stuck query would hold a polite stop)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def restart(self) -> None:
        self.kill()
        self.restarts += 1
        self.launch()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def start() -> VirtuosoTarget:
    """A fresh Virtuoso on free ports of 127.0.0.1 whose ``/sparql`` answers queries and updates."""
    reason = missing()
    if reason:
        raise RuntimeError(reason)
    folder = tempfile.mkdtemp(prefix="conformance-virtuoso-")
    target = VirtuosoTarget("virtuoso", "", "/sparql", "/sparql", "", folder=folder)
    try:
        target.launch()
        target.isql(GRANTS)
    except Exception:
        target.stop()
        raise
    return target


class VirtuosoHarness(Harness):
    """The harness with Virtuoso's data path: SPARQL Update into graphs of the test's own, dropped after."""

    target: VirtuosoTarget

    def __init__(self, target: VirtuosoTarget, w3c: Path) -> None:
        super().__init__(target, w3c)
        #: Every graph this harness may have written to (dropped one by one: Virtuoso's DROP ALL does nothing).
        self.written: set[str] = set()
        #: A test's update was sent since the store was last cleared (graphs it wrote are found by :meth:`clear`).
        self.updated = False

    @contextlib.contextmanager
    def _test_updates(self) -> Iterator[None]:
        """Within: the runner's updates are the test's, sent with its dataset (:meth:`VirtuosoTarget.test_update`)."""
        send = self.target.update
        self.target.update = self.target.test_update  # type: ignore[method-assign]
        self.updated = True
        try:
            yield
        finally:
            self.target.update = send  # type: ignore[method-assign]

    def update_eval(self, test: TestCase) -> Outcome:
        with self._test_updates():
            return super().update_eval(test)

    def syntax(self, test: TestCase) -> Outcome:
        with self._test_updates():  # a syntax test of an update is an update (those of queries are unchanged)
            return super().syntax(test)

    def dump(self) -> set[compare.Quad]:
        """Every quad of the test's dataset: the graph holding its default graph as graph ``None``, every other
        graph but Virtuoso's own by its name."""
        answer = self.target.raw_query(self.target.dialect.all_quads_query())
        quads: set[compare.Quad] = set()
        for row in answer.rows:
            graph = row.get("g")
            name = None if graph is None or graph == terms.iri(VIRTUOSO_DEFAULT_GRAPH) else graph
            quads.add((row["s"], row["p"], row["o"], name))
        return quads

    def clear(self) -> None:
        if self.updated:  # a test's update may have written graphs of its own
            self.written |= self.target.graphs()
            self.updated = False
        for graph in sorted(self.written):
            response = self.target.update(f"DROP SILENT GRAPH <{graph}>")
            if not 200 <= response.status < 300:
                raise HarnessError(f"DROP GRAPH <{graph}> failed: {response.brief()}")
        self.written.clear()
        self.target.named = []
        self.state = ()

    def load(self, default: list[str], named: list[tuple[str, str]]) -> None:
        key = (tuple(default), tuple(sorted(named)))
        if self.state == key:
            return
        if self.state != ():
            self.clear()
        quads: list[ox.Quad] = []
        for i, file_iri in enumerate(default):
            quads += [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                      for t in ox.parse(self._ntriples(file_iri, f"d{i}x"), format=ox.RdfFormat.N_TRIPLES)]
        for i, (name, file_iri) in enumerate(named):
            quads += [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name))
                      for t in ox.parse(self._ntriples(file_iri, f"g{i}x"), format=ox.RdfFormat.N_TRIPLES)]
        self.written |= {VIRTUOSO_DEFAULT_GRAPH, *(name for name, _ in named)}
        self.state = None
        for batch in batches(quads, self.target.dialect.update_quads):
            response = self.target.update(self.target.dialect.insert(batch))
            if not 200 <= response.status < 300:
                raise HarnessError(f"loading the test's data failed: {response.brief()}")
        self.target.named = [name for name, _ in named]
        self.state = key

    def run(self, test: TestCase) -> Outcome:
        """One test; a request past the client's time limit restarts Virtuoso, the test failing with that reason."""
        started = time.monotonic()
        outcome = super().run(test)
        if outcome.status == "fail" and (outcome.reason.startswith("connection trouble")
                                         or self.target.process is None or self.target.process.poll() is not None):
            seconds = time.monotonic() - started
            self.target.restart()
            self.state = None
            self.written.add(VIRTUOSO_DEFAULT_GRAPH)
            return failed(f"no answer ({outcome.reason}, after {seconds:.0f} s): Virtuoso restarted")
        return outcome
