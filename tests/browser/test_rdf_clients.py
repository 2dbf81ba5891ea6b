"""RDF clients get RDF at the same IRIs browsers get pages (issue 14, item 8), over the live server's socket:
rdflib itself fetches ``/id/<slug>`` (its own ``Accept``, redirects and parser choice by the answer's type) as Turtle
and as JSON-LD and finds the same triples; the same URL gives Chromium the page. (``tests/web/test_resources.py``
checks every format through Flask's test client; this is the same question asked the way a client asks it.)"""

from __future__ import annotations

import urllib.request

import rdflib
from rdflib.compare import isomorphic

from service.rdf.vocabulary import RESOURCE_NS

SONG = RESOURCE_NS + "song-il-ho"


def fetch_rdf(url: str, accept: str) -> rdflib.Graph:
    """What an RDF client reads at ``url`` when it asks for ``accept`` (parsed by the answer's own media type)."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        media_type = response.headers.get_content_type()
        assert media_type == accept, f"{url} answered {media_type} to Accept: {accept}"
        return rdflib.Graph().parse(data=response.read(), format=media_type)


def test_rdflib_reads_the_same_triples_as_turtle_and_json_ld_where_a_browser_reads_a_page(live_server, page):
    url = live_server.url + "/id/song-il-ho"
    turtle = fetch_rdf(url, "text/turtle")
    jsonld = fetch_rdf(url, "application/ld+json")
    assert len(turtle) > 10 and (rdflib.URIRef(SONG), None, None) in turtle
    assert isomorphic(turtle, jsonld)
    # rdflib's own content negotiation (Graph.parse(url)) lands on RDF too, with the same triples
    assert isomorphic(turtle, rdflib.Graph().parse(url))
    # and Chromium, at the very same URL, gets the page
    answer = page.goto(url)
    assert answer is not None and answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert page.locator("h1").inner_text() == "Song Il-ho"


def test_the_dataset_iri_leads_rdf_clients_to_the_void_description(live_server):
    graph = rdflib.Graph().parse(live_server.url + "/id/dataset")  # a 303 to /.well-known/void, followed
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    assert (rdflib.URIRef(RESOURCE_NS + "dataset"), rdflib.RDF.type, void.Dataset) in graph
