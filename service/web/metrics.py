"""Prometheus metrics at ``GET /metrics``, through the standard client library (``prometheus_client``).

What is counted, and where:

* requests by method, route (the URL rule, e.g. ``/id/<path:slug>``, never the raw path) and status, and their
  latency by route — observed once per request by the outermost WSGI layer (:mod:`service.web.observe`), so
  the SPARQL fast path, admission refusals and every Flask view are counted alike;
* the store's round-trip time by operation — the store client's hook (``StoreClient.on_round_trip``), so the
  store layer needs no metrics library;
* refusals by the SPARQL guard — counted where errors become answers (:func:`service.web.errors.render`), by
  their ``cause``;
* cache hits and misses, and store-worker restarts — read at scrape time from the counters the caches
  (:class:`service.canned.cache.GenerationCache`) and the store client already keep, so they cost nothing on
  the hot path;
* the process's memory, CPU and open files (the library's process collector).

Why one registry per app, not the library's global one: tests build many apps in one process, and each app's
figures are its own.

Why no multiprocess mode: every request of a service is answered by one process — granian and waitress both
run in the ``dprk-kg serve`` process (:func:`service.web.server.serve_granian` says why), and the store worker is
only ever timed from it. The figures are that process's: when it is started again they begin from zero, which
Prometheus's ``rate()`` and ``increase()`` read as a counter reset (``process_start_time_seconds`` shows when).
Several instances behind a proxy are scraped one by one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from flask.typing import ResponseReturnValue
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from service import problems
from service.canned.cache import GenerationCache
from service.sparql import guard
from service.store import client
from service.web import access, errors, openapi_routes

EXTENSION_KEY = "dprk_kg_metrics"

#: Request latency buckets (seconds): most answers take a millisecond or less, heavy queries up to QUERY_TIMEOUT.
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: Store round-trip buckets (seconds): a look-up over the local socket takes tens of microseconds.
STORE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                 10.0, 30.0, 60.0)
#: The text format every Prometheus version reads (our metric names are plain, so the bytes are the same as in
#: the library's newer 1.0.0 format).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: The method labels: a client may send any token as a method, and each would otherwise be a new series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
#: The route label of a request no URL rule matched (404, 405): raw paths would make the label unbounded.
UNMATCHED = "unmatched"

bp = Blueprint("metrics", __name__)


class _Derived(Collector):
    """Figures the app already keeps, read when Prometheus scrapes: cache hits and misses, store-worker restarts."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def caches(self) -> Iterator[tuple[str, GenerationCache[Any]]]:
        """Every :class:`GenerationCache` of the app, named by its extension (or extension and attribute)."""
        for key, value in list(self.app.extensions.items()):
            name = key.removeprefix("dprk_kg_").removesuffix("_cache")
            if isinstance(value, GenerationCache):
                yield name, value
                continue
            for attribute, inner in list(getattr(value, "__dict__", {}).items()):
                if isinstance(inner, GenerationCache):
                    yield (name if attribute == "cache" else f"{name}_{attribute.strip('_')}"), inner

    def collect(self) -> Iterator[CounterMetricFamily]:
        hits = CounterMetricFamily("dprk_kg_cache_hits", "Look-ups answered from a cache, by cache.",
                                   labels=["cache"])
        misses = CounterMetricFamily("dprk_kg_cache_misses", "Look-ups a cache could not answer, by cache.",
                                     labels=["cache"])
        for name, cache in sorted(self.caches(), key=lambda item: item[0]):
            hits.add_metric([name], cache.hits)
            misses.add_metric([name], cache.misses)
        yield hits
        yield misses
        store = self.app.extensions.get(client.EXTENSION_KEY)
        restarts = max(0, getattr(store, "worker_generation", 1) - 1)
        yield CounterMetricFamily("dprk_kg_store_worker_restarts",
                                  "Times the store worker was started again (a query past its deadline, a crash, "
                                  "a kill) since this process started.", value=restarts)
        yield CounterMetricFamily("dprk_kg_store_outside_writes",
                                  "Writes made to the remote store behind the service's back (not through any "
                                  "instance) that this process's guarded writes found, by the dataset's fingerprint.",
                                  value=getattr(store, "outside_writes", 0))


class Metrics:
    """The app's registry and the instruments the web tier observes."""

    def __init__(self, app: Flask) -> None:
        disable_created_metrics()  # no *_created series: one line per counter, half the scrape
        self.registry = CollectorRegistry()
        self.requests = Counter("dprk_kg_http_requests", "HTTP requests answered, by method, route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("dprk_kg_http_request_duration_seconds",
                                 "Time from receiving a request until its answer was produced (a streamed answer: "
                                 "until its last byte was handed to the server), by route.",
                                 ["route"], buckets=REQUEST_BUCKETS, registry=self.registry)
        self.store_round_trip = Histogram("dprk_kg_store_round_trip_seconds",
                                          "Time from sending an operation to the store until its first answer, "
                                          "by operation.", ["operation"], buckets=STORE_BUCKETS,
                                          registry=self.registry)
        self.guard_refusals = Counter("dprk_kg_guard_refusals", "Requests the SPARQL guard refused (LOAD, SERVICE "
                                      "off the allow-list, file: IRIs …), answered 400.", registry=self.registry)
        self.registry.register(_Derived(app))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency (the instruments' children are kept, so this is two
        dictionary look-ups and two locked additions)."""
        if method not in METHODS:
            method = "other"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(method, route, str(status)),
                                              self.latency.labels(route))
        children[0].inc()
        children[1].observe(seconds)

    def count_error(self, error: problems.ApiError) -> None:
        """Count an error answer operators watch apart (called by :func:`service.web.errors.render`)."""
        if error.cause == guard.CAUSE:
            self.guard_refusals.inc()

    def observe_store(self, operation: str, seconds: float) -> None:
        """The store client's round-trip hook."""
        self.store_round_trip.labels(operation).observe(seconds)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


def of(app: Flask) -> Metrics | None:
    """The app's metrics, or ``None`` when METRICS is off."""
    return app.extensions.get(EXTENSION_KEY)




@bp.get("/metrics")
def metrics_view() -> ResponseReturnValue:
    """The Prometheus text format; 404 when METRICS is off, the token asked for when METRICS_TOKEN is set."""
    metrics = of(current_app)  # type: ignore[arg-type]
    if metrics is None:
        raise problems.not_found("GET /metrics is not a resource of this service: metrics are off (METRICS).")
    access.check_metrics_access()
    return Response(metrics.exposition(), headers={"Content-Type": CONTENT_TYPE,
                                                   "Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    """Create the app's registry (unless METRICS is off) and let the store client time its round trips."""
    if not app.config.get("METRICS", True):
        return
    metrics = app.extensions[EXTENSION_KEY] = Metrics(app)
    app.extensions[errors.ERROR_COUNTER] = metrics.count_error
    store = app.extensions.get(client.EXTENSION_KEY)
    if store is not None:
        store.on_round_trip = metrics.observe_store


@openapi_routes.declare
def openapi_paths() -> dict[str, Any]:
    """``GET /metrics`` in the OpenAPI document."""
    return {"/metrics": {"get": {
        "operationId": "metrics", "summary": "Prometheus metrics of this service process", "tags": ["service"],
        "description": "The Prometheus text exposition format: `dprk_kg_http_requests_total` (method, route, "
                       "status), `dprk_kg_http_request_duration_seconds` (route), "
                       "`dprk_kg_store_round_trip_seconds` (operation), `dprk_kg_cache_hits_total` and "
                       "`dprk_kg_cache_misses_total` (cache), `dprk_kg_guard_refusals_total`, "
                       "`dprk_kg_store_worker_restarts_total`, and the process's own figures. Open to all unless "
                       "the setting METRICS_TOKEN is set (then `Authorization: Bearer <token>`); 404 when the "
                       "setting METRICS is off.",
        "responses": {"200": {"description": "The metrics.", "content": {"text/plain": {"schema": {
            "type": "string"}}}},
            **openapi_routes.error_responses(401, 403, 404)}}}}

