"""The home page at /: its query box is a plain form that opens the query page (/query, the one editor) with its
query, it loads nothing from elsewhere and no script, and every example it offers runs against the endpoint."""

from __future__ import annotations

import html as html_lib
import re
import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest

from service.sparql.lexer import query_kind
from service.web.ui import EXAMPLES
from tests.sparql_helpers import buffered_client

STATIC = Path(__file__).resolve().parents[2] / "service" / "web" / "static"
BROWSER = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def client(app):
    return buffered_client(app)


def test_the_query_box_opens_the_query_page_with_its_query(client):
    html = client.get("/", headers={"Accept": BROWSER}).get_data(as_text=True)
    form = re.search(r'<form id="query-form" method="get" action="([^"]*)">(.*?)</form>', html, re.S)
    assert form and form.group(1) == "/query", "the box is a form to the query page"
    query = html_lib.unescape(re.search(r'<textarea[^>]*name="query"[^>]*>(.*?)</textarea>', form.group(2),
                                        re.S).group(1))
    assert query == EXAMPLES[0]["query"]
    # what a browser sends when the form is submitted: the query page with that query in its editor's textarea
    opened = client.get("/query?" + urllib.parse.urlencode({"query": query}), headers={"Accept": BROWSER})
    assert opened.status_code == 200
    assert html_lib.escape(query, quote=False) in opened.get_data(as_text=True)
    # the second button sends the same box to the endpoint: the answer as a page, without any script
    assert re.search(r'<button id="run" type="submit" formaction="/sparql">', form.group(2))


def test_the_examples_are_links_that_open_the_query_page(client):
    html = client.get("/", headers={"Accept": BROWSER}).get_data(as_text=True)
    links = [html_lib.unescape(href) for href in re.findall(r'href="(/query\?query=[^"]*)"', html)]
    assert len(links) == len(EXAMPLES)
    for href, example in zip(links, EXAMPLES, strict=True):
        assert urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)["query"] == [example["query"]]


def test_the_home_page_has_no_editor_of_its_own_and_loads_nothing_from_elsewhere(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert b"<script" not in response.data, "no script: the editor is on /query"
    assert not (STATIC / "ui.js").exists(), "the hand-written editor is retired"
    # what the page loads (styles, icons, images) is ours; links a reader may follow can go anywhere
    loaded = re.findall(rb'src="([^"]*)"', response.data) + re.findall(rb'<link[^>]*href="([^"]*)"', response.data)
    assert loaded
    for reference in loaded:
        assert reference.startswith((b"/", b"#")), reference
    for asset in ("site.css", "favicon.svg"):
        text = (STATIC / asset).read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://", text), f"{asset} refers to another site"
        assert "@import" not in text


@pytest.mark.parametrize(("path", "content_type"), [("/assets/site.css", "text/css"),
                                                    ("/assets/query.js", "text/javascript")])
def test_the_assets_are_served(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(content_type)
    assert client.get("/assets/ui.js").status_code == 404


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
