"""An acknowledged write survives ``kill -9`` of the service; a body over the limit is refused by us.

Real processes on a real socket: the service is killed with SIGKILL (its store worker dies
with it), restarted on the same store directory, and asked for what it acknowledged.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request

from tests.conftest import WRITE_TOKEN, start_live_server

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
GRAPH = "https://w3id.org/dprk-japan-kg/graph/test-durability"


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def ask(server, query: str) -> bool:
    status, body = http("GET", server.sparql + "?" + urllib.parse.urlencode({"query": query}),
                        headers={"Accept": "application/sparql-results+json"})
    assert status == 200, body
    return b'"boolean":true' in body.replace(b" ", b"")


def test_acknowledged_writes_survive_kill_9(make_live_server, tmp_path):
    store_dir = tmp_path / "store"
    server = make_live_server("--no-data", "--write-token", WRITE_TOKEN, "--no-validate-writes", store_dir=store_dir)
    status, body = http("PUT", f"{server.url}/store?graph={urllib.parse.quote(GRAPH, safe='')}",
                        b"<http://example.org/a> <http://example.org/p> 'put' .",
                        {**AUTH, "Content-Type": "text/turtle"})
    assert status == 201, body
    status, body = http("POST", server.sparql, b"INSERT DATA { GRAPH <" + GRAPH.encode() +
                        b"> { <http://example.org/b> <http://example.org/p> 'update' } }",
                        {**AUTH, "Content-Type": "application/sparql-update"})
    assert status == 204, body  # an update that is done answers 204 No Content

    server.kill()  # SIGKILL: no shutdown code runs
    restarted = start_live_server(store_dir, "--no-data", "--write-token", WRITE_TOKEN)
    try:
        assert ask(restarted, f"ASK {{ GRAPH <{GRAPH}> {{ <http://example.org/a> ?p 'put' }} }}")
        assert ask(restarted, f"ASK {{ GRAPH <{GRAPH}> {{ <http://example.org/b> ?p 'update' }} }}")
        assert ask(restarted, "ASK { <http://example.org/b> ?p 'update' }"), "the union default graph too"
    finally:
        restarted.stop()


def test_the_service_itself_refuses_a_body_over_the_limit(make_live_server):
    server = make_live_server("--max-body-bytes", "1000")
    status, body = http("POST", server.sparql, b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * 5000,
                        {"Content-Type": "application/sparql-query", "Accept": "text/plain"})
    assert status == 413
    assert b"MAX_BODY_BYTES" in body and b"1000" in body
    assert os.path.isdir(server.store_dir)
