"""The entity page and the document page: what the store says about a resource, arranged for a reader.

Why pages are built from quads: every fact on them carries the named graph it was read from, and that graph is
the source document stating it — so each value gets the badges of the documents that state it, and the evidence
passage (a Web Annotation in the same graph whose ``oa:hasBody`` is the resource) can be shown beside it. The data
comes from :mod:`service.store.describe` in two queries (the resource's description; the resources that link to
it), kept until the next write; the store's vocabulary (term labels, class tree, documents) is read once per write.

Names come first everywhere: the English label as the title, the forms in Korean, Japanese and Chinese the texts
give beside it, IRIs as tooltips; literals are shown by :mod:`service.web.display` (dates at their precision).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from flask import current_app, render_template, request, url_for
from markupsafe import Markup, escape

from service.canned.cache import GenerationCache
from service.rdf.vocabulary import (
    DCT,
    FOAF,
    LINKS_GRAPH,
    ONTOLOGY_GRAPH,
    ONTOLOGY_NS,
    ORG,
    OWL_SAME_AS,
    PROV,
    RDF,
    RDF_TYPE,
    RDFS_COMMENT,
    RDFS_LABEL,
    RDFS_SEE_ALSO,
    RESOURCE_NS,
    SCHEMA,
    SKOS_ALT_LABEL,
    SKOS_EXACT_MATCH,
    SKOS_PREF_LABEL,
    curie,
)
from service.store import describe
from service.web import display
from service.web.context import get_store

DJ = ONTOLOGY_NS
OA = describe.OA
SKOS_NOTE = "http://www.w3.org/2004/02/skos/core#note"

#: Languages whose forms are shown under the title, in this order, with their names.
SCRIPTS = {"ko": "Korean", "ja": "Japanese", "zh": "Chinese"}

#: Predicates shown in their own place on the page, not among the facts.
_NOT_FACTS = frozenset({
    RDF_TYPE, RDFS_LABEL, SKOS_PREF_LABEL, SKOS_ALT_LABEL, DCT + "description", RDFS_COMMENT, DCT + "source",
    SKOS_EXACT_MATCH, OWL_SAME_AS, DJ + "candidateMatch", DJ + "hasMembership",
    DJ + "subOrganizationOf", DJ + "parentState", ORG + "subOrganizationOf",
})
_PARENTS = (DJ + "parentState", DJ + "subOrganizationOf", ORG + "subOrganizationOf")
_LINK_PREDICATES = (SKOS_EXACT_MATCH, OWL_SAME_AS, DJ + "candidateMatch")
_DATES = (DJ + "startDate", DJ + "edtf", DJ + "claimDate", DJ + "endDate")
#: Where a document's original may be found, when the data records it.
_ORIGINAL_URL = (SCHEMA + "url", FOAF + "page", DCT + "identifier", PROV + "hadPrimarySource", RDFS_SEE_ALSO)
_URL = re.compile(r"https?://[^\s<>\"')]+[^\s<>\"').,;:]")


#: ``app.extensions`` key: pages' data per (IRI) until the next write (see :func:`neighbourhood`).
CACHE_KEY = "dprk_kg_resource_cache"
#: ``app.extensions`` key: rendered pages until the next write (large ones are not kept).
HTML_CACHE_KEY = "dprk_kg_resource_pages"
#: ``app.extensions`` key: the store's vocabulary (:class:`describe.Terms`) per write generation.
TERMS_KEY = "dprk_kg_resource_terms"


def init_app(app: Any) -> None:
    """Give the app its caches (one per app, so one store and one write generation) and its external facts."""
    app.extensions[CACHE_KEY] = GenerationCache[Any](256)
    app.extensions[TERMS_KEY] = GenerationCache[describe.Terms](1)
    app.extensions[HTML_CACHE_KEY] = GenerationCache[str](128, weigh=len, max_weight=1 << 20)
    from service.linking import external

    app.extensions[external.EXTENSION_KEY] = external.ExternalFacts(
        app.config.get("EXTERNAL_FACTS_ENDPOINTS") or {}, timeout=float(app.config.get("EXTERNAL_FACTS_TIMEOUT")
                                                                      or 0))


# -- data ----------------------------------------------------------------------------------------------------


def terms() -> describe.Terms:
    """The store's vocabulary, read once per write generation."""
    store = get_store()
    return current_app.extensions[TERMS_KEY].get_or_compute("terms", store.generation,
                                                            lambda: describe.terms(store))


def cached(kind: str, iri: str, compute: Any) -> Any:
    """``compute()`` for (kind, iri), kept until the next write."""
    store = get_store()
    return current_app.extensions[CACHE_KEY].get_or_compute((kind, iri), store.generation, compute)


# -- small pieces -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """A source of a value: the document (or graph) stating it, as a short name linked to its page."""

    text: str
    title: str
    href: str | None


@dataclass
class Evidence:
    """A passage of a source document that states a fact (a Web Annotation), numbered as a footnote."""

    iri: str
    document: str
    quote: str
    number: int = 0
    href: str = ""


@dataclass
class Value:
    """One value of a property, with the documents stating it and the passages that show it."""

    term: Any
    graphs: list[str] = field(default_factory=list)
    badges: list[Badge] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    nested: list[tuple[str, list[Value]]] = field(default_factory=list)  # a blank node's own facts


@dataclass
class Fact:
    """A property and its values."""

    predicate: str
    name: str
    values: list[Value]


@dataclass
class Row:
    """A resource that links to the entity (an event, a membership, a claim …), with what the page shows of it."""

    iri: Any
    types: list[str]
    via: list[str]  # names of the properties linking it to the entity
    graphs: set[str]
    props: dict[str, list[Any]]
    badges: list[Badge] = field(default_factory=list)

    def first(self, predicate: str) -> Any:
        values = self.props.get(predicate)
        return values[0] if values else None


class Context:
    """What building one page needs: the vocabulary, the labels seen, the graphs' badges, footnotes."""

    def __init__(self, terms: describe.Terms, quads: Iterable[ox.Quad]) -> None:
        self.terms = terms
        #: Labels seen on this page; the vocabulary's are looked up after them (never copied, never changed).
        self.labels: dict[str, dict[str, list[str]]] = {}
        for quad in quads:
            if quad.predicate.value in describe.LABEL_PREDICATES and isinstance(quad.subject, ox.NamedNode):
                describe.add_label(self.labels, quad.subject.value, quad.object)
        self.footnotes: list[Evidence] = []
        self._by_subject: dict[int, tuple[list[ox.Quad], dict[Any, list[ox.Quad]]]] = {}
        self._badges: dict[str, Badge] = {}

    def by_subject(self, quads: list[ox.Quad]) -> dict[Any, list[ox.Quad]]:
        """``quads`` indexed by subject (built once per list)."""
        entry = self._by_subject.get(id(quads))
        if entry is None or entry[0] is not quads:
            index: dict[Any, list[ox.Quad]] = {}
            for quad in quads:
                index.setdefault(quad.subject, []).append(quad)
            entry = self._by_subject[id(quads)] = (quads, index)
        return entry[1]

    def label(self, iri: str) -> str | None:
        """The best name of ``iri`` among the labels seen: English, then no language, then any."""
        forms = self.labels.get(iri) or self.terms.labels.get(iri)
        if not forms:
            return None
        for lang in ("en", ""):
            if forms.get(lang):
                return forms[lang][0]
        for lang, values in forms.items():
            if lang.startswith("en") and values:
                return values[0]
        return next((v[0] for v in forms.values() if v), None)

    def name(self, predicate: str) -> str:
        """A property's name as people read it (its label, else its prefixed name)."""
        return self.label(predicate) or curie(predicate, brackets=True)

    def badge(self, graph: str) -> Badge:
        badge = self._badges.get(graph)
        if badge is None:
            badge = self._badges[graph] = self._badge(graph)
        return badge

    def _badge(self, graph: str) -> Badge:
        document = self.terms.document_of(graph)
        if document is not None:
            slug = document[len(RESOURCE_NS):] if document.startswith(RESOURCE_NS) else document
            title = self.terms.documents.get(document, slug)
            if document != graph:
                title += f" (ingested in graph {graph})"
            return Badge(slug, title, link(document))
        if graph == LINKS_GRAPH:
            return Badge("links", "The external links graph, with each link's provenance", None)
        if graph == ONTOLOGY_GRAPH:
            return Badge("ontology", "The ontology", link(ONTOLOGY_NS))
        return Badge(curie(graph), graph, None)

    def badges(self, graphs: Iterable[str]) -> list[Badge]:
        return [self.badge(g) for g in sorted(set(graphs), key=lambda g: self.badge(g).text)]

    def footnote(self, evidence: Evidence) -> Evidence:
        if not evidence.number:
            self.footnotes.append(evidence)
            evidence.number = len(self.footnotes)
        return evidence


def link(iri: str) -> str:
    """Where a page links ``iri`` (:func:`service.web.display.href`: here, or the public IRI with the setting
    NAMESPACE_LINKS 'public')."""
    return display.href(iri) or iri


def render_term(term: Any, context: Context) -> Markup:
    """A term as HTML (:func:`service.web.display.term_html`), named from the labels this page has seen."""
    if isinstance(term, ox.NamedNode):
        text = context.label(term.value) or curie(term.value, brackets=True)
        return display.term_html(term, label_text=text)
    return display.term_html(term)


def autolink(text: str) -> Markup:
    """Plain text with its web addresses as links (the attribution notes name the public copies they checked)."""
    out, last = [], 0
    for match in _URL.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<a href="{0}" rel="external noopener">{0}</a>').format(match.group(0)))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


_SORTABLE = re.compile(r"-?\d{2}[\dX]{2}(?:-\d\d){0,2}")


def _date_key(row: Row) -> tuple[int, str]:
    """Events and memberships sort by the first calendar value their dates give; undated ones last."""
    for predicate in _DATES:
        for value in row.props.get(predicate, []):
            match = _SORTABLE.search(value.value) if isinstance(value, ox.Literal) else None
            if match:
                return 0, match.group(0).replace("X", "0")  # EDTF "199X" (the 1990s) sorts as 1990
    return 1, ""


def when(row: Row) -> list[Any]:
    """A row's time as the text states it: its EDTF value (the text's own precision and span) when it has one,
    else its start (and a different end), else a claim's date."""
    edtf = row.props.get(DJ + "edtf", [])
    if edtf:
        return edtf[:1]
    start = row.props.get(DJ + "startDate", [])[:1]
    end = [e for e in row.props.get(DJ + "endDate", [])[:1] if not start or e.value != start[0].value]
    if start or end:
        return start + end
    return row.props.get(DJ + "claimDate", [])[:1]


# -- evidence -------------------------------------------------------------------------------------------------------


def evidence_index(quads: Iterable[ox.Quad], body: str | None = None
                   ) -> dict[tuple[str, str, str | None], list[Evidence]]:
    """The passages among ``quads``: (graph, resource, property or None) → evidence. ``body`` keeps only the
    annotations of one resource."""
    by_subject: dict[tuple[str, Any], dict[str, list[Any]]] = {}
    for quad in quads:
        key = (quad.graph_name.value, quad.subject)
        by_subject.setdefault(key, {}).setdefault(quad.predicate.value, []).append(quad.object)
    out: dict[tuple[str, str, str | None], list[Evidence]] = {}
    for (graph, subject), props in by_subject.items():
        bodies = [b.value for b in props.get(OA + "hasBody", []) if isinstance(b, ox.NamedNode)]
        if not bodies or not isinstance(subject, ox.NamedNode):
            continue
        quote_text = ""
        for target in props.get(OA + "hasTarget", []):
            for selector in by_subject.get((graph, target), {}).get(OA + "hasSelector", []):
                for exact in by_subject.get((graph, selector), {}).get(OA + "exact", []):
                    quote_text = exact.value
        if not quote_text:
            continue
        document = graph
        states = [p.value for p in props.get(DJ + "statesProperty", [])] or [None]
        evidence = Evidence(subject.value, document, quote_text,
                            href=link(document) + "#" + anchor(subject.value))
        for resource in bodies:
            if body is not None and resource != body:
                continue
            for predicate in states:
                out.setdefault((graph, resource, predicate), []).append(evidence)
    return out


def anchor(iri: str) -> str:
    """The fragment naming a resource's section on a document page."""
    return "r-" + re.sub(r"[^A-Za-z0-9_-]+", "-", iri.rsplit("/", 1)[-1])


def general_evidence(index: dict[tuple[str, str, str | None], list[Evidence]], subject: str, context: Context
                     ) -> list[Evidence]:
    """The passages that support ``subject`` as a whole (no ``dj:statesProperty``), each a footnote."""
    found: list[Evidence] = []
    for (_, resource, predicate), values in sorted(index.items(), key=lambda kv: kv[0][0]):
        if resource == subject and predicate is None:
            found.extend(context.footnote(e) for e in values if e not in found)
    return found


def evidence_for(index: dict[tuple[str, str, str | None], list[Evidence]], graphs: Iterable[str], subject: str,
                 predicate: str, context: Context) -> list[Evidence]:
    found: list[Evidence] = []
    for graph in graphs:
        for evidence in index.get((graph, subject, predicate), []):
            if evidence not in found:
                found.append(context.footnote(evidence))
    return found


# -- facts of one subject -----------------------------------------------------------------------------------------


def facts_of(subject: Any, quads: list[ox.Quad], context: Context, *, skip: frozenset[str] = frozenset(),
             index: dict | None = None, depth: int = 0, badges: bool = True) -> list[Fact]:
    """The facts of ``subject`` among ``quads``, grouped by property, each value with its badges and passages."""
    grouped: dict[str, dict[Any, list[str]]] = {}
    for quad in context.by_subject(quads).get(subject, ()):
        if quad.predicate.value not in skip:
            grouped.setdefault(quad.predicate.value, {}).setdefault(quad.object, []).append(quad.graph_name.value)
    facts = []
    for predicate, values in grouped.items():
        shown = []
        for term, graphs in values.items():
            value = Value(term, graphs, context.badges(graphs) if badges else [])
            if index is not None and isinstance(subject, ox.NamedNode):
                value.evidence = evidence_for(index, graphs, subject.value, predicate, context)
            if isinstance(term, ox.BlankNode) and depth < describe.BLANK_DEPTH:
                value.nested = [(f.name, f.values) for f in facts_of(term, quads, context, depth=depth + 1,
                                                                     badges=badges)]
            shown.append(value)
        shown.sort(key=lambda v: (str(context.label(v.term.value) or v.term.value)
                                  if isinstance(v.term, ox.NamedNode) else v.term.value))
        facts.append(Fact(predicate, context.name(predicate), shown))
    facts.sort(key=lambda f: (f.predicate != RDF_TYPE, f.name.lower()))
    return facts


def names(subject: Any, quads: list[ox.Quad], context: Context) -> tuple[str, list[tuple[str, list[Value]]],
                                                                          list[Value]]:
    """The title (English label), the forms in :data:`SCRIPTS` (language name → values) and other names."""
    forms: dict[str, dict[str, list[str]]] = {}
    other: dict[Any, list[str]] = {}
    for quad in quads:
        if quad.subject != subject or not isinstance(quad.object, ox.Literal):
            continue
        if quad.predicate.value not in (RDFS_LABEL, SKOS_PREF_LABEL, SKOS_ALT_LABEL, DCT + "title", FOAF + "name"):
            continue
        lang = (quad.object.language or "").lower()
        base = lang.split("-")[0]
        if base in SCRIPTS:
            forms.setdefault(base, {}).setdefault(quad.object.value, []).append(quad.graph_name.value)
        elif quad.predicate.value == SKOS_ALT_LABEL or quad.object.value != context.label(subject.value):
            other.setdefault(quad.object, []).append(quad.graph_name.value)
    title = context.label(subject.value) if isinstance(subject, ox.NamedNode) else None
    scripts = [(SCRIPTS[lang], [Value(ox.Literal(text, language=lang), graphs, context.badges(graphs))
                                for text, graphs in forms[lang].items()]) for lang in SCRIPTS if lang in forms]
    others = [Value(term, graphs, context.badges(graphs)) for term, graphs in other.items()
              if term.value != title]
    return title or curie(subject.value), scripts, others


# -- the entity page ----------------------------------------------------------------------------------------------


@dataclass
class EntityPage:
    iri: str
    title: str
    scripts: list[tuple[str, list[Value]]]
    other_names: list[Value]
    types: list[Value]
    descriptions: list[Value]
    facts: list[Fact]
    differences: list[Fact]
    parents: list[Fact]
    children: list[Row]
    events: list[Row]
    memberships: list[Row]
    posts: list[Row]
    claims_about: list[tuple[str, list[Row]]]
    claims_by: list[Row]
    links_here: list[tuple[str, list[Row]]]
    external_links: list[dict[str, Any]]
    footnotes: list[Evidence]
    evidence: list[Evidence] = field(default_factory=list)


def _rows(incoming: list[ox.Quad], node: ox.NamedNode, context: Context) -> list[Row]:
    rows: dict[Any, Row] = {}
    for quad in incoming:
        row = rows.get(quad.subject)
        if row is None:
            row = rows[quad.subject] = Row(quad.subject, [], [], set(), {})
        if quad.object == node:
            name = context.name(quad.predicate.value)
            if name not in row.via:
                row.via.append(name)
            row.graphs.add(quad.graph_name.value)
        if quad.predicate.value == RDF_TYPE:
            if quad.object.value not in row.types:
                row.types.append(quad.object.value)
        elif quad.object not in row.props.get(quad.predicate.value, []):
            row.props.setdefault(quad.predicate.value, []).append(quad.object)
    linking_blanks = {key for key, row in rows.items() if isinstance(key, ox.BlankNode) and row.via}
    to_blanks: dict[Any, list[ox.Quad]] = {}
    for quad in incoming:
        if quad.object in linking_blanks:
            to_blanks.setdefault(quad.subject, []).append(quad)
    out = []
    for row in rows.values():
        if isinstance(row.iri, ox.BlankNode):  # a qualified attribution: its parent is listed instead
            continue
        if not row.via:
            through = to_blanks.get(row.iri, [])
            if not through:
                continue  # only named by a linking resource (its labels came along)
            row.via = [context.name(q.predicate.value) for q in through]
            row.graphs = {q.graph_name.value for q in through}
        row.badges = context.badges(row.graphs)
        out.append(row)
    return out


def _differences(facts: list[Fact]) -> list[Fact]:
    """Properties whose documents give different plain values (dates, numbers): shown side by side."""
    out = []
    for fact in facts:
        plain = [v for v in fact.values if isinstance(v.term, ox.Literal) and not v.term.language]
        documents = {g for v in plain for g in v.graphs}
        if len(plain) > 1 and len(documents) > 1 and not any(set(v.graphs) == documents for v in plain):
            out.append(fact)
    return out


def entity_page(iri: str) -> EntityPage:
    """Build the entity page of ``iri`` from its description and its incoming links (two queries, cached)."""
    store = get_store()
    quads = cached("rdf", iri, lambda: describe.description(store, iri))
    incoming = cached("incoming", iri, lambda: describe.incoming(store, iri))
    context = Context(terms(), [*quads, *incoming])
    node = ox.NamedNode(iri)
    index = evidence_index(quads, body=iri)
    # the targets and selectors of the passages about it (on a passage's own page they are its facts)
    annotation_parts = set() if any(q.subject == node and q.predicate.value == OA + "hasTarget" for q in quads) \
        else {q.object for q in quads if q.predicate.value in (OA + "hasTarget", OA + "hasSelector")}
    own = [q for q in quads if q.subject == node or
           (isinstance(q.subject, ox.BlankNode) and q.subject not in annotation_parts)]
    title, scripts, others = names(node, own, context)
    everything = facts_of(node, own, context, index=index)
    by_predicate = {f.predicate: f for f in everything}
    facts = [f for f in everything if f.predicate not in _NOT_FACTS]
    types = by_predicate[RDF_TYPE].values if RDF_TYPE in by_predicate else []
    descriptions = [v for p in (DCT + "description", RDFS_COMMENT) if p in by_predicate
                    for v in by_predicate[p].values]
    rows = _rows(incoming, node, context)
    vocabulary = context.terms
    events, memberships, posts, claims, children, links_records, rest = [], [], [], [], [], [], []
    for row in rows:
        if vocabulary.is_a(row.types, DJ + "Claim"):
            claims.append(row)
        elif vocabulary.is_a(row.types, DJ + "Membership"):
            memberships.append(row)
        elif vocabulary.is_a(row.types, ORG + "Post"):
            posts.append(row)
        elif vocabulary.is_a(row.types, OA + "Annotation") or any(p == OA + "hasBody" for p in row.props):
            continue  # evidence passages: shown as footnotes
        elif vocabulary.is_a(row.types, DJ + "ExternalLink"):
            links_records.append(row)
        elif vocabulary.is_a(row.types, DJ + "Event"):
            events.append(row)
        elif any(node in row.props.get(p, []) for p in _PARENTS):
            children.append(row)
        else:
            rest.append(row)
    events.sort(key=lambda r: (_date_key(r), context.label(r.iri.value) or ""))
    memberships.sort(key=lambda r: (_date_key(r), context.label(r.iri.value) or ""))
    about = [c for c in claims if node in c.props.get(DJ + "about", []) or (DJ + "about" not in c.props
             and node not in c.props.get(DJ + "claimant", []))]
    by_claimant = [c for c in claims if node in c.props.get(DJ + "claimant", []) and c not in about]
    groups: dict[str, list[Row]] = {}
    for claim in sorted(about, key=lambda r: (_date_key(r), r.iri.value)):
        kind = claim.first(DJ + "quantityKind")
        groups.setdefault(context.label(kind.value) if kind is not None else "Other claims", []).append(claim)
    links_here: dict[str, list[Row]] = {}
    for row in rest:
        for via in row.via:
            links_here.setdefault(via, []).append(row)
    for listed in links_here.values():
        listed.sort(key=lambda r: context.label(r.iri.value) or r.iri.value)
    page = EntityPage(
        iri=iri, title=title, scripts=scripts, other_names=others, types=types, descriptions=descriptions,
        facts=facts, differences=_differences(facts),
        parents=[by_predicate[p] for p in _PARENTS if p in by_predicate],
        children=sorted(children, key=lambda r: context.label(r.iri.value) or ""),
        events=events, memberships=memberships, posts=posts,
        claims_about=sorted(groups.items(), key=lambda kv: kv[0] == "Other claims"), claims_by=by_claimant,
        links_here=sorted(links_here.items()), external_links=_external_links(node, own, links_records, context),
        footnotes=context.footnotes, evidence=general_evidence(index, iri, context))
    page.context = context  # type: ignore[attr-defined]
    return page


def _external_links(node: ox.NamedNode, own: list[ox.Quad], records: list[Row], context: Context
                    ) -> list[dict[str, Any]]:
    by_target = {}
    for record in records:
        target = record.first(DJ + "linkTarget")
        if target is not None:
            by_target[target.value] = record
    out = []
    for quad in own:
        if quad.subject != node or quad.predicate.value not in _LINK_PREDICATES:
            continue
        record = by_target.get(quad.object.value)
        source = record.first(DCT + "source") if record else None
        out.append({
            "target": quad.object.value,
            "dataset": "Wikidata" if "wikidata.org" in quad.object.value else
                       "DBpedia" if "dbpedia.org" in quad.object.value else "",
            "relation": context.name(quad.predicate.value),
            "candidate": quad.predicate.value == DJ + "candidateMatch",
            "record": record,
            "status": record.first(DJ + "linkStatus") if record else None,
            "source": source,
            "generated": record.first(PROV + "generatedAtTime") if record else None,
            "note": record.first(DJ + "verificationNote") if record else None,
        })
    out.sort(key=lambda link_: (link_["dataset"] != "Wikidata", link_["target"]))
    return out


# -- the document page ----------------------------------------------------------------------------------------


@dataclass
class Section:
    """One subject the document states facts about."""

    iri: Any
    anchor: str
    title: str
    types: list[Value]
    facts: list[Fact]
    evidence: list[Evidence] = field(default_factory=list)


def document_sections(iri: str, context: Context) -> tuple[list[Section], list[Evidence]]:
    """Every fact the document's graph states, grouped by subject, with its passages."""
    store = get_store()
    quads = cached("graph", iri, lambda: describe.graph_quads(store, iri))
    own = [q for q in quads if q.graph_name.value == iri]
    for quad in quads:
        if quad.predicate.value in describe.LABEL_PREDICATES and isinstance(quad.subject, ox.NamedNode):
            describe.add_label(context.labels, quad.subject.value, quad.object)
    index = evidence_index(own)
    annotations = {q.subject for q in own if q.predicate.value == OA + "hasBody"}
    subjects = [s for s in dict.fromkeys(q.subject for q in own)
                if isinstance(s, ox.NamedNode) and s not in annotations and s.value != iri]
    sections = []
    for subject in subjects:
        facts = facts_of(subject, own, context, index=index, badges=False)
        types = next((f.values for f in facts if f.predicate == RDF_TYPE), [])
        sections.append(Section(subject, anchor(subject.value), context.label(subject.value) or curie(subject.value),
                                types, [f for f in facts if f.predicate != RDF_TYPE],
                                general_evidence(index, subject.value, context)))
    sections.sort(key=lambda s: ((context.label(s.types[0].term.value) or s.types[0].term.value) if s.types else "~",
                                 s.title.lower()))
    passages = sorted({e.iri: e for values in index.values() for e in values}.values(), key=lambda e: e.iri)
    return sections, passages


def document_info(iri: str, page: EntityPage, context: Context) -> dict[str, Any]:
    """The document's own record: attribution, publisher, dates, the original's address where known."""
    by_predicate = {f.predicate: f for f in page.facts}
    quads = cached("rdf", iri, lambda: describe.description(get_store(), iri))
    urls = []
    for quad in quads:
        if quad.subject.value == iri and quad.predicate.value in _ORIGINAL_URL and \
                quad.object.value.startswith(("http://", "https://")) and not quad.object.value.startswith(
                    RESOURCE_NS):
            urls.append(quad.object.value)
    # values taken from a public copy (dj:DerivedValue about the document) name the copy they came from
    graph = cached("graph", iri, lambda: describe.graph_quads(get_store(), iri))
    about_document = {q.subject for q in graph if q.predicate.value == RDF + "subject" and q.object.value == iri}
    urls += [q.object.value for q in graph if q.subject in about_document and q.predicate.value == PROV +
             "wasDerivedFrom" and q.object.value.startswith(("http://", "https://"))]
    notes = [v for p in (DJ + "attributionNote", SKOS_NOTE) if p in by_predicate for v in by_predicate[p].values]
    # contributors' roles: prov:qualifiedAttribution [or an IRI] with prov:agent and prov:hadRole
    attributions = {q.object for q in [*quads, *graph] if q.subject.value == iri and
                    q.predicate.value == PROV + "qualifiedAttribution"}
    details: dict[Any, dict[str, list[Any]]] = {}
    for quad in [*quads, *graph]:
        if quad.subject in attributions and quad.predicate.value in (PROV + "agent", PROV + "hadRole"):
            values = details.setdefault(quad.subject, {}).setdefault(quad.predicate.value, [])
            if quad.object not in values:
                values.append(quad.object)
    roles = sorted(((d.get(PROV + "hadRole", []), d.get(PROV + "agent", [])) for d in details.values()),
                   key=lambda pair: [context.label(t.value) or t.value for t in pair[0]])
    keys = {"creator": DCT + "creator", "contributor": DCT + "contributor", "publisher": DCT + "publisher",
            "issued": DCT + "issued", "edtf": DJ + "edtf", "language": DCT + "language",
            "citation": DCT + "bibliographicCitation", "translation_of": DJ + "translationOf",
            "seed": DJ + "seedFile"}
    info = {name: by_predicate[p].values if p in by_predicate else [] for name, p in keys.items()}
    info.update(urls=list(dict.fromkeys(urls)), notes=notes, roles=roles)
    return info


#: Predicates the document page's header shows, not repeated among the facts.
_DOCUMENT_HEADER = frozenset({DCT + "creator", DCT + "contributor", DCT + "publisher", DCT + "issued", DJ + "edtf",
                              DCT + "language", DCT + "bibliographicCitation", DJ + "translationOf",
                              DJ + "seedFile", DJ + "attributionNote", SKOS_NOTE, DCT + "title",
                              PROV + "qualifiedAttribution"})


# -- rendering --------------------------------------------------------------------------------------------------


def render(iri: str, downloads: list[tuple[str, str, str]]) -> str:
    """The page of ``iri``: a document page for a source document, an entity page otherwise.

    The HTML is kept until the next write (per path, and per state of the external panels), so a page read again
    costs a look-up; the external panels are asked first, from their own cache.
    """
    from service.linking import external

    store = get_store()
    node = ox.NamedNode(iri)
    quads = cached("rdf", iri, lambda: describe.description(store, iri))
    targets = [q.object.value for q in quads if q.subject == node and q.predicate.value in _LINK_PREDICATES[:2]]
    facts: external.ExternalFacts = current_app.extensions[external.EXTENSION_KEY]
    panels = facts.panels(targets)
    key = ("html", iri, request.path, tuple((p.item, p.status, p.fetched_at) for p in panels))
    cache = current_app.extensions[HTML_CACHE_KEY]
    return cache.get_or_compute(key, store.generation, lambda: _render(iri, panels, downloads))


def _render(iri: str, panels: list[Any], downloads: list[tuple[str, str, str]]) -> str:
    page = entity_page(iri)
    context: Context = page.context  # type: ignore[attr-defined]
    common = {
        "page": page, "ctx": context, "term": lambda t: render_term(t, context), "autolink": autolink,
        "downloads": downloads, "curie": curie(iri), "dj": DJ, "org": ORG,
        "query_link": "/?query=" + quote(f"DESCRIBE <{iri}>", safe=""),
        "about_link": (url_for("canned.run_query", target="about-entity") + "?entity=" + quote(curie(iri), safe=":")
                       if "canned.run_query" in current_app.view_functions else None),
        "link": link, "anchor": anchor, "when": when,
    }
    is_document = context.terms.is_a([t.term.value for t in page.types], DJ + "SourceDocument") or \
        iri in context.terms.documents
    if is_document:
        own_graph = iri in context.terms.graph_documents or iri in context.terms.documents
        sections, passages = document_sections(iri, context) if own_graph else ([], [])
        info = document_info(iri, page, context)
        page.facts = [f for f in page.facts if f.predicate not in _DOCUMENT_HEADER]
        return render_template("resources/document.html", info=info, sections=sections, passages=passages, **common)
    return render_template("resources/entity.html", panels=panels, **common)
