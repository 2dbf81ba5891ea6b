"""The name index (service.search.index): ranking, scripts, types and documents, on small planted graphs and on
the bundled data, without a server."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from service.canned.backend import local_store
from service.rdf.vocabulary import ONTOLOGY_NS, RESOURCE_NS
from service.search.index import MAX_QUERY_LENGTH, LiveIndex, build, check_query

PLANTED = f"""
@prefix dj: <{ONTOLOGY_NS}> . @prefix djr: <{RESOURCE_NS}> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
GRAPH <https://w3id.org/dprk-japan-kg/graph/ontology> {{
  dj:Agent rdfs:label "agent"@en . dj:Person rdfs:subClassOf dj:Agent ; rdfs:label "person"@en .
  dj:Event rdfs:label "event"@en .
}}
GRAPH djr:doc-1 {{
  djr:doc-1 a dj:SourceDocument ; rdfs:label "The first text"@en .
  djr:abe a dj:Person ; rdfs:label "Shinzō Abe"@en , "安倍晋三"@ja ; skos:altLabel "Abe Shinzo"@en .
  djr:abe-visit a dj:Event ; rdfs:label "Abe's visit"@en .
  djr:abeyance a dj:Event ; rdfs:label "Talks in abeyance"@en .
  djr:kabe a dj:Person ; rdfs:label "Kabe"@en .
  djr:tabe a dj:Person ; rdfs:label "安倍"@ja ; rdfs:label "Tabe"@fr .
}}
GRAPH djr:batch-9 {{ djr:kabe skos:altLabel "Kabe Two"@en . }}
GRAPH <https://w3id.org/dprk-japan-kg/graph/provenance> {{
  djr:doc-1 dj:statementsOf djr:doc-1 . djr:batch-9 dj:statementsOf djr:doc-2 .
}}
"""


def _select(store: ox.Store):
    def select(sparql: str):
        solutions = store.query(sparql)
        names = [v.value for v in solutions.variables]
        return [tuple(row[n] for n in names) for row in solutions]
    return select


@pytest.fixture(scope="module")
def planted():
    store = ox.Store()
    store.load(PLANTED.encode(), ox.RdfFormat.TRIG)
    return build(_select(store))


@pytest.fixture(scope="module")
def bundled():
    return build(_select(local_store(Path(__file__).resolve().parents[2])))


def _found(index, q, **kwargs):
    matches, _ = index.search(q, **kwargs)
    return [(m.iri.rsplit("/", 1)[-1], m.tier) for m in matches]


def test_ranking_is_exact_prefix_word_substring(planted):
    found = _found(planted, "abe")
    tiers = [tier for _, tier in found]
    assert tiers == sorted(tiers, key=["exact", "prefix", "token", "substring"].index)
    assert found[0] == ("abe-visit", "prefix") and ("kabe", "substring") in found
    assert _found(planted, "Abe Shinzo")[0] == ("abe", "exact"), "an alternative label matches whole"
    assert _found(planted, "shinzo abe")[0] == ("abe", "exact"), "diacritics and case do not matter"


def test_english_names_rank_before_other_languages(planted):
    found = _found(planted, "安倍")
    assert found[0] == ("tabe", "exact")
    assert _found(planted, "tabe") == [("tabe", "exact")]
    matches, _ = planted.search("安倍晋三")
    assert matches[0].label == "Shinzō Abe", "the title is the English label, whatever matched"
    assert matches[0].name.lang == "ja"


def test_a_prefix_and_a_part_of_a_han_name_find_it(planted):
    assert _found(planted, "安倍晋")[0][0] == "abe"
    assert ("abe", "substring") in _found(planted, "晋三")


def test_types_follow_the_class_hierarchy(planted):
    persons = {iri for iri, _ in _found(planted, "abe", type_iri=ONTOLOGY_NS + "Agent")}
    assert persons == {"abe", "kabe", "tabe"}
    assert {iri for iri, _ in _found(planted, "abe", type_iri=ONTOLOGY_NS + "Event")} == {"abe-visit", "abeyance"}
    assert planted.label(ONTOLOGY_NS + "Person") == "person"


def test_documents_are_those_whose_graphs_state_the_resource(planted):
    matches, _ = planted.search("Kabe")
    assert matches[0].documents == (RESOURCE_NS + "doc-1", RESOURCE_NS + "doc-2"), "a batch counts for its document"


def test_limit_and_total(planted):
    matches, total = planted.search("abe", limit=2)
    assert len(matches) == 2 and total == 5


@pytest.mark.parametrize(("query", "problem"), [
    ("", "Give a name"), ("   ", "Give a name"), (None, "Give a name"), ("\u3000\t", "Give a name"),
    ("x" * (MAX_QUERY_LENGTH + 1), f"at most {MAX_QUERY_LENGTH}"),
])
def test_queries_that_cannot_be_searched_are_refused(query, problem):
    with pytest.raises(ValueError, match=problem):
        check_query(query)


def test_check_query_strips():
    assert check_query("  Song Il-ho ") == "Song Il-ho"


def test_punctuation_alone_finds_nothing(planted):
    assert planted.search("-- '") == ([], 0)


@pytest.mark.parametrize("q", ["Song Il-ho", "Song Ilho", "song ilho", "宋日昊"])
def test_the_bundled_data_finds_song_il_ho_by_every_form(bundled, q):
    matches, _ = bundled.search(q)
    assert matches[0].iri == RESOURCE_NS + "song-il-ho" and matches[0].label == "Song Il-ho"
    assert {RESOURCE_NS + "doc-000", RESOURCE_NS + "doc-001"} <= set(matches[0].documents)


def test_the_bundled_ontology_terms_are_found_too(bundled):
    matches, _ = bundled.search("person", type_iri="http://www.w3.org/2002/07/owl#Class")
    assert matches[0].iri == ONTOLOGY_NS + "Person"


def test_the_live_index_is_rebuilt_after_a_write_only():
    store = ox.Store()
    store.load(PLANTED.encode(), ox.RdfFormat.TRIG)
    builds = []
    generation = [0]

    def select(sparql):
        builds.append(sparql)
        return _select(store)(sparql)

    live = LiveIndex(select, lambda: generation[0])
    assert live.current().search("Quarrington")[1] == 0
    reads = len(builds)
    live.current()
    assert len(builds) == reads, "no write, no rebuild"
    store.update(f'INSERT DATA {{ GRAPH <{RESOURCE_NS}doc-1> {{ <{RESOURCE_NS}q> '
                 '<http://www.w3.org/2000/01/rdf-schema#label> "Zebulon Quarrington"@en } }')
    generation[0] += 1
    assert live.current().search("Quarrington")[0][0].iri == RESOURCE_NS + "q"
