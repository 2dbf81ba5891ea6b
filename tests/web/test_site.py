"""One site: every page in one layout (navigation, search box, landmarks), labels and dates as people read them,
HTML errors for browsers (JSON and text for programs), RDF shown as a page to a browser and as RDF to everyone
else, fingerprinted assets, and gzip over a real socket."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import urllib.parse
from html.parser import HTMLParser
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from service.rdf.vocabulary import ONTOLOGY_NS, RESOURCE_NS, XSD
from service.web import display

#: What Chromium and Firefox send for a page.
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
#: What rdflib sends when it fetches a graph.
RDFLIB = ("application/rdf+xml, text/turtle;q=0.9, application/n-triples;q=0.8, application/ld+json;q=0.7, "
          "text/n3;q=0.5, */*;q=0.1")
DESCRIBE = f"DESCRIBE <{RESOURCE_NS}north-korea>"
SELECT_DATES = (f"PREFIX dj: <{ONTOLOGY_NS}> SELECT ?round ?start WHERE {{ ?round a dj:NegotiationRound ; "
                "dj:startDate ?start } ORDER BY ?start LIMIT 20")

PAGES = ["/", "/queries", "/queries/about-entity?entity=djr:north-korea", "/validate", "/api", "/stats",
         "/.well-known/void", "/sparql", "/sparql?" + urllib.parse.urlencode({"query": DESCRIBE}),
         "/sparql?" + urllib.parse.urlencode({"query": SELECT_DATES})]


class Page(HTMLParser):
    """What a test reads from a page: visible text (outside textarea/pre/script/style), links, landmarks."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in ("textarea", "pre", "script", "style"):
            self._skip += 1
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("textarea", "pre", "script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())

    def has(self, tag: str, **attributes: str) -> bool:
        return any(t == tag and all(a.get(k.rstrip("_").replace("_", "-")) == v for k, v in attributes.items())
                   for t, a in self.tags)


def browse(client: Any, path: str) -> Any:
    return client.get(path, headers={"Accept": BROWSER})


# -- the layout ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_layout_navigation_and_search_box(client, path):
    response = browse(client, path)
    assert response.status_code == 200 and response.mimetype == "text/html", response.data[:300]
    html = response.get_data(as_text=True)
    page = Page(html)
    assert re.search(r'<html lang="en">', html)
    assert page.has("nav", aria_label="Site") and page.has("main", id="content") and page.has("footer", class_="site")
    assert page.has("a", class_="skip-link", href="#content")
    assert page.has("form", role="search", method="get", action="/search")
    assert page.has("label", for_="site-search-q") and page.has("input", id="site-search-q", name="q")
    stylesheets = [a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "stylesheet"]
    # the layout's one stylesheet first; a page with result views adds its own (views.css), from here too
    assert re.fullmatch(r"/assets/[0-9a-f]{12}/site\.css", stylesheets[0] or "")
    assert all(re.fullmatch(r"/assets/[0-9a-f]{12}/[\w./-]+\.css", href or "") for href in stylesheets[1:])
    for label in ("Queries", "Validate", "API"):
        assert f">{label}</a>" in html


def test_the_navigation_links_only_routes_that_exist(client):
    page = Page(browse(client, "/").get_data(as_text=True))
    nav = [href for href in page.links if href in ("/", "/browse", "/queries", "/validate", "/ontology", "/api")]
    assert {"/", "/queries", "/validate", "/api"} <= set(nav)
    for href in set(nav):
        assert browse(client, href).status_code == 200, href


def test_the_current_section_is_marked_in_the_navigation(client):
    html = browse(client, "/queries/about-entity?entity=djr:north-korea").get_data(as_text=True)
    assert '<a href="/queries" aria-current="page">Queries</a>' in html


@pytest.mark.parametrize("path", ["/", "/queries/about-entity?entity=djr:north-korea", "/stats",
                                  "/sparql?" + urllib.parse.urlencode({"query": DESCRIBE}),
                                  "/sparql?" + urllib.parse.urlencode({"query": SELECT_DATES}),
                                  "/.well-known/void"])
def test_pages_show_no_language_tags_or_datatypes(client, path):
    text = Page(browse(client, path).get_data(as_text=True)).visible
    assert "@en" not in text and "^^" not in text and "xsd:" not in text, text[:500]


# -- the home page without JavaScript ---------------------------------------------------------------------------

def test_the_home_page_is_useful_without_javascript(client):
    html = browse(client, "/").get_data(as_text=True)
    page = Page(html)
    # the figures of the graph and the canned questions, as server-rendered text and links
    assert "What the graph holds" in page.visible and "statements" in page.visible
    assert "/queries/about-entity" in page.links and "/queries/persons-by-role" in page.links
    # a query form that works as a plain form: GET /query (the editor) with the query in a named, labelled
    # textarea, and a second button that GETs /sparql for the answer as a page
    assert page.has("form", id="query-form", method="get", action="/query")
    assert page.has("textarea", name="query", aria_label="SPARQL query")
    assert page.has("button", type="submit", id="run", formaction="/sparql")
    # submitting it as a browser does (no script) answers a page with the results
    query = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    import html as html_lib

    answer = browse(client, "/sparql?" + urllib.parse.urlencode({"query": html_lib.unescape(query)}))
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    assert "<table" in answer.get_data(as_text=True)


def test_a_select_answer_for_a_browser_shows_labels_and_dates_at_their_precision(client):
    html = browse(client, "/sparql?" + urllib.parse.urlencode({"query": SELECT_DATES})).get_data(as_text=True)
    page = Page(html)
    assert re.search(r"\b(January|February|March|April|May|June|July|August|September|October|November|"
                     r"December) (19|20)\d\d\b", page.visible), page.visible[:400]
    assert not re.search(r"\b(19|20)\d\d-\d\d\b", page.visible)  # no ISO dates in the text
    assert f'title="{RESOURCE_NS}' in html  # the IRI is kept as a tooltip
    # each download link answers the protocol's format
    downloads = [h for h in page.links if "download=" in h]
    assert {urllib.parse.parse_qs(urllib.parse.urlsplit(h).query)["download"][0] for h in downloads} == {
        "json", "xml", "csv", "tsv"}
    csv = client.get(next(h for h in downloads if h.endswith("download=csv")))
    assert csv.status_code == 200 and csv.mimetype == "text/csv"


# -- RDF for browsers and for clients -----------------------------------------------------------------------------

def _graph(body: bytes, fmt: ox.RdfFormat) -> set:
    return set(ox.parse(body, format=fmt))


@pytest.mark.parametrize("path", ["/.well-known/void", "/sparql?" + urllib.parse.urlencode({"query": DESCRIBE})])
def test_rdf_is_a_page_for_a_browser_and_rdf_for_clients(client, path):
    page = browse(client, path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<section class="subject"' in html and "Download:" in html
    for accept in (None, "*/*", "text/turtle", RDFLIB, "text/turtle, text/html;q=0.5"):
        response = client.get(path, headers={"Accept": accept} if accept else {})
        assert response.status_code == 200 and response.mimetype in ("text/turtle", "application/rdf+xml"), accept
    turtle = client.get(path, headers={"Accept": "text/turtle"}).data
    graph = rdflib.Graph().parse(data=turtle, format="turtle")
    assert len(graph) > 0
    # every download link on the page gives the same graph
    links = [urllib.parse.unquote(h) for h in Page(html).links if "format=" in h or "download=" in h]
    assert len(links) >= 4
    for href in links:
        response = client.get(href)
        assert response.status_code == 200, href
        assert response.mimetype != "text/html", href
        if response.mimetype == "application/n-triples":
            assert len(_graph(response.data, ox.RdfFormat.N_TRIPLES)) == len(graph)


def test_the_describe_page_groups_by_subject_with_labels_first(client):
    html = browse(client, "/sparql?" + urllib.parse.urlencode({"query": DESCRIBE})).get_data(as_text=True)
    heading = re.search(r'<h2 id="s-north-korea-h">(.*?)</h2>', html, re.S).group(1)
    assert ">North Korea</a>" in heading and "djr:north-korea" in heading  # label first, the IRI secondary
    assert "<dt>" in html and ">type</a>" in html  # well-known properties read as words


def test_the_service_description_is_a_page_for_a_browser_and_rdf_otherwise(client):
    page = browse(client, "/sparql")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "SPARQL service description" in page.get_data(as_text=True)
    for accept in (None, "text/turtle", RDFLIB):
        assert client.get("/sparql", headers={"Accept": accept} if accept else {}).mimetype in (
            "text/turtle", "application/rdf+xml")
    ntriples = client.get("/sparql?format=ntriples")
    assert ntriples.mimetype == "application/n-triples" and _graph(ntriples.data, ox.RdfFormat.N_TRIPLES)


def test_a_construct_canned_query_page_shows_the_graph_grouped_by_subject(client):
    catalog = client.get("/queries", headers={"Accept": "application/json"}).get_json()["queries"]
    graph_query = next((q for q in catalog if q["kind"] in ("construct", "describe")), None)
    if graph_query is None:
        pytest.skip("no canned CONSTRUCT query in this data")
    html = browse(client, graph_query["example_url"]).get_data(as_text=True)
    assert '<section class="subject"' in html and "@en" not in Page(html).visible


# -- errors -----------------------------------------------------------------------------------------------------

def test_a_browser_gets_an_html_404_page_with_the_search_form(client):
    response = browse(client, "/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    page = Page(response.get_data(as_text=True))
    assert "404" in page.visible and "is not a resource of this service" in page.visible
    assert page.has("input", id="error-search-q", name="q") and page.has("nav", aria_label="Site")


@pytest.mark.parametrize(("path", "accept", "mimetype"), [
    ("/no/such/page", None, "text/plain"),
    ("/no/such/page", "application/json", "application/json"),
    ("/queries/no-such-query", None, "application/json"),
    ("/queries/no-such-query", "*/*", "application/json"),
    ("/queries/no-such-query", BROWSER, "text/html"),
    ("/sparql?query=SELEKT", None, "text/plain"),
    ("/sparql?query=SELEKT", "application/sparql-results+json", "text/plain"),
    ("/sparql?query=SELEKT", BROWSER, "text/html"),
])
def test_programs_keep_their_error_formats(client, path, accept, mimetype):
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert response.status_code in (400, 404) and response.mimetype == mimetype


def test_a_bad_query_from_a_browser_names_the_problem_in_the_page(client):
    response = browse(client, "/sparql?query=SELEKT")
    assert response.status_code == 400
    assert "Syntax error in the query at line 1" in Page(response.get_data(as_text=True)).visible


def test_a_wrong_method_from_a_browser_is_a_page_with_allow(client):
    response = client.delete("/queries", headers={"Accept": BROWSER})
    assert response.status_code == 405 and response.mimetype == "text/html" and "GET" in response.headers["Allow"]


# -- the display module ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "datatype", "shown"), [
    ("2012-11-15", XSD + "date", "15 November 2012"),
    ("2012-11", XSD + "gYearMonth", "November 2012"),
    ("2012", XSD + "gYear", "2012"),
    ("2012-11-15T09:30:00Z", XSD + "dateTime", "15 November 2012, 09:30 UTC"),
    ("2012-13", XSD + "gYearMonth", "2012-13"),  # ill-formed: shown as written, never invented
    ("199X", ONTOLOGY_NS + "EDTF", "the 1990s"),
    ("197X/198X", ONTOLOGY_NS + "EDTF", "the 1970s – the 1980s"),
    ("1977~/1983~", ONTOLOGY_NS + "EDTF", "about 1977 – about 1983"),
    ("../2014-05", ONTOLOGY_NS + "EDTF", "until May 2014"),
    ("2006/..", ONTOLOGY_NS + "EDTF", "from 2006"),
    ("2012-01/2012-03", ONTOLOGY_NS + "EDTF", "January 2012 – March 2012"),
    ("2012-21", ONTOLOGY_NS + "EDTF", "spring 2012"),
    ("2002?", ONTOLOGY_NS + "EDTF", "2002 (uncertain)"),
    ("19XX", ONTOLOGY_NS + "EDTF", "the 20th century"),
    ("1234567", XSD + "integer", "1,234,567"),
    ("North Korea", None, "North Korea"),
])
def test_literals_are_shown_at_their_precision(value, datatype, shown):
    assert display.format_literal(value, datatype) == shown


def test_labels_are_looked_up_in_one_batch_and_kept_until_a_write(app):
    store = app.extensions["dprk_kg_store"]
    iris = [RESOURCE_NS + slug for slug in ("north-korea", "japan", "doc-002", "no-such-thing")]
    calls: list[str] = []
    original = store.select

    def counting(sparql: str, **kwargs: Any) -> Any:
        calls.append(sparql)
        return original(sparql, **kwargs)

    store.select = counting
    try:
        with app.test_request_context("/"):
            app.extensions[display.EXTENSION_KEY] = type(app.extensions[display.EXTENSION_KEY])(100)
            found = display.labels(iris)
            assert found[RESOURCE_NS + "north-korea"] == "North Korea" and RESOURCE_NS + "no-such-thing" not in found
            assert len(calls) == 1
            display.labels(iris)  # all known now, the unlabelled one included
            assert len(calls) == 1
            store.generation += 1  # what every write does
            display.labels(iris[:1])
            assert len(calls) == 2
            assert display.label(RESOURCE_NS + "no-such-thing") == "djr:no-such-thing"
            assert str(display.term_html(ox.Literal("DPRK", language="en"))) == (
                '<span class="term-literal" lang="en" title="language: en">DPRK</span>')
    finally:
        store.select = original


# -- assets -------------------------------------------------------------------------------------------------------

def test_fingerprinted_assets_are_cached_for_a_year_and_a_stale_hash_is_404(client):
    html = browse(client, "/").get_data(as_text=True)
    css = re.search(r'href="(/assets/[0-9a-f]{12}/site\.css)"', html).group(1)
    response = client.get(css)
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(css.replace(css.split("/")[2], "0" * 12)).status_code == 404
    assert client.get("/assets/site.css").headers["Cache-Control"] == "no-cache"  # plain URL: revalidated
    assert client.get("/assets/../app.py").status_code == 404


def test_the_favicon_answers(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301
    svg = client.get(icon.headers["Location"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


# -- compression over a real socket -------------------------------------------------------------------------------

def _get(server: Any, path: str, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_the_queries_json_is_served_gzipped_and_decodes_to_the_same_json(live_server):
    plain, body = _get(live_server, "/queries", {"Accept": "application/json"})
    packed, compressed = _get(live_server, "/queries", {"Accept": "application/json", "Accept-Encoding": "gzip"})
    assert plain.getheader("Content-Encoding") is None
    assert packed.getheader("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in packed.getheader("Vary") and "Accept-Encoding" in plain.getheader("Vary")
    assert int(packed.getheader("Content-Length")) == len(compressed) < len(body) / 4
    assert json.loads(gzip.decompress(compressed)) == json.loads(body)


def test_compression_follows_accept_encoding_and_skips_small_bodies(live_server):
    refused, _ = _get(live_server, "/queries", {"Accept": "application/json", "Accept-Encoding": "gzip;q=0, br"})
    assert refused.getheader("Content-Encoding") is None
    small, body = _get(live_server, "/health", {"Accept-Encoding": "gzip"})
    assert small.getheader("Content-Encoding") is None and body


def test_a_streamed_answer_stays_streamed_when_compressed(live_server):
    query = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"  # the whole graph: larger than the whole-answer limit
    path = "/sparql?" + urllib.parse.urlencode({"query": query})
    accept = "application/sparql-results+json"
    plain, body = _get(live_server, path, {"Accept": accept})
    packed, compressed = _get(live_server, path, {"Accept": accept, "Accept-Encoding": "gzip"})
    assert plain.getheader("Content-Length") is None and len(body) > 1 << 20  # the service streams it …
    assert packed.getheader("Content-Encoding") == "gzip"
    assert packed.getheader("Content-Length") is None  # … and streams it compressed, never buffered whole
    assert json.loads(gzip.decompress(compressed)) == json.loads(body)


def test_assets_over_http_are_compressed_and_immutable(live_server):
    _, html = _get(live_server, "/", {"Accept": BROWSER})
    css = re.search(rb'href="(/assets/[0-9a-f]{12}/site\.css)"', html).group(1).decode()
    response, body = _get(live_server, css, {"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert b".site-nav" in gzip.decompress(body)


# -- the compression layer on its own (a real WSGI stack, a tiny app in front of it) ------------------------------

def _wsgi(headers: list[tuple[str, str]], body: list[bytes], status: str = "200 OK") -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(status, headers)
        return body
    return app


def _call(app: Any, accept_encoding: str | None = "gzip", method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    from service.web.compression import Compression

    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, headers

    environ = {"REQUEST_METHOD": method}
    if accept_encoding is not None:
        environ["HTTP_ACCEPT_ENCODING"] = accept_encoding
    body = b"".join(Compression(app)(environ, start_response))
    return seen["status"], dict(seen["headers"]), body


TEXT = b"a line of text that repeats\n" * 200


def test_compression_never_compresses_twice_nor_partial_or_binary_answers():
    encoded = gzip.compress(TEXT)
    _, headers, body = _call(_wsgi([("Content-Type", "text/plain"), ("Content-Encoding", "gzip")], [encoded]))
    assert body == encoded and headers["Content-Encoding"] == "gzip"
    _, headers, body = _call(_wsgi([("Content-Type", "text/plain"), ("Content-Range", "bytes 0-9/99")],
                                   [TEXT], "206 Partial Content"))
    assert body == TEXT and "Content-Encoding" not in headers
    _, headers, body = _call(_wsgi([("Content-Type", "image/png")], [TEXT]))
    assert body == TEXT and "Vary" not in headers


def test_compression_keeps_whole_bodies_whole_and_merges_vary():
    headers_in = [("Content-Type", "application/json"), ("Content-Length", str(len(TEXT))), ("Vary", "Accept"),
                  ("ETag", '"abc"')]
    _, headers, body = _call(_wsgi(headers_in, [TEXT]))
    assert gzip.decompress(body) == TEXT and headers["Content-Length"] == str(len(body))
    assert headers["Vary"] == "Accept, Accept-Encoding" and headers["ETag"] == 'W/"abc"'
    _, headers, body = _call(_wsgi(headers_in, [TEXT]), accept_encoding=None)
    assert body == TEXT and headers["Vary"] == "Accept, Accept-Encoding" and headers["ETag"] == '"abc"'
    _, headers, body = _call(_wsgi(headers_in, [TEXT]), method="HEAD")
    assert body == TEXT and "Content-Encoding" not in headers


def test_a_streamed_body_is_compressed_chunk_by_chunk():
    from service.web.compression import Compression

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/csv")])
        for _ in range(3):
            yield TEXT

    pieces = list(Compression(app)({"REQUEST_METHOD": "GET", "HTTP_ACCEPT_ENCODING": "gzip"}, lambda *a: None))
    assert len(pieces) == 4  # one flushed piece per chunk, then the trailer: nothing waits for the whole body
    assert gzip.decompress(b"".join(pieces)) == TEXT * 3
    from service.web.compression import accepts_gzip

    assert accepts_gzip("gzip, deflate, br") and accepts_gzip("*") and not accepts_gzip("br, gzip;q=0")
    assert not accepts_gzip("identity") and not accepts_gzip(None)
