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
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.shared_helpers import REQUIRE_VARIABLE, shared_required

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from conformance_lib import virtuoso as virtuoso_setup

SERVER = "virtuoso-t"
ISQL = "isql-vt"
PACKAGE = "virtuoso-opensource-7-bin"

#: The grants of the anonymous SPARQL user and the minimal ini, shared with the conformance runner's own Virtuoso
#: (its ``[SPARQL]`` query time limit given here as the service's tests have always had it).
GRANTS, INI = virtuoso_setup.GRANTS, virtuoso_setup.INI
QUERY_SECONDS = 60


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
    ini.write_text(INI.format(folder=folder, sql_port=sql_port, http_port=http_port, seconds=QUERY_SECONDS),
                   encoding="utf-8")
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
