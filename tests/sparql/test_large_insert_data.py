"""A large ``INSERT DATA`` / ``DELETE DATA`` completes and commits exactly what its dry run says (hole 7, issue 11).

Before the data fast path (:mod:`service.sparql.data_update`), rdflib parsed and translated the
request in about quadratic time: 8,000 triples ran past the update timeout (503), through
``/sparql`` and anonymously through ``/validate``. Not a timed test (the cost is measured
by ``bench/bench_update.py``): the requests only have to finish within the server's own
timeouts and say the truth.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import pyoxigraph as ox
import requests

from tests.conftest import CONTAINED_MEMORY, WRITE_TOKEN

EX = "https://example.org/large/"
GRAPH = EX + "graph"
SIZE = 8000
TIMEOUT = 120


def lines() -> list[str]:
    """``SIZE`` triples with literals the store keeps canonically, language tags and blank-node-free links."""
    out = []
    for i in range(SIZE // 4):
        s = f"<{EX}s{i}>"
        out += [f"{s} a <{EX}Thing> .", f'{s} <{EX}label> "thing {i}"@en .', f"{s} <{EX}n> 0{i} .",
                f"{s} <{EX}next> <{EX}s{i + 1}> ."]
    return out


def stored(server: Any) -> set[ox.Triple]:
    response = requests.get(server.url + "/store?graph=" + urllib.parse.quote(GRAPH, safe=""),
                            headers={"Accept": "application/n-triples"}, timeout=TIMEOUT)
    if response.status_code == 404:
        return set()
    assert response.status_code == 200, response.text[:300]
    return {q.triple for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)}


def test_a_large_insert_data_is_validated_and_committed_exactly(make_live_server: Any) -> None:
    server = make_live_server("--no-data", "--write-token", WRITE_TOKEN, memory_limit=CONTAINED_MEMORY)
    body = ("PREFIX ex: <" + EX + ">\nINSERT DATA { GRAPH ex:graph {\n" + "\n".join(lines()) + "\n} }").encode()
    expected = {q.triple for q in ox.parse("\n".join(lines()).encode(), format=ox.RdfFormat.TURTLE)}
    assert len(expected) == SIZE

    dry = requests.post(server.url + "/validate", data=body, timeout=TIMEOUT,
                        headers={"Content-Type": "application/sparql-update", "Accept": "application/json"})
    assert dry.status_code == 200, dry.text[:300]
    diff = dry.json()["diff"]
    assert (diff["added"], diff["removed"], diff["new_triples"]) == (SIZE, 0, SIZE)
    listed = {q.triple for q in ox.parse(diff["add"].encode(), format=ox.RdfFormat.N_QUADS)}
    assert listed <= {ox.Triple(t.subject, t.predicate, t.object) for t in stored_forms(expected)}
    assert stored(server) == set()  # a dry run writes nothing

    auth = {"Authorization": f"Bearer {WRITE_TOKEN}", "Content-Type": "application/sparql-update"}
    done = requests.post(server.url + "/sparql", data=body, headers=auth, timeout=TIMEOUT)
    assert done.status_code == 204, done.text[:300]
    assert stored(server) == stored_forms(expected)

    removal = body.replace(b"INSERT DATA", b"DELETE DATA")
    done = requests.post(server.url + "/sparql", data=removal, headers=auth, timeout=TIMEOUT)
    assert done.status_code == 204, done.text[:300]
    assert stored(server) == set()


def stored_forms(triples: set[ox.Triple]) -> set[ox.Triple]:
    """The triples as a store keeps them (``01`` is stored as ``1``)."""
    scratch = ox.Store()
    scratch.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    return {q.triple for q in scratch}


def _counting_tokenize(monkeypatch: Any) -> list[int]:
    """Record the length of every text the one lexer tokenizes (in this process)."""
    from service.sparql import lexer

    lengths: list[int] = []
    tokenize = lexer.tokenize

    def counted(text: str) -> list[lexer.Token]:
        lengths.append(len(text))
        return tokenize(text)

    monkeypatch.setattr(lexer, "tokenize", counted)
    return lengths


def test_a_large_update_is_lexed_once_by_the_web_tier(make_app: Any, monkeypatch: Any) -> None:
    """Above the lexer's cache limit, the kind, the guard's checks and its keywords share one reading."""
    app = make_app(WRITE_TOKEN=WRITE_TOKEN, LOAD_DATA=False)
    body = "PREFIX ex: <" + EX + ">\nINSERT DATA { GRAPH ex:graph {\n" + "\n".join(lines()) + "\n} }"
    assert len(body) > 64 * 1024
    lengths = _counting_tokenize(monkeypatch)
    response = app.test_client().post("/sparql", data=body.encode(), headers={
        "Content-Type": "application/sparql-update", "Authorization": f"Bearer {WRITE_TOKEN}"})
    assert response.status_code == 204, response.get_data(as_text=True)[:300]
    assert lengths.count(len(body)) == 1


def test_the_worker_lexes_an_update_once_for_its_nesting_check_and_the_data_parse(monkeypatch: Any) -> None:
    from types import SimpleNamespace

    from service.store import ops
    from service.store.worker import OPERATIONS, Worker

    body = "INSERT DATA { GRAPH <" + GRAPH + "> {\n" + "\n".join(lines()) + "\n} }"
    lengths = _counting_tokenize(monkeypatch)
    req: dict[str, Any] = {"op": "guarded_update", "sparql": body}
    assert Worker._too_deep(req, OPERATIONS["guarded_update"]) is None
    delta = ops._update_delta(SimpleNamespace(store=ox.Store(), union=True), req)
    assert len(delta.add) == SIZE and "lexed" not in req  # the tokens are not kept past the parse
    assert lengths == [len(body)]
