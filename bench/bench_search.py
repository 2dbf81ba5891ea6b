"""Search latency: ``GET /search`` on the bundled graph at concurrency 1, beside the SPARQL a client would send
straight to the store for the nearest equivalent (a case-insensitive substring scan of the same labels).

What is measured, against a live service on a fresh store (the server as users run it):
- each query's search answer (JSON), p50 and p95 over ``--rounds`` requests on one keep-alive connection;
- the same text as a SPARQL label scan through ``/sparql`` (``CONTAINS(LCASE(?name), …)`` over the label
  properties the index reads) — what finding a name cost before there was a search;
- the first search after a write: the index is rebuilt from the store then (one write, one rebuild).

The issue's target is a search answer p50 ≤ 20 ms at concurrency 1.

Usage: python bench/bench_search.py [--rounds N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_canned import free_port  # noqa: E402
from service.search.index import NAME_PROPERTIES  # noqa: E402

QUERIES = ["Song Il-ho", "song ilho", "宋日昊", "Abe", "kim jong", "abduction", "Japan", "zzqqxx"]
TOKEN = "bench-token"


def _get(conn: http.client.HTTPConnection, path: str, accept: str) -> float:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Accept": accept})
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}")
    return elapsed * 1000


def _scan(text: str) -> str:
    names = " UNION ".join(f"{{ ?s <{p}> ?name }}" for p in NAME_PROPERTIES)
    needle = json.dumps(text.casefold())
    return f"SELECT DISTINCT ?s WHERE {{ {names} FILTER(CONTAINS(LCASE(STR(?name)), {needle})) }} LIMIT 20"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    port = free_port()
    store = tempfile.mkdtemp(prefix="bench-search-")
    env = {**os.environ, "DPRK_KG_WRITE_TOKEN": TOKEN}
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port), "--store", store]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(600):
            try:
                _get(conn, "/health", "application/json")
                break
            except (OSError, SystemExit, http.client.HTTPException):
                conn.close()
                time.sleep(0.5)
        _get(conn, "/search?q=warm", "application/json")  # the first search builds the index
        print(f"{'query':<14} {'search p50':>10} {'p95':>7} {'SPARQL scan p50':>16} {'p95':>7}   (ms)")
        all_search = []
        for text in QUERIES:
            search = [_get(conn, "/search?" + urllib.parse.urlencode({"q": text}), "application/json")
                      for _ in range(args.rounds)]
            scan_path = "/sparql?" + urllib.parse.urlencode({"query": _scan(text)})
            scan = [_get(conn, scan_path, "application/sparql-results+json") for _ in range(args.rounds)]
            all_search += search
            print(f"{text:<14} {statistics.median(search):>10.1f} {_p95(search):>7.1f} "
                  f"{statistics.median(scan):>16.1f} {_p95(scan):>7.1f}")
        print(f"{'all':<14} {statistics.median(all_search):>10.1f} {_p95(all_search):>7.1f}")
        update = urllib.parse.urlencode({"update": 'INSERT DATA { GRAPH <https://example.org/bench> { '
                                                   '<https://example.org/x> <http://www.w3.org/2000/01/rdf-schema#label>'
                                                   ' "Bench"@en } }'})
        conn.request("POST", "/sparql", body=update, headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-www-form-urlencoded"})
        conn.getresponse().read()
        rebuild = _get(conn, "/search?q=bench", "application/json")
        print(f"first search after a write (index rebuilt): {rebuild:.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=30)


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


if __name__ == "__main__":
    main()
