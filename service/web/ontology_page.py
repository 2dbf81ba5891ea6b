"""The ontology's documentation page (``/ontology`` for browsers) and its picture (``/ontology/picture.svg``).

``/ontology`` itself — content negotiation, the RDF representations, ``Link`` headers — is
:mod:`service.web.resources`; it hands the HTML representation to :func:`render`. What the page holds (terms,
domains and ranges, usage, shapes, changes) is :mod:`service.browse.ontology_doc`; this module adds labels and
links and caches the page until the next write.

The picture is ``docs/ontology.svg`` of the data root (generated from the ontology by ``scripts/draw_ontology.py``),
served like the site's assets: at a URL carrying its content hash, cacheable for a year; at its plain URL,
revalidated. A data root without it gets a page without a picture.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, current_app, has_app_context, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from service.browse import ontology_doc
from service.canned.cache import GenerationCache
from service.rdf.vocabulary import ONTOLOGY_NS, curie, expand
from service.web import display, errors, openapi_routes
from service.web.context import get_store

bp = Blueprint("ontology_docs", __name__)

#: ``app.extensions`` key: the rendered page, kept for one store write generation.
EXTENSION_KEY = "dprk_kg_ontology_page"
#: Where the picture is, under the data root.
PICTURE = Path("docs") / "ontology.svg"
#: Long-lived caching for a URL carrying its content's hash (as the site's assets).
IMMUTABLE = "public, max-age=31536000, immutable"

_CODE = re.compile(r"`([^`\n]+)`")
_CURIE = re.compile(r"^[a-z][a-z0-9]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def init_app(app: Flask) -> None:
    """Give the app its page cache and the ``code_spans`` filter."""
    app.extensions[EXTENSION_KEY] = GenerationCache(1)
    app.add_template_filter(code_spans, "code_spans")


def code_spans(text: str) -> Markup:
    """A comment as the ontology writes it: ```dj:Event``` becomes code, linked where it names a term or resource."""
    out = Markup("")
    last = 0
    for match in _CODE.finditer(text or ""):
        out += escape(text[last:match.start()])
        inner = match.group(1)
        target = display.href(expand(inner)) if _CURIE.match(inner) and expand(inner) else None
        code = Markup("<code>{}</code>").format(inner)
        out += Markup('<a href="{}">{}</a>').format(target, code) if target else code
        last = match.end()
    return out + escape((text or "")[last:])


def _picture_path() -> Path | None:
    path = Path(current_app.config["DATA_ROOT"]) / PICTURE
    return path if path.is_file() else None


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def picture_url() -> str | None:
    """The fingerprinted URL of the picture, or None when the data root has none."""
    path = _picture_path()
    if path is None:
        return None
    return url_for("ontology_docs.picture_versioned", digest=_digest(path))


@bp.get("/ontology/picture.svg")
def picture() -> ResponseReturnValue:
    """The ontology's picture (revalidated on each use)."""
    path = _picture_path()
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/svg+xml", conditional=True)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/ontology/picture-<digest>.svg")
def picture_versioned(digest: str) -> ResponseReturnValue:
    """The picture at the URL naming its content hash (a stale hash is a 404, never other bytes)."""
    path = _picture_path()
    if path is None or _digest(path) != digest:
        abort(404)
    response = send_file(path, mimetype="image/svg+xml", conditional=True, max_age=31536000)
    response.headers["Cache-Control"] = IMMUTABLE
    return response


def documentation() -> ontology_doc.OntologyDoc:
    """The ontology's documentation as the store holds it now (two queries and the browse catalogue)."""
    from service.web import browse

    store = get_store()
    with errors.store_errors("query"):
        catalog = browse.browser().catalog()
        rows = store.select(ontology_doc.graphs_query()).rows
        usage = store.select(ontology_doc.usage_query()).rows
    return ontology_doc.build(rows, usage, {iri: c.count for iri, c in catalog.classes.items()})


def render(downloads: list[tuple[str, str, str]]) -> str:
    """The page (kept until the next write; the download links are the same for every request)."""
    cache: GenerationCache[str] = current_app.extensions[EXTENSION_KEY]
    generation = get_store().generation
    found = cache.get("page", generation)
    if found is None:
        found = _render(downloads)
        cache.put("page", generation, found)
    return found


def _render(downloads: list[tuple[str, str, str]]) -> str:
    doc = documentation()
    iris: list[str] = []
    for term in doc.terms:
        iris += [term.iri, *term.supers, *term.subs, *term.inverse, *term.domain_of, *term.range_of, *term.types]
        iris += [m for group in (term.domain, term.range, term.equivalent) for members in group for m in members]
        iris += [s.target for s in term.shapes if s.target]
    display.labels(iris)  # one batch: the filters below read them from the cache
    return render_template("ontology/page.html", doc=doc, downloads=downloads, picture=picture_url(),
                           namespace=ONTOLOGY_NS, browse_names=_browsable(doc), curie=curie,
                           headings=_HEADINGS)


_HEADINGS = {"class": "Classes", "object property": "Object properties", "datatype property": "Datatype properties",
             "annotation property": "Annotation properties", "property": "Other properties",
             "datatype": "Datatypes", "individual": "Individuals", "term": "Other terms"}


def _browsable(doc: ontology_doc.OntologyDoc) -> dict[str, str]:
    """For each class with instances, the URL of its browse page."""
    if "browse.class_page" not in current_app.view_functions:
        return {}
    return {t.iri: url_for("browse.class_page", name=t.name) for t in doc.terms if t.instances}



@openapi_routes.declare
def openapi_paths() -> dict[str, Any]:
    """The picture's two addresses in the OpenAPI document (the page itself is ``/ontology``'s HTML form)."""
    svg = {"image/svg+xml": {"schema": {"type": "string"}}}
    path = _picture_path() if has_app_context() else None
    digest = _digest(path) if path is not None else None
    return {
        "/ontology/picture.svg": {"get": {
            "operationId": "ontologyPicture", "tags": ["service"],
            "summary": "The ontology's picture (SVG), revalidated on each use",
            "responses": {"200": {"description": "The picture.", "content": svg},
                          **openapi_routes.error_responses(404)}}},
        "/ontology/picture-{digest}.svg": {"get": {
            "operationId": "ontologyPictureVersioned", "tags": ["service"],
            "summary": "The ontology's picture at the URL naming its content hash (cacheable for a year)",
            "parameters": [{"name": "digest", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9a-f]{12}$"},
                            **({"example": digest} if digest else {}),
                            "description": "The first 12 hex digits of the picture's SHA-256 (the page links it)."}],
            "responses": {"200": {"description": "The picture.", "content": svg},
                          **openapi_routes.error_responses(404)}}},
    }
