"""``/ontology`` for browsers: the ontology's documentation — every term at its anchor with domain, range,
hierarchy, usage and the SHACL shapes that constrain it; the version, its changes and the picture. RDF clients
keep getting the graph at the same address.

Expected values come from SPARQL over the same service (the ontology and shapes graphs, the data), not from the
page's own code."""

from __future__ import annotations

import html
import re
import urllib.parse
from html.parser import HTMLParser

import pytest

from service.rdf.vocabulary import ONTOLOGY_NS, sparql_prefix_block

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def sparql(client, query: str) -> list[dict[str, str]]:
    response = client.get("/sparql?" + urllib.parse.urlencode({"query": sparql_prefix_block() + query}),
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in response.get_json()["results"]["bindings"]]


@pytest.fixture(scope="module")
def page(client) -> str:
    response = client.get("/ontology", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    return response.get_data(as_text=True)


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)


def entry(page: str, name: str) -> str:
    """The text of the entry of ``dj:<name>`` (its article), with the HTML escapes undone."""
    match = re.search(rf'<article class="term" id="{re.escape(name)}".*?</article>', page, re.S)
    assert match, f"no entry for dj:{name}"
    return html.unescape(match.group(0))


def test_every_term_of_the_ontology_has_an_anchor(client, page):
    terms = {row["s"][len(ONTOLOGY_NS):] for row in sparql(
        client, f'SELECT DISTINCT ?s WHERE {{ GRAPH djg:ontology {{ ?s ?p ?o }} '
                f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{ONTOLOGY_NS}")) }}')}
    parser = _Ids()
    parser.feed(page)
    assert len(terms) > 100
    assert terms <= parser.ids, sorted(terms - parser.ids)
    for name in ("Event", "NegotiationRound", "participant", "edtf", "EDTF"):
        assert f'href="#{name}"' in page, "the index links each entry"


def test_a_shape_message_appears_under_its_term(client, page):
    rows = sparql(client, "SELECT ?shape ?message WHERE { GRAPH djg:shapes { ?shape sh:path dj:participant ; "
                          "sh:message ?message } }")
    assert rows
    participant = entry(page, "participant")
    for row in rows:
        assert row["message"] in participant
    warning = sparql(client, "SELECT ?message WHERE { GRAPH djg:shapes { ?node sh:targetClass dj:State ; "
                             "sh:property ?shape . ?shape sh:message ?message ; sh:severity sh:Warning } }")
    state = entry(page, "State")
    assert warning and all(row["message"] in state for row in warning)
    assert ">Warning</span>" in state


def test_a_class_entry_has_its_hierarchy_usage_and_properties(client, page):
    event = entry(page, "Event")
    count = int(sparql(client, "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a dj:Event FILTER(isIRI(?x)) }")[0]["n"])
    assert f"{count} instances" in event and 'href="/browse/Event"' in event
    assert 'href="/ontology#NegotiationRound"' in event, "its subclasses"
    assert "schema:Event" in event or "https://schema.org/Event" in event, "its superclasses"
    assert 'href="/ontology#participant"' in event, "the properties whose domain it is"
    assert "出来事" in event, "its labels in other languages"


def test_a_property_entry_has_domain_range_and_usage(client, page):
    based_in = entry(page, "basedIn")
    assert re.search(r"<dt>Domain</dt><dd>.*?/ontology#Agent", based_in, re.S)
    assert re.search(r"<dt>Range</dt><dd>.*?/ontology#Place", based_in, re.S)
    triples = int(sparql(client, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?o WHERE { GRAPH ?g { "
                                 "?s dj:participant ?o } FILTER(?g NOT IN (djg:ontology, djg:shapes, "
                                 "djg:entailed)) } }")[0]["n"])
    assert f"{triples} triples" in entry(page, "participant")


def test_a_union_domain_is_shown_as_alternatives(page):
    start = entry(page, "startDate")
    assert '<span class="op">or</span>' in start


def test_version_changes_and_picture(client, page):
    notes = sparql(client, "SELECT ?note WHERE { GRAPH djg:ontology { ?o a owl:Ontology ; skos:changeNote ?note } }")
    version = sparql(client, "SELECT ?v WHERE { GRAPH djg:ontology { ?o a owl:Ontology ; owl:versionInfo ?v } }")
    assert f"Version {version[0]['v']} and its changes" in page
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    for note in notes:
        assert note["note"].splitlines()[0] in text
    picture = re.search(r'<img src="(/ontology/picture-[0-9a-f]{12}\.svg)"', page)
    assert picture
    response = client.get(picture.group(1))
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "immutable" in response.headers["Cache-Control"]
    assert client.get("/ontology/picture-000000000000.svg").status_code == 404


def test_rdf_clients_still_get_the_graph(client):
    response = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert "dj:Event" in response.get_data(as_text=True) or "ontology#Event" in response.get_data(as_text=True)
    assert client.get("/ontology.html").mimetype == "text/html"


def test_a_subclass_points_to_the_shapes_of_its_superclasses(page):
    ministry = entry(page, "Ministry")
    inherited = re.search(r'<p class="hint inherited-shapes">(.*?)</p>', ministry, re.S)
    assert inherited and "/ontology#Organization" in inherited.group(1) and "/ontology#Agent" in inherited.group(1)


def test_each_shape_is_listed_once_under_a_term(page):
    claim = entry(page, "Claim")
    messages = re.findall(r'<p class="shape-message">(.*?)</p>', claim, re.S)
    assert messages and len(messages) == len(set(messages))
