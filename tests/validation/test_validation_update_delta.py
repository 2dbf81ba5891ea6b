"""The delta of a SPARQL Update, computed without writing: what a guarded update validates and commits.

Each case states an update on a small store and the quads it would add and remove; the store
itself must stay untouched (pyoxigraph has no rollback, so nothing may be written before the check).
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from service.sparql.lexer import add_using_clauses
from service.store.update_delta import UpdateRefused, compute_delta
from service.store.writable import unwritable

EX = "http://example.org/"


def n(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


def lit(text: str) -> ox.Literal:
    return ox.Literal(text)


@pytest.fixture
def store() -> ox.Store:
    store = ox.Store()
    store.extend([
        ox.Quad(n("a"), n("p"), lit("1"), n("g")), ox.Quad(n("b"), n("p"), lit("2"), n("g")),
        ox.Quad(n("c"), n("q"), lit("3"), n("h")),
        # the union default graph, as the service maintains it
        ox.Quad(n("a"), n("p"), lit("1"), ox.DefaultGraph()), ox.Quad(n("b"), n("p"), lit("2"), ox.DefaultGraph()),
        ox.Quad(n("c"), n("q"), lit("3"), ox.DefaultGraph()),
    ])
    return store


def texts(quads: list[ox.Quad]) -> set[str]:
    return {str(q) for q in quads}


def test_nothing_is_written_while_the_delta_is_computed(store: ox.Store) -> None:
    before = set(store)
    compute_delta(store, f"DELETE WHERE {{ GRAPH <{EX}g> {{ ?s ?p ?o }} }} ; DROP GRAPH <{EX}h>")
    assert set(store) == before


def test_delete_insert_moves_triples_between_graphs(store: ox.Store) -> None:
    delta = compute_delta(store, f"DELETE {{ GRAPH <{EX}g> {{ ?s ?p ?o }} }} INSERT {{ GRAPH <{EX}k> {{ ?s ?p ?o }} }} "
                                 f"WHERE {{ GRAPH <{EX}g> {{ ?s ?p ?o }} }}")
    assert texts(delta.add) == {f'<{EX}a> <{EX}p> "1" <{EX}k>', f'<{EX}b> <{EX}p> "2" <{EX}k>'}
    assert texts(delta.remove) == {f'<{EX}a> <{EX}p> "1" <{EX}g>', f'<{EX}b> <{EX}p> "2" <{EX}g>'}


def test_a_later_operation_sees_what_an_earlier_one_did_also_through_the_union_graph(store: ox.Store) -> None:
    delta = compute_delta(store, f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}d> <{EX}p> "4" }} }} ; '
                                 f"INSERT {{ GRAPH <{EX}k> {{ ?s <{EX}seen> ?o }} }} WHERE {{ ?s <{EX}p> ?o }}")
    seen = {str(q.subject) for q in delta.add if q.predicate == n("seen")}
    assert seen == {f"<{EX}a>", f"<{EX}b>", f"<{EX}d>"}


def test_deletes_of_a_request_apply_before_its_inserts(store: ox.Store) -> None:
    """SPARQL 1.1 Update §3.1.3: both templates are instantiated first; a re-inserted triple stays."""
    delta = compute_delta(store, f"DELETE {{ GRAPH <{EX}g> {{ ?s <{EX}p> ?o }} }} "
                                 f"INSERT {{ GRAPH <{EX}g> {{ <{EX}a> <{EX}p> \"1\" }} }} "
                                 f"WHERE {{ GRAPH <{EX}g> {{ ?s <{EX}p> ?o }} }}")
    assert texts(delta.remove) == {f'<{EX}b> <{EX}p> "2" <{EX}g>'} and delta.add == []


def test_blank_nodes_of_insert_templates_are_fresh_per_solution(store: ox.Store) -> None:
    delta = compute_delta(store, f"INSERT {{ GRAPH <{EX}k> {{ ?s <{EX}r> [ <{EX}v> ?o ] }} }} "
                                 f"WHERE {{ GRAPH <{EX}g> {{ ?s <{EX}p> ?o }} }}")
    blanks = {q.object for q in delta.add if q.predicate == n("r")}
    assert len(blanks) == 2 and all(isinstance(b, ox.BlankNode) for b in blanks)


def test_literals_are_validated_as_the_store_keeps_them(store: ox.Store) -> None:
    """pyoxigraph stores typed literals canonically: the delta says so, and a re-spelled value is no change."""
    delta = compute_delta(store, f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}e> <{EX}p> "01"^^'
                                 '<http://www.w3.org/2001/XMLSchema#integer>, "x" } }')
    assert {q.object.value for q in delta.add} == {"1", "x"}
    same = compute_delta(store, f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}e> <{EX}p> 1.50 }} }} ; '
                                f'DELETE DATA {{ GRAPH <{EX}g> {{ <{EX}e> <{EX}p> 1.5 }} }}')
    assert same.add == [] and same.remove == []


def test_using_and_using_named_restrict_the_where_clause(store: ox.Store) -> None:
    only_h = compute_delta(store, f"INSERT {{ GRAPH <{EX}k> {{ ?s <{EX}x> ?o }} }} USING <{EX}h> "
                                  "WHERE { ?s ?p ?o }")
    assert {str(q.subject) for q in only_h.add} == {f"<{EX}c>"}
    named = compute_delta(store, f"INSERT {{ GRAPH <{EX}k> {{ ?s <{EX}in> ?g }} }} USING NAMED <{EX}g> "
                                 "WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert {str(q.object) for q in named.add} == {f"<{EX}g>"}
    # the protocol's using-graph-uri arrives as USING clauses written into the text
    protocol = compute_delta(store, add_using_clauses(f"INSERT {{ GRAPH <{EX}k> {{ ?s <{EX}x> ?o }} }} "
                                                      "WHERE { ?s ?p ?o }", [EX + "g"], []))
    assert {str(q.subject) for q in protocol.add} == {f"<{EX}a>", f"<{EX}b>"}


def test_with_names_the_graph_of_the_templates_and_the_where_clause(store: ox.Store) -> None:
    delta = compute_delta(store, f'WITH <{EX}g> DELETE {{ ?s ?p "1" }} WHERE {{ ?s ?p "1" }}')
    assert texts(delta.remove) == {f'<{EX}a> <{EX}p> "1" <{EX}g>'}


def test_graph_management_operations(store: ox.Store) -> None:
    clear = compute_delta(store, f"CLEAR GRAPH <{EX}g>")
    assert clear.drop_graphs == [n("g")] and clear.create_graphs == [n("g")]
    copy = compute_delta(store, f"COPY <{EX}g> TO <{EX}k>")
    assert len(copy.add) == 2 and {q.graph_name for q in copy.add} == {n("k")}
    move = compute_delta(store, f"MOVE <{EX}h> TO <{EX}g>")
    assert n("h") in move.drop_graphs and texts(move.add) == {f'<{EX}c> <{EX}q> "3" <{EX}g>'}
    create = compute_delta(store, f"CREATE GRAPH <{EX}new>")
    assert create.create_graphs == [n("new")]
    with pytest.raises(ValueError, match="already exists"):
        compute_delta(store, f"CREATE GRAPH <{EX}g>")
    with pytest.raises(ValueError, match="does not exist"):
        compute_delta(store, f"DROP GRAPH <{EX}absent>")
    assert compute_delta(store, f"DROP SILENT GRAPH <{EX}absent>").drop_graphs == []


def test_writes_to_the_default_graph_are_visible_in_the_delta(store: ox.Store) -> None:
    delta = compute_delta(store, f"INSERT DATA {{ <{EX}z> <{EX}p> 1 }}")
    assert ox.DefaultGraph() in delta.graphs()
    refusal = unwritable(delta.graphs(), union=True)
    assert refusal is not None and refusal.reason == "default-graph"
    assert unwritable(delta.graphs(), union=False) is None


def test_a_syntax_error_in_an_update_that_mentions_load_only_in_a_string_still_names_its_position(
        store: ox.Store) -> None:
    """The precise (pyoxigraph) position is skipped only for LOAD or SERVICE as keywords, not for a word in a string."""
    with pytest.raises(SyntaxError, match=r"2:\d+"):
        compute_delta(store, 'INSERT DATA {\n GRAPH <http://example.org/g> { <http://example.org/a> "LOAD" ; } }')


@pytest.mark.parametrize("update, message", [
    ("LOAD <http://example.org/data.ttl>", "fetches nothing"),
    ("INSERT { GRAPH <http://example.org/k> { ?s ?p ?o } } WHERE { SERVICE <http://example.org/sparql> "
     "{ ?s ?p ?o } }", "SERVICE"),
])
def test_what_would_fetch_is_refused(store: ox.Store, update: str, message: str) -> None:
    with pytest.raises(UpdateRefused, match=message):
        compute_delta(store, update)


def test_a_syntax_error_names_line_and_column(store: ox.Store) -> None:
    with pytest.raises(SyntaxError, match=r"2:\d+"):
        compute_delta(store, "INSERT DATA {\n GRAPH <http://example.org/g> { <http://example.org/a> ; } }")


def test_substr_and_casts_to_string_are_evaluated_as_the_specification_and_pyoxigraph_do(store: ox.Store) -> None:
    """rdflib's SUBSTR sliced from start - 1 and its xsd:string kept a number's spelling; the delta follows XPath."""
    for expr in ('SUBSTR("abc", 0, 2) = "a"', 'SUBSTR("abc", -1, 3) = "a"', 'SUBSTR("abc", 2) = "bc"',
                 'xsd:string(1.0) = "1"', 'xsd:string(01) = "1"', 'xsd:string(1e0) = "1"', 'SUBSTR("abc", 1.5) = "bc"'):
        update = (f"PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> INSERT {{ GRAPH <{EX}k> {{ <{EX}x> <{EX}y> 1 }} }} "
                  f"WHERE {{ FILTER({expr}) }}")
        scratch = ox.Store()
        scratch.update(update)
        assert len(compute_delta(store, update).add) == len(scratch) == (0 if "1.5" in expr else 1), expr


def test_keeping_lexical_forms_while_computing_a_delta_does_not_change_other_threads() -> None:
    """rdflib's NORMALIZE_LITERALS is process-wide; a delta computed in one thread must not switch it for others."""
    import threading

    from rdflib import XSD, Literal

    from service.store.update_delta import _exact_literals

    inside, release = threading.Event(), threading.Event()
    seen: list[str] = []

    def compute() -> None:
        with _exact_literals():
            seen.append(str(Literal("01", datatype=XSD.integer)))
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=compute)
    worker.start()
    assert inside.wait(10)
    try:
        other = str(Literal("01", datatype=XSD.integer))
    finally:
        release.set()
        worker.join(10)
    assert seen == ["01"] and other == "1"


class _Conn:
    """Collects what a worker operation answers."""

    def __init__(self) -> None:
        self.sent: list[object] = []

    def send(self, message: object) -> None:
        self.sent.append(message)


class _Worker:
    """What a worker operation reads: a real store in union mode, the write lock, no client to tell of commits."""

    def __init__(self) -> None:
        import threading

        self.store = ox.Store()
        self.union, self.entailment = True, "none"
        self.write_lock = threading.Lock()

    def announce_commit(self) -> None:
        """Nobody listens in this test."""


def test_concurrent_dry_runs_guarded_updates_and_bystanders_each_keep_their_own_literal_rules() -> None:
    """Dry runs (``validate_update``) run outside the write lock, beside guarded updates and other threads.

    Each update's result depends on rdflib's NORMALIZE_LITERALS (``STR("01"^^xsd:integer)`` is "01"
    only with lexical forms kept, as pyoxigraph evaluates it); threads that build literals meanwhile
    must still get them normalized. With the process-wide switch flipped, some of them would not.
    """
    import threading

    from rdflib import XSD, Literal

    from service.store import ops

    worker = _Worker()
    prefix = f"PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> PREFIX ex: <{EX}>\n"

    def update(i: int) -> str:
        return prefix + (f'INSERT {{ GRAPH ex:k{i} {{ ex:s ex:lex ?t }} }} '
                         'WHERE { BIND(STR("01"^^xsd:integer) AS ?t) }')

    dry_runs: list[str] = []
    committed: list[bool] = []
    bystanders: list[str] = []
    failures: list[BaseException] = []
    start = threading.Barrier(12)

    def dry(i: int) -> None:
        start.wait(10)
        for _ in range(5):
            conn = _Conn()
            ops.op_validate_update(worker, conn, {"sparql": update(100 + i)})
            dry_runs.append(conn.sent[-1][1]["diff"]["add"])  # type: ignore[index]

    def guarded(i: int) -> None:
        start.wait(10)
        for j in range(5):
            conn = _Conn()
            ops.op_guarded_update(worker, conn, {"sparql": update(10 * i + j), "validate": False})
            committed.append(conn.sent[-1][1]["applied"])  # type: ignore[index]

    def bystander() -> None:
        start.wait(10)
        for _ in range(300):
            bystanders.append(str(Literal("01", datatype=XSD.integer)))

    def guard(target: object, *args: int) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)  # type: ignore[operator]
            except BaseException as exc:  # reported below, with the thread's failure
                failures.append(exc)
        return threading.Thread(target=run)

    threads = ([guard(dry, i) for i in range(4)] + [guard(guarded, i) for i in range(4)]
               + [guard(bystander) for _ in range(4)])
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert len(dry_runs) == 20 and all('"01"' in added for added in dry_runs), dry_runs
    assert committed == [True] * 20
    stored = {q.object.value for q in worker.store.quads_for_pattern(None, n("lex"), None, None)}
    assert stored == {"01"}
    assert len(bystanders) == 1200 and set(bystanders) == {"1"}
