"""Every IRI of our namespace resolves (issue 14, items 1-3): ``/id/<slug>`` and ``/ontology`` answer a page to a
browser and RDF to an RDF client at the same URL, the dataset syntaxes keep the document graphs, each format is
linked, an unknown IRI is a 404 that offers the search; entity and document pages show names in every script the
texts give, which documents state each fact, and what Wikidata says beside it — without waiting for a slow remote."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import rdflib
from rdflib.compare import isomorphic

from service.rdf.vocabulary import LINKS_GRAPH, ONTOLOGY_NS, RESOURCE_NS
from service.web.app import create_app
from tests.linking_helpers import closed_port_url, data_root, load_sample, silent_endpoint

REPO = Path(__file__).resolve().parents[2]
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # what browsers send
RDFS_LABEL = rdflib.URIRef("http://www.w3.org/2000/01/rdf-schema#label")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, loaded_store: Any) -> Iterator[Any]:
    """The service over the bundled graph, external facts off (these tests ask no remote)."""
    store_dir = tmp_path_factory.mktemp("resources") / "store"
    loaded_store(store_dir)
    application = create_app({"TESTING": True, "STORE_DIR": str(store_dir), "EXTERNAL_FACTS_TIMEOUT": 0})
    yield application.test_client()
    application.extensions["dprk_kg_store"].close()


def resource_iris(client: Any) -> list[str]:
    """Every IRI of our resource namespace the bundled data uses, as subject or object, in any graph."""
    query = (f"SELECT DISTINCT ?x WHERE {{ GRAPH ?g {{ {{ ?x ?p ?o }} UNION {{ ?s ?p ?x }} }} "
             f"FILTER(isIRI(?x) && STRSTARTS(STR(?x), \"{RESOURCE_NS}\")) }}")
    answer = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200
    return sorted(b["x"]["value"] for b in answer.get_json()["results"]["bindings"])


def path_of(iri: str) -> str:
    return "/id/" + iri[len(RESOURCE_NS):]


@pytest.mark.slow  # some four hundred resources, two requests each
def test_every_resource_of_the_bundled_data_answers_a_page_and_rdf(site):
    iris = resource_iris(site)
    assert len(iris) > 300
    failures = []
    for iri in iris:
        page = site.get(path_of(iri), headers=HTML)
        turtle = site.get(path_of(iri), headers={"Accept": "text/turtle"})
        if page.status_code != 200 or page.mimetype != "text/html" or turtle.status_code != 200:
            failures.append((iri, page.status_code, turtle.status_code))
            continue
        graph = rdflib.Graph().parse(data=turtle.data, format="turtle")
        if (rdflib.URIRef(iri), None, None) not in graph and (None, None, rdflib.URIRef(iri)) not in graph:
            failures.append((iri, "its description does not mention it"))
    assert not failures, failures[:10]


def test_turtle_and_json_ld_at_the_same_iri_hold_the_same_triples(site):
    turtle = site.get("/id/song-il-ho", headers={"Accept": "text/turtle"})
    jsonld = site.get("/id/song-il-ho", headers={"Accept": "application/ld+json"})
    assert turtle.mimetype == "text/turtle" and jsonld.mimetype == "application/ld+json"
    from_turtle = rdflib.Graph().parse(data=turtle.data, format="turtle")
    from_jsonld = rdflib.Graph().parse(data=jsonld.data, format="json-ld")
    assert len(from_turtle) > 10
    assert isomorphic(from_turtle, from_jsonld)
    for accept, fmt in (("application/n-triples", "nt"), ("application/rdf+xml", "xml")):
        other = rdflib.Graph().parse(data=site.get("/id/song-il-ho", headers={"Accept": accept}).data, format=fmt)
        assert isomorphic(from_turtle, other), accept


def test_the_description_is_bounded_and_names_what_it_links_to(site):
    graph = rdflib.Graph().parse(data=site.get("/id/song-il-ho.ttl").data, format="turtle")
    me = rdflib.URIRef(RESOURCE_NS + "song-il-ho")
    north_korea = rdflib.URIRef(RESOURCE_NS + "north-korea")
    assert (me, rdflib.URIRef(ONTOLOGY_NS + "nationality"), north_korea) in graph
    assert (north_korea, RDFS_LABEL, rdflib.Literal("North Korea", lang="en")) in graph  # a label, to name it
    assert not set(graph.predicate_objects(north_korea)) - set(graph.predicate_objects(north_korea, RDFS_LABEL)) \
        or all(p in (RDFS_LABEL, rdflib.URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"))
               for p, _ in graph.predicate_objects(north_korea))  # labels only, not North Korea's own facts
    incoming = [s for s in graph.subjects(None, me) if isinstance(s, rdflib.URIRef) and s != me]
    assert all((s, rdflib.URIRef("http://www.w3.org/ns/oa#hasBody"), me) in graph for s in incoming), incoming


def test_trig_and_n_quads_keep_the_documents_graphs(site):
    answer = site.get("/id/song-il-ho", headers={"Accept": "application/trig"})
    assert answer.mimetype == "application/trig"
    dataset = rdflib.Dataset()
    dataset.parse(data=answer.data, format="trig")
    me = rdflib.URIRef(RESOURCE_NS + "song-il-ho")
    chinese = rdflib.Literal("宋日昊", lang="zh")
    graphs = {str(g) for _, _, _, g in dataset.quads((me, RDFS_LABEL, chinese, None))}
    assert graphs == {RESOURCE_NS + "doc-000"}  # doc-000 gives the Chinese form, and only doc-000
    stated_by = {str(g) for _, _, _, g in dataset.quads(
        (me, rdflib.URIRef(ONTOLOGY_NS + "nationality"), rdflib.URIRef(RESOURCE_NS + "north-korea"), None))}
    assert stated_by == {RESOURCE_NS + "doc-000", RESOURCE_NS + "doc-001"}
    assert any(str(g) == LINKS_GRAPH for _, _, _, g in dataset.quads((me, None, None, None)))
    nquads = site.get("/id/song-il-ho.nq")
    assert nquads.mimetype == "application/n-quads"
    assert f"<{RESOURCE_NS}doc-000> .".encode() in nquads.data


def test_each_format_is_linked_and_answers_at_its_own_url(site):
    answer = site.get("/id/japan", headers={"Accept": "text/turtle"})
    assert answer.headers["Content-Location"] == "/id/japan.ttl"
    assert "Accept" in answer.headers.get("Vary", "")
    links = answer.headers.getlist("Link")
    expected = {"text/html": "html", "text/turtle": "ttl", "application/n-triples": "nt",
                "application/ld+json": "jsonld", "application/rdf+xml": "rdf", "application/trig": "trig",
                "application/n-quads": "nq"}
    for media_type, extension in expected.items():
        assert f'</id/japan.{extension}>; rel="alternate"; type="{media_type}"' in links, media_type
        fixed = site.get(f"/id/japan.{extension}", headers={"Accept": "text/turtle"})  # the URL wins over Accept
        assert fixed.status_code == 200 and fixed.mimetype == media_type, extension
    assert site.get("/id/japan", headers=HTML).headers["Content-Location"] == "/id/japan.html"
    assert site.get("/id/japan").mimetype == "text/turtle"  # no Accept: Turtle


def test_an_unknown_iri_is_a_404_page_offering_the_search(site):
    page = site.get("/id/no-such-person", headers=HTML)
    assert page.status_code == 404 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert f"{RESOURCE_NS}no-such-person" in text
    assert 'action="/search"' in text and 'name="q"' in text and 'value="no such person"' in text
    machine = site.get("/id/no-such-person", headers={"Accept": "text/turtle"})
    assert machine.status_code == 404 and machine.mimetype != "text/html"
    assert site.get("/id/../ontology", headers=HTML).status_code == 404
    assert site.get("/id/japan.exe", headers=HTML).status_code == 404


def test_the_ontology_resolves_with_an_anchor_per_term(site):
    graph = rdflib.Graph().parse(data=site.get("/ontology", headers={"Accept": "text/turtle"}).data,
                                 format="turtle")
    person = rdflib.URIRef(ONTOLOGY_NS + "Person")
    assert (person, rdflib.RDF.type, rdflib.OWL.Class) in graph
    page = site.get("/ontology", headers=HTML)
    assert page.status_code == 200 and 'id="Person"' in page.get_data(as_text=True)
    assert site.get("/ontology.jsonld").mimetype == "application/ld+json"
    shapes = rdflib.Graph().parse(data=site.get("/shapes.ttl").data, format="turtle")
    assert len(shapes) > 100
    shapes_page = site.get("/shapes", headers=HTML).get_data(as_text=True)
    assert '<dt id="Agent">' in shapes_page and "Node shapes" in shapes_page  # each shape at its anchor


def test_the_entity_page_shows_names_types_and_the_documents_stating_each_fact(site):
    text = site.get("/id/song-il-ho", headers=HTML).get_data(as_text=True)
    assert "<title>Song Il-ho" in text and "<h1>Song Il-ho</h1>" in text
    assert 'lang="zh">宋日昊</span>' in text and "Chinese" in text
    assert 'href="/ontology#Person"' in text  # the type, linked to its term
    nationality = text[text.index(">nationality</dt>"):]
    nationality = nationality[:nationality.index("</dd>")]
    assert "North Korea" in nationality
    assert 'href="/id/doc-000"' in nationality and 'href="/id/doc-001"' in nationality  # both documents' badges
    assert "DBpedia" in text and "http://dbpedia.org/resource/Sung_Il-ho" in text  # the link, with its provenance
    assert "Reference inventory" in text
    for extension in ("ttl", "jsonld", "trig"):
        assert f'href="/id/song-il-ho.{extension}"' in text
    assert "/?query=DESCRIBE" in text


def test_evidence_passages_are_shown_with_a_link_to_the_document(site):
    text = site.get("/id/song-il-ho", headers=HTML).get_data(as_text=True)
    assert 'class="evidence"' in text
    assert "Song Ilho [宋日昊]" in text  # doc-000's passage, quoted
    assert 'href="/id/doc-000#r-doc-000-passage-' in text


def test_claims_are_side_by_side_with_claimants_and_documents(site):
    text = site.get("/id/abduction-issue", headers=HTML).get_data(as_text=True)
    claims = text[text.index('id="s-claims"'):]
    for claimant in ("Government of Japan", "Government of North Korea"):
        assert claimant in claims
    assert 'href="/id/doc-002"' in claims


def test_events_are_in_date_order_at_the_precision_stated(site):
    text = site.get("/id/song-il-ho", headers=HTML).get_data(as_text=True) + \
        site.get("/id/hiroshi-nakai", headers=HTML).get_data(as_text=True)
    assert "-01-01" not in text  # a month is never shown as its first day
    page = site.get("/id/japan", headers=HTML).get_data(as_text=True)
    events = page[page.index('id="s-events"'):]
    years = [int(y) for y in re.findall(r"<tr><td>[^<]*<span[^>]*>[^<]*?(\d{4})", events)]
    assert years and years == sorted(years)


def test_the_document_page_shows_attribution_and_every_fact_grouped_by_subject(site):
    text = site.get("/id/doc-000", headers=HTML).get_data(as_text=True)
    assert "Forecasting Breakthrough in DPRK-Japan Relations" in text
    assert "Zhang Liangui" in text and "Sino-NK" in text  # author and publisher
    roles = text[text.index('id="s-record"'):text.index(">publisher</dt>")]
    assert re.search(r"translator.{0,200}</dt><dd>[^\n]*Nathan Beauchamp-Mustafaga", roles)  # each with its role
    assert "23 January 2013" in text  # the issue date, in words
    assert 'href="https://sinonk.com/2013/01/23/' in text  # the public copy the attribution note names
    assert 'id="r-song-il-ho"' in text  # one section per subject
    assert "Passages quoted as evidence" in text
    orig = site.get("/id/doc-000-orig", headers=HTML)
    assert orig.status_code == 200 and "朝日关系可能有大突破" in orig.get_data(as_text=True)


def test_the_setting_links_the_public_iris_instead(make_app):
    client = make_app(NAMESPACE_LINKS="public", EXTERNAL_FACTS_TIMEOUT=0).test_client()
    text = client.get("/id/song-il-ho", headers=HTML).get_data(as_text=True)
    assert f'href="{RESOURCE_NS}north-korea"' in text and 'href="/id/north-korea"' not in text


def test_all_forms_in_korean_japanese_and_chinese_are_shown(make_app, tmp_path):
    root = data_root(tmp_path, """
GRAPH djr:doc-test {
  djr:doc-test a dj:SourceDocument ; rdfs:label "A test document"@en .
  djr:kim-test a dj:Person ; rdfs:label "Kim Test"@en , "김테스트"@ko , "金テスト"@ja , "金测试"@zh ;
      dct:source djr:doc-test .
}
""")
    client = make_app(DATA_ROOT=str(root), EXTERNAL_FACTS_TIMEOUT=0, VALIDATE_WRITES=False).test_client()
    text = client.get("/id/kim-test", headers=HTML).get_data(as_text=True)
    assert "<h1>Kim Test</h1>" in text
    for language, form in (("Korean", "김테스트"), ("Japanese", "金テスト"), ("Chinese", "金测试")):
        assert language in text and form in text
    assert text.index("Korean") < text.index("Japanese") < text.index("Chinese")


def test_the_w3id_rules_send_the_namespace_to_the_deployment():
    rules = (REPO / "deploy" / "w3id" / ".htaccess").read_text(encoding="utf-8")
    assert "RewriteRule ^id/(.+)$ https://dprk-japan-kg.example.org/id/$1 [R=303,L]" in rules
    assert "RewriteRule ^ontology$ https://dprk-japan-kg.example.org/ontology" in rules


# -- what Wikidata says, beside our facts --------------------------------------------------------------------


def test_the_external_panel_shows_what_the_wikidata_shaped_server_says(make_app, oxigraph_server):
    endpoint = load_sample(oxigraph_server)
    client = make_app(EXTERNAL_FACTS_ENDPOINTS={"wikidata": endpoint, "dbpedia": closed_port_url()},
                      EXTERNAL_FACTS_TIMEOUT=5).test_client()
    deadline = time.monotonic() + 20
    while True:
        text = client.get("/id/north-korea", headers=HTML).get_data(as_text=True)
        panel = text[text.index("What Wikidata says"):]
        if "not fetched yet" not in panel[:600].lower() or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "country in East Asia" in panel  # the sample's description of wd:Q423
    assert 'class="badge external"' in text
    our_facts = text[:text.index('<aside class="external"')]
    assert "country in East Asia" not in our_facts  # beside our facts, never among them
    dbpedia = text[text.index("What DBpedia says"):]
    assert "could not be asked" in dbpedia[:800]  # the other endpoint is down: said so, page whole
    ours = client.get("/id/north-korea.ttl").get_data(as_text=True)
    assert "country in East Asia" not in ours  # and never in our RDF


@pytest.mark.parametrize("remote", ["closed", "silent"])
def test_the_page_renders_whole_and_fast_when_the_remote_is_unreachable(make_app, remote):
    with silent_endpoint() as silent:
        endpoint = closed_port_url() if remote == "closed" else silent
        client = make_app(EXTERNAL_FACTS_ENDPOINTS={"wikidata": endpoint, "dbpedia": endpoint},
                          EXTERNAL_FACTS_TIMEOUT=3).test_client()
        started = time.monotonic()
        answer = client.get("/id/north-korea", headers=HTML)
        elapsed = time.monotonic() - started
    assert answer.status_code == 200
    assert elapsed < 2.5, elapsed  # the page waits half a second at most for the remote, never its timeout
    text = answer.get_data(as_text=True)
    assert "<h1>North Korea</h1>" in text and "What Wikidata says" in text
    panel = text[text.index("What Wikidata says"):][:800].lower()
    assert "not fetched yet" in panel or "could not be asked" in panel


def test_void_names_the_uri_space_and_the_look_up_endpoint(site):
    void = rdflib.Graph().parse(data=site.get("/.well-known/void", headers={"Accept": "text/turtle"}).data,
                                format="turtle")
    dataset = rdflib.URIRef(RESOURCE_NS + "dataset")
    voidns = rdflib.Namespace("http://rdfs.org/ns/void#")
    assert (dataset, voidns.uriSpace, rdflib.Literal(RESOURCE_NS)) in void
    endpoint = str(void.value(dataset, voidns.uriLookupEndpoint))
    assert endpoint.endswith("/lookup?uri=")
    path = endpoint[endpoint.index("/lookup"):]
    found = site.get(path + RESOURCE_NS + "japan")
    assert found.status_code == 303 and found.headers["Location"].endswith("/id/japan")
    term = site.get(path + quote(ONTOLOGY_NS + "Person", safe=""))  # the '#' travels encoded
    assert term.status_code == 303 and term.headers["Location"].endswith("/ontology#Person")
    assert site.get(path + RESOURCE_NS + "nobody", headers={"Accept": "text/turtle"}).status_code == 404
    assert site.get("/lookup").status_code == 400


def test_where_the_documents_differ_the_values_are_side_by_side_with_their_documents(site):
    text = site.get("/id/ev-2002-09-koizumi-pyongyang", headers=HTML).get_data(as_text=True)
    differ = text[text.index('id="s-differ"'):]
    differ = differ[:differ.index("</table>")]
    assert "September 2002" in differ and 'href="/id/doc-002"' in differ  # the month, as doc-002 gives it
    assert re.search(r">2002</span>.*?href=\"/id/doc-003\"", differ, re.S)  # only the year, as doc-003 gives it


def test_named_graphs_resolve_and_the_derived_one_is_not_served(site):
    graph = rdflib.Graph().parse(data=site.get("/graph/links", headers={"Accept": "text/turtle"}).data,
                                 format="turtle")
    skos_exact = rdflib.URIRef("http://www.w3.org/2004/02/skos/core#exactMatch")
    assert (rdflib.URIRef(RESOURCE_NS + "song-il-ho"), skos_exact,
            rdflib.URIRef("http://dbpedia.org/resource/Sung_Il-ho")) in graph
    assert not list(graph.triples((None, RDFS_LABEL, rdflib.Literal("Song Il-ho", lang="en"))))  # its own only
    page = site.get("/graph/links", headers=HTML)
    assert page.status_code == 200 and "triples" in page.get_data(as_text=True)
    assert site.get("/graph/entailed", headers=HTML).status_code == 404  # derived: query it instead
    assert site.get("/graph/no-such-graph", headers={"Accept": "text/turtle"}).status_code == 404
    ontology = rdflib.Graph().parse(data=site.get("/ontology.ttl").data, format="turtle")
    assert not list(ontology.triples((rdflib.URIRef(RESOURCE_NS + "japan"), None, None)))
