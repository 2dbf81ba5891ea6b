"""A remote store that goes away: the service answers 503 with ``Retry-After``, never 500, and recovers.

What an operator of the remote mode relies on: when the store behind ``--store-url`` is stopped, or a proxy in
front of it answers 503, every request that needs the store — a query, a write, /health, VoID — is a 503 naming
the store as the cause with ``Retry-After`` (a load balancer takes the instance out, clients retry), with no
trace and no store address in the body; when the store is back, the same requests answer again without
restarting the service. Real processes: an Oxigraph server, our service in front of it, and for the 503 case a
small forwarding proxy in this process (as a reverse proxy before a store would be).
"""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tests.conftest import (
    WRITE_TOKEN,
    LiveServer,
    OxigraphServer,
    oxigraph_binary,
    start_live_server,
    start_oxigraph,
    wait_for,
)

RESULTS_JSON = "application/sparql-results+json"
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}


def call(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, Any, bytes]:
    """One request with a timeout; (status, headers, body) whatever the status."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def query_url(service: LiveServer, text: str) -> str:
    return service.url + "/sparql?" + urllib.parse.urlencode({"query": text})


def assert_unavailable(status: int, headers: Any, body: bytes, store_url: str) -> None:
    """A 503 that names the store, asks to retry, and shows no trace or store address."""
    text = body.decode("utf-8", "replace")
    assert status == 503, text
    assert int(headers["Retry-After"]) > 0
    assert "store" in text and "unavailable" in text
    assert "Traceback" not in text and store_url not in text


class _Proxy(BaseHTTPRequestHandler):
    """Forwards every request to ``upstream``; while ``refusing``, answers 503 as an overloaded proxy would."""

    upstream: ClassVar[str] = ""
    refusing: ClassVar[threading.Event] = threading.Event()

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.refusing.is_set():
            payload = b"upstream overloaded"
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept", "authorization")}
        status, answer_headers, payload = call(self.upstream + self.path, data=body, headers=headers,
                                               method=self.command)
        self.send_response(status)
        for name in ("Content-Type", "Server"):
            if answer_headers.get(name):
                self.send_header(name, answer_headers[name])
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[OxigraphServer]:
    server = start_oxigraph(tmp_path_factory.mktemp("unavailable-oxigraph") / "data")
    yield server
    server.stop()  # the process of the last restart (the test replaces it)


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory, oxigraph: OxigraphServer) -> Iterator[LiveServer]:
    """Our service straight at the Oxigraph server (loads the bundled graph into it), writes allowed."""
    server = start_live_server(tmp_path_factory.mktemp("unavailable-direct") / "store",
                               "--store-url", oxigraph.query_url, "--update-url", oxigraph.update_url,
                               "--graph-store-url", oxigraph.store_url, env={"DPRK_KG_WRITE_TOKEN": WRITE_TOKEN})
    yield server
    server.stop()


def restart(oxigraph: OxigraphServer) -> None:
    """The Oxigraph server again on its folder and port (its data kept), as an operator restarts a store."""
    port = urllib.parse.urlsplit(oxigraph.url).port
    oxigraph.process = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(oxigraph.location),
                                         "--bind", f"127.0.0.1:{port}"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    wait_for(oxigraph.query_url + "?query=ASK%7B%7D", oxigraph.process)


def test_a_stopped_store_is_503_with_retry_after_and_the_service_recovers_when_it_is_back(
        direct: LiveServer, oxigraph: OxigraphServer) -> None:
    asked = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/dprk-japan-kg/ontology#Person> }"
    status, _, body = call(query_url(direct, asked), headers={"Accept": RESULTS_JSON})
    assert status == 200, body
    assert call(direct.url + "/health")[0] == 200

    oxigraph.stop()  # the store goes away while the service runs
    other = asked + " # not in the result cache"
    assert_unavailable(*call(query_url(direct, other), headers={"Accept": RESULTS_JSON}), oxigraph.url)
    status, headers, body = call(query_url(direct, other), headers={"Accept": "application/json"})
    assert_unavailable(status, headers, body, oxigraph.url)
    problem = json.loads(body)
    assert problem["status"] == 503 and problem["error"] == "Service Unavailable"
    assert_unavailable(*call(direct.url + "/health"), oxigraph.url)
    assert_unavailable(*call(direct.url + "/.well-known/void", headers={"Accept": "text/turtle"}), oxigraph.url)
    write = b"INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> 1 } }"
    assert_unavailable(*call(direct.url + "/sparql", data=write, method="POST",
                             headers={**AUTH, "Content-Type": "application/sparql-update"}), oxigraph.url)

    restart(oxigraph)
    assert call(direct.url + "/health")[0] == 200
    status, _, body = call(query_url(direct, other), headers={"Accept": RESULTS_JSON})
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"] == json.loads(call(query_url(direct, asked), headers={
        "Accept": RESULTS_JSON})[2])["results"]["bindings"]


def test_a_store_whose_proxy_answers_503_is_503_and_answers_again_when_the_proxy_does(
        tmp_path_factory: pytest.TempPathFactory, direct: LiveServer, oxigraph: OxigraphServer) -> None:
    handler = type("Proxy", (_Proxy,), {"upstream": oxigraph.url, "refusing": threading.Event()})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    try:  # the store is loaded already (by ``direct``): this service finds it not empty
        service = start_live_server(tmp_path_factory.mktemp("unavailable-proxied") / "store",
                                    "--store-url", proxy_url + "/query", "--update-url", proxy_url + "/update",
                                    "--graph-store-url", proxy_url + "/store")
        try:
            text = "ASK { ?s a <https://w3id.org/dprk-japan-kg/ontology#Person> }"
            assert call(query_url(service, text), headers={"Accept": RESULTS_JSON})[0] == 200
            handler.refusing.set()
            assert_unavailable(*call(query_url(service, text + " # again"), headers={"Accept": RESULTS_JSON}),
                               proxy_url)
            assert_unavailable(*call(service.url + "/health"), proxy_url)
            handler.refusing.clear()
            status, _, body = call(query_url(service, text + " # again"), headers={"Accept": RESULTS_JSON})
            assert status == 200 and json.loads(body)["boolean"] is True
        finally:
            service.stop()
    finally:
        proxy.shutdown()
        proxy.server_close()
