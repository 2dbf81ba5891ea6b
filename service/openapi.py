"""The OpenAPI 3.1 document of the canned-query API, generated from the ``.rq`` headers.

Why generated: the headers already say everything a client needs (parameters, their
types, defaults and examples, the columns, the formats); writing the document by hand
would drift from them. Enums whose values come from the data (``values_from``) are
resolved against the store when the document is built, so they list the values a
request will actually accept. :func:`operations` flattens the document for the
server-rendered ``/api`` page, so that page shows exactly what the document says.
"""

from __future__ import annotations

from typing import Any

from .canned_header import CannedQuery, ParamSpec, TypeSpec, curie
from .canned_params import query_string
from .canned_run import formats_for

OPENAPI_VERSION = "3.1.0"
JSON_SCHEMA_DIALECT = "https://spec.openapis.org/oas/3.1/dialect/base"

_SPARQL_RESULTS_SCHEMA: dict[str, Any] = {
    "description": "SPARQL 1.1 Query Results JSON (https://www.w3.org/TR/sparql11-results-json/).",
    "type": "object",
    "required": ["head"],
    "properties": {
        "head": {"type": "object", "properties": {
            "vars": {"type": "array", "items": {"type": "string"}},
            "link": {"type": "array", "items": {"type": "string"}},
        }},
        "results": {"type": "object", "properties": {
            "bindings": {"type": "array", "items": {
                "type": "object", "additionalProperties": {"$ref": "#/components/schemas/RdfTerm"}}},
        }},
        "boolean": {"type": "boolean"},
    },
}
_RDF_TERM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "value"],
    "properties": {
        "type": {"type": "string", "enum": ["uri", "literal", "bnode", "triple"]},
        "value": {},
        "xml:lang": {"type": "string"},
        "datatype": {"type": "string"},
    },
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "status", "message"],
    "properties": {
        "error": {"type": "string"},
        "status": {"type": "integer"},
        "message": {"type": "string", "description": "What went wrong, naming the parameter or limit."},
        "parameter": {"type": ["string", "null"], "description": "The parameter that was refused."},
        "problem": {"type": "string", "description": "What is wrong with the value, and what was expected."},
    },
}
_CATALOG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["queries"],
    "properties": {
        "queries": {"type": "array", "items": {"type": "object", "required": ["name", "url", "query"], "properties": {
            "name": {"type": "string"}, "summary": {"type": "string"}, "description": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}}, "kind": {"type": "string"},
            "url": {"type": "string"}, "example_url": {"type": "string"},
            "example_params": {"type": "object"}, "formats": {"type": "object"},
            "params": {"type": "array", "items": {"type": "object"}},
            "columns": {"type": "array", "items": {"type": "object"}},
            "federated": {"type": "boolean"}, "query": {"type": "string"},
        }}},
        "openapi": {"type": "string"},
        "documentation": {"type": "string"},
    },
}


def _typed(spec: TypeSpec, text: Any) -> Any:
    """A header value (request text) as the JSON type its schema declares."""
    if spec.type == "integer":
        return int(text)
    if spec.type == "boolean":
        return str(text).lower() in ("true", "1", "yes")
    if spec.type == "decimal":
        return float(text)
    return text


def _scalar_schema(spec: TypeSpec, lookups: Any) -> dict[str, Any]:
    kind = spec.type
    if kind == "iri":
        schema: dict[str, Any] = {"type": "string", "format": "iri",
                                  "description": "An IRI: absolute (https://…), prefixed (djr:chongryon) or a bare "
                                                 "id (chongryon, read as djr:chongryon)."}
        if spec.class_iri:
            schema["x-rdf-class"] = curie(spec.class_iri)
            schema["description"] += f" Must be an instance of {curie(spec.class_iri)}."
        return schema
    if kind == "string":
        return {"type": "string", "maxLength": spec.max_length}
    if kind == "langString":
        return {"type": "string", "maxLength": spec.max_length,
                "description": f"Text; append @lang to set its language (default @{spec.lang})."}
    if kind == "integer":
        schema = {"type": "integer"}
    elif kind == "decimal":
        schema = {"type": "number"}
    elif kind == "date":
        return {"type": "string", "format": "date"}
    elif kind == "gYear":
        schema = {"type": "string", "pattern": "^-?[0-9]{4}$"}
        if spec.minimum is not None or spec.maximum is not None:
            schema["description"] = f"A year from {spec.minimum or '…'} to {spec.maximum or '…'}."
        return schema
    elif kind == "boolean":
        return {"type": "boolean"}
    else:  # enum
        values = spec.values
        if values is None and lookups is not None:
            try:
                values = lookups.enum_values(spec)
            except Exception:  # the store is unreachable: document the type without its values
                values = None
        schema = {"type": "string"}
        if values is not None:
            schema["enum"] = [v.key for v in values]
            labelled = [f"{v.key}: {v.label}" for v in values if v.label]
            if labelled:
                schema["description"] = "; ".join(labelled)
        return schema
    if spec.minimum is not None:
        schema["minimum"] = _typed(spec, spec.minimum)
    if spec.maximum is not None:
        schema["maximum"] = _typed(spec, spec.maximum)
    return schema


def param_schema(param: ParamSpec, lookups: Any) -> dict[str, Any]:
    """The JSON Schema of one parameter (arrays for lists)."""
    item = _scalar_schema(param.item, lookups)
    if param.is_list:
        schema: dict[str, Any] = {"type": "array", "items": item, "maxItems": param.max_items}
        if param.default is not None:
            schema["default"] = [_typed(param.item, v) for v in param.default]
        return schema
    if param.default is not None:
        item = {**item, "default": _typed(param.item, param.default)}
    return item


def _parameter(param: ParamSpec, lookups: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "description": param.description or param.name,
        "schema": param_schema(param, lookups),
    }
    if param.is_list:
        out["style"] = "form"
        out["explode"] = True
    if param.example is not None:
        out["example"] = [_typed(param.item, v) for v in param.example] if param.is_list \
            else _typed(param.item, param.example)
    return out


def _responses(query: CannedQuery) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for suffix, (media, _) in formats_for(query).items():
        media = media.split(";")[0]
        if suffix == "json":
            content[media] = {"schema": {"$ref": "#/components/schemas/SparqlResults"}}
        elif suffix == "jsonld":
            content[media] = {"schema": {"type": ["object", "array"]}}
        else:
            content[media] = {"schema": {"type": "string"}}
    content["text/html"] = {"schema": {"type": "string"}}
    if query.columns:
        columns = ", ".join(f"{c.name} ({' | '.join(c.types)}{', optional' if c.optional else ''})"
                            for c in query.columns)
        description = f"The answer. Columns: {columns}."
    else:
        description = "The answer (an RDF graph)." if query.is_graph else "The answer (true or false)."
    ok: dict[str, Any] = {"description": description, "content": content}
    if query.columns:
        ok["x-columns"] = [c.public() for c in query.columns]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses: dict[str, Any] = {
        "200": ok,
        "400": {"description": "A parameter was refused: the message names it and what was expected.",
                "content": error},
        "406": {"description": "The Accept header matches no format of this query.", "content": error},
        "503": {"description": "The query was stopped at the time limit (setting QUERY_TIMEOUT).", "content": error},
    }
    if query.federated:
        responses["502"] = {"description": "The remote SPARQL endpoint failed.", "content": error}
    return responses


def _operation(query: CannedQuery, lookups: Any, method: str) -> dict[str, Any]:
    formats = ", ".join(f"`.{s}`" for s in formats_for(query))
    description = (query.description + "\n\n" if query.description else "") + (
        f"Formats: by Accept header, or the suffix {formats} (or `.html`).")
    op: dict[str, Any] = {
        "operationId": query.name if method == "get" else f"{query.name}_post",
        "summary": query.summary,
        "description": description,
        "tags": list(query.tags) or ["queries"],
        "responses": _responses(query),
    }
    params = [_parameter(p, lookups) for p in query.params]
    if method == "get":
        op["parameters"] = params
    else:
        properties = {p["name"]: {**p["schema"], "description": p["description"]} for p in params}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [p.name for p in query.params if p.required]
        if required:
            schema["required"] = required
        encoding = {p.name: {"style": "form", "explode": True} for p in query.params if p.is_list}
        form: dict[str, Any] = {"schema": schema}
        if encoding:
            form["encoding"] = encoding
        op["requestBody"] = {"required": bool(required), "content": {
            "application/x-www-form-urlencoded": form,
            "application/json": {"schema": schema},
        }}
    if query.federated:
        op["x-federated"] = True
    return op


def build(queries: list[CannedQuery], lookups: Any, server: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document for these canned queries."""
    from . import __version__

    tags = sorted({t for q in queries for t in q.tags} or {"queries"})
    paths: dict[str, Any] = {
        "/queries": {"get": {
            "operationId": "listQueries",
            "summary": "The canned queries, with their parameters, query text and an example URL",
            "tags": ["catalog"],
            "responses": {"200": {"description": "JSON for programs; an HTML page with forms for browsers.",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Catalog"}},
                                              "text/html": {"schema": {"type": "string"}}}}},
        }},
        "/openapi.json": {"get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["catalog"],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {
                "schema": {"type": "object"}}}}},
        }},
        "/api": {"get": {
            "operationId": "apiPage",
            "summary": "This document as a readable page",
            "tags": ["catalog"],
            "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
        }},
    }
    for query in queries:
        paths[f"/queries/{query.name}"] = {"get": _operation(query, lookups, "get"),
                                            "post": _operation(query, lookups, "post")}
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "dprk-japan-kg canned queries",
            "version": __version__,
            "summary": "Questions analysts ask of the DPRK–Japan knowledge graph, one URL each.",
            "description": "Each operation is one file queries/<name>.rq; its #+ header declares the parameters and "
                           "columns below. Values are type-checked and bound as RDF terms (never spliced into the "
                           "query text); an invalid value is answered with 400 naming the parameter.",
            "license": {"name": "MIT (code); CC-BY-4.0 (data)", "identifier": "MIT"},
        },
        "tags": [{"name": "catalog", "description": "The list of queries and this description."}]
        + [{"name": t} for t in tags],
        "paths": paths,
        "components": {"schemas": {"SparqlResults": _SPARQL_RESULTS_SCHEMA, "RdfTerm": _RDF_TERM_SCHEMA,
                                   "Error": _ERROR_SCHEMA, "Catalog": _CATALOG_SCHEMA}},
    }
    if server:
        document["servers"] = [{"url": server}]
    return document


def example_url(path: str, operation: dict[str, Any]) -> str:
    """The operation's URL filled with its parameters' examples."""
    examples = {parameter["name"]: parameter["example"] for parameter in operation.get("parameters", [])
                if parameter.get("example") is not None}
    return path + query_string({name: [_example_text(v) for v in example] if isinstance(example, list)
                                else _example_text(example) for name, example in examples.items()})


def _example_text(value: Any) -> str:
    """An example as URL text: booleans as JSON spells them (``true``), the rest as ``str`` does."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's operations, flattened for the ``/api`` page (GET operations and their POST twins)."""
    server = (document.get("servers") or [{"url": ""}])[0]["url"]
    out = []
    for path, item in document["paths"].items():
        get = item.get("get")
        if get is None:
            continue
        url = example_url(path, get)
        out.append({
            "path": path,
            "methods": [m.upper() for m in item],
            "operation": get,
            "parameters": get.get("parameters", []),
            "media_types": sorted(get["responses"].get("200", {}).get("content", {})),
            "example_url": url,
            "curl": f"curl '{server}{url}'",
        })
    return out
