"""The dataset describes itself (VoID at /.well-known/void, computed from the store) and hands itself
out whole (/dump with its named graphs, per-graph Turtle, and `dprk-kg export` offline)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest

from service import create_app
from service.rdf.bundle import load_bundled
from service.rdf.vocabulary import LINKS_GRAPH, ONTOLOGY_NS, RESOURCE_NS
from service.store.writes import add_to_graph
from service.web.void import DATASET_IRI
from tests.linking_helpers import REPO, data_root, run
from tests.shared_helpers import SEEDS, needs_shared

VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SKOS_EXACT = "http://www.w3.org/2004/02/skos/core#exactMatch"
WD = "http://www.wikidata.org/entity/"
DBR = "http://dbpedia.org/resource/"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The service over the bundled ontology and data (read-only; no canned queries needed here)."""
    root = data_root(tmp_path_factory.mktemp("void"), real_data=True)
    application = create_app({"TESTING": True, "STORE_DIR": str(root.parent / "store"), "DATA_ROOT": str(root)})
    yield application
    application.extensions["dprk_kg_store"].close()


@pytest.fixture(scope="module")
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture(scope="module")
def bundled() -> ox.Store:
    return load_bundled(REPO)


def description(client: Any, accept: str = "text/turtle") -> list[ox.Triple]:
    response = client.get("/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200, response.get_data(as_text=True)
    fmt = ox.RdfFormat.from_media_type(response.mimetype)
    return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(response.data, format=fmt)]


def objects(triples: list[ox.Triple], subject: Any, predicate: str) -> list[Any]:
    return [t.object for t in triples if t.subject == subject and t.predicate.value == predicate]


def value(triples: list[ox.Triple], subject: Any, predicate: str) -> int:
    found = objects(triples, subject, predicate)
    assert len(found) == 1, f"{subject} {predicate}: {found}"
    return int(found[0].value)


def linkset(triples: list[ox.Triple], target: str, predicate: str = SKOS_EXACT) -> Any:
    dataset = ox.NamedNode(f"{RESOURCE_NS}dataset-{target}")
    found = [t.subject for t in triples if t.predicate.value == VOID + "objectsTarget" and t.object == dataset
             and ox.NamedNode(predicate) in objects(triples, t.subject, VOID + "linkPredicate")]
    assert len(found) == 1, f"one linkset to {target} with {predicate}: {found}"
    return found[0]


def test_linkset_counts_match_the_links_in_the_data(client):
    links = [q for q in ox.parse(path=str(REPO / "data" / "links.trig"), format=ox.RdfFormat.TRIG)
             if q.predicate.value == SKOS_EXACT]
    triples = description(client)
    for target, namespace in (("wikidata", WD), ("dbpedia", DBR)):
        node = linkset(triples, target)
        assert ox.NamedNode(VOID + "Linkset") in objects(triples, node, RDF_TYPE)
        assert value(triples, node, VOID + "triples") == sum(q.object.value.startswith(namespace) for q in links)
        assert objects(triples, node, VOID + "subjectsTarget") == [ox.NamedNode(DATASET_IRI)]
        assert node in objects(triples, ox.NamedNode(DATASET_IRI), VOID + "subset")


def test_counts_are_those_of_the_asserted_data(client, bundled):
    triples = description(client)
    dataset = ox.NamedNode(DATASET_IRI)
    distinct = {(q.subject, q.predicate, q.object) for q in bundled.quads_for_pattern(None, None, None, None)}
    assert value(triples, dataset, VOID + "triples") == len(distinct)
    typed = {s for s, p, _ in distinct if p.value == RDF_TYPE and isinstance(s, ox.NamedNode)
             and s.value.startswith(RESOURCE_NS)}
    assert value(triples, dataset, VOID + "entities") == len(typed)
    assert value(triples, dataset, VOID + "distinctSubjects") == len({s for s, _, _ in distinct})


def test_class_and_property_partitions(client, bundled):
    triples = description(client)
    dataset = ox.NamedNode(DATASET_IRI)
    partitions = {objects(triples, part, VOID + "class")[0].value: value(triples, part, VOID + "entities")
                  for part in objects(triples, dataset, VOID + "classPartition")}
    states = {q.subject for q in bundled.quads_for_pattern(None, ox.NamedNode(RDF_TYPE),
                                                           ox.NamedNode(ONTOLOGY_NS + "State"), None)}
    assert partitions[ONTOLOGY_NS + "State"] == len(states) > 0
    properties = {objects(triples, part, VOID + "property")[0].value: value(triples, part, VOID + "triples")
                  for part in objects(triples, dataset, VOID + "propertyPartition")}
    exact = {(q.subject, q.object) for q in bundled.quads_for_pattern(None, ox.NamedNode(SKOS_EXACT), None, None)}
    assert properties[SKOS_EXACT] == len(exact)
    assert value(triples, dataset, VOID + "classes") == len(partitions)
    assert value(triples, dataset, VOID + "properties") == len(properties)


@needs_shared(SEEDS)
def test_licence_sources_and_access_points(client):
    triples = description(client)
    dataset = ox.NamedNode(DATASET_IRI)
    assert objects(triples, dataset, "http://purl.org/dc/terms/license") == [
        ox.NamedNode("https://creativecommons.org/licenses/by/4.0/")]
    seeds = sorted(SEEDS.glob("*.txt"))
    assert seeds, f"no seed documents in {SEEDS}"
    assert sorted(o.value for o in objects(triples, dataset, "http://purl.org/dc/terms/source")) == [
        f"{RESOURCE_NS}doc-{seed.name.split('_')[0]}" for seed in seeds]
    assert objects(triples, dataset, VOID + "sparqlEndpoint") == [ox.NamedNode("http://localhost/sparql")]
    assert ox.NamedNode("http://localhost/dump") in objects(triples, dataset, VOID + "dataDump")


@pytest.mark.parametrize("accept", ["application/ld+json", "application/n-triples", "application/rdf+xml"])
def test_the_description_in_other_syntaxes_says_the_same(client, accept):
    assert set(map(_without_bnodes, description(client, accept))) == set(map(_without_bnodes, description(client)))


def _without_bnodes(triple: ox.Triple) -> tuple:
    return tuple("_" if isinstance(t, ox.BlankNode) else str(t) for t in triple)


def test_the_description_follows_writes(make_app, tmp_path):
    root = data_root(tmp_path, real_data=True)
    app = make_app(DATA_ROOT=str(root))
    client = app.test_client()
    before = value(description(client), linkset(description(client), "wikidata"), VOID + "triples")
    store = app.extensions["dprk_kg_store"]
    add_to_graph(store, ox.NamedNode(LINKS_GRAPH), [ox.Quad(ox.NamedNode(RESOURCE_NS + "hiroshi-nakai"),
                                                            ox.NamedNode(SKOS_EXACT),
                                                            ox.NamedNode(WD + "Q9999000001"),
                                                            ox.NamedNode(LINKS_GRAPH))])
    after = value(description(client), linkset(description(client), "wikidata"), VOID + "triples")
    assert after == before + 1


def test_an_unacceptable_description_format_is_406(client):
    response = client.get("/.well-known/void", headers={"Accept": "application/trig"})
    assert response.status_code == 406
    assert "text/turtle" in response.get_data(as_text=True)


# -- dumps --------------------------------------------------------------------------------------


def without_blank_labels(quads: Any) -> Counter:
    """Quads with blank nodes made anonymous, counted: equal for the same data, whatever the labels."""
    return Counter(tuple("_:" if isinstance(t, ox.BlankNode) else str(t) for t in quad) for quad in quads)


def bundled_quads(bundled: ox.Store) -> Counter:
    return without_blank_labels(bundled.quads_for_pattern(None, None, None, None))


def test_the_dump_is_the_dataset_with_its_graphs(client, bundled):
    response = client.get("/dump")
    assert response.status_code == 200
    assert response.mimetype == "application/trig"
    assert response.headers["Content-Disposition"] == 'attachment; filename="dprk-japan-kg.trig"'
    assert without_blank_labels(ox.parse(response.data, format=ox.RdfFormat.TRIG)) == bundled_quads(bundled)


@pytest.mark.parametrize(("args", "headers"), [("", {"Accept": "application/n-quads"}), ("?format=nquads", {})])
def test_the_dump_as_n_quads(client, bundled, args, headers):
    response = client.get("/dump" + args, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/n-quads"
    assert response.headers["Content-Disposition"] == 'attachment; filename="dprk-japan-kg.nq"'
    assert without_blank_labels(ox.parse(response.data, format=ox.RdfFormat.N_QUADS)) == bundled_quads(bundled)


def test_one_graph_as_turtle(client, bundled):
    graph = ox.NamedNode(RESOURCE_NS + "doc-002")
    response = client.get("/dump?graph=djr:doc-002")
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    assert response.headers["Content-Disposition"] == 'attachment; filename="dprk-japan-kg_doc-002.ttl"'
    expected = without_blank_labels(ox.Triple(q.subject, q.predicate, q.object)
                                    for q in bundled.quads_for_pattern(None, None, None, graph))
    assert without_blank_labels(ox.Triple(q.subject, q.predicate, q.object)
                                for q in ox.parse(response.data, format=ox.RdfFormat.TURTLE)) == expected


@pytest.mark.parametrize(("query", "headers", "status", "words"), [
    ("", {"Accept": "text/turtle"}, 406, ["?graph="]),
    ("?format=turtle", {}, 400, ["?graph="]),
    ("?format=yaml", {}, 400, ["'format'", "yaml"]),
    ("?graph=djg:entailed", {}, 400, ["derived"]),
    ("?graph=djr:atlantis", {}, 404, ["atlantis"]),
    ("?graph=not%20an%20iri", {}, 400, ["'graph'"]),
    ("?graph=djr:doc-001&graph=djr:doc-002", {}, 400, ["'graph'", "2 times"]),
])
def test_bad_dump_requests_say_what_is_wrong(client, query, headers, status, words):
    response = client.get("/dump" + query, headers=headers)
    assert response.status_code == status
    text = response.get_data(as_text=True)
    for word in words:
        assert word in text


# -- offline export -----------------------------------------------------------------------------


def test_export_writes_the_dataset_with_its_graphs(tmp_path, bundled):
    out = tmp_path / "dump.nq"
    result = run("export", "--format", "nquads", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert without_blank_labels(ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS)) == bundled_quads(bundled)


def test_export_is_deterministic(tmp_path):
    first, second = tmp_path / "a.trig", tmp_path / "b.trig"
    assert run("export", "--output", str(first)).exit_code == 0
    assert run("export", "--output", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    assert set(ox.parse(path=str(first), format=ox.RdfFormat.TRIG)), "TriG by default"


def test_export_one_graph_as_turtle(tmp_path, bundled):
    out = tmp_path / "links.ttl"
    result = run("export", "--format", "turtle", "--graph", "djg:links", "--output", str(out))
    assert result.exit_code == 0, result.output
    expected = {ox.Triple(q.subject, q.predicate, q.object)
                for q in bundled.quads_for_pattern(None, None, None, ox.NamedNode(LINKS_GRAPH))}
    assert {ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(path=str(out), format=ox.RdfFormat.TURTLE)} == expected


@pytest.mark.parametrize(("args", "words"), [
    (["--format", "trig", "--graph", "djr:atlantis"], ["--graph", "atlantis"]),
    (["--format", "trig", "--graph", "djg:entailed"], ["--graph", "derived"]),
])
def test_export_refuses_what_it_cannot_do(tmp_path, args, words):
    result = run("export", *args, "--output", str(tmp_path / "out"))
    assert result.exit_code == 2
    for word in words:
        assert word in result.output
    assert not (tmp_path / "out").exists()


def test_export_reads_another_root(tmp_path):
    root = data_root(tmp_path, "GRAPH djr:doc-test { djr:x a dj:State ; rdfs:label \"X\"@en . }")
    out = tmp_path / "x.nq"
    assert run("export", "--format", "nquads", "--root", str(root), "--output", str(out)).exit_code == 0
    graphs = {q.graph_name.value for q in ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS)}
    assert RESOURCE_NS + "doc-test" in graphs


def test_the_service_description_points_to_the_void_description(client):
    import pyoxigraph as ox

    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    triples = list(ox.parse(response.data, format=ox.RdfFormat.TURTLE))
    see_also = [t.object.value for t in triples
                if t.subject.value.endswith("/id/dataset") and t.predicate.value.endswith("#seeAlso")]
    assert see_also == ["http://localhost/.well-known/void"]
    void = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert void.status_code == 200
    described = {t.subject.value for t in ox.parse(void.data, format=ox.RdfFormat.TURTLE)}
    assert "https://w3id.org/dprk-japan-kg/id/dataset" in described
