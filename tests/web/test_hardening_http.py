"""HTTP hardening over real sockets: bodies bounded in size and time whatever their framing, admission
control that keeps threads for cheap requests, and MEMORY_LIMIT on every process of the service.

Every server here receives hostile traffic, so each runs under ``CONTAINED_MEMORY``; every socket
and request has a timeout, and every loop a bound.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CONTAINED_MEMORY, WRITE_TOKEN, LiveServer
from tests.process_helpers import alive, children

LIMIT = 1000
#: A body of 100 triples / operations: well over LIMIT bytes.
TRIPLES = b"\n".join(b"<urn:big:s%d> <urn:big:p> <urn:big:o> ." % i for i in range(100)) + b"\n"
UPDATE = b"INSERT DATA { " + TRIPLES + b" }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def raw_request(port: int, head: str, body_parts: list[bytes] = (), timeout: float = 15.0) -> tuple[int, bytes]:
    """Send ``head`` then ``body_parts`` on a fresh connection; the status and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        for part in body_parts:
            sock.sendall(part)
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def chunked(port: int, method: str, path: str, content_type: str, body: bytes) -> tuple[int, bytes]:
    """``body`` sent with ``Transfer-Encoding: chunked`` in 100-byte chunks, with the write token."""
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Authorization: Bearer {WRITE_TOKEN}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + 100]), body[i:i + 100]) for i in range(0, len(body), 100)]
    return raw_request(port, head, [*parts, b"0\r\n\r\n"])


def get(url: str, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """GET ``url``: status, headers (names in lower case), body (HTTP errors included)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def quads(server: LiveServer) -> int:
    """How many quads the store holds (a cheap query)."""
    query = urllib.parse.urlencode({"query": COUNT})
    status, _, body = get(f"{server.url}/sparql?{query}")
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
def test_chunked_bodies_over_the_limit_are_refused_and_change_nothing(make_live_server, server_name: str) -> None:
    server = make_live_server("--server", server_name, "--write-token", WRITE_TOKEN, "--no-data",
                              "--max-body-bytes", str(LIMIT), memory_limit=CONTAINED_MEMORY)
    before = quads(server)
    attempts = [
        ("POST", "/sparql", "application/sparql-update", UPDATE),
        ("POST", "/sparql", "application/x-www-form-urlencoded",
         urllib.parse.urlencode({"update": UPDATE.decode()}).encode()),
        ("POST", "/ingest", "text/turtle", TRIPLES),
        ("POST", "/store?graph=urn:big:g1", "text/turtle", TRIPLES),
        ("PUT", "/store?graph=urn:big:g", "text/turtle", TRIPLES),
        ("POST", "/validate", "text/turtle", TRIPLES),
    ]
    for method, path, content_type, body in attempts:
        status, answer = chunked(server.port, method, path, content_type, body)
        assert status == 413, (method, path, status, answer[:300])
        assert b"MAX_BODY_BYTES" in answer
    assert quads(server) == before
    # A chunked body within the limit is read whole and applied.
    status, answer = chunked(server.port, "POST", "/sparql", "application/sparql-update",
                             b"INSERT DATA { GRAPH <urn:small:g> { <urn:small:s> <urn:small:p> 'x' } }")
    assert status == 204, answer[:300]
    assert quads(server) == before + 1


def trickle(port: int, path: str, stop: threading.Event, answers: list[int]) -> None:
    """Send a body one byte a second (bounded: at most 60 bytes); record the status if one comes back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                         "Content-Length: 60\r\n\r\n".encode())
            for _ in range(60):
                if stop.wait(1.0):
                    return
                sock.sendall(b" ")
                try:
                    sock.settimeout(0.01)
                    data = sock.recv(100)
                    if data:
                        answers.append(int(data.split()[1]))
                        return
                except TimeoutError:
                    pass
                finally:
                    sock.settimeout(2)
    except OSError:
        answers.append(-1)


def test_slow_bodies_do_not_hold_every_thread(make_live_server) -> None:
    """Four bodies sent a byte a second (= THREADS) used to leave every other request unanswered."""
    server = make_live_server("--threads", "4", "--reserved-threads", "2", "--body-read-timeout", "30",
                              memory_limit=CONTAINED_MEMORY)
    stop, answers = threading.Event(), []
    senders = [threading.Thread(target=trickle, args=(server.port, "/sparql", stop, answers)) for _ in range(4)]
    for sender in senders:
        sender.start()
    try:
        time.sleep(1.0)  # all four are sending
        status, _, _ = get(server.url + "/health", timeout=5)
        assert status == 200
        status, _, _ = get(server.url + "/queries.json", timeout=5)
        assert status == 200
    finally:
        stop.set()
        for sender in senders:
            sender.join(timeout=10)
    assert 503 in answers  # the bodies beyond THREADS - RESERVED_THREADS were refused at once


def test_a_body_that_arrives_too_slowly_is_answered_408(make_live_server) -> None:
    server = make_live_server("--body-read-timeout", "1", memory_limit=CONTAINED_MEMORY)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                     b"Content-Length: 40\r\n\r\nASK")
        data = b""
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            sock.sendall(b" ")  # one byte a quarter second: never the whole body in time
            time.sleep(0.25)
            sock.settimeout(0.01)
            try:
                data += sock.recv(4096)
            except TimeoutError:
                pass
            sock.settimeout(10)
        sock.settimeout(2)
        try:
            data += sock.recv(4096)
        except TimeoutError:
            pass
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b"BODY_READ_TIMEOUT" in data


SLOW_QUERY = ("SELECT (COUNT(*) AS ?n) WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 150 } "
              "{ SELECT ?a WHERE { ?a ?b ?c } LIMIT 3000 } FILTER(STR(?s) = STR(?a)) }")


def test_slow_queries_are_admitted_in_a_bounded_lane(make_live_server) -> None:
    """Eight slow queries at once: those beyond the lane are refused with 503 + Retry-After; pages still answer."""
    server = make_live_server("--threads", "4", "--reserved-threads", "2", "--admission-wait", "0.2",
                              memory_limit=CONTAINED_MEMORY)
    url = f"{server.url}/sparql?{urllib.parse.urlencode({'query': SLOW_QUERY})}"
    results: list[tuple[int, dict[str, str], bytes]] = []
    workers = [threading.Thread(target=lambda: results.append(get(url, timeout=60))) for _ in range(8)]
    for worker in workers:
        worker.start()
    time.sleep(0.3)
    page = get(server.url + "/queries.json", timeout=10)
    for worker in workers:
        worker.join(timeout=90)
    assert page[0] == 200
    statuses = sorted(status for status, _, _ in results)
    assert 200 in statuses and 503 in statuses, statuses
    refused = [(headers, body) for status, headers, body in results if status == 503]
    for headers, body in refused:
        assert headers.get("retry-after"), headers
        assert b"RESERVED_THREADS" in body or b"MAX_QUERIES" in body, body


def test_memory_limit_bounds_every_process_and_a_killed_store_worker_is_replaced(make_live_server) -> None:
    """granian serves from a thread of the serve process, so the tree is that process and its store worker."""
    server = make_live_server("--memory-limit", str(2 * 2**30), memory_limit=CONTAINED_MEMORY)
    serving = server.process.pid
    assert len(children(serving)) == 1  # the store worker
    for pid in (serving, children(serving)[0]):
        limits = Path(f"/proc/{pid}/limits").read_text()
        assert f"Max address space         {2 * 2**30}" in limits  # MEMORY_LIMIT, under the test's own limit
    for _ in range(3):  # three deaths in a row
        os.kill(children(serving)[0], signal.SIGKILL)
        time.sleep(0.3)
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline:
            try:
                status = get(server.url + "/health", timeout=2)[0]
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200
        assert alive(serving)
