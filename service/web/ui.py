"""``/``: the home page — what the graph holds, the canned questions, and a SPARQL editor with highlighting, our
prefixes, examples, a results table and downloads.

Why rendered on the server with a plain form: the page must be useful without JavaScript (the form GETs
``/sparql``, which shows a browser its answer as a page) and work offline (no CDN, nothing fetched from elsewhere).
``static/ui.js`` only enhances it: highlighting, prefix insertion, results in the page, the canned queries in the
examples menu (from ``GET /queries``). The script gets its settings (endpoint, prefixes, examples, download formats)
as one JSON block.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from service.problems import ApiError
from service.rdf.vocabulary import PREFIXES, sparql_prefix_block
from service.web import negotiation

bp = Blueprint("ui", __name__)

#: Everything the page loads must come from this service (checked by tests/web/test_ui.py).
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

_P = sparql_prefix_block()

#: Built-in examples (the canned queries of ``/queries`` are added by the page when present).
EXAMPLES: list[dict[str, str]] = [
    {"title": "Named graphs and their sizes", "query": (
        "SELECT ?graph (COUNT(*) AS ?triples)\nWHERE { GRAPH ?graph { ?s ?p ?o } }\n"
        "GROUP BY ?graph\nORDER BY DESC(?triples)\n")},
    {"title": "Classes in use (with inferences)", "query": _P + (
        "\nSELECT ?class (COUNT(DISTINCT ?x) AS ?instances)\nWHERE { ?x a ?class }\n"
        "GROUP BY ?class\nORDER BY DESC(?instances)\nLIMIT 50\n")},
    {"title": "Negotiation rounds and their dates", "query": _P + (
        "\nSELECT ?round ?label ?start ?dateNote\nWHERE {\n  ?round a dj:NegotiationRound ; rdfs:label ?label .\n"
        "  OPTIONAL { ?round dj:startDate ?start }\n  OPTIONAL { ?round dj:dateNote ?dateNote }\n"
        "  FILTER(langMatches(lang(?label), \"en\"))\n}\nORDER BY ?start\n")},
    {"title": "Which documents state facts about Japan", "query": _P + (
        "\n# A document's statements are in its own graph and in the batches sent with it as their source;\n"
        "# djg:provenance links each such graph to its document.\n"
        "SELECT ?document (COUNT(*) AS ?statements)\nWHERE {\n  SELECT DISTINCT ?document ?p ?o WHERE {\n"
        "    GRAPH ?g { djr:japan ?p ?o }\n    GRAPH djg:provenance { ?g dj:statementsOf ?document }\n  }\n}\n"
        "GROUP BY ?document\nORDER BY ?document\n")},
    {"title": "Claims with a number", "query": _P + (
        "\nSELECT ?claim ?value ?unit ?qualifier\nWHERE {\n  ?claim a dj:Claim ; dj:quantityValue ?value .\n"
        "  OPTIONAL { ?claim dj:unit ?unit }\n  OPTIONAL { ?claim dj:quantityQualifier ?qualifier }\n}\n"
        "ORDER BY ?claim\n")},
    {"title": "Is the abduction issue discussed? (ASK)", "query": _P + (
        "\nASK { ?event dj:discussedIssue djr:abduction-issue }\n")},
    {"title": "Participants of events (CONSTRUCT)", "query": _P + (
        "\nCONSTRUCT { ?event dj:participant ?agent . ?event rdfs:label ?label }\nWHERE {\n"
        "  ?event dj:participant ?agent ; rdfs:label ?label .\n}\nLIMIT 200\n")},
    {"title": "Describe North Korea (DESCRIBE)", "query": _P + "\nDESCRIBE djr:north-korea\n"},
]


def page_config() -> dict[str, object]:
    """What the page script needs, as one JSON object."""
    return {
        "endpoint": url_for("sparql.endpoint"),
        "queries": "/queries",
        "prefixes": PREFIXES,
        "examples": EXAMPLES,
        "formats": {
            "results": [{"name": f.name, "label": f.media_type, "extension": f.extension}
                        for f in negotiation.RESULT_FORMATS if f.standard],
            "graph": [{"name": f.name, "label": f.media_type, "extension": f.extension}
                      for f in negotiation.RDF_FORMATS if f.standard],
        },
    }


def page() -> Response:
    """The home page, rendered on the server (figures, canned queries, a query form that works without
    JavaScript), with the editor's settings embedded for ui.js (``</`` escaped so the JSON cannot end the script)."""
    from service.web import canned, stats

    runner = current_app.extensions.get(canned.EXTENSION_KEY)
    try:
        figures = stats.current_figures()
    except ApiError:  # the page still works when the store is busy: the figures are left out
        figures = None
    html = render_template(
        "home.html",
        # JSON with every "</" escaped cannot end the script element it sits in
        config_json=Markup(json.dumps(page_config()).replace("</", "<\\/")),  # noqa: S704
        figures=figures,
        # the classes of our ontology, largest first (the W3C and annotation classes are on /stats)
        classes=[(name, count) for name, count in (figures.classes if figures else [])
                 if name.startswith("dj:")][:7],
        canned=list(runner.queries.values()) if runner is not None else [],
        examples=EXAMPLES,
        query=request.args.get("query") or EXAMPLES[0]["query"],
        endpoint_url=url_for("sparql.endpoint", _external=True),
    )
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.vary.add("Accept")
    return response


@bp.get("/")
def index() -> Response:
    """The home page."""
    return page()
