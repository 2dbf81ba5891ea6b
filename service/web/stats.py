"""``GET /stats``: how big the served graph is — quads, named graphs, resources per class, facts and evidence
coverage per source document — as JSON for programs or an HTML page for people.

Why a route of its own: the figures ``dprk-kg stats`` prints for the bundled files, for the store as it is now
(after every write). Each concern has one owner and this module only names them: the figures
(:mod:`service.store.stats`), caching until the next write (:class:`service.canned.cache.GenerationCache`),
JSON or HTML (:mod:`service.web.responses`), CORS (:mod:`service.web.access`), JSON errors
(:func:`service.web.errors.machine_routes`), the store's errors (:func:`service.web.errors.store_errors`) and
its OpenAPI path (:func:`service.web.openapi_routes.declare`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app
from flask.typing import ResponseReturnValue

from service.canned.cache import GenerationCache
from service.store import stats
from service.web import access, errors, openapi_routes, responses
from service.web.context import get_store

bp = errors.machine_routes(Blueprint("stats", __name__))
bp.after_request(access.add_cors_headers)

#: ``app.extensions`` key: the figures, until the next write.
CACHE_KEY = "dprk_kg_stats_cache"


def init_app(app: Flask) -> None:
    """Give the app its cache of the figures (one entry, emptied by any write)."""
    app.extensions[CACHE_KEY] = GenerationCache[stats.Stats](1)


def current_figures() -> stats.Stats:
    """The figures of the served graph, computed once per write generation (the home page shows them too)."""
    store = get_store()
    cache: GenerationCache[stats.Stats] = current_app.extensions[CACHE_KEY]
    with errors.store_errors("query"):
        return cache.get_or_compute("stats", store.generation, lambda: stats.compute(lambda q: store.select(q).rows))


@bp.get("/stats")
def stats_view() -> ResponseReturnValue:
    """The figures of the served graph: JSON by default, the HTML page for browsers (406 for neither)."""
    figures = current_figures()
    if responses.wants_page():
        return responses.page_response("stats.html", alternate="/stats", figures=figures)
    return responses.json_response(figures.to_json(), alternate="/stats")


@openapi_routes.declare
def openapi_paths() -> dict[str, Any]:
    """``GET /stats`` in the OpenAPI document."""
    count = {"type": "integer", "minimum": 0}
    coverage = {"type": "object", "required": ["document", "evidenced", "factBearing", "missing"], "properties": {
        "document": {"type": "string"}, "evidenced": count, "factBearing": count,
        "missing": {"type": "array", "items": {"type": "string"},
                    "description": "fact-bearing resources no evidence passage states yet"}}}
    figures = {"type": "object", "required": ["quads", "graphs", "classes", "documents", "evidence"], "properties": {
        "quads": count, "graphs": count,
        "classes": {"type": "array", "items": {"type": "object", "required": ["class", "resources"],
                                               "properties": {"class": {"type": "string"}, "resources": count}}},
        "documents": {"type": "array", "items": {
            "type": "object", "required": ["document", "triples", "resources"],
            "properties": {"document": {"type": "string"}, "triples": count, "resources": count}}},
        "evidence": {"type": "array", "items": coverage}}}
    return {"/stats": {"get": {
        "operationId": "stats", "summary": "How big the served graph is (asserted data): quads, graphs, resources "
                                           "per class, facts and evidence coverage per source document",
        "tags": ["service"],
        "responses": {"200": {"description": "JSON for programs; an HTML page for browsers.",
                              "content": {"application/json": {"schema": figures},
                                          "text/html": {"schema": {"type": "string"}}}},
                      **openapi_routes.error_responses(400, 406, 503)}}}}
