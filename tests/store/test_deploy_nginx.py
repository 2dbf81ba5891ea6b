"""The shipped deployment: two service instances on one store, behind nginx with ``deploy/nginx.conf``.

What an operator following the README's deployment notes relies on: the configuration as shipped (only
its ports changed) starts; requests through the proxy are shared between the instances; every instance
answers alike, before and after a write made through the proxy (whichever instance took it); the links
the service writes name the proxy's address (``--trusted-proxies 1``); and when one instance stops, reads
through the proxy are still answered by the other. Real processes throughout: an Oxigraph server, two
``dprk-kg serve --store-url`` and nginx, all on 127.0.0.1 ports chosen at random.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.conftest import REPO, WRITE_TOKEN, LiveServer, OxigraphServer, free_port, start_live_server, start_oxigraph

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
if NGINX is None and os.environ.get("DPRK_KG_REQUIRE_SHARED") == "1":
    raise RuntimeError("nginx is required here (CI installs it: apt-get install nginx-light)")
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")

RESULTS_JSON = "application/sparql-results+json"
VOID_ENDPOINT = ox.NamedNode("http://rdfs.org/ns/void#sparqlEndpoint")


@dataclass
class Deployment:
    store: OxigraphServer
    instances: list[LiveServer]
    proxy_url: str


def _nginx_config(shipped: str, listen: int, upstreams: list[int], folder: Path) -> str:
    """The shipped configuration with only its ports (and, for a test, its log and pid files) changed."""
    lines = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in upstreams)
    config, count = re.subn(r"(?m)^\s*server 127\.0\.0\.1:\d+ [^\n]*\n(\s*server 127\.0\.0\.1:\d+ [^\n]*\n)*",
                            lines + "\n", shipped)
    assert count == 1, "deploy/nginx.conf no longer has its upstream block"
    config, count = re.subn(r"listen \d+;", f"listen 127.0.0.1:{listen};", config)
    assert count == 1
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                             "uwsgi", "scgi"))
    config = config.replace("http {", "http {\n    access_log off;\n" + temp, 1)
    return f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n" + config


def _get(url: str, accept: str = RESULTS_JSON, timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _ask(base: str, pattern: str) -> bool:
    status, body = _get(base + "/sparql?" + urllib.parse.urlencode({"query": f"ASK {{ {pattern} }}"}))
    assert status == 200, body[:300]
    return json.loads(body)["boolean"]


def _requests_counted(instance: LiveServer) -> float:
    """How many requests an instance has answered, by its own /metrics."""
    _, body = _get(instance.url + "/metrics", accept="text/plain")
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.decode().splitlines()
               if line.startswith("dprk_kg_http_requests_total{"))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("deploy")
    store = start_oxigraph(folder / "oxigraph")
    instances: list[LiveServer] = []
    nginx = None
    try:
        common = ("--store-url", store.query_url, "--update-url", store.update_url, "--graph-store-url",
                  store.store_url, "--trusted-proxies", "1")
        env = {"DPRK_KG_WRITE_TOKEN": WRITE_TOKEN}
        instances.append(start_live_server(folder / "a", *common, env=env))  # loads the bundled graph
        instances.append(start_live_server(folder / "b", *common, env=env))  # finds it loaded
        listen = free_port()
        config = folder / "nginx.conf"
        config.write_text(_nginx_config((REPO / "deploy" / "nginx.conf").read_text(), listen,
                                        [i.port for i in instances], folder))
        checked = subprocess.run([NGINX, "-t", "-c", str(config), "-p", str(folder)], capture_output=True,
                                 text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        nginx = subprocess.Popen([NGINX, "-c", str(config), "-p", str(folder), "-g", "daemon off;"],
                                 stdin=subprocess.DEVNULL)
        proxy = f"http://127.0.0.1:{listen}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(proxy + "/health", accept="application/json", timeout=5)[0] == 200:
                    break
            except urllib.error.URLError:
                pass  # not listening yet
            assert nginx.poll() is None and time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.2)
        yield Deployment(store, instances, proxy)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=15)
        for instance in instances:
            instance.stop()
        store.stop()


def test_requests_through_the_proxy_reach_both_instances(deployment: Deployment) -> None:
    before = [_requests_counted(i) for i in deployment.instances]
    for _ in range(10):
        assert _get(deployment.proxy_url + "/queries/documents.json", accept="application/json")[0] == 200
    after = [_requests_counted(i) for i in deployment.instances]
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


def test_every_instance_answers_alike(deployment: Deployment) -> None:
    answers = {_get(i.url + "/queries/documents.json", accept="application/json")[1]
               for i in deployment.instances}
    assert len(answers) == 1


def test_links_name_the_proxy(deployment: Deployment) -> None:
    status, body = _get(deployment.proxy_url + "/.well-known/void", accept="application/n-triples")
    assert status == 200
    endpoints = {t.object.value for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
                 if t.predicate == VOID_ENDPOINT}
    assert deployment.proxy_url + "/sparql" in endpoints


def test_a_write_through_the_proxy_is_seen_by_every_instance(deployment: Deployment) -> None:
    pattern = "<http://example.org/deployed> ?p ?o"
    for instance in deployment.instances:  # each caches the answer "no"
        assert not _ask(instance.url, pattern)
    update = ("PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#> PREFIX dct: <http://purl.org/dc/terms/> "
              "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX djr: <https://w3id.org/dprk-japan-kg/id/> "
              "INSERT DATA { GRAPH <http://example.org/deployed-graph> { <http://example.org/deployed> a dj:Person ; "
              "rdfs:label \"Deployed\"@en ; dct:source djr:doc-000 . } }")
    request = urllib.request.Request(deployment.proxy_url + "/sparql", method="POST",
                                     data=urllib.parse.urlencode({"update": update}).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Authorization": f"Bearer {WRITE_TOKEN}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 204
    for instance in deployment.instances:
        assert _ask(instance.url, pattern), f"{instance.url} answers from before the write"


def test_reads_survive_one_instance_stopping(deployment: Deployment) -> None:
    deployment.instances[0].stop()
    answers = [_get(deployment.proxy_url + "/queries/documents.json", accept="application/json")[0]
               for _ in range(6)]
    assert answers == [200] * 6
