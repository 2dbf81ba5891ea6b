"""The OpenAPI 3.1 document of the service: the canned-query API, generated from the ``.rq`` headers,
and the protocol routes (:mod:`service.web.openapi_routes`).

Why generated: the headers already say everything a client needs (parameters, their
types, defaults and examples, the columns, the formats); writing the document by hand
would drift from them. Enums whose values come from the data (``values_from``) are
resolved against the store when the document is built, so they list the values a
request will actually accept. :func:`operations` flattens the document for the
server-rendered ``/api`` page, so that page shows exactly what the document says.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from service.canned.backend import DataLookups
from service.canned.contract import CannedQuery, ParamSpec, TypeSpec
from service.canned.params import (
    IRI_GRAMMAR,
    LOCAL_NAME,
    MAX_DECIMAL,
    MAX_INTEGER,
    MAX_IRI_LENGTH,
    SPACE_CLASS,
    query_string,
)
from service.canned.run import formats_for
from service.rdf.vocabulary import curie
from service.web import openapi_routes

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


# The request grammar of canned_params, published as ECMA-262 patterns so the document states
# exactly what a value may be (padding spaces, empty = not given, a bare id or a prefixed name).
_PAD = SPACE_CLASS + "*"
_IRI_TEXT = f"(?:{IRI_GRAMMAR}|{LOCAL_NAME})"
_BOOLEAN_TEXT = "|".join("".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in word)
                         for word in ("true", "false", "yes", "no", "1", "0"))
_CONTROL_FREE = "^[^\\x00-\\x08\\x0b-\\x1f\\x7f]*$"
#: The instances of a class, as an enum source (``lookups.enum_values``): the same type chain
#: ``Lookups.is_instance`` checks, so the listed values are exactly those a request may name.
_INSTANCES = ("SELECT DISTINCT ?value WHERE {{ ?value " + DataLookups.RDF_TYPE_CHAIN
              + " <{cls}> FILTER(isIRI(?value)) }}")


#: Empty or only spaces (any of canned_params.SPACE, e.g. U+0085): the service reads it as "not given".
_BLANK: dict[str, Any] = {"type": "string", "pattern": f"^{_PAD}$"}


def _padded(core: str, optional: bool) -> str:
    """``^ spaces core spaces $``; the core may be missing when the parameter is optional."""
    return f"^{_PAD}(?:{core}){'?' if optional else ''}{_PAD}$"


def _enum_keys(spec: TypeSpec, lookups: Any) -> list[str] | None:
    """The allowed keys of an enum (or of a class's instances), or None when the store is unreachable."""
    values = spec.values
    if values is None and lookups is not None:
        try:
            values = lookups.enum_values(spec)
        except Exception:  # the store is unreachable: document the type without its values
            values = None
    return None if values is None else [v.key for v in values]


def _scalar_schema(spec: TypeSpec, lookups: Any, optional: bool = True) -> dict[str, Any]:
    """The JSON Schema of one value as the service parses it (``canned_params.parse_scalar``).

    ``optional``: an empty (or all-space) value counts as "not given" and is accepted; a
    required parameter refuses it.
    """
    kind = spec.type
    if kind == "iri":
        description = ("An IRI: absolute (https://…), prefixed (djr:chongryon) or a bare id "
                       "(chongryon, read as djr:chongryon).")
        if spec.class_iri:
            # The service refuses an IRI that is not an instance of the class: the document lists
            # the instances the store holds now (rebuilt on every request of the document).
            source = TypeSpec("enum", values_from=_INSTANCES.format(cls=spec.class_iri))
            keys = _enum_keys(source, lookups)
            description += f" Must be an instance of {curie(spec.class_iri)}."
            if keys is not None:
                return {"type": "string", "enum": keys, "x-rdf-class": curie(spec.class_iri),
                        "description": description + " Listed by prefixed name; the full IRI is accepted too."}
            return {"type": "string", "pattern": _padded(f"<{_IRI_TEXT}>|{_IRI_TEXT}", optional),
                    "maxLength": MAX_IRI_LENGTH, "x-rdf-class": curie(spec.class_iri), "description": description}
        return {"type": "string", "pattern": _padded(f"<{_IRI_TEXT}>|{_IRI_TEXT}", optional),
                "maxLength": MAX_IRI_LENGTH, "description": description}
    if kind in ("string", "langString"):
        schema: dict[str, Any] = {"type": "string", "maxLength": spec.max_length, "pattern": _CONTROL_FREE}
        if not optional:
            schema["minLength"] = 1
        if kind == "langString":
            schema["description"] = f"Text; append @lang to set its language (default @{spec.lang})."
        return schema
    if kind == "integer":
        return {"type": "integer",
                "minimum": max(_typed(spec, spec.minimum), -MAX_INTEGER) if spec.minimum is not None
                else -MAX_INTEGER,
                "maximum": min(_typed(spec, spec.maximum), MAX_INTEGER) if spec.maximum is not None
                else MAX_INTEGER}
    if kind == "decimal":
        return {"type": "number",
                "minimum": max(_typed(spec, spec.minimum), -MAX_DECIMAL) if spec.minimum is not None
                else -float(MAX_DECIMAL),
                "maximum": min(_typed(spec, spec.maximum), MAX_DECIMAL) if spec.maximum is not None
                else float(MAX_DECIMAL)}
    if kind == "date":
        return {"type": "string", "format": "date"}
    if kind == "gYear":
        schema = {"type": "string", "pattern": _padded("-?[0-9]{4}", optional)}
        if spec.minimum is not None or spec.maximum is not None:
            schema["description"] = f"A year from {spec.minimum or '…'} to {spec.maximum or '…'}."
        return schema
    if kind == "boolean":
        return {"type": "boolean"}
    # enum
    schema = {"type": "string"}
    keys = _enum_keys(spec, lookups)
    if keys is not None:
        schema["enum"] = keys
        values = spec.values if spec.values is not None else lookups.enum_values(spec)
        labelled = [f"{v.key}: {v.label}" for v in values if v.label]
        if labelled:
            schema["description"] = "; ".join(labelled)
    return schema


def _or_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or the empty string (which the service reads as "not given")."""
    if schema.get("type") == "string" and ("enum" in schema or "format" in schema):
        notes = {k: schema[k] for k in ("x-rdf-class", "description") if k in schema}
        return {"anyOf": [schema, _BLANK], **notes}
    return schema  # patterns and free text already admit "" where the service does


def param_schema(param: ParamSpec, lookups: Any, where: str = "query") -> dict[str, Any]:
    """The JSON Schema of one parameter (arrays for lists).

    ``where`` is ``query`` (a URL parameter), ``form`` or ``json`` (a property of a POST body):
    a form carries text, so an optional value may be empty; JSON carries typed values.
    """
    must = required(param, lookups)
    item = _scalar_schema(param.item, lookups, optional=not must or param.is_list)
    if param.is_list:
        schema: dict[str, Any] = {"type": "array", "items": _or_empty(item), "maxItems": param.max_items}
        if param.default is not None:
            schema["default"] = [_typed(param.item, v) for v in param.default]
        return schema
    if param.default is not None and _default_allowed(param, item):
        item = {**item, "default": _typed(param.item, param.default)}
    if where != "query" and not must:
        if where == "form" and item.get("type") == "boolean":  # a form's text: true/false, 1/0, yes/no, any case
            return {"anyOf": [item, {"type": "string", "pattern": _padded(_BOOLEAN_TEXT, True)}]}
        if where == "form" and item.get("type") in ("integer", "number"):
            return {"anyOf": [item, _BLANK]}
        return _or_empty(item)
    return item


def _default_allowed(param: ParamSpec, schema: dict[str, Any]) -> bool:
    """False when the header's default is not among the values this server allows (e.g. a SERVICE
    endpoint left out of the configured allow-list): then the parameter must be given."""
    return param.default is not None and ("enum" not in schema or param.default in schema["enum"])


def required(param: ParamSpec, lookups: Any) -> bool:
    """Whether a request must give the parameter: declared required, or its default is not allowed here."""
    if param.required:
        return True
    return param.default is not None and not param.is_list and \
        not _default_allowed(param, _scalar_schema(param.item, lookups))


def _parameter(param: ParamSpec, lookups: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": param.name,
        "in": "query",
        "required": required(param, lookups),
        "description": param.description or param.name,
        "schema": param_schema(param, lookups),
    }
    if not out["required"]:
        out["allowEmptyValue"] = True  # an empty value means "not given" (what an HTML form sends)
    if param.is_list:
        out["style"] = "form"
        out["explode"] = True
    if param.example is not None:
        out["example"] = [_typed(param.item, v) for v in param.example] if param.is_list \
            else _typed(param.item, param.example)
    return out


def _format_parameter(query: CannedQuery) -> dict[str, Any]:
    """``_format``: the answer's format by name, as the URL suffix would choose it."""
    return {"name": "_format", "in": "query", "required": False, "allowEmptyValue": True,
            "description": "The answer's format (instead of the Accept header or a URL suffix).",
            "schema": {"type": "string", "enum": [*formats_for(query), "html"]}}


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
        "400": {"description": "A parameter was refused: the message names it and what was expected "
                               "(an HTML page with the form when the HTML format was asked for).",
                "content": {**error, "text/html": {"schema": {"type": "string"}}}},
        "406": {"description": "The Accept header matches no format of this query.", "content": error},
        "503": {"description": "The query was stopped at the time limit (setting QUERY_TIMEOUT), or (remote mode) the "
                               "store cannot be reached; `Retry-After` says when to try again.", "content": error},
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
        op["parameters"] = [*params, _format_parameter(query)]
    else:
        required_names = [p.name for p in query.params if required(p, lookups)]
        encoding = {p.name: {"style": "form", "explode": True} for p in query.params if p.is_list}

        def body_schema(where: str) -> dict[str, Any]:
            # Unknown names are refused (400 naming them), so the body admits no other property.
            properties = {p.name: {**param_schema(p, lookups, where), "description": p.description or p.name}
                          for p in query.params}
            properties["_format"] = _or_empty(_format_parameter(query)["schema"])
            schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
            if required_names:
                schema["required"] = required_names
            return schema

        form: dict[str, Any] = {"schema": body_schema("form")}
        if encoding:
            form["encoding"] = encoding
        op["requestBody"] = {"required": bool(required_names), "content": {
            "application/x-www-form-urlencoded": form,
            "application/json": {"schema": body_schema("json")},
        }}
    if query.federated:
        op["x-federated"] = True
    return op


def build(queries: list[CannedQuery], lookups: Any, server: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document for these canned queries."""
    from service.config import VERSION as __version__

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
    paths.update(openapi_routes.paths())
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "dprk-japan-kg SPARQL service and canned queries",
            "version": __version__,
            "summary": "Questions analysts ask of the DPRK–Japan knowledge graph, one URL each.",
            "description": "Each operation is one file queries/<name>.rq; its #+ header declares the parameters and "
                           "columns below. Values are type-checked and bound as RDF terms (never spliced into the "
                           "query text); an invalid value is answered with 400 naming the parameter.",
            "license": {"name": "MIT (code); CC-BY-4.0 (data)", "identifier": "MIT"},
        },
        "tags": [{"name": "catalog", "description": "The list of queries and this description."}]
        + [{"name": t} for t in tags] + openapi_routes.TAGS,
        "paths": paths,
        "components": {"schemas": {"SparqlResults": _SPARQL_RESULTS_SCHEMA, "RdfTerm": _RDF_TERM_SCHEMA,
                                   "Error": _ERROR_SCHEMA, "Catalog": _CATALOG_SCHEMA, **openapi_routes.SCHEMAS},
                       "securitySchemes": openapi_routes.SECURITY_SCHEMES},
    }
    if server:
        document["servers"] = [{"url": server}]
    return document


def example_url(path: str, operation: dict[str, Any]) -> str | None:
    """The operation's URL filled with its parameters' examples: path parameters in the path, the others as the query
    string. None where a path parameter has no example: a link with ``{name}`` left in it would only be a 404."""
    examples = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path":
            if parameter.get("example") is None:
                return None
            path = path.replace("{" + parameter["name"] + "}", quote(_example_text(parameter["example"]), safe="/:@"))
        elif parameter.get("example") is not None:
            examples[parameter["name"]] = parameter["example"]
    return path + query_string({name: [_example_text(v) for v in example] if isinstance(example, list)
                                else _example_text(example) for name, example in examples.items()})


def _example_text(value: Any) -> str:
    """An example as URL text: booleans as JSON spells them (``true``), the rest as ``str`` does."""
    return str(value).lower() if isinstance(value, bool) else str(value)


#: The HTTP methods an OpenAPI path item may hold operations for, in the order a page lists them.
METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of the document, one per method and path, flattened for the ``/api`` page.

    Each entry has the ``method`` and ``path``, the OpenAPI ``operation`` and its ``parameters``, the media types
    it answers with (``media_types``, from its successful responses) and accepts (``request_types``), and a
    ``curl`` line; a GET also has an ``example_url`` filled with its parameters' examples.
    """
    server = (document.get("servers") or [{"url": ""}])[0]["url"]
    out = []
    for path, item in document["paths"].items():
        for method in (m for m in METHODS if m in item):
            operation = item[method]
            request_types = list(operation.get("requestBody", {}).get("content", {}))
            answers = {media for status, response in operation.get("responses", {}).items()
                       if str(status).startswith("2") for media in response.get("content", {})}
            url = example_url(path, operation) if method == "get" else None
            out.append({
                "method": method.upper(),
                "path": path,
                "operation": operation,
                "parameters": operation.get("parameters", []),
                "media_types": sorted(answers),
                "request_types": request_types,
                "example_url": url,
                "curl": _curl(method, server, url or path, request_types),
            })
    return out


def _curl(method: str, server: str, url: str, request_types: list[str]) -> str:
    """A curl command line for an operation: the URL for a GET, the method and a body of its first type otherwise."""
    if method == "get":
        return f"curl '{server}{url}'"
    if method == "head":
        return f"curl -I '{server}{url}'"
    body = f" -H 'Content-Type: {request_types[0]}' --data-binary @FILE" if request_types else ""
    return f"curl -X {method.upper()}{body} '{server}{url}'"
