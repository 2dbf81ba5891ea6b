"""This service against the standalone Oxigraph server: same data, same queries, same run.

Why side by side in one run: absolute figures depend on the machine; the ratio
ours/Oxigraph on the same machine, same data and same client says what our stack
(HTTP in Python, the worker hop, our result writers) costs over the engine alone.

For each data size (the bundled graph; synthetic graphs of 100k and 1M triples from
``bench/synth.py``):

1. our service starts on an empty store with ``--data-root`` → *load time* (bulk load,
   derived graphs, ready to answer);
2. its store folder is copied and the Oxigraph server serves the copy — both answer
   from byte-identical stores (named graphs, the union default graph, the RDFS
   inferences), so every query returns the same rows on both (checked);
   Oxigraph's own *load time* is ``oxigraph load`` of the same files;
3. both restart on their stores → *start-up time*;
4. each query runs at concurrency 1 and 8, the servers taking turns in rounds
   (``--rounds``), with a thread pool of keep-alive ``http.client`` connections: the
   client's overhead is the same for all. Requests/s is the median of the rounds;
   latency percentiles pool every request. With ``--baseline`` a third server takes its
   turn too: ours served as before (waitress, every request through Flask), on a copy
   of the same store — the before/after of the serving changes, measured side by side;
   with ``--minimal`` a minimal Flask app over pyoxigraph (``bench/minimal_app.py``, no
   worker process, no limits) does too — what the thinnest Python tier reaches;
5. *resident memory*: VmRSS from /proc (ours: the serve process, which runs granian
   and the app, and its store worker; Oxigraph).

Our service runs with its /sparql result cache off (:data:`NO_RESULT_CACHE`): the queries repeat, and these
figures are meant to say what answering a query costs; ``bench/bench_cache.py`` measures the cache.

    python bench/bench_sparql.py --quick
    python bench/bench_sparql.py --sizes bundled,100k,1m --duration 6

Prints a table with ratios ours/Oxigraph and writes it as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth
from conformance_lib.server import free_port, oxigraph_binary

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
JSON_RESULTS = "application/sparql-results+json"

PREFIXES = ("PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#> "
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> ")

#: The benchmark queries; {placeholders} are filled per data set (see :func:`parameters`).
QUERIES: dict[str, str] = {
    # One resource by IRI (cycles through 50 persons): the per-request overhead.
    "lookup": "SELECT ?p ?o WHERE {{ <{person}> ?p ?o }}",
    # Events on one issue, their person participants and those persons' organizations.
    "join": ("SELECT ?event ?date ?person ?org WHERE {{ ?event dj:discussedIssue <{issue}> ; dj:startDate ?date ; "
             "dj:participant ?person . ?person a dj:Person ; dj:hasMembership ?m . ?m dj:organization ?org }} "
             "ORDER BY ?date ?event ?person ?org LIMIT 100"),
    # Events of one decade whose label says "talks".
    "filter": ("SELECT ?event ?label ?date WHERE {{ ?event dj:startDate ?date ; rdfs:label ?label . "
               "FILTER(?date >= \"1990-01-01\"^^xsd:date && ?date < \"2000-01-01\"^^xsd:date "
               "&& CONTAINS(LCASE(STR(?label)), \"talks\")) }}"),
    # Events and distinct participants per issue.
    "aggregate": ("SELECT ?issue (COUNT(DISTINCT ?event) AS ?events) (COUNT(DISTINCT ?agent) AS ?agents) "
                  "WHERE {{ ?event dj:discussedIssue ?issue ; dj:participant ?agent }} "
                  "GROUP BY ?issue ORDER BY DESC(?events) ?issue"),
    # Every organization below the largest tree's root (dj:subOrganizationOf+).
    "path": "SELECT ?org WHERE {{ ?org dj:subOrganizationOf+ <{root}> }}",
    # The lookup again, but no request repeats an earlier text (a numbered comment): the service's
    # per-text caches (lexing, form parsing, SERVICE checks) never hit.
    "lookup-unique": "SELECT ?p ?o WHERE {{ <{person}> ?p ?o }}",
}

#: Distinct texts ``lookup-unique`` cycles through: far more than the service's 256-entry caches.
UNIQUE_TEXTS = 20000


@dataclass
class Server:
    """A running server under test."""

    name: str
    url: str
    query_path: str
    process: subprocess.Popen
    pids: list[int] = field(default_factory=list)

    def rss_mb(self) -> float:
        """Resident memory of the server's processes and all their descendants (ours: the serve
        process and its store worker, and the supervisor above them with ``--supervise``)."""
        total = 0
        for pid in _descendants(self.pids):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def stop(self) -> None:
        """Stop the server and wait until all its processes are gone (the store lock is free again)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        deadline = time.monotonic() + 30
        for pid in self.pids[1:]:
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.02)


def _get(url: str, path: str, timeout: float = 120) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": JSON_RESULTS})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _descendants(pids: list[int]) -> list[int]:
    """The given processes and every process below them (read from /proc)."""
    seen: list[int] = []
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in children.read_text().split())
            except OSError:
                pass
    return seen


def _wait_ready(url: str, path: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}) during start-up:\n"
                               + log.read_text(errors="replace")[-2000:])
        try:
            if _get(url, path, timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{url} not ready after {timeout} s")


#: ``--baseline``: our service as it was served before the granian server and the query fast path.
BASELINE_ARGS = ("--server", "waitress", "--no-fast-query-path")
#: Our service's arguments here: the result cache off, so that repeated queries are evaluated every time.
NO_RESULT_CACHE = ("--result-cache-bytes", "0")
#: Servers that can join ours and Oxigraph in the rounds, by name (``--baseline``, ``--minimal``).
PEERS = ("baseline", "minimal")


def start_ours(store: Path, data_root: Path, log: Path, timeout: float = 3600, name: str = "ours",
               extra: tuple[str, ...] = ()) -> tuple[Server, float]:
    """Our service in its production configuration (union default graph, RDFS entailment), the result cache off
    unless ``extra`` sets ``--result-cache-bytes`` again; seconds to ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    started = time.monotonic()
    with open(log, "ab") as sink:
        process = subprocess.Popen([sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port",
                                    str(port), "--store", str(store), "--data-root", str(data_root),
                                    *NO_RESULT_CACHE, *extra],
                                   cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, "/health", process, timeout, log)
    except Exception:
        process.kill()
        raise
    elapsed = time.monotonic() - started
    worker = json.loads(_get(url, "/health")[1])["store_worker_pid"]
    return Server(name, url, "/sparql", process, [process.pid, int(worker)]), elapsed


def _launch(name: str, command: list[str], query_path: str, log: Path, timeout: float,
            env: dict[str, str] | None = None) -> tuple[Server, float]:
    """Start a one-process server (``{port}`` in ``command``: a free port); ready when ``ASK {}`` answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with open(log, "ab") as sink:
        process = subprocess.Popen([part.replace("{port}", str(port)) for part in command], env=env,
                                   stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, f"{query_path}?query=ASK%7B%7D", process, timeout, log)
    except Exception:
        process.kill()
        raise
    return Server(name, url, query_path, process, [process.pid]), time.monotonic() - started


def start_oxigraph(store: Path, log: Path, timeout: float = 600) -> tuple[Server, float]:
    """The standalone Oxigraph server on an existing store; seconds to ready."""
    return _launch("oxigraph", [oxigraph_binary(), "serve", "--location", str(store), "--bind", "127.0.0.1:{port}"],
                   "/query", log, timeout)


def start_minimal(store: Path, log: Path, timeout: float = 600) -> tuple[Server, float]:
    """The minimal Flask app over pyoxigraph (``bench/minimal_app.py``), served by granian as ours is."""
    return _launch("minimal", [sys.executable, "-m", "granian", "--interface", "wsgi", "--factory", "--working-dir",
                               str(REPO / "bench"), "--workers", "1", "--blocking-threads", "8", "--no-ws", "--no-log",
                               "--host", "127.0.0.1", "--port", "{port}", "minimal_app:create_app"],
                   "/sparql", log, timeout, env=dict(os.environ, BENCH_MINIMAL_STORE=str(store)))


def oxigraph_load_time(data_root: Path, folder: Path) -> float:
    """Seconds ``oxigraph load`` takes for the same files (ontology and shapes into their graphs, data)."""
    store = folder / "oxigraph-load"
    shutil.rmtree(store, ignore_errors=True)
    binary = oxigraph_binary()
    started = time.monotonic()
    for name, graph in (("dprk-japan.ttl", "https://w3id.org/dprk-japan-kg/graph/ontology"),
                        ("shapes.ttl", "https://w3id.org/dprk-japan-kg/graph/shapes")):
        path = data_root / "ontology" / name
        if path.exists():
            subprocess.run([binary, "load", "--location", str(store), "--file", str(path), "--graph", graph],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    files = [str(p) for p in sorted((data_root / "data").glob("*.trig"))]
    subprocess.run([binary, "load", "--location", str(store), "--file", *files], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    shutil.rmtree(store, ignore_errors=True)
    return elapsed


def select(server: Server, query: str) -> list[dict]:
    status, body = _get(server.url, f"{server.query_path}?query={quote(PREFIXES + query)}")
    if status != 200:
        raise RuntimeError(f"{server.name}: query failed with HTTP {status}: {body[:300]!r}")
    return json.loads(body)["results"]["bindings"]


def parameters(server: Server) -> dict[str, list[str]]:
    """Constants for the queries, read from the data: 50 persons, the most discussed issue, the largest tree."""
    persons = [row["p"]["value"] for row in select(server, "SELECT ?p WHERE { ?p a dj:Person } ORDER BY ?p LIMIT 50")]
    issue = select(server, "SELECT ?i (COUNT(*) AS ?n) WHERE { ?e dj:discussedIssue ?i } GROUP BY ?i "
                           "ORDER BY DESC(?n) ?i LIMIT 1")
    root = select(server, "SELECT ?r (COUNT(?o) AS ?n) WHERE { ?o dj:subOrganizationOf+ ?r } GROUP BY ?r "
                          "ORDER BY DESC(?n) ?r LIMIT 1")
    return {"person": persons or ["urn:none"],
            "issue": [issue[0]["i"]["value"]] if issue else ["urn:none"],
            "root": [root[0]["r"]["value"]] if root else ["urn:none"]}


def query_paths(server: Server, name: str, params: dict[str, list[str]]) -> list[str]:
    """The request paths (GET ?query=...) one query cycles through."""
    template = QUERIES[name]
    variants = params["person"] if "{person}" in template else [None]
    out = []
    for person in variants:
        text = template.format(person=person, issue=params["issue"][0], root=params["root"][0])
        out.append(f"{server.query_path}?query={quote(PREFIXES + text)}")
    if name == "lookup-unique":
        out = [f"{out[i % len(out)]}{quote(chr(10) + '# request ' + str(i))}" for i in range(UNIQUE_TEXTS)]
    return out


@dataclass
class Run:
    """One burst of requests against one server."""

    count: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def drive(server: Server, paths: list[str], concurrency: int, duration: float) -> Run:
    """Send requests from ``concurrency`` threads (keep-alive connections) for ``duration`` seconds."""
    host, port = server.url.removeprefix("http://").split(":")
    deadline = time.perf_counter() + duration
    lock = threading.Lock()
    latencies: list[float] = []
    counters = {"count": 0, "errors": 0}

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        mine: list[float] = []
        errors = 0
        i = offset
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += concurrency
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept": JSON_RESULTS})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=120)
                continue
            mine.append(time.perf_counter() - began)
        conn.close()
        with lock:
            latencies.extend(mine)
            counters["count"] += len(mine)
            counters["errors"] += errors

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(counters["count"], counters["errors"], time.perf_counter() - started, latencies)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prepare_data(size: str, folder: Path) -> tuple[Path, dict]:
    """The data root for a size: the repository for 'bundled', else a synthetic one (generated once, reused)."""
    if size == "bundled":
        return REPO, {}
    triples = synth.parse_size(size)
    root = RESULTS / f"synth-{size}"
    marker = root / "synth.json"
    if marker.exists() and json.loads(marker.read_text()).get("requested") == triples:
        return root, json.loads(marker.read_text())
    figures = synth.generate(root, triples)
    figures["requested"] = triples
    marker.write_text(json.dumps(figures))
    return root, figures


def bench_size(size: str, args: argparse.Namespace) -> dict:
    """Everything measured for one data size."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-{size}-"))
    log = folder / "servers.log"
    report: dict = {"size": size, "loadavg_before": os.getloadavg()[0]}
    try:
        data_root, figures = prepare_data(size, folder)
        report["synthetic"] = figures
        ours_store, ox_store = folder / "ours-store", folder / "oxigraph-store"
        print(f"[{size}] loading into our service ...", file=sys.stderr, flush=True)
        ours, load_s = start_ours(ours_store, data_root, log)
        report["load_s"] = {"ours": load_s}
        ours.stop()
        shutil.copytree(ours_store, ox_store)
        print(f"[{size}] oxigraph load of the same files ...", file=sys.stderr, flush=True)
        report["load_s"]["oxigraph"] = oxigraph_load_time(data_root, folder)
        peers: list[Server] = []  # measured in the same rounds: --baseline, --minimal
        if args.baseline:
            shutil.copytree(ours_store, folder / "baseline-store")
            peers.append(start_ours(folder / "baseline-store", data_root, log, name="baseline",
                                    extra=BASELINE_ARGS)[0])
        if args.minimal:
            shutil.copytree(ours_store, folder / "minimal-store")
            peers.append(start_minimal(folder / "minimal-store", log)[0])
        ours, ours_start = start_ours(ours_store, data_root, log)
        oxigraph, ox_start = start_oxigraph(ox_store, log)
        report["startup_s"] = {"ours": ours_start, "oxigraph": ox_start}
        report["rss_mb_idle"] = {"ours": ours.rss_mb(), "oxigraph": oxigraph.rss_mb()}
        try:
            count = select(oxigraph, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                                     "FILTER(?g != <https://w3id.org/dprk-japan-kg/graph/entailed>) }")
            report["data_quads"] = int(count[0]["n"]["value"])
            count = select(oxigraph, "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
            report["store_quads"] = int(count[0]["n"]["value"])
            params = parameters(oxigraph)
            servers = [ours, oxigraph, *peers]
            report["queries"] = run_queries(servers, params, args, size)
            report["rss_mb_after"] = {"ours": ours.rss_mb(), "oxigraph": oxigraph.rss_mb()}
            report["loadavg_after"] = os.getloadavg()[0]
        finally:
            ours.stop()
            oxigraph.stop()
            for peer in peers:
                peer.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def run_queries(servers: list[Server], params: dict, args: argparse.Namespace, size: str) -> list[dict]:
    """Each query at each concurrency on every server, the servers taking turns in rounds.

    ``servers`` starts with ours and Oxigraph; the peers after them (``--baseline``, ``--minimal``) are
    measured the same way, each with its ratio to Oxigraph.
    """
    rows = []
    for name in args.queries:
        paths = {s.name: query_paths(s, name, params) for s in servers}
        sizes = {}
        for server in servers:
            template = QUERIES[name].format(person=params["person"][0], issue=params["issue"][0],
                                            root=params["root"][0])
            sizes[server.name] = len(select(server, template))
            drive(server, paths[server.name], 1, min(0.5, args.duration / 4))  # warm-up
        if len(set(sizes.values())) > 1:
            print(f"WARNING [{size}] {name}: row counts differ: {sizes}", file=sys.stderr)
        for concurrency in args.concurrency:
            runs: dict[str, list[Run]] = {s.name: [] for s in servers}
            for _ in range(args.rounds):
                for server in servers:
                    runs[server.name].append(drive(server, paths[server.name], concurrency,
                                                   args.duration / args.rounds))
            row = {"query": name, "concurrency": concurrency, "rows": sizes}
            for server_name, server_runs in runs.items():
                pooled = [x for run in server_runs for x in run.latencies]
                row[server_name] = {
                    "rps": statistics.median(run.rate for run in server_runs),
                    "p50_ms": percentile(pooled, 0.50) * 1000,
                    "p99_ms": percentile(pooled, 0.99) * 1000,
                    "requests": sum(run.count for run in server_runs),
                    "errors": sum(run.errors for run in server_runs),
                }
            oxigraph_rps = row["oxigraph"]["rps"]
            row["ratio"] = row["ours"]["rps"] / oxigraph_rps if oxigraph_rps else float("nan")
            extras = ""
            for peer in servers[2:]:
                row[f"{peer.name}_ratio"] = row[peer.name]["rps"] / oxigraph_rps if oxigraph_rps else float("nan")
                extras += f", {peer.name} {row[peer.name]['rps']:.0f}/s (x{row[peer.name + '_ratio']:.2f})"
            rows.append(row)
            print(f"[{size}] {name} c={concurrency}: ours {row['ours']['rps']:.0f}/s, oxigraph "
                  f"{oxigraph_rps:.0f}/s (x{row['ratio']:.2f}){extras}", file=sys.stderr, flush=True)
    return rows


def render(reports: list[dict]) -> str:
    """The results as Markdown tables (also what the README quotes)."""
    peers = [name for name in PEERS if any(name in row for report in reports for row in report.get("queries", []))]
    extra_head = "".join(f" {name} req/s (ratio) |" for name in peers)
    lines = ["| data | query | conc. | rows | ours req/s | Oxigraph req/s | ours/Oxigraph | ours p50 / p99 ms "
             "| Oxigraph p50 / p99 ms |" + extra_head, "|---|---|---|---|---|---|---|---|---|" + "---|" * len(peers)]
    for report in reports:
        for row in report.get("queries", []):
            o, x = row["ours"], row["oxigraph"]
            errors = "" if not (o["errors"] or x["errors"]) else f" (errors {o['errors']}/{x['errors']})"
            extra = ""
            for name in peers:
                b = row.get(name)
                extra += f" {b['rps']:.0f} ({row[name + '_ratio']:.2f}) |" if b else " – |"
            lines.append(f"| {report['size']} | {row['query']} | {row['concurrency']} | {row['rows']['ours']} "
                         f"| {o['rps']:.0f} | {x['rps']:.0f} | **{row['ratio']:.2f}**{errors} "
                         f"| {o['p50_ms']:.1f} / {o['p99_ms']:.1f} | {x['p50_ms']:.1f} / {x['p99_ms']:.1f} |" + extra)
    lines += ["", "| data | data quads / all quads | load s (ours / Oxigraph) | start-up s (ours / Oxigraph) "
              "| RSS MB idle (ours / Oxigraph) | RSS MB after (ours / Oxigraph) |", "|---|---|---|---|---|---|"]
    for report in reports:
        load, start = report["load_s"], report["startup_s"]
        idle, after = report["rss_mb_idle"], report.get("rss_mb_after", {"ours": 0, "oxigraph": 0})
        lines.append(f"| {report['size']} | {report.get('data_quads', '?')} / {report.get('store_quads', '?')} "
                     f"| {load['ours']:.2f} / {load['oxigraph']:.2f} | {start['ours']:.2f} / {start['oxigraph']:.2f} "
                     f"| {idle['ours']:.0f} / {idle['oxigraph']:.0f} | {after['ours']:.0f} / {after['oxigraph']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark our SPARQL service against the Oxigraph server.")
    parser.add_argument("--sizes", default="bundled,100k,1m", help="comma-separated: bundled, 100k, 1m, ...")
    parser.add_argument("--duration", type=float, default=6.0,
                        help="seconds per server per query and concurrency, split into rounds (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per measurement (default 3)")
    parser.add_argument("--concurrency", default="1,8", help="client concurrency levels (default 1,8)")
    parser.add_argument("--queries", default=",".join(QUERIES), help=f"subset of: {', '.join(QUERIES)}")
    parser.add_argument("--quick", action="store_true", help="bundled and 100k only, 1.5 s per measurement")
    parser.add_argument("--baseline", action="store_true",
                        help="also measure ours served as before (waitress, no query fast path) in the same rounds")
    parser.add_argument("--minimal", action="store_true",
                        help="also measure a minimal Flask app over pyoxigraph (bench/minimal_app.py: no worker "
                             "process, no limits) in the same rounds")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help=f"folder for the JSON results (default {RESULTS.relative_to(REPO)})")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.duration = "bundled,100k", 1.5
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.queries = [q.strip() for q in args.queries.split(",")]
    unknown = [q for q in args.queries if q not in QUERIES]
    if unknown:
        parser.error(f"--queries: unknown {', '.join(unknown)} (known: {', '.join(QUERIES)})")
    if args.rounds < 1 or args.duration <= 0:
        parser.error("--rounds must be ≥ 1 and --duration > 0")
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    for size in sizes:
        if size != "bundled":
            try:
                synth.parse_size(size)
            except argparse.ArgumentTypeError as exc:
                parser.error(f"--sizes: {exc}")
    args.results.mkdir(parents=True, exist_ok=True)
    reports = [bench_size(size, args) for size in sizes]
    table = render(reports)
    print(table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = {"when": stamp, "cpus": os.cpu_count(), "duration": args.duration, "rounds": args.rounds,
           "reports": reports, "table": table}
    (args.results / f"bench-{stamp}.json").write_text(json.dumps(out, indent=2))
    (args.results / "latest.json").write_text(json.dumps(out, indent=2))
    print(f"\n(written to {args.results / ('bench-' + stamp + '.json')})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
