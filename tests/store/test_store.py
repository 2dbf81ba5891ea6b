"""The store worker as its users rely on it: the union default graph is a set, inferences follow
writes, writes are atomic, and a runaway query is really stopped."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from service import config
from service.store.client import StoreClient, StoreError, StoreTimeout
from tests.process_helpers import alive

EX = "http://example.org/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")


def n(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


@pytest.fixture
def store(tmp_path: Path):
    settings = config.defaults()
    settings.update(STORE_DIR=str(tmp_path / "store"), LOAD_DATA=False, QUERY_TIMEOUT=3.0)
    client = StoreClient(settings)
    yield client
    client.close()


def labels(store: StoreClient) -> list[str]:
    return [row[0].value for row in store.select(f"SELECT ?l WHERE {{ <{EX}rgb> <{EX}label> ?l }}").rows]


def test_a_fact_stated_in_two_graphs_is_one_triple_of_the_default_graph(store):
    store.apply(add=[ox.Quad(n("rgb"), n("label"), ox.Literal("RGB"), n("doc1")),
                     ox.Quad(n("rgb"), n("label"), ox.Literal("RGB"), n("doc2"))])
    assert labels(store) == ["RGB"]
    store.apply(remove=[ox.Quad(n("rgb"), n("label"), ox.Literal("RGB"), n("doc1"))])
    assert labels(store) == ["RGB"], "still stated by doc2"
    store.apply(remove=[ox.Quad(n("rgb"), n("label"), ox.Literal("RGB"), n("doc2"))])
    assert labels(store) == []


def test_instances_of_a_subclass_are_instances_of_the_class_and_stop_being_so(store):
    store.apply(add=[ox.Quad(n("Agency"), SUBCLASS, n("Org"), n("onto")),
                     ox.Quad(n("rgb"), RDF_TYPE, n("Agency"), n("doc1"))])
    query = f"SELECT ?s WHERE {{ ?s a <{EX}Org> }}"
    assert [r[0] for r in store.select(query).rows] == [n("rgb")]
    store.apply(remove=[ox.Quad(n("rgb"), RDF_TYPE, n("Agency"), n("doc1"))])
    assert store.select(query).rows == []


def test_a_hierarchy_added_later_applies_to_existing_instances(store):
    store.apply(add=[ox.Quad(n("rgb"), RDF_TYPE, n("Agency"), n("doc1"))])
    store.apply(add=[ox.Quad(n("Agency"), SUBCLASS, n("Org"), n("onto"))])
    assert [r[0] for r in store.select(f"SELECT ?s WHERE {{ ?s a <{EX}Org> }}").rows] == [n("rgb")]


def test_a_failing_change_applies_nothing(store):
    store.apply(add=[ox.Quad(n("a"), n("p"), ox.Literal("1"), n("g"))])
    with pytest.raises(StoreError):
        store.apply(add=[ox.Quad(n("b"), n("p"), ox.Literal("2"), n("g")),
                         ox.Quad(n("c"), n("p"), ox.Literal("3"), ox.NamedNode(
                             "https://w3id.org/dprk-japan-kg/graph/entailed"))])
    rows = store.select(f"SELECT ?s WHERE {{ GRAPH <{EX}g> {{ ?s ?p ?o }} }}").rows
    assert rows == [(n("a"),)]


@pytest.mark.slow  # waits out a time limit: long
def test_a_runaway_query_is_stopped_and_the_store_keeps_serving(store):
    store.apply(add=[ox.Quad(n(f"s{i}"), n("p"), ox.Literal(str(i)), n("big")) for i in range(2000)])
    old_pid = store.pid
    with pytest.raises(StoreTimeout):
        store.query(f"SELECT (COUNT(*) AS ?c) WHERE {{ ?a <{EX}p> ?x . ?b <{EX}p> ?y . ?c <{EX}p> ?z }}").read()
    assert not alive(old_pid), "the process that ran the runaway query must be gone"
    assert store.pid != old_pid
    count = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{EX}big> {{ ?s ?p ?o }} }}").rows[0][0]
    assert count.value == "2000", "acknowledged writes survive the kill"


def test_the_row_cap_cuts_results_and_says_so(store):
    store.apply(add=[ox.Quad(n(f"s{i}"), n("p"), ox.Literal(str(i)), n("g")) for i in range(10)])
    result = store.select(f"SELECT ?s WHERE {{ ?s <{EX}p> ?o }}", row_cap=4)
    assert len(result.rows) == 4 and result.truncated
    result = store.select(f"SELECT ?s WHERE {{ ?s <{EX}p> ?o }}", row_cap=10)
    assert len(result.rows) == 10 and not result.truncated


def test_internal_look_ups_are_whole_whatever_the_public_row_cap(tmp_path: Path):
    settings = config.defaults()
    settings.update(STORE_DIR=str(tmp_path / "capped"), LOAD_DATA=False, RESULT_ROW_CAP=3)
    client = StoreClient(settings)
    try:
        client.apply(add=[ox.Quad(n(f"s{i}"), n("p"), ox.Literal(str(i)), n("g")) for i in range(10)])
        query = f"SELECT ?s WHERE {{ ?s <{EX}p> ?o }}"
        assert client.query(query).truncated  # clients' queries: the cap applies
        rows = client.select(query)
        assert len(rows.rows) == 10 and not rows.truncated  # the service's own look-ups: whole
        assert len(client.construct(f"CONSTRUCT WHERE {{ ?s <{EX}p> ?o }}")) == 10
    finally:
        client.close()


def test_a_syntax_error_names_its_position(store):
    with pytest.raises(StoreError) as info:
        store.query("SELECT * WHERE { ?s ?p }")
    assert info.value.kind == "syntax"
    assert "1:" in info.value.message


def _client(store_dir: Path, **settings) -> StoreClient:
    values = config.defaults()
    values.update(STORE_DIR=str(store_dir), DATA_ROOT=str(config.BUNDLE_ROOT), **settings)
    return StoreClient(values)


def _count(client: StoreClient, where: str = "GRAPH ?g { ?s ?p ?o }") -> int:
    return int(client.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}").rows[0][0].value)


def test_a_first_load_that_was_killed_is_done_again_at_the_next_start(tmp_path: Path):
    fresh = _client(tmp_path / "fresh")
    expected = _count(fresh), _count(fresh, "?s ?p ?o")
    fresh.close()
    interrupted = tmp_path / "interrupted"
    partial = _client(interrupted, LOAD_DATA=False)  # a store holding part of the data, and no derived graphs
    partial.apply(add=[ox.Quad(n("half"), n("loaded"), ox.Literal("1"), n("g"))])
    partial.close()
    (interrupted / "dprk-kg-state.json").write_text('{"status": "loading"}')
    restarted = _client(interrupted)
    try:
        assert (_count(restarted), _count(restarted, "?s ?p ?o")) == expected
    finally:
        restarted.close()


def _compacted(state_file: Path, timeout: float = 60) -> bool:
    """Whether the state file records the store as compacted, waiting for the worker's background compaction."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if json.loads(state_file.read_text()).get("optimized") is True:
            return True
        time.sleep(0.05)
    return False


def test_a_loaded_store_is_compacted_once_and_keeps_its_data(tmp_path: Path):
    """The first load is followed by a compaction in the background (recorded in the state file when done) while
    the store answers; a store loaded by an older version (no record) is compacted after its next start, and
    compaction changes no data."""
    state_file = tmp_path / "s" / "dprk-kg-state.json"
    first = _client(tmp_path / "s")
    counts = _count(first), _count(first, "?s ?p ?o")  # answered whether or not the compaction is done
    assert _compacted(state_file)
    first.close()
    state_file.write_text(json.dumps({"status": "ready", "derivation": {"union": True, "entailment": "rdfs"}}))
    again = _client(tmp_path / "s")
    try:
        assert _compacted(state_file)
        assert (_count(again), _count(again, "?s ?p ?o")) == counts
    finally:
        again.close()
    assert json.loads(state_file.read_text())["status"] == "ready"


def test_changing_the_entailment_setting_rebuilds_the_inferences(tmp_path: Path):
    ask = "ASK { <https://w3id.org/dprk-japan-kg/id/rgb> a <https://w3id.org/dprk-japan-kg/ontology#Organization> }"
    plain = _client(tmp_path / "s", ENTAILMENT="none")
    assert plain.ask(ask) is False
    plain.close()
    entailing = _client(tmp_path / "s", ENTAILMENT="rdfs")
    try:
        assert entailing.ask(ask) is True
    finally:
        entailing.close()


def test_an_update_adding_a_blank_node_subclass_is_accepted_and_ignored_by_entailment(make_app):
    """Hierarchy triples with a blank node are not entailment rules (as for stored ones); the
    update must still apply — it used to fail with a syntax error from the derivation step."""
    from tests.sparql_helpers import AUTH, TOKEN

    app = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False, VALIDATE_WRITES=False)
    client = app.test_client()
    update = ("INSERT DATA { GRAPH <urn:test:g> { _:b <http://www.w3.org/2000/01/rdf-schema#subClassOf> <urn:test:C> ."
              " <urn:test:C> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <urn:test:D> ."
              " <urn:test:x> a <urn:test:C> } }")
    response = client.post("/sparql", data=update, content_type="application/sparql-update", headers=AUTH)
    assert response.status_code == 204, response.data
    ask = client.get("/sparql", query_string={"query": "ASK { <urn:test:x> a <urn:test:D> }"},
                     headers={"Accept": "application/sparql-results+json"})
    assert ask.get_json()["boolean"] is True  # the IRI rule in the same update still counts


# -- the derived graphs (service.rdf.derived), without a worker ---------------------------------------------------


def _derived_state(store: ox.Store) -> tuple[set, set]:
    from service.rdf.derived import ENTAILED

    return ({(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, ENTAILED)},
            {(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())})


def test_incremental_upkeep_of_the_derived_graphs_equals_a_full_rebuild():
    """Random blank-node-free changes kept incrementally leave the same inferences and union as a rebuild."""
    import random

    from service.rdf import derived

    n = lambda local: ox.NamedNode("http://example.org/" + local)  # noqa: E731
    sub, subprop = ox.NamedNode(derived.SUBCLASS.value), ox.NamedNode(derived.SUBPROPERTY.value)
    hierarchy = [ox.Quad(n("Cat"), sub, n("Animal"), n("onto")), ox.Quad(n("Animal"), sub, n("Thing"), n("onto")),
                 ox.Quad(n("knows"), subprop, n("related"), n("onto"))]
    rng = random.Random(7)
    pool = [ox.Quad(n(f"x{i}"), p, o, n(g)) for i in range(4) for g in ("g1", "g2")
            for p, o in ((RDF_TYPE, n("Cat")), (RDF_TYPE, n("Animal")), (n("knows"), n("x0")),
                         (n("related"), n("x1")), (n("name"), ox.Literal("x")))]
    store = ox.Store()
    store.update(derived.delta_update(store, hierarchy, [], union=True, entailment="rdfs"))
    present: set[ox.Quad] = set()
    for _ in range(40):
        add = [q for q in rng.sample(pool, 3) if q not in present]
        remove = [q for q in rng.sample(sorted(present, key=str), min(2, len(present)))]
        store.update(derived.delta_update(store, add, remove, union=True, entailment="rdfs"))
        present = (present | set(add)) - set(remove)
        rebuilt = ox.Store()
        rebuilt.extend(hierarchy + sorted(present, key=str))
        rebuilt.update(derived.full_rebuild(rebuilt, union=True, entailment="rdfs"))
        assert _derived_state(store) == _derived_state(rebuilt)
    assert _derived_state(store)[0], "the changes entailed something: the comparison is not vacuous"


def test_an_addition_is_written_with_its_derived_quads_as_a_rebuild_would_derive_them():
    """Additions alone go in through ``Store.extend`` with the derived quads of :func:`derived.derived_additions`:
    the union default graph and the inferences equal a full rebuild's after each; a change that removes, or touches
    the hierarchy, or holds a blank node, is not an addition of that kind (``None``)."""
    import random

    from service.rdf import derived

    n = lambda local: ox.NamedNode("http://example.org/" + local)  # noqa: E731
    sub, subprop = ox.NamedNode(derived.SUBCLASS.value), ox.NamedNode(derived.SUBPROPERTY.value)
    hierarchy = [ox.Quad(n("Cat"), sub, n("Animal"), n("onto")), ox.Quad(n("Animal"), sub, n("Thing"), n("onto")),
                 ox.Quad(n("knows"), subprop, n("related"), n("onto"))]
    pool = [ox.Quad(n(f"x{i}"), p, o, n(g)) for i in range(6) for g in ("g1", "g2")
            for p, o in ((RDF_TYPE, n("Cat")), (RDF_TYPE, n("Animal")), (n("knows"), n("x0")),
                         (n("related"), n("x1")), (n("name"), ox.Literal("x")))]
    rng = random.Random(11)
    store = ox.Store()
    store.update(derived.delta_update(store, hierarchy, [], union=True, entailment="rdfs"))
    present: set[ox.Quad] = set()
    for _ in range(25):
        add = [q for q in rng.sample(pool, 4) if q not in present]
        extra = derived.derived_additions(store, add, union=True, entailment="rdfs")
        assert extra is not None
        store.extend([*add, *extra])
        present |= set(add)
        rebuilt = ox.Store()
        rebuilt.extend(hierarchy + sorted(present, key=str))
        rebuilt.update(derived.full_rebuild(rebuilt, union=True, entailment="rdfs"))
        assert _derived_state(store) == _derived_state(rebuilt)
    assert _derived_state(store)[0], "the additions entailed something: the comparison is not vacuous"
    assert derived.derived_additions(store, [ox.Quad(n("Dog"), sub, n("Animal"), n("onto"))], union=True,
                                     entailment="rdfs") is None
    assert derived.derived_additions(store, [ox.Quad(ox.BlankNode(), RDF_TYPE, n("Cat"), n("g1"))], union=True,
                                     entailment="rdfs") is None
    assert derived.derived_additions(store, pool[:2], union=False, entailment="none") == []


def test_the_asserted_graphs_are_every_named_graph_but_the_derived_ones_and_the_default_graph_unless_union():
    from service.rdf import derived
    from service.rdf.vocabulary import ENTAILED_GRAPH, LINKS_GRAPH, STORE_STATE_GRAPH

    assert derived.is_asserted(ox.NamedNode(LINKS_GRAPH), union=True)
    assert not derived.is_asserted(ox.NamedNode(ENTAILED_GRAPH), union=False)
    assert not derived.is_asserted(ox.DefaultGraph(), union=True)
    assert derived.is_asserted(ox.DefaultGraph(), union=False)
    assert not derived.is_asserted(ox.NamedNode(STORE_STATE_GRAPH), union=False)  # a remote store's version
    assert derived.unasserted_graphs(union=True) == {ox.NamedNode(ENTAILED_GRAPH), ox.NamedNode(STORE_STATE_GRAPH),
                                                     ox.DefaultGraph()}
    # The SPARQL form counts the same triples: a fact stated twice and inferred once is one triple.
    store = ox.Store()
    fact = (ox.NamedNode("http://e/a"), ox.NamedNode("http://e/p"), ox.NamedNode("http://e/b"))
    store.extend([ox.Quad(*fact, ox.NamedNode("http://e/g1")), ox.Quad(*fact, ox.NamedNode("http://e/g2")),
                  ox.Quad(*fact, ox.NamedNode(ENTAILED_GRAPH)), ox.Quad(*fact, ox.DefaultGraph())])
    for union, expected in ((True, 1), (False, 1)):
        rows = list(store.query("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE "
                                f"{derived.asserted_pattern('?s ?p ?o', union=union)} }}"))
        assert int(rows[0]["n"].value) == expected
    rows = list(store.query(f"SELECT ?g WHERE {derived.asserted_pattern('?s ?p ?o', union=True)}"))
    assert {r["g"].value for r in rows} == {"http://e/g1", "http://e/g2"}


@pytest.mark.slow  # waits out a time limit: long
def test_a_slow_reader_does_not_get_the_store_worker_killed(make_app):
    app = make_app(QUERY_TIMEOUT=2.0, RESULT_ROW_CAP=0)
    store = app.extensions["dprk_kg_store"]
    pid = store.pid
    result = store.query("SELECT * WHERE { ?s ?p ?o }", format="json")
    chunks = iter(result.chunks)
    first = next(chunks)
    time.sleep(2.5)  # longer than the query limit, spent by the reader, not the worker
    rest = b"".join(chunks)
    body = json.loads(first + rest)
    assert len(body["results"]["bindings"]) > 1000
    assert store.pid == pid


def test_turning_the_union_default_graph_off_removes_the_copies_it_made(tmp_path: Path):
    union = _client(tmp_path / "s", LOAD_DATA=False)
    union.apply(add=[ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("v"),
                             ox.NamedNode("urn:x:g"))])
    assert union.ask("ASK { <urn:x:s> <urn:x:p> 'v' }")
    union.close()
    plain = _client(tmp_path / "s", LOAD_DATA=False, UNION_DEFAULT_GRAPH=False, ENTAILMENT="none")
    try:
        assert not plain.ask("ASK { <urn:x:s> <urn:x:p> 'v' }"), "the default graph holds no stale copy"
        assert plain.ask("ASK { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> 'v' } }")
    finally:
        plain.close()


def test_the_first_load_in_one_bulk_load_holds_what_loading_then_deriving_holds(tmp_path: Path):
    """The first start's single bulk load (the bundle with its union default graph and inferences written by the
    engine) gives exactly the dataset of loading the bundle and deriving the graphs after it — blank nodes
    included (compared canonically) — and a compact store."""
    from service.rdf.bundle import BUNDLE_ROOT, load_into
    from service.store.worker import Worker

    def worker(name: str) -> Worker:
        return Worker(config.resolve({"STORE_DIR": str(tmp_path / name), "DATA_ROOT": str(BUNDLE_ROOT)}))

    one = worker("one")
    assert one.first_load(BUNDLE_ROOT)
    two = worker("two")
    load_into(two.store, BUNDLE_ROOT, bulk=True)
    assert two.bulk_derive()
    got, want = ox.Dataset(one.store), ox.Dataset(two.store)
    assert len(got) == len(want) > 1000
    assert any(isinstance(q.subject, ox.BlankNode) for q in want), "the bundle has blank nodes: not vacuous"
    got.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    want.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    assert set(got) == set(want)


def test_a_bundle_bringing_derived_quads_of_its_own_is_loaded_then_derived(tmp_path: Path):
    """Where the bundle already holds default-graph quads (with the union default graph on), the single bulk load
    does not apply: the first start falls back to loading, then deriving."""
    from service.rdf import derived

    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("o"), ox.DefaultGraph()))
    assert derived.dataset_with_derived(store, union=True, entailment="rdfs") is None
    assert derived.dataset_with_derived(store, union=False, entailment="none") is not None
