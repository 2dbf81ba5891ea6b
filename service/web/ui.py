"""``/``: the home page — what the graph holds, the canned questions, and a query box.

Why a plain form and no editor here: the service has one SPARQL editor, YASGUI's on ``/query`` (``query_page.py``).
The box on ``/`` is a form that opens that page with its query (``GET /query?query=…``, which with JavaScript runs
it and offers its views) or GETs ``/sparql`` for the answer as a page, so the home page works without JavaScript and
loads no script at all. The built-in examples live here and are the first examples of ``/query``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for

from service.problems import ApiError
from service.rdf.vocabulary import sparql_prefix_block

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


def page() -> Response:
    """The home page, rendered on the server: figures, canned queries, a query form to ``/query``."""
    from service.web import canned, stats

    runner = current_app.extensions.get(canned.EXTENSION_KEY)
    try:
        figures = stats.current_figures()
    except ApiError:  # the page still works when the store is busy: the figures are left out
        figures = None
    html = render_template(
        "home.html",
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
