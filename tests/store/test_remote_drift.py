"""Several instances on one store, beyond their own writes: writes behind the service's back, shared ETags, and
instances started together on an empty store.

What an operator relies on: a write made to the store by another client (not through the service) is found — by
``dprk-kg store-check`` (exit 1, naming the difference) and by the next guarded write (a warning, a metric, and a new
version so every instance's caches are emptied) — and ``store-check --refresh`` accepts it (exit 0, caches refresh);
an ETag from one instance is answered 304 by another while the store is unchanged, and never across a change; two
instances started at once on an empty store load the bundled graph once. All servers are real processes on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, WRITE_TOKEN, LiveServer, OxigraphServer, start_live_server, start_oxigraph
from tests.store.test_remote import PREFIXES, HttpClient, direct_count
from tests.store.test_remote_concurrency import PERSON, TTL, direct_update, sparql_get, update, wait_until

HOST = {"Host": "kg.example.org"}  # what a reverse proxy in front of both instances passes on


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[OxigraphServer]:
    server = start_oxigraph(tmp_path_factory.mktemp("drift-oxigraph") / "data")
    yield server
    server.stop()


def _start(path: Path, oxigraph: OxigraphServer, log_file: Path | None = None) -> LiveServer:
    return start_live_server(path, "--store-url", oxigraph.query_url, "--update-url", oxigraph.update_url,
                             "--graph-store-url", oxigraph.store_url, log_file=log_file,
                             env={"DPRK_KG_WRITE_TOKEN": WRITE_TOKEN, "DPRK_KG_STORE_VERSION_TTL": str(TTL)})


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory, oxigraph: OxigraphServer) -> Iterator[list[HttpClient]]:
    servers: list[LiveServer] = []
    try:
        for name in ("a", "b"):
            servers.append(_start(tmp_path_factory.mktemp(f"drift-{name}") / "store", oxigraph))
        yield [HttpClient(s.url) for s in servers]
    finally:
        for server in servers:
            server.stop()


def store_check(oxigraph: OxigraphServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service", "store-check", "--store-url", oxigraph.query_url,
                           "--update-url", oxigraph.update_url, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def outside_writes(http: HttpClient) -> float:
    text = http.get("/metrics").get_data(as_text=True)
    return float(next(line.split()[-1] for line in text.splitlines()
                      if line.startswith("dprk_kg_store_outside_writes_total")))


def marker_query(marker: str) -> str:
    return f'ASK {{ GRAPH ?g {{ djr:zhang-liangui rdfs:comment "{marker}" }} }}'


def cached_false(http: HttpClient, marker: str) -> None:
    """``http`` keeps the answer 'no such comment' in its result cache."""
    for _ in range(2):
        answer = sparql_get(http, marker_query(marker))
    assert answer.headers.get("X-Cache") == "hit" and answer.get_json()["boolean"] is False


def write_behind_the_back(oxigraph: OxigraphServer, marker: str) -> None:
    direct_update(oxigraph, PREFIXES + f'INSERT DATA {{ GRAPH <http://example.org/outside-{marker}> '
                                       f'{{ djr:zhang-liangui rdfs:comment "{marker}" }} }}')


def test_a_write_behind_the_services_back_is_found_and_refreshes_the_caches(
        instances: list[HttpClient], oxigraph: OxigraphServer) -> None:
    a, b = instances
    first = update(a, PERSON.format(graph=f"drift-{uuid.uuid4().hex[:8]}"))  # records the dataset's fingerprint
    assert first.status_code == 204, first.get_data(as_text=True)
    checked = store_check(oxigraph)
    assert checked.returncode == 0, checked.stderr

    marker = f"outside-{uuid.uuid4().hex[:8]}"
    cached_false(b, marker)
    write_behind_the_back(oxigraph, marker)
    checked = store_check(oxigraph)
    assert checked.returncode == 1, (checked.stdout, checked.stderr)
    assert "behind the service's back" in checked.stderr and "(+1)" in checked.stderr, checked.stderr
    time.sleep(3 * TTL)  # the version did not move: b's cache still answers from before the outside write
    assert sparql_get(b, marker_query(marker)).get_json()["boolean"] is False

    found = outside_writes(a)
    written = update(a, PERSON.format(graph=f"drift-{uuid.uuid4().hex[:8]}"))  # the next guarded write finds it
    assert written.status_code == 204, written.get_data(as_text=True)
    assert outside_writes(a) == found + 1
    wait_until(lambda: sparql_get(b, marker_query(marker)).get_json()["boolean"] is True)
    assert store_check(oxigraph).returncode == 0, "the write did not record the store as it found it"

    marker = f"outside-{uuid.uuid4().hex[:8]}"
    cached_false(b, marker)
    write_behind_the_back(oxigraph, marker)
    assert store_check(oxigraph).returncode == 1
    refreshed = store_check(oxigraph, "--refresh")
    assert refreshed.returncode == 0, (refreshed.stdout, refreshed.stderr)
    assert "replaced its version" in refreshed.stdout
    checked = store_check(oxigraph)
    assert checked.returncode == 0, checked.stderr
    wait_until(lambda: sparql_get(b, marker_query(marker)).get_json()["boolean"] is True)


def test_store_check_says_when_the_store_cannot_be_read(tmp_path: Path) -> None:
    from tests.conftest import free_port

    checked = subprocess.run([sys.executable, "-m", "service", "store-check", "--store-url",
                              f"http://127.0.0.1:{free_port()}/query"], cwd=REPO, capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL)
    assert checked.returncode == 3 and "could not check the store" in checked.stderr, checked.stderr


def test_an_etag_from_one_instance_is_304_at_the_other_until_the_store_changes(
        instances: list[HttpClient]) -> None:
    a, b = instances
    query = {"query": PREFIXES + "SELECT ?o WHERE { djr:zhang-liangui rdfs:label ?o } ORDER BY ?o"}
    headers = {**HOST, "Accept": "application/sparql-results+json"}
    first = a.get("/sparql", query_string=query, headers=headers)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    for http in (b, a):
        again = http.get("/sparql", query_string=query, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304, (again.status_code, again.headers.get("ETag"), etag)
    written = update(a, PERSON.format(graph=f"etag-{uuid.uuid4().hex[:8]}"))
    assert written.status_code == 204, written.get_data(as_text=True)
    for http in (a, b):  # the store changed: never 304 to the old ETag (b within STORE_VERSION_TTL)
        wait_until(lambda http=http: http.get("/sparql", query_string=query,
                                              headers={**headers, "If-None-Match": etag}).status_code == 200)
    fresh = b.get("/sparql", query_string=query, headers=headers).headers["ETag"]
    assert fresh != etag
    assert a.get("/sparql", query_string=query, headers={**headers, "If-None-Match": fresh}).status_code == 304


def test_two_instances_started_at_once_on_an_empty_store_load_it_once(
        tmp_path: Path, starts_processes: None) -> None:
    single = start_oxigraph(tmp_path / "single")
    try:
        server = _start(tmp_path / "s0", single)
        server.stop()
        expected = direct_count(single)
    finally:
        single.stop()
    shared = start_oxigraph(tmp_path / "shared")
    servers: list[LiveServer] = []
    errors: list[BaseException] = []
    logs = [tmp_path / "a.log", tmp_path / "b.log"]

    def start(n: int) -> None:
        try:
            servers.append(_start(tmp_path / f"s{n + 1}", shared, log_file=logs[n]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=start, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not errors, errors
        assert len(servers) == 2
        loads = sum(log.read_text().count("loaded the bundled graph into the remote store") for log in logs)
        assert direct_count(shared) == expected, "the store does not hold the bundled graph once"
        assert loads == 1, f"the bundled graph was loaded {loads} times"
    finally:
        for server in servers:
            server.stop()
        shared.stop()
