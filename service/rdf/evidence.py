"""Evidence passages: where in a source document's text a fact is stated.

Why: provenance that stops at "document X says so" cannot be checked without rereading the
article. Each fact-bearing resource of a document graph is the body of a Web Annotation whose
target is a short passage of that document, located twice — by its words (``oa:TextQuoteSelector``:
exact, prefix, suffix) and by its place (``oa:TextPositionSelector``: code-point offsets into the
document's text as stored). Both selectors come from one place, this module, so they cannot drift:
curators write the quote, this module finds it in the text and writes the offsets; :func:`verify`
proves the reverse (every quote is verbatim at its offsets) against the texts themselves.

The texts are not part of the data (the data stores evidence, not the articles); functions that
need them take the text as an argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from service.rdf.vocabulary import (
    DCT,
    GENID_NS,
    OA,
    ONTOLOGY_NS,
    PREFIXES,
    RDF_TYPE,
    RDFS,
    RESOURCE_NS,
    SKOS,
    curie,
    expand,
)

#: Longest quote accepted: a sentence or less — the data keeps evidence, not the article.
MAX_QUOTE_CHARS = 300
#: Shortest quote accepted: anything shorter rarely locates one statement.
MIN_QUOTE_CHARS = 4
#: Context kept on each side by the quote selector (enough to tell repeated words apart).
CONTEXT_CHARS = 32

EVIDENCING = ONTOLOGY_NS + "evidencing"
STATES_PROPERTY = ONTOLOGY_NS + "statesProperty"


class EvidenceError(ValueError):
    """A passage that cannot be located in its text (not found, ambiguous, too long)."""


@dataclass(frozen=True)
class Passage:
    """One evidence passage as a curator writes it: the quote and what it is evidence for."""

    about: tuple[str, ...]
    quote: str
    states: tuple[str, ...] = ()
    occurrence: int | None = None


@dataclass(frozen=True)
class Located:
    """A passage found in its text: the verbatim words, their offsets and their context."""

    passage: Passage
    exact: str
    start: int
    end: int
    prefix: str
    suffix: str
    iri: str = field(default="")


def quote_pattern(quote: str) -> re.Pattern[str]:
    """The quote as a pattern in which each run of whitespace matches any run of whitespace.

    Curators write quotes on one line; the texts wrap and double-space. Nothing else is relaxed:
    quotation marks, dashes and case must be as the text has them.
    """
    words = quote.split()
    if not words:
        raise EvidenceError("empty quote")
    return re.compile(r"\s+".join(re.escape(word) for word in words))


def locate(passage: Passage, text: str) -> Located:
    """Find ``passage`` in ``text``: its unique occurrence, or the one ``occurrence`` names (1-based)."""
    quote = " ".join(passage.quote.split())
    if not MIN_QUOTE_CHARS <= len(quote) <= MAX_QUOTE_CHARS:
        raise EvidenceError(
            f"quote of {len(quote)} characters (allowed {MIN_QUOTE_CHARS}–{MAX_QUOTE_CHARS}): {quote[:60]!r}")
    matches = list(quote_pattern(quote).finditer(text))
    if not matches:
        raise EvidenceError(f"quote not found in the text: {quote!r}")
    if passage.occurrence is None:
        if len(matches) > 1:
            raise EvidenceError(
                f"quote occurs {len(matches)} times; lengthen it or give occurrence = 1..{len(matches)}: {quote!r}")
        match = matches[0]
    else:
        if not 1 <= passage.occurrence <= len(matches):
            raise EvidenceError(
                f"occurrence {passage.occurrence} asked, the quote occurs {len(matches)} time(s): {quote!r}")
        match = matches[passage.occurrence - 1]
    start, end = match.span()
    return Located(passage, text[start:end], start, end,
                   text[max(0, start - CONTEXT_CHARS):start], text[end:end + CONTEXT_CHARS])


def passage_iri(document: str, start: int, end: int, taken: set[str]) -> str:
    """``djr:<doc>-passage-<start>-<end>``: stable while the text is, and readable as a text fragment.

    A second annotation of the same span (other resources, other properties) gets ``-b``, ``-c`` ….
    """
    base = f"{RESOURCE_NS}{document}-passage-{start}-{end}"
    iri, n = base, 0
    while iri in taken:
        n += 1
        iri = f"{base}-{chr(ord('a') + n)}"
    taken.add(iri)
    return iri


def locate_all(document: str, passages: Iterable[Passage], text: str) -> list[Located]:
    """Every passage located, in text order, with its annotation IRI; errors name each failing quote."""
    located, errors = [], []
    for number, passage in enumerate(passages, start=1):
        try:
            located.append(locate(passage, text))
        except EvidenceError as error:
            errors.append(f"passage {number}: {error}")
    if errors:
        raise EvidenceError(f"{document}: " + "; ".join(errors))
    located.sort(key=lambda item: (item.start, item.end))
    taken: set[str] = set()
    return [Located(item.passage, item.exact, item.start, item.end, item.prefix, item.suffix,
                    passage_iri(document, item.start, item.end, taken)) for item in located]


def _literal(value: str, *, language: str | None = None) -> str:
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"' + (f"@{language}" if language else "")


def _term(name: str) -> str:
    """A prefixed name from the TOML (``dj:startDate``), a full IRI, or a bare slug (``round-2012``), as Turtle."""
    if name.startswith(("http://", "https://")):
        iri = name
    elif ":" in name:
        expanded = expand(name)
        if expanded is None:
            raise EvidenceError(f"unknown prefix in {name!r}")
        iri = expanded
    else:
        iri = RESOURCE_NS + name
    return curie(iri, brackets=True)


#: The prefixes the generated TriG declares (the names :func:`curie` may write).
TRIG_PREFIXES = ("dj", "djr", "oa", "rdfs", "dct", "xsd", "org", "skos", "prov", "foaf", "schema", "time", "rdf")


def to_trig(document: str, located: Sequence[Located], *, source_note: str) -> str:
    """The annotations of ``document`` as TriG in the document's own graph (deterministic text).

    Offsets are written as plain integers (``xsd:integer``): the Web Annotation range is
    ``xsd:nonNegativeInteger``, but Oxigraph keeps integer subtypes as ``xsd:integer``, and a dump must
    give back the files' own triples. The shapes require them to be ≥ 0.
    """
    doc = curie(RESOURCE_NS + document, brackets=True)
    lines = [f"# {line}" if line else "#" for line in source_note.splitlines()] + [""]
    lines += [f"@prefix {p}: <{PREFIXES[p]}> ." for p in TRIG_PREFIXES]
    lines += ["", f"GRAPH {doc} {{", ""]
    for item in located:
        lines += [
            curie(item.iri, brackets=True),
            "    a oa:Annotation ;",
            f"    rdfs:label {_literal(f'{document}, characters {item.start}–{item.end}', language='en')} ;",
            "    oa:motivatedBy dj:evidencing ;",
            f"    oa:hasBody {' , '.join(_term(name) for name in item.passage.about)} ;",
        ]
        if item.passage.states:
            lines.append(f"    dj:statesProperty {' , '.join(_term(name) for name in item.passage.states)} ;")
        lines += [
            "    oa:hasTarget [",
            "        a oa:SpecificResource ;",
            f"        oa:hasSource {doc} ;",
            "        oa:hasSelector [",
            "            a oa:TextQuoteSelector ;",
            f"            oa:exact {_literal(item.exact)} ;",
            f"            oa:prefix {_literal(item.prefix)} ;",
            f"            oa:suffix {_literal(item.suffix)}",
            "        ] , [",
            "            a oa:TextPositionSelector ;",
            f"            oa:start {item.start} ;",
            f"            oa:end {item.end}",
            "        ]",
            "    ] ;",
            f"    dct:source {doc} .",
            "",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Selection:
    """What a stored annotation claims about its passage (read back from RDF, for :func:`verify`)."""

    annotation: str
    document: str
    exact: str
    start: int | None
    end: int | None
    prefix: str | None
    suffix: str | None


def verify(selections: Iterable[Selection], texts: Mapping[str, str]) -> Iterator[str]:
    """Each problem, as a sentence: a quote that is not verbatim at its offsets, or whose context differs.

    ``texts`` maps a document IRI to its text; a selection whose document has no text is reported
    too (evidence nobody can check is not evidence).
    """
    for sel in selections:
        text = texts.get(sel.document)
        if text is None:
            yield f"{sel.annotation}: no text for {sel.document} to check against"
            continue
        if sel.start is None or sel.end is None:
            yield f"{sel.annotation}: no TextPositionSelector"
            continue
        if text[sel.start:sel.end] != sel.exact:
            found = text.find(sel.exact)
            where = f"it occurs at {found}" if found >= 0 else "it does not occur in the text"
            yield f"{sel.annotation}: quote {sel.exact[:50]!r} is not at {sel.start}–{sel.end} ({where})"
            continue
        if sel.prefix is not None and not text[:sel.start].endswith(sel.prefix):
            yield f"{sel.annotation}: prefix does not precede the quote"
        if sel.suffix is not None and not text[sel.end:].startswith(sel.suffix):
            yield f"{sel.annotation}: suffix does not follow the quote"


#: Predicates that name, type, file or summarise a resource rather than state a fact about it: a resource
#: whose only triples use these is not fact-bearing and needs no evidence passage.
NON_FACT_PREDICATES = (
    RDF_TYPE, RDFS + "label", RDFS + "comment", SKOS + "prefLabel", SKOS + "altLabel", SKOS + "inScheme",
    SKOS + "topConceptOf", SKOS + "note", SKOS + "definition", DCT + "source", DCT + "description",
    ONTOLOGY_NS + "dateNote",
)
#: Classes whose instances are never fact-bearing: the documents themselves, the annotations, code lists,
#: and the marks on derived values (a value the text does not print has no passage that states it; the
#: triple it marks belongs to a resource that is evidenced on its own).
NON_FACT_CLASSES = (ONTOLOGY_NS + "SourceDocument", OA + "Annotation", SKOS + "ConceptScheme",
                    ONTOLOGY_NS + "DerivedValue")


def fact_bearing_query(graph_filter: str = 'STRSTARTS(STR(?g), "' + RESOURCE_NS + 'doc-")') -> str:
    """SELECT ?g ?resource ?evidenced: each fact-bearing resource of each document graph, and whether an
    annotation in the same graph has it as body.

    The one definition of "fact-bearing" (stats, checks and shapes use it): a resource (an IRI) typed in a
    document graph that has at least one triple there other than those of :data:`NON_FACT_PREDICATES`,
    and is not an instance of :data:`NON_FACT_CLASSES`. Blank nodes are parts of their owner's statement
    (an annotation's target and selectors, a membership's time interval, a qualified attribution) and are
    evidenced through it — also once an ingested batch has skolemized them (IRIs under ``GENID_NS``).
    """
    skip_p = ", ".join(f"<{p}>" for p in NON_FACT_PREDICATES)
    skip_c = ", ".join(f"<{c}>" for c in NON_FACT_CLASSES)
    return f"""
SELECT DISTINCT ?g ?resource ?evidenced WHERE {{
  GRAPH ?g {{
    ?resource <{RDF_TYPE}> ?type .
    FILTER(isIRI(?resource) && !STRSTARTS(STR(?resource), "{GENID_NS}"))
    FILTER NOT EXISTS {{ ?resource <{RDF_TYPE}> ?skip FILTER(?skip IN ({skip_c})) }}
    FILTER EXISTS {{ ?resource ?p ?o FILTER(?p NOT IN ({skip_p})) }}
    BIND(EXISTS {{ ?annotation <{OA}hasBody> ?resource ; <{RDF_TYPE}> <{OA}Annotation> }} AS ?evidenced)
  }}
  FILTER({graph_filter})
}} ORDER BY ?g ?resource
"""


#: SELECT over a dataset of annotations: one row per (annotation, quote selector, position selector).
SELECTIONS_QUERY = f"""
SELECT ?annotation ?document ?exact ?prefix ?suffix ?start ?end WHERE {{
  GRAPH ?g {{
    ?annotation <{RDF_TYPE}> <{OA}Annotation> ; <{OA}hasTarget> ?target .
    ?target <{OA}hasSource> ?document ; <{OA}hasSelector> ?quote .
    ?quote <{RDF_TYPE}> <{OA}TextQuoteSelector> ; <{OA}exact> ?exact .
    OPTIONAL {{ ?quote <{OA}prefix> ?prefix }}
    OPTIONAL {{ ?quote <{OA}suffix> ?suffix }}
    OPTIONAL {{ ?target <{OA}hasSelector> ?position .
               ?position <{RDF_TYPE}> <{OA}TextPositionSelector> ; <{OA}start> ?start ; <{OA}end> ?end }}
  }}
}}
"""
