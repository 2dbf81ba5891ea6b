"""Hole 2 of issue 11: SHACL-SPARQL in client-supplied shapes must never reach the network.

A recorder (a tiny HTTP server on 127.0.0.1 that answers every request with a SPARQL JSON
result holding ``REMOTE-SECRET``) stands for the endpoint an attacker names. Shapes whose
SPARQL calls it — plainly, behind ``SERVICE#comment⏎``, by a prefixed name, from a target,
a validator or a prefix declaration — are sent to a real server (under a memory limit)
through every path that accepts shapes. Each must be refused with a 4xx naming the
problem, the recorder must see no request, and nothing of its answer may come back.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import requests

from service.rdf.vocabulary import SHAPES_GRAPH
from tests.conftest import CONTAINED_MEMORY, REPO, WRITE_TOKEN, LiveServer, limit_memory, start_live_server

SECRET = "REMOTE-SECRET"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
TIMEOUT = 60
HEAD = """PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX ex: <http://example.org/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


class Recorder:
    """An HTTP server on 127.0.0.1 (free port, own thread) that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorder.requests.append((self.command, self.path + " " + self.rfile.read(length).decode("latin-1")))
                body = json.dumps({"head": {"vars": ["this", "value", "s"]}, "results": {"bindings": [
                    {v: {"type": "literal", "value": SECRET} for v in ("value", "s")}]}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}/"
        self.url = self.base + "sparql"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[LiveServer]:
    """A writable server on an empty store, under a memory limit (it receives hostile shapes)."""
    live = start_live_server(tmp_path_factory.mktemp("shapes-store"), "--no-data", "--write-token", WRITE_TOKEN,
                             memory_limit=CONTAINED_MEMORY)
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def _fresh(recorder: Recorder) -> None:
    recorder.requests.clear()


AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}


def hostile_shapes(url: str, base: str) -> dict[str, str]:
    """Turtle shapes (without prefixes) whose SPARQL calls ``url``, one way each."""
    return {
        "plain": f'ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select """'
                 f'SELECT $this ?value WHERE {{ SERVICE <{url}> {{ ?s ?p ?value }} }}""" ] .',
        "comment-newline": f'ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select """'
                           f'SELECT $this ?value WHERE {{ SERVICE#comment\n<{url}> {{ ?s ?p ?value }} }}""" ] .',
        "lowercase-silent": f'ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select """'
                            f'SELECT $this ?value WHERE {{ service silent#x\n<{url}> {{ ?s ?p ?value }} }}""" ] .',
        "prefixed-name": f'''ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [
              sh:prefixes ex:decl ;
              sh:select """SELECT $this ?value WHERE {{ SERVICE#x\nremote:sparql {{ ?s ?p ?value }} }}""" ] .
            ex:decl sh:declare [ sh:prefix "remote" ; sh:namespace "{base}"^^xsd:anyURI ] .''',
        "sparql-target": f'''ex:S a sh:NodeShape ; sh:property [ sh:path ex:p ; sh:minCount 1 ] ;
              sh:target [ a sh:SPARQLTarget ;
                sh:select """SELECT ?this WHERE {{ SERVICE#x\n<{url}> {{ ?this ?p ?o }} }}""" ] .''',
        "sparql-target-type": f'''ex:TT a sh:SPARQLTargetType ; sh:parameter [ sh:path ex:k ] ;
              sh:select """SELECT ?this WHERE {{ SERVICE#x\n<{url}> {{ ?this ?p $k }} }}""" .
            ex:S a sh:NodeShape ; sh:target [ a ex:TT ; ex:k 1 ] ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .''',
        "ask-validator": f'''ex:CC a sh:ConstraintComponent ; sh:parameter [ sh:path ex:flag ] ;
              sh:validator [ a sh:SPARQLAskValidator ;
                sh:ask """ASK {{ SERVICE#x\n<{url}> {{ ?s ?p ?o }} }}""" ] .
            ex:S a sh:NodeShape ; sh:targetClass ex:C ; ex:flag true .''',
        "select-validator": f'''ex:CC a sh:ConstraintComponent ; sh:parameter [ sh:path ex:flag ] ;
              sh:nodeValidator [ a sh:SPARQLSelectValidator ;
                sh:select """SELECT $this ?value WHERE {{ SERVICE#x\n<{url}> {{ ?s ?p ?value }} }}""" ] .
            ex:S a sh:NodeShape ; sh:targetClass ex:C ; ex:flag true .''',
        "prefix-declaration": f'''ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [
              sh:prefixes ex:decl ; sh:select "SELECT $this WHERE {{ $this a ex:C }}" ] .
            ex:decl sh:declare [ sh:prefix "ex" ;
              sh:namespace "http://example.org/> SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} #" ] .''',
    }


CASES = list(hostile_shapes("u", "b"))


def dry_run(shapes: str) -> str:
    """A SPARQL Update adding an instance of ex:C and ``shapes`` to the shapes graph."""
    return (HEAD + f"INSERT DATA {{ GRAPH <urn:x:data> {{ ex:a a ex:C ; ex:p 1 . }}\n"
            f"GRAPH <{SHAPES_GRAPH}> {{\n{shapes}\n}} }}")


def turtle(shapes: str) -> str:
    return "\n".join(line.replace("PREFIX ", "@prefix ") + " ." for line in HEAD.strip().splitlines()) + "\n" + shapes


def assert_refused(response: requests.Response, recorder: Recorder, status: int, *words: str) -> None:
    assert recorder.requests == [], f"the server called the recorder: {recorder.requests}"
    assert SECRET not in response.text
    assert response.status_code == status, response.text[:500]
    for word in words:
        assert word in response.text, response.text[:500]


@pytest.mark.parametrize("case", CASES)
def test_validate_with_token_refuses_shape_sparql_that_fetches(case: str, server: LiveServer,
                                                               recorder: Recorder) -> None:
    """/validate dry run with the token: every way of calling SERVICE from shapes is a 400 naming it."""
    shapes = hostile_shapes(recorder.url, recorder.base)[case]
    response = requests.post(server.url + "/validate", data=dry_run(shapes).encode(), timeout=TIMEOUT,
                             headers={"Content-Type": "application/sparql-update", "Accept": "application/json",
                                      **AUTH})
    expected = "not a prefix and an IRI" if case == "prefix-declaration" else "SERVICE"
    assert_refused(response, recorder, 400, expected)


@pytest.mark.parametrize("case", ["plain", "comment-newline", "prefixed-name", "select-validator"])
def test_anonymous_dry_run_may_not_change_the_shapes(case: str, server: LiveServer, recorder: Recorder) -> None:
    """Without the token, a /validate dry run that changes the shapes graph is 403 (policy: see README)."""
    shapes = hostile_shapes(recorder.url, recorder.base)[case]
    for accept in ("application/json", "text/html"):
        response = requests.post(server.url + "/validate", data=dry_run(shapes).encode(), timeout=TIMEOUT,
                                 headers={"Content-Type": "application/sparql-update", "Accept": accept})
        assert_refused(response, recorder, 403, "write token")


def test_anonymous_dry_run_may_not_drop_the_shapes(server: LiveServer, recorder: Recorder) -> None:
    stored = requests.put(server.url + "/store", params={"graph": SHAPES_GRAPH}, timeout=TIMEOUT,
                          data=turtle("ex:S a sh:NodeShape ; sh:targetClass ex:C .").encode(),
                          headers={"Content-Type": "text/turtle", **AUTH})
    assert stored.status_code == 201, stored.text[:500]  # created: the store holds no shapes before
    try:
        response = requests.post(server.url + "/validate", data=f"DROP GRAPH <{SHAPES_GRAPH}>".encode(),
                                 timeout=TIMEOUT, headers={"Content-Type": "application/sparql-update"})
        assert_refused(response, recorder, 403, "shapes graph")
    finally:
        requests.delete(server.url + "/store", params={"graph": SHAPES_GRAPH}, headers=AUTH, timeout=TIMEOUT)


@pytest.mark.parametrize("case", ["plain", "comment-newline", "prefixed-name", "ask-validator"])
def test_token_writes_of_shapes_refuse_the_same(case: str, server: LiveServer, recorder: Recorder) -> None:
    """The write paths (Graph Store PUT/POST, SPARQL Update) refuse those shapes; nothing is written."""
    shapes = hostile_shapes(recorder.url, recorder.base)[case]
    store_url = server.url + "/store"
    for method in ("PUT", "POST"):
        response = requests.request(method, store_url, params={"graph": SHAPES_GRAPH}, data=turtle(shapes).encode(),
                                    headers={"Content-Type": "text/turtle", **AUTH}, timeout=TIMEOUT)
        assert_refused(response, recorder, 400, "SERVICE")
    response = requests.post(server.sparql, data=dry_run(shapes).encode(), timeout=TIMEOUT,
                             headers={"Content-Type": "application/sparql-update", **AUTH})
    assert_refused(response, recorder, 400, "SERVICE")
    ask = requests.get(server.sparql, params={"query": f"ASK {{ GRAPH <{SHAPES_GRAPH}> {{ ?s ?p ?o }} }}"},
                       headers={"Accept": "application/sparql-results+json"}, timeout=TIMEOUT)
    assert ask.json()["boolean"] is False


def test_ingest_never_turns_a_batch_into_shapes(server: LiveServer, recorder: Recorder) -> None:
    """/ingest keeps every triple in its batch graph: shapes named in a TriG batch are data, never run.

    (Not a regression test of the fix — it held before — but the /ingest path of the brief.)
    """
    shapes = hostile_shapes(recorder.url, recorder.base)["comment-newline"]
    trig = turtle(f"<{SHAPES_GRAPH}> {{ {shapes} }}")
    response = requests.post(server.url + "/ingest", data=trig.encode(), timeout=TIMEOUT,
                             headers={"Content-Type": "application/trig", **AUTH})
    assert response.status_code == 201, response.text[:500]
    assert recorder.requests == []
    assert response.json()["graph"] != SHAPES_GRAPH


def test_benign_shape_sparql_still_validates(server: LiveServer, recorder: Recorder) -> None:
    """A SHACL-SPARQL constraint without SERVICE is accepted and runs (dry run with the token, then stored)."""
    shapes = '''ex:Labelled a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [
        sh:prefixes ex:decl ; sh:message "needs a label" ;
        sh:select """SELECT $this WHERE { FILTER NOT EXISTS { $this rdfs:label ?label } }""" ] .
      ex:decl sh:declare [ sh:prefix "rdfs" ; sh:namespace "http://www.w3.org/2000/01/rdf-schema#"^^xsd:anyURI ] .'''
    response = requests.post(server.url + "/validate", data=dry_run(shapes).encode(), timeout=TIMEOUT,
                             headers={"Content-Type": "application/sparql-update", "Accept": "application/json",
                                      **AUTH})
    assert response.status_code == 200, response.text[:500]
    report = response.json()
    assert report["conforms"] is False and report["violations"] == 1
    assert report["by_focus_node"][0]["results"][0]["message"] == "needs a label"
    stored = requests.put(server.url + "/store", params={"graph": SHAPES_GRAPH}, data=turtle(shapes).encode(),
                          headers={"Content-Type": "text/turtle", **AUTH}, timeout=TIMEOUT)
    assert stored.status_code == 201, stored.text[:500]  # created: the store holds no shapes before
    try:  # the stored SHACL-SPARQL runs for anonymous validations
        checked = requests.post(server.url + "/validate", data=turtle("ex:b a ex:C .").encode(), timeout=TIMEOUT,
                                headers={"Content-Type": "text/turtle", "Accept": "application/json"})
        assert checked.status_code == 200 and checked.json()["violations"] == 1, checked.text[:500]
    finally:
        requests.delete(server.url + "/store", params={"graph": SHAPES_GRAPH}, headers=AUTH, timeout=TIMEOUT)
    assert recorder.requests == []


@pytest.mark.slow  # runs a subprocess
def test_cli_validate_refuses_shapes_that_fetch(tmp_path: Path, recorder: Recorder) -> None:
    """``dprk-kg validate FILE`` (a TriG file naming the shapes graph): exit 2 with the reason, no request."""
    shapes = hostile_shapes(recorder.url, recorder.base)["comment-newline"]
    path = tmp_path / "shapes.trig"
    path.write_text(turtle(f"<{SHAPES_GRAPH}> {{ {shapes} }}\n<urn:x:data> {{ ex:a a ex:C . }}"))
    done = subprocess.run([sys.executable, "-m", "service", "validate", str(path)], cwd=REPO, capture_output=True,
                          text=True, timeout=180, preexec_fn=limit_memory(CONTAINED_MEMORY))
    assert recorder.requests == []
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "SERVICE" in done.stderr and "Traceback" not in done.stderr and SECRET not in done.stdout


# -- in process: the wall holds for stored shapes and at the engine itself ---------------------


def test_stored_shapes_that_fetch_are_refused_before_any_query(recorder: Recorder) -> None:
    """Shapes already in the store (e.g. written with --no-validate-writes) never run a SERVICE either."""
    from service.validation import validate_change
    from service.validation.shape_queries import ShapeQueryRefused

    store = ox.Store()
    shapes = turtle(hostile_shapes(recorder.url, recorder.base)["select-validator"])
    store.load(shapes.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(SHAPES_GRAPH))
    store.add(ox.Quad(ox.NamedNode("http://example.org/a"), ox.NamedNode(RDF_TYPE),
                      ox.NamedNode("http://example.org/C"), ox.NamedNode("urn:x:data")))
    with pytest.raises(ShapeQueryRefused, match="SERVICE"):
        validate_change(store, full=True)
    assert recorder.requests == []


def test_the_engine_refuses_a_query_that_fetches(recorder: Recorder) -> None:
    """Defence in depth: the validation's data graph checks every text pySHACL hands to an engine."""
    from service.validation.shape_queries import ShapeQueryRefused
    from service.validation.validate import _data_graph

    data = _data_graph([])
    for text in (f"SELECT * WHERE {{ SERVICE#x\n<{recorder.url}> {{ ?s ?p ?o }} }}",
                 f"SELECT * WHERE {{ \\u0053ERVICE <{recorder.url}> {{ ?s ?p ?o }} }}"):
        with pytest.raises(ShapeQueryRefused, match="SERVICE"):
            data.query(text)
    assert recorder.requests == []


def test_load_and_file_iris_in_shapes_are_refused() -> None:
    from service.validation.shape_queries import ShapeQueryRefused, check_query

    with pytest.raises(ShapeQueryRefused, match="LOAD"):
        check_query("LOAD SILENT <http://example.org/x>", "a test")
    with pytest.raises(ShapeQueryRefused, match="file:"):
        check_query("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "a test")
