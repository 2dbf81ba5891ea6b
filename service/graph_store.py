"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol (indirect identification: ``?default`` or ``?graph=<iri>``).

Why: clients that manage whole graphs (upload a document's graph, replace it, drop
it) should not have to write SPARQL. Reads stream a graph in the negotiated syntax;
writes parse the body here, in the web tier (pyoxigraph's parsers, no store), and hand
the quads to :mod:`service.writes` — the one path every write takes.

Specification: https://www.w3.org/TR/sparql11-http-rdf-update/. Status codes: 200 for
reads; 201 when a PUT or POST creates the graph, 204 when it changes an existing one;
204 for DELETE; 404 for a graph that does not exist; 400 for ``?default`` and
``?graph`` together (or neither); 415 for a body we cannot read.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, g, request, stream_with_context
from flask.typing import ResponseReturnValue

from . import errors, negotiation, protocol, security, writes
from .graphs import DERIVED_GRAPHS
from .sparql import add_cors_headers
from .store import get_store

bp = Blueprint("graph_store", __name__)
bp.after_request(add_cors_headers)

Target = ox.NamedNode | ox.DefaultGraph


def target_graph() -> Target:
    """The graph the request names: ``?default`` or ``?graph=<iri>`` (exactly one of them)."""
    values: dict[str, list[str]] = {}
    for key, value in protocol.parse_pairs(request.query_string, "query string"):
        values.setdefault(key, []).append(value)
    graphs = values.get("graph", [])
    if "default" in values and graphs:
        raise errors.bad_request("Give either '?default' or '?graph=<iri>', not both.")
    if len(graphs) > 1:
        raise errors.bad_request(f"The 'graph' parameter was given {len(graphs)} times; give it exactly once.")
    if "default" in values:
        return ox.DefaultGraph()
    if not graphs:
        raise errors.bad_request("Name the graph: '?default' for the default graph, '?graph=<iri>' for a named one.")
    iri = graphs[0]
    try:
        graph = ox.NamedNode(iri)
    except ValueError as exc:
        raise errors.bad_request(f"The 'graph' parameter {iri!r} is not an absolute IRI: {exc}") from exc
    if iri.lower().startswith("file:"):
        raise errors.bad_request(f"The 'graph' parameter <{iri}> is a file: IRI; graphs are named by IRIs, "
                                 "and files are never read.")
    return graph


def _name(graph: Target) -> str:
    return "the default graph" if isinstance(graph, ox.DefaultGraph) else f"the graph <{graph.value}>"


def _require_existing(graph: Target) -> None:
    if isinstance(graph, ox.NamedNode):
        with protocol.store_errors("read"):
            exists = get_store().graph_exists(graph)
        if not exists:
            raise errors.not_found(f"The graph <{graph.value}> does not exist in the store.")


def _check_writable(graph: Target) -> None:
    if isinstance(graph, ox.DefaultGraph) and current_app.config["UNION_DEFAULT_GRAPH"]:
        raise errors.bad_request("The default graph is the union of the named graphs (setting UNION_DEFAULT_GRAPH) "
                                 "and cannot be written directly: name a graph with '?graph=<iri>'.")
    if isinstance(graph, ox.NamedNode) and graph.value in DERIVED_GRAPHS:
        raise errors.forbidden(f"The graph <{graph.value}> is derived by the service (inferences) and cannot be "
                               "written.")


def _read_quads(graph: Target) -> list[ox.Quad]:
    """Parse the request body into quads of ``graph`` (415 for other media types, 400 with the position)."""
    media_type = (request.mimetype or "").lower()
    rdf_format = negotiation.INPUT_FORMATS.get(media_type)
    if rdf_format is None:
        raise errors.unsupported_media_type(request.content_type, list(negotiation.INPUT_FORMATS))
    body = protocol.read_body(request)
    base = graph.value if isinstance(graph, ox.NamedNode) else request.base_url
    try:
        parsed = list(ox.parse(body, rdf_format, base_iri=base, without_named_graphs=True, rename_blank_nodes=True))
    except (SyntaxError, ValueError) as exc:
        raise errors.bad_request(f"The request body is not valid {rdf_format.name}: {exc}") from exc
    return [ox.Quad(q.subject, q.predicate, q.object, graph) for q in parsed]


@bp.route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def graph_store() -> ResponseReturnValue:
    """Read, replace, add to or delete one graph.

    :raise 400: both/neither of ``?default`` and ``?graph``; a body that does not parse
        (line and column); a write to the union default graph.
    :raise 401/403: a write without a valid write token; a write to a derived graph.
    :raise 404: the named graph does not exist (GET, HEAD, DELETE).
    :raise 406: no acceptable format. :raise 413: body above MAX_BODY_BYTES. :raise 415: unreadable body type.
    """
    if request.method in ("GET", "HEAD"):
        return read_graph()
    g.sparql_update = True  # no CORS headers on writes
    security.check_write_access()
    graph = target_graph()
    _check_writable(graph)
    store = get_store()
    if request.method == "DELETE":
        _require_existing(graph)
        with protocol.store_errors("write", "UPDATE_TIMEOUT"):
            writes.drop_graph(store, graph)
        return Response(status=204)
    quads = _read_quads(graph)
    with protocol.store_errors("write", "UPDATE_TIMEOUT"):
        existed = isinstance(graph, ox.DefaultGraph) or store.graph_exists(graph)
        if request.method == "PUT":
            writes.replace_graph(store, graph, quads)
        else:
            writes.add_to_graph(store, graph, quads)
    if existed:
        return Response(status=204)
    return Response(status=201, headers={"Location": request.url})


def read_graph() -> Response:
    """GET/HEAD: the graph in the negotiated syntax (HEAD: the same headers, no body)."""
    graph = target_graph()
    fmt = negotiation.rdf_format(request.headers.get("Accept"))
    _require_existing(graph)
    if request.method == "HEAD":
        response = Response(status=200, content_type=fmt.content_type)
    else:
        with protocol.store_errors("read", "UPDATE_TIMEOUT"):
            chunks = get_store().dump(fmt.key, graph=graph)
        response = Response(stream_with_context(chunks), content_type=fmt.content_type)
    response.vary.add("Accept")
    return response
