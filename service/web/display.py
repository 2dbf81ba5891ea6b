"""How RDF terms are shown to people — the one place every page takes it from.

Why one module: the query page, the canned-query tables, the RDF pages and the entity, document, search and browse
pages must all show a resource by its name (the IRI as secondary text or tooltip), a literal without ``@en`` or
``^^xsd:…`` clutter, and a date at the precision the source gives it ("November 2012", not "2012-11-01"). Written
once here and registered as Jinja filters (:func:`init_app`): ``term``, ``label``, ``literal``, ``curie``,
``href``.

Labels are looked up in batches (:func:`labels`, one SPARQL query for many IRIs) and kept per store write
generation in a :class:`~service.canned.cache.GenerationCache`, so a page with a hundred resources asks the store
once, and a write that renames a resource is seen by the next page.

Terms may come as pyoxigraph terms (``StoreClient.select``/``construct``), as SPARQL JSON result terms (``{"type":
"uri", "value": …}``) or as plain IRI strings; :func:`normalize` turns each into a :class:`Term`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from flask import Flask, current_app, url_for
from markupsafe import Markup, escape

from service.canned.cache import GenerationCache
from service.rdf.vocabulary import (
    DCT_TITLE,
    FOAF_NAME,
    ONTOLOGY_NS,
    RDF_LANGSTRING,
    RDF_TYPE,
    RDFS_COMMENT,
    RDFS_LABEL,
    RESOURCE_NS,
    SHAPES_NS,
    SKOS_ALT_LABEL,
    SKOS_PREF_LABEL,
    XSD,
    XSD_DATE,
    XSD_DATETIME,
    XSD_GYEAR,
    XSD_STRING,
    curie,
    expand_name,
)
from service.web.context import get_store

EXTENSION_KEY = "dprk_kg_labels"
#: ``app.extensions`` key: the app's route rules, read once (:func:`_has_rule`).
RULES_KEY = "dprk_kg_route_rules"

XSD_GYEARMONTH = XSD + "gYearMonth"
#: Extended Date/Time Format strings (ISO 8601-2): ours, and the Library of Congress datatype IRIs.
EDTF_DATATYPES = frozenset({ONTOLOGY_NS + "EDTF", "http://id.loc.gov/datatypes/edtf/EDTF",
                            "http://id.loc.gov/datatypes/edtf"})
_NUMERIC = frozenset({XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short",
                                        "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
                                        "negativeInteger", "unsignedInt", "unsignedLong")})

#: The properties that name a resource, best first; an English value beats a value in another language.
LABEL_PROPERTIES: tuple[str, ...] = (RDFS_LABEL, SKOS_PREF_LABEL, FOAF_NAME, DCT_TITLE)

#: Names of well-known W3C and community terms, for pages (our ontology's terms carry their own rdfs:label).
WELL_KNOWN_LABELS: dict[str, str] = {
    RDF_TYPE: "type",
    RDFS_LABEL: "label",
    RDFS_COMMENT: "comment",
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": "see also",
    "http://www.w3.org/2000/01/rdf-schema#subClassOf": "subclass of",
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf": "subproperty of",
    "http://www.w3.org/2000/01/rdf-schema#domain": "domain",
    "http://www.w3.org/2000/01/rdf-schema#range": "range",
    "http://www.w3.org/2002/07/owl#sameAs": "same as",
    SKOS_PREF_LABEL: "preferred name",
    SKOS_ALT_LABEL: "also known as",
    "http://www.w3.org/2004/02/skos/core#exactMatch": "same as (exact match)",
    "http://www.w3.org/2004/02/skos/core#closeMatch": "close match",
    "http://www.w3.org/2004/02/skos/core#definition": "definition",
    "http://www.w3.org/2004/02/skos/core#note": "note",
    FOAF_NAME: "name",
    DCT_TITLE: "title",
    "http://purl.org/dc/terms/description": "description",
    "http://purl.org/dc/terms/source": "source",
    "http://purl.org/dc/terms/publisher": "publisher",
    "http://purl.org/dc/terms/creator": "creator",
    "http://purl.org/dc/terms/issued": "issued",
    "http://purl.org/dc/terms/modified": "modified",
    "http://purl.org/dc/terms/license": "licence",
    "http://purl.org/dc/terms/identifier": "identifier",
    "http://www.w3.org/ns/prov#generatedAtTime": "recorded at",
    "http://www.w3.org/ns/prov#wasDerivedFrom": "derived from",
}

#: How the RDF syntaxes are named in download links, by the format table's short name.
FORMAT_LABELS: dict[str, str] = {"turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD",
                                 "rdfxml": "RDF/XML", "nquads": "N-Quads", "trig": "TriG", "json": "JSON",
                                 "xml": "XML", "csv": "CSV", "tsv": "TSV"}


def format_label(name: str) -> str:
    """A format's name as a download link shows it (``Turtle``, ``JSON-LD``)."""
    return FORMAT_LABELS.get(name, name.upper())


#: Until entity pages exist, links to our resources open this canned query (what the documents say about them).
ABOUT_QUERY = "about-entity"

#: How many labels are kept per write generation.
LABEL_CACHE_SIZE = 20_000
#: How many IRIs one look-up query carries.
BATCH = 400

_MONTHS = list(calendar.month_name)
_SEASONS = {21: "spring", 22: "summer", 23: "autumn", 24: "winter"}


@dataclass(frozen=True)
class Term:
    """An RDF term reduced to what display needs."""

    kind: str  # "iri" | "literal" | "bnode" | "triple"
    value: str
    datatype: str | None = None
    lang: str | None = None

    @property
    def is_iri(self) -> bool:
        return self.kind == "iri"


def normalize(term: Any) -> Term | None:
    """A pyoxigraph term, a SPARQL JSON term, a :class:`Term` or an IRI string → a :class:`Term` (None stays None)."""
    if term is None or isinstance(term, Term):
        return term
    if isinstance(term, ox.NamedNode):
        return Term("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return Term("bnode", term.value)
    if isinstance(term, ox.Literal):
        return Term("literal", term.value, term.datatype.value, term.language)
    if isinstance(term, ox.Triple):
        return Term("triple", str(term))
    if isinstance(term, Mapping):
        kind = term.get("type")
        if kind == "uri":
            return Term("iri", term["value"])
        if kind == "bnode":
            return Term("bnode", term["value"])
        if kind in ("literal", "typed-literal"):
            lang = term.get("xml:lang")
            return Term("literal", term["value"], RDF_LANGSTRING if lang else term.get("datatype", XSD_STRING), lang)
        if kind == "triple":
            return Term("triple", str(term.get("value")))
    if isinstance(term, str):
        return Term("iri", expand_name(term) if not term.startswith(("http://", "https://")) else term)
    raise TypeError(f"not an RDF term: {term!r}")


# -- literals ------------------------------------------------------------------------------------------------


def format_date(value: str, datatype: str | None) -> str:
    """A date at the precision its datatype states: ``15 November 2012``, ``November 2012``, ``2012``.

    Values that do not parse are shown as written — never more precise, never dropped.
    """
    text = value.strip()
    if datatype in EDTF_DATATYPES:
        return format_edtf(text)
    if datatype == XSD_GYEAR:
        match = re.fullmatch(r"(-?\d{4,})(Z|[+-]\d\d:\d\d)?", text)
        return _year(match.group(1)) if match else text
    if datatype == XSD_GYEARMONTH:
        match = re.fullmatch(r"(-?\d{4,})-(\d\d)(Z|[+-]\d\d:\d\d)?", text)
        if match and 1 <= int(match.group(2)) <= 12:
            return f"{_MONTHS[int(match.group(2))]} {_year(match.group(1))}"
        return text
    if datatype == XSD_DATE:
        match = re.fullmatch(r"(-?\d{4,})-(\d\d)-(\d\d)(Z|[+-]\d\d:\d\d)?", text)
        if match and 1 <= int(match.group(2)) <= 12:
            return f"{int(match.group(3))} {_MONTHS[int(match.group(2))]} {_year(match.group(1))}"
        return text
    if datatype == XSD_DATETIME:
        match = re.fullmatch(r"(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?(Z|[+-]\d\d:\d\d)?", text)
        if match and 1 <= int(match.group(2)) <= 12:
            zone = match.group(7) or ""
            zone = " UTC" if zone in ("Z", "+00:00") else (f" (UTC{zone})" if zone else "")
            return (f"{int(match.group(3))} {_MONTHS[int(match.group(2))]} {_year(match.group(1))}, "
                    f"{match.group(4)}:{match.group(5)}{zone}")
        return text
    return text


def _year(text: str) -> str:
    year = int(text)
    return f"{-year + 1} BC" if year <= 0 else str(year)


def format_edtf(text: str) -> str:
    """An EDTF (ISO 8601-2) string in words: ``199X`` → "the 1990s", ``1990~`` → "about 1990",
    ``2012-11/2013-02`` → "November 2012 – February 2013", ``2012-21`` → "spring 2012".

    Anything the reader does not recognise is shown as written.
    """
    text = text.strip()
    if "/" in text:
        start, _, end = text.partition("/")
        if start in ("", "..") and end not in ("", ".."):
            return f"until {format_edtf(end)}"
        if end in ("", "..") and start not in ("", ".."):
            return f"from {format_edtf(start)}"
        return f"{format_edtf(start)} – {format_edtf(end)}"
    if text.startswith("[") or text.startswith("{"):
        joiner = " or " if text.startswith("[") else " and "
        return joiner.join(format_edtf(part) for part in text.strip("[]{}").split(","))
    qualifier = ""
    if text.endswith("%"):
        qualifier, text = "about {} (uncertain)", text[:-1]
    elif text.endswith("~"):
        qualifier, text = "about {}", text[:-1]
    elif text.endswith("?"):
        qualifier, text = "{} (uncertain)", text[:-1]
    words = _edtf_value(text)
    if words is None:
        return text + {"about {} (uncertain)": "%", "about {}": "~", "{} (uncertain)": "?"}.get(qualifier, "")
    return qualifier.format(words) if qualifier else words


def _edtf_value(text: str) -> str | None:
    match = re.fullmatch(r"(\d{2})XX", text)
    if match:
        return f"the {int(match.group(1)) + 1}{_ordinal(int(match.group(1)) + 1)} century"
    match = re.fullmatch(r"(\d{3})X", text)
    if match:
        return f"the {match.group(1)}0s"
    match = re.fullmatch(r"(\d{4})", text)
    if match:
        return match.group(1)
    match = re.fullmatch(r"(\d{4})-(\d\d)", text)
    if match:
        month = int(match.group(2))
        if 1 <= month <= 12:
            return f"{_MONTHS[month]} {match.group(1)}"
        if month in _SEASONS:
            return f"{_SEASONS[month]} {match.group(1)}"
        return None
    match = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", text)
    if match and 1 <= int(match.group(2)) <= 12:
        return f"{int(match.group(3))} {_MONTHS[int(match.group(2))]} {match.group(1)}"
    return None


def _ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def format_literal(value: str, datatype: str | None = None, lang: str | None = None) -> str:
    """A literal's text as people read it: dates at their precision, numbers as numbers, strings as they are."""
    if datatype in (XSD_DATE, XSD_GYEAR, XSD_GYEARMONTH, XSD_DATETIME) or datatype in EDTF_DATATYPES:
        return format_date(value, datatype)
    if datatype in _NUMERIC:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        if number == number.to_integral_value() and "e" not in value.lower():
            return f"{int(number):,}"
        return value
    if datatype == XSD + "boolean":
        return {"true": "yes", "1": "yes", "false": "no", "0": "no"}.get(value, value)
    return value


def literal_note(term: Term) -> str | None:
    """The secondary text of a literal (its language or datatype, for a tooltip), or None for a plain string."""
    if term.lang:
        return f"language: {term.lang}"
    if term.datatype and term.datatype not in (XSD_STRING, RDF_LANGSTRING):
        return curie(term.datatype, brackets=True)
    return None


# -- labels ----------------------------------------------------------------------------------------------------


def _cache() -> GenerationCache[str]:
    cache = current_app.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = current_app.extensions[EXTENSION_KEY] = GenerationCache(LABEL_CACHE_SIZE)
    return cache


def _rank(predicate: str, lang: str) -> tuple[int, int]:
    language = 0 if lang.lower().startswith("en") else (1 if not lang else 2)
    return language, LABEL_PROPERTIES.index(predicate)


def labels(iris: Iterable[str]) -> dict[str, str]:
    """The best label of each IRI that has one (English ``rdfs:label`` first), looked up in batches and cached
    until the next write. IRIs without a label are left out of the answer."""
    store = get_store()
    generation = store.generation
    cache = _cache()
    found: dict[str, str] = {}
    missing: list[str] = []
    for iri in dict.fromkeys(iris):
        known = cache.get(iri, generation)
        if known is None:
            missing.append(iri)
        elif known:
            found[iri] = known
    for start in range(0, len(missing), BATCH):
        chunk = missing[start:start + BATCH]
        best: dict[str, tuple[tuple[int, int], str]] = {}
        for subject, predicate, label in _lookup(store, chunk):
            rank = _rank(predicate.value, label.language or "")
            if subject.value not in best or rank < best[subject.value][0]:
                best[subject.value] = (rank, label.value)
        for iri in chunk:
            text = best[iri][1] if iri in best else WELL_KNOWN_LABELS.get(iri, "")
            cache.put(iri, generation, text)  # "" remembers "no label" (None means "not looked up")
            if text:
                found[iri] = text
    return found


def _lookup(store: Any, iris: list[str]) -> list[tuple[Any, Any, Any]]:
    """(subject, property, label) for the IRIs, from the default graph and every named graph."""
    values = " ".join(f"<{iri}>" for iri in iris if _safe_iri(iri))
    if not values:
        return []
    properties = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    sparql = (f"SELECT DISTINCT ?s ?p ?label WHERE {{ VALUES ?s {{ {values} }} VALUES ?p {{ {properties} }} "
              "{ ?s ?p ?label } UNION { GRAPH ?g { ?s ?p ?label } } FILTER(isLiteral(?label)) }")
    rows = store.select(sparql, timeout=10.0)
    return [tuple(row) for row in rows.rows]  # type: ignore[misc]


def _safe_iri(iri: str) -> bool:
    """Whether ``iri`` can be written as ``<iri>`` in SPARQL text (no characters an IRIREF forbids)."""
    return not re.search(r'[\x00-\x20<>"{}|^`\\]', iri)


def label(term: Any) -> str:
    """The text a person reads for a term: a resource's label (else its prefixed name), a literal's formatted
    value, ``_:b0`` for a blank node."""
    shown = normalize(term)
    if shown is None:
        return ""
    if shown.kind == "iri":
        return labels([shown.value]).get(shown.value) or curie(shown.value, brackets=True)
    if shown.kind == "literal":
        return format_literal(shown.value, shown.datatype, shown.lang)
    if shown.kind == "bnode":
        return "_:" + shown.value
    return shown.value


# -- links ------------------------------------------------------------------------------------------------------


def _has_rule(prefix: str) -> bool:
    """Whether some route of the app starts with ``prefix`` (the rules are read once: routes are fixed at start)."""
    rules = current_app.extensions.get(RULES_KEY)
    if rules is None:
        rules = current_app.extensions[RULES_KEY] = tuple(rule.rule for rule in current_app.url_map.iter_rules())
    return any(rule.startswith(prefix) for rule in rules)


def href(iri: str) -> str | None:
    """Where a link to ``iri`` goes: our resources to their page here (``/id/<slug>`` when that route exists,
    else the ``about-entity`` canned query), ontology terms to the ontology page, other http(s) IRIs to
    themselves; None for anything else. With the setting NAMESPACE_LINKS 'public', our namespace's IRIs are
    linked as they are (w3id.org forwards them to the deployment)."""
    if current_app.config.get("NAMESPACE_LINKS") == "public" and iri.startswith((RESOURCE_NS, ONTOLOGY_NS, SHAPES_NS)):
        return iri
    if iri.startswith(RESOURCE_NS):
        slug = iri[len(RESOURCE_NS):]
        if _has_rule("/id/"):
            return "/id/" + quote(slug, safe="/-._~")
        if "canned.run_query" in current_app.view_functions:
            return url_for("canned.run_query", target=ABOUT_QUERY) + "?entity=" + quote(curie(iri), safe=":")
        return iri
    if iri.startswith(ONTOLOGY_NS) and _has_rule("/ontology"):
        return "/ontology#" + quote(iri[len(ONTOLOGY_NS):], safe="-._~")
    if iri.startswith(SHAPES_NS) and _has_rule("/shapes"):
        return "/shapes#" + quote(iri[len(SHAPES_NS):], safe="-._~")
    if iri.startswith(("http://", "https://")):
        return iri
    return None


# -- HTML ------------------------------------------------------------------------------------------------------


def term_html(term: Any, *, link: bool = True, show_iri: bool = False, label_text: str | None = None) -> Markup:
    """One term as HTML: a resource as its label linked to its page (full IRI as tooltip, its prefixed name as
    secondary text with ``show_iri``), a literal as its formatted text (language or datatype as tooltip)."""
    shown = normalize(term)
    if shown is None:
        return Markup("")
    if shown.kind == "iri":
        text = label_text or labels([shown.value]).get(shown.value)
        short = curie(shown.value, brackets=True)
        target = href(shown.value) if link else None
        inner = escape(text or short)
        if target:
            inner = Markup('<a href="{}" title="{}">{}</a>').format(target, shown.value, inner)
        else:
            inner = Markup('<span title="{}">{}</span>').format(shown.value, inner)
        if show_iri and text:
            inner += Markup(' <span class="iri-secondary">{}</span>').format(short)
        return Markup('<span class="term-iri">{}</span>').format(inner)
    if shown.kind == "literal":
        note = literal_note(shown)
        text = format_literal(shown.value, shown.datatype, shown.lang)
        lang = Markup(' lang="{}"').format(shown.lang) if shown.lang else Markup("")
        title = Markup(' title="{}"').format(note) if note else Markup("")
        return Markup('<span class="term-literal"{}{}>{}</span>').format(lang, title, text)
    if shown.kind == "bnode":
        return Markup('<span class="bnode">_:{}</span>').format(shown.value)
    return Markup('<span class="term-triple">{}</span>').format(shown.value)


def prefetch(terms: Iterable[Any]) -> None:
    """Look up, in one batch, the labels of every IRI among ``terms`` (pages call this before rendering)."""
    iris = []
    for term in terms:
        shown = normalize(term)
        if shown is not None and shown.kind == "iri":
            iris.append(shown.value)
    labels(iris)


@dataclass(frozen=True)
class Table:
    """A SELECT answer ready for a template: column names and rows of HTML cells."""

    variables: list[str]
    rows: list[list[Markup]]


def results_table(data: Mapping[str, Any]) -> Table:
    """SPARQL JSON results → a :class:`Table` (labels looked up in one batch)."""
    variables = list(data["head"]["vars"])
    bindings = data["results"]["bindings"]
    prefetch(b[v] for b in bindings for v in variables if v in b)
    return Table(variables, [[term_html(b.get(v)) for v in variables] for b in bindings])


# -- graphs ------------------------------------------------------------------------------------------------------

#: Properties shown first on a subject, in this order (the rest follow by label).
LEADING_PROPERTIES: tuple[str, ...] = (RDF_TYPE, *LABEL_PROPERTIES, SKOS_ALT_LABEL, RDFS_COMMENT)


@dataclass(frozen=True)
class Subject:
    """One subject of a graph as a page shows it: its term, its anchor, and its properties with their values."""

    term: Term
    anchor: str
    properties: list[tuple[Term, list[Term]]]

    @property
    def heading(self) -> Markup:
        if self.term.kind == "bnode":
            return Markup('<span class="bnode">(unnamed node {})</span>').format(self.term.value)
        return term_html(self.term, show_iri=True)


def anchor_of(term: Term) -> str:
    """The fragment a subject's section has on a graph page (``s-`` + a readable tail, ``b-`` + a blank node id)."""
    if term.kind == "bnode":
        return "b-" + re.sub(r"[^A-Za-z0-9_-]", "-", term.value)
    return "s-" + re.sub(r"[^A-Za-z0-9_-]+", "-", term.value.rstrip("/#").rsplit("/", 1)[-1]).strip("-")


def graph_subjects(triples: Iterable[Any]) -> list[Subject]:
    """Triples grouped by subject, labels looked up in one batch: named subjects by label, then blank nodes;
    ``rdf:type`` and the naming properties first, then the others by label; values in a stable order.

    Accepts pyoxigraph triples or quads, or ``(s, p, o)`` tuples of anything :func:`normalize` reads.
    """
    grouped: dict[Term, dict[Term, list[Term]]] = {}
    seen: set[tuple[Term, Term, Term]] = set()
    for triple in triples:
        s, p, o = (normalize(t) for t in (triple[0], triple[1], triple[2]))  # type: ignore[index]
        if s is None or p is None or o is None or (s, p, o) in seen:
            continue
        seen.add((s, p, o))
        grouped.setdefault(s, {}).setdefault(p, []).append(o)
    names = labels([t.value for t in {*grouped, *(p for props in grouped.values() for p in props),
                                      *(o for props in grouped.values() for v in props.values() for o in v)}
                    if t.kind == "iri"])

    def name(term: Term) -> str:
        return (names.get(term.value) or curie(term.value, brackets=True)).casefold() if term.is_iri else term.value

    def property_key(term: Term) -> tuple[int, str]:
        if term.value in LEADING_PROPERTIES:
            return LEADING_PROPERTIES.index(term.value), ""
        return len(LEADING_PROPERTIES), name(term)

    def value_key(term: Term) -> tuple[int, str, str]:
        return ({"iri": 0, "literal": 1}.get(term.kind, 2), (term.lang or "") if term.lang != "en" else "",
                name(term))

    anchors: dict[str, int] = {}
    subjects = []
    for subject in sorted(grouped, key=lambda t: (t.kind == "bnode", name(t), t.value)):
        anchor = anchor_of(subject)
        anchors[anchor] = anchors.get(anchor, 0) + 1
        if anchors[anchor] > 1:
            anchor = f"{anchor}-{anchors[anchor]}"
        properties = [(p, sorted(values, key=value_key))
                      for p, values in sorted(grouped[subject].items(), key=lambda item: property_key(item[0]))]
        subjects.append(Subject(subject, anchor, properties))
    return subjects


def value_html(term: Term, subjects: Iterable[Subject] = ()) -> Markup:
    """A value on a graph page: a blank node described on the same page links to its section."""
    if term.kind == "bnode":
        for subject in subjects:
            if subject.term == term:
                return Markup('<a class="bnode" href="#{}">(unnamed node {})</a>').format(subject.anchor, term.value)
    return term_html(term)


def init_app(app: Flask) -> None:
    """Register the display filters with the app's templates: ``term``, ``label``, ``literal``, ``curie``,
    ``href``, and ``prefetch_labels`` as a global."""
    app.extensions.setdefault(EXTENSION_KEY, GenerationCache(LABEL_CACHE_SIZE))
    app.add_template_filter(term_html, "term")
    app.add_template_filter(label, "label")
    app.add_template_filter(lambda value, datatype=None, lang=None: format_literal(str(value), datatype, lang),
                            "literal")
    app.add_template_filter(lambda iri: curie(str(iri), brackets=True), "curie")
    app.add_template_filter(href, "href")
    app.add_template_filter(value_html, "value")
    app.add_template_filter(format_label, "format_label")
    app.jinja_env.globals["prefetch_labels"] = prefetch
