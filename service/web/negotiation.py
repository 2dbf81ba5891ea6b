"""Content negotiation: which format to answer in, given the client's Accept header.

Why tables of data and one function: the formats we produce are facts (a media type,
the store's key for it, a file extension), kept in :mod:`service.rdf.formats` with the
W3C specification of each, and compatibility aliases are marked as such. :func:`negotiate` is
the single algorithm (q-values, ``type/*``, ``*/*``); the thin callers below name the
table and its default. Nothing matching is an honest 406 that lists what we can produce.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from service import problems
from service.rdf.formats import HTML_FORMATS, RDF_FORMATS, RESULT_FORMATS, Format, rdf_formats

#: The tables are facts about formats, kept in :mod:`service.rdf.formats` (the one table of formats);
#: the service description's own table adds the query page for browsers.
DESCRIPTION_FORMATS: tuple[Format, ...] = (
    *(f for f in rdf_formats("turtle", "ntriples", "jsonld", "rdfxml") if f.standard),
    *HTML_FORMATS,  # https://html.spec.whatwg.org/ — a browser gets the query page
    *(f for f in rdf_formats("turtle", "ntriples", "jsonld", "rdfxml") if not f.standard),
)


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
