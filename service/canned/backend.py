"""Where canned queries run: the service's store worker, or an in-memory store for the CLI.

Why an interface of three calls: the HTTP API and ``dprk-kg query`` must give the same
answers from the same binding code. The service runs queries through
:class:`~service.store.client.StoreClient` (killable, time-limited); the CLI loads the bundled
files into an in-memory pyoxigraph store and derives the same union default graph and
RDFS inferences the worker keeps (:func:`local_store`), so results are identical.
:class:`DataLookups` answers the checks that need data (class membership, enum values
drawn from a query) and memoizes them per store generation in a
:class:`~service.canned.cache.GenerationCache` (the one "cache until the next write").
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from service.canned.cache import GenerationCache
from service.canned.contract import EnumValue, TypeSpec
from service.canned.header import ALLOWLIST_SOURCE, construct_or_describe, rdflib_analyse
from service.canned.params import term_text
from service.rdf.bundle import load_bundled
from service.rdf.vocabulary import RDF_TYPE, RDFS_SUBCLASS_OF, curie
from service.sparql.answers import serialize_answer
from service.store.client import StoreError, StoreTimeout


@dataclass(frozen=True)
class Output:
    """A serialized answer: kind ("solutions", "boolean", "graph"), body, and whether the row cap cut it."""

    kind: str
    body: bytes
    truncated: bool


class Backend(Protocol):
    """What the runner needs from a store."""

    @property
    def generation(self) -> int:
        """Bumped on every write; cached answers are valid for one generation."""

    def select(self, sparql: str) -> list[dict[str, Any]]:
        """SELECT rows as ``{variable: pyoxigraph term}``."""

    def ask(self, sparql: str) -> bool:
        """An ASK query's answer."""

    def execute(self, sparql: str, fmt: str, *, timeout: float | None, row_cap: int | None) -> Output:
        """Evaluate and serialize: ``fmt`` is a results key (json, xml, csv, tsv) or an RDF media type."""


class ServiceBackend:
    """Runs queries in the store worker through a :class:`~service.store.client.StoreClient`."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def generation(self) -> int:
        return int(self.client.generation)

    def select(self, sparql: str) -> list[dict[str, Any]]:
        return self.client.select(sparql).dicts()  # whole: the public RESULT_ROW_CAP is not for look-ups

    def ask(self, sparql: str) -> bool:
        return bool(self.client.ask(sparql))

    def execute(self, sparql: str, fmt: str, *, timeout: float | None, row_cap: int | None) -> Output:
        result = self.client.query(sparql, format=fmt, timeout=timeout, row_cap=row_cap)
        body = result.read()
        return Output(result.kind, body, result.truncated)


class LocalBackend:
    """Runs queries on an in-memory pyoxigraph store (the CLI's offline mode)."""

    generation = 0

    def __init__(self, store: ox.Store, row_cap: int = 0) -> None:
        self.store = store
        self.row_cap = row_cap

    def select(self, sparql: str) -> list[dict[str, Any]]:
        solutions = self.store.query(sparql)
        names = [v.value for v in solutions.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in solutions]

    def ask(self, sparql: str) -> bool:
        return bool(self.store.query(sparql))

    def execute(self, sparql: str, fmt: str, *, timeout: float | None, row_cap: int | None) -> Output:
        """Evaluate and serialize as the store worker does (same cap, same writers, same bytes)."""
        body = io.BytesIO()
        head = serialize_answer(lambda: self.store.query(sparql), fmt,
                                row_cap if row_cap is not None else self.row_cap, lambda _head: body)
        return Output(head["kind"], body.getvalue(), head["truncated"])


class StoreAnalyser:
    """Parses canned queries with the store worker's engine: each is run over an empty dataset.

    Why: the engine's own parser is exact and fast (the same one that will evaluate the
    query), and an empty dataset (no default graph content, no named graphs) makes the
    evaluation instant whatever the query. Federated queries never come here (a SERVICE
    clause would still be called); see :func:`~service.canned.header.rdflib_analyse`.
    """

    EMPTY_GRAPH = ox.NamedNode("urn:x-dprk-kg:no-such-graph")

    def __init__(self, client: Any, timeout: float = 10.0) -> None:
        self.client = client
        self.timeout = timeout

    def __call__(self, text: str) -> tuple[str, tuple[str, ...]]:
        try:
            result = self.client.query(text, format="terms", default_graph=[self.EMPTY_GRAPH], named_graphs=[],
                                       row_cap=1, timeout=self.timeout)
            for _ in result.chunks:  # drained, not read(): a "terms" answer comes in batches of rows, not bytes
                pass
        except StoreTimeout:  # work that does not depend on the data (a huge VALUES product): parse only
            return rdflib_analyse(text)
        except StoreError as exc:
            if exc.kind == "syntax":
                raise SyntaxError(exc.message) from exc
            raise
        kind = {"solutions": "select", "boolean": "ask", "graph": "construct"}[result.kind]
        if kind == "construct":
            return construct_or_describe(text), ()
        return kind, tuple(result.head.get("vars", ()))


def local_store(root: Path) -> ox.Store:
    """The bundled files in memory, with the union default graph and RDFS inferences the service keeps."""
    return load_bundled(root, derive=True)


class DataLookups:
    """Class-membership checks and data-driven enum values, memoized per store generation.

    Why memoized: the same IRI is checked on every request of a dashboard; asking the
    store each time would cost a round trip per parameter, and the answer can only change
    with a write.
    """

    RDF_TYPE_CHAIN = f"<{RDF_TYPE}>/<{RDFS_SUBCLASS_OF}>*"

    #: How many answers each memo keeps: the IRIs checked come from clients, so the memo is bounded (LRU).
    INSTANCE_ENTRIES = 4096
    ENUM_ENTRIES = 256

    def __init__(self, backend: Backend, allowlist: Mapping[str, Any] | None = None) -> None:
        self.backend = backend
        self.allowlist = dict(allowlist or {})
        self._instances: GenerationCache[bool] = GenerationCache(self.INSTANCE_ENTRIES)
        self._enums: GenerationCache[tuple[EnumValue, ...]] = GenerationCache(self.ENUM_ENTRIES)

    def is_instance(self, iri: str, class_iri: str) -> bool:
        """Whether ``iri`` is an instance of ``class_iri`` or of one of its subclasses."""
        def ask() -> bool:
            value, cls = term_text(ox.NamedNode(iri)), term_text(ox.NamedNode(class_iri))
            return self.backend.ask(f"ASK {{ VALUES ?value {{ {value} }} ?value {self.RDF_TYPE_CHAIN} {cls} }}")

        return self._instances.get_or_compute((iri, class_iri), self.backend.generation, ask)

    def enum_values(self, spec: TypeSpec) -> tuple[EnumValue, ...]:
        """An enum's values: listed in the header, the federation allow-list, or drawn from the data."""
        if spec.values is not None:
            return spec.values
        source = spec.values_from or ""
        if source == ALLOWLIST_SOURCE:
            return tuple(EnumValue(key=iri, kind="iri", value=iri) for iri in self.allowlist)

        def select() -> tuple[EnumValue, ...]:
            values = (_enum_value(row) for row in self.backend.select(source) if "value" in row)
            return tuple(sorted({v.key: v for v in values}.values(), key=lambda v: v.key))

        return self._enums.get_or_compute(source, self.backend.generation, select)


def _enum_value(row: dict[str, Any]) -> EnumValue:
    term = row["value"]
    label = row.get("label")
    label_text = label.value if isinstance(label, ox.Literal) else None
    if isinstance(term, ox.NamedNode):
        return EnumValue(key=curie(term.value), kind="iri", value=term.value, label=label_text)
    return EnumValue(key=term.value, kind="string", value=term.value, label=label_text)
