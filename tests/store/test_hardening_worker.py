"""Issue 11, hole 4: one anonymous request must not crash the store worker, and a restart must not fail others.

* SPARQL text nested deeper than the lexer's MAX_NESTING_DEPTH is a 400 naming the limit,
  on every path that reaches an engine (queries by GET, form and direct POST, updates, the
  /validate dry run, and the store worker itself), and the store worker keeps running.
* When the store worker dies (``kill -9``, or a query that exhausts its memory bound),
  reads in flight are retried on the new worker and answered 200; a read that kills every
  worker is answered 503 after one retry; a write is never half-applied, and the answer
  says honestly whether it was applied.

Every server here, and the one child process that talks to a store worker directly, runs
under an address-space limit (CONTAINED_MEMORY or less) that its store worker inherits, so
nothing here can endanger the machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.sparql.lexer import MAX_NESTING_DEPTH, nesting_depth
from tests.conftest import CONTAINED_MEMORY, REPO, WRITE_TOKEN, LiveServer, limit_memory, start_live_server
from tests.process_helpers import wait_gone

#: Deeper than where pyoxigraph's parser overflowed its stack (about 3,000 levels of ``{``).
DEEP = 5000
#: A read that takes about half a second on the bundled graph: it is in flight when the worker dies.
SLOW_READ = "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?c . ?d a ?e }"
#: A read that exhausts any memory bound: it kills the worker each time it runs.
MEMORY_KILLER = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?f ?i"


def deep(opener: str, depth: int = DEEP, *, update: bool = False) -> str:
    """A query (or update) whose brackets of one kind nest ``depth`` levels deep."""
    if opener == "{":
        pattern = "{" * depth + " ?s ?p ?o " + "}" * depth
    elif opener == "(":
        pattern = "{ ?s ?p ?o FILTER(" + "(" * depth + "1" + ")" * depth + ") }"
    else:
        pattern = "{ ?s ?p " + "[ ?p " * depth + "?o" + " ]" * depth + " }"
    if update:
        return f"INSERT {{ GRAPH <http://example.org/g> {{ <http://example.org/s> <http://example.org/p> 1 }} }} " \
               f"WHERE {pattern}"
    return f"SELECT * WHERE {pattern}"


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 60) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def worker_pid(server: LiveServer) -> int:
    return int(json.loads(http("GET", server.url + "/health")[1])["store_worker_pid"])


def query(server: LiveServer, text: str, timeout: float = 60) -> tuple[int, str]:
    return http("POST", server.sparql, text.encode(), {"Content-Type": "application/sparql-query",
                                                       "Accept": "application/sparql-results+json"}, timeout)


AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[LiveServer]:
    """A writable server under CONTAINED_MEMORY, shared by the tests that leave its worker alive."""
    live = start_live_server(tmp_path_factory.mktemp("hardening-worker"), "--write-token", WRITE_TOKEN,
                             memory_limit=CONTAINED_MEMORY)
    yield live
    live.stop()


# -- the nesting limit --------------------------------------------------------------------------


def test_nesting_depth_counts_brackets_of_the_grammar_only() -> None:
    assert nesting_depth("SELECT * WHERE { { ?s ?p [ ?q ( 1 2 ) ] } }") == 4
    assert nesting_depth('SELECT * WHERE { ?s ?p "{{{{((((" } # {{{{{{{{') == 1
    assert nesting_depth("SELECT * WHERE { ?s ?p << ?a ?b ?c >> }") == 2


def test_the_canned_queries_nest_well_under_the_limit() -> None:
    depths = {path.name: nesting_depth(path.read_text(encoding="utf-8")) for path in (REPO / "queries").glob("*.rq")}
    assert depths and max(depths.values()) * 4 <= MAX_NESTING_DEPTH, depths


@pytest.mark.parametrize("opener", ["{", "(", "["])
def test_deep_nesting_is_a_400_on_every_path_and_the_worker_lives(server: LiveServer, opener: str) -> None:
    before = worker_pid(server)
    text = deep(opener)
    form = urllib.parse.urlencode({"query": text}).encode()
    answers = {
        "GET": http("GET", server.sparql + "?" + form.decode()),
        "POST form": http("POST", server.sparql, form, {"Content-Type": "application/x-www-form-urlencoded"}),
        "POST direct": query(server, text),
        "update": http("POST", server.sparql, deep(opener, update=True).encode(),
                       {"Content-Type": "application/sparql-update", **AUTH}),
        "update form": http("POST", server.sparql, urllib.parse.urlencode(
            {"update": deep(opener, update=True)}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", **AUTH}),
        "validate": http("POST", server.url + "/validate", deep(opener, update=True).encode(),
                         {"Content-Type": "application/sparql-update", "Accept": "application/json"}),
    }
    for path, (status, body) in answers.items():
        assert status == 400, (path, status, body[:300])
        assert "MAX_NESTING_DEPTH" in body and str(MAX_NESTING_DEPTH) in body, (path, body[:300])
    assert worker_pid(server) == before, "the store worker was restarted"


def test_nesting_at_the_limit_is_answered(server: LiveServer) -> None:
    status, body = query(server, deep("{", MAX_NESTING_DEPTH - 1))  # WHERE's own braces are the first level
    assert status == 200, body[:300]


def test_a_canned_parameter_cannot_carry_nesting(server: LiveServer) -> None:
    before = worker_pid(server)
    status, body = http("GET", server.url + "/queries/find-entity.json?text=" + urllib.parse.quote("{(" * 50))
    assert status == 200, body[:300]
    assert worker_pid(server) == before


_WORKER_CHECK = """
import json, sys
from service import config
from service.store.client import StoreError, open_store
from tests.store.test_hardening_worker import deep
store = open_store(config.resolve({"STORE_DIR": sys.argv[1], "LOAD_DATA": False}))
pid, kinds = store.pid, []
for opener in "{([":
    for run in (lambda: store.query(deep(opener)).read(), lambda: store.update(deep(opener, update=True))):
        try:
            run()
            kinds.append("answered")
        except StoreError as exc:
            kinds.append(exc.kind if "MAX_NESTING_DEPTH" in exc.message else exc.kind + ": " + exc.message[:80])
print(json.dumps({"kinds": kinds, "same_worker": store.ping()["pid"] == pid}))
store.close()
"""


@pytest.mark.slow  # runs a subprocess
def test_the_store_worker_refuses_deep_text_whoever_sends_it(tmp_path: Path) -> None:
    """The last line: a client of the worker that skips the web tier's guard still cannot crash it.

    Run in a child process under CONTAINED_MEMORY (its store worker inherits the limit).
    """
    child = subprocess.run([sys.executable, "-c", _WORKER_CHECK, str(tmp_path / "store")], cwd=REPO,
                           capture_output=True, text=True, timeout=120, preexec_fn=limit_memory(CONTAINED_MEMORY))
    assert child.returncode == 0, child.stderr[-2000:]
    assert json.loads(child.stdout.strip().splitlines()[-1]) == {"kinds": ["value"] * 6, "same_worker": True}


# -- restarts -----------------------------------------------------------------------------------


def _reader(server: LiveServer, text: str, stop: threading.Event, answers: list[tuple[int, str]]) -> None:
    """Ask ``text`` again and again until ``stop`` (few readers: within the server's admission limits)."""
    while not stop.is_set():
        answers.append(query(server, text, timeout=120))


def _start_readers(server: LiveServer) -> tuple[threading.Event, list[list[tuple[int, str]]], list[threading.Thread]]:
    """Two slow and two quick readers asking until the returned event is set; one answer list per reader."""
    stop = threading.Event()
    answers: list[list[tuple[int, str]]] = [[] for _ in range(4)]
    threads = [threading.Thread(target=_reader, args=(server, text, stop, mine))
               for text, mine in zip([SLOW_READ] * 2 + ["ASK { ?s ?p ?o }"] * 2, answers, strict=True)]
    for thread in threads:
        thread.start()
    return stop, answers, threads


def _stop_readers(stop: threading.Event, threads: list[threading.Thread]) -> None:
    stop.set()
    for thread in threads:
        thread.join(timeout=150)


def _each_answered_again(answers: list[list[tuple[int, str]]], counts: list[int], timeout: float = 120) -> None:
    """Wait until every reader has had an answer after the ``counts`` it had: its read in flight is done."""
    deadline = time.monotonic() + timeout
    while any(len(mine) <= seen for mine, seen in zip(answers, counts, strict=True)) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_reads_in_flight_when_the_worker_is_killed_are_retried(make_live_server: Any) -> None:
    """Two kills under concurrent reads: every read is answered 200 (retried once on the new worker).

    Between the kills the test waits until every read that was in flight at the first kill has been
    answered, so the second kill meets only reads not yet retried (a read killed twice is 503 by design:
    ``test_a_read_that_kills_every_worker_fails_alone``).
    """
    server = make_live_server(memory_limit=CONTAINED_MEMORY)
    first = worker_pid(server)
    stop, answers, threads = _start_readers(server)
    time.sleep(0.8)
    os.kill(first, signal.SIGKILL)  # the worker this test's server started
    counts = [len(mine) for mine in answers]
    assert wait_gone([first]) == []
    _each_answered_again(answers, counts)  # every read in flight at the first kill has been answered
    second = worker_pid(server)
    os.kill(second, signal.SIGKILL)
    time.sleep(1.5)
    _stop_readers(stop, threads)
    assert worker_pid(server) not in (first, second)
    failed = [(status, body[:200]) for mine in answers for status, body in mine if status != 200]
    assert all(answers) and not failed, failed


def test_requests_after_the_worker_died_idle_are_answered(make_live_server: Any) -> None:
    """Nobody was talking to the worker when it died: the next reads and writes find it gone and restart it."""
    server = make_live_server("--write-token", WRITE_TOKEN, memory_limit=CONTAINED_MEMORY)
    pid = worker_pid(server)
    os.kill(pid, signal.SIGKILL)
    assert wait_gone([pid]) == []
    answers: dict[str, tuple[int, str]] = {}

    def ask(name: str) -> None:
        answers[name] = query(server, "ASK { ?s ?p ?o }")

    def ingest() -> None:
        answers["write"] = http("POST", server.url + "/ingest", _batch("http://example.org/idle/", 5),
                                {"Content-Type": "text/turtle", "Accept": "application/json", **AUTH})

    threads = [threading.Thread(target=ask, args=(f"read{i}",)) for i in range(3)] + [threading.Thread(target=ingest)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert {name: status for name, (status, _) in answers.items()} == {
        "read0": 200, "read1": 200, "read2": 200, "write": 201}, answers
    assert _persons(server, "http://example.org/idle/") == 5


def test_a_read_that_kills_every_worker_fails_alone(make_live_server: Any) -> None:
    server = make_live_server(memory_limit=3 * 2**29)  # the killer reaches it sooner than CONTAINED_MEMORY
    first = worker_pid(server)
    stop, answers, threads = _start_readers(server)
    status, body = query(server, MEMORY_KILLER, timeout=120)
    _stop_readers(stop, threads)
    assert status == 503 and "retried once" in body, (status, body[:300])
    assert worker_pid(server) != first
    failed = [(s, b[:200]) for mine in answers for s, b in mine if s != 200]
    assert all(answers) and not failed, failed


# -- writes -------------------------------------------------------------------------------------

PREFIXES = """PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>
PREFIX djr: <https://w3id.org/dprk-japan-kg/id/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def _batch(prefix: str, persons: int) -> bytes:
    lines = [f'<{prefix}p{i}> a dj:Person ; rdfs:label "Test person {i}"@en ; dct:source djr:doc-000 ; '
             f"dj:nationality djr:japan ." for i in range(persons)]
    return (PREFIXES + "\n".join(lines)).encode()


def _persons(server: LiveServer, prefix: str) -> int:
    status, body = query(server, PREFIXES + f"""SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a dj:Person }}
        FILTER(STRSTARTS(STR(?s), "{prefix}") && ?g != <https://w3id.org/dprk-japan-kg/graph/entailed>) }}""")
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_a_write_killed_before_its_commit_is_answered_not_applied(make_live_server: Any) -> None:
    server = make_live_server("--write-token", WRITE_TOKEN, memory_limit=CONTAINED_MEMORY)
    prefix = "http://example.org/killed/"
    pid = worker_pid(server)
    answer: list[tuple[int, str]] = []
    writer = threading.Thread(target=lambda: answer.append(http(
        "POST", server.url + "/ingest", _batch(prefix, 800),
        {"Content-Type": "text/turtle", "Accept": "application/json", **AUTH}, timeout=300)))
    writer.start()
    time.sleep(0.5)  # parsing and validating 3,200 triples takes seconds: the commit is far away
    os.kill(pid, signal.SIGKILL)
    writer.join(timeout=300)
    status, body = answer[0]
    assert status == 503 and "nothing of it was applied" in body, (status, body[:300])
    assert _persons(server, prefix) == 0


def test_concurrent_writes_are_whole_or_absent_across_a_kill(make_live_server: Any) -> None:
    server = make_live_server("--write-token", WRITE_TOKEN, memory_limit=CONTAINED_MEMORY)
    pid = worker_pid(server)
    results: dict[str, tuple[int, str]] = {}

    def write(name: str) -> None:
        results[name] = http("POST", server.url + "/ingest", _batch(f"http://example.org/{name}/", 20),
                             {"Content-Type": "text/turtle", "Accept": "application/json", **AUTH}, timeout=300)

    writers = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(8)]
    for i, thread in enumerate(writers):
        thread.start()
        if i == 3:
            time.sleep(0.3)
            os.kill(pid, signal.SIGKILL)
    for thread in writers:
        thread.join(timeout=300)
    assert len(results) == len(writers)
    for name, (status, body) in results.items():
        count = _persons(server, f"http://example.org/{name}/")
        assert count in (0, 20), (name, count)  # never half-applied
        if 200 <= status < 300:
            assert count == 20, (name, status)
        else:
            assert status == 503, (name, status, body[:300])
            if "nothing of it was applied" in body:
                assert count == 0, name
