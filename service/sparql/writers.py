"""Our streaming writers for SELECT/ASK results: SPARQL JSON, XML, CSV and TSV.

Why our own writers beside pyoxigraph's: pyoxigraph can only serialize a whole
``QuerySolutions`` object, and an answer the result-row cap cut must stop at the cap and
say so in the result head. Answers within the cap are written by pyoxigraph
(:mod:`service.sparql.answers` decides); these writers take the rest — cut answers, booleans —
from any iterable of solutions, yield bytes in chunks, and put a truncation link in the
result head where the format has one. They follow, term for term, the W3C
specifications linked above each writer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyoxigraph as ox

from service.rdf.vocabulary import RDF_LANGSTRING, XSD_BOOLEAN, XSD_DECIMAL, XSD_DOUBLE, XSD_INTEGER, XSD_STRING

#: IRI placed in the result head ("link") when the row cap cut the results.
TRUNCATION_LINK = "urn:dprk-kg:results-truncated"

CHUNK = 64 * 1024


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML character entities (what ``xml.sax.saxutils.escape`` does).

    Why not that function: importing ``xml.sax.saxutils`` imports ``urllib.request`` and with it
    ``http.client``, ``ssl`` and ``email`` — several MB resident in every process that writes
    results (the store worker among them) for three string replacements.
    """
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """An XML attribute value with its quotes, as ``xml.sax.saxutils.quoteattr`` writes it (see :func:`escape`)."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"{}"'.format(text.replace('"', "&quot;"))


def _chunked(parts: Iterable[str]) -> Iterator[bytes]:
    buffer: list[str] = []
    size = 0
    for part in parts:
        buffer.append(part)
        size += len(part)
        if size >= CHUNK:
            yield "".join(buffer).encode("utf-8")
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode("utf-8")


# https://www.w3.org/TR/sparql11-results-json/
def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


#: ``json.dumps``'s own string encoder (the C one when available), as ``ensure_ascii=False`` uses it.
_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]
_NamedNode, _BlankNode, _Literal, _Triple = ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple


def _json_term_text(term: Any) -> str:
    """One term as JSON text, the same bytes ``json.dumps(_json_term(term), ensure_ascii=False)`` writes.

    Why not ``json.dumps`` per row: building a dict per term and encoding it generically
    was the largest cost of answering a small query; templates around the C string
    encoder are several times faster and produce identical output.
    """
    kind = type(term)
    if kind is _NamedNode:
        return '{"type": "uri", "value": ' + _encode_string(term.value) + "}"
    if kind is _Literal:
        language = term.language
        if language:
            return ('{"type": "literal", "value": ' + _encode_string(term.value) + ', "xml:lang": '
                    + _encode_string(language) + "}")
        datatype = term.datatype.value
        if datatype != XSD_STRING:
            return ('{"type": "literal", "value": ' + _encode_string(term.value) + ', "datatype": '
                    + _encode_string(datatype) + "}")
        return '{"type": "literal", "value": ' + _encode_string(term.value) + "}"
    if kind is _BlankNode:
        return '{"type": "bnode", "value": ' + _encode_string(term.value) + "}"
    if kind is _Triple:
        return ('{"type": "triple", "value": {"subject": ' + _json_term_text(term.subject) + ', "predicate": '
                + _json_term_text(term.predicate) + ', "object": ' + _json_term_text(term.object) + "}}")
    return json.dumps(_json_term(term), ensure_ascii=False)  # subclasses, or a TypeError for non-terms


def write_json(variables: Sequence[str], rows: Iterable[Sequence[Any]], truncated: bool) -> Iterator[bytes]:
    """SPARQL 1.1 Query Results JSON, streamed row by row."""
    head: dict[str, Any] = {"vars": list(variables)}
    if truncated:
        head["link"] = [TRUNCATION_LINK]
    keys = [_encode_string(v) + ": " for v in variables]

    def parts() -> Iterator[str]:
        yield '{"head":' + json.dumps(head) + ',"results":{"bindings":['
        separator = ""
        for row in rows:
            yield separator + "{" + ", ".join(
                [key + _json_term_text(term) for key, term in zip(keys, row, strict=True) if term is not None]) + "}"
            separator = ","
        yield "]}}"

    return _chunked(parts())


def write_json_boolean(value: bool) -> Iterator[bytes]:
    """SPARQL 1.1 Query Results JSON for ASK."""
    yield json.dumps({"head": {}, "boolean": value}).encode()


# https://www.w3.org/TR/rdf-sparql-XMLres/
def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
                f"</predicate><object>{_xml_term(term.object)}</object></triple>")
    raise TypeError(f"not an RDF term: {term!r}")


_XML_HEAD = '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>'


def write_xml(variables: Sequence[str], rows: Iterable[Sequence[Any]], truncated: bool) -> Iterator[bytes]:
    """SPARQL Query Results XML, streamed row by row."""

    def parts() -> Iterator[str]:
        yield _XML_HEAD
        for v in variables:
            yield f"<variable name={quoteattr(v)}/>"
        if truncated:
            yield f"<link href={quoteattr(TRUNCATION_LINK)}/>"
        yield "</head>\n<results>\n"
        for row in rows:
            yield "<result>"
            for v, t in zip(variables, row, strict=True):
                if t is not None:
                    yield f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
            yield "</result>\n"
        yield "</results>\n</sparql>\n"

    return _chunked(parts())


def write_xml_boolean(value: bool) -> Iterator[bytes]:
    """SPARQL Query Results XML for ASK."""
    yield (_XML_HEAD + f"</head>\n<boolean>{'true' if value else 'false'}</boolean>\n</sparql>\n").encode()


# https://www.w3.org/TR/sparql11-results-csv-tsv/#csv
def _csv_field(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        text = "_:" + term.value
    elif isinstance(term, ox.Triple):
        text = str(term)
    else:
        text = term.value
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv(variables: Sequence[str], rows: Iterable[Sequence[Any]], truncated: bool) -> Iterator[bytes]:
    """SPARQL 1.1 CSV results (lossy by design: values only)."""

    def parts() -> Iterator[str]:
        yield ",".join(variables) + "\r\n"
        for row in rows:
            yield ",".join(_csv_field(t) for t in row) + "\r\n"

    return _chunked(parts())


# https://www.w3.org/TR/sparql11-results-csv-tsv/#tsv
def _tsv_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace(
        "\t", "\\t")


#: Literals TSV may write bare: Turtle's number and boolean syntax, by datatype.
_TSV_BARE = {
    XSD_INTEGER: re.compile(r"[+-]?[0-9]+"),
    XSD_DECIMAL: re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    XSD_DOUBLE: re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
    XSD_BOOLEAN: re.compile(r"true|false"),
}


def _tsv_field(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        bare = _TSV_BARE.get(datatype)
        if bare is not None and bare.fullmatch(term.value):
            return term.value
        quoted = '"' + _tsv_string(term.value) + '"'
        if term.language:
            return quoted + "@" + term.language
        if datatype not in (XSD_STRING, RDF_LANGSTRING):
            return quoted + "^^<" + datatype + ">"
        return quoted
    return str(term)


def write_tsv(variables: Sequence[str], rows: Iterable[Sequence[Any]], truncated: bool) -> Iterator[bytes]:
    """SPARQL 1.1 TSV results (terms in Turtle/N-Triples syntax)."""

    def parts() -> Iterator[str]:
        yield "\t".join("?" + v for v in variables) + "\n"
        for row in rows:
            yield "\t".join(_tsv_field(t) for t in row) + "\n"

    return _chunked(parts())


def write_boolean_text(value: bool) -> Iterator[bytes]:
    """ASK as CSV/TSV: not defined by the specification; we answer 'true'/'false' like Oxigraph."""
    yield (b"true\n" if value else b"false\n")


SOLUTION_WRITERS = {"json": write_json, "xml": write_xml, "csv": write_csv, "tsv": write_tsv}
BOOLEAN_WRITERS = {"json": write_json_boolean, "xml": write_xml_boolean, "csv": write_boolean_text,
                   "tsv": write_boolean_text}
