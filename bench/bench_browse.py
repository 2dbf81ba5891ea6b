"""Class pages with facets (``/browse/<Class>``) on the bundled graph at concurrency 1, beside the same page's
SPARQL queries sent straight to the store through ``/sparql``.

What is measured, against a live service on a fresh store (the server as users run it), on one keep-alive
connection:
- each page computed afresh: every request asks for a page size not asked before, so the facet counts, the rows
  and their details are queried again (the class catalogue and the labels stay warm: they change only on writes);
- the same page asked again (kept until the next write);
- the page's three SPARQL queries (:func:`service.browse.facets.facet_query`, ``rows_query``, ``details_query``)
  sent one after the other to ``/sparql``: what the page costs in the store plus HTTP, without Python around it.

The issue's target is a class page with facets ≤ 50 ms.

Usage: python bench/bench_browse.py [--rounds N]
"""

from __future__ import annotations

import argparse
import http.client
import json
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
from service.browse import facets  # noqa: E402

#: (class, filters) of the pages measured: the largest class, a filtered one, one with many facets.
PAGES = [("Event", {}), ("Event", {"document": "djr:doc-001", "year": "2012"}), ("NegotiationRound", {}),
         ("Claim", {}), ("Agent", {})]


def _get(conn: http.client.HTTPConnection, path: str, accept: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Accept": accept})
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}: {body[:300]!r}")
    return elapsed * 1000, body


def _sparql(conn: http.client.HTTPConnection, query: str) -> tuple[float, dict]:
    took, body = _get(conn, "/sparql?" + urllib.parse.urlencode({"query": query}), "application/sparql-results+json")
    return took, json.loads(body)


def _store_queries(conn: http.client.HTTPConnection, catalog: facets.Catalog, name: str, params: dict,
                   size: int) -> float:
    """The page's three queries through /sparql, one after the other: their total time."""
    info = catalog.by_name(name)
    assert info is not None
    selection = facets.parse_selection({k: [v] for k, v in {**params, "size": str(size)}.items()}, catalog, info)
    took, _ = _sparql(conn, facets.facet_query(info.iri, selection.filters, catalog.facets(info)))
    rows_took, rows = _sparql(conn, facets.rows_query(info.iri, selection))
    iris = [b["x"]["value"] for b in rows["results"]["bindings"]]
    details_took = _sparql(conn, facets.details_query(iris))[0] if iris else 0.0
    return took + rows_took + details_took


def _catalog(conn: http.client.HTTPConnection) -> facets.Catalog:
    from pyoxigraph import Literal, NamedNode

    _, answer = _sparql(conn, facets.catalog_query())
    rows = []
    for b in answer["results"]["bindings"]:
        row = []
        for var in ("c", "k", "v"):
            term = b.get(var)
            if term is None:
                row.append(None)
            elif term["type"] == "uri":
                row.append(NamedNode(term["value"]))
            else:
                row.append(Literal(term["value"], language=term.get("xml:lang")) if term.get("xml:lang")
                           else Literal(term["value"]))
        rows.append(row)
    return facets.build_catalog(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    port = free_port()
    store = tempfile.mkdtemp(prefix="bench-browse-")
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port), "--store", store]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(600):
            try:
                _get(conn, "/health", "application/json")
                break
            except (OSError, SystemExit, http.client.HTTPException):
                conn.close()
                time.sleep(0.5)
        catalog = _catalog(conn)
        print(f"{'page':<44} {'fresh p50':>9} {'p95':>6} {'kept p50':>9} {'SPARQL p50':>11}   (ms)")
        fresh_all = []
        for name, params in PAGES:
            base = f"/browse/{name}.json?" + urllib.parse.urlencode(params)
            _get(conn, base, "application/json")  # warm: labels of the values shown
            fresh = [_get(conn, f"{base}&size={10 + i}", "application/json")[0] for i in range(args.rounds)]
            kept = [_get(conn, base, "application/json")[0] for _ in range(args.rounds)]
            store_times = [_store_queries(conn, catalog, name, params, 10 + i) for i in range(args.rounds)]
            fresh_all += fresh
            label = name + ("?" + urllib.parse.urlencode(params) if params else "")
            print(f"{label:<44} {statistics.median(fresh):>9.1f} {_p95(fresh):>6.1f} {statistics.median(kept):>9.1f} "
                  f"{statistics.median(store_times):>11.1f}")
        print(f"{'all pages computed afresh':<44} {statistics.median(fresh_all):>9.1f} {_p95(fresh_all):>6.1f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


if __name__ == "__main__":
    main()
