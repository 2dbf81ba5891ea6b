"""OpenLink Virtuoso (Debian's ``virtuoso-opensource-7-bin``) started by the tests on 127.0.0.1.

Why a helper module: Virtuoso ships no usable configuration of its own, so each test run writes
a minimal ``virtuoso.ini`` (its database, log and lock files in a temporary folder; an SQL and an
HTTP port chosen free), starts ``virtuoso-t -f -c <ini>`` and, once it answers, grants the
anonymous SPARQL user (``SPARQL``, whom Virtuoso's ``/sparql`` runs as) the right to update, by
``isql-vt`` on the SQL port as the database's own administrator (``dba``, a fresh database's
password). The service then speaks to it through ``/sparql`` alone (queries and updates; its Graph
Store endpoint wants digest authentication, which the service does not need).

Where ``virtuoso-t`` is missing the tests skip, naming the package; where the shared material is
required (``DPRK_KG_REQUIRE_SHARED=1``, as in CI, whose ``.ci/run`` installs the package) they fail.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.shared_helpers import REQUIRE_VARIABLE, shared_required

SERVER = "virtuoso-t"
ISQL = "isql-vt"
PACKAGE = "virtuoso-opensource-7-bin"

#: What the anonymous SPARQL user may do: read and write every graph (RDF_DEFAULT_USER_PERMS_SET's 7 =
#: read + write + list), run SPARQL Update, and the procedures an update's SQL translation calls.
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
MaxQueryExecutionTime = 60
MaxSortedTopRows = 1000000
"""


def missing_virtuoso() -> str | None:
    """Why Virtuoso cannot be started here, or None when it can."""
    for program in (SERVER, ISQL):
        if shutil.which(program) is None:
            return f"no {program} on this machine (Debian: apt-get install {PACKAGE}; .ci/run installs it)"
    return None


def skip_or_fail_without_virtuoso() -> None:
    """Skip where Virtuoso is not installed; fail instead where it is required (CI)."""
    reason = missing_virtuoso()
    if reason is None:
        return
    if shared_required():
        pytest.fail(f"{reason} — and {REQUIRE_VARIABLE} is set, so the Virtuoso tests must run", pytrace=False)
    pytest.skip(reason)


@dataclass
class VirtuosoServer:
    """A Virtuoso process of the test's own, with its database in ``folder``."""

    url: str
    sql_port: int
    folder: Path
    process: subprocess.Popen

    @property
    def sparql_url(self) -> str:
        """Queries and updates (the service is given this URL for both)."""
        return self.url + "/sparql"

    def isql(self, statements: str) -> str:
        """Run SQL statements as ``dba`` (a fresh database's administrator) on the SQL port."""
        done = subprocess.run([ISQL, str(self.sql_port), "dba", "dba", f"exec={statements}"], capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
        if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
            raise RuntimeError(f"isql failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
        return done.stdout

    def query(self, sparql: str, *, default_graph: str | None = None) -> dict:
        """Ask Virtuoso itself (not through the service) for SPARQL JSON results."""
        form = [("query", sparql)] + ([("default-graph-uri", default_graph)] if default_graph else [])
        request = urllib.request.Request(self.sparql_url, data=urllib.parse.urlencode(form).encode(),
                                         headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def ask(self, where: str, *, default_graph: str | None = None) -> bool:
        """ASK of Virtuoso itself (it answers ASK as a one-column table: a row when true)."""
        answer = self.query(f"ASK {{ {where} }}", default_graph=default_graph)
        if "boolean" in answer:
            return bool(answer["boolean"])
        return bool(answer["results"]["bindings"])

    def stop(self) -> None:
        """Stop Virtuoso politely (SIGTERM makes it checkpoint and exit), then firmly."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_virtuoso(folder: Path, timeout: float = 90.0) -> VirtuosoServer:
    """A fresh Virtuoso on free ports of 127.0.0.1 whose ``/sparql`` answers queries and updates."""
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(INI.format(folder=folder, sql_port=sql_port, http_port=http_port), encoding="utf-8")
    with open(folder / "stdout.log", "wb") as sink:
        process = subprocess.Popen([SERVER, "-f", "-c", str(ini)], cwd=folder, stdin=subprocess.DEVNULL,
                                   stdout=sink, stderr=subprocess.STDOUT)
    server = VirtuosoServer(f"http://127.0.0.1:{http_port}", sql_port, folder, process)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                log = (folder / "stdout.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"virtuoso-t exited with code {process.returncode} during start-up: {log}")
            try:
                server.query("ASK {}")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        server.isql(GRANTS)
    except Exception:
        server.stop()
        raise
    return server
