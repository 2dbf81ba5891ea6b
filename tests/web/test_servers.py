"""Both production WSGI servers (``--server granian``, the default, and ``--server waitress``) serve the
same answers over a real socket, and with granian no process outlives the one that was started (granian
serves from a thread of it; the store worker is its one child) — after a polite stop or a ``kill -9``."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import quote

import pytest

from tests.process_helpers import descendants, wait_gone

QUERY = ("SELECT ?p ?o WHERE { <https://w3id.org/dprk-japan-kg/id/kim-jong-il> ?p ?o } ORDER BY ?p ?o")


def fetch(url: str, accept: str = "application/sparql-results+json") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_granian_and_waitress_give_the_same_answers(make_live_server) -> None:
    answers = {}
    for server_name in ("granian", "waitress"):
        server = make_live_server("--server", server_name)
        status, headers, body = fetch(f"{server.sparql}?query={quote(QUERY)}")
        assert status == 200 and headers["content-type"] == "application/sparql-results+json"
        assert headers["server"] == ("granian" if server_name == "granian" else "dprk-kg")
        answers[server_name] = body
        status, headers, body = fetch(f"{server.sparql}?query={quote(QUERY)}", accept="text/csv")
        assert status == 200 and body.startswith(b"p,o\r\n")
        server.stop()
    assert answers["granian"] == answers["waitress"]
    assert len(json.loads(answers["granian"])["results"]["bindings"]) > 5


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_no_process_outlives_the_server(make_live_server, how: str) -> None:
    server = make_live_server()
    store_worker = int(json.loads(fetch(server.url + "/health")[2])["store_worker_pid"])
    tree = descendants(server.process.pid)
    assert tree == [store_worker]  # granian's worker is a thread of the serve process, not a process
    server.stop() if how == "stop" else server.kill()
    assert wait_gone(tree) == []
    # The store is free again: a new server opens it and still has the data.
    again = make_live_server(store_dir=server.store_dir)
    status, _, body = fetch(f"{again.sparql}?query={quote(QUERY)}")
    assert status == 200 and json.loads(body)["results"]["bindings"]
