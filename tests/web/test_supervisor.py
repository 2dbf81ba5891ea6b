"""SUPERVISE (``dprk-kg serve --supervise``): a small supervisor starts the serving process again whenever it dies,
passes SIGTERM on for a graceful stop, and gives up on a configuration that never comes up instead of looping.

Real processes: the supervisor, the serving process it starts, that one's store worker; every server runs under
``CONTAINED_MEMORY`` (which each of them inherits), every request and wait has a bound. Without SUPERVISE the tree is
the serving process and its store worker (``tests/web/test_servers.py``).
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
from pathlib import Path

import pytest

from service.web.supervisor import FAILED_STARTS_LIMIT, Supervisor
from tests.conftest import CONTAINED_MEMORY, REPO, LiveServer, free_port, limit_memory
from tests.process_helpers import alive, children, wait_gone

#: A query that runs for seconds on the bundled graph: still running when the stop signal comes.
SLOW_QUERY = ("SELECT (COUNT(*) AS ?n) WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 300 } "
              "{ SELECT ?a WHERE { ?a ?b ?c } LIMIT 3000 } FILTER(STR(?s) = STR(?a)) }")


def health(server: LiveServer) -> dict | None:
    """``/health``'s answer, or None while nothing answers."""
    try:
        with urllib.request.urlopen(server.url + "/health", timeout=2) as response:
            return json.loads(response.read()) if response.status == 200 else None
    except (OSError, ValueError):
        return None


def serving_child(server: LiveServer) -> int:
    """The serving process under the supervisor (its one child)."""
    kids = children(server.process.pid)
    assert len(kids) == 1, kids
    return kids[0]


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
def test_the_served_process_is_started_again_after_each_kill_9(make_live_server, server_name: str) -> None:
    server = make_live_server("--supervise", "--server", server_name, memory_limit=CONTAINED_MEMORY)
    supervisor = server.process.pid
    # The supervisor is a bare interpreter: no package of the service's environment is loaded into it.
    assert b"-I\0-S\0" in Path(f"/proc/{supervisor}/cmdline").read_bytes()
    assert "site-packages" not in Path(f"/proc/{supervisor}/maps").read_text()
    seen = {supervisor}
    for _ in range(3):  # three deaths in a row
        child = serving_child(server)
        assert child not in seen
        seen.add(child)
        assert health(server)["status"] == "ok"
        os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline:
            answer = health(server)
            kids = children(supervisor)
            if answer and kids and kids[0] != child:
                break
            time.sleep(0.2)
        assert answer and answer["status"] == "ok"
        assert alive(supervisor) and server.process.poll() is None
        assert serving_child(server) != child
    # The supervisor killed in turn: the serving process and its store worker end with it, nothing is left behind.
    last = [serving_child(server), int(health(server)["store_worker_pid"])]
    server.kill()
    assert wait_gone(last, timeout=30) == []


def test_sigterm_to_the_supervisor_stops_the_server_gracefully_and_exits_0(make_live_server, tmp_path: Path) -> None:
    server = make_live_server("--supervise", memory_limit=CONTAINED_MEMORY, log_file=tmp_path / "server.log")
    child = serving_child(server)
    store_worker = int(health(server)["store_worker_pid"])
    answers: list[int | str] = []

    def slow_query() -> None:
        url = f"{server.sparql}?{urllib.parse.urlencode({'query': SLOW_QUERY})}"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                response.read()
                answers.append(response.status)
        except (OSError, urllib.error.HTTPError) as exc:
            answers.append(repr(exc))

    query = threading.Thread(target=slow_query)
    query.start()
    time.sleep(1.0)  # the query is running in the serving process
    assert not answers, "the query ended before the stop signal: make it slower"
    server.process.send_signal(signal.SIGTERM)
    query.join(timeout=90)
    assert answers == [200]  # the query in flight was answered: the serving process stopped gracefully
    assert server.process.wait(timeout=60) == 0
    assert wait_gone([child, store_worker], timeout=30) == []
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "starting it again" not in log


@pytest.mark.slow
def test_a_server_that_never_comes_up_is_given_up(tmp_path: Path) -> None:
    """A data root without the bundle fails in the serving process only (SUPERVISE from the environment here)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(free_port()),
               "--store", str(tmp_path / "store"), "--data-root", str(empty)]
    done = subprocess.run(command, cwd=REPO, env={**os.environ, "DPRK_KG_SUPERVISE": "true"},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          preexec_fn=limit_memory(CONTAINED_MEMORY))
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr.count("started the server") == FAILED_STARTS_LIMIT
    assert done.stderr.count("lacks ontology/dprk-japan.ttl") == FAILED_STARTS_LIMIT  # the server's own reason
    assert f"before it was ready, {FAILED_STARTS_LIMIT} starts in a row; giving up" in done.stderr


def test_the_supervisors_json_lines_are_json(capfd) -> None:
    """LOG_FORMAT=json: the supervisor writes its lines without the json module; each is still one JSON object."""
    message = 'a "quoted" path C:\\x, a tab\tand a newline\n, and 日本'
    Supervisor(["/bin/true"], json_lines=True).log("ERROR", message)
    line = capfd.readouterr().err
    assert line.endswith("\n") and line.count("\n") == 1
    entry = json.loads(line)
    assert entry["message"] == message
    assert entry["level"] == "ERROR" and entry["logger"] == "dprk_kg.supervisor"
