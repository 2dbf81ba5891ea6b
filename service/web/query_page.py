"""``/query``: the query page — the YASGUI editor (Yasqe) and result view (Yasr), served from this service.

Why YASGUI's parts rather than a hand-written editor: completion, folding, syntax checking, sortable and filterable
tables and raw-response views are what users of SPARQL endpoints know, from a maintained MIT library. The files are
vendored from the npm registry (``frontend/vendor.sh`` writes ``static/vendor/`` and its manifest), so the page
fetches nothing from elsewhere and the Python install needs no Node.

The page renders on the server as a plain form (a textarea that GETs ``/sparql``), so it works without JavaScript;
``static/query.js`` replaces the textarea with the editor, runs queries in the page, keeps each run's query in the URL
(``/query?query=…`` reproduces it) and in a local history, and marks the line and column of a syntax error the
endpoint reports. Completion of our classes and properties comes from ``/query/terms.json``, built from the ontology
graph and the data (no completion service on the internet).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from service.canned.cache import GenerationCache
from service.rdf.vocabulary import ONTOLOGY_GRAPH, PREFIXES
from service.web import errors, negotiation, openapi_routes
from service.web.context import get_store

bp = Blueprint("query_page", __name__)

EXTENSION_KEY = "dprk_kg_query_terms"

#: The two <style> elements the vendored Yasr's column resizer inserts, allowed by their hashes (no
#: 'unsafe-inline'): its layout rules, and the cursor while a column is dragged. tests/web/test_vendor.py checks them
#: against the vendored file, so an update that changes them fails there rather than silently in browsers.
YASR_STYLE_HASHES = ("sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=",
                     "sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg=")

#: Everything the page loads comes from this service; no inline script, and no inline style but Yasr's two
#: (tests/browser/test_editor.py watches every request and the console's CSP reports).
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; "
                           f"style-src 'self' {' '.join(repr(h) for h in YASR_STYLE_HASHES)}; script-src 'self'; "
                           "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

#: The terms completion offers: our ontology's classes and properties, and every class and property the data uses
#: (the W3C vocabularies too), so that ``a `` and a predicate position both complete from what the graph holds.
TERMS_QUERY = f"""
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?term ?kind WHERE {{
  {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?term a ?type }}
     VALUES (?type ?kind) {{ (owl:Class "class") (rdfs:Class "class") (owl:ObjectProperty "property")
                            (owl:DatatypeProperty "property") (owl:AnnotationProperty "property")
                            (rdf:Property "property") }} }}
  UNION {{ SELECT DISTINCT ?term ("class" AS ?kind) WHERE {{ GRAPH ?g {{ ?s a ?term }} }} }}
  UNION {{ SELECT DISTINCT ?term ("property" AS ?kind) WHERE {{ GRAPH ?g {{ ?s ?term ?o }} }} }}
  FILTER(isIRI(?term))
}}
"""


def init_app(app: Flask) -> None:
    """One cached answer for the terms, until the next write; our prefixes for the templates (the result views of
    the canned-query pages shorten IRIs with them)."""
    app.extensions[EXTENSION_KEY] = GenerationCache(1)
    app.jinja_env.globals["sparql_prefixes"] = PREFIXES


def terms() -> dict[str, list[str]]:
    """The class and property IRIs completion offers, sorted (kept until the next write)."""
    cache: GenerationCache[dict[str, list[str]]] = current_app.extensions[EXTENSION_KEY]
    store = get_store()
    generation = store.generation
    found = cache.get("terms", generation)
    if found is None:
        with errors.store_errors("query"):
            rows = store.select(TERMS_QUERY).rows
        classes = sorted({row[0].value for row in rows if row[1].value == "class"})
        properties = sorted({row[0].value for row in rows if row[1].value == "property"})
        found = {"classes": classes, "properties": properties}
        cache.put("terms", generation, found)
    return found


def _examples() -> list[dict[str, str]]:
    """The built-in examples of the home page, then every canned query that runs here (not the federated ones,
    which would call other endpoints) with its own text."""
    from service.web import canned, ui

    examples = [{"group": "Examples", **example} for example in ui.EXAMPLES]
    runner = current_app.extensions.get(canned.EXTENSION_KEY)
    for query in (runner.queries.values() if runner is not None else ()):
        if query.federated:
            continue
        examples.append({"group": "Canned queries", "title": f"{query.name} — {query.summary}",
                         "query": f"# The canned query {query.name}: {query.summary}\n"
                                  f"# (its page with a form: /queries/{query.name})\n{query.body.lstrip()}"})
    return examples


def page_config(examples: list[dict[str, str]]) -> dict[str, Any]:
    """What query.js needs, as one JSON object: endpoint, our prefixes, the examples, where the terms are."""
    return {
        "endpoint": url_for("sparql.endpoint"),
        "terms": url_for("query_page.completion_terms"),
        "prefixes": PREFIXES,
        "examples": examples,
        "localBase": "https://w3id.org/dprk-japan-kg/",  # our IRIs resolve here: /id/…, /ontology#…, /graph/…
        "formats": {
            "results": [{"name": f.name, "label": f.media_type, "extension": f.extension}
                        for f in negotiation.RESULT_FORMATS if f.standard],
            "graph": [{"name": f.name, "label": f.media_type, "extension": f.extension}
                      for f in negotiation.RDF_FORMATS if f.standard],
        },
    }


@bp.get("/query")
def query_view() -> Response:
    """The query page: a form without JavaScript, the editor with it; ``?query=`` fills (and with JavaScript runs)
    the query."""
    from service.web import ui

    examples = _examples()
    html = render_template(
        "query.html",
        config_json=Markup(json.dumps(page_config(examples)).replace("</", "<\\/")),  # noqa: S704
        examples=examples,
        query=request.args.get("query") or ui.EXAMPLES[0]["query"],
        endpoint_url=url_for("sparql.endpoint", _external=True),
    )
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@bp.get("/query/terms.json")
def completion_terms() -> Response:
    """The classes and properties the editor completes (full IRIs; the editor shortens them with the query's
    prefixes)."""
    response = Response(json.dumps(terms()), content_type="application/json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@openapi_routes.declare
def openapi_paths() -> dict[str, Any]:
    """The query page and the editor's completion terms in the OpenAPI document."""
    return {
        "/query": {"get": {
            "operationId": "queryPage", "tags": ["service"],
            "summary": "The SPARQL query page (an editor with JavaScript, a form to /sparql without)",
            "parameters": [{"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
                            "description": "A query to fill in (and, with JavaScript, run): the URL a run leaves."}],
            "responses": {"200": {"description": "The page.",
                                  "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/query/terms.json": {"get": {
            "operationId": "queryCompletionTerms", "tags": ["service"],
            "summary": "The classes and properties the editor completes: the ontology's and those the data uses",
            "responses": {"200": {"description": "Full IRIs, sorted.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["classes", "properties"],
                "properties": {"classes": {"type": "array", "items": {"type": "string"}},
                               "properties": {"type": "array", "items": {"type": "string"}}}}}}},
                          **openapi_routes.error_responses(503)}}},
    }
