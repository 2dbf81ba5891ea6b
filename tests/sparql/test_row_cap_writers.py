"""The row cap holds, in every results format, whichever writer answers (pyoxigraph's or ours).

Why these tests: answers within the cap are written by pyoxigraph, whose output is only
*counted* (an upper bound of its rows, from bytes a row starts or ends with) — if that
count could ever fall below the true number of rows, the cap would silently let rows
through. So each format is checked on values that contain the very bytes counted
(``},{``, ``<result>``, line breaks), on empty rows, and right at the cap.
"""

from __future__ import annotations

import io
from typing import Any

import pyoxigraph as ox
import pytest

from service.sparql import answers
from service.sparql.answers import NATIVE_RESULTS, CappedBuffer, serialize_answer

EX = "http://example.org/"
#: Values holding every byte sequence the row counters look for.
TRICKY = ["plain", 'brace },{"x": 1}', "xml <result></result>", "two\nlines", "crlf\r\nline", "tab\there", ""]
FORMATS = sorted(NATIVE_RESULTS)


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    for i, text in enumerate(TRICKY * 3):
        subject = ox.NamedNode(f"{EX}s{i:02d}")
        store.add(ox.Quad(subject, ox.NamedNode(EX + "label"), ox.Literal(text)))
        store.add(ox.Quad(subject, ox.NamedNode(EX + "rank"), ox.Literal(str(i), datatype=ox.NamedNode(
            "http://www.w3.org/2001/XMLSchema#integer"))))
    return store


SELECT = f"SELECT ?s ?label ?rank WHERE {{ ?s <{EX}label> ?label ; <{EX}rank> ?rank }} ORDER BY ?s"
#: One row with nothing bound, among others: '{}' in JSON, an empty line in CSV/TSV.
WITH_EMPTY_ROWS = "SELECT ?x WHERE { VALUES ?x { UNDEF 1 UNDEF 2 } }"


def run(store: ox.Store, query: str, fmt: str, cap: int) -> tuple[dict[str, Any], bytes, int]:
    """The head, the body and how many times the query was evaluated."""
    calls = []
    body = io.BytesIO()

    def evaluate() -> Any:
        calls.append(1)
        return store.query(query)

    head = serialize_answer(evaluate, fmt, cap, lambda _head: body)
    return head, body.getvalue(), len(calls)


def rows_in(body: bytes, fmt: str) -> int:
    """Count the rows of an answer by parsing it (CSV has no parser in pyoxigraph: lines outside quotes)."""
    if fmt == "csv":
        import csv

        return len(list(csv.reader(io.StringIO(body.decode(), newline="")))) - 1
    return len(list(ox.parse_query_results(body, format=NATIVE_RESULTS[fmt][0])))


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_row_count_of_a_native_answer_is_never_below_the_true_count(store: ox.Store, fmt: str) -> None:
    for query in (SELECT, WITH_EMPTY_ROWS, "SELECT * WHERE { }", f"SELECT ?s WHERE {{ ?s <{EX}nothing> ?o }}"):
        true_rows = len(list(store.query(query)))
        counter = CappedBuffer(fmt, cap=1_000_000)
        counter.threshold = 0  # count from the first byte
        store.query(query).serialize(counter, NATIVE_RESULTS[fmt][0])
        assert counter.rows >= true_rows, (fmt, query, counter.rows, true_rows)
        assert rows_in(bytes(counter.buffer), fmt) == true_rows


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_split_across_writes_are_counted_once(store: ox.Store, fmt: str) -> None:
    # pyoxigraph writes 8 KiB at a time, wherever a row happens to be cut: every cut must count alike.
    body = store.query(SELECT).serialize(format=NATIVE_RESULTS[fmt][0])
    whole = CappedBuffer(fmt, cap=1_000_000)
    whole.threshold = 0
    whole.write(body)
    for cut in range(1, len(body)):
        counter = CappedBuffer(fmt, cap=1_000_000)
        counter.threshold = 0
        counter.write(body[:cut])
        counter.write(body[cut:])
        assert counter.rows == whole.rows, (fmt, cut)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("query", [SELECT, WITH_EMPTY_ROWS], ids=["tricky-values", "empty-rows"])
def test_answers_at_below_and_above_the_cap(store: ox.Store, fmt: str, query: str) -> None:
    total = len(list(store.query(query)))
    for cap, truncated in ((total + 5, False), (total, False), (total - 1, True), (1, True)):
        head, body, _ = run(store, query, fmt, cap)
        assert head["truncated"] is truncated, (cap, total)
        assert rows_in(body, fmt) == (cap if truncated else total)
        if truncated and fmt in ("json", "xml"):
            assert answers.results.TRUNCATION_LINK.encode() in body  # the signal inside the answer too


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_answer_within_the_cap_is_evaluated_once_and_written_by_pyoxigraph(store: ox.Store, fmt: str) -> None:
    head, body, calls = run(store, f"SELECT ?s WHERE {{ ?s <{EX}rank> ?r }}", fmt, cap=1000)
    assert calls == 1 and not head["truncated"]
    assert body == store.query(f"SELECT ?s WHERE {{ ?s <{EX}rank> ?r }}").serialize(format=NATIVE_RESULTS[fmt][0])


def test_values_that_look_like_rows_cost_a_second_evaluation_never_a_wrong_cap(store: ox.Store) -> None:
    # 21 rows whose labels add '},{' to the JSON and line breaks to the CSV: counted above 21
    # rows, so with a cap of 21 the query runs again through our writer, which finds 21 exactly.
    for fmt in ("json", "csv"):
        head, body, calls = run(store, SELECT, fmt, cap=21)
        assert calls == 2 and not head["truncated"] and rows_in(body, fmt) == 21


def test_without_a_cap_pyoxigraph_streams_the_answer(store: ox.Store) -> None:
    writes: list[int] = []

    class Sink:
        def write(self, data: bytes) -> int:
            writes.append(len(data))
            return len(data)

        def flush(self) -> None:
            pass

    big = ox.Store()
    big.extend(ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal("x" * 50)) for i in range(5000))
    head = serialize_answer(lambda: big.query("SELECT * WHERE { ?s ?p ?o }"), "json", 0, lambda _head: Sink())
    assert head == {"kind": "solutions", "vars": ["o", "p", "s"], "truncated": False}
    assert len(writes) > 10 and max(writes) < 64 * 1024  # many small writes, not one buffer


def test_booleans_and_graphs_keep_our_writers(store: ox.Store) -> None:
    head, body, _ = run(store, f"ASK {{ ?s <{EX}rank> 3 }}", "json", cap=5)
    assert head == {"kind": "boolean", "value": True, "truncated": False} and b'"boolean": true' in body
    head, body, _ = run(store, f"CONSTRUCT {{ ?s <{EX}rank> ?r }} WHERE {{ ?s <{EX}rank> ?r }}",
                        "application/n-triples", cap=5)
    assert head == {"kind": "graph", "truncated": True} and body.count(b"\n") == 5
