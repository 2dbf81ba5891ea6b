"""The SPARQL 1.1 Protocol, request side: from an HTTP request to a checked :class:`SparqlRequest`.

Why one module: every way the protocol allows to send an operation (GET, POST form, POST direct) must end in the
same typed request, and every way to get it wrong in the same precise 400/405/413/415 naming the parameter.

Specification: https://www.w3.org/TR/sparql11-protocol/ (sections 2.1 query, 2.2 update).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field

import pyoxigraph as ox
from flask import Request, current_app

from service import problems
from service.sparql.lexer import short_text_cache

QUERY_TYPE = "application/sparql-query"


UPDATE_TYPE = "application/sparql-update"


FORM_TYPE = "application/x-www-form-urlencoded"


#: Parameters of https://www.w3.org/TR/sparql11-protocol/. Others are ignored (SPARQLWrapper, for one, sends
#: ``format``/``output``/``results``: the Accept header decides), except our non-standard ``download``.
QUERY_PARAMETERS = ("query", "default-graph-uri", "named-graph-uri")


UPDATE_PARAMETERS = ("update", "using-graph-uri", "using-named-graph-uri")


_COUNTERPART = {"default-graph-uri": "using-graph-uri", "named-graph-uri": "using-named-graph-uri",
                "using-graph-uri": "default-graph-uri", "using-named-graph-uri": "named-graph-uri"}


@dataclass
class SparqlRequest:
    """A checked protocol request: one query or one update, with its dataset parameters.

    ``download`` is the non-standard ``download`` parameter: a format name (see
    :func:`service.web.negotiation.by_name`) that overrides Accept and makes the response an
    attachment — the query page's download links use it.
    """

    operation: str  # "query" | "update"
    text: str
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    download: str | None = None

    @property
    def has_dataset(self) -> bool:
        """True if the protocol's dataset parameters were given (they replace the default dataset)."""
        return bool(self.default_graphs or self.named_graphs)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise problems.bad_request(f"The {what} is not valid UTF-8 (byte {exc.start}).") from exc


@short_text_cache
def parse_pairs(data: bytes, what: str) -> list[tuple[str, str]]:
    """Parse ``application/x-www-form-urlencoded`` strictly: bytes that are not UTF-8 are a 400.

    Cached (clients repeat their queries, and a query string takes longer to decode than a
    small query takes to run). Callers must not change the list.
    """
    text = _decode(data, what)
    try:
        return urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise problems.bad_request(f"The {what} has a percent-encoded value that is not valid UTF-8.") from exc


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    return (request.mimetype or "").lower(), {k.lower(): v for k, v in request.mimetype_params.items()}


def read_body(request: Request) -> bytes:
    """The request body, refused with 413 (naming MAX_BODY_BYTES) when larger than the limit.

    The body was already read once, to ``limit + 1`` bytes whatever its framing, by the one
    reader in front of the app (:mod:`service.web.bodies`); this is a cheap second check.
    """
    limit = int(current_app.config["MAX_BODY_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        raise problems.payload_too_large(limit, request.content_length)
    return request.get_data(cache=True)


def _body_text(request: Request, media_type: str, params: dict[str, str]) -> str:
    """The body of a direct POST as text: the protocol carries queries and updates in UTF-8 only."""
    charset = params.get("charset", "utf-8").strip().lower()
    if charset not in ("utf-8", "utf8", "us-ascii", "ascii"):
        raise problems.unsupported_media_type(
            f"{media_type}; charset={charset}", [f"{QUERY_TYPE}; charset=utf-8", f"{UPDATE_TYPE}; charset=utf-8"])
    return _decode(read_body(request), "request body")


def _single(values: dict[str, list[str]], name: str) -> str | None:
    found = values.get(name, [])
    if len(found) > 1:
        raise problems.bad_request(f"The '{name}' parameter was given {len(found)} times; give it exactly once.")
    return found[0] if found else None


def _graph_iris(values: dict[str, list[str]], name: str) -> list[str]:
    iris = []
    for value in values.get(name, []):
        try:
            ox.NamedNode(value)
        except ValueError as exc:
            raise problems.bad_request(f"The '{name}' parameter {value!r} is not an absolute IRI: {exc}") from exc
        if value.lower().startswith("file:"):
            raise problems.bad_request(f"The '{name}' parameter <{value}> is a file: IRI; graphs are named by IRIs "
                                       "of graphs in the store, and files are never read.")
        iris.append(value)
    return iris


_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def expand_codepoint_escapes(text: str, name: str) -> str:
    """Replace ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes everywhere, once, before anything parses the text.

    Why: SPARQL 1.1 §19.2 processes these escapes before parsing, and rdflib (which
    computes the delta that write validation checks) does, while pyoxigraph expands them
    only inside strings and IRIs. Two parsers reading one text differently would let an
    update hide operations from validation; expanding here gives every parser — our
    lexer, the SERVICE guard, rdflib and pyoxigraph — the same text.
    """
    if "\\u" not in text and "\\U" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise problems.bad_request(f"The '{name}' parameter has an invalid codepoint escape {match.group(0)!r}.")
        return chr(code)

    return _CODEPOINT_ESCAPE.sub(replace, text)


def parse_request(request: Request) -> SparqlRequest | None:
    """Read one SPARQL protocol request; ``None`` for a GET that carries no operation.

    Raises :class:`~service.problems.ApiError`: 400 for missing, repeated or conflicting
    parameters and for bodies that are not UTF-8; 405 for an update sent with GET; 413
    above MAX_BODY_BYTES; 415 for other content types.
    """
    values: dict[str, list[str]] = {}

    def add(pairs: list[tuple[str, str]]) -> None:
        for key, value in pairs:
            values.setdefault(key, []).append(value)

    add(parse_pairs(request.query_string, "query string"))
    if request.method == "POST":
        media_type, params = _media_type(request)
        if media_type == FORM_TYPE:
            add(parse_pairs(read_body(request), "form body"))
        elif media_type in (QUERY_TYPE, UPDATE_TYPE):
            name = "query" if media_type == QUERY_TYPE else "update"
            if "query" in values or "update" in values:
                raise problems.bad_request(f"A POST with Content-Type {media_type} carries the {name} in its body; "
                                           "the URL may not also have a 'query' or 'update' parameter.")
            text = _body_text(request, media_type, params)
            if name == "query" and not text.strip():
                raise problems.bad_request("The request body is empty: it should be the SPARQL query.")
            values[name] = [text]
        else:
            raise problems.unsupported_media_type(request.content_type, [QUERY_TYPE, UPDATE_TYPE, FORM_TYPE])

    query, update = _single(values, "query"), _single(values, "update")
    if query is not None and update is not None:
        raise problems.bad_request("Both 'query' and 'update' were given; a request carries one or the other.")
    download = _single(values, "download")
    if update is not None:
        if request.method == "GET":
            raise problems.method_not_allowed(
                "SPARQL updates must be sent with POST: the 'update' parameter is not allowed in a GET request.",
                ["POST"])
        for name in QUERY_PARAMETERS[1:]:
            if name in values:
                raise problems.bad_request(f"The '{name}' parameter belongs to queries; for updates use "
                                           f"'{_COUNTERPART[name]}'.")
        update = expand_codepoint_escapes(update, "update")
        return SparqlRequest("update", update, _graph_iris(values, "using-graph-uri"),
                             _graph_iris(values, "using-named-graph-uri"))
    for name in UPDATE_PARAMETERS[1:]:
        if name in values:
            raise problems.bad_request(f"The '{name}' parameter belongs to updates; for queries use "
                                       f"'{_COUNTERPART[name]}'.")
    if query is None:
        if request.method == "GET" and not any(name in values for name in (*QUERY_PARAMETERS, "download")):
            return None  # a description (a 'download' asks for a query's answer: without one it is a 400)
        raise problems.bad_request("The 'query' parameter is missing (or 'update', sent with POST).")
    if not query.strip():
        raise problems.bad_request("The 'query' parameter is empty.")
    query = expand_codepoint_escapes(query, "query")
    return SparqlRequest("query", query, _graph_iris(values, "default-graph-uri"),
                         _graph_iris(values, "named-graph-uri"), download)


def graph_terms(iris: list[str]) -> list[ox.NamedNode]:
    """IRIs (already checked) as pyoxigraph terms, for the store's dataset arguments."""
    return [ox.NamedNode(iri) for iri in iris]
