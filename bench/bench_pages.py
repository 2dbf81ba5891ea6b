"""The pages people open, timed over HTTP, beside the SPARQL those pages send to the store — in the same run.

Why side by side: a page costs its store queries plus what the web tier adds (Flask, labels, templates, the HTTP
hop). Timing the very queries a page sent, replayed straight to the store worker (no HTTP, no Flask, no
rendering), says how much of a page is the engine and how much is ours; the ratio holds across machines better
than either figure alone.

What is measured, on the bundled graph (external facts off: no remote call in any figure):

* **entity page** ``/id/<slug>`` (HTML) of every person;
* **search answer** ``/search?q=<name>`` (JSON) for every person's English name (answered from an in-memory index,
  not SPARQL: its store figure is the index's build, once after each write, printed apart);
* **class page with facets** ``/browse/<Class>`` (HTML) for each featured class, and each of those classes with
  each facet value of its first facets as a filter.

Each URL is requested once on a fresh server (*first view*: nothing cached for it) and then again, in order, for
``--rounds`` rounds (*repeat view*: what the page caches keep until the next write). Concurrency 1, one keep-alive
``http.client`` connection, as in ``bench_sparql.py``; p50/p95 pool every request of a kind.

The store figures: a second copy of the same store is opened in this process, each URL is rendered once through
Flask's test client while every request to the store worker is recorded, and the recorded requests of each URL
are replayed to the worker, ``--rounds`` times; a URL's figure is the sum of its requests' times.

    python bench/bench_pages.py             # about a minute
    python bench/bench_pages.py --rounds 5

Prints a table and writes it as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conformance_lib.server import free_port  # noqa: E402

RESULTS = REPO / "bench" / "results"
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
#: No remote Wikidata/DBpedia call in any figure.
ENV = {"DPRK_KG_EXTERNAL_FACTS_ENDPOINTS": "{}"}
#: The targets of issue 14 (p50 at concurrency 1, ms).
TARGETS = {"entity page": 20.0, "search answer": 20.0, "class page with facets": 50.0}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def loaded_store(folder: Path) -> None:
    """A store holding the bundled graph as a first start leaves it (loaded, derived, compacted)."""
    os.environ.update(ENV)
    from service import create_app

    create_app({"STORE_DIR": str(folder)}).extensions["dprk_kg_store"].close()


def start_server(store: Path, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port",
                                    str(port), "--store", str(store)], cwd=REPO, env={**os.environ, **ENV},
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited ({process.returncode}); see {log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the service did not answer /health in 300 s")


class Client:
    """One keep-alive connection; ``get`` answers (status, body, seconds)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str, accept: str) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.connection.request("GET", path, headers={"Accept": accept})
        response = self.connection.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started


def workload(client: Client) -> dict[str, list[tuple[str, str]]]:
    """The URLs of each kind (with the Accept each is asked with), from the service's own answers."""
    persons = json.loads(client.get("/browse/Person.json?size=100", "application/json")[1])
    rows = persons["results"]
    assert rows, "no persons to benchmark"
    entity = [(urllib.parse.urlsplit(row["page"]).path, HTML) for row in rows]
    search = [("/search?" + urllib.parse.urlencode({"q": row["label"]}), "application/json") for row in rows]
    browse: list[tuple[str, str]] = []
    for name in json.loads(client.get("/browse.json", "application/json")[1])["featured"]:
        page = "/browse/" + name.split(":", 1)[1]
        browse.append((page, HTML))
        facets = json.loads(client.get(page + ".json", "application/json")[1])["facets"]
        for facet in facets[:2]:
            browse += [(value["toggle"], HTML) for value in facet["values"][:5]]
    return {"entity page": entity, "search answer": search, "class page with facets": browse}


def time_http(client: Client, urls: list[tuple[str, str]], rounds: int) -> tuple[list[float], list[float]]:
    first = []
    for path, accept in urls:
        status, _, seconds = client.get(path, accept)
        assert status == 200, f"GET {path}: {status}"
        first.append(seconds)
    repeat = [client.get(path, accept)[2] for _ in range(rounds) for path, accept in urls]
    return first, repeat


def time_store(urls: list[tuple[str, str]], store_dir: Path, rounds: int) -> tuple[list[float], list[int]]:
    """Per URL, the time its store requests take when replayed straight to the store worker (and how many)."""
    from service import create_app

    app = create_app({"STORE_DIR": str(store_dir), "TESTING": True})
    store = app.extensions["dprk_kg_store"]
    recorded: list[tuple[dict, float | None]] = []
    exchange: Callable[..., Any] = store._exchange

    def recording(request: dict, timeout: float | None = None, *args: Any, **kwargs: Any) -> Any:
        recorded.append((dict(request), timeout))
        return exchange(request, timeout, *args, **kwargs)

    store._exchange = recording
    client = app.test_client()
    per_url: list[list[tuple[dict, float | None]]] = []
    for path, accept in urls:
        recorded.clear()
        assert client.get(path, headers={"Accept": accept}).status_code == 200, path
        per_url.append(list(recorded))
    store._exchange = exchange
    seconds: list[float] = []
    for _ in range(rounds):
        for requests in per_url:
            started = time.perf_counter()
            for request, timeout in requests:
                for _message in store._exchange(request, timeout or store.query_timeout):
                    pass
            seconds.append(time.perf_counter() - started)
    store.close()
    return seconds, [len(r) for r in per_url]


def ms(value: float) -> str:
    return f"{value * 1000:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pages over HTTP beside their SPARQL sent straight to the store.")
    parser.add_argument("--rounds", type=int, default=3, help="repeat views per URL (default 3)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    try:
        loaded_store(work / "template")
        shutil.copytree(work / "template", work / "http")
        shutil.copytree(work / "template", work / "direct")
        process, port = start_server(work / "http", work / "server.log")
        try:
            client = Client(port)
            kinds = workload(client)
            http_figures = {kind: time_http(client, urls, args.rounds) for kind, urls in kinds.items()}
        finally:
            process.terminate()
            process.wait(timeout=30)
        store_figures = {kind: time_store(urls, work / "direct", args.rounds) for kind, urls in kinds.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    report = []
    header = (f"{'page':<24} {'URLs':>5} {'first p50':>10} {'first p95':>10} {'repeat p50':>11} {'repeat p95':>11} "
              f"{'store p50':>10} {'requests':>9} {'first/store':>12} {'target':>7}")
    lines = [header, "-" * len(header)]
    for kind, (first, repeat) in http_figures.items():
        store, counts = store_figures[kind]
        row = {"page": kind, "urls": len(kinds[kind]), "first_p50_ms": statistics.median(first) * 1000,
               "first_p95_ms": percentile(first, 0.95) * 1000, "repeat_p50_ms": statistics.median(repeat) * 1000,
               "repeat_p95_ms": percentile(repeat, 0.95) * 1000, "store_p50_ms": statistics.median(store) * 1000,
               "store_requests_median": statistics.median(counts), "target_p50_ms": TARGETS[kind]}
        row["store_max_ms"], row["store_requests_max"] = max(store) * 1000, max(counts)
        row["first_over_store"] = row["first_p50_ms"] / row["store_p50_ms"] if row["store_p50_ms"] > 0.05 else None
        report.append(row)
        ratio = f"{row['first_over_store']:.1f}×" if row["first_over_store"] else "–"
        lines.append(f"{kind:<24} {len(kinds[kind]):>5} {ms(statistics.median(first)):>10} "
                     f"{ms(percentile(first, 0.95)):>10} {ms(statistics.median(repeat)):>11} "
                     f"{ms(percentile(repeat, 0.95)):>11} {ms(statistics.median(store)):>10} "
                     f"{statistics.median(counts):>9g} {ratio:>12} {TARGETS[kind]:>5g} ms")
    print("\n".join(lines))
    search = next(row for row in report if row["page"] == "search answer")
    print(f"\nsearch answers come from an in-memory index, not from SPARQL: the first search after a write builds it "
          f"from the store ({search['store_max_ms']:.0f} ms of store requests, {search['store_requests_max']} of them)")
    print("ms at concurrency 1; first = each URL once on a fresh server, repeat = the same URLs again "
          f"({args.rounds} rounds); store = the page's own store requests replayed straight to the store worker")
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"pages-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"rounds": args.rounds, "pages": report}, indent=1))
    print(f"written to {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
