"""Behind a reverse proxy: the service names the address clients use, and only when told to trust the proxy.

What an operator relies on: with ``--trusted-proxies 1`` behind a proxy that terminates TLS and serves the
service under a host name and prefix of its own, the absolute URLs the service writes (the VoID SPARQL
endpoint, the OpenAPI server) are the public ones; without it, the same headers — which any client can
send — change nothing. Real servers, real sockets.
"""

from __future__ import annotations

import json
import urllib.request

import pyoxigraph as ox
import pytest

from tests.conftest import LiveServer

VOID_ENDPOINT = ox.NamedNode("http://rdfs.org/ns/void#sparqlEndpoint")
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "kg.example.org", "X-Forwarded-Prefix": "/kg",
             "X-Forwarded-For": "203.0.113.7"}


def _get(server: LiveServer, path: str, accept: str) -> bytes:
    request = urllib.request.Request(server.url + path, headers={"Accept": accept, **FORWARDED})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def _void_endpoints(server: LiveServer) -> set[str]:
    body = _get(server, "/.well-known/void", "application/n-triples")
    return {t.object.value for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES) if t.predicate == VOID_ENDPOINT}


def _openapi_servers(server: LiveServer) -> list[str]:
    return [s["url"] for s in json.loads(_get(server, "/openapi.json", "application/json"))["servers"]]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> dict[str, LiveServer]:
    from tests.conftest import start_live_server

    started = {"trusting": start_live_server(tmp_path_factory.mktemp("proxy-trust"), "--trusted-proxies", "1"),
               "default": start_live_server(tmp_path_factory.mktemp("proxy-default"))}
    yield started
    for server in started.values():
        server.stop()


def test_behind_a_trusted_proxy_urls_are_the_public_ones(servers: dict[str, LiveServer]) -> None:
    assert "https://kg.example.org/kg/sparql" in _void_endpoints(servers["trusting"])
    assert _openapi_servers(servers["trusting"]) == ["https://kg.example.org/kg"]


def test_forwarded_headers_are_ignored_unless_trusted(servers: dict[str, LiveServer]) -> None:
    server = servers["default"]
    assert f"{server.url}/sparql" in _void_endpoints(server)
    assert not any("example.org" in url for url in _void_endpoints(server))
    assert _openapi_servers(server) == [server.url]


def test_a_negative_depth_is_refused_naming_the_setting(make_app) -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        make_app(TRUSTED_PROXIES=-1)
