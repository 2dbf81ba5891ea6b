"""Every IRI of our namespace resolves: ``/id/<slug>`` for resources and documents, ``/ontology`` for the terms.

Why content negotiation at one URL ("Cool URIs for the Semantic Web", https://www.w3.org/TR/cooluris/): the public
IRI ``https://w3id.org/dprk-japan-kg/id/<slug>`` names the thing (a person, a talk); w3id.org answers it with a
``303 See Other`` to ``/id/<slug>`` on a deployment (``deploy/w3id/.htaccess``), the document that describes it.
That document is one resource with several representations, chosen by the ``Accept`` header with the one
negotiation (:func:`service.web.negotiation.negotiate`) over the one format table
(:mod:`service.rdf.formats`): the page for browsers, Turtle, N-Triples, JSON-LD or RDF/XML (the triples, merged)
for RDF clients, TriG or N-Quads with the document graphs kept, so that who states each triple travels with the
data. Each representation also has its own URL (``/id/<slug>.ttl`` …; ``Content-Location`` names it, ``Link:
rel="alternate"`` lists them all), for links, downloads and clients that cannot set headers.

What the RDF holds is :func:`service.store.describe.description` (its concise bounded description, evidence
annotations and the labels of what it links to; the module says why). An IRI the store does not know is a 404 —
a page with the search form for a browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service import problems
from service.rdf.formats import HTML_FORMATS, RDF_FORMATS, Format, syntax
from service.rdf.vocabulary import (
    DERIVED_GRAPHS,
    GRAPH_NS,
    ONTOLOGY_GRAPH,
    ONTOLOGY_NS,
    PREFIXES,
    RESOURCE_NS,
    SHAPES_GRAPH,
    SHAPES_NS,
    curie,
)
from service.store import describe
from service.web import access, negotiation, ontology_page, openapi_routes, resource_pages, void
from service.web.context import get_store

bp = Blueprint("resources", __name__)
bp.after_request(access.add_cors_headers)  # the one CORS policy: reads are readable cross-origin

#: What ``/id/<slug>`` and ``/ontology`` answer in: the standard RDF syntaxes, the page, then the aliases.
#: Turtle is the default (no Accept, ``*/*``): a browser always asks for HTML by name.
RESOURCE_FORMATS: tuple[Format, ...] = (
    *(f for f in RDF_FORMATS if f.standard),
    *HTML_FORMATS,
    *(f for f in RDF_FORMATS if not f.standard),
)

#: The standard formats, each with its own URL (``/id/<slug>.<extension>``), page included.
STANDARD_FORMATS: tuple[Format, ...] = tuple(f for f in RESOURCE_FORMATS if f.standard)
BY_EXTENSION: dict[str, Format] = {f.extension: f for f in STANDARD_FORMATS}

#: A slug as our data writes them (letters, digits, hyphens, dots and underscores; no path segments).
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")

def init_app(app: Any) -> None:
    """Give the app its page caches and its external-facts client."""
    resource_pages.init_app(app)


# -- representations ----------------------------------------------------------------------------------------------


def serialize(quads: list[ox.Quad], fmt: Format) -> bytes:
    """``quads`` in ``fmt``: the dataset syntaxes keep the graphs; the others get the triples, each once."""
    chosen = syntax(fmt.name)
    if chosen.datasets:
        return ox.serialize(quads, format=chosen.rdf_format, prefixes=PREFIXES) or b""
    triples = list(dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads))
    prefixes = PREFIXES if chosen.rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
    return ox.serialize(triples, format=chosen.rdf_format, prefixes=prefixes) or b""


def alternates(response: Response, base: str, negotiated: bool) -> Response:
    """``Link: <base.ext>; rel="alternate"; type=…`` for every format, ``Vary: Accept`` and, when negotiated,
    ``Content-Location`` naming the representation sent."""
    for fmt in STANDARD_FORMATS:
        response.headers.add("Link", f'<{base}.{fmt.extension}>; rel="alternate"; type="{fmt.media_type}"')
    if negotiated:
        response.vary.add("Accept")
    return response


def _split(name: str) -> tuple[str, Format | None]:
    """``japan.ttl`` → (``japan``, Turtle); anything else → (name, None)."""
    stem, dot, extension = name.rpartition(".")
    if dot and stem and extension in BY_EXTENSION:
        return stem, BY_EXTENSION[extension]
    return name, None


def chosen_format(fixed: Format | None) -> tuple[Format, bool]:
    """The format of this request, and whether it was negotiated (not named by the URL)."""
    if fixed is not None:
        return fixed, False
    return negotiation.negotiate(request.headers.get("Accept"), RESOURCE_FORMATS, RESOURCE_FORMATS[0]), True


def rdf_response(quads: list[ox.Quad], fmt: Format, base: str, negotiated: bool) -> Response:
    """The RDF answer, with its alternates."""
    response = Response(serialize(quads, fmt), content_type=fmt.content_type)
    if negotiated:
        response.headers["Content-Location"] = f"{base}.{fmt.extension}"
    return alternates(response, base, negotiated)


def wants_html() -> bool:
    """Whether the client prefers a page (for error answers: a malformed Accept gets the text answer)."""
    try:
        return chosen_format(None)[0].key == "html"
    except problems.ApiError:
        return False


def not_found(iri: str) -> ResponseReturnValue:
    """404: a page offering the search for a browser, the usual error body for anyone else."""
    message = f"There is no resource <{iri}> in this dataset."
    if not wants_html():
        raise problems.not_found(message)
    slug = iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    guess = re.sub(r"[-_]+", " ", slug).strip()
    html = render_template("resources/missing.html", iri=iri, message=message, guess=guess)
    response = Response(html, status=404, mimetype="text/html")
    response.vary.add("Accept")
    return response


# -- routes ------------------------------------------------------------------------------------------------------


@bp.get("/id/<path:name>")
def resource(name: str) -> ResponseReturnValue:
    """A resource of ``https://w3id.org/dprk-japan-kg/id/``: its page or its description in RDF."""
    store = get_store()
    slug, fixed = _split(name)
    if fixed is not None and not _known(RESOURCE_NS + slug) and _known(RESOURCE_NS + name):
        slug, fixed = name, None  # a slug that happens to end in an extension
    iri = RESOURCE_NS + slug
    if iri in void.VOID_IRIS:  # the dataset, its linksets and targets: the VoID description says what they are
        return redirect(url_for("void.void_description"), code=303)
    if not _SLUG.fullmatch(slug) or not _known(iri):
        return not_found(iri)
    fmt, negotiated = chosen_format(fixed)
    base = url_for("resources.resource", name=slug)
    if fmt.key == "html":
        response = Response(resource_pages.render(iri, download_links(base)), mimetype="text/html")
        if negotiated:
            response.headers["Content-Location"] = f"{base}.html"
        return alternates(response, base, negotiated)
    quads = resource_pages.cached("rdf", iri, lambda: describe.description(store, iri))
    return rdf_response(quads, fmt, base, negotiated)


@bp.get("/lookup")
def lookup() -> ResponseReturnValue:
    """VoID's URI look-up endpoint (``void:uriLookupEndpoint``): ``/lookup?uri=<IRI>`` sends the client on to the
    IRI's description here (303 See Other), so a crawler holding only the public IRI needs no redirect service."""
    values = request.args.getlist("uri")
    if len(values) != 1 or not values[0].strip():
        raise problems.bad_request("Give the IRI to look up once, as ?uri=<IRI> (e.g. ?uri=" + RESOURCE_NS + "japan).")
    iri = values[0].strip()
    if iri in void.VOID_IRIS or (iri.startswith(RESOURCE_NS) and _known(iri)):
        return redirect(url_for("resources.resource", name=iri[len(RESOURCE_NS):]), code=303)
    if iri.startswith(GRAPH_NS):
        return redirect(url_for("resources.graph", name=iri[len(GRAPH_NS):]), code=303)
    for name, (namespace, _, _) in VOCABULARIES.items():
        if iri.split("#", 1)[0] == namespace.rstrip("#"):
            fragment = iri.partition("#")[2]
            return redirect(url_for(f"resources.{name}") + (f"#{fragment}" if fragment else ""), code=303)
    return not_found(iri)


def _known(iri: str) -> bool:
    return bool(_SLUG.fullmatch(iri[len(RESOURCE_NS):])) and resource_pages.cached(
        "known", iri, lambda: describe.is_known(get_store(), iri))


@bp.get("/graph/<path:name>")
def graph(name: str) -> ResponseReturnValue:
    """A named graph of ``https://w3id.org/dprk-japan-kg/graph/`` (the links, the ontology, the shapes, the
    provenance records, an ingested batch): a page saying what it is, or its triples in RDF."""
    stem, fixed = _split(name)
    iri = GRAPH_NS + stem
    store = get_store()
    if iri in DERIVED_GRAPHS or not _GRAPH_NAME.fullmatch(stem) or not resource_pages.cached(
            "graph-exists", iri, lambda: store.graph_exists(ox.NamedNode(iri))):
        return not_found(iri)
    fmt, negotiated = chosen_format(fixed)
    base = url_for("resources.graph", name=stem)
    quads = resource_pages.cached("graph", iri, lambda: describe.graph_quads(store, iri))
    own = [q for q in quads if q.graph_name.value == iri]
    if fmt.key == "html":
        html = render_template("resources/graph.html", iri=iri, curie=curie(iri), triples=len(own),
                               subjects=len({q.subject for q in own}), downloads=download_links(base),
                               dump=url_for("void.dump", graph=iri))
        response = Response(html, mimetype="text/html")
        if negotiated:
            response.headers["Content-Location"] = f"{base}.html"
        return alternates(response, base, negotiated)
    return rdf_response(own, fmt, base, negotiated)


_GRAPH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*(?:/[A-Za-z0-9][A-Za-z0-9._~-]*)*")


#: The vocabulary documents of the namespace: path → (namespace of its terms, graph holding it, title).
VOCABULARIES: dict[str, tuple[str, str, str]] = {
    "ontology": (ONTOLOGY_NS, ONTOLOGY_GRAPH, "Ontology"),
    "shapes": (SHAPES_NS, SHAPES_GRAPH, "SHACL shapes"),
}


@bp.get("/ontology", defaults={"vocabulary": "ontology"}, endpoint="ontology")
@bp.get("/ontology.<extension>", defaults={"vocabulary": "ontology"}, endpoint="ontology")
@bp.get("/shapes", defaults={"vocabulary": "shapes"}, endpoint="shapes")
@bp.get("/shapes.<extension>", defaults={"vocabulary": "shapes"}, endpoint="shapes")
def vocabulary(vocabulary: str, extension: str | None = None) -> ResponseReturnValue:
    """The ontology (``…/ontology#Term``) or the SHACL shapes (``…/shapes#Shape``): a page listing every term at
    its anchor, or the graph in RDF."""
    namespace, graph, title = VOCABULARIES[vocabulary]
    fixed = None
    if extension is not None:
        fixed = BY_EXTENSION.get(extension)
        if fixed is None:
            return not_found(namespace.rstrip("#") + "." + extension)
    fmt, negotiated = chosen_format(fixed)
    base = url_for(f"resources.{vocabulary}")
    every = resource_pages.cached("graph", graph, lambda: describe.graph_quads(get_store(), graph))
    quads = [q for q in every if q.graph_name.value == graph]  # the graph itself, not the labels around it
    if fmt.key == "html":
        if vocabulary == "ontology":  # the documentation page: its own module and template
            html = ontology_page.render(download_links(base))
        else:
            html = render_template("resources/ontology.html", terms=_terms(quads, namespace), title=title,
                                   namespace=namespace, prefix=curie(namespace + "x").split(":")[0],
                                   downloads=download_links(base))
        response = Response(html, mimetype="text/html")
        if negotiated:
            response.headers["Content-Location"] = f"{base}.html"
        return alternates(response, base, negotiated)
    return rdf_response(quads, fmt, base, negotiated)


_OWL, _RDFS, _SH = "http://www.w3.org/2002/07/owl#", "http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/ns/shacl#"
_KINDS = {_OWL + "Class": "class", _OWL + "ObjectProperty": "property", _OWL + "DatatypeProperty": "property",
          _OWL + "AnnotationProperty": "property", "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property": "property",
          _RDFS + "Datatype": "datatype", _OWL + "NamedIndividual": "individual",
          _SH + "NodeShape": "node shape", _SH + "PropertyShape": "property shape"}
_NAMES = (_RDFS + "label", _SH + "name")
_COMMENTS = (_RDFS + "comment", _SH + "message", _SH + "description")
_ORDER = {"class": 0, "property": 1, "datatype": 2, "individual": 3, "node shape": 4, "property shape": 5}


def _terms(quads: Iterable[ox.Quad], namespace: str) -> list[dict[str, Any]]:
    """The terms of ``namespace`` among ``quads``: name, kind, label and comment (English), in kind order."""
    by_term: dict[str, dict[str, Any]] = {}
    for quad in quads:
        subject = quad.subject
        if not isinstance(subject, ox.NamedNode) or not subject.value.startswith(namespace):
            continue
        entry = by_term.setdefault(subject.value, {"iri": subject.value, "name": subject.value[len(namespace):],
                                                   "kinds": set(), "label": "", "comment": ""})
        predicate, value = quad.predicate.value, quad.object
        english = isinstance(value, ox.Literal) and value.language in (None, "", "en")
        if predicate == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" and value.value in _KINDS:
            entry["kinds"].add(_KINDS[value.value])
        elif predicate in _NAMES and english and not entry["label"]:
            entry["label"] = value.value
        elif predicate in _COMMENTS and english and not entry["comment"]:
            entry["comment"] = value.value
    terms_ = [dict(t, kind=min(t["kinds"], key=_ORDER.get, default="term")) for t in by_term.values()]
    return sorted(terms_, key=lambda t: (_ORDER.get(t["kind"], 9), t["name"].lower()))


def download_links(base: str) -> list[tuple[str, str, str]]:
    """(label, URL, media type) of every RDF representation of the resource at ``base``."""
    names = {"turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD", "rdfxml": "RDF/XML",
             "trig": "TriG (with document graphs)", "nquads": "N-Quads (with document graphs)"}
    return [(names.get(f.name, f.name), f"{base}.{f.extension}", f.media_type)
            for f in STANDARD_FORMATS if f.key != "html"]


@openapi_routes.declare
def _openapi() -> dict[str, Any]:
    """This module's routes in the OpenAPI document."""
    media = list(dict.fromkeys(f.alias_of or f.media_type for f in RESOURCE_FORMATS))
    content = {m: {"schema": {"type": ["object", "array"]} if m == "application/ld+json" else {"type": "string"}}
               for m in media}
    extension = {"name": "extension", "in": "path", "required": True,
                 "schema": {"type": "string", "enum": sorted(BY_EXTENSION)},
                 "description": "A format named by its file extension (overrides Accept)."}
    return {
        "/id/{name}": {"get": {
            "operationId": "resource", "tags": ["service"],
            "summary": "A resource of https://w3id.org/dprk-japan-kg/id/: its page, or its description in RDF",
            "description": "Content negotiation (Accept): the HTML page, Turtle (default), N-Triples, JSON-LD, "
                           "RDF/XML, or TriG and N-Quads with the document graphs kept. `<name>.<extension>` "
                           "(ttl, nt, jsonld, rdf, trig, nq, html) names a format in the URL. `Link: "
                           "rel=\"alternate\"` lists every format.",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                            "example": "song-il-ho", "description": "The slug (the IRI after /id/)."}],
            "responses": {"200": {"description": "The description.", "content": content},
                          **openapi_routes.error_responses(400, 404, 406, 503)}}},
        "/ontology": {"get": {
            "operationId": "ontology", "tags": ["service"],
            "summary": "The ontology (https://w3id.org/dprk-japan-kg/ontology#): its page or its graph in RDF",
            "responses": {"200": {"description": "The ontology.", "content": content},
                          **openapi_routes.error_responses(400, 406, 503)}}},
        "/ontology.{extension}": {"get": {
            "operationId": "ontologyAs", "tags": ["service"], "summary": "The ontology in the format named",
            "parameters": [extension],
            "responses": {"200": {"description": "The ontology.", "content": content},
                          **openapi_routes.error_responses(404, 503)}}},
        "/shapes": {"get": {
            "operationId": "shapes", "tags": ["service"],
            "summary": "The SHACL shapes (https://w3id.org/dprk-japan-kg/shapes#): their page or their graph in RDF",
            "responses": {"200": {"description": "The shapes.", "content": content},
                          **openapi_routes.error_responses(400, 406, 503)}}},
        "/shapes.{extension}": {"get": {
            "operationId": "shapesAs", "tags": ["service"], "summary": "The SHACL shapes in the format named",
            "parameters": [extension],
            "responses": {"200": {"description": "The shapes.", "content": content},
                          **openapi_routes.error_responses(404, 503)}}},
        "/graph/{name}": {"get": {
            "operationId": "namedGraph", "tags": ["service"],
            "summary": "A named graph of https://w3id.org/dprk-japan-kg/graph/: its page or its triples in RDF",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                            "example": "links", "description": "The graph's name (the IRI after /graph/)."}],
            "responses": {"200": {"description": "The graph.", "content": content},
                          **openapi_routes.error_responses(400, 404, 406, 503)}}},
        "/lookup": {"get": {
            "operationId": "lookup", "tags": ["service"],
            "summary": "VoID URI look-up: 303 to the description of an IRI of the dataset",
            "parameters": [{"name": "uri", "in": "query", "required": True, "schema": {"type": "string"},
                            "example": RESOURCE_NS + "japan"}],
            "responses": {"303": {"description": "See Other: the IRI's description here."},
                          **openapi_routes.error_responses(400, 404, 503)}}},
    }
