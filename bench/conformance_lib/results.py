"""Parsers for every answer a SPARQL test compares: result sets (XML, JSON, TSV, CSV, RDF) and graphs.

Why one module: the expected answer (a file of the W3C suite) and the actual answer (an
HTTP response) must go through the same parser for a format, so that a difference
found by the comparison is a difference in the answers, not in the parsing.
Everything is parsed to :mod:`.terms` tuples with literals kept as written.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pyoxigraph as ox

from . import terms
from .terms import Term

SRX_NS = "{http://www.w3.org/2005/sparql-results#}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: Media types of SPARQL result formats, by short name.
RESULT_MEDIA_TYPES = {
    "xml": "application/sparql-results+xml",
    "json": "application/sparql-results+json",
    "tsv": "text/tab-separated-values",
    "csv": "text/csv",
}

#: RDF media types → pyoxigraph formats.
RDF_MEDIA_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "text/n3": ox.RdfFormat.N3,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}

#: File extensions of the suites' files → media types.
EXTENSION_MEDIA_TYPES = {
    ".srx": RESULT_MEDIA_TYPES["xml"],
    ".srj": RESULT_MEDIA_TYPES["json"],
    ".tsv": RESULT_MEDIA_TYPES["tsv"],
    ".csv": RESULT_MEDIA_TYPES["csv"],
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".rdf": "application/rdf+xml",
    ".n3": "text/n3",
    ".nq": "application/n-quads",
    ".trig": "application/trig",
    ".jsonld": "application/ld+json",
}


class ParseError(ValueError):
    """An answer could not be parsed in the format it claims to be."""


@dataclass
class Results:
    """A parsed answer: solutions (with variables), a boolean, or a graph."""

    kind: str  # "solutions" | "boolean" | "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Term]] = field(default_factory=list)
    boolean: bool | None = None
    triples: set[tuple[Term, Term, Term]] = field(default_factory=set)
    #: True when the expected file fixes the order of the solutions (``rs:index``).
    indexed: bool = False
    #: The result format parsed (``xml``, ``json``, ``tsv``, ``csv``, ``rdf``).
    format: str = ""


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type value, lower-cased."""
    return (content_type or "").split(";")[0].strip().lower()


def charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type value, if any."""
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


# -- SPARQL Query Results XML ---------------------------------------------------------------------


def parse_xml(body: bytes) -> Results:
    """https://www.w3.org/TR/rdf-sparql-XMLres/"""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise ParseError(f"not well-formed XML results: {exc}") from exc
    if root.tag != SRX_NS + "sparql":
        raise ParseError(f"XML results must have a <sparql> root in the results namespace, got {root.tag}")
    head = root.find(SRX_NS + "head")
    if head is None:
        raise ParseError("XML results have no <head>")
    variables = [v.attrib["name"] for v in head.findall(SRX_NS + "variable")]
    boolean = root.find(SRX_NS + "boolean")
    if boolean is not None:
        text = (boolean.text or "").strip()
        if text not in ("true", "false"):
            raise ParseError(f"<boolean> must be true or false, got {text!r}")
        return Results("boolean", boolean=text == "true", format="xml")
    results = root.find(SRX_NS + "results")
    if results is None:
        raise ParseError("XML results have neither <results> nor <boolean>")
    rows = []
    for result in results.findall(SRX_NS + "result"):
        row: dict[str, Term] = {}
        for binding in result.findall(SRX_NS + "binding"):
            children = list(binding)
            if len(children) != 1:
                raise ParseError(f"<binding name={binding.attrib.get('name')!r}> must hold exactly one term")
            row[binding.attrib["name"]] = _xml_term(children[0])
        rows.append(row)
    return Results("solutions", variables=variables, rows=rows, format="xml")


def _xml_term(element: ElementTree.Element) -> Term:
    tag = element.tag.removeprefix(SRX_NS)
    if tag == "uri":
        return terms.iri(element.text or "")
    if tag == "bnode":
        return terms.bnode((element.text or "").strip())
    if tag == "literal":
        return terms.literal(element.text or "", element.attrib.get("datatype"), element.attrib.get(XML_LANG))
    if tag == "triple":
        parts = {child.tag.removeprefix(SRX_NS): child for child in element}
        try:
            return ("T", *(_xml_term(next(iter(parts[k]))) for k in ("subject", "predicate", "object")))
        except (KeyError, StopIteration) as exc:
            raise ParseError("<triple> needs <subject>, <predicate> and <object>") from exc
    raise ParseError(f"unknown term element <{tag}>")


# -- SPARQL Query Results JSON --------------------------------------------------------------------


def parse_json(body: bytes) -> Results:
    """https://www.w3.org/TR/sparql11-results-json/"""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or "head" not in document:
        raise ParseError("JSON results must be an object with a 'head'")
    if "boolean" in document:
        if not isinstance(document["boolean"], bool):
            raise ParseError("'boolean' must be true or false")
        return Results("boolean", boolean=document["boolean"], format="json")
    try:
        variables = list(document["head"].get("vars", []))
        bindings = document["results"]["bindings"]
        rows = [{name: _json_term(value) for name, value in binding.items()} for binding in bindings]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ParseError(f"malformed JSON results: {exc!r}") from exc
    return Results("solutions", variables=variables, rows=rows, format="json")


def _json_term(value: dict[str, Any]) -> Term:
    kind = value["type"]
    if kind == "uri":
        return terms.iri(value["value"])
    if kind == "bnode":
        return terms.bnode(value["value"])
    if kind == "literal":
        return terms.literal(value["value"], value.get("datatype"), value.get("xml:lang"))
    if kind == "triple":
        inner = value["value"]
        return ("T", _json_term(inner["subject"]), _json_term(inner["predicate"]), _json_term(inner["object"]))
    raise ParseError(f"unknown JSON term type {kind!r} (SPARQL 1.1 JSON has uri, bnode, literal, triple)")


# -- TSV and CSV ----------------------------------------------------------------------------------

_TSV_NUMBER = [
    (re.compile(r"[+-]?\d+"), terms.XSD + "integer"),
    (re.compile(r"[+-]?\d*\.\d+"), terms.XSD + "decimal"),
    (re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)[eE][+-]?\d+"), terms.XSD + "double"),
]
_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1: i + 2]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in ("u", "U"):
            width = 4 if nxt == "u" else 8
            out.append(chr(int(text[i + 2: i + 2 + width], 16)))
            i += 2 + width
        else:
            raise ParseError(f"bad escape \\{nxt} in {text!r}")
    return "".join(out)


def parse_tsv_term(cell: str) -> Term | None:
    """One TSV cell (Turtle/SPARQL term syntax) → a term; empty → unbound."""
    if cell == "":
        return None
    if cell.startswith("<") and cell.endswith(">"):
        return terms.iri(_unescape(cell[1:-1]))
    if cell.startswith("_:"):
        return terms.bnode(cell[2:])
    if cell.startswith("<<"):
        raise ParseError("triple terms in TSV are not supported by this runner")
    if cell[0] in "\"'":
        quote = cell[0]
        end = len(cell) - 1
        # Find the closing quote: the last unescaped quote character.
        i = 1
        while i < len(cell):
            if cell[i] == "\\":
                i += 2
                continue
            if cell[i] == quote:
                end = i
                break
            i += 1
        else:
            raise ParseError(f"unterminated literal in TSV cell {cell!r}")
        lexical = _unescape(cell[1:end])
        rest = cell[end + 1:]
        if rest.startswith("@"):
            return terms.literal(lexical, language=rest[1:])
        if rest.startswith("^^<") and rest.endswith(">"):
            return terms.literal(lexical, rest[3:-1])
        if rest:
            raise ParseError(f"unexpected text after literal in TSV cell {cell!r}")
        return terms.literal(lexical)
    if cell in ("true", "false"):
        return terms.literal(cell, terms.XSD + "boolean")
    for pattern, datatype in _TSV_NUMBER:
        if pattern.fullmatch(cell):
            return terms.literal(cell, datatype)
    raise ParseError(f"cannot read TSV cell {cell!r}")


def parse_tsv(body: bytes) -> Results:
    """https://www.w3.org/TR/sparql11-results-csv-tsv/#tsv"""
    text = body.decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not lines:
        raise ParseError("empty TSV results (the header line is required)")
    header = lines[0].split("\t") if lines[0] else []
    for name in header:
        if not name.startswith("?"):
            raise ParseError(f"TSV header fields must start with '?', got {name!r}")
    variables = [name[1:] for name in header]
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(variables):
            if not variables and line == "":
                rows.append({})
                continue
            raise ParseError(f"TSV line {number} has {len(cells)} fields, the header {len(variables)}")
        row = {}
        for name, cell in zip(variables, cells, strict=True):
            term = parse_tsv_term(cell)
            if term is not None:
                row[name] = term
        rows.append(row)
    return Results("solutions", variables=variables, rows=rows, format="tsv")


def parse_csv(body: bytes) -> Results:
    """https://www.w3.org/TR/sparql11-results-csv-tsv/#csv — values stay strings (CSV drops types).

    Cells starting with ``_:`` are blank nodes (the isomorphism search renames them);
    every other non-empty cell is ``("C", text)``.
    """
    text = body.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    records = list(reader)
    if not records:
        raise ParseError("empty CSV results (the header line is required)")
    variables = records[0]
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if len(record) != len(variables):
            raise ParseError(f"CSV line {number} has {len(record)} fields, the header {len(variables)}")
        row: dict[str, Term] = {}
        for name, cell in zip(variables, record, strict=True):
            if cell == "":
                continue
            row[name] = terms.bnode(cell[2:]) if cell.startswith("_:") else ("C", cell)
        rows.append(row)
    return Results("solutions", variables=variables, rows=rows, format="csv")


# -- RDF graphs and RDF-encoded result sets -------------------------------------------------------


def parse_graph(body: bytes, media: str, base_iri: str | None = None) -> set[tuple[Term, Term, Term]]:
    """Parse an RDF document (triples; quads in the default graph only) into term tuples.

    pyoxigraph first (fast, keeps literals as written); rdflib as a fallback for the
    rare document pyoxigraph refuses, so a parser gap is not reported as a server bug.
    """
    fmt = RDF_MEDIA_TYPES.get(media)
    if fmt is None:
        raise ParseError(f"{media or '(no content type)'} is not an RDF media type this runner reads")
    try:
        return {(terms.from_oxigraph(q.subject), terms.from_oxigraph(q.predicate), terms.from_oxigraph(q.object))
                for q in ox.parse(body, fmt, base_iri=base_iri)}
    except SyntaxError as first:
        try:
            return _parse_graph_rdflib(body, media, base_iri)
        except Exception:
            raise ParseError(f"invalid {media}: {first}") from first


def _parse_graph_rdflib(body: bytes, media: str, base_iri: str | None) -> set[tuple[Term, Term, Term]]:
    import rdflib

    names = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
             "text/n3": "n3", "application/ld+json": "json-ld"}
    graph = rdflib.Graph()
    saved = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False  # keep lexical forms; restored so other rdflib users are not affected
    try:
        graph.parse(data=body, format=names.get(media, "turtle"), publicID=base_iri)
    finally:
        rdflib.NORMALIZE_LITERALS = saved
    return {(terms.from_rdflib(s), terms.from_rdflib(p), terms.from_rdflib(o)) for s, p, o in graph}


def parse_rdf_results(triples: set[tuple[Term, Term, Term]]) -> Results | None:
    """Read a result set written in the DAWG result-set vocabulary; ``None`` if the graph is not one."""
    by_subject: dict[Term, list[tuple[Term, Term]]] = defaultdict(list)
    for s, p, o in triples:
        by_subject[s].append((p, o))
    result_sets = [s for s, p, o in triples if p == terms.iri(RDF_TYPE) and o == terms.iri(RS + "ResultSet")]
    if not result_sets:
        return None
    if len(result_sets) > 1:
        raise ParseError("more than one rs:ResultSet in the expected results")
    node = result_sets[0]
    props = by_subject[node]
    booleans = [o for p, o in props if p == terms.iri(RS + "boolean")]
    if booleans:
        return Results("boolean", boolean=booleans[0][1] == "true", format="rdf")
    variables = [o[1] for p, o in props if p == terms.iri(RS + "resultVariable")]
    rows: list[tuple[int | None, dict[str, Term]]] = []
    for p, solution in props:
        if p != terms.iri(RS + "solution"):
            continue
        row: dict[str, Term] = {}
        index: int | None = None
        for sp, so in by_subject[solution]:
            if sp == terms.iri(RS + "index"):
                index = int(so[1])
            elif sp == terms.iri(RS + "binding"):
                binding = dict(by_subject[so])
                name = binding.get(terms.iri(RS + "variable"))
                value = binding.get(terms.iri(RS + "value"))
                if name is None or value is None:
                    raise ParseError("an rs:binding needs rs:variable and rs:value")
                row[name[1]] = value
        rows.append((index, row))
    indexed = bool(rows) and all(index is not None for index, _ in rows)
    if indexed:
        rows.sort(key=lambda item: item[0])  # type: ignore[arg-type,return-value]
    return Results("solutions", variables=variables, rows=[r for _, r in rows], indexed=indexed, format="rdf")


# -- entry points ---------------------------------------------------------------------------------


def parse_answer(body: bytes, content_type: str | None, base_iri: str | None = None) -> Results:
    """Parse an HTTP answer by its Content-Type."""
    media = media_type(content_type)
    if media in (RESULT_MEDIA_TYPES["xml"],):
        return parse_xml(body)
    if media in (RESULT_MEDIA_TYPES["json"], "application/json"):
        return parse_json(body)
    if media == RESULT_MEDIA_TYPES["tsv"]:
        return parse_tsv(body)
    if media == RESULT_MEDIA_TYPES["csv"]:
        return parse_csv(body)
    if media in RDF_MEDIA_TYPES:
        return Results("graph", triples=parse_graph(body, media, base_iri), format="rdf")
    raise ParseError(f"unexpected Content-Type {content_type!r}")


def parse_expected(path: Path, base_iri: str) -> Results:
    """Parse an expected-results file of the suite; RDF files may hold a result set or a graph."""
    media = EXTENSION_MEDIA_TYPES.get(path.suffix.lower())
    if media is None:
        raise ParseError(f"{path.name}: unknown result file type")
    body = path.read_bytes()
    if media in RDF_MEDIA_TYPES:
        triples = parse_graph(body, media, base_iri)
        as_results = parse_rdf_results(triples)
        return as_results if as_results is not None else Results("graph", triples=triples, format="rdf")
    return parse_answer(body, media, base_iri)
