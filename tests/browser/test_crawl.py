"""A crawler from ``/`` following the site's internal links meets no 4xx or 5xx (issue 14, item 8).

It sends what Chromium sends (its ``Accept`` header), reads every HTML page it reaches and follows each same-origin
link: ``<a href>``, ``<link href>`` (styles, icon, alternates), ``<script src>`` and ``<img src>``, fragments
dropped, redirects followed. What it does not follow, and why (the test prints the counts):

* facet combinations of ``/browse/<Class>``: each filter links to every value of every other facet, so the pages
  multiply without end (tens of thousands). Every class page is crawled in every order and page, and with each
  filter on its own; combined filters, orders and pages are tested against SPARQL in ``tests/web/test_browse.py``;
* the machine-readable twins of each page (``/id/x.ttl`` … ``.trig``, ``/queries/q.json`` … ``.xml``,
  ``/browse/C.json``): those of the first pages that link them are fetched, the rest counted; that every resource
  answers RDF is ``tests/web/test_resources.py``'s concern, every canned format ``tests/canned``'s;
* ``/query?query=…`` and ``/?query=…`` (the query page or the home page's box opened with a query, one per example
  or resource): the same page each time; the first is fetched;
* canned queries that ask a remote SPARQL endpoint (``federated`` in ``/queries.json``): tests never go online;
  they are tested against a local endpoint in ``tests/canned``;
* ``/store…``: the Graph Store Protocol's examples on ``/api`` name the graph that its PUT example creates, which
  a read-only service does not hold;
* ``/lookup?uri=``: VoID's ``void:uriLookupEndpoint``, shown on the VoID page, is a prefix to append an IRI to.
"""

from __future__ import annotations

import collections
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

#: What Chromium sends for a page.
CHROMIUM_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
#: A path ending in one of the machine formats' extensions (the format table's suffixes).
TWIN = re.compile(r"\.(ttl|nt|jsonld|rdf|nq|trig|json|csv|tsv|xml|srj|srx)$")
#: Pages whose machine twins are all fetched; past that, twins are counted only.
TWIN_PAGES = 40
#: Browse parameters that are not filters.
NOT_FILTERS = {"sort", "page", "_format"}
#: Threads sending requests (the server has two cores to answer them).
WORKERS = 4


class Links(HTMLParser):
    """The URLs a page points at."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        target = attributes.get("href") if tag in ("a", "link") else attributes.get("src") if tag in (
            "script", "img") else None
        if target:
            self.found.append(target)


def fetch(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of a GET sent as Chromium would (redirects followed)."""
    request = urllib.request.Request(url, headers={"Accept": CHROMIUM_ACCEPT, "Accept-Language": "en-GB,en;q=0.9"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), b""


def federated_queries(base: str) -> set[str]:
    """The canned queries that ask a remote endpoint."""
    import json

    status, _, body = fetch(base + "/queries.json")
    assert status == 200
    return {q["name"] for q in json.loads(body)["queries"] if q.get("federated")}


def test_a_crawl_from_the_home_page_meets_no_error(live_server):
    base = live_server.url
    federated = federated_queries(base)
    assert federated, "the catalogue marks its federated queries"
    seen: set[str] = set()
    skipped: collections.Counter[str] = collections.Counter()
    twin_pages: set[str] = set()
    failures: list[tuple[str, int, str]] = []
    kinds: collections.Counter[str] = collections.Counter()
    home_with_query = False

    def admit(path: str, page: str) -> bool:
        """Whether to fetch ``path``, found on ``page`` (counting what is left, by reason)."""
        nonlocal home_with_query
        parts = urllib.parse.urlsplit(path)
        if parts.path.startswith("/store"):
            skipped["Graph Store examples (/store…)"] += 1
            return False
        if parts.path.startswith("/queries/") and parts.path[len("/queries/"):].split(".")[0] in federated:
            skipped["federated canned queries"] += 1
            return False
        if parts.path in ("/", "/query") and parts.query:
            if home_with_query:
                skipped["/query?query=… (the query page again, with another example)"] += 1
                return False
            home_with_query = True
        if parts.path.startswith("/browse/"):
            keys = [k for k, _ in urllib.parse.parse_qsl(parts.query)]
            filters = [k for k in keys if k not in NOT_FILTERS]
            if len(filters) > 1 or (filters and len(keys) > len(filters)):
                skipped["browse pages with two filters, or a filter and an order or page"] += 1
                return False
        if parts.path == "/lookup" and parts.query == "uri=":
            skipped["/lookup?uri= (VoID's look-up endpoint, an IRI to be appended)"] += 1
            return False
        if TWIN.search(parts.path) and parts.path not in ("/queries.json", "/browse.json", "/openapi.json"):
            if page not in twin_pages and len(twin_pages) >= TWIN_PAGES:
                skipped["machine twins past the first pages"] += 1
                return False
            twin_pages.add(page)
        return True

    def visit(path: str) -> tuple[str, int, str, bytes]:
        return (path, *fetch(base + path))

    started = time.monotonic()
    frontier = ["/"]
    seen.add("/")
    with ThreadPoolExecutor(WORKERS) as pool:
        while frontier:
            found: list[tuple[str, str]] = []
            for path, status, content_type, body in pool.map(visit, frontier):
                kinds[path.split("?")[0].split("/")[1].split(".")[0] or "/"] += 1
                if status >= 400:
                    failures.append((path, status, content_type))
                    continue
                if not content_type.startswith("text/html"):
                    continue
                parser = Links()
                parser.feed(body.decode("utf-8"))
                for link in parser.found:
                    url = urllib.parse.urljoin(base + path, link)
                    parts = urllib.parse.urlsplit(url)
                    if f"{parts.scheme}://{parts.netloc}" != base:
                        continue  # another site (Wikidata, DBpedia, the publisher's copy …)
                    found.append((parts.path + (f"?{parts.query}" if parts.query else ""), path))
            frontier = []
            for target, page in found:
                if target not in seen:
                    seen.add(target)
                    if admit(target, page):
                        frontier.append(target)
    elapsed = time.monotonic() - started
    fetched = sum(kinds.values())
    print(f"\ncrawled {fetched} URLs in {elapsed:.0f} s: {dict(kinds.most_common())}; "
          f"not followed: {dict(skipped)}")
    assert not failures, failures[:20]
    # the crawl reached what a person can reach: every kind of page, and every resource of the bundled data
    for kind in ("/", "id", "queries", "browse", "search", "ontology", "shapes", "graph", "validate", "api",
                 "stats", "assets"):
        assert kinds[kind], f"the crawl never reached a {kind} page"
    assert kinds["id"] > 400
