"""Bounded load-and-``kill -9`` run: every acknowledged write must survive, under reads, writes and attacks.

Why: the service promises that a write it acknowledged (2xx) is on disk — whatever happens
next, including ``kill -9`` of the whole service mid-load — and that no attack from the
corpus (``tests/attacks/``) turns into a server error. This starts ``dprk-kg serve`` (a free
port, an address-space limit, a write token), runs concurrent readers, writers (each write
carries a unique marker triple) and attackers for a bounded time and number of requests,
``kill -9``s the serve process (its store worker dies with it) one or more times mid-load,
restarts it on the same store each time, and at the end kills it once more, restarts it and
reads back every marker.

    python bench/durability.py                         # 20 s, 2 kills mid-load
    python bench/durability.py --duration 60 --kills 4 --json out.json

Prints acknowledged vs present writes, the 5xx count, connection failures (expected while
the server is down) and p50/p99 latencies per kind. Exit code 1 if an acknowledged write is
missing, 2 for bad usage. Stops by itself: at ``--duration`` seconds or ``--max-requests``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.attacks import corpus  # noqa: E402 (after the path set-up)
from tests.conftest import CONTAINED_MEMORY, WRITE_TOKEN, LiveServer, start_live_server  # noqa: E402

GRAPH = "urn:dprk-kg:durability"
MARKER = "urn:dprk-kg:durability:marker:"
PREDICATE = "urn:dprk-kg:durability:seq"
READS = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 20",
    "ASK { ?s a ?type }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    f"SELECT ?m WHERE {{ GRAPH <{GRAPH}> {{ ?m <{PREDICATE}> ?n }} }} LIMIT 5",
]


@dataclass
class Tally:
    """What the load saw; shared by the load threads (guarded by ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    acknowledged: set[int] = field(default_factory=set)
    attempted: set[int] = field(default_factory=set)
    server_errors: list[str] = field(default_factory=list)
    overloaded: int = 0  # of the 5xx: 503 with Retry-After (admission control shedding load, by design)
    connection_failures: int = 0
    refused_writes: list[str] = field(default_factory=list)
    unexpected_attacks: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"read": [], "write": [], "attack": []})


class Run:
    """The server (replaced on each restart), the budget, and the tally."""

    def __init__(self, args: argparse.Namespace, store: Path) -> None:
        self.args = args
        self.store = store
        self.tally = Tally()
        self.deadline = float("inf")  # set when the load starts
        self.stop = threading.Event()
        self.up = threading.Event()
        self.server: LiveServer | None = None
        self.canary = corpus.Canary()
        self.attacks = [a for a in corpus.load_all() if a.timeout <= 30]
        self.next_marker = 0
        self.deaths = 0  # times the service went down by itself (not our kill) and was restarted
        self.restart_lock = threading.Lock()

    def start(self) -> None:
        self.server = start_live_server(self.store, "--write-token", WRITE_TOKEN, "--max-body-bytes", "65536",
                                        "--query-timeout", "3", memory_limit=CONTAINED_MEMORY)
        self.up.set()

    def kill(self) -> None:
        self.up.clear()
        assert self.server is not None
        self.server.kill()  # SIGKILL of the serve process: no shutdown code runs anywhere

    def watch(self) -> None:
        """Restart the service if it died by itself (as a process supervisor would), counting it."""
        while not self.stop.wait(0.5):
            with self.restart_lock:
                server = self.server
                if self.up.is_set() and server is not None and server.process.poll() is not None:
                    self.deaths += 1
                    self.up.clear()
                    self.start()

    def budget_left(self) -> bool:
        with self.tally.lock:
            if self.tally.requests >= self.args.max_requests:
                return False
            self.tally.requests += 1
        return not self.stop.is_set() and time.monotonic() < self.deadline

    # -- one request of each kind -------------------------------------------------------------

    def _http(self, kind: str, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> int | None:
        """Status of one request (``None``: no answer — the server was down); records its latency."""
        if not self.up.wait(timeout=30) or self.server is None:
            return None
        request = urllib.request.Request(self.server.url + path, data=body, method=method, headers=headers or {})
        started = time.perf_counter()
        detail = ""
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            detail = error.read()[:160].decode("utf-8", "replace").strip()
            status = error.code
            if status == 503 and error.headers.get("Retry-After"):
                with self.tally.lock:
                    self.tally.overloaded += 1
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            with self.tally.lock:
                self.tally.connection_failures += 1
            return None
        with self.tally.lock:
            self.tally.latencies[kind].append(time.perf_counter() - started)
            if status >= 500:
                self.tally.server_errors.append(f"{kind} {method} {path[:60]}: {status} {detail}")
        return status

    def read(self, rng: random.Random) -> None:
        query = rng.choice(READS)
        self._http("read", "GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                   headers={"Accept": "application/sparql-results+json"})

    def write(self, rng: random.Random) -> None:
        with self.tally.lock:
            n = self.next_marker
            self.next_marker += 1
            self.tally.attempted.add(n)
        triple = f'<{MARKER}{n}> <{PREDICATE}> "{n}" .'
        auth = {"Authorization": f"Bearer {WRITE_TOKEN}"}
        if rng.random() < 0.5:  # half through SPARQL Update, half through the Graph Store Protocol
            update = f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {triple} }} }}"
            status = self._http("write", "POST", "/sparql", update.encode(),
                                {**auth, "Content-Type": "application/sparql-update"})
        else:
            status = self._http("write", "POST", "/store?" + urllib.parse.urlencode({"graph": GRAPH}),
                                triple.encode(), {**auth, "Content-Type": "text/turtle"})
        with self.tally.lock:
            if status is not None and 200 <= status < 300:
                self.tally.acknowledged.add(n)
            elif status is not None and status < 500:
                self.tally.refused_writes.append(f"marker {n}: {status}")

    def attack(self, rng: random.Random) -> None:
        attack = rng.choice(self.attacks)
        if not self.up.wait(timeout=30) or self.server is None:
            return
        started = time.perf_counter()
        try:
            answer = corpus.send(attack, self.server.url, self.canary.address)
        except (OSError, TimeoutError):
            with self.tally.lock:
                self.tally.connection_failures += 1
            return
        with self.tally.lock:
            self.tally.latencies["attack"].append(time.perf_counter() - started)
            if answer.status == 0:  # the server went away mid-request (a kill): not the attack's doing
                self.tally.connection_failures += 1
            elif answer.status >= 500 and answer.status not in attack.status:
                if answer.status == 503 and "retry-after" in answer.headers:
                    self.tally.overloaded += 1
                self.tally.server_errors.append(f"attack {attack.name}: {answer.status} {answer.text()[:160]}")
            elif answer.status not in attack.status:
                self.tally.unexpected_attacks.append(f"{attack.name}: {answer.status} (expected {attack.status})")

    def worker(self, kind: str, seed: int) -> None:
        rng = random.Random(seed)
        action = {"read": self.read, "write": self.write, "attack": self.attack}[kind]
        while self.budget_left():
            action(rng)

    # -- the run ------------------------------------------------------------------------------

    def present_markers(self) -> set[int]:
        assert self.server is not None
        query = f"SELECT ?n WHERE {{ GRAPH <{GRAPH}> {{ ?m <{PREDICATE}> ?n }} }}"
        url = self.server.sparql + "?" + urllib.parse.urlencode({"query": query})
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "text/csv"}), timeout=60) as r:
            lines = r.read().decode().split()
        return {int(v) for v in lines[1:]}

    def run(self) -> dict:
        args = self.args
        self.start()
        threads = [threading.Thread(target=self.worker, args=(kind, i), daemon=True)
                   for i, kind in enumerate(["read"] * args.readers + ["write"] * args.writers
                                            + ["attack"] * args.attackers)]
        started = time.monotonic()
        self.deadline = started + args.duration
        for thread in threads:
            thread.start()
        watcher = threading.Thread(target=self.watch, daemon=True)
        watcher.start()
        kills = 0
        for k in range(1, args.kills + 1):  # evenly spread over the run
            at = started + args.duration * k / (args.kills + 1)
            while time.monotonic() < at and any(t.is_alive() for t in threads):
                time.sleep(0.05)
            if not any(t.is_alive() for t in threads):
                break
            with self.restart_lock:
                self.kill()
                kills += 1
                self.start()
        for thread in threads:
            thread.join(timeout=args.duration + 120)
        self.stop.set()
        watcher.join()
        elapsed = time.monotonic() - started
        self.kill()  # a last kill -9 after the load: nothing acknowledged may depend on a clean stop
        kills += 1
        self.start()
        try:
            present = self.present_markers()
        finally:
            assert self.server is not None
            self.server.stop()
            self.canary.close()
        t = self.tally
        missing = sorted(t.acknowledged - present)

        def quantiles(values: list[float]) -> dict:
            if not values:
                return {"count": 0}
            values = sorted(values)
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
            return {"count": len(values), "p50_ms": round(statistics.median(values) * 1000, 1),
                    "p99_ms": round(p99 * 1000, 1)}

        return {
            "duration_s": round(elapsed, 1), "requests": t.requests, "kills": kills, "deaths": self.deaths,
            "writes": {"attempted": len(t.attempted), "acknowledged": len(t.acknowledged),
                       "present": len(t.acknowledged & present), "missing": missing[:50],
                       "unacknowledged_present": len((t.attempted - t.acknowledged) & present),
                       "refused": len(t.refused_writes), "refused_examples": t.refused_writes[:5]},
            "server_errors": len(t.server_errors), "overloaded": t.overloaded,
            "server_error_examples": sorted(set(t.server_errors), key=t.server_errors.index)[:10],
            "connection_failures": t.connection_failures,
            "attacks_unexpected": len(t.unexpected_attacks), "attack_examples": t.unexpected_attacks[:10],
            "canary_connections": self.canary.connections,
            "latency": {kind: quantiles(v) for kind, v in t.latencies.items()},
        }


def render(report: dict) -> str:
    w = report["writes"]
    lines = [
        f"duration {report['duration_s']} s, {report['requests']} requests, {report['kills']} kill -9, "
        f"{report['deaths']} deaths of the service by itself (restarted)",
        f"writes: {w['acknowledged']} acknowledged, {w['present']} present after the last restart"
        f" ({len(w['missing'])} missing; {w['attempted']} attempted, {w['refused']} refused with 4xx,"
        f" {w['unacknowledged_present']} unacknowledged but present)",
        f"5xx: {report['server_errors']} (of which 503 + Retry-After, load shed: {report['overloaded']})"
        f"   connection failures (server down): {report['connection_failures']}"
        f"   attacks answered otherwise than expected: {report['attacks_unexpected']}"
        f"   canary connections: {report['canary_connections']}",
    ]
    for kind, q in report["latency"].items():
        if q["count"]:
            lines.append(f"latency {kind}: p50 {q['p50_ms']} ms, p99 {q['p99_ms']} ms ({q['count']} answered)")
    for example in report["server_error_examples"] + report["attack_examples"]:
        lines.append(f"  {example}")
    if w["missing"]:
        lines.append(f"MISSING acknowledged writes: {w['missing']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load (default 20)")
    parser.add_argument("--max-requests", type=int, default=20000, help="stop after this many requests")
    parser.add_argument("--kills", type=int, default=2, help="kill -9 mid-load this many times (default 2)")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--attackers", type=int, default=1)
    parser.add_argument("--store", type=Path, help="store folder (default: a fresh temporary one, removed)")
    parser.add_argument("--json", type=Path, help="also write the report here as JSON")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.kills < 0 or args.max_requests < 1:
        parser.error("--duration must be > 0, --kills >= 0, --max-requests >= 1")
    folder = Path(tempfile.mkdtemp(prefix="dprk-durability-"))
    try:
        report = Run(args, args.store or folder / "store").run()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if report["writes"]["missing"] else 0  # deaths and 5xx are reported, not (yet) fatal


if __name__ == "__main__":
    sys.exit(main())
