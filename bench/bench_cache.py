"""Repeated queries: our service with its /sparql result cache, without it, and the Oxigraph server — one run.

Why side by side: the cache's target is a repeated query answered at least as fast as the Oxigraph server answers
it (which evaluates it every time); the machine's speed cancels out of the ratio ours/Oxigraph on the same data,
the same queries and the same client. Our service without the cache, in the same rounds, shows what the cache adds.

For each data size (the bundled graph; synthetic graphs from ``bench/synth.py``):

1. our service loads the data into an empty store; the store folder is copied twice, so our service without the
   cache (``--result-cache-bytes 0``) and the Oxigraph server answer from byte-identical stores;
2. the three servers start; each query of ``bench/bench_sparql.py`` (``lookup`` cycles through 50 persons, the
   others repeat one text) is asked once on each (warm-up: the cache holds the answers), then at each concurrency
   the servers take turns in rounds with the same keep-alive ``http.client`` threads; requests/s counts answers
   (200) only, the median of the rounds (``lookup-unique`` is left out: it never repeats a text); at concurrency 8
   our service without the cache refuses some queries (503: every query slot of admission control is taken) —
   counted apart, not as answers;
3. the table gives each server's requests/s and the ratios to Oxigraph, with the target (≥ 1.0 with the cache).

    python bench/bench_cache.py --quick
    python bench/bench_cache.py --sizes bundled,100k --duration 6

Writes the table as JSON to bench/results/cache-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sparql import (
    QUERIES,
    RESULTS,
    Run,
    Server,
    drive,
    parameters,
    percentile,
    prepare_data,
    query_paths,
    select,
    start_ours,
    start_oxigraph,
)

#: The repeated queries (every benchmark query but the one that never repeats a text).
REPEATED = [name for name in QUERIES if name != "lookup-unique"]
#: The cache's budget in this benchmark: the service's default.
CACHE_ON = ("--result-cache-bytes", str(32 * 1024 * 1024))
#: The target: a repeated query through the cache at least at the Oxigraph server's rate.
TARGET = 1.0


def bench_size(size: str, args: argparse.Namespace) -> dict:
    """Every measurement for one data size."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-cache-{size}-"))
    log = folder / "servers.log"
    report: dict = {"size": size, "loadavg_before": os.getloadavg()[0]}
    servers: list[Server] = []
    try:
        data_root, _ = prepare_data(size, folder)
        cached_store = folder / "cached-store"
        print(f"[{size}] loading into our service ...", file=sys.stderr, flush=True)
        loading, _ = start_ours(cached_store, data_root, log)
        loading.stop()
        shutil.copytree(cached_store, folder / "uncached-store")
        shutil.copytree(cached_store, folder / "oxigraph-store")
        servers.append(start_ours(cached_store, data_root, log, name="cached", extra=CACHE_ON)[0])
        servers.append(start_ours(folder / "uncached-store", data_root, log, name="uncached")[0])
        servers.append(start_oxigraph(folder / "oxigraph-store", log)[0])
        params = parameters(servers[-1])
        report["queries"] = run_queries(servers, params, args, size)
        report["loadavg_after"] = os.getloadavg()[0]
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return report


def _answered(run: Run) -> float:
    """Answers (200) per second: a refusal (503 from admission control when every query slot is taken) is quick
    and must not count as an answer."""
    return (run.count - run.errors) / run.seconds if run.seconds else 0.0


def run_queries(servers: list[Server], params: dict, args: argparse.Namespace, size: str) -> list[dict]:
    """Each repeated query at each concurrency on the three servers, taking turns in rounds."""
    rows = []
    for name in args.queries:
        paths = {s.name: query_paths(s, name, params) for s in servers}
        sizes = {}
        template = QUERIES[name].format(person=params["person"][0], issue=params["issue"][0], root=params["root"][0])
        for server in servers:
            sizes[server.name] = len(select(server, template))
            drive(server, paths[server.name], 1, min(0.5, args.duration / 4))  # warm-up: every text asked once
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
            oxigraph = row["oxigraph"]["rps"]
            row["cached_ratio"] = row["cached"]["rps"] / oxigraph if oxigraph else float("nan")
            row["uncached_ratio"] = row["uncached"]["rps"] / oxigraph if oxigraph else float("nan")
            rows.append(row)
            print(f"[{size}] {name} c={concurrency}: cached {row['cached']['rps']:.0f}/s "
                  f"(x{row['cached_ratio']:.2f}), uncached {row['uncached']['rps']:.0f}/s "
                  f"(x{row['uncached_ratio']:.2f}), oxigraph {oxigraph:.0f}/s", file=sys.stderr, flush=True)
    return rows


def render(reports: list[dict]) -> str:
    """The results as a Markdown table (what the README quotes)."""
    lines = ["| data | query | conc. | rows | cached req/s | uncached req/s | Oxigraph req/s | cached/Oxigraph "
             f"(target ≥ {TARGET:.1f}) | uncached/Oxigraph | p50 ms (cached / Oxigraph) "
             "| not 200 (cached / uncached / Oxigraph) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for report in reports:
        for row in report.get("queries", []):
            c, u, x = row["cached"], row["uncached"], row["oxigraph"]
            verdict = "met" if row["cached_ratio"] >= TARGET else "NOT met"
            lines.append(f"| {report['size']} | {row['query']} | {row['concurrency']} | {row['rows']['oxigraph']} "
                         f"| {c['rps']:.0f} | {u['rps']:.0f} | {x['rps']:.0f} "
                         f"| **{row['cached_ratio']:.2f}** ({verdict}) | {row['uncached_ratio']:.2f} "
                         f"| {c['p50_ms']:.2f} / {x['p50_ms']:.2f} | {c['errors']} / {u['errors']} / {x['errors']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Repeated queries: our result cache against the Oxigraph server.")
    parser.add_argument("--sizes", default="bundled,100k", help="comma-separated: bundled, 100k, 1m, ...")
    parser.add_argument("--duration", type=float, default=6.0,
                        help="seconds per server per query and concurrency, split into rounds (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per measurement (default 3)")
    parser.add_argument("--concurrency", default="1,8", help="client concurrency levels (default 1,8)")
    parser.add_argument("--queries", default=",".join(REPEATED), help=f"subset of: {', '.join(REPEATED)}")
    parser.add_argument("--quick", action="store_true", help="the bundled graph only, 1.5 s per measurement")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.duration = "bundled", 1.5
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.queries = [q.strip() for q in args.queries.split(",") if q.strip()]
    unknown = [q for q in args.queries if q not in REPEATED]
    if unknown:
        parser.error(f"--queries: unknown {', '.join(unknown)} (known: {', '.join(REPEATED)})")
    if args.rounds < 1 or args.duration <= 0:
        parser.error("--rounds must be ≥ 1 and --duration > 0")
    args.results.mkdir(parents=True, exist_ok=True)
    reports = [bench_size(size.strip().lower(), args) for size in args.sizes.split(",") if size.strip()]
    table = render(reports)
    print(table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = {"when": stamp, "cpus": os.cpu_count(), "duration": args.duration, "rounds": args.rounds,
           "reports": reports, "table": table}
    (args.results / f"cache-{stamp}.json").write_text(json.dumps(out, indent=2))
    print(f"\n(written to {args.results / ('cache-' + stamp + '.json')})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
