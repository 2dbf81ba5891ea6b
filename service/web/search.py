"""``GET /search?q=…&type=…&limit=…``: find resources and ontology terms by name, as JSON for programs or an HTML
page for people (the layout's search box submits here).

What this module owns is HTTP only: reading and refusing parameters, JSON or page (the one negotiation, through
:mod:`service.web.responses`), the OpenAPI path. The index, the normalisation and the ranking are
:mod:`service.search` (the README says why the index is in memory); it is rebuilt after any write, keyed on the
store's write generation.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app, request
from flask.typing import ResponseReturnValue

from service import problems
from service.canned.params import SPACE
from service.rdf.vocabulary import PREFIXES, curie
from service.search.index import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_QUERY_LENGTH,
    QUERY_PATTERN,
    TIERS,
    LiveIndex,
    SearchIndex,
    check_query,
)
from service.web import access, display, errors, openapi_routes, responses
from service.web.context import get_store

bp = errors.machine_routes(Blueprint("search", __name__))
bp.after_request(access.add_cors_headers)

#: What ``type`` may be: an http(s) IRI or a prefixed name of ours, without the characters an IRI in SPARQL text
#: cannot hold or padding — in the regex syntax Python and ECMA-262 share, so the OpenAPI document says the same.
TYPE_PATTERN = ("^(https?://|(" + "|".join(map(re.escape, PREFIXES)) + "):)[^"
                + "".join(f"\\u{ord(c):04X}" for c in SPACE + '<>"{}|^`\\') + "]*$")
_TYPE = re.compile(TYPE_PATTERN)

#: ``app.extensions`` key: the :class:`~service.search.index.LiveIndex` of the app's store.
EXTENSION_KEY = "dprk_kg_search_index"


def init_app(app: Flask) -> None:
    """Give the app its name index (built on the first search, and again after each write)."""
    app.extensions[EXTENSION_KEY] = LiveIndex(lambda sparql: get_store().select(sparql).rows,
                                              lambda: get_store().generation)
    app.jinja_env.globals["search_url"] = instances_url


def current_index() -> SearchIndex:
    """The index of the store as it is now (store failures answered by the one error map)."""
    with errors.store_errors("query"):
        return current_app.extensions[EXTENSION_KEY].current()


class SearchRequest:
    """The parameters of one search, read and checked (``error`` says what is wrong, for the page)."""

    def __init__(self, args: Any) -> None:
        self.q = args.get("q")
        self.type_text: str | None = args.get("type")
        self.limit_text: str | None = args.get("limit")
        self.error: str | None = None
        self.parameter: str | None = None
        self.type_iri: str | None = None
        self.limit = DEFAULT_LIMIT
        try:
            self.q = check_query(self.q)
        except ValueError as exc:
            self.error, self.parameter = str(exc), "q"
            return
        if self.type_text is not None:
            if not _TYPE.match(self.type_text):
                self.error, self.parameter = (f"type must be a class IRI or a prefixed name such as dj:Person, "
                                              f"not {self.type_text!r}."), "type"
                return
            prefix, _, local = self.type_text.partition(":")
            self.type_iri = PREFIXES[prefix] + local if prefix in PREFIXES else self.type_text
        if self.limit_text is not None:
            if not re.fullmatch("[0-9]{1,3}", self.limit_text) or not 1 <= int(self.limit_text) <= MAX_LIMIT:
                self.error, self.parameter = (f"limit must be a whole number from 1 to {MAX_LIMIT}, "
                                              f"not {self.limit_text!r}."), "limit"
                return
            self.limit = int(self.limit_text)


def _answer(search: SearchRequest) -> dict[str, Any]:
    index = current_index()
    matches, total = index.search(search.q, type_iri=search.type_iri, limit=search.limit)
    results = []
    for match in matches:
        entry = match.to_json(index.label)
        entry["page"] = display.href(match.iri)
        results.append(entry)
    return {"query": search.q, "type": curie(search.type_iri) if search.type_iri else None, "limit": search.limit,
            "total": total, "results": results}


@bp.get("/search")
def search_view() -> ResponseReturnValue:
    """Search by name: JSON by default, the results page for browsers (406 for neither)."""
    page = responses.wants_page()
    search = SearchRequest(request.args)
    if page:
        if not request.args:  # the page itself: the form and examples
            return responses.page_response("search.html", alternate=None, search=None, answer=None, error=None,
                                           search_query="")
        if search.error:
            return responses.page_response("search.html", status=400, search=search, answer=None,
                                           error=search.error, search_query=request.args.get("q") or "")
        answer = _answer(search)
        return responses.page_response("search.html", alternate=request.full_path, search=search, answer=answer,
                                       error=None, search_query=search.q, type_label=_type_label(search))
    if search.error:
        raise problems.bad_request(search.error, details={"parameter": search.parameter})
    return responses.json_response(_answer(search), alternate=request.full_path)


def _type_label(search: SearchRequest) -> str | None:
    return current_index().label(search.type_iri) if search.type_iri else None


def instances_url(class_iri: str | None) -> str:
    """The JSON search limited to a class, for the canned forms' autocomplete (``q`` is appended by the script)."""
    return "/search?" + (f"type={curie(class_iri)}&" if class_iri else "") + "limit=20&q="


@openapi_routes.declare
def openapi_paths() -> dict[str, Any]:
    """``GET /search`` in the OpenAPI document."""
    term = {"type": "object", "required": ["iri", "id", "label"], "properties": {
        "iri": {"type": "string"}, "id": {"type": "string", "description": "The prefixed name (or the IRI)."},
        "label": {"type": "string"}}}
    result = {"type": "object", "required": ["iri", "id", "label", "match", "matched", "types", "documents", "page"],
              "properties": {
                  "iri": {"type": "string"}, "id": {"type": "string"},
                  "label": {"type": "string", "description": "The resource's title (its English label first)."},
                  "match": {"type": "string", "enum": list(TIERS),
                            "description": "How the best name matched: the whole name, its beginning, each word "
                                           "of the query beginning a word of the name, or a part of it."},
                  "matched": {"type": "object", "required": ["text", "lang", "property"], "properties": {
                      "text": {"type": "string"}, "lang": {"type": ["string", "null"]},
                      "property": {"type": "string"}}},
                  "types": {"type": "array", "items": term},
                  "documents": {"type": "array", "items": term,
                                "description": "The source documents whose graphs state the resource."},
                  "page": {"type": ["string", "null"], "description": "Where its page is."}}}
    answer = {"type": "object", "required": ["query", "type", "limit", "total", "results"], "properties": {
        "query": {"type": "string"}, "type": {"type": ["string", "null"]}, "limit": {"type": "integer"},
        "total": {"type": "integer", "minimum": 0, "description": "How many resources matched in all."},
        "results": {"type": "array", "items": result}}}
    return {"/search": {"get": {
        "operationId": "search", "tags": ["service"],
        "summary": "Find resources and ontology terms by any of their names, in any language",
        "description": "Case, accents, hyphens and spaces do not matter (`Song Il-ho`, `song ilho` and `宋日昊` find "
                       "the same person). Ranked: the whole name, then its beginning, then every word of the query "
                       "beginning a word of the name, then a part of the name; English names first.",
        "parameters": [
            {"name": "q", "in": "query", "required": True, "example": "Song Il-ho",
             "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_LENGTH, "pattern": QUERY_PATTERN},
             "description": "A name, or the beginning or a part of one."},
            {"name": "type", "in": "query", "required": False, "example": "dj:Person",
             "schema": {"type": "string", "pattern": TYPE_PATTERN},
             "description": "Only instances of this class or of its subclasses (a prefixed name or an IRI)."},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}}],
        "responses": {"200": {"description": "The matches, best first: JSON for programs, an HTML page for browsers.",
                              "content": {"application/json": {"schema": answer},
                                          "text/html": {"schema": {"type": "string"}}}},
                      **openapi_routes.error_responses(400, 406, 503, html=True)}}}}
