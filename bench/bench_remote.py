"""The remote mode: our service in front of an Oxigraph server against that server direct, in one run.

Why side by side: in remote mode every query crosses our service (protocol checks, the guard, admission)
and then one more HTTP hop to the store, whose answer is parsed and serialized again. The ratio
ours/Oxigraph on the same server, the same data and the same client says what that costs; the machine's
speed cancels out. The same holds for loading: the first start of our service against an empty store
(the bundle parsed, its derived graphs computed, the whole dataset sent in one Graph Store POST of
N-Quads) beside the store's own loaders, timed in the same run.

For each data size (synthetic graphs of ``bench/synth.py``; ``bundled`` too):

1. *loads* (each into a fresh, empty store; ``--load-runs`` times, the median):

   * ``oxigraph load`` of the data root's files (what bench_load.py compares the embedded store with);
   * our *first start*: ``dprk-kg serve --store-url`` against a fresh Oxigraph server, until ``/health``
     answers — the bundle, its derived graphs (the union default graph and the RDFS inferences) and the POST;
   * the *same N-Quads* our service sent (read back from the store afterwards), loaded by the store itself:
     ``oxigraph load`` of the file, and one direct Graph Store POST of it to a fresh server.

2. *queries*: the last store our service loaded serves both: its own endpoint (``/query``) and our service
   in front of it (result cache off: every request is evaluated, as in bench_sparql.py). The heavy queries of
   ``bench/bench_sparql.py`` (``join``, ``filter``, ``aggregate``, ``path``) run at each concurrency, the two
   taking turns in rounds, with the same keep-alive ``http.client`` threads; requests/s counts answers (200)
   only, the median of the rounds; refusals (503 from admission control) are counted apart;

3. the table: each figure beside its target (queries ≥ 0.9× the server direct; load ≤ 1.5× the store's own
   loader) and the resident memory of our service's processes in remote mode.

    python bench/bench_remote.py --sizes 100k --duration 3
    python bench/bench_remote.py --sizes 100k,1m --duration 6 --load-runs 3

Writes the table as JSON to bench/results/remote-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth
from bench_sparql import (
    NO_RESULT_CACHE,
    QUERIES,
    REPO,
    RESULTS,
    Run,
    Server,
    _get,
    _wait_ready,
    drive,
    free_port,
    oxigraph_binary,
    oxigraph_load_time,
    parameters,
    percentile,
    prepare_data,
    query_paths,
    select,
    start_oxigraph,
)

#: The queries whose time is the store's rather than the per-request overhead (bench_sparql.py's heavy ones).
HEAVY = ["join", "filter", "aggregate", "path"]
#: The issue's targets: heavy queries through our service at ≥ 0.9× the server direct; a load ≤ 1.5× the store's.
QUERY_TARGET = 0.9
LOAD_TARGET = 1.5


def start_remote(oxigraph: Server, data_root: Path, folder: Path, log: Path, timeout: float = 3600,
                 env: dict[str, str] | None = None) -> tuple[Server, float]:
    """Our service with ``--store-url`` at ``oxigraph`` (which it loads when empty); seconds to ``/health``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process_env = dict(os.environ, **(env or {}))
    process_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), process_env.get("PYTHONPATH", "")]))
    started = time.monotonic()
    with open(log, "ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--store", str(folder / "unused-store"), "--data-root", str(data_root),
             "--store-url", oxigraph.url + "/query", "--update-url", oxigraph.url + "/update",
             "--graph-store-url", oxigraph.url + "/store", *NO_RESULT_CACHE],
            cwd=REPO, env=process_env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, "/health", process, timeout, log)
    except Exception:
        process.kill()
        raise
    return Server("ours", url, "/sparql", process, [process.pid]), time.monotonic() - started


def read_back(oxigraph: Server, out: Path) -> int:
    """The store's whole dataset as N-Quads in ``out`` (what our service sent it); the number of quads."""
    request = urllib.request.Request(oxigraph.url + "/store", headers={"Accept": "application/n-quads"})
    with urllib.request.urlopen(request, timeout=600) as response, open(out, "wb") as sink:
        shutil.copyfileobj(response, sink, 1 << 20)
    with open(out, "rb") as source:
        return sum(1 for line in source if line.strip())


def oxigraph_load_file(path: Path, folder: Path) -> float:
    """Seconds ``oxigraph load`` takes for one N-Quads file into a fresh folder."""
    store = folder / "oxigraph-load-nq"
    shutil.rmtree(store, ignore_errors=True)
    started = time.monotonic()
    subprocess.run([oxigraph_binary(), "load", "--location", str(store), "--file", str(path)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    shutil.rmtree(store, ignore_errors=True)
    return elapsed


def direct_post_time(path: Path, folder: Path, log: Path) -> float:
    """Seconds one Graph Store POST of the N-Quads file takes at a fresh Oxigraph server (the body read
    beforehand: the store's time, not the disk's)."""
    store = folder / "oxigraph-post"
    shutil.rmtree(store, ignore_errors=True)
    server, _ = start_oxigraph(store, log)
    try:
        body = path.read_bytes()
        request = urllib.request.Request(server.url + "/store", data=body, method="POST",
                                         headers={"Content-Type": "application/n-quads"})
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=3600) as response:
            response.read()
        return time.monotonic() - started
    finally:
        server.stop()
        shutil.rmtree(store, ignore_errors=True)


def _answered(run: Run) -> float:
    """Answers (200) per second: a quick refusal (503) must not count as an answer."""
    return (run.count - run.errors) / run.seconds if run.seconds else 0.0


def run_queries(servers: list[Server], params: dict, args: argparse.Namespace, size: str) -> list[dict]:
    """Each heavy query at each concurrency on ours and the server direct, taking turns in rounds."""
    rows = []
    for name in args.queries:
        paths = {s.name: query_paths(s, name, params) for s in servers}
        template = QUERIES[name].format(person=params["person"][0], issue=params["issue"][0], root=params["root"][0])
        sizes = {}
        for server in servers:
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
            row: dict = {"query": name, "concurrency": concurrency, "rows": sizes}
            for server_name, server_runs in runs.items():
                pooled = [x for run in server_runs for x in run.latencies]
                row[server_name] = {"rps": statistics.median(_answered(run) for run in server_runs),
                                    "p50_ms": percentile(pooled, 0.50) * 1000,
                                    "requests": sum(run.count for run in server_runs),
                                    "errors": sum(run.errors for run in server_runs)}
            direct = row["oxigraph"]["rps"]
            row["ratio"] = row["ours"]["rps"] / direct if direct else float("nan")
            rows.append(row)
            print(f"[{size}] {name} c={concurrency}: ours {row['ours']['rps']:.1f}/s, oxigraph {direct:.1f}/s "
                  f"(x{row['ratio']:.2f})", file=sys.stderr, flush=True)
    return rows


def bench_size(size: str, args: argparse.Namespace) -> dict:
    """Every measurement for one data size."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-remote-{size}-"))
    log = folder / "servers.log"
    report: dict = {"size": size, "loadavg_before": os.getloadavg()[0]}
    servers: list[Server] = []
    try:
        data_root, figures = prepare_data(size, folder)
        report["triples"] = figures.get("triples")
        loads: dict[str, list[float]] = {"oxigraph load (files)": [], "first start (ours, remote)": [],
                                         "oxigraph load (same N-Quads)": [], "Graph Store POST (same N-Quads)": []}
        for run in range(args.load_runs):
            print(f"[{size}] load {run + 1}/{args.load_runs}: oxigraph load of the files ...", file=sys.stderr,
                  flush=True)
            loads["oxigraph load (files)"].append(oxigraph_load_time(data_root, folder))
            for server in servers:
                server.stop()
            servers.clear()
            store = folder / "remote-store"
            shutil.rmtree(store, ignore_errors=True)
            oxigraph, _ = start_oxigraph(store, log)
            oxigraph.name = "oxigraph"
            servers.append(oxigraph)
            print(f"[{size}] load {run + 1}/{args.load_runs}: our first start against the empty server ...",
                  file=sys.stderr, flush=True)
            ours, elapsed = start_remote(oxigraph, data_root, folder, log, env=args.service_env)
            servers.insert(0, ours)
            loads["first start (ours, remote)"].append(elapsed)
            nquads = folder / "sent.nq"
            report["store_quads"] = read_back(oxigraph, nquads)
            print(f"[{size}] load {run + 1}/{args.load_runs}: the same {report['store_quads']} quads by the "
                  f"store's own loader and by a direct POST ...", file=sys.stderr, flush=True)
            loads["oxigraph load (same N-Quads)"].append(oxigraph_load_file(nquads, folder))
            loads["Graph Store POST (same N-Quads)"].append(direct_post_time(nquads, folder, log))
            nquads.unlink()
            print(f"[{size}] loads so far: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in loads.items()),
                  file=sys.stderr, flush=True)
        report["load_s"] = {k: statistics.median(v) for k, v in loads.items()}
        report["load_runs"] = loads
        ours, oxigraph = servers
        report["rss_mb_idle"] = {"ours": ours.rss_mb(), "oxigraph": oxigraph.rss_mb()}
        report["health"] = json.loads(_get(ours.url, "/health")[1])
        if args.queries:
            params = parameters(oxigraph)
            report["queries"] = run_queries(servers, params, args, size)
            report["rss_mb_after"] = {"ours": ours.rss_mb(), "oxigraph": oxigraph.rss_mb()}
        report["loadavg_after"] = os.getloadavg()[0]
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return report


def render(reports: list[dict]) -> str:
    """The results as Markdown tables, each figure beside its target (what the README quotes)."""
    lines = ["| data | query | conc. | rows | ours req/s | Oxigraph direct req/s "
             f"| ours/direct (target ≥ {QUERY_TARGET}) | p50 ms (ours / direct) | not 200 (ours / direct) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for report in reports:
        for row in report.get("queries", []):
            o, x = row["ours"], row["oxigraph"]
            verdict = "met" if row["ratio"] >= QUERY_TARGET else "NOT met"
            lines.append(f"| {report['size']} | {row['query']} | {row['concurrency']} | {row['rows']['oxigraph']} "
                         f"| {o['rps']:.1f} | {x['rps']:.1f} | **{row['ratio']:.2f}** ({verdict}) "
                         f"| {o['p50_ms']:.1f} / {x['p50_ms']:.1f} | {o['errors']} / {x['errors']} |")
    lines += ["", "| data | triples (files) / quads sent | path | median s | × oxigraph load (files) "
              f"| × oxigraph load (same N-Quads) (target ≤ {LOAD_TARGET}) | × direct POST (same N-Quads) |",
              "|---|---|---|---|---|---|---|"]
    for report in reports:
        load = report["load_s"]
        files, same = load["oxigraph load (files)"], load["oxigraph load (same N-Quads)"]
        post = load["Graph Store POST (same N-Quads)"]
        for path, seconds in load.items():
            to_same = seconds / same if same else float("nan")
            verdict = "" if path != "first start (ours, remote)" else (
                " (met)" if to_same <= LOAD_TARGET else " (NOT met)")
            lines.append(f"| {report['size']} | {report.get('triples') or '?'} / {report.get('store_quads', '?')} "
                         f"| {path} | {seconds:.2f} | {seconds / files:.2f} | {to_same:.2f}{verdict} "
                         f"| {seconds / post:.2f} |")
    lines += ["", "| data | RSS MB idle, remote mode (ours / Oxigraph server) | RSS MB after the queries |",
              "|---|---|---|"]
    for report in reports:
        idle, after = report["rss_mb_idle"], report.get("rss_mb_after")
        lines.append(f"| {report['size']} | {idle['ours']:.0f} / {idle['oxigraph']:.0f} | "
                     + (f"{after['ours']:.0f} / {after['oxigraph']:.0f} |" if after else "– |"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The remote mode against the Oxigraph server direct.")
    parser.add_argument("--sizes", default="100k,1m", help="comma-separated: bundled, 100k, 1m, ... (default 100k,1m)")
    parser.add_argument("--duration", type=float, default=6.0,
                        help="seconds per server per query and concurrency, split into rounds (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per measurement (default 3)")
    parser.add_argument("--concurrency", default="1,8", help="client concurrency levels (default 1,8)")
    parser.add_argument("--queries", default=",".join(HEAVY),
                        help=f"subset of: {', '.join(QUERIES)} (default the heavy ones; empty: loads only)")
    parser.add_argument("--load-runs", type=int, default=1, help="fresh loads per path and size (the median)")
    parser.add_argument("--update-timeout", type=float, default=600.0,
                        help="our service's UPDATE_TIMEOUT (bounds its first load's POST; default 600)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.queries = [q.strip() for q in args.queries.split(",") if q.strip()]
    unknown = [q for q in args.queries if q not in QUERIES]
    if unknown:
        parser.error(f"--queries: unknown {', '.join(unknown)} (known: {', '.join(QUERIES)})")
    if args.rounds < 1 or args.duration <= 0 or args.load_runs < 1:
        parser.error("--rounds and --load-runs must be ≥ 1 and --duration > 0")
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    for size in sizes:
        if size != "bundled":
            try:
                synth.parse_size(size)
            except argparse.ArgumentTypeError as exc:
                parser.error(f"--sizes: {exc}")
    # Like with like: the Oxigraph server queues every client's query; our admission control (MAX_QUERIES, by
    # default THREADS - RESERVED_THREADS) would refuse some of the clients with 503 and count as fewer answers. So
    # our service gets a slot, and a thread, for each client of the highest concurrency measured.
    clients = max(args.concurrency)
    args.service_env = {"DPRK_KG_UPDATE_TIMEOUT": str(args.update_timeout),
                        "DPRK_KG_MAX_QUERIES": str(clients), "DPRK_KG_THREADS": str(clients + 2)}
    print("our service: " + ", ".join(f"{k.removeprefix('DPRK_KG_')}={v}" for k, v in args.service_env.items()),
          file=sys.stderr)
    args.results.mkdir(parents=True, exist_ok=True)
    reports = [bench_size(size, args) for size in sizes]
    table = render(reports) + "\n\nOur service ran with " + ", ".join(
        f"{k.removeprefix('DPRK_KG_')}={v}" for k, v in args.service_env.items()) + "."
    print(table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = {"when": stamp, "cpus": os.cpu_count(), "duration": args.duration, "rounds": args.rounds,
           "command": "python bench/bench_remote.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "reports": reports, "table": table}
    (args.results / f"remote-{stamp}.json").write_text(json.dumps(out, indent=2))
    print(f"\n(written to {args.results / ('remote-' + stamp + '.json')})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
