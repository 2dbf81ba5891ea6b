"""Content negotiation: which format to answer in, given the client's Accept header.

Why tables of data and one function: the formats we produce are facts (a media type,
the store's key for it, a file extension), each backed by a W3C specification cited
above its group, and compatibility aliases are marked as such. :func:`negotiate` is
the single algorithm (q-values, ``type/*``, ``*/*``); the thin callers below name the
table and its default. Nothing matching is an honest 406 that lists what we can produce.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pyoxigraph as ox

from service import problems


@dataclass(frozen=True)
class Format:
    """One media type we can produce (or read).

    ``media_type`` is what a client may ask for; ``content_type`` is what we answer with
    (an alias answers with its standard type); ``key`` is the store's name for it;
    ``name`` is the short name of the non-standard ``download`` parameter.
    """

    media_type: str
    key: str
    name: str
    extension: str
    alias_of: str | None = None

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` of the response (with a charset for text types)."""
        media_type = self.alias_of or self.media_type
        return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type

    @property
    def standard(self) -> bool:
        """False for compatibility aliases."""
        return self.alias_of is None


#: SELECT and ASK results.
RESULT_FORMATS: tuple[Format, ...] = (
    # https://www.w3.org/TR/sparql11-results-json/
    #: The default: what SPARQL clients and federated queries expect.
    Format("application/sparql-results+json", "json", "json", "srj"),
    # https://www.w3.org/TR/rdf-sparql-XMLres/
    Format("application/sparql-results+xml", "xml", "xml", "srx"),
    # https://www.w3.org/TR/sparql11-results-csv-tsv/
    Format("text/csv", "csv", "csv", "csv"),
    Format("text/tab-separated-values", "tsv", "tsv", "tsv"),
    # for compatibility (clients that ask for plain JSON or XML)
    Format("application/json", "json", "json", "json", alias_of="application/sparql-results+json"),
    Format("application/xml", "xml", "xml", "xml", alias_of="application/sparql-results+xml"),
    Format("text/xml", "xml", "xml", "xml", alias_of="application/sparql-results+xml"),
)

#: CONSTRUCT and DESCRIBE results; also Graph Store GET. ``key`` is the store's RDF media type.
RDF_FORMATS: tuple[Format, ...] = (
    # https://www.w3.org/TR/turtle/
    #: The default: readable and compact.
    Format("text/turtle", "text/turtle", "turtle", "ttl"),
    # https://www.w3.org/TR/n-triples/
    Format("application/n-triples", "application/n-triples", "ntriples", "nt"),
    # https://www.w3.org/TR/json-ld11/
    Format("application/ld+json", "application/ld+json", "jsonld", "jsonld"),
    # https://www.w3.org/TR/rdf-syntax-grammar/
    Format("application/rdf+xml", "application/rdf+xml", "rdfxml", "rdf"),
    # https://www.w3.org/TR/n-quads/ and https://www.w3.org/TR/trig/ (the triples, in the default graph)
    Format("application/n-quads", "application/n-quads", "nquads", "nq"),
    Format("application/trig", "application/trig", "trig", "trig"),
    # for compatibility: plain JSON means JSON-LD and plain XML means RDF/XML for a graph (as rdflib-endpoint)
    Format("application/json", "application/ld+json", "jsonld", "jsonld", alias_of="application/ld+json"),
    Format("application/xml", "application/rdf+xml", "rdfxml", "rdf", alias_of="application/rdf+xml"),
    Format("text/xml", "application/rdf+xml", "rdfxml", "rdf", alias_of="application/rdf+xml"),
    # not standard, but common
    Format("application/x-turtle", "text/turtle", "turtle", "ttl", alias_of="text/turtle"),
    Format("text/plain", "application/n-triples", "ntriples", "nt", alias_of="application/n-triples"),
)

#: The service description (https://www.w3.org/TR/sparql11-service-description/), or the query page.
DESCRIPTION_FORMATS: tuple[Format, ...] = (
    *RDF_FORMATS[:4],
    # https://html.spec.whatwg.org/ — a browser gets the query page
    Format("text/html", "html", "html", "html"),
    Format("application/xhtml+xml", "html", "html", "html", alias_of="text/html"),
    *RDF_FORMATS[6:],  # the compatibility aliases (all of them name one of the four formats above)
)

#: Request bodies the Graph Store accepts (a graph, so no dataset formats): media type → parser format.
INPUT_FORMATS: dict[str, ox.RdfFormat] = {
    # https://www.w3.org/TR/turtle/
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,  # not standard
    # https://www.w3.org/TR/n-triples/
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    # https://www.w3.org/TR/rdf-syntax-grammar/
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    # https://www.w3.org/TR/json-ld11/
    "application/ld+json": ox.RdfFormat.JSON_LD,
    # https://w3c.github.io/N3/spec/ (its triples only)
    "text/n3": ox.RdfFormat.N3,
}


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header."""

    type: str  # e.g. "text/turtle", "text/*", "*/*"
    q: float
    position: int

    def specificity(self, media_type: str) -> int:
        """How closely this range matches ``media_type``: 2 exact, 1 ``type/*``, 0 ``*/*``, -1 no match."""
        if self.type == media_type:
            return 2
        if self.type.endswith("/*") and self.type != "*/*" and media_type.startswith(self.type[:-1]):
            return 1
        return 0 if self.type == "*/*" else -1


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header into media ranges with their q-values (400 on a malformed one)."""
    ranges = []
    for position, part in enumerate((header or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        if media.count("/") != 1:
            raise problems.bad_request(f"Invalid media range {media!r} in the Accept header.")
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
                if not 0.0 <= q <= 1.0:
                    raise problems.bad_request(f"Invalid q-value {value.strip()!r} in the Accept header "
                                             "(expected a number from 0 to 1).")
        ranges.append(MediaRange(media.lower(), q, position))
    return ranges


@functools.lru_cache(maxsize=256)
def negotiate(accept: str | None, table: tuple[Format, ...], default: Format) -> Format:
    """The format of ``table`` the client prefers; ``default`` for no Accept header or ``*/*``.

    Cached by Accept header (clients send the same few on every request); 400s and
    406s are raised, never cached.

    Each format gets the q-value of the most specific range that matches it (RFC 9110,
    section 12.5.1). The highest q wins; ties go to the range listed first, then to
    ``default``, then to the table's order (standard types before aliases). 406 when
    nothing matches, listing the standard media types of the table.
    """
    ranges = parse_accept(accept)
    if not ranges:
        return default
    best: tuple[tuple[float, int, int, int], Format] | None = None
    for index, fmt in enumerate(table):
        matches = [(r.specificity(fmt.media_type), r) for r in ranges]
        specificity, chosen = max(matches, key=lambda m: (m[0], -m[1].position))
        if specificity < 0 or chosen.q <= 0:
            continue
        rank = (-chosen.q, chosen.position, 0 if fmt == default else 1, index)
        if best is None or rank < best[0]:
            best = (rank, fmt)
    if best is None:
        raise problems.not_acceptable([f.media_type for f in table if f.standard])
    return best[1]


def by_name(value: str, table: tuple[Format, ...], parameter: str = "download") -> Format:
    """The format a non-standard query parameter names (a short name or a media type); 400 listing the choices."""
    wanted = value.strip().lower()
    for fmt in table:
        if wanted in (fmt.name, fmt.media_type):
            return fmt
    names = sorted({f.name for f in table})
    raise problems.bad_request(f"The '{parameter}' parameter {value!r} is not one of: {', '.join(names)} "
                             "(or leave it out and send an Accept header).")


def results_format(accept: str | None) -> Format:
    """For SELECT and ASK: SPARQL JSON unless the client asks otherwise."""
    return negotiate(accept, RESULT_FORMATS, RESULT_FORMATS[0])


def rdf_format(accept: str | None) -> Format:
    """For CONSTRUCT, DESCRIBE and Graph Store GET: Turtle unless the client asks otherwise."""
    return negotiate(accept, RDF_FORMATS, RDF_FORMATS[0])


def description_format(accept: str | None) -> Format:
    """For the service description: Turtle by default, the query page for browsers."""
    return negotiate(accept, DESCRIPTION_FORMATS, DESCRIPTION_FORMATS[0])
