"""Serializing a query's answer under the result-row cap: pyoxigraph's writers when it fits, ours when cut.

Why two writers: pyoxigraph serializes SELECT results in Rust, in one call that releases
the GIL — per row several times cheaper than any Python writer, and under concurrency
it spares the store worker's threads a GIL hand-over per row (figures in ``bench/README.md``). But it
consumes the whole result and cannot stop at the row cap, nor put the truncation link
in the result head. So:

* no cap: pyoxigraph's writer streams the answer as it is produced;
* a cap: pyoxigraph's writer fills a buffer while :class:`CappedBuffer` counts an upper
  bound of its rows from bytes that only a row can start with (and that a literal may
  contain, so the count is never too low). Within the cap, the buffer is the answer. Past
  it, the buffered work is dropped and the query runs again through our writers
  (:mod:`service.sparql.writers`), which stop at the cap exactly and mark the answer truncated;
* booleans and graphs (CONSTRUCT, DESCRIBE): our writers and ``pyoxigraph.serialize``,
  as before.

The store worker (:meth:`service.store.worker.Worker.op_query`) and the CLI's in-memory
store (:class:`service.canned.backend.LocalBackend`) both answer through
:func:`serialize_answer`, so they cap and serialize alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pyoxigraph as ox

from service.rdf.formats import STORE_FORMATS
from service.rdf.vocabulary import PREFIXES
from service.sparql import writers as results


class CapExceeded(Exception):
    """Raised inside pyoxigraph's writer: the answer may hold more rows than the cap."""


#: Our results keys → pyoxigraph's writer, the bytes a row begins or ends with in its output, the
#: number of such bytes that are not rows, and the fewest bytes a row takes. The counts are checked
#: against pyoxigraph's output for every format in ``tests/sparql/test_row_cap_writers.py``.
NATIVE_RESULTS: dict[str, tuple[ox.QueryResultsFormat, bytes, int, int]] = {
    # https://www.w3.org/TR/sparql11-results-json/ — rows are objects in one array: ``[{…},{…}]``;
    # a '},{' between two rows (the first row has none, hence +1); '{}' is the smallest row.
    "json": (ox.QueryResultsFormat.JSON, b"},{", 1, 2),
    # https://www.w3.org/TR/rdf-sparql-XMLres/ — '<' is always escaped inside values.
    "xml": (ox.QueryResultsFormat.XML, b"<result>", 0, len(b"<result></result>")),
    # https://www.w3.org/TR/sparql11-results-csv-tsv/ — one line per row after the header
    # (a quoted CSV value may hold a line break: counted too, so the count stays an upper bound).
    "csv": (ox.QueryResultsFormat.CSV, b"\r\n", -1, 2),
    "tsv": (ox.QueryResultsFormat.TSV, b"\n", -1, 1),  # TSV escapes line breaks in values
}


class CappedBuffer:
    """A binary sink for pyoxigraph's writer that holds the answer and stops it past ``cap`` rows.

    Counting costs a scan of the bytes, so it starts only once the answer is large enough to
    hold more than ``cap`` rows at all (``cap`` × the smallest row); most answers never are.
    """

    def __init__(self, fmt: str, cap: int) -> None:
        _, self.marker, offset, smallest = NATIVE_RESULTS[fmt]
        self.cap = cap
        self.threshold = cap * smallest
        self.buffer = bytearray()
        self.rows = offset
        self.scanned = 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) > self.threshold:
            # A marker ending in the new bytes may start up to len(marker) - 1 bytes before them.
            start = max(0, self.scanned - len(self.marker) + 1)
            self.rows += self.buffer.count(self.marker, start)
            self.scanned = len(self.buffer)
            if self.rows > self.cap:
                raise CapExceeded
        return len(data)

    def flush(self) -> None:
        """Nothing to do: the caller takes :attr:`buffer` when the writer is done."""


def _capped(items: Iterator[Any], cap: int) -> tuple[Any, bool]:
    """Buffer at most ``cap`` + 1 items to learn whether the cap cut the results.

    Without a cap the iterator is passed on untouched, so results stream.
    """
    if not cap:
        return items, False
    head = list(itertools.islice(items, cap + 1))
    return head[:cap], len(head) > cap


def capped_answer(result: Any, cap: int) -> tuple[dict[str, Any], Any]:
    """A query result's head (kind, variables or value, truncated) and its rows or triples, cut at ``cap``.

    The items are ``None`` for a boolean, and stream when there is no cap. Used by our own
    writers (:func:`write_answer`) and by the store worker's ``terms`` answers.
    """
    if isinstance(result, ox.QueryBoolean):
        return {"kind": "boolean", "value": bool(result), "truncated": False}, None
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows, truncated = _capped((tuple(s) for s in result), cap)
        return {"kind": "solutions", "vars": variables, "truncated": truncated}, rows
    triples, truncated = _capped(iter(result), cap)
    return {"kind": "graph", "truncated": truncated}, triples


def write_answer(head: dict[str, Any], items: Any, fmt: str, sink: Any) -> None:
    """Serialize what :func:`capped_answer` gave into a binary file-like ``sink`` (``write``, ``flush``).

    ``fmt``: a results key (json, xml, csv, tsv) for booleans and solutions, an RDF
    media type for graphs (Turtle and TriG use the service's prefixes).
    """
    if head["kind"] == "boolean":
        for chunk in results.BOOLEAN_WRITERS[fmt](head["value"]):
            sink.write(chunk)
    elif head["kind"] == "solutions":
        for chunk in results.SOLUTION_WRITERS[fmt](head["vars"], items, head["truncated"]):
            sink.write(chunk)
    else:
        ox.serialize(items, sink, STORE_FORMATS[fmt], prefixes=PREFIXES if fmt in (
            "text/turtle", "application/trig") else None)


def serialize_answer(run: Callable[[], Any], fmt: str, cap: int, open_sink: Callable[[dict[str, Any]], Any]
                     ) -> dict[str, Any]:
    """Evaluate a query (``run()``) and write its answer, cut at ``cap`` rows (0: no cap); return its head.

    ``open_sink(head)`` is called once, when the head is known, and returns the binary sink
    the body goes to. ``run`` may be called a second time, when the answer turned out to
    exceed the cap (see the module's docstring).
    """
    result = run()
    if isinstance(result, ox.QuerySolutions) and fmt in NATIVE_RESULTS:
        head = {"kind": "solutions", "vars": [v.value for v in result.variables], "truncated": False}
        native = NATIVE_RESULTS[fmt][0]
        if not cap:
            result.serialize(open_sink(head), native)
            return head
        buffer = CappedBuffer(fmt, cap)
        try:
            result.serialize(buffer, native)
        except CapExceeded:
            result = run()  # perhaps more rows than the cap: again, through the writer that stops at it
        else:
            open_sink(head).write(buffer.buffer)
            return head
    head, items = capped_answer(result, cap)
    write_answer(head, items, fmt, open_sink(head))
    return head
