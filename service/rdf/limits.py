"""Bounds checked on untrusted RDF, JSON and XML text before any parser sees it, so parsing stays linear in the
input.

Why a pre-check and not just the parsers: pyoxigraph's RDF/XML parser expands DTD entities
(~1 KB of nested ``<!ENTITY>`` declarations becomes gigabytes: "billion laughs"); its parsers
of Turtle, TriG, N-Triples, N-Quads and of SPARQL results recurse on nested triple terms
``<<( … )>>`` and overflow the native stack (a crash of the whole process, not an exception)
somewhere above ten thousand levels; its RDF/XML parser takes time quadratic in element
depth; and ``json.loads`` raises ``RecursionError`` on deep JSON. The checks here are
linear scans that never recurse: a document that nests deeper than the limit, or that
declares entities, is refused with :class:`LimitExceeded` before it is parsed.

The limits are constants (documented in the README): real data nests a handful of levels,
far from them.
"""

from __future__ import annotations

import re
from pyexpat import ErrorString, ExpatError, ParserCreate

import pyoxigraph as ox

#: Deepest nesting of ``[ … ]``, ``( … )``, ``<< … >>``, ``{ … }`` and ``{| … |}`` (together) in
#: Turtle, TriG, N-Triples, N-Quads and N3, and in SPARQL TSV results (``<<(`` counts two).
MAX_TURTLE_DEPTH = 256
#: Deepest nesting of JSON arrays and objects (together) in JSON-LD and SPARQL JSON results.
MAX_JSON_DEPTH = 256
#: Deepest nesting of XML elements in RDF/XML and SPARQL XML results (an RDF/XML node inside a
#: property element is two levels).
MAX_XML_DEPTH = 256


class LimitExceeded(ValueError):
    """A document that nests too deeply or declares DTD entities; the message says which limit, where.

    The message starts with a verb phrase so callers can prefix the source ("The request body …").
    """


class XmlUnreadable(ValueError):
    """XML that is not well formed (refused before the RDF/XML parser, which must only see checked XML)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _too_deep(what: str, limit: int, constant: str, where: str) -> LimitExceeded:
    return LimitExceeded(f"nests {what} more than {limit} levels deep (at {where}); the limit is "
                         f"{limit} (constant service.rdf.limits.{constant}), which keeps parsing within "
                         "bounded stack and memory")


# Turtle family: strings, IRIs and comments are skipped whole (brackets inside them do not count).
# Every repetition is possessive, so no pattern backtracks.
_IRI = rb'<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*+>'
_TURTLE_TOKEN = re.compile(
    rb'(?P<long>"""|\'\'\')'
    rb'|(?P<short>"(?:[^"\\\n\r]|\\.)*+"|\'(?:[^\'\\\n\r]|\\.)*+\')'
    rb'|(?P<open><<|\{\|?|[\[(])'
    rb'|(?P<close>>>|\|\}|[\])}])'
    rb'|(?P<skip>' + _IRI + rb'|#[^\n\r]*+)'
    rb'|(?P<bad>["\'])', re.S)
_LONG_END = {b'"""': re.compile(rb'(?:[^"\\]|\\.|"(?!""))*+"""', re.S),
             b"'''": re.compile(rb"(?:[^'\\]|\\.|'(?!''))*+'''", re.S)}
_EOL = re.compile(rb"[\n\r]")


def check_turtle_depth(data: bytes, limit: int = MAX_TURTLE_DEPTH) -> None:
    """Refuse Turtle-family text whose brackets nest deeper than ``limit`` (linear, no recursion).

    A string that does not end where the grammar says is a syntax error the parser will
    report; the scan skips the rest of its line (a short string) or treats later long-string
    quotes as short ones (an unterminated long string), which keeps the scan linear.
    """
    if data.count(b"[") + data.count(b"(") + data.count(b"{") + data.count(b"<<") <= limit:
        return  # fewer openers than the limit: cannot nest deeper
    depth = 0
    pos = 0
    long_open = {b'"""': True, b"'''": True}  # False once a long string was found unterminated
    search = _TURTLE_TOKEN.search
    while (match := search(data, pos)) is not None:
        kind = match.lastgroup
        pos = match.end()
        if kind == "open":
            depth += 1
            if depth > limit:
                raise _too_deep("brackets", limit, "MAX_TURTLE_DEPTH", _where(data, match.start()))
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif kind == "long":
            quote = match.group()
            end = _LONG_END[quote].match(data, pos) if long_open[quote] else None
            if end is not None:
                pos = end.end()
            else:  # unterminated: from here on the quotes can only be short strings (or errors)
                long_open[quote] = False
                pos = match.start() + 2  # an empty short string, then a quote that starts another
        elif kind == "bad":  # an unterminated short string: the rest of its line is not RDF
            eol = _EOL.search(data, pos)
            pos = eol.end() if eol is not None else len(data)


_JSON_TOKEN = re.compile(rb'(?P<skip>"(?:[^"\\\x00-\x1f]|\\.)*+")|(?P<open>[\[{])|(?P<close>[\]}])|(?P<bad>")',
                         re.S)


def check_json_depth(data: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON whose arrays and objects nest deeper than ``limit`` (linear, no recursion).

    A string that is not valid JSON ends the scan: ``json.loads`` will refuse the document there.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return
    depth = 0
    search = _JSON_TOKEN.search
    pos = 0
    while (match := search(data, pos)) is not None:
        kind = match.lastgroup
        pos = match.end()
        if kind == "open":
            depth += 1
            if depth > limit:
                raise _too_deep("JSON arrays and objects", limit, "MAX_JSON_DEPTH", _where(data, match.start()))
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif kind == "bad":
            return


def check_xml(data: bytes, limit: int = MAX_XML_DEPTH) -> None:
    """Refuse XML with a DTD internal subset, entity declarations, an external DTD, or elements deeper than ``limit``.

    Read with expat (a streaming C parser that expands nothing here: the declarations are
    refused as they are read, before any reference to them), as UTF-8 — the only encoding
    pyoxigraph's RDF/XML parser reads — so both parsers see the same characters. A bare
    ``<!DOCTYPE rdf:RDF>`` (no subset, no external identifier) declares nothing and is accepted.
    :raise LimitExceeded: refused construct or depth. :raise XmlUnreadable: not well-formed XML.
    """
    parser = ParserCreate(encoding="UTF-8")
    state = {"depth": 0, "subset": False}

    def where() -> str:
        return f"line {parser.CurrentLineNumber}, column {parser.CurrentColumnNumber + 1}"

    def doctype(name: str, system_id: str | None, public_id: str | None, has_internal_subset: int) -> None:
        if system_id or public_id:
            raise LimitExceeded(f"has a DOCTYPE that names an external DTD ({system_id or public_id!r}, at "
                                f"{where()}), which is refused: the service reads no external entities")
        state["subset"] = bool(has_internal_subset)

    def entity(name: str, is_parameter: int, *_: object) -> None:
        kind = "parameter entity" if is_parameter else "entity"
        raise LimitExceeded(f"has a DTD {kind} declaration (<!ENTITY {'% ' if is_parameter else ''}{name} …> at "
                            f"{where()}), which is refused: entity expansion can grow without bound "
                            "(\"billion laughs\"); write the text or IRIs out in full, or send Turtle")

    def end_doctype() -> None:
        if state["subset"]:
            raise LimitExceeded(f"has a DTD internal subset (<!DOCTYPE … [ … ]> ending at {where()}), which is "
                                "refused: RDF needs no DTD; drop the DOCTYPE")

    def start(name: str, attributes: object) -> None:
        state["depth"] += 1
        if state["depth"] > limit:
            raise _too_deep("XML elements", limit, "MAX_XML_DEPTH", where())

    def end(name: str) -> None:
        state["depth"] -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = lambda name, *_: entity(name, 0)
    parser.EndDoctypeDeclHandler = end_doctype
    if data.count(b"<") > limit:  # fewer tags than the limit cannot nest deeper: skip the per-element calls
        parser.StartElementHandler = start
        parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except ExpatError as exc:
        raise XmlUnreadable(ErrorString(exc.code) or str(exc), exc.lineno, exc.offset + 1) from None


def check_rdf(data: bytes, rdf_format: ox.RdfFormat) -> None:
    """The checks that fit ``rdf_format``: run on every RDF document from outside before it is parsed."""
    if rdf_format == ox.RdfFormat.RDF_XML:
        check_xml(data)
    elif rdf_format == ox.RdfFormat.JSON_LD:
        check_json_depth(data)
    else:
        check_turtle_depth(data)


def check_results(data: bytes, results_format: ox.QueryResultsFormat) -> None:
    """The same checks for SPARQL results from another endpoint (triple terms nest in all three syntaxes)."""
    if results_format == ox.QueryResultsFormat.XML:
        check_xml(data)
    elif results_format == ox.QueryResultsFormat.JSON:
        check_json_depth(data)
    else:
        check_turtle_depth(data)
