"""Running a canned query: bind the request, pick the format, answer from the cache or the store.

Why one runner for every client: the HTTP views, the HTML pages and the CLI all go
through :meth:`CannedRunner.run`, so validation, binding, limits and caching behave the
same wherever a query is asked from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.canned.backend import Backend, DataLookups, Output
from service.canned.cache import CachedBody, ResultCache
from service.canned.contract import CannedQuery
from service.canned.params import Binding, bind
from service.rdf import formats

#: Formats of SELECT/ASK answers (:data:`service.rdf.formats.RESULT_FORMATS`), by URL suffix — the format's
#: short name (``.json``, ``.xml``, ``.csv``, ``.tsv``) → (media type sent, store format key).
RESULT_FORMATS: dict[str, tuple[str, str]] = {f.name: (f.content_type, f.key) for f in formats.RESULT_FORMATS
                                              if f.standard}
#: Formats of CONSTRUCT/DESCRIBE answers, by URL suffix — the syntax's file extension (``.ttl``, ``.jsonld``,
#: ``.nt``) → (media type sent, store format key).
GRAPH_FORMATS: dict[str, tuple[str, str]] = {f.extension: (f.content_type, f.key) for f in (
    formats.rdf_formats(name)[0] for name in ("turtle", "jsonld", "ntriples"))}
#: Accept media types → suffix, per family; the first entry is the default for */*.
RESULT_ACCEPT: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/json": "json",  # for compatibility
    "text/html": "html",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",  # for compatibility
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_ACCEPT: dict[str, str] = {
    "text/turtle": "ttl",
    "text/html": "html",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",  # for compatibility
    "application/n-triples": "nt",
    "text/plain": "nt",  # for compatibility (N-Triples is plain text)
}


def formats_for(query: CannedQuery) -> dict[str, tuple[str, str]]:
    """The machine formats a query can be answered in, by suffix."""
    return GRAPH_FORMATS if query.is_graph else RESULT_FORMATS


def accept_table(query: CannedQuery) -> dict[str, str]:
    """The Accept header table for a query's family (results or RDF)."""
    return GRAPH_ACCEPT if query.is_graph else RESULT_ACCEPT


def machine_format(query: CannedQuery) -> str:
    """The default machine format (the HTML page's twin)."""
    return "ttl" if query.is_graph else "json"


#: Evaluates a federated query's SERVICE blocks outside the store: query text → (text for the store, cut?).
Federator = Callable[[str], tuple[str, bool]]


@dataclass(frozen=True)
class Answer:
    """What the views send: the body, its media type, and how it was obtained."""

    body: bytes
    media_type: str
    truncated: bool
    cached: bool


class CannedRunner:
    """Binds and runs the canned queries of one service (or CLI run) against one backend."""

    def __init__(
        self,
        queries: Mapping[str, CannedQuery],
        backend: Backend,
        *,
        cache_size: int = 512,
        allowlist: Mapping[str, Any] | None = None,
        query_timeout: float | None = None,
        row_cap: int | None = None,
        federator: Federator | None = None,
    ) -> None:
        """``federator``: how federated queries reach their endpoints. The service and the
        offline CLI pass :func:`service.sparql.guard.federate` (a bounded client per endpoint,
        results joined as ``VALUES``), so the store never calls an endpoint and is never
        killed for one. Without it the store would evaluate SERVICE itself, within the
        limits of :meth:`limits`.
        """
        self.queries = dict(queries)
        self.federator = federator
        self.backend = backend
        self.allowlist = dict(allowlist or {})
        self.lookups = DataLookups(backend, self.allowlist)
        self.cache = ResultCache(cache_size)
        self.query_timeout = query_timeout
        self.row_cap = row_cap

    def bind(self, query: CannedQuery, args: Mapping[str, Sequence[str]]) -> Binding:
        """Validate and bind a request's parameters (raises ParamError naming the parameter)."""
        return bind(query, args, self.lookups)

    def limits(self, binding: Binding) -> tuple[float | None, int | None]:
        """Timeout and row cap: the service's, tightened by the allow-list entry of a federated endpoint.

        With a federator the endpoint's limits are applied by it, to the remote call
        alone; the store's part of the query keeps the service's limits.
        """
        timeout, row_cap = self.query_timeout, self.row_cap
        if self.federator is not None and binding.query.federated:
            return timeout, row_cap
        for param in binding.query.params:
            if not param.service_endpoint:
                continue
            for term in binding.terms(param.var):
                limits = self.allowlist.get(term.value) or {}
                if limits.get("timeout"):
                    timeout = min(timeout, float(limits["timeout"])) if timeout else float(limits["timeout"])
                if limits.get("row_cap"):
                    row_cap = min(row_cap, int(limits["row_cap"])) if row_cap else int(limits["row_cap"])
        return timeout, row_cap

    def run(self, binding: Binding, suffix: str) -> Answer:
        """Answer ``binding`` in the machine format ``suffix`` (json, csv, ttl …), from the cache when possible."""
        query = binding.query
        media_type, store_format = formats_for(query)[suffix]
        generation = self.backend.generation
        key = (query.name, suffix, binding.key)
        if query.cache:
            hit = self.cache.get(key, generation)
            if hit is not None:
                return Answer(hit.body, hit.media_type, hit.truncated, True)
        timeout, row_cap = self.limits(binding)
        sparql, remote_truncated = binding.sparql(), False
        if query.federated and self.federator is not None:
            sparql, remote_truncated = self.federator(sparql)
        output: Output = self.backend.execute(sparql, store_format, timeout=timeout, row_cap=row_cap)
        truncated = output.truncated or remote_truncated
        if query.cache:
            self.cache.put(key, generation, CachedBody(output.body, media_type, truncated))
        return Answer(output.body, media_type, truncated, False)
