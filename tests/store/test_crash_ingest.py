"""Durability and atomicity of ingest, with real processes and ``kill -9``.

* A batch answered 201 survives ``kill -9`` of the service (and of its store worker, which
  dies with it) and a restart on the same store folder.
* A service killed while it ingests a large batch leaves all of the batch or none of it:
  the batch graph, its provenance record, and its consequences in the derived graphs
  (the union default graph, the inferences) appear together or not at all. We kill at
  several points of a measured ingest (during parsing and validation, around the commit).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import WRITE_TOKEN, LiveServer
from tests.process_helpers import descendants, wait_gone

PREFIXES = """PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>
PREFIX djr: <https://w3id.org/dprk-japan-kg/id/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
PROVENANCE = "https://w3id.org/dprk-japan-kg/graph/provenance"
BATCH_PERSONS = 800  # 3,200 triples: long enough to be killed in the middle, short enough for a test


def batch(prefix: str, persons: int) -> bytes:
    lines = [f'<{prefix}p{i}> a dj:Person ; rdfs:label "Test person {i}"@en ; dct:source djr:doc-000 ; '
             f"dj:nationality djr:japan ." for i in range(persons)]
    return (PREFIXES + "\n".join(lines)).encode()


def post_ingest(server: LiveServer, body: bytes, timeout: float = 600) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(server.url + "/ingest", data=body, method="POST", headers={
        "Content-Type": "text/turtle", "Authorization": f"Bearer {WRITE_TOKEN}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def select(server: LiveServer, query: str) -> list[dict[str, str]]:
    url = server.sparql + "?query=" + urllib.parse.quote(PREFIXES + query)
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        rows = json.loads(response.read())["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in rows]


def state_of(server: LiveServer, prefix: str) -> dict[str, Any]:
    """What the store holds of the batch whose subjects start with ``prefix``."""
    graphs = select(server, f"""SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s a dj:Person }}
        FILTER(STRSTARTS(STR(?s), "{prefix}") && ?g != <https://w3id.org/dprk-japan-kg/graph/entailed>) }}
        GROUP BY ?g""")
    union = select(server, f'SELECT (COUNT(*) AS ?n) WHERE {{ ?s a dj:Person FILTER STRSTARTS(STR(?s), "{prefix}") }}')
    inferred = select(server, f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <https://w3id.org/dprk-japan-kg/graph/entailed>
        {{ ?s a dj:Agent FILTER STRSTARTS(STR(?s), "{prefix}") }} }}""")
    triples = {g["g"]: int(select(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g['g']}> {{ ?s ?p ?o }} }}")
                             [0]["n"]) for g in graphs}
    provenance = {g: bool(select(server, f"""SELECT ?t WHERE {{ GRAPH <{PROVENANCE}> {{
        <{g}> <http://www.w3.org/ns/prov#generatedAtTime> ?t }} }}""")) for g in triples}
    return {"graphs": triples, "provenance": provenance, "union": int(union[0]["n"]), "inferred": int(inferred[0]["n"])}


def assert_all_or_nothing(state: dict[str, Any], persons: int) -> str:
    """The batch is entirely there (graph, provenance, derived graphs) or not at all; returns which."""
    if not state["graphs"]:
        assert state["union"] == 0 and state["inferred"] == 0, state
        return "none"
    assert len(state["graphs"]) == 1, state
    [(graph, triples)] = state["graphs"].items()
    assert graph.startswith("https://w3id.org/dprk-japan-kg/graph/batch/"), graph
    assert triples == persons * 4, state
    assert state["provenance"][graph], "a committed batch has its provenance record"
    assert state["union"] == persons and state["inferred"] == persons, state
    return "all"


def kill_hard(server: LiveServer) -> None:
    """``kill -9`` the service and wait until its store worker (killed with it) is gone too."""
    workers = descendants(server.process.pid)
    assert workers, "the server runs its store worker in a process of its own"
    server.kill()
    assert wait_gone(workers, timeout=30) == [], "the store worker outlived its server"


def test_a_batch_answered_201_survives_kill_9_and_a_restart(
        make_live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    store = tmp_path / "store"
    server = make_live_server("--write-token", WRITE_TOKEN, store_dir=store)
    prefix = "http://example.org/durable/"
    status, body = post_ingest(server, batch(prefix, 5))
    assert status == 201, body
    kill_hard(server)
    restarted = make_live_server("--write-token", WRITE_TOKEN, store_dir=store)
    state = state_of(restarted, prefix)
    assert assert_all_or_nothing(state, 5) == "all"
    assert list(state["graphs"]) == [body["graph"]]


@pytest.fixture(scope="module")
def measured() -> dict[str, float]:
    return {}


@pytest.mark.parametrize("fraction", [0.15, 0.5, 0.8, 0.92, 0.96, 1.0, 1.04, 1.1])
def test_a_service_killed_during_an_ingest_leaves_all_or_nothing(
        make_live_server: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory,
        measured: dict[str, float], fraction: float) -> None:
    """Kill -9 at a fraction of the time a full ingest takes (measured once), restart, check."""
    store = measured.get("store") or tmp_path_factory.mktemp("crash-store")
    measured["store"] = store  # type: ignore[assignment]
    server = make_live_server("--write-token", WRITE_TOKEN, store_dir=Path(store))
    if "duration" not in measured:
        started = time.monotonic()
        status, body = post_ingest(server, batch("http://example.org/crash/baseline/", BATCH_PERSONS))
        measured["duration"] = time.monotonic() - started
        assert status == 201, body
    prefix = f"http://example.org/crash/f{fraction}/"
    body_bytes = batch(prefix, BATCH_PERSONS)
    outcome: dict[str, Any] = {}

    def send() -> None:
        with contextlib.suppress(Exception):
            outcome["response"] = post_ingest(server, body_bytes)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    time.sleep(measured["duration"] * fraction)
    kill_hard(server)
    sender.join(timeout=30)
    restarted = make_live_server("--write-token", WRITE_TOKEN, store_dir=Path(store))
    result = assert_all_or_nothing(state_of(restarted, prefix), BATCH_PERSONS)
    if outcome.get("response", (None,))[0] == 201:
        assert result == "all", "a batch answered 201 must survive"
    restarted.stop()
