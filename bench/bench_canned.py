"""Canned-query throughput: the service with its cache, without it, and the standalone Oxigraph server.

Why this comparison: a canned query answered from the cache should be at least as fast
as a plain SPARQL server evaluating the same query — otherwise the cache is not worth its
memory. The Oxigraph server (PyPI ``oxigraph``) gets exactly the dataset the service
queries (named graphs, the union default graph and the RDFS inferences) and exactly the
SPARQL text the service evaluates (the query with its parameters bound), so all three
return the same rows.

Each target gets the same mix of requests (every non-federated canned query with its
example parameters, plus a few variations), sent by several client processes over
keep-alive connections; the figure is requests per second over the whole run.

Usage: python bench/bench_canned.py [--requests N] [--clients C] [--record]
(--record writes bench/canned-results.md, which the README's canned section includes.)
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from service.canned.backend import DataLookups, LocalBackend, local_store  # noqa: E402
from service.canned.header import load_queries  # noqa: E402
from service.canned.params import bind  # noqa: E402
from service.config import DEFAULT_SERVICE_ALLOWLIST  # noqa: E402

VARIATIONS = {
    "contacts-timeline": [{}, {"participant": "djr:japan"}, {"issue": "djr:abduction-issue"}],
    "claims": [{"quantity": "djr:qk-abductees-total"}],
    "representatives": [{"represented": "djr:north-korea"}],
    "about-entity": [{"entity": "djr:rgb"}],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


def start_service(store: Path, *args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port), "--store", str(store),
                                "--threads", "16", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/health", process)
    return process, url


def start_oxigraph(location: Path) -> tuple[subprocess.Popen, str]:
    binary = Path(sys.executable).with_name("oxigraph")
    port = free_port()
    process = subprocess.Popen([str(binary if binary.exists() else shutil.which("oxigraph")), "serve", "--location",
                                str(location), "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/query?query=ASK%7B%7D", process)
    store = local_store(ROOT)  # the same dataset the service queries: named graphs + union default + inferences
    data = ox.serialize(store, format=ox.RdfFormat.N_QUADS)
    request = urllib.request.Request(url + "/store", data=data, method="POST",
                                     headers={"Content-Type": "application/n-quads"})
    with urllib.request.urlopen(request, timeout=120):
        pass
    return process, url


def requests_mix() -> list[tuple[str, str, str]]:
    """(label, canned path with query string, the bound SPARQL text) for every request of the mix."""
    queries = load_queries(ROOT / "queries", DEFAULT_SERVICE_ALLOWLIST)
    lookups = DataLookups(LocalBackend(local_store(ROOT)))  # enums drawn from the data are checked as the service does
    mix = []
    for name, query in queries.items():
        if query.federated:
            continue
        for params in [query.example_params(), *VARIATIONS.get(name, [])]:
            args = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
            binding = bind(query, args, lookups)
            suffix = "ttl" if query.is_graph else "json"
            pairs = [(k, item) for k, values in args.items() for item in values]
            path = f"/queries/{name}.{suffix}" + ("?" + urllib.parse.urlencode(pairs) if pairs else "")
            mix.append((name, path, binding.sparql()))
    return mix


def _client(args: tuple[str, list[str], int, dict[str, str]]) -> tuple[int, float]:
    base, paths, count, headers = args
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    started = time.perf_counter()
    for i in range(count):
        conn.request("GET", paths[i % len(paths)], headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{paths[i % len(paths)]}: {response.status} {body[:200]!r}")
    return count, time.perf_counter() - started


def _fetch(base: str, path: str, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def _rows(body: bytes, graph: bool) -> object:
    """An answer in comparable form: a set of triples, or the list of SPARQL JSON bindings."""
    if graph:
        return {(q.subject, q.predicate, q.object) for q in ox.parse(body, format=ox.RdfFormat.TURTLE)}
    data = json.loads(body)
    return data.get("boolean", data.get("results", {}).get("bindings"))


def check_same_answers(mix: list[tuple[str, str, str]], service: str, oxigraph: str, accept: dict[str, str]) -> int:
    """Every request answered alike by the service and the Oxigraph server; returns the number of differences."""
    differences = 0
    for name, path, sparql in mix:
        graph = ".ttl" in path
        ours = _rows(_fetch(service, path, accept), graph)
        theirs = _rows(_fetch(oxigraph, "/query?" + urllib.parse.urlencode({"query": sparql}), accept), graph)
        if ours != theirs:
            differences += 1
            print(f"DIFFERENT ANSWER: {name} {path}", file=sys.stderr)
    return differences


def throughput(base: str, paths: list[str], total: int, clients: int, headers: dict[str, str]) -> float:
    """Requests per second with ``clients`` processes sharing ``total`` requests."""
    _client((base, paths, len(paths), headers))  # warm up: every request once (fills the cache)
    per = max(1, total // clients)
    with multiprocessing.Pool(clients) as pool:
        started = time.perf_counter()
        results = pool.map(_client, [(base, paths[i:] + paths[:i], per, headers) for i in range(clients)])
        elapsed = time.perf_counter() - started
    return sum(n for n, _ in results) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--record", action="store_true", help="write bench/canned-results.md")
    options = parser.parse_args()

    mix = requests_mix()
    work = Path(tempfile.mkdtemp(prefix="bench-canned-"))
    processes: list[subprocess.Popen] = []
    try:
        cached, cached_url = start_service(work / "cached")
        processes.append(cached)
        uncached, uncached_url = start_service(work / "uncached", "--canned-cache-size", "0")
        processes.append(uncached)
        oxigraph, oxigraph_url = start_oxigraph(work / "oxigraph")
        processes.append(oxigraph)

        accept = {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}
        differences = check_same_answers(mix, cached_url, oxigraph_url, accept)
        canned_paths = [path for _, path, _ in mix]
        oxigraph_paths = [f"/query?{urllib.parse.urlencode({'query': sparql})}" for _, _, sparql in mix]
        figures = {
            "service, cache on": throughput(cached_url, canned_paths, options.requests, options.clients, accept),
            "service, cache off": throughput(uncached_url, canned_paths, options.requests, options.clients, accept),
            "Oxigraph server, same query": throughput(oxigraph_url, oxigraph_paths, options.requests, options.clients,
                                                     accept),
        }
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(work, ignore_errors=True)

    reference = figures["Oxigraph server, same query"]
    lines = [
        "### Performance",
        "",
        f"`python bench/bench_canned.py --requests {options.requests} --clients {options.clients}`: "
        f"{len(mix)} different canned requests (every local query with its example, plus variations), "
        f"sent round-robin by {options.clients} client processes over keep-alive connections; the Oxigraph "
        "server gets the same dataset and the same bound SPARQL text. "
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}.",
        "",
        f"Answers compared request by request: {len(mix) - differences} of {len(mix)} identical.",
        "",
        "| target | requests/s | vs. Oxigraph server |",
        "|---|---|---|",
    ]
    for label, value in figures.items():
        lines.append(f"| {label} | {value:,.0f} | {value / reference:.2f}× |")
    text = "\n".join(lines) + "\n"
    print(text)
    if options.record:
        (ROOT / "bench" / "canned-results.md").write_text(text, encoding="utf-8")
    return 0 if figures["service, cache on"] >= reference and not differences else 1


if __name__ == "__main__":
    sys.exit(main())
