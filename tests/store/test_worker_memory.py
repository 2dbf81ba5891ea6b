"""The store worker at idle maps no OpenSSL (its handshake's HMAC uses Python's own MD5) and runs with two malloc
arenas unless told otherwise; and it still accepts the web process's authenticated connections."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import quote


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


def test_the_store_worker_maps_no_libcrypto_and_limits_its_arenas(live_server) -> None:
    worker = int(json.loads(fetch(live_server.url + "/health")[1])["store_worker_pid"])
    status, body = fetch(f"{live_server.url}/sparql?query={quote('SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }')}")
    assert status == 200 and json.loads(body)["results"]["bindings"]  # the handshake worked
    assert "libcrypto" not in Path(f"/proc/{worker}/maps").read_text()
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    assert b"MALLOC_ARENA_MAX=2" in environ
