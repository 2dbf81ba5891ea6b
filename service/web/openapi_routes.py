"""The OpenAPI 3.1 paths of the protocol routes (``/sparql``, ``/validate``, ``/ingest``, ``/store``, ``/health``,
``/.well-known/void``, ``/dump``): what each view accepts and answers, stated from the views' own tables.

Why separate from the canned-query paths (:mod:`service.openapi`): those are generated from the
``.rq`` headers; these describe standard protocols (SPARQL 1.1 Protocol, Graph Store HTTP
Protocol) whose bodies — SPARQL, Turtle, RDF/XML … — have grammars JSON Schema cannot state.
Such bodies are ``type: string`` with their media type and an example that succeeds; what a
schema cannot say (the grammar; "exactly one of ``default`` and ``graph``") is said in the
description, and the fuzzing test names the one check this makes meaningless
(``positive_data_acceptance``). Media types and formats come from :mod:`service.negotiation`,
:mod:`service.rdf_input` and the views' report tables, so the document follows the code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.rdf.formats import DOCUMENT_INPUT, GRAPH_INPUT
from service.web import negotiation, protocol

BEARER = "bearerAuth"
SECURITY_SCHEMES: dict[str, Any] = {BEARER: {
    "type": "http", "scheme": "bearer",
    "description": "The write token (setting WRITE_TOKEN): `Authorization: Bearer <token>`. Without it a write is "
                   "401; with a wrong one, or on a read-only server (no token configured), 403."}}

#: Examples that succeed on the bundled data.
QUERY_EXAMPLE = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 3"
UPDATE_EXAMPLE = ("INSERT DATA { GRAPH <https://example.org/openapi-example> { <http://example.org/note/1> "
                  "<http://www.w3.org/2000/01/rdf-schema#label> \"An example note\"@en } }")
TURTLE_EXAMPLE = ("@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                  "<http://example.org/note/1> rdfs:label \"An example note\"@en .\n")
JSONLD_EXAMPLE = {"@id": "http://example.org/note/1",
                  "http://www.w3.org/2000/01/rdf-schema#label": {"@value": "An example note", "@language": "en"}}
GRAPH_EXAMPLE = "https://example.org/openapi-example"

_TEXT: dict[str, Any] = {"type": "string"}
_JSON_DOCUMENT: dict[str, Any] = {"type": ["object", "array"]}
_IRI: dict[str, Any] = {"type": "string", "format": "iri", "description": "An absolute IRI (not a file: IRI)."}

VALIDATION_REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["conforms", "violations", "warnings", "by_focus_node"],
    "properties": {
        "conforms": {"type": "boolean"},
        "violations": {"type": "integer"}, "warnings": {"type": "integer"}, "infos": {"type": "integer"},
        "by_focus_node": {"type": "array", "items": {"type": "object"}},
        "diff": {"type": "object"},
        "write_refused": {},
    },
}
INGEST_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["batch", "graph", "added", "provenance_graph", "graph_url"],
    "properties": {
        "batch": {"type": "string"}, "graph": {"type": "string"}, "added": {"type": "integer"},
        "provenance_graph": {"type": "string"}, "source": {"type": ["string", "null"]},
        "document": {"type": ["string", "null"]}, "hint": {"type": ["string", "null"]},
        "graph_url": {"type": "string"}, "report": {},
    },
}


def _content(media_types: list[str]) -> dict[str, Any]:
    """Response content for these media types: text, except JSON-LD, which is a JSON document (object or array)."""
    return {m: {"schema": _JSON_DOCUMENT if m == "application/ld+json" else _TEXT} for m in media_types}


def _media(formats: tuple[negotiation.Format, ...] | list[negotiation.Format]) -> list[str]:
    """The media types a table answers with (an alias answers with the type it stands for)."""
    return list(dict.fromkeys((f.alias_of or f.media_type) for f in formats))


def _errors(*statuses: int, html: bool = False) -> dict[str, Any]:
    """Error responses: JSON (:data:`Error`) or plain text by Accept (``errors.wants_json``); HTML for form pages."""
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                               "text/plain": {"schema": _TEXT}}
    if html:
        content["text/html"] = {"schema": _TEXT}
    reasons = {
        400: "The request is malformed: the message names the parameter, or the line and column of a syntax error.",
        401: "A write without `Authorization: Bearer <token>`.",
        403: "A wrong write token, a read-only server, or a write the service refuses (e.g. a derived graph).",
        404: "The graph does not exist.",
        405: "The method is not allowed here (e.g. an update sent with GET); `Allow` lists the methods.",
        406: "The Accept header matches no format this resource can produce.",
        408: "The request body did not arrive within BODY_READ_TIMEOUT.",
        409: "The store's state refuses this valid request.",
        413: "The body is larger than MAX_BODY_BYTES (whatever its framing).",
        415: "The Content-Type is not one this route reads; the message lists those it does.",
        422: "Well formed, but it breaks a SHACL shape: nothing was written; the report says which node broke "
             "which rule.",
        502: "A SERVICE endpoint failed.",
        503: "Stopped at a time limit, the store is restarting, this kind of work is at its admission limit, or "
             "(remote mode, STORE_URL) the store cannot be reached or answers 502/503/504 (`Retry-After` says "
             "when to try again).",
    }
    return {str(s): {"description": reasons[s], "content": content} for s in statuses}


def _graph_list(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "style": "form", "explode": True,
            "description": description, "schema": {"type": "array", "items": _IRI}}


#: The /sparql result cache's request headers (:mod:`service.web.result_cache`), on ``GET /sparql`` with a query.
_CACHE_REQUEST_HEADERS: list[dict[str, Any]] = [
    {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "Entity tags from earlier answers (`ETag`): when one matches the answer's current tag "
                    "(weak comparison), the answer is 304 with no body."},
    {"name": "Cache-Control", "in": "header", "required": False, "schema": {"type": "string"},
     "example": "no-cache",
     "description": "`no-cache` (or `Pragma: no-cache`): the query is evaluated afresh, not answered from the "
                    "result cache (the fresh answer is kept); `no-store`: also not kept."},
]
#: The /sparql result cache's response headers on a ``200`` to ``GET /sparql`` with a query.
_CACHE_RESPONSE_HEADERS: dict[str, Any] = {
    "ETag": {"description": "A strong tag of the query string, the negotiated formats, the store's write "
                            "generation and this process (weak, `W/`, when the body is gzipped); absent on "
                            "non-deterministic queries (SERVICE, NOW(), RAND() …), which are never cached, and "
                            "when the cache is off (RESULT_CACHE_BYTES 0).",
             "schema": {"type": "string"}},
    "X-Cache": {"description": "`hit`: answered from the result cache; `miss`: evaluated and kept; `bypass`: "
                               "not looked up (`Cache-Control: no-cache`, or a non-deterministic query). Absent "
                               "when the cache is off (RESULT_CACHE_BYTES 0).",
                "schema": {"type": "string", "enum": ["hit", "miss", "bypass"]}},
}


def _sparql_paths() -> dict[str, Any]:
    results = _media(negotiation.RESULT_FORMATS)
    graphs = _media(negotiation.RDF_FORMATS)
    ok_content = {**_content([*results, *graphs]),
                  "application/sparql-results+json": {"schema": {"$ref": "#/components/schemas/SparqlResults"}}}
    query_ok = {"description": "The query's answer, by content negotiation: SPARQL results (JSON, XML, CSV, TSV) "
                               "for SELECT and ASK, an RDF syntax for CONSTRUCT and DESCRIBE.",
                "content": ok_content}
    download = {"name": "download", "in": "query", "required": False,
                "description": "Non-standard: a format name or media type that overrides Accept and makes the answer "
                               "an attachment (the query page's download links).",
                "schema": {"type": "string", "enum": ["", *sorted({f.name for f in negotiation.RESULT_FORMATS}
                                                                | {f.name for f in negotiation.RDF_FORMATS})]}}
    query_text = {"type": "string", "pattern": "\\S", "description": "A SPARQL 1.1 query.", "example": QUERY_EXAMPLE}
    update_text = {"type": "string", "description": "A SPARQL 1.1 update (needs the write token).",
                   "example": UPDATE_EXAMPLE}
    describe = _content(_media(negotiation.DESCRIPTION_FORMATS))
    get = {
        "operationId": "sparqlQueryGet",
        "summary": "SPARQL 1.1 Protocol: a query by GET (without one: the service description)",
        "description": "The query text's grammar (SPARQL 1.1) is not expressible in JSON Schema: a query the "
                       "schema admits may still be a syntax error (400 naming line and column). Without `query`, "
                       "the SPARQL service description (Turtle by default; the query page for browsers).",
        "tags": ["sparql"],
        "parameters": [
            {"name": "query", "in": "query", "required": False, "schema": query_text, "example": QUERY_EXAMPLE,
             "description": "The SPARQL query."},
            _graph_list("default-graph-uri", "Graphs whose merge is the default graph (replaces the dataset)."),
            _graph_list("named-graph-uri", "Named graphs of the dataset (replaces the dataset)."),
            download,
            *_CACHE_REQUEST_HEADERS,
        ],
        "responses": {"200": {**query_ok, "content": {**ok_content, **describe}, "headers": _CACHE_RESPONSE_HEADERS},
                      "304": {"description": "Not Modified: `If-None-Match` names the answer's current `ETag` (the "
                                             "store has had no write since); no body, the query is not run.",
                              "headers": {"ETag": _CACHE_RESPONSE_HEADERS["ETag"]}},
                      **_errors(400, 405, 406, 502, 503)},
    }
    form = {"type": "object", "properties": {
        "query": query_text, "update": update_text,
        "default-graph-uri": {"type": "array", "items": _IRI}, "named-graph-uri": {"type": "array", "items": _IRI},
        "using-graph-uri": {"type": "array", "items": _IRI},
        "using-named-graph-uri": {"type": "array", "items": _IRI},
        "download": download["schema"]},
        "description": "Either `query` (with `default-graph-uri`, `named-graph-uri`, `download`) or `update` "
                       "(with `using-graph-uri`, `using-named-graph-uri`), never both: a mix is 400 naming the "
                       "parameter. Other fields are ignored.",
        "oneOf": [
            {"required": ["query"], "not": {"anyOf": [{"required": [n]} for n in protocol.UPDATE_PARAMETERS]}},
            {"required": ["update"], "not": {"anyOf": [{"required": [n]} for n in protocol.QUERY_PARAMETERS]}},
        ]}
    explode = {n: {"style": "form", "explode": True} for n in
               ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri")}
    post = {
        "operationId": "sparqlPost",
        "summary": "SPARQL 1.1 Protocol: a query or an update by POST",
        "description": "A form (`query` or `update`), or the text itself as `application/sparql-query` / "
                       "`application/sparql-update` (UTF-8), with the dataset parameters in the URL. Updates need "
                       "the write token and are validated against the shapes (422 when they break one); 204 when "
                       "applied. SPARQL's grammar is not expressible in JSON Schema (syntax errors are 400).",
        "tags": ["sparql"],
        "security": [{}, {BEARER: []}],
        "parameters": [
            _graph_list("default-graph-uri", "With a query body: graphs whose merge is the default graph."),
            _graph_list("named-graph-uri", "With a query body: named graphs of the dataset."),
            _graph_list("using-graph-uri", "With an update body: the USING graphs."),
            _graph_list("using-named-graph-uri", "With an update body: the USING NAMED graphs."),
        ],
        "requestBody": {"required": True, "content": {
            protocol.FORM_TYPE: {"schema": form, "encoding": explode,
                                 "example": {"query": QUERY_EXAMPLE}},
            protocol.QUERY_TYPE: {"schema": {**query_text}, "example": QUERY_EXAMPLE},
            protocol.UPDATE_TYPE: {"schema": {**update_text, "pattern": "\\S"}, "example": UPDATE_EXAMPLE},
        }},
        "responses": {"200": query_ok, "204": {"description": "The update was applied."},
                      **_errors(400, 401, 403, 406, 408, 409, 413, 415, 422, 502, 503)},
    }
    return {"/sparql": {"get": get, "post": post}}


def _rdf_bodies(types: list[str], example_types: tuple[str, ...] = ("text/turtle",)) -> dict[str, Any]:
    """Request bodies in RDF syntaxes: their grammar is the syntax's, stated by the media type."""
    out: dict[str, Any] = {}
    for media_type in types:
        if media_type == "application/ld+json":  # a JSON document, not a string
            out[media_type] = {"schema": {"description": "A JSON-LD document (inline @context only: a remote "
                                          "context is refused, nothing is fetched). Any JSON value is read: one "
                                          "that is not an object or an array holds no triples."},
                               "example": JSONLD_EXAMPLE}
            continue
        out[media_type] = {"schema": {"type": "string", "description": f"An RDF document ({media_type})."}}
        if media_type in example_types:
            out[media_type]["example"] = TURTLE_EXAMPLE
    return out


def _validation_paths() -> dict[str, Any]:
    rdf_types = list(DOCUMENT_INPUT)
    form = {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "string", "pattern": "\\S", "description": "The RDF document (or SPARQL Update) to check."},
        "format": {"type": "string", "enum": [*rdf_types, "application/sparql-update", ""],
                   "description": "Its syntax (Turtle when empty)."}}}
    report_types = ["application/json", "text/turtle", "application/ld+json", "text/html", "text/plain"]
    report_content: dict[str, Any] = _content(report_types)
    report_content["application/json"] = {"schema": {"$ref": "#/components/schemas/ValidationReport"}}
    validate = {
        "operationId": "validate",
        "summary": "Check RDF (or a SPARQL Update's effect) against the shapes, in the context of the stored data; "
                   "nothing is written",
        "description": "The body is an RDF document in one of the listed syntaxes (its grammar is not expressible "
                       "in JSON Schema: syntax errors are 400 naming line and column), a SPARQL Update (a dry run), "
                       "or the HTML form. The report comes by content negotiation (JSON by default; HTML for the "
                       "form). A dry run that changes the shapes needs the write token (403 otherwise).",
        "tags": ["validation"],
        "security": [{}, {BEARER: []}],
        "requestBody": {"required": True, "content": {
            **_rdf_bodies(rdf_types),
            "application/sparql-update": {"schema": {"type": "string", "pattern": "\\S"},
                                          "example": UPDATE_EXAMPLE},
            "application/x-www-form-urlencoded": {"schema": form, "example": {"data": TURTLE_EXAMPLE}},
            "multipart/form-data": {"schema": form},
        }},
        "responses": {"200": {"description": "The validation report (`conforms` is the verdict).",
                              "content": report_content},
                      **_errors(400, 403, 406, 408, 409, 413, 415, 503, html=True)},
    }
    form_page = {"operationId": "validateForm", "summary": "The validation form (paste Turtle, read the report)",
                 "tags": ["validation"],
                 "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": _TEXT}}}}}
    ingest = {
        "operationId": "ingest",
        "summary": "Add a batch: validated in context, committed atomically into its own graph, with provenance",
        "description": "The body is an RDF document (or the form's `data`); its grammar is not expressible in JSON "
                       "Schema. 201 with the batch; 422 with the report when it breaks a shape (nothing written).",
        "tags": ["validation"],
        "security": [{BEARER: []}],
        "parameters": [
            {"name": "source", "in": "query", "required": False, "description": "Where the batch comes from "
             "(recorded in its provenance); wins over X-Source. A registered source document (`djr:doc-003` or its "
             "IRI) makes the batch count as that document's statement (the answer's `document`); a `djr:` IRI that "
             "names no registered document is 400; a batch registering a new document names it here.",
             "schema": {"type": "string", "maxLength": 2000}},
            {"name": "X-Source", "in": "header", "required": False, "description": "The same, as a header.",
             "schema": {"type": "string", "maxLength": 2000}},
        ],
        "requestBody": {"required": True, "content": {
            **_rdf_bodies(rdf_types),
            "application/x-www-form-urlencoded": {"schema": form, "example": {"data": TURTLE_EXAMPLE}},
            "multipart/form-data": {"schema": form},
        }},
        "responses": {"201": {"description": "Committed; `Location` is the batch graph in the Graph Store.",
                              "headers": {"Location": {"schema": _TEXT}},
                              "content": {"application/json": {"schema": {
                                  "$ref": "#/components/schemas/IngestResult"}}}},
                      **_errors(400, 401, 403, 408, 409, 413, 415, 422, 503)},
    }
    return {"/validate": {"get": form_page, "post": validate}, "/ingest": {"post": ingest}}


def _store_paths() -> dict[str, Any]:
    rdf_out = _content(_media(negotiation.RDF_FORMATS))
    read_ok = {"description": "The graph, by content negotiation (Turtle by default).", "content": rdf_out}
    body_types = list(GRAPH_INPUT)
    selectors = [
        {"name": "default", "in": "query", "required": False, "allowEmptyValue": True, "schema": _TEXT,
         "description": "Present (any value, usually none): the default graph. Give exactly one of `default` and "
                        "`graph` (POST may give neither: the store creates a graph)."},
        {"name": "graph", "in": "query", "required": False, "schema": _IRI, "example": GRAPH_EXAMPLE,
         "description": "The named graph's IRI."},
    ]
    note = (" The rule 'exactly one of `default` and `graph`' is not expressible in OpenAPI parameters: "
            "both, or neither, is 400.")

    def op(method: str, summary: str, responses: dict[str, Any], body: dict[str, Any] | None = None,
           write: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"operationId": f"graphStore{method.capitalize()}", "summary": summary,
                               "description": "SPARQL 1.1 Graph Store HTTP Protocol, indirect identification." + note,
                               "tags": ["graph store"], "parameters": selectors, "responses": responses}
        if body is not None:
            out["requestBody"] = {"required": True, "content": body}
        if write:
            out["security"] = [{BEARER: []}]
        return out

    written = {"201": {"description": "The graph was created; `Location` names it.",
                       "headers": {"Location": {"schema": _TEXT}}},
               "204": {"description": "The graph was changed."}}
    write_errors = _errors(400, 401, 403, 408, 409, 413, 415, 422, 503)
    multipart = {"multipart/form-data": {"schema": {"type": "object", "description": (
        "Each part an RDF document in the syntax its own Content-Type names; all parts merged in one write.")}}}
    direct_name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
                   "example": "openapi-example.ttl",
                   "description": "The rest of the URL: the graph's IRI is this request's URL (no query string)."}

    def direct(operation: dict[str, Any]) -> dict[str, Any]:
        # A URL whose path has a line break matches no route (404) whatever the method.
        responses = {**operation["responses"], **({} if "404" in operation["responses"] else _errors(404))}
        return {**operation, "operationId": operation["operationId"] + "Direct", "parameters": [direct_name],
                "responses": responses,
                "description": "SPARQL 1.1 Graph Store HTTP Protocol, direct identification: the graph is named by "
                               "the request URL itself (a query string is 400)."}

    indirect = {
        "get": op("get", "Read a graph", {"200": read_ok, **_errors(400, 404, 406, 503)}),
        "head": op("head", "The headers a GET would answer", {"200": {"description": "No body."},
                                                              **_errors(400, 404, 406, 503)}),
        "put": op("put", "Replace a graph with the body", {**written, **write_errors}, _rdf_bodies(body_types), True),
        "post": op("post", "Add the body to a graph (neither parameter: create a new graph)",
                   {**written, **write_errors}, {**_rdf_bodies(body_types), **multipart}, True),
        "delete": op("delete", "Delete a graph", {"204": {"description": "Deleted."},
                                                  **_errors(400, 401, 403, 404, 409, 503)}, write=True),
    }
    return {"/store": indirect, "/store/{name}": {method: direct(o) for method, o in indirect.items()}}


def _other_paths() -> dict[str, Any]:
    from .void import DATASET_FORMATS, DESCRIPTION_FORMATS, GRAPH_FORMATS

    names = sorted({f.name for f in negotiation.RDF_FORMATS} | {f.media_type for f in negotiation.RDF_FORMATS})
    format_param = {"name": "format", "in": "query", "required": False, "description": "A format by name or media "
                    "type (overrides Accept).", "schema": {"type": "string", "enum": names}}
    return {
        "/health": {"get": {
            "operationId": "health", "summary": "Is the service up and its store answering?", "tags": ["service"],
            "responses": {"200": {"description": "Up.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["status", "store_worker_pid"],
                "properties": {"status": {"const": "ok"}, "store_worker_pid": {"type": "integer"}}}}}},
                **_errors(503)}}},
        "/.well-known/void": {"get": {
            "operationId": "void", "summary": "The VoID description of the dataset, computed from the store",
            "tags": ["service"], "parameters": [{**format_param, "schema": {"type": "string", "enum": sorted(
                {f.name for f in DESCRIPTION_FORMATS} | {f.media_type for f in DESCRIPTION_FORMATS})}}],
            "responses": {"200": {"description": "VoID (Turtle by default).",
                                  "content": _content(_media(DESCRIPTION_FORMATS))},
                          **_errors(400, 406, 503)}}},
        "/dump": {"get": {
            "operationId": "dump", "summary": "The dataset with its named graphs (TriG or N-Quads), or one graph",
            "description": "Without `graph`: TriG or N-Quads (a single-graph format is 400). With `graph`: Turtle "
                           "or N-Triples (a derived graph is 400; a missing one 404).",
            "tags": ["service"], "parameters": [
                format_param,
                {"name": "graph", "in": "query", "required": False, "schema": _IRI,
                 "description": "A graph IRI (a prefixed name such as djr:doc-002 is accepted too)."}],
            "responses": {"200": {"description": "An attachment.", "content": _content(
                _media([*DATASET_FORMATS, *GRAPH_FORMATS]))},
                **_errors(400, 404, 406, 503)}}},
    }


#: Path items declared by the routes themselves (:func:`declare`), so a new route documents itself in its module.
_DECLARED: list[Callable[[], dict[str, Any]]] = []


def declare(path_items: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Add a route module's OpenAPI path items (a function, called when the document is built)."""
    _DECLARED.append(path_items)
    return path_items


def error_responses(*statuses: int, html: bool = False) -> dict[str, Any]:
    """The error responses of these statuses, as every route documents them (JSON or text by Accept)."""
    return _errors(*statuses, html=html)


def paths() -> dict[str, Any]:
    """The OpenAPI path items of the protocol routes, and those the routes declare."""
    declared: dict[str, Any] = {}
    for path_items in _DECLARED:
        declared.update(path_items())
    return {**_sparql_paths(), **_validation_paths(), **_store_paths(), **_other_paths(), **declared}


SCHEMAS: dict[str, Any] = {"ValidationReport": VALIDATION_REPORT_SCHEMA, "IngestResult": INGEST_RESULT_SCHEMA}
TAGS = [{"name": "sparql", "description": "SPARQL 1.1 Protocol (queries and updates)."},
        {"name": "validation", "description": "SHACL validation and guarded ingestion."},
        {"name": "graph store", "description": "SPARQL 1.1 Graph Store HTTP Protocol."},
        {"name": "service", "description": "Health, dataset description and dumps."}]
