"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol, with both ways of naming a graph.

Why: clients that manage whole graphs (upload a document's graph, replace it, drop
it) should not have to write SPARQL. Reads stream a graph in the negotiated syntax;
writes parse the body here, in the web tier (pyoxigraph's parsers, no store), and hand
the quads to :mod:`service.store.writes` — the one path every write takes (write token,
SHACL validation, derived graphs).

Specification: https://www.w3.org/TR/sparql11-http-rdf-update/. Graphs are named

* *indirectly*: ``/store?default`` or ``/store?graph=<iri>`` (exactly one of them);
* *directly*: ``/store/<path>`` — the graph IRI is the request URL itself
  (``http://host:port/store/person/1.ttl``, no query string), as the server sees it;
* *by the store*: ``POST /store`` with neither parameter creates a new graph named
  ``<request URL>/<uuid>`` (so it is also directly addressable) and answers 201 with
  that IRI in ``Location``.

Status codes: 200 for reads; 201 when a PUT or POST creates the graph, 204 when it
changes an existing one; 204 for DELETE; 404 for a graph that does not exist; 400 for
``?default`` and ``?graph`` together (or neither, except for a POST), and for a query
string on a direct URL; 415 for a body we cannot read. POST also takes
``multipart/form-data``: every part is RDF in the syntax its own ``Content-Type`` names,
and all parts are merged in one write (or none is, when one part is refused).
"""

from __future__ import annotations

import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, g, request, stream_with_context
from flask.typing import ResponseReturnValue
from werkzeug.urls import iri_to_uri

from service import problems
from service.rdf.formats import GRAPH_INPUT
from service.rdf.parsing import InputError, parse_rdf
from service.store import writes
from service.store.writable import unwritable
from service.web import access, errors, negotiation, protocol
from service.web.context import get_store

bp = Blueprint("graph_store", __name__)
bp.after_request(access.add_cors_headers)

Target = ox.NamedNode | ox.DefaultGraph

#: The media type of a POST whose parts are each an RDF document (Graph Store Protocol, section 5.5).
MULTIPART = "multipart/form-data"
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]


def target_graph(*, creating: bool = False) -> Target | None:
    """The graph an indirect request names: ``?default`` or ``?graph=<iri>`` (exactly one of them).

    With ``creating`` (a POST), naming neither is allowed and gives ``None``: the request
    is addressed to the store itself, which creates a graph.
    """
    values: dict[str, list[str]] = {}
    for key, value in protocol.parse_pairs(request.query_string, "query string"):
        values.setdefault(key, []).append(value)
    graphs = values.get("graph", [])
    if "default" in values and graphs:
        raise problems.bad_request("Give either '?default' or '?graph=<iri>', not both.")
    if len(graphs) > 1:
        raise problems.bad_request(f"The 'graph' parameter was given {len(graphs)} times; give it exactly once.")
    if "default" in values:
        return ox.DefaultGraph()
    if not graphs:
        if creating:
            return None
        raise problems.bad_request("Name the graph: '?default' for the default graph, '?graph=<iri>' for a named one "
                                   "(or use its own URL, /store/<path>).")
    iri = graphs[0]
    try:
        graph = ox.NamedNode(iri)
    except ValueError as exc:
        raise problems.bad_request(f"The 'graph' parameter {iri!r} is not an absolute IRI: {exc}") from exc
    if iri.lower().startswith("file:"):
        raise problems.bad_request(f"The 'graph' parameter <{iri}> is a file: IRI; graphs are named by IRIs, "
                                   "and files are never read.")
    return graph


def direct_graph_name() -> ox.NamedNode:
    """The graph a direct request names: the request URL (without a query string, which is refused)."""
    if request.query_string:
        raise problems.bad_request(
            f"The URL {request.base_url} names its graph directly, so it takes no query string (got "
            f"'?{request.query_string.decode('latin-1')}'); to name another graph use /store?graph=<iri>.")
    try:
        return ox.NamedNode(request.base_url)
    except ValueError as exc:
        raise problems.bad_request(f"The request URL {request.base_url!r} is not a valid graph IRI: {exc}") from exc


def _require_existing(graph: Target) -> None:
    if isinstance(graph, ox.NamedNode):
        with errors.store_errors("read"):
            exists = get_store().graph_exists(graph)
        if not exists:
            raise problems.not_found(f"The graph <{graph.value}> does not exist in the store.")


def _check_writable(graph: Target) -> None:
    """The writable-graph rule (:func:`service.store.writable.unwritable`), checked before the body is read."""
    refusal = unwritable([graph], union=bool(current_app.config["UNION_DEFAULT_GRAPH"]))
    if refusal:
        raise refusal.problem("deletion" if request.method == "DELETE" else "write")


def _parse(body: bytes, media_type: str, content_type: str | None, graph: Target, what: str) -> list[ox.Quad]:
    """Parse one RDF document into quads of ``graph`` (415 for other media types, 400 with the position).

    The syntaxes are the Graph Store's own (:data:`GRAPH_INPUT`, graph syntaxes only);
    the parsing is :func:`rdf_input.parse_rdf`'s, so errors name line and column and a remote
    JSON-LD context is refused before anything could fetch it.
    """
    rdf_format = GRAPH_INPUT.get(media_type)
    if rdf_format is None:
        supported = list(GRAPH_INPUT)
        if what == "request body":
            raise problems.unsupported_media_type(content_type, [*supported, f"{MULTIPART} (POST only)"])
        raise problems.ApiError(415, f"The {what} has the Content-Type {content_type or '(none)'!r}; each part of "
                                   "a multipart body must be RDF in one of: " + ", ".join(supported),
                                title="Unsupported Media Type", details={"supported": supported})
    base = graph.value if isinstance(graph, ox.NamedNode) else request.base_url
    try:
        parsed = parse_rdf(body, rdf_format, source=f"The {what}", base_iri=base, graph_only=True)
    except InputError as exc:
        raise problems.bad_request(str(exc)) from exc
    return [ox.Quad(q.subject, q.predicate, q.object, graph) for q in parsed]


def multipart_parts(body: bytes, content_type: str) -> list[tuple[str, EmailMessage]]:
    """Split a ``multipart/form-data`` body into (part description, part); 400 when it is not well formed.

    Why the stdlib ``email`` parser: it reads each part's own headers (Content-Type,
    Content-Disposition, Content-Transfer-Encoding) from the bytes we already read under
    MAX_BODY_BYTES, and reports a missing boundary as a defect instead of guessing.
    """
    header = content_type.encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(b"Content-Type: " + header + b"\r\n\r\n" + body)
    boundary = message.get_param("boundary")
    if not boundary:
        raise problems.bad_request("A multipart/form-data body needs a 'boundary' parameter in its Content-Type.")
    defects = list(message.defects)
    if defects or not message.is_multipart():
        reason = ", ".join(type(d).__name__ for d in defects) or "not multipart"
        raise problems.bad_request(f"The multipart/form-data body cannot be read: no part delimited by the boundary "
                                   f"'--{boundary}' of its Content-Type was found whole ({reason}).")
    parts: list[tuple[str, EmailMessage]] = []
    for index, part in enumerate(message.iter_parts(), start=1):
        name = part.get_param("name", header="content-disposition") or part.get_filename()
        parts.append((f"part {index}" + (f" ({name!r})" if name else ""), part))  # type: ignore[arg-type]
    if not parts:
        raise problems.bad_request("The multipart/form-data body has no parts.")
    return parts


def _read_quads(graph: Target) -> list[ox.Quad]:
    """The request body as quads of ``graph``: one RDF document, or (POST) the parts of a multipart body."""
    media_type = (request.mimetype or "").lower()
    if media_type != MULTIPART:
        return _parse(protocol.read_body(request), media_type, request.content_type, graph, "request body")
    if request.method != "POST":
        raise problems.ApiError(415, f"{MULTIPART} bodies are for POST (each part is merged into the graph); "
                                   f"a {request.method} takes one RDF document in one of: "
                                   + ", ".join(GRAPH_INPUT),
                                title="Unsupported Media Type", details={"supported": list(GRAPH_INPUT)})
    quads: list[ox.Quad] = []
    for what, part in multipart_parts(protocol.read_body(request), request.content_type or MULTIPART):
        if part.is_multipart():
            raise problems.bad_request(f"The {what} is itself multipart; each part must be one RDF document.")
        payload = part.get_payload(decode=True)
        declared = part.get("Content-Type")  # without one a part would be text/plain: refused, naming it
        quads += _parse(payload if isinstance(payload, bytes) else b"",
                        part.get_content_type() if declared else "", declared, graph, what)
    return quads


def _start_write() -> None:
    g.sparql_update = True  # no CORS headers on writes
    access.check_write_access()


def write_graph(graph: Target) -> Response:
    """PUT, POST or DELETE on one graph named by the request."""
    _check_writable(graph)
    store = get_store()
    if request.method == "DELETE":
        _require_existing(graph)
        with errors.store_errors("write", "UPDATE_TIMEOUT"):
            writes.drop_graph(store, graph)
        return Response(status=204)
    quads = _read_quads(graph)
    with errors.store_errors("write", "UPDATE_TIMEOUT"):
        existed = isinstance(graph, ox.DefaultGraph) or store.graph_exists(graph)
        if request.method == "PUT":
            writes.replace_graph(store, graph, quads)
        else:
            writes.add_to_graph(store, graph, quads)
    if existed:
        return Response(status=204)
    return Response(status=201, headers={"Location": iri_to_uri(request.url)})


def create_graph() -> Response:
    """POST to the store itself: a new graph named ``<store URL>/<uuid>`` holding the body; 201 with Location."""
    graph = ox.NamedNode(f"{request.base_url.rstrip('/')}/{uuid.uuid4().hex}")
    quads = _read_quads(graph)
    with errors.store_errors("write", "UPDATE_TIMEOUT"):
        writes.add_to_graph(get_store(), graph, quads)
    return Response(status=201, headers={"Location": iri_to_uri(graph.value)})


@bp.route("/store", methods=METHODS)
def graph_store() -> ResponseReturnValue:
    """Read, replace, add to or delete one graph named indirectly; or (POST, no graph named) create one.

    :raise 400: both/neither of ``?default`` and ``?graph`` (neither is a graph creation for
        POST); a body that does not parse (line and column); a write to the union default graph.
    :raise 401/403: a write without a valid write token; a write to a derived graph.
    :raise 404: the named graph does not exist (GET, HEAD, DELETE).
    :raise 406: no acceptable format. :raise 413: body above MAX_BODY_BYTES. :raise 415: unreadable body type.
    """
    if request.method in ("GET", "HEAD"):
        return read_graph(target_graph())  # type: ignore[arg-type]
    _start_write()
    graph = target_graph(creating=request.method == "POST")
    if graph is None:
        return create_graph()
    return write_graph(graph)


@bp.route("/store/<path:name>", methods=METHODS)
def direct_graph(name: str) -> ResponseReturnValue:
    """Read, replace, add to or delete the graph whose IRI is this request's URL (direct identification).

    The same errors as :func:`graph_store`, and 400 for a query string on the URL.
    """
    if request.method in ("GET", "HEAD"):
        return read_graph(direct_graph_name())
    _start_write()
    return write_graph(direct_graph_name())


def read_graph(graph: Target) -> Response:
    """GET/HEAD: the graph in the negotiated syntax (HEAD: the same headers, no body)."""
    fmt = negotiation.rdf_format(request.headers.get("Accept"))
    _require_existing(graph)
    if request.method == "HEAD":
        response = Response(status=200, content_type=fmt.content_type)
    else:
        with errors.store_errors("read", "UPDATE_TIMEOUT"):
            chunks = get_store().dump(fmt.key, graph=graph)
        response = Response(stream_with_context(chunks), content_type=fmt.content_type)
    response.vary.add("Accept")
    return response
