"""How a view answers, written once: JSON for programs or an HTML page for people (negotiated by
:func:`service.web.negotiation.negotiate`), the ``Link`` to the other form, and the headers that say a row cap cut
the results.

Why here: before, each view redid "JSON or HTML" inline with its own negotiation and headers, so the answers of
``/queries`` and ``/sparql`` differed in ``Vary``, ``Link`` and truncation headers. A view now says what it
answers; this module says how.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response, render_template, request

from service.problems import ApiError
from service.sparql.writers import TRUNCATION_LINK
from service.web import negotiation

#: A resource that is JSON for programs and an HTML page for people. JSON is the default (no Accept, ``*/*``).
PAGE_FORMATS: tuple[negotiation.Format, ...] = (
    negotiation.Format("application/json", "json", "json", "json"),
    # https://html.spec.whatwg.org/
    negotiation.Format("text/html", "html", "html", "html"),
    negotiation.Format("application/xhtml+xml", "html", "html", "html", alias_of="text/html"),
)


#: HTML as a format beside others (a page for people), never a default.
HTML_PAGE: tuple[negotiation.Format, ...] = PAGE_FORMATS[1:]


def wants_page() -> bool:
    """True when the request's Accept header prefers the HTML page to JSON (400 if malformed, 406 for neither)."""
    return negotiation.negotiate(request.headers.get("Accept"), PAGE_FORMATS, PAGE_FORMATS[0]).key == "html"


def add_alternate(response: Response, url: str | None, media_type: str) -> Response:
    """Link the other form of the same resource (``rel="alternate"``), e.g. a page's JSON twin."""
    if url is not None:
        response.headers.add("Link", f'<{url}>; rel="alternate"; type="{media_type}"')
    return response


def json_response(body: Any, *, status: int = 200, alternate: str | None = None) -> Response:
    """``body`` as JSON (UTF-8 as is, indented one space); ``alternate`` is the URL of its HTML page."""
    response = Response(json.dumps(body, ensure_ascii=False, indent=1), status=status, mimetype="application/json")
    response.vary.add("Accept")
    return add_alternate(response, alternate, "text/html")


def page_response(template: str, *, status: int = 200, alternate: str | None = None,
                  alternate_type: str = "application/json", **context: Any) -> Response:
    """The HTML page ``template`` rendered with ``context``; ``alternate`` is the URL of its machine twin."""
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.vary.add("Accept")
    return add_alternate(response, alternate, alternate_type)


def graph_page(triples: Iterable[Any], *, title: str, downloads: Iterable[tuple[str, str, str]] = (),
               intro: str | None = None, truncated: bool = False, status: int = 200,
               template: str = "graph.html", **context: Any) -> Response:
    """A graph as a readable HTML page: triples grouped by subject, labels first, a download link per RDF format
    (``downloads``: label, URL, media type; the first is the page's ``rel="alternate"``).

    The one way an RDF answer is shown to a browser — VoID, the service description, DESCRIBE and CONSTRUCT at
    ``/sparql``, CONSTRUCT canned queries; entity pages pass their own ``template`` extending ``graph.html``.
    """
    from service.web import display

    triples = list(triples)
    downloads = list(downloads)
    response = page_response(template, status=status, title=title, intro=intro, downloads=downloads,
                             graph=display.graph_subjects(triples), triple_count=len(triples), truncated=truncated,
                             **context)
    for _, url, media_type in downloads:
        add_alternate(response, url, media_type)
    return add_truncation_headers(response, truncated)


def prefers_html(accept: str | None, table: tuple[negotiation.Format, ...]) -> bool:
    """True when a browser ranks HTML above every format of ``table`` (which stays the answer for everyone else:
    no Accept, ``*/*``, or an RDF or SPARQL client's header). A malformed header is left to the route to refuse."""
    if not accept or "html" not in accept:
        return False
    try:
        chosen = negotiation.negotiate(accept, (*table, *HTML_PAGE), table[0])
    except ApiError:
        return False
    return chosen.key == "html"


def truncation_headers(truncated: bool) -> list[tuple[str, str]]:
    """The response headers that say a row cap cut the results (none when it did not)."""
    if not truncated:
        return []
    return [("X-Result-Truncated", "true"), ("Link", f'<{TRUNCATION_LINK}>; rel="truncated"')]


def add_truncation_headers(response: Response, truncated: bool) -> Response:
    """Add :func:`truncation_headers` (``Link`` beside any other ``Link`` the answer has)."""
    for name, value in truncation_headers(truncated):
        response.headers.add(name, value)
    return response
