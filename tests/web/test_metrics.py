"""Operating the service: Prometheus metrics at /metrics, request ids on every answer, JSON request logs.

Over a real ``dprk-kg serve`` (granian, its worker process and the store worker) on a socket, with
LOG_FORMAT=json and its log in a file, under a memory limit (it receives hostile request ids). What a
monitoring system relies on: the counters move with the requests that happened (a 200, a guard refusal, a
canned-query cache hit, the store's round trips), the histograms have their buckets, the text format parses
with the library's own parser; what a log pipeline relies on: every line is JSON, one per request, carrying
the request id the client sent (or one made for it) — which the answer echoes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CONTAINED_MEMORY, LiveServer, start_live_server
from prometheus_client.parser import text_string_to_metric_families

from service.web import metrics

GUARD_REFUSED = "SELECT * WHERE { SERVICE <http://example.org/not-allowed> { ?s ?p ?o } }"
FIELDS = {"time", "level", "logger", "message", "request_id", "method", "route", "status", "duration_ms", "bytes"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[tuple[LiveServer, Path]]:
    folder = tmp_path_factory.mktemp("metrics")
    log = folder / "server.log"
    server = start_live_server(folder / "store", env={"DPRK_KG_LOG_FORMAT": "json"}, memory_limit=CONTAINED_MEMORY,
                               log_file=log)
    yield server, log
    server.stop()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """(status, headers, body) of a GET, errors included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def scrape(server: LiveServer) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, parsed by prometheus_client's own parser: {(name, labels): value}."""
    status, headers, body = fetch(server.url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body.decode()) for sample in family.samples}


def sample(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def query_url(server: LiveServer, query: str) -> str:
    return server.sparql + "?" + urllib.parse.urlencode({"query": query})


def test_counters_move_with_the_requests_that_happened(served):
    server, _ = served
    fetch(server.url + "/queries/documents")  # the canned answer is computed (and kept)
    before = scrape(server)
    assert fetch(query_url(server, "ASK {}"))[0] == 200  # the SPARQL fast path
    status, _, body = fetch(query_url(server, GUARD_REFUSED))
    assert status == 400 and b"allow-list" in body
    assert fetch(server.url + "/queries/documents")[0] == 200  # answered from the canned-answer cache
    assert fetch(server.url + "/no/such/page")[0] == 404
    after = scrape(server)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    requests = "dprk_kg_http_requests_total"
    assert moved(requests, method="GET", route="/sparql", status="200") == 1
    assert moved(requests, method="GET", route="/sparql", status="400") == 1
    assert moved(requests, method="GET", route="/queries/<target>", status="200") == 1  # the rule, not the path
    assert moved(requests, method="GET", route=metrics.UNMATCHED, status="404") == 1
    assert moved("dprk_kg_guard_refusals_total") == 1
    assert moved("dprk_kg_cache_hits_total", cache="canned") == 1
    assert moved("dprk_kg_store_round_trip_seconds_count", operation="query") >= 1  # ASK {} reached the store
    assert moved("dprk_kg_http_request_duration_seconds_count", route="/sparql") == 2
    assert sample(after, "dprk_kg_store_worker_restarts_total") == 0
    assert ("dprk_kg_cache_misses_total", frozenset({("cache", "labels")})) in after  # every cache is listed
    assert sample(after, "process_resident_memory_bytes") > 0
    assert not any(name.endswith("_created") for name, _ in after)  # one series per counter


def test_histograms_have_their_buckets(served):
    server, _ = served
    fetch(query_url(server, "ASK {}"))
    samples = scrape(server)
    for name, label, bounds in (("dprk_kg_http_request_duration_seconds", ("route", "/sparql"),
                                 metrics.REQUEST_BUCKETS),
                                ("dprk_kg_store_round_trip_seconds", ("operation", "query"), metrics.STORE_BUCKETS)):
        buckets = {dict(labels)["le"]: value for (sample_name, labels), value in samples.items()
                   if sample_name == name + "_bucket" and label in labels}
        assert set(buckets) == {*(str(float(b)) for b in bounds), "+Inf"}, name
        counts = [buckets[str(float(b))] for b in bounds] + [buckets["+Inf"]]
        assert counts == sorted(counts) and counts[-1] == sample(samples, name + "_count", **dict([label])) >= 1


def test_request_ids_are_echoed_or_made_on_every_answer(served):
    server, _ = served
    for url in (query_url(server, "ASK {}"), query_url(server, GUARD_REFUSED), query_url(server, "SELECT ("),
                server.url + "/no/such/page", server.url + "/health", server.url + "/metrics"):
        status, headers, _ = fetch(url, {"X-Request-Id": "client-id_1.2:3"})
        assert headers["X-Request-Id"] == "client-id_1.2:3", (url, status)
        status, headers, _ = fetch(url)
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-Id"]), (url, status)
    made = {fetch(server.url + "/health")[1]["X-Request-Id"] for _ in range(3)}
    assert len(made) == 3  # a new one each time


def raw_request(server: LiveServer, header_value: bytes) -> bytes:
    """A GET /health sent byte for byte (no client library cleans the header), the whole answer read."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Request-Id: "
                     + header_value + b"\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(("hostile", "kept"), [
    (b"x" * 2000, None),  # longer than MAX_ID_LENGTH
    (b"abc\rInjected-Header: yes", None),  # a bare CR: a header split if it were echoed
    # A bare LF ends the header line (HTTP/1.1 allows it): the id is 'abc', the rest a header of its own.
    (b"abc\nInjected-Header: yes", b"abc"),
    (b'a b"<script>', None),  # outside the safe characters
], ids=["huge", "cr", "lf", "unsafe"])
def test_a_hostile_request_id_is_replaced_never_echoed(served, hostile, kept):
    server, _ = served
    answer = raw_request(server, hostile)
    head = answer.split(b"\r\n\r\n", 1)[0]
    assert b"Injected-Header" not in head and b"<script>" not in head and b"x" * 200 not in head
    status = int(head.split(b" ", 2)[1])
    if status == 200:  # the HTTP layer accepted it: the service put an id of its own
        found = re.search(rb"(?im)^x-request-id: ([^\r\n]*)", head)
        assert found and (found.group(1) == kept if kept else re.fullmatch(rb"[0-9a-f]{32}", found.group(1))), head
    else:  # or the HTTP layer refused the malformed header itself
        assert status == 400, head
    assert fetch(server.url + "/health")[0] == 200


def log_lines(log: Path, request_id: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The JSON log lines with ``request_id`` (waiting for a streamed answer's line, written when it closes)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        found = [line for line in lines if line.get("request_id") == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_each_request_is_one_json_log_line_with_its_fields(served):
    server, log = served
    cases = [(query_url(server, "ASK {}"), "GET", "/sparql", 200),
             (query_url(server, GUARD_REFUSED), "GET", "/sparql", 400),
             (server.url + "/queries/documents", "GET", "/queries/<target>", 200),
             (server.url + "/id/no-such-entity", "GET", "/id/<path:name>", 404),
             (server.url + "/no/such/page", "GET", metrics.UNMATCHED, 404)]
    for number, (url, method, route, status) in enumerate(cases):
        request_id = f"log-check-{number}"
        answered, _, body = fetch(url, {"X-Request-Id": request_id})
        assert answered == status, url
        lines = log_lines(log, request_id)
        requests = [line for line in lines if line["logger"] == "dprk_kg.access"]
        assert len(requests) == 1, lines
        line = requests[0]
        assert FIELDS <= set(line), line
        assert (line["method"], line["route"], line["status"], line["bytes"]) == (method, route, status, len(body))
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    # Everything the service's processes logged is JSON: the supervisor, granian, the web and the store workers.
    for text in log.read_text(encoding="utf-8").splitlines():
        if text.strip():
            assert isinstance(json.loads(text), dict), text


def test_metrics_can_ask_for_a_token_or_be_off(make_app):
    guarded = make_app(METRICS_TOKEN="scrape-secret").test_client()
    assert guarded.get("/metrics").status_code == 401
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    answer = guarded.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert answer.status_code == 200 and b"dprk_kg_http_requests_total" in answer.data
    off = make_app(METRICS=False).test_client()
    assert off.get("/metrics").status_code == 404
    assert "X-Request-Id" in off.get("/health").headers  # ids do not depend on metrics


def test_invented_methods_do_not_grow_the_series(served):
    server, _ = served
    for method in (b"BREW", b"XYZZY"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(method + b" /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            while sock.recv(65536):
                pass
    methods = {dict(labels).get("method") for name, labels in scrape(server) if name == "dprk_kg_http_requests_total"}
    assert "other" in methods and methods <= {*metrics.METHODS, "other"}  # both counted, under one label


def test_a_cross_origin_page_may_send_and_read_the_request_id(client):
    preflight = client.options("/sparql", headers={"Origin": "https://app.example",
                                                   "Access-Control-Request-Headers": "x-request-id"})
    assert "X-Request-Id" in preflight.headers["Access-Control-Allow-Headers"]
    answer = client.get("/sparql?query=ASK%7B%7D", headers={"Origin": "https://app.example", "X-Request-Id": "page-1"})
    assert answer.headers["X-Request-Id"] == "page-1"
    assert "X-Request-Id" in answer.headers["Access-Control-Expose-Headers"]


def test_a_store_worker_restart_is_counted(make_app):
    app = make_app()
    client = app.test_client()
    os.kill(app.extensions["dprk_kg_store"].pid, signal.SIGKILL)  # killed from outside (the OOM killer, an operator)
    assert client.get("/health").status_code == 200  # answered by the worker started again
    samples = {sample.name: sample.value for family in text_string_to_metric_families(client.get("/metrics").text)
               for sample in family.samples}
    assert samples["dprk_kg_store_worker_restarts_total"] == 1


def test_the_openapi_document_declares_metrics(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/metrics"]["get"]
    assert "text/plain" in operation["responses"]["200"]["content"]
