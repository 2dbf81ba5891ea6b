"""What a large ``INSERT DATA`` costs, next to the same triples as Turtle through ``/ingest``.

Both go through the same guard (validated in context of the stored graph, committed in
one transaction with the derived graphs); an ``INSERT DATA`` should cost what its
triples cost, not grow with the square of its size. One live server in its production
configuration (union default graph, RDFS entailment, the bundled data) is started on a
free port (``bench_sparql.start_ours``); for each size, each round sends fresh triples
(new subjects, a new graph) as ``INSERT DATA`` to ``/sparql`` with the write token, and
as Turtle to ``/ingest``.

    python bench/bench_update.py                       # 1k, 10k, 100k triples, 3 rounds
    python bench/bench_update.py --sizes 1000,10000 --repeat 5

Prints the median seconds per path and size and the ratio INSERT DATA / Turtle (target ≤ 2).
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sparql import Server, start_ours  # noqa: E402

TOKEN = "bench-update-token"  # a throwaway token for a server this script starts and stops
EX = "https://example.org/bench/"
#: Generous, here and as the server's UPDATE_TIMEOUT: the point is to measure the cost, not the limit.
REQUEST_TIMEOUT = 900


def triples(size: int, tag: str) -> list[str]:
    """``size`` triples about ``size // 4`` new subjects: a type, a label, a number and a link."""
    lines = []
    for i in range(size // 4):
        s = f"<{EX}{tag}/s{i}>"
        lines += [f"{s} a <{EX}Thing> .", f'{s} <{EX}label> "thing {i} of {tag}"@en .',
                  f"{s} <{EX}n> {i} .", f"{s} <{EX}next> <{EX}{tag}/s{i + 1}> ."]
    return lines


def post(server: Server, path: str, body: bytes, content_type: str) -> float:
    """Seconds until the answer; raises unless the write was accepted."""
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=REQUEST_TIMEOUT)
    started = time.perf_counter()
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type,
                                                        "Authorization": f"Bearer {TOKEN}"})
        response = conn.getresponse()
        answer = response.read()
    finally:
        conn.close()
    elapsed = time.perf_counter() - started
    if response.status not in (200, 201, 204):
        raise RuntimeError(f"{path}: {response.status} {answer[:300]!r}")
    return elapsed


def insert_data(server: Server, size: int, tag: str) -> float:
    body = "INSERT DATA { GRAPH <" + EX + "graph/" + tag + "> {\n" + "\n".join(triples(size, tag)) + "\n} }"
    return post(server, "/sparql", body.encode(), "application/sparql-update")


def ingest(server: Server, size: int, tag: str) -> float:
    return post(server, "/ingest", "\n".join(triples(size, tag)).encode(), "text/turtle")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="triples per request, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per size and path (median reported)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-update-") as tmp:
        server, ready = start_ours(Path(tmp) / "store", REPO, Path(tmp) / "server.log",
                                   extra=("--write-token", TOKEN, "--update-timeout", str(REQUEST_TIMEOUT)))
        print(f"server ready in {ready:.1f} s at {server.url}", flush=True)
        try:
            rows = []
            for size in sizes:
                update_times, turtle_times = [], []
                for round_ in range(args.repeat):  # alternate, so drift affects both alike
                    update_times.append(insert_data(server, size, f"u{size}-{round_}"))
                    turtle_times.append(ingest(server, size, f"t{size}-{round_}"))
                update, turtle = statistics.median(update_times), statistics.median(turtle_times)
                rows.append((size, update, turtle))
                print(f"{size:>7} triples: INSERT DATA {update:8.2f} s   Turtle /ingest {turtle:8.2f} s   "
                      f"ratio {update / turtle:5.2f}", flush=True)
        finally:
            server.stop()
    print("\n| triples | INSERT DATA via /sparql (s) | Turtle via /ingest (s) | ratio |\n|---:|---:|---:|---:|")
    for size, update, turtle in rows:
        print(f"| {size:,} | {update:.2f} | {turtle:.2f} | {update / turtle:.2f} |")
    worst = max(update / turtle for _, update, turtle in rows)
    print(f"\nworst ratio {worst:.2f} (target ≤ 2.00): {'met' if worst <= 2 else 'NOT met'}")
    return 0 if worst <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
