"""``/browse``: the classes people browse, with their instance counts, and ``/browse/<Class>``: a class's instances
with facet counts, filters (links: several at once, each removable), sorting and paging — the way Datasette
browses a table. Each page has its machine twin: the same address answers JSON to programs (the one negotiation,
through :mod:`service.web.responses`), and ``/browse.json`` / ``/browse/<Class>.json`` name it in the URL.

What this module owns is HTTP only: parameters in, JSON or page out, the links (filters, sorting, pages), the
OpenAPI paths. Which instances, which counts and which SPARQL are :mod:`service.browse.facets`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, request, url_for
from flask.typing import ResponseReturnValue

from service import problems
from service.browse.facets import (
    FACETS,
    FEATURED,
    MAX_PAGE,
    MAX_SIZE,
    BrowseError,
    Browser,
    Catalog,
    ClassInfo,
    ClassPage,
    PageNotFound,
    parse_selection,
)
from service.rdf.vocabulary import curie
from service.web import access, display, errors, openapi_routes, responses
from service.web.context import get_store

bp = errors.machine_routes(Blueprint("browse", __name__))
bp.after_request(access.add_cors_headers)

#: ``app.extensions`` key: the app's :class:`~service.browse.facets.Browser`.
EXTENSION_KEY = "dprk_kg_browser"
#: How many values of a facet the page lists before the rest are folded away.
SHOWN_VALUES = 12


def init_app(app: Flask) -> None:
    """Give the app its browser (class catalogue and pages kept until the next write)."""
    app.extensions[EXTENSION_KEY] = Browser(lambda sparql: get_store().select(sparql).rows,
                                            lambda: get_store().generation)


def browser() -> Browser:
    """The app's browser."""
    return current_app.extensions[EXTENSION_KEY]


def _catalog() -> Catalog:
    with errors.store_errors("query"):
        return browser().catalog()


def _term(iri: str, names: dict[str, str]) -> dict[str, Any]:
    return {"iri": iri, "id": curie(iri), "label": names.get(iri) or curie(iri, brackets=True),
            "page": display.href(iri)}


def _class_entry(info: ClassInfo) -> dict[str, Any]:
    return {"iri": info.iri, "id": curie(info.iri), "label": info.label or info.name, "comment": info.comment,
            "count": info.count, "parents": [curie(p) for p in info.parents],
            "page": url_for("browse.class_page", name=info.name),
            "json": url_for("browse.class_page", name=info.name + ".json"), "ontology": display.href(info.iri)}


def _wants_json(fixed: bool) -> bool:
    return fixed or not responses.wants_page()


# -- the index ---------------------------------------------------------------------------------------------------


@bp.get("/browse")
@bp.get("/browse.json", endpoint="index_json")
def index() -> ResponseReturnValue:
    """Every class of the ontology that has instances: the featured ones first, then the whole hierarchy."""
    as_json = _wants_json(request.endpoint == "browse.index_json")
    catalog = _catalog()
    used = [c for c in catalog.classes.values() if c.count]
    featured = [catalog.classes[c] for c in FEATURED if c in catalog.classes and catalog.classes[c].count]
    if as_json:
        body = {"featured": [curie(c.iri) for c in featured],
                "classes": [_class_entry(c) for c in sorted(used, key=lambda c: (c.label or c.name).casefold())]}
        return responses.json_response(body, alternate=url_for("browse.index"))
    tree = [_tree(catalog, root) for root in catalog.roots()]
    return responses.page_response("browse/index.html", alternate=url_for("browse.index_json"), featured=featured,
                                   tree=[node for node in tree if node is not None], catalog=catalog)


def _tree(catalog: Catalog, info: ClassInfo) -> dict[str, Any] | None:
    """``info`` and its subclasses, leaving out branches without a single instance."""
    if not info.count:
        return None
    children = [node for child in catalog.children_of(info) if (node := _tree(catalog, child)) is not None]
    return {"info": info, "children": children}


# -- a class ------------------------------------------------------------------------------------------------------


@bp.get("/browse/<name>")
def class_page(name: str) -> ResponseReturnValue:
    """The instances of ``dj:<name>`` (its subclasses' included) with facets, filters, sorting and paging."""
    fixed = name.endswith(".json")
    stem = name[:-5] if fixed else name
    catalog = _catalog()
    info = catalog.by_name(stem)
    if info is None:
        raise problems.not_found(f"There is no class dj:{stem} in the ontology; /browse lists the classes.")
    as_json = _wants_json(fixed)
    args = {key: request.args.getlist(key) for key in request.args}
    try:
        selection = parse_selection(args, catalog, info)
        with errors.store_errors("query"):
            page = browser().page(info, selection)
    except PageNotFound as exc:
        raise problems.ApiError(404, exc.message, title="Not Found", details={"parameter": exc.parameter}) from exc
    except BrowseError as exc:
        raise problems.bad_request(exc.message, details={"parameter": exc.parameter}) from exc
    body = _answer(page, stem)
    if as_json:
        return responses.json_response(body, alternate=body["links"]["html"])
    return responses.page_response("browse/class.html", alternate=body["links"]["json"], answer=body, info=info,
                                   shown_values=SHOWN_VALUES, max_size=MAX_SIZE)


def _url(name: str, pairs: list[tuple[str, str]]) -> str:
    base = url_for("browse.class_page", name=name)
    return base + ("?" + urlencode(pairs) if pairs else "")


def _answer(page: ClassPage, name: str) -> dict[str, Any]:
    """The class page as JSON: the class, the counts, the facets with the link that adds or removes each value, the
    rows with labels, types, dates and documents, and the links to the other pages and forms."""
    selection = page.selection
    chosen = [(f.facet.key, f.param) for f in selection.filters]
    extra = ([("sort", selection.sort)] if selection.sort != "label" else []) + \
            ([("size", str(selection.size))] if selection.size != 50 else [])
    iris = [page.cls.iri]
    for facet in page.facets:
        iris += [v.value for v, _, _ in facet.values if facet.facet.kind != "year"]
    for row in page.rows:
        iris += [row.iri, *row.types, *row.documents]
    names = display.labels(iris)

    def with_page(number: int, *, fmt: str = "") -> str:
        return _url(name + fmt, chosen + extra + ([("page", str(number))] if number > 1 else []))

    facets = []
    for counts in page.facets:
        values = []
        for value, count, selected in counts.values:
            param = value.value if counts.facet.kind == "year" else curie(value.value)
            pair = (counts.facet.key, param)
            toggled = [p for p in chosen if p != pair] if selected else [*chosen, pair]
            entry: dict[str, Any] = {"value": param, "label": value.value if counts.facet.kind == "year"
                                     else names.get(value.value) or curie(value.value, brackets=True),
                                     "count": count, "selected": selected, "toggle": _url(name, toggled + extra)}
            if counts.facet.kind != "year":
                entry["iri"] = value.value
                entry["page"] = display.href(value.value)
            values.append(entry)
        facets.append({"key": counts.facet.key, "label": counts.facet.label,
                       "description": counts.facet.description, "values": values})
    filters = []
    for chosen_filter in selection.filters:
        pair = (chosen_filter.facet.key, chosen_filter.param)
        label = chosen_filter.value if chosen_filter.facet.kind == "year" else (
            names.get(chosen_filter.value) or curie(chosen_filter.value, brackets=True))
        filters.append({"facet": chosen_filter.facet.key, "value": chosen_filter.param, "label": label,
                        "remove": _url(name, [p for p in chosen if p != pair] + extra)})
    results = []
    for row in page.rows:
        entry = _term(row.iri, names)
        if row.name:
            entry["label"] = row.name
        entry["types"] = [_term(t, names) for t in row.types]
        entry["dates"] = [{"value": d.value, "datatype": curie(d.datatype.value),
                           "text": display.format_literal(d.value, d.datatype.value)} for d in row.dates]
        entry["documents"] = [_term(d, names) for d in row.documents]
        results.append(entry)
    sorts = [{"key": key, "selected": key == selection.sort,
              "url": _url(name, chosen + ([("sort", key)] if key != "label" else [])
                          + ([("size", str(selection.size))] if selection.size != 50 else []))}
             for key in page.sorts]
    number, pages = selection.page, page.pages
    return {
        "class": {"iri": page.cls.iri, "id": curie(page.cls.iri), "label": names.get(page.cls.iri) or page.cls.label
                  or page.cls.name, "comment": page.cls.comment, "ontology": display.href(page.cls.iri)},
        "total": page.total, "page": number, "pages": pages, "size": selection.size, "sort": selection.sort,
        "sorts": sorts, "filters": filters, "facets": facets, "results": results,
        "links": {"html": with_page(number), "json": with_page(number, fmt=".json"),
                  "first": with_page(1), "last": with_page(pages),
                  "prev": with_page(number - 1) if number > 1 else None,
                  "next": with_page(number + 1) if number < pages else None,
                  "clear": _url(name, extra) if chosen else None},
    }


# -- OpenAPI ------------------------------------------------------------------------------------------------------


@openapi_routes.declare
def openapi_paths() -> dict[str, Any]:
    """``/browse`` and ``/browse/{name}`` in the OpenAPI document."""
    term = {"type": "object", "required": ["iri", "id", "label"], "properties": {
        "iri": {"type": "string"}, "id": {"type": "string"}, "label": {"type": "string"},
        "page": {"type": ["string", "null"]}}}
    klass = {"type": "object", "required": ["iri", "id", "label", "count", "page", "json"], "properties": {
        "iri": {"type": "string"}, "id": {"type": "string"}, "label": {"type": "string"},
        "comment": {"type": "string"}, "count": {"type": "integer", "minimum": 0},
        "parents": {"type": "array", "items": {"type": "string"}}, "page": {"type": "string"},
        "json": {"type": "string"}, "ontology": {"type": ["string", "null"]}}}
    index = {"type": "object", "required": ["featured", "classes"], "properties": {
        "featured": {"type": "array", "items": {"type": "string"}}, "classes": {"type": "array", "items": klass}}}
    link = {"type": ["string", "null"]}
    value = {"type": "object", "required": ["value", "label", "count", "selected", "toggle"], "properties": {
        "value": {"type": "string"}, "label": {"type": "string"}, "count": {"type": "integer", "minimum": 0},
        "selected": {"type": "boolean"}, "toggle": {"type": "string", "description": "This page with the value "
                                                                                      "added as a filter (removed "
                                                                                      "when selected)."},
        "iri": {"type": "string"}, "page": link}}
    result = {"type": "object", "required": ["iri", "id", "label", "types", "dates", "documents"], "properties": {
        **term["properties"], "types": {"type": "array", "items": term},
        "dates": {"type": "array", "items": {"type": "object", "properties": {
            "value": {"type": "string"}, "datatype": {"type": "string"}, "text": {"type": "string"}}}},
        "documents": {"type": "array", "items": term}}}
    page = {"type": "object", "required": ["class", "total", "page", "pages", "size", "sort", "filters", "facets",
                                           "results", "links"], "properties": {
        "class": {"type": "object"}, "total": {"type": "integer", "minimum": 0}, "page": {"type": "integer"},
        "pages": {"type": "integer"}, "size": {"type": "integer"}, "sort": {"type": "string"},
        "sorts": {"type": "array", "items": {"type": "object"}},
        "filters": {"type": "array", "items": {"type": "object", "properties": {
            "facet": {"type": "string"}, "value": {"type": "string"}, "label": {"type": "string"},
            "remove": {"type": "string"}}}},
        "facets": {"type": "array", "items": {"type": "object", "required": ["key", "label", "values"],
                                              "properties": {"key": {"type": "string"}, "label": {"type": "string"},
                                                             "description": {"type": "string"},
                                                             "values": {"type": "array", "items": value}}}},
        "results": {"type": "array", "items": result},
        "links": {"type": "object", "properties": {k: link for k in ("html", "json", "first", "last", "prev",
                                                                     "next", "clear")}}}}
    facet_names = sorted(f.key for f in FACETS)
    parameters = [
        {"name": "name", "in": "path", "required": True, "example": "Event",
         "schema": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]*(\\.json)?$"},
         "description": "The local name of a class of the ontology (dj:Event → Event); `.json` at the end names "
                        "the JSON form."},
        {"name": "sort", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["label", "-label", "date", "-date"], "default": "label"},
         "description": "The order: by label or by date (classes whose instances are dated); `-` descending."},
        {"name": "page", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
         "description": "A page past the last is a 404."},
        {"name": "size", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE, "default": 50}},
    ]
    description = ("Each other parameter is a filter `facet=value` (repeat it for several; all hold): "
                   + ", ".join(facet_names) + " — those that make sense for the class (the answer's `facets`). "
                   "Values are prefixed names (`djr:japan`, `dj:Summit`) or IRIs; a year is four digits. "
                   "A facet the class does not have or a malformed value is a 400 naming the parameter; a page past "
                   "the last is a 404.")
    content = {"application/json": {"schema": page}, "text/html": {"schema": {"type": "string"}}}
    return {
        "/browse": {"get": {
            "operationId": "browse", "tags": ["service"],
            "summary": "The classes of the ontology with their numbers of instances",
            "responses": {"200": {"description": "JSON for programs, the page for browsers.",
                                  "content": {"application/json": {"schema": index},
                                              "text/html": {"schema": {"type": "string"}}}},
                          **openapi_routes.error_responses(400, 406, 503, html=True)}}},
        "/browse.json": {"get": {
            "operationId": "browseJson", "tags": ["service"], "summary": "The classes, as JSON whatever Accept says",
            "responses": {"200": {"description": "The classes.", "content": {"application/json": {"schema": index}}},
                          **openapi_routes.error_responses(503)}}},
        "/browse/{name}": {"get": {
            "operationId": "browseClass", "tags": ["service"],
            "summary": "A class's instances with facet counts, filters, sorting and paging",
            "description": description, "parameters": parameters,
            "responses": {"200": {"description": "JSON for programs (or with `.json`), the page for browsers.",
                                  "content": content},
                          **openapi_routes.error_responses(400, 404, 406, 503, html=True)}}},
    }
