"""The query page at /: served with its settings, working offline (nothing loaded from elsewhere), and every
example and download link it offers works against the endpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from service.rdf.vocabulary import PREFIXES
from service.sparql.lexer import query_kind
from service.web.ui import EXAMPLES
from tests.sparql_helpers import buffered_client

STATIC = Path(__file__).resolve().parents[2] / "service" / "web" / "static"


@pytest.fixture
def client(app):
    return buffered_client(app)


def page_config(response) -> dict:
    match = re.search(rb'<script id="config" type="application/json">(.*?)</script>', response.data, re.S)
    assert match, "the page embeds its settings"
    return json.loads(match.group(1))


def test_the_query_page_is_served_with_its_settings(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"{{" not in response.data
    config = page_config(response)
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == PREFIXES
    assert [e["title"] for e in config["examples"]] == [e["title"] for e in EXAMPLES]
    assert {f["name"] for f in config["formats"]["results"]} == {"json", "xml", "csv", "tsv"}
    assert {f["name"] for f in config["formats"]["graph"]} >= {"turtle", "ntriples", "jsonld", "rdfxml"}


def test_the_page_loads_nothing_from_elsewhere(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    # what the page loads (scripts, styles, icons, images) is ours; links a reader may follow can go anywhere
    loaded = re.findall(rb'src="([^"]*)"', response.data) + re.findall(rb'<link[^>]*href="([^"]*)"', response.data)
    assert loaded
    for reference in loaded:
        assert reference.startswith((b"/", b"#")), reference
    for asset in ("ui.js", "site.css", "favicon.svg"):
        text = (STATIC / asset).read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://", text), f"{asset} refers to another site"
        assert "@import" not in text


@pytest.mark.parametrize(("path", "content_type"), [("/assets/ui.js", "text/javascript"),
                                                    ("/assets/site.css", "text/css")])
def test_the_assets_are_served(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(content_type)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["title"] for e in EXAMPLES])
def test_every_example_runs(client, example):
    graph = query_kind(example["query"]) in ("construct", "describe")
    response = client.post("/sparql", data={"query": example["query"]},
                           headers={"Accept": "text/turtle" if graph else "application/sparql-results+json"})
    assert response.status_code == 200, response.data
    if graph:
        triples = list(ox.parse(response.data, format=ox.RdfFormat.TURTLE))
        assert triples, f"{example['title']} builds an empty graph"
    else:
        body = response.get_json(force=True)
        assert "boolean" in body or body["results"]["bindings"], f"{example['title']} finds nothing"


def test_every_download_link_works(client):
    config = page_config(client.get("/"))
    for kind, query in (("results", "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3"),
                        ("graph", "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3")):
        for fmt in config["formats"][kind]:
            response = client.get(config["endpoint"], query_string={"query": query, "download": fmt["name"]})
            assert response.status_code == 200, (fmt, response.data)
            assert response.headers["Content-Disposition"] == f'attachment; filename="results.{fmt["extension"]}"'
            assert response.headers["Content-Type"].split(";")[0] == fmt["label"]
