"""The questions an analyst asks, answered from the graph alone — and exactly as the documents answer them.

These run through the service's own store (union default graph, RDFS entailment), so they
also prove that asking for ``dj:NegotiationRound`` finds the talks typed with its subclasses.
The expected values were read from the seed documents, not from the data.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from service.config import BUNDLE_ROOT
from service.rdf.bundle import load_bundled
from service.rdf.dataset import bundled_files
from service.rdf.vocabulary import PREFIXES, RESOURCE_NS, sparql_prefix_block
from tests.shared_helpers import SEEDS, needs_shared

DJR = RESOURCE_NS


def select(app, query: str) -> list[dict[str, str]]:
    rows = app.extensions["dprk_kg_store"].select(sparql_prefix_block() + query)
    return [{k: v.value for k, v in row.items()} for row in rows.dicts()]


def test_the_2012_rounds_of_talks_in_date_order_with_place_and_who_met(app):
    rows = select(app, """
        SELECT ?round (COALESCE(?start, ?end) AS ?date) ?place WHERE {
          ?round a dj:NegotiationRound .
          OPTIONAL { ?round dj:startDate ?start } OPTIONAL { ?round dj:endDate ?end }
          OPTIONAL { ?round dj:location ?place }
          FILTER(STRSTARTS(STR(COALESCE(?start, ?end)), "2012"))
        } ORDER BY ?date ?round""")
    assert [(r["round"][len(DJR):], r["date"], r.get("place", "")[len(DJR):]) for r in rows] == [
        ("ev-2012-01-song-nakai", "2012-01", "northeast-china"),       # doc-000: January, China's northeast
        ("ev-2012-03-song-nakai", "2012-03", "mongolia"),              # doc-000: March, Mongolia
        ("ev-2012-08-red-cross-talks", "2012-08", ""),                 # 000/001: early August, no venue given
        ("ev-2012-08-beijing-talks", "2012-08-31", "beijing"),         # doc-002: last meeting on 31 August
        ("ev-2012-11-mongolia-talks", "2012-11", "mongolia"),          # 000/001: November, Mongolia
        ("ev-2012-12-talks-postponed", "2012-12", ""),                 # planned early December, postponed
    ]
    met = select(app, """
        SELECT DISTINCT ?person WHERE {
          djr:ev-2012-01-song-nakai dj:delegation/(dj:delegationHead|dj:delegationMember) ?person }
        ORDER BY ?person""")
    assert [r["person"][len(DJR):] for r in met] == ["hiroshi-nakai", "song-il-ho"]
    head = select(app, """
        SELECT ?person WHERE { djr:ev-2012-11-mongolia-talks dj:delegation ?d .
                               ?d dj:represents djr:japan ; dj:delegationHead ?person }""")
    assert [r["person"][len(DJR):] for r in head] == ["shinsuke-sugiyama"]  # named by doc-001 only


def test_the_documents_that_mention_song_il_ho(app):
    rows = select(app, """
        SELECT DISTINCT ?doc WHERE { GRAPH ?doc { ?doc a dj:SourceDocument . djr:song-il-ho ?p ?o } }
        ORDER BY ?doc""")
    assert [r["doc"][len(DJR):] for r in rows] == ["doc-000", "doc-001"]


def test_every_figure_for_the_number_of_abductees_with_who_gives_it_and_where(app):
    rows = select(app, """
        SELECT ?doc ?claimant ?value ?words ?qualifier WHERE {
          GRAPH ?doc { ?c a dj:Claim ; dj:quantityKind djr:qk-abductees-total ; dj:claimant ?claimant .
                       OPTIONAL { ?c dj:quantityValue ?value } OPTIONAL { ?c dj:valueText ?words }
                       OPTIONAL { ?c dj:quantityQualifier ?qualifier } }
        } ORDER BY ?doc ?claimant ?value""")
    found = {(r["doc"][len(DJR):], r["claimant"][len(DJR):], r.get("value"), r.get("words"), r.get("qualifier"))
             for r in rows}
    assert found == {
        ("doc-002", "official-estimates-source", "17", None, None),    # "according to official estimates ... 17"
        ("doc-002", "japanese-civic-groups", None, "dozens", None),    # "some Japanese civic organizations"
        ("doc-003", "stratfor", None, None, "nearly"),                 # "nearly 90 Japanese citizens": a max
        ("doc-003", "stratfor", None, "dozens", None),                 # "dozens of Japanese citizens"
    }
    admitted = select(app, """
        SELECT ?value ?claimant WHERE { ?c dj:quantityKind djr:qk-abductees-admitted ; dj:quantityValue ?value ;
                                          dj:claimant ?claimant }""")
    assert [(r["value"], r["claimant"][len(DJR):]) for r in admitted] == [("13", "gov-dprk")]  # Pyongyang, 2002


def _document_graphs(store: ox.Store) -> set[str]:
    return {r["d"].value for r in store.query(
        f"SELECT ?d WHERE {{ GRAPH ?d {{ ?d a <{PREFIXES['dj']}SourceDocument> }} }}")}


@needs_shared(SEEDS)
def test_every_fact_bearing_triple_is_in_a_source_documents_graph():
    """Data files hold only document graphs and the links graph; no fact floats in the default graph."""
    store = load_bundled()
    documents = _document_graphs(store)
    seeds = sorted(SEEDS.glob("*.txt"))
    assert seeds, f"no seed documents in {SEEDS}"
    assert len(documents) == len(seeds)
    assert documents == {f"{DJR}doc-{seed.name.split('_')[0]}" for seed in seeds}
    for item in bundled_files(BUNDLE_ROOT):
        if item.graph is not None:
            continue  # ontology and shapes: vocabulary, not facts
        for quad in ox.parse(path=str(item.path), format=ox.RdfFormat.TRIG):
            graph = quad.graph_name
            assert not isinstance(graph, ox.DefaultGraph), f"{item.path.name}: a triple outside any graph: {quad}"
            assert graph.value in documents or graph.value == PREFIXES["djg"] + "links", \
                f"{item.path.name}: {quad} is in {graph}, which is not a source document's graph"


@pytest.mark.parametrize("kind", ["Agent", "Place", "Event", "Claim", "Membership", "Delegation"])
def test_every_fact_bearing_resource_names_its_source_document(kind):
    """Instances of the class or any subclass, in any graph, carry dct:source to a document."""
    store = load_bundled()
    missing = list(store.query(sparql_prefix_block() + f"""
        SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a ?type }}
          GRAPH djg:ontology {{ ?type rdfs:subClassOf* dj:{kind} }}
          FILTER NOT EXISTS {{ GRAPH ?g2 {{ ?s dct:source ?doc }} GRAPH ?doc {{ ?doc a dj:SourceDocument }} }} }}"""))
    assert missing == []
    assert bool(store.query(sparql_prefix_block() + f"""ASK {{ GRAPH ?g {{ ?s a ?t }}
        GRAPH djg:ontology {{ ?t rdfs:subClassOf* dj:{kind} }} FILTER(?g != djg:ontology) }}""")), \
        f"no instance of dj:{kind} at all: the check would be vacuous"


def test_every_reader_of_the_bundled_files_holds_the_same_quads():
    """The in-memory store (CLI, offline canned backend), the quads the export reads and the export itself agree."""
    from collections import Counter

    from service.cli.export import export
    from service.rdf.bundle import bundled_quads

    def shape(quads) -> tuple[Counter, set]:
        """Quads per graph, and the quads without blank nodes (blank node labels differ per read)."""
        quads = list(quads)
        named = {q for q in quads if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}
        return Counter(str(q.graph_name) for q in quads), named

    loaded = shape(load_bundled().quads_for_pattern(None, None, None, None))
    assert loaded[0] and ox.DefaultGraph() not in {q.graph_name for q in loaded[1]}
    assert shape(bundled_quads(BUNDLE_ROOT)) == loaded
    assert shape(ox.parse(export(BUNDLE_ROOT, "trig"), ox.RdfFormat.TRIG)) == loaded
    derived_store = load_bundled(derive=True)
    union = {(q.subject, q.predicate, q.object) for q in derived_store.quads_for_pattern(None, None, None,
                                                                                          ox.DefaultGraph())}
    assert {(q.subject, q.predicate, q.object) for q in loaded[1]} <= union
