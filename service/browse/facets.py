"""The classes of the graph and a class's instances with facets, the way Datasette browses a table.

What a class page is: the instances of one class of our ontology (its subclasses' included: the store's RDFS
entailment types them), narrowed by the filters chosen (several at once, each a ``facet=value`` pair, all of them
holding), with — for each facet that makes sense for the class — how many of those instances have each value.
Because a facet count is "how many instances would remain with this value added", counts and filters are computed
from the same SPARQL pattern (:attr:`Facet.pattern`), so they cannot disagree.

Why SPARQL and how many queries: a page costs at most three queries, whatever its filters — one grouped query
for every facet count and the total (:func:`facet_query`), one for the page's rows in their order
(:func:`rows_query`), one for those rows' types, dates and documents (:func:`details_query`) — plus the class
catalogue (:func:`catalog_query`), kept until the next write. Whole pages are kept too (:class:`Browser`), until
the next write. Class restrictions on facet values are ``FILTER EXISTS`` rather than joins: Oxigraph joins
``?v a dj:State`` after scanning every typed resource, several times slower on this graph. A facet's pattern is a
UNION branch evaluated on its own (SPARQL evaluates bottom-up), so a ``FILTER EXISTS`` about ``?x`` in it must
bind ``?x`` in the branch itself (the document facet starts with ``?x a <class>``); otherwise it sees every
resource and every document counts every instance.

Parameters come from people typing URLs: each is checked (:func:`parse_selection`) and a bad one is a
:class:`BrowseError` naming the parameter and saying what it accepts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.canned.cache import GenerationCache
from service.rdf.vocabulary import (
    DCT,
    DJ_STATEMENTS_OF,
    ENTAILED_GRAPH,
    GENID_NS,
    ONTOLOGY_GRAPH,
    ONTOLOGY_NS,
    OWL,
    PROVENANCE_GRAPH,
    RDF_TYPE,
    RDFS_COMMENT,
    RDFS_LABEL,
    RDFS_SUBCLASS_OF,
    SKOS,
    curie,
    expand_name,
)

#: Rows of a SELECT: tuples of pyoxigraph terms (or None), in the projection's order.
Select = Callable[[str], Iterable[Sequence[Any]]]

DJ = ONTOLOGY_NS
#: Page sizes: the default, and the most one page may hold.
DEFAULT_SIZE = 50
MAX_SIZE = 200
#: The largest page number accepted (a bound, so that no number is too long to read).
MAX_PAGE = 1_000_000_000
#: Parameters that are not facets.
RESERVED = ("sort", "page", "size")

#: The properties whose values date a resource, read for the year facet, the date sort and the rows' dates.
#: ``dj:edtf`` first: it keeps the precision and uncertainty the text gives ("199X", "2012-11-15/2012-11-16").
DATE_PROPERTIES: tuple[str, ...] = (DJ + "edtf", DJ + "startDate", DJ + "claimDate", DCT + "issued")
EDTF = DJ + "edtf"
#: The properties that name a resource, for the label sort (the page shows the display module's label).
NAME_PROPERTIES: tuple[str, ...] = (RDFS_LABEL, SKOS + "prefLabel", "http://xmlns.com/foaf/0.1/name", DCT + "title")

_YEAR = re.compile(r"[0-9]{4}")
_IRI_CHARS = re.compile(r'^[^\s<>"{}|^`\\]+$')


class BrowseError(ValueError):
    """A parameter of a browse request is wrong: ``parameter`` names it, the message says what it accepts."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def _union(*properties: str, cls: str | None = None) -> str:
    """``?x p ?v`` for any of ``properties`` (one UNION branch each: a property path alternative is slower),
    the value kept only when it is an instance of ``cls``."""
    branches = " UNION ".join(f"{{ ?x <{p}> ?v }}" for p in properties)
    return branches + (f" FILTER EXISTS {{ ?v <{RDF_TYPE}> <{cls}> }}" if cls else "")


@dataclass(frozen=True)
class Facet:
    """One facet: its URL parameter, its name on the page, the classes it is offered for (and their subclasses;
    empty: every class) and the SPARQL pattern binding each value ``?v`` of an instance ``?x``.

    ``kind`` says what a value is: ``iri`` (a resource), ``year`` (four digits) or ``type`` (a subclass of the
    class browsed; its pattern names the class as ``{cls}``).
    """

    key: str
    label: str
    pattern: str
    classes: tuple[str, ...] = ()
    kind: str = "iri"
    description: str = ""

    def applies(self, ancestors: frozenset[str]) -> bool:
        """Whether the facet is offered for a class with these ancestors (itself included)."""
        return not self.classes or bool(ancestors & set(self.classes))

    def bound(self, cls: str) -> str:
        """The pattern for the class browsed."""
        return self.pattern.replace("{cls}", cls)


_DATES = " UNION ".join(f"{{ ?x <{p}> ?d }}" for p in DATE_PROPERTIES)

#: The facets, in the order a page shows them.
FACETS: tuple[Facet, ...] = (
    Facet("type", "type", f"?x <{RDF_TYPE}> ?v . GRAPH <{ONTOLOGY_GRAPH}> {{ ?v <{RDFS_SUBCLASS_OF}>+ <{{cls}}> }}",
          kind="type", description="The subclasses of the class browsed (an instance counts for each it has)."),
    Facet("year", "year", f"{_DATES} BIND(SUBSTR(STR(?d), 1, 4) AS ?v) FILTER(REGEX(?v, \"^[0-9]{{4}}$\"))",
          (DJ + "Event", DJ + "Claim", DJ + "Commitment", DJ + "SourceDocument"), kind="year",
          description="The year the resource is dated (start date, claim date, issue date or EDTF date); a date "
                      "the text gives only as a decade or a span starting before a year has none."),
    Facet("document", "document",
          f"?x <{RDF_TYPE}> <{{cls}}> . GRAPH <{PROVENANCE_GRAPH}> {{ ?g <{DJ_STATEMENTS_OF}> ?v }} "
          f"FILTER EXISTS {{ GRAPH ?g {{ ?x ?p ?o }} }}",
          description="The source documents whose graphs state something about the resource."),
    Facet("level", "level", f"?x <{DJ}level> ?v", (DJ + "NegotiationRound",),
          description="The level of the talks (dj:level)."),
    Facet("state", "state", _union(*(DJ + p for p in ("participant", "actor", "target", "nationality",
                                                      "parentState", "concernsParty", "represents",
                                                      "committedParty")), cls=DJ + "State"),
          (DJ + "Event", DJ + "Person", DJ + "Organization", DJ + "Issue", DJ + "Delegation", DJ + "Commitment"),
          description="The states taking part, acting, targeted, represented or concerned; a person's "
                      "nationality; an organization's state."),
    Facet("person", "person", _union(*(DJ + p for p in ("participant", "actor", "target", "delegationHead",
                                                        "delegationMember", "member")), cls=DJ + "Person"),
          (DJ + "Event", DJ + "Delegation", DJ + "Membership"),
          description="The persons taking part, acting, targeted, heading or in a delegation, or holding a post."),
    Facet("organization", "organization",
          f"{{ ?x <{DJ}hasMembership>/<{DJ}organization> ?v }} UNION {{ ?x <{DJ}organization> ?v }}",
          (DJ + "Person", DJ + "Membership"), description="The organizations a person holds a post in."),
    Facet("role", "role", f"?x <{DJ}role> ?v", (DJ + "Membership",), description="The post held (dj:role)."),
    Facet("claimant", "claimant", f"?x <{DJ}claimant> ?v", (DJ + "Claim",), description="Who makes the claim."),
    Facet("quantity", "quantity", f"?x <{DJ}quantityKind> ?v", (DJ + "Claim",),
          description="What the claim counts or measures (dj:quantityKind)."),
    Facet("issue", "issue", _union(DJ + "discussedIssue", DJ + "about", DCT + "subject", SKOS + "broader",
                                   cls=DJ + "Issue"),
          (DJ + "Event", DJ + "Claim", DJ + "Commitment", DJ + "Issue"),
          description="The issues discussed or concerned (for an issue: its broader issues)."),
    Facet("status", "status", f"?x <{DJ}commitmentStatus> ?v", (DJ + "Commitment",),
          description="Whether the commitment was kept, broken, pending …"),
    Facet("place", "place", _union(*(DJ + p for p in ("location", "basedIn", "concernsPlace", "birthPlace"))),
          (DJ + "Event", DJ + "Agent", DJ + "Issue"),
          description="Where an event took place, where an agent is based, the places an issue concerns."),
)
FACETS_BY_KEY: dict[str, Facet] = {f.key: f for f in FACETS}

#: The classes the index page puts first, in this order (the rest follow in the hierarchy).
FEATURED: tuple[str, ...] = tuple(DJ + name for name in (
    "Person", "Organization", "State", "Event", "NegotiationRound", "Claim", "Issue", "Place", "SourceDocument",
    "Commitment", "Statement"))


# -- the catalogue of classes -------------------------------------------------------------------------------------


@dataclass
class ClassInfo:
    """A class of our ontology: its names, its place in the hierarchy and how many resources it has."""

    iri: str
    label: str = ""
    comment: str = ""
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    ancestors: frozenset[str] = frozenset()
    descendants: frozenset[str] = frozenset()
    count: int = 0

    @property
    def name(self) -> str:
        """The local name (``Person``): the class's address under ``/browse/``."""
        return self.iri[len(ONTOLOGY_NS):]


@dataclass
class Catalog:
    """Every class of the ontology by IRI, with the roots of its hierarchy."""

    classes: dict[str, ClassInfo]

    def by_name(self, name: str) -> ClassInfo | None:
        """The class ``dj:<name>``, or None."""
        return self.classes.get(ONTOLOGY_NS + name)

    def roots(self) -> list[ClassInfo]:
        """The classes none of our classes is above, by label."""
        return sorted((c for c in self.classes.values() if not any(p in self.classes for p in c.parents)),
                      key=lambda c: (c.label or c.name).casefold())

    def children_of(self, info: ClassInfo) -> list[ClassInfo]:
        """The direct subclasses of ``info``, by label."""
        return sorted((self.classes[c] for c in info.children if c in self.classes),
                      key=lambda c: (c.label or c.name).casefold())

    def facets(self, info: ClassInfo) -> list[Facet]:
        """The facets offered for ``info`` (``type`` only where it has subclasses with instances)."""
        found = []
        for facet in FACETS:
            if facet.kind == "type":
                if any(self.classes[d].count for d in info.descendants if d in self.classes):
                    found.append(facet)
            elif facet.applies(info.ancestors):
                found.append(facet)
        return found

    def dated(self, info: ClassInfo) -> bool:
        """Whether the class's instances carry dates (the year facet and the date sort are offered)."""
        return FACETS_BY_KEY["year"].applies(info.ancestors)


def catalog_query() -> str:
    """Every class of the ontology with its labels, comments and direct superclasses, and every class's number of
    instances (entailed types included; blank nodes and skolem IRIs are parts of statements, not resources)."""
    ours = f'STRSTARTS(STR(?c), "{ONTOLOGY_NS}")'
    return (f"SELECT ?c ?k ?v WHERE {{ "
            f"{{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c <{RDF_TYPE}> <{OWL}Class> }} BIND(\"class\" AS ?k) }} UNION "
            f"{{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c <{RDFS_LABEL}> ?v }} BIND(\"label\" AS ?k) }} UNION "
            f"{{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c <{RDFS_COMMENT}> ?v }} BIND(\"comment\" AS ?k) }} UNION "
            f"{{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c <{RDFS_SUBCLASS_OF}> ?v }} FILTER(isIRI(?v)) BIND(\"super\" AS ?k) }} "
            f"UNION {{ {{ SELECT ?c (COUNT(DISTINCT ?x) AS ?v) WHERE {{ ?x <{RDF_TYPE}> ?c "
            f"FILTER(isIRI(?x) && !STRSTARTS(STR(?x), \"{GENID_NS}\")) }} GROUP BY ?c }} BIND(\"count\" AS ?k) }} "
            f"FILTER(isIRI(?c) && {ours}) }}")


def _english(literal: Any) -> bool:
    return not literal.language or literal.language.lower().startswith("en")


def build_catalog(rows: Iterable[Sequence[Any]]) -> Catalog:
    """The :class:`Catalog` from the answer of :func:`catalog_query`."""
    classes: dict[str, ClassInfo] = {}
    counts: dict[str, int] = {}
    rest: list[tuple[str, str, Any]] = []
    for c, k, v in rows:
        if k.value == "class":
            classes.setdefault(c.value, ClassInfo(c.value))
        elif k.value == "count":
            counts[c.value] = int(v.value)
        else:
            rest.append((c.value, k.value, v))
    for iri, kind, value in rest:
        info = classes.get(iri)
        if info is None:
            continue
        if kind == "label" and _english(value) and (not info.label or not value.language):
            info.label = info.label or value.value
        elif kind == "comment" and _english(value) and not info.comment:
            info.comment = value.value
        elif kind == "super" and value.value not in info.parents and value.value != iri:
            info.parents.append(value.value)
    for info in classes.values():
        info.count = counts.get(info.iri, 0)
        for parent in info.parents:
            if parent in classes:
                classes[parent].children.append(info.iri)
    for info in classes.values():
        info.ancestors = frozenset(_closure(info.iri, lambda i: classes[i].parents if i in classes else []))
        info.descendants = frozenset(_closure(info.iri, lambda i: classes[i].children if i in classes else [])
                                     - {info.iri})
    return Catalog(classes)


def _closure(start: str, step: Callable[[str], list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


# -- a class page's request -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """One ``facet=value`` filter: the facet and the value (an IRI, or four digits for a year)."""

    facet: Facet
    value: str

    @property
    def sparql_value(self) -> str:
        return f'"{self.value}"' if self.facet.kind == "year" else f"<{self.value}>"

    @property
    def param(self) -> str:
        """The value as the URL writes it (a prefixed name where one fits)."""
        return self.value if self.facet.kind == "year" else curie(self.value)


@dataclass(frozen=True)
class Selection:
    """What a class page shows: the filters, the order, the page and its size."""

    filters: tuple[Filter, ...] = ()
    sort: str = "label"
    page: int = 1
    size: int = DEFAULT_SIZE

    def key(self) -> tuple[Any, ...]:
        return (tuple(sorted((f.facet.key, f.value) for f in self.filters)), self.sort, self.page, self.size)


#: The orders a class page accepts (``-`` before a key: descending). By date works for every class (undated
#: instances last, by name); the page offers it where the class is dated (:func:`sorts`).
SORTS: tuple[str, ...] = ("label", "-label", "date", "-date")


def sorts(catalog: Catalog, info: ClassInfo) -> tuple[str, ...]:
    """The orders a class page offers."""
    return SORTS if catalog.dated(info) else SORTS[:2]


class PageNotFound(BrowseError):
    """The page asked for is past the last one: the page does not exist (404), the request is well formed."""


def parse_selection(args: Mapping[str, Sequence[str]], catalog: Catalog, info: ClassInfo) -> Selection:
    """The :class:`Selection` the query parameters ``args`` (name → every value given) ask for.

    Raises :class:`BrowseError` naming the parameter: a facet this class does not have, a value that is not a
    prefixed name or IRI (or, for ``year``, four digits), a type that is not a subclass of the class, an unknown
    order, or a page or size that is not a whole number in range. ``page`` past the last page is
    :class:`PageNotFound`, from :meth:`Browser.page` (it needs the total).
    """
    offered = {f.key: f for f in catalog.facets(info)}
    filters: dict[tuple[str, str], Filter] = {}
    single: dict[str, str] = {}
    for name, values in args.items():
        if name in RESERVED:
            if len(values) != 1:
                raise BrowseError(name, f"Give {name} once, not {len(values)} times.")
            single[name] = values[0]  # as given: " 2" or an empty value is not a page number
            continue
        facet = offered.get(name)
        if facet is None:
            choices = ", ".join([*offered, *RESERVED])
            known = "a facet of other classes" if name in FACETS_BY_KEY else "not a parameter of this page"
            raise BrowseError(name, f"{name!r} is {known}; the instances of {curie(info.iri)} can be filtered by "
                                    f"{choices}.")
        for raw in values:
            value = _facet_value(facet, raw.strip(), catalog, info)
            filters[(facet.key, value)] = Filter(facet, value)
    sort = single.get("sort", "label")
    if sort not in SORTS:
        raise BrowseError("sort", f"sort must be one of {', '.join(SORTS)}, not {sort!r}.")
    page = _whole(single.get("page"), "page", 1, MAX_PAGE, 1)
    size = _whole(single.get("size"), "size", 1, MAX_SIZE, DEFAULT_SIZE)
    ordered = tuple(sorted(filters.values(), key=lambda f: ([x.key for x in FACETS].index(f.facet.key), f.value)))
    return Selection(ordered, sort, page, size)


_DIGITS = re.compile(r"[0-9]{1,12}")


def _whole(text: str | None, name: str, low: int, high: int | None, default: int) -> int:
    if text is None:
        return default
    if not _DIGITS.fullmatch(text) or int(text) < low or (high is not None and int(text) > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise BrowseError(name, f"{name} must be a whole number {bound}, not {text!r}.")
    return int(text)


def _facet_value(facet: Facet, raw: str, catalog: Catalog, info: ClassInfo) -> str:
    if facet.kind == "year":
        if not _YEAR.fullmatch(raw):
            raise BrowseError(facet.key, f"year must be four digits (e.g. 2012), not {raw!r}.")
        return raw
    iri = expand_name(raw)
    if not raw or not iri.startswith(("http://", "https://")) or not _IRI_CHARS.match(iri):
        raise BrowseError(facet.key, f"{facet.key} must be a prefixed name such as djr:japan or an IRI, "
                                     f"not {raw!r}.")
    if facet.kind == "type" and iri not in info.descendants:
        raise BrowseError(facet.key, f"{curie(iri)} is not a subclass of {curie(info.iri)}; choose a type among "
                                     "the values of the type facet.")
    return iri


# -- the queries ------------------------------------------------------------------------------------------------


def base_pattern(cls: str, filters: Iterable[Filter]) -> str:
    """The instances of ``cls`` that every filter holds for (one ``FILTER EXISTS`` each)."""
    parts = [f"?x <{RDF_TYPE}> <{cls}> . FILTER(isIRI(?x) && !STRSTARTS(STR(?x), \"{GENID_NS}\"))"]
    for chosen in filters:
        parts.append(f"FILTER EXISTS {{ {chosen.facet.bound(cls)} FILTER(?v = {chosen.sparql_value}) }}")
    return " ".join(parts)


def facet_query(cls: str, filters: Sequence[Filter], facets: Sequence[Facet]) -> str:
    """One grouped query: the number of instances (``?f`` empty) and, for each facet, each value's count."""
    branches = ['{ BIND("" AS ?f) }']
    branches += [f'{{ {facet.bound(cls)} BIND("{facet.key}" AS ?f) }}' for facet in facets]
    return (f"SELECT ?f ?v (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {{ SELECT DISTINCT ?x WHERE {{ "
            f"{base_pattern(cls, filters)} }} }} {' UNION '.join(branches)} }} GROUP BY ?f ?v")


def rows_query(cls: str, selection: Selection) -> str:
    """The page's instances in the order chosen (by label or by date; undated or unnamed ones last)."""
    names = " UNION ".join(f"{{ ?x <{p}> ?l }}" for p in NAME_PROPERTIES)
    key = selection.sort.lstrip("-")
    direction = "DESC" if selection.sort.startswith("-") else "ASC"
    order = (f"(!BOUND(?date)) {direction}(?date) ?label ?x" if key == "date"
             else f"(!BOUND(?label)) {direction}(?label) ?x")
    dates = (f"OPTIONAL {{ {_DATES} BIND(STR(?d) AS ?dk) }}" if key == "date" else "")
    # ?label is "<lower-cased name>\t<name>": it orders by the lower-cased name and carries the name itself, so
    # the page shows each row under the name it was sorted by.
    return (f"SELECT ?x (MIN(?lk) AS ?label) (MIN(?dk) AS ?date) WHERE {{ "
            f"{{ SELECT DISTINCT ?x WHERE {{ {base_pattern(cls, selection.filters)} }} }} "
            f"OPTIONAL {{ {names} FILTER(isLiteral(?l) && (LANG(?l) = \"\" || LANGMATCHES(LANG(?l), \"en\"))) "
            f"BIND(CONCAT(LCASE(STR(?l)), \"\\t\", STR(?l)) AS ?lk) }} {dates} }} GROUP BY ?x ORDER BY {order} "
            f"LIMIT {selection.size} OFFSET {(selection.page - 1) * selection.size}")


def details_query(iris: Sequence[str]) -> str:
    """For the page's instances: their asserted types, the documents stating them and their dates. Each UNION
    branch names the instances itself (``VALUES``): a branch is evaluated on its own, so one outside would come
    after every type and date of the store had been read."""
    values = "VALUES ?x { " + " ".join(f"<{iri}>" for iri in iris) + " }"
    branches = [
        f"{values} GRAPH ?g {{ ?x <{RDF_TYPE}> ?v }} FILTER(?g != <{ENTAILED_GRAPH}>) BIND(\"type\" AS ?k)",
        f"{values} GRAPH <{PROVENANCE_GRAPH}> {{ ?g <{DJ_STATEMENTS_OF}> ?v }} "
        f"FILTER EXISTS {{ GRAPH ?g {{ ?x ?p ?o }} }} BIND(\"document\" AS ?k)",
        f"{values} ?x <{EDTF}> ?v BIND(\"edtf\" AS ?k)",
        *(f"{values} ?x <{p}> ?v BIND(\"date\" AS ?k)" for p in DATE_PROPERTIES if p != EDTF),
    ]
    return "SELECT ?x ?k ?v WHERE { " + " UNION ".join(f"{{ {b} }}" for b in branches) + " }"


# -- the answer ---------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One instance on a class page: its most specific types, its dates (EDTF where the data gives it, else the
    typed dates) and the documents stating it."""

    iri: str
    types: list[str] = field(default_factory=list)
    dates: list[Any] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    #: The name the label sort used (a resource named differently by two documents sorts, and shows, by one).
    name: str | None = None


@dataclass
class FacetCounts:
    """A facet's values among the instances shown, each with its count and whether it is a chosen filter."""

    facet: Facet
    values: list[tuple[Any, int, bool]]


@dataclass
class ClassPage:
    """A class page's content, before labels and links (the web tier adds those)."""

    cls: ClassInfo
    selection: Selection
    total: int
    facets: list[FacetCounts]
    rows: list[Row]
    sorts: tuple[str, ...]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.selection.size))


class Browser:
    """Class pages of the store as it is now: the catalogue and finished pages are kept until the next write."""

    #: How many pages are kept per write generation.
    PAGE_CACHE = 256

    def __init__(self, select: Select, generation: Callable[[], int]) -> None:
        self._select = select
        self._generation = generation
        self._catalogs: GenerationCache[Catalog] = GenerationCache(1)
        self._pages: GenerationCache[ClassPage] = GenerationCache(self.PAGE_CACHE)
        self._lock = threading.Lock()

    def catalog(self) -> Catalog:
        """The classes with their counts (read once per write generation)."""
        generation = self._generation()
        found = self._catalogs.get("catalog", generation)
        if found is not None:
            return found
        with self._lock:
            return self._catalogs.get_or_compute("catalog", generation,
                                                 lambda: build_catalog(self._select(catalog_query())))

    def page(self, info: ClassInfo, selection: Selection) -> ClassPage:
        """The page ``selection`` of ``info``'s instances (:class:`BrowseError` for a page past the last)."""
        generation = self._generation()
        key = (info.iri, selection.key())
        found = self._pages.get(key, generation)
        if found is None:
            found = self._compute(info, selection)
            self._pages.put(key, generation, found)
        if selection.page > found.pages:
            raise PageNotFound("page", f"page {selection.page} is past the last page ({found.pages}) of these "
                                       f"{found.total} instances.")
        return found

    def _compute(self, info: ClassInfo, selection: Selection) -> ClassPage:
        catalog = self.catalog()
        facets = catalog.facets(info)
        counts: dict[str, dict[Any, int]] = {f.key: {} for f in facets}
        total = 0
        for f, v, n in self._select(facet_query(info.iri, selection.filters, facets)):
            if not f.value:
                total = int(n.value)
            elif v is not None:
                counts[f.value][v] = int(n.value)
        chosen = {(c.facet.key, c.value) for c in selection.filters}
        facet_counts = []
        for facet in facets:
            values = [(v, n, (facet.key, v.value) in chosen) for v, n in counts[facet.key].items()]
            if facet.kind == "year":
                values.sort(key=lambda item: item[0].value)
            else:
                values.sort(key=lambda item: (-item[1], item[0].value))
            facet_counts.append(FacetCounts(facet, values))
        rows: list[Row] = []
        if total and selection.page <= max(1, -(-total // selection.size)):
            found = [(row[0].value, row[1]) for row in self._select(rows_query(info.iri, selection))]
            rows = self._details([iri for iri, _ in found], catalog)
            for row, (_, label) in zip(rows, found, strict=True):
                row.name = label.value.partition("\t")[2] or None if label is not None else None
        return ClassPage(info, selection, total, facet_counts, rows, sorts(catalog, info))

    def _details(self, order: list[str], catalog: Catalog) -> list[Row]:
        if not order:
            return []
        rows = {iri: Row(iri) for iri in order}
        edtf: dict[str, list[Any]] = {}
        typed: dict[str, list[Any]] = {}
        for x, k, v in self._select(details_query(order)):
            row = rows[x.value]
            if k.value == "type":
                if v.value not in row.types:
                    row.types.append(v.value)
            elif k.value == "document":
                if v.value not in row.documents:
                    row.documents.append(v.value)
            else:
                found = (edtf if k.value == "edtf" else typed).setdefault(x.value, [])
                if v not in found:
                    found.append(v)
        for row in rows.values():
            ours = [t for t in row.types if t in catalog.classes]
            row.types = sorted((t for t in ours if not any(t in catalog.classes[o].ancestors - {o} for o in ours)),
                               key=lambda t: catalog.classes[t].label or t)
            row.documents.sort()
            row.dates = sorted(edtf.get(row.iri) or typed.get(row.iri) or [], key=lambda d: d.value)
        return [rows[iri] for iri in order]
