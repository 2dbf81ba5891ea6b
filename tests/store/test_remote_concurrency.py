"""A stateless web tier: two service instances in front of ONE Oxigraph server.

What running N instances behind a load balancer relies on: they answer alike; a write through one
is seen by the other's caches (the /sparql result cache, canned answers, entity pages), which are
keyed by the store's version rather than by process memory; concurrent guarded writes from both
lose nothing and commit nothing that was validated against a state that no longer held (checked at
the Oxigraph server itself); a conflict is retried on a fresh snapshot, and answered 409 with
nothing changed when retries run out; the service's own graph (the version, the write lock) is
hidden and not writable. All servers are real processes on 127.0.0.1.
"""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest

from service.config import resolve
from service.rdf.vocabulary import STORE_STATE_GRAPH
from service.store.client import StoreError
from service.store.remote import STATE, STORE_NODE, VERSION, WRITE_ATTEMPTS, RemoteStore, change_update
from service.validation.validate import validate_store
from tests.conftest import WRITE_TOKEN, LiveServer, OxigraphServer, start_live_server, start_oxigraph
from tests.store.test_remote import PREFIXES, RESULTS_JSON, HttpClient, direct_ask

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
TTL = 0.3  # STORE_VERSION_TTL of the two instances: how long a cache may trust the version it read


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[OxigraphServer]:
    server = start_oxigraph(tmp_path_factory.mktemp("shared-oxigraph") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory, oxigraph: OxigraphServer) -> Iterator[list[HttpClient]]:
    """Two service instances on the same store (the first loads the bundled graph, the second finds it there)."""
    servers: list[LiveServer] = []
    try:
        for name in ("a", "b"):
            servers.append(start_live_server(
                tmp_path_factory.mktemp(f"instance-{name}") / "store", "--store-url", oxigraph.query_url,
                "--update-url", oxigraph.update_url, "--graph-store-url", oxigraph.store_url,
                env={"DPRK_KG_WRITE_TOKEN": WRITE_TOKEN, "DPRK_KG_STORE_VERSION_TTL": str(TTL)}))
        yield [HttpClient(s.url) for s in servers]
    finally:
        for server in servers:
            server.stop()


def update(http: HttpClient, text: str) -> Any:
    return http.post("/sparql", data=(PREFIXES + text).encode(),
                     headers={**AUTH, "Content-Type": "application/sparql-update", "Accept": "application/json"})


def direct_update(oxigraph: OxigraphServer, text: str) -> None:
    """Write to the Oxigraph server itself, behind the services' backs."""
    request = urllib.request.Request(oxigraph.update_url, data=urllib.parse.urlencode({"update": text}).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def direct_dataset(oxigraph: OxigraphServer) -> ox.Store:
    """The Oxigraph server's whole dataset, read from it directly."""
    request = urllib.request.Request(oxigraph.store_url, headers={"Accept": "application/n-quads"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
    store = ox.Store()
    store.extend(ox.parse(body, format=ox.RdfFormat.N_QUADS))
    return store


def wait_until(check: Any, timeout: float = 10.0) -> None:
    """Poll ``check()`` until true (the other instance reads the store's version again every TTL seconds)."""
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the other instance never showed the change"
        time.sleep(TTL / 3)


def sparql_get(http: HttpClient, query: str) -> Any:
    return http.get("/sparql", query_string={"query": PREFIXES + query}, headers={"Accept": RESULTS_JSON})


def names(http: HttpClient, text: str) -> list[str]:
    response = http.get("/queries/find-entity.json", query_string={"text": text})
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(b["entity"]["value"] for b in response.get_json()["results"]["bindings"])


# -- two instances, one store ------------------------------------------------------------------------------------

def test_two_instances_answer_alike(instances: list[HttpClient]) -> None:
    a, b = instances
    query = "SELECT ?p ?o WHERE { djr:zhang-liangui ?p ?o } ORDER BY ?p ?o"
    assert sparql_get(a, query).data == sparql_get(b, query).data
    assert names(a, "Zhang") == names(b, "Zhang") != []
    page_a, page_b = a.get("/id/zhang-liangui"), b.get("/id/zhang-liangui")
    assert page_a.status_code == page_b.status_code == 200
    assert page_a.data == page_b.data
    turtle = (PREFIXES + "<http://example.org/nobody> a dj:Person .").encode()  # no label, no source: violations
    headers = {"Content-Type": "text/turtle", "Accept": "application/json"}
    reports = [http.post("/validate", data=turtle, headers=headers) for http in (a, b)]
    assert [r.status_code for r in reports] == [200, 200], reports[0].get_data(as_text=True)
    first, second = ({k: v for k, v in r.get_json().items() if k != "elapsed_ms"} for r in reports)
    assert first["conforms"] is False and first == second


def test_a_write_through_one_instance_reaches_the_others_caches(instances: list[HttpClient]) -> None:
    a, b = instances
    marker = f"Marker{uuid.uuid4().hex[:8]}"
    query = f'ASK {{ djr:zhang-liangui skos:altLabel "{marker}"@en }}'
    query = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n" + query
    for _ in range(2):  # the second answer comes from b's result cache
        cached = sparql_get(b, query)
    assert cached.headers.get("X-Cache") == "hit" and cached.get_json()["boolean"] is False
    assert names(b, marker) == [] and names(b, marker) == []  # a canned answer b keeps
    page = b.get("/id/zhang-liangui").get_data(as_text=True)
    assert marker not in page and marker not in b.get("/id/zhang-liangui").get_data(as_text=True)

    written = update(a, f'PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nINSERT DATA {{ GRAPH '
                        f'<http://example.org/alt-{marker}> {{ djr:zhang-liangui skos:altLabel "{marker}"@en }} }}')
    assert written.status_code == 204, written.get_data(as_text=True)

    wait_until(lambda: sparql_get(b, query).get_json()["boolean"] is True)
    wait_until(lambda: names(b, marker) == ["https://w3id.org/dprk-japan-kg/id/zhang-liangui"])
    wait_until(lambda: marker in b.get("/id/zhang-liangui").get_data(as_text=True))


# -- concurrent writes from both instances -----------------------------------------------------------------------

EVENT = ('INSERT DATA {{ GRAPH <http://example.org/{graph}> {{ <http://example.org/event-{n}> a dj:Event ; '
         'rdfs:label "Contested event {n}"@en ; dct:source djr:doc-000 ; schema:eventStatus schema:{status} }} }}')
PERSON = ('INSERT DATA {{ GRAPH <http://example.org/{graph}> {{ <http://example.org/person-{graph}> a dj:Person ; '
          'rdfs:label "Person {graph}"@en ; dct:source djr:doc-000 }} }}')
STATUSES = {"a": "EventScheduled", "b": "EventPostponed"}


def test_concurrent_writes_lose_nothing_and_commit_nothing_unvalidated(
        instances: list[HttpClient], oxigraph: OxigraphServer) -> None:
    """Each instance writes events the other writes too, each with its own status (schema:eventStatus has
    sh:maxCount 1): one of each pair may land, the other must be refused; and writes of its own, all valid."""
    events = [uuid.uuid4().hex[:8] for _ in range(5)]
    outcomes: dict[str, list[tuple[str, int, str]]] = {"a": [], "b": []}

    def writer(name: str, http: HttpClient) -> None:
        for n in events:
            graph = f"{name}-event-{n}"
            text = "PREFIX schema: <https://schema.org/>\n" + EVENT.format(graph=graph, n=n, status=STATUSES[name])
            outcomes[name].append(("event", update(http, text).status_code, n))
            own = f"{name}-own-{n}"
            outcomes[name].append(("own", update(http, PERSON.format(graph=own)).status_code, own))

    threads = [threading.Thread(target=writer, args=(name, http)) for name, http in zip("ab", instances, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads)

    for name in "ab":
        for kind, status, n in outcomes[name]:
            assert status in (204, 409, 422), (name, kind, status)
            if kind == "own":
                assert status == 204, f"a write no other write contests was refused ({status})"
                assert direct_ask(oxigraph, f"GRAPH <http://example.org/{n}> {{ <http://example.org/person-{n}> "
                                            "a dj:Person }"), "an acknowledged write is missing"
    for n in events:
        landed = [name for name in "ab" for kind, status, m in outcomes[name] if kind == "event" and m == n
                  and status == 204]
        assert len(landed) == 1, f"event {n}: {landed} acknowledged (exactly one of the two may be)"
        for name in "ab":
            present = direct_ask(oxigraph, f"GRAPH <http://example.org/{name}-event-{n}> {{ ?s ?p ?o }}")
            assert present == (name in landed), f"event {n} from {name}: acknowledged={name in landed}"
        statuses = [s for s in STATUSES.values()
                    if direct_ask(oxigraph, f"<http://example.org/event-{n}> <https://schema.org/eventStatus> "
                                              f"<https://schema.org/{s}>")]
        assert len(statuses) == 1, f"event {n} holds {statuses}: a write validated against a stale state"

    dataset = direct_dataset(oxigraph)
    dataset.remove_graph(STATE)
    report = validate_store(dataset)
    assert report.conforms, "the store no longer conforms to the shapes"


# -- conflicts forced deterministically --------------------------------------------------------------------------

@pytest.fixture
def direct_store(oxigraph: OxigraphServer, instances: list[HttpClient]) -> Iterator[RemoteStore]:
    """A RemoteStore in this process on the same store (the instances loaded it), to reach its hook."""
    store = RemoteStore(resolve({"STORE_URL": oxigraph.query_url, "UPDATE_URL": oxigraph.update_url,
                                 "GRAPH_STORE_URL": oxigraph.store_url, "LOAD_DATA": False}))
    yield store
    store.close()


def _bump_behind_the_back(oxigraph: OxigraphServer) -> None:
    fresh = ox.Literal(uuid.uuid4().hex)
    direct_update(oxigraph, f"DELETE WHERE {{ GRAPH {STATE} {{ {STORE_NODE} {VERSION} ?v }} }} ; "
                            f"INSERT DATA {{ GRAPH {STATE} {{ {STORE_NODE} {VERSION} {fresh} }} }}")


def test_a_conflict_is_retried_on_a_fresh_snapshot(direct_store: RemoteStore, oxigraph: OxigraphServer) -> None:
    graph = f"http://example.org/retried-{uuid.uuid4().hex[:8]}"
    sends = []

    def hook() -> None:  # the first attempt finds the store changed after its snapshot; the second does not
        sends.append(1)
        if len(sends) == 1:
            _bump_behind_the_back(oxigraph)

    direct_store.before_send = hook
    direct_store.call("guarded_update", sparql=PREFIXES + PERSON.format(graph=graph.rsplit("/", 1)[1]))
    assert len(sends) == 2, "the write was not run again after the conflict"
    assert direct_ask(oxigraph, f"GRAPH <{graph}> {{ ?s a dj:Person }}")


def test_a_conflict_that_never_ends_is_409_and_changes_nothing(
        direct_store: RemoteStore, oxigraph: OxigraphServer, instances: list[HttpClient]) -> None:
    graph = f"http://example.org/refused-{uuid.uuid4().hex[:8]}"
    direct_store.before_send = lambda: _bump_behind_the_back(oxigraph)
    with pytest.raises(StoreError) as caught:
        direct_store.call("guarded_update", sparql=PREFIXES + PERSON.format(graph=graph.rsplit("/", 1)[1]))
    assert caught.value.kind == "conflict" and f"{WRITE_ATTEMPTS} times" in caught.value.message
    assert not direct_ask(oxigraph, f"GRAPH <{graph}> {{ ?s ?p ?o }}")
    assert not direct_ask(oxigraph, f"GRAPH <{STORE_STATE_GRAPH}> {{ ?w <{STORE_STATE_GRAPH}#since> ?t }}"), \
        "a claim on the write lock was left behind"


# -- the service's own graph -------------------------------------------------------------------------------------

def test_the_service_graph_is_hidden_and_not_writable(instances: list[HttpClient], oxigraph: OxigraphServer) -> None:
    a, _ = instances
    written = update(a, PERSON.format(graph=f"hidden-{uuid.uuid4().hex[:8]}"))  # a write: the store has a version
    assert written.status_code == 204, written.get_data(as_text=True)
    assert direct_ask(oxigraph, f"GRAPH <{STORE_STATE_GRAPH}> {{ ?s ?p ?o }}"), "no version in the store"
    assert a.get("/store", query_string={"graph": STORE_STATE_GRAPH}).status_code == 404
    assert STORE_STATE_GRAPH.encode() not in a.get("/store", headers={"Accept": "application/n-quads"}).data
    assert STORE_STATE_GRAPH.encode() not in a.get("/.well-known/void", headers={"Accept": "text/turtle"}).data
    rows = sparql_get(a, f"SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g = <{STORE_STATE_GRAPH}>) }}")
    assert rows.status_code == 200 and rows.get_json()["results"]["bindings"] == []
    triples = a.get("/sparql", query_string={"query": "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"},
                    headers={"Accept": "application/n-triples"})
    assert triples.status_code == 200 and b"urn:x-dprk-kg:" not in triples.data
    before = direct_dataset(oxigraph)
    refused = update(a, f'INSERT DATA {{ GRAPH <{STORE_STATE_GRAPH}> {{ <urn:x:s> <urn:x:p> "forged" }} }}')
    assert refused.status_code == 403, refused.get_data(as_text=True)
    assert set(direct_dataset(oxigraph)) == set(before)


# -- the conditional update itself, without servers --------------------------------------------------------------

N, P = ox.NamedNode, ox.NamedNode("urn:x:p")
OLD = {ox.Quad(N("urn:x:s"), P, ox.Literal("kept"), N("urn:x:g1")),
       ox.Quad(ox.BlankNode("b"), P, ox.Literal("blank"), N("urn:x:g2"))}
NEW = {ox.Quad(N("urn:x:s"), P, ox.Literal("kept"), N("urn:x:g1")),
       ox.Quad(ox.BlankNode("c"), P, ox.BlankNode("c"), N("urn:x:g3")),
       ox.Quad(N("urn:x:t"), P, ox.Literal("added"), ox.DefaultGraph())}


@pytest.mark.parametrize("current", ["read", "other"])
def test_the_conditional_update_applies_only_at_the_version_it_was_validated_against(current: str) -> None:
    store = ox.Store()
    store.extend(OLD)
    store.add(ox.Quad(STORE_NODE, VERSION, ox.Literal(current), STATE))
    old_graphs = {q.graph_name for q in OLD}
    new_graphs = {q.graph_name for q in NEW if not isinstance(q.graph_name, ox.DefaultGraph)}
    store.update(change_update(set(OLD), set(NEW), old_graphs, new_graphs, guard=(("read",), "fresh")))
    data = {q for q in store if q.graph_name != STATE}
    version = {q.object.value for q in store.quads_for_pattern(STORE_NODE, VERSION, None, STATE)}
    if current == "read":
        assert version == {"fresh"}
        canonical = ox.Dataset(data)
        canonical.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        expected = ox.Dataset(NEW)
        expected.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        assert set(canonical) == set(expected)
        assert len({q.subject for q in data if isinstance(q.subject, ox.BlankNode)}) == 1, "one node kept one"
    else:
        assert version == {"other"} and data == OLD
