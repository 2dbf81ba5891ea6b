"""The attack corpus (``tests/attacks/*.toml``) against one live server: each attack is a test case.

Why one real server over a raw socket: the campaign's holes were in the whole stack (framing,
granian, the web worker, the store worker), so each attack goes on the wire exactly as its
file says, to ``dprk-kg serve`` running under an address-space limit (``CONTAINED_MEMORY``,
inherited by its store worker: an attack that gets past a defence fails inside the server,
never on the machine), with a small body cap, a short query timeout and a write token.

After every attack: the answer is the expected one (status, message), no server error, the
canary listener that SERVICE/LOAD/``@context``/XXE attacks aim at saw no connection, the
service still answers ``/health``, and the store holds exactly what it held before. An
attack that takes the service down fails, and the server is restarted on the same store so
that the attacks after it are still judged. Adding an attack is adding a file (see
``tests/attacks/README.md``).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.attacks import corpus
from tests.conftest import CONTAINED_MEMORY, WRITE_TOKEN, LiveServer, start_live_server

#: Small limits, so that the body and time attacks are cheap to send and quick to judge.
MAX_BODY_BYTES = 65536
QUERY_TIMEOUT = 3
SERVER_ARGS = ("--write-token", WRITE_TOKEN, "--max-body-bytes", str(MAX_BODY_BYTES),
               "--query-timeout", str(QUERY_TIMEOUT), "--update-timeout", "20")
ATTACKS = corpus.load_all()


def health(url: str, within: float = 20.0) -> bool:
    """True once ``/health`` answers 200 (the store worker may be restarting after an attack)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    return False


@dataclass
class Target:
    """The server under attack, the canary, and what the store held after the last attack."""

    server: LiveServer
    canary: corpus.Canary
    initial_hash: str
    last_hash: str
    casualties: list[str] = field(default_factory=list)  # attacks after which the service was down

    def ensure_up(self, after: str) -> bool:
        """True if the service answers; otherwise note ``after`` and restart it on the same store."""
        if self.server.process.poll() is None and health(self.server.url):
            return True
        self.casualties.append(after)
        self.server.kill()
        self.server = start_live_server(self.server.store_dir, *SERVER_ARGS, memory_limit=CONTAINED_MEMORY)
        return False


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[Target]:
    server = start_live_server(tmp_path_factory.mktemp("attack-store"), *SERVER_ARGS, memory_limit=CONTAINED_MEMORY)
    canary = corpus.Canary()
    digest = corpus.store_hash(server.url)
    holder = Target(server, canary, digest, digest)
    yield holder
    holder.server.stop()
    canary.close()


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(target: Target, attack: corpus.Attack) -> None:
    before = target.canary.connections
    try:
        answer = corpus.send(attack, target.server.url, target.canary.address)
        problems = corpus.judge(attack, answer)
    except TimeoutError:
        problems = [f"no answer within {attack.timeout:g} s"]
    if attack.no_fetch and target.canary.connections != before:
        problems.append(f"the service connected to the canary {target.canary.connections - before} time(s)")
    if not target.ensure_up(attack.name):
        problems.append("the service was down after this attack (restarted for the next ones)")
    elif attack.unchanged:
        digest = corpus.store_hash(target.server.url)
        if digest != target.last_hash:
            problems.append("the store's content changed")
        target.last_hash = digest
    assert not problems, f"{attack.name} ({attack.description}):\n  " + "\n  ".join(problems)


def test_the_service_is_up_and_the_store_unchanged_after_the_whole_corpus(target: Target) -> None:
    assert health(target.server.url), "the service no longer answers /health"
    assert not target.casualties, f"the service went down after: {', '.join(target.casualties)}"
    if all(a.unchanged for a in ATTACKS):
        assert corpus.store_hash(target.server.url) == target.initial_hash


def test_load_silent_between_other_operations_is_skipped_and_they_are_applied(target: Target) -> None:
    """``INSERT; LOAD SILENT <canary>; INSERT``: 204, both inserts applied, nothing fetched (runs last: it writes)."""
    graph = "http://example.org/load-silent"
    update = (f"PREFIX e: <http://example.org/> INSERT DATA {{ GRAPH <{graph}> {{ e:a e:p 1 }} }} ;\n"
              f"LOAD SILENT <http://{target.canary.address}/data.ttl> INTO GRAPH <{graph}> ;\n"
              f"INSERT DATA {{ GRAPH <{graph}> {{ e:b e:p 2 }} }}")
    before = target.canary.connections
    request = urllib.request.Request(target.server.sparql, data=update.encode(), method="POST", headers={
        "Content-Type": "application/sparql-update", "Authorization": f"Bearer {WRITE_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 204
    assert target.canary.connections == before
    query = f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} ORDER BY ?s"
    url = target.server.sparql + "?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "text/csv"}), timeout=30) as response:
        assert response.read().decode().split() == ["s", "http://example.org/a", "http://example.org/b"]
