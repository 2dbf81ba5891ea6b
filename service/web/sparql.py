"""``/sparql``: the SPARQL 1.1 Protocol endpoint — queries (GET, POST) and updates (POST).

Why this shape: :mod:`service.web.protocol` turns the HTTP request into one checked
request, :mod:`service.sparql.guard` makes it safe (SSRF guard; :mod:`service.web.access` the write token), the query
kind picks the format table, and the store sends the serialized answer back: whole, with a
``Content-Length``, when it is small (up to 1 MiB: HTTP keep-alive keeps working), else streamed
through ``stream_with_context``. A GET with no operation describes the service (or, for a
browser, shows the query page).

Response headers we add: ``X-Result-Truncated: true`` and
``Link: <urn:dprk-kg:results-truncated>; rel="truncated"`` when RESULT_ROW_CAP (or a
SERVICE endpoint's row cap) cut the results (:mod:`service.web.responses`, as every route that caps rows);
CORS headers on reads (:mod:`service.web.access`, setting CORS_ORIGINS).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, g, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue

from service import problems
from service.sparql import guard, lexer
from service.store import writes
from service.web import access, display, errors, negotiation, protocol, responses, service_description
from service.web.context import get_store

bp = Blueprint("sparql", __name__)


bp.after_request(access.add_cors_headers)


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> ResponseReturnValue:
    """Run one query or update, or describe the service when a GET carries neither.

    :raise 400: bad or conflicting parameters, syntax errors (line and column), refused IRIs.
    :raise 401/403: an update without a valid write token (403 when the service is read-only).
    :raise 405: an update sent with GET.
    :raise 406: no acceptable format. :raise 413: body above MAX_BODY_BYTES. :raise 415: other content types.
    :raise 502: a SERVICE endpoint failed. :raise 503: the time limit was reached (the work was stopped).
    """
    sparql_request = protocol.parse_request(request)
    if sparql_request is None:
        return service_description.respond()
    if sparql_request.operation == "update":
        g.sparql_update = True
        return run_update(sparql_request)
    if sparql_request.download is None and responses.prefers_html(
            request.headers.get("Accept"), negotiation.RESULT_FORMATS + negotiation.RDF_FORMATS):
        return html_answer(sparql_request)
    answer = answer_query(sparql_request, request.headers.get("Accept"), request.base_url)
    if answer.body is not None:  # small: sent whole with Content-Length, so the connection stays open
        response = Response(answer.body, content_type=answer.content_type)
    else:  # large: streamed as the worker produces it
        response = Response(stream_with_context(answer.chunks), content_type=answer.content_type)
    response.vary.add("Accept")
    for name, value in answer.headers:
        response.headers[name] = value
    return response


@dataclass
class Answer:
    """A query's successful answer, before any web framework sees it.

    ``body`` is the whole answer when it is small (sent with ``Content-Length``), else
    ``None`` and ``chunks`` streams it. ``headers`` are the extra ones (truncation,
    download); ``Vary: Accept`` and CORS are added by the caller.
    """

    content_type: str
    body: bytes | None
    chunks: Iterator[bytes]
    headers: list[tuple[str, str]] = field(default_factory=list)


def answer_query(sparql_request: protocol.SparqlRequest, accept: str | None, base_url: str) -> Answer:
    """Evaluate a query and serialize its results in the negotiated format.

    The one implementation of the query side of the protocol: the Flask view above and
    the WSGI fast path (:mod:`service.web.query_path`) both call it, with the request's
    ``Accept`` header and its URL without the query string (the base IRI).
    Needs an application context (settings, store).
    """
    lexed = lexer.lex(sparql_request.text)  # once, for its kind and the guard
    kind = lexed.kind
    if kind == "update":
        raise problems.bad_request("This is a SPARQL update, sent as a query: send it with POST in the 'update' "
                                   "parameter (or as application/sparql-update).")
    graph_kind = kind in ("construct", "describe")
    table = negotiation.RDF_FORMATS if graph_kind else negotiation.RESULT_FORMATS
    if sparql_request.download:
        fmt = negotiation.by_name(sparql_request.download, table)
    elif graph_kind:
        fmt = negotiation.rdf_format(accept)
    else:
        fmt = negotiation.results_format(accept)
    prepared = guard.guard(lexed, base_url, current_app.config.get("SERVICE_ALLOWLIST") or {})
    dataset = {}
    if sparql_request.has_dataset:
        dataset = {"default_graph": protocol.graph_terms(sparql_request.default_graphs),
                   "named_graphs": protocol.graph_terms(sparql_request.named_graphs)}
    with errors.store_errors("query"):
        result = get_store().query(prepared.text, format=fmt.key, base_iri=base_url, **dataset)
    headers = responses.truncation_headers(result.truncated or prepared.truncated)
    if sparql_request.download:
        headers.append(("Content-Disposition", f'attachment; filename="results.{fmt.extension}"'))
    return Answer(fmt.content_type, result.body, result.chunks, headers)


#: At most this many rows are shown on a results page (the download links carry every row up to the row cap).
PAGE_ROWS = 1000


def html_answer(sparql_request: protocol.SparqlRequest) -> Response:
    """A query's answer as a page, for a browser that ranks HTML first (a form on ``/`` without JavaScript,
    a link to a DESCRIBE): a table for SELECT, a verdict for ASK, the graph grouped by subject for CONSTRUCT
    and DESCRIBE — with a download link per format. Every other client gets the protocol's formats."""
    lexed = lexer.lex(sparql_request.text)
    kind = lexed.kind
    if kind == "update":
        raise problems.bad_request("This is a SPARQL update, sent as a query: send it with POST in the 'update' "
                                   "parameter (or as application/sparql-update).")
    if sparql_request.has_dataset:  # the dataset parameters keep the protocol's answer (and its downloads) exact
        raise problems.bad_request("A results page cannot carry default-graph-uri/named-graph-uri: ask for a "
                                   "SPARQL results or RDF format in the Accept header.")
    prepared = guard.guard(lexed, request.base_url, current_app.config.get("SERVICE_ALLOWLIST") or {})
    graph_kind = kind in ("construct", "describe")
    table = negotiation.RDF_FORMATS if graph_kind else negotiation.RESULT_FORMATS
    downloads = [(display.format_label(f.name), url_for("sparql.endpoint", query=sparql_request.text,
                                                         download=f.name), f.media_type)
                 for f in table if f.standard]
    with errors.store_errors("query"):
        result = get_store().query(prepared.text, format="json" if not graph_kind else "application/n-triples",
                                   base_iri=request.base_url)
        body = result.read()
    truncated = result.truncated or prepared.truncated
    editor = url_for("ui.index", query=sparql_request.text)
    if graph_kind:
        triples = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
        return responses.graph_page(triples, title=f"{kind.upper()} answer", downloads=downloads,
                                    truncated=truncated, template="sparql_graph.html", sparql=sparql_request.text,
                                    editor=editor)
    data = json.loads(body)
    shown = None
    if "boolean" not in data:
        rows = data["results"]["bindings"]
        shown = display.results_table({"head": data["head"], "results": {"bindings": rows[:PAGE_ROWS]}})
        count = len(rows)
    else:
        count = None
    response = responses.page_response("sparql_results.html", alternate=downloads[0][1],
                                       alternate_type=downloads[0][2], table=shown, count=count,
                                       boolean=data.get("boolean"), page_rows=PAGE_ROWS, downloads=downloads,
                                       sparql=sparql_request.text, editor=editor, truncated=truncated)
    return responses.add_truncation_headers(response, truncated)


def run_update(sparql_request: protocol.SparqlRequest) -> Response:
    """Run an update through :func:`service.store.writes.run_update`; 204 when done.

    ``using-graph-uri``/``using-named-graph-uri`` are applied by rewriting the update
    (:func:`service.sparql.lexer.add_using_clauses`), because the store takes no dataset
    arguments for updates.
    """
    access.check_write_access()
    # Lexed once for the kind, the emptiness and the guard: a large update is over the lexer's cache limit.
    lexed = lexer.lex(sparql_request.text)
    kind = lexed.kind
    if kind in ("select", "ask", "construct", "describe"):
        raise problems.bad_request(f"This is a SPARQL {kind.upper()} query, sent as an update: send it in the "
                                   "'query' parameter (or as application/sparql-query).")
    if kind != "update" and lexed.empty:
        return Response(status=204)  # a valid update with no operation: nothing to do
    text = lexer.add_using_clauses(lexed, sparql_request.default_graphs, sparql_request.named_graphs)
    if text is not lexed.text:  # USING clauses were written in
        lexed = lexer.lex(text)
    prepared = guard.guard(lexed, request.base_url, current_app.config.get("SERVICE_ALLOWLIST") or {})
    if prepared.text != text and lexer.is_empty_update(prepared.text):
        return Response(status=204)  # e.g. only LOAD SILENT operations, which the guard drops
    with errors.store_errors("update", "UPDATE_TIMEOUT"):
        writes.run_update(get_store(), prepared.text, base_iri=request.base_url)
    return Response(status=204)
