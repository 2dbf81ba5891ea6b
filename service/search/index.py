"""The name index: every label of every resource (``/id/…``) and ontology term, built from the store in a few
SPARQL queries, kept for one store write generation, searched in memory.

Why in memory and not SQLite FTS5 (which the standard library's ``sqlite3`` has here): the index must match what
people type, not what a tokenizer makes of it. FTS5's ``unicode61`` tokenizer splits ``Il-ho`` into two words
(so ``ilho`` finds nothing) and has no notion of a compact key; its ``trigram`` tokenizer needs three characters
(``宋日`` would find nothing) and ranks by BM25, not by "exact, then prefix, then word, then substring". Doing the
normalisation ourselves (:mod:`service.search.normalize`) and comparing keys in Python gives exactly the rules
stated below, and the bundled graph has a few hundred named resources and about a thousand names: a scan of
them is well under a millisecond, and the index is rebuilt from one store read in tens of milliseconds. If the
graph grew to hundreds of thousands of names, the keys would move to a sorted list (prefixes by bisection) and an
n-gram table (substrings); the rules and the API would stay.

Why rebuilt per write generation (:class:`~service.canned.cache.GenerationCache`) rather than updated by each write
path: every accepted write — SPARQL Update, Graph Store, ``/ingest``, the CLI's loads — bumps the store client's
generation, so the first search after any of them rebuilds, and no write path needs to know search exists.

Ranking, best first: the tier of the best-matching name (exact compact key, prefix of it, every query word a prefix
of one of the name's words, substring), then English names before names in no language before other languages,
then the naming property (``rdfs:label``, ``skos:prefLabel``, ``foaf:name``, ``dct:title``, then alternative
labels), then the shorter name, then the resource's label.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.canned.cache import GenerationCache
from service.canned.params import SPACE, SPACE_CLASS
from service.rdf.vocabulary import (
    DCT_TITLE,
    DERIVED_GRAPHS,
    DJ_STATEMENTS_OF,
    FOAF_NAME,
    ONTOLOGY_GRAPH,
    ONTOLOGY_NS,
    PROVENANCE_GRAPH,
    RDF_TYPE,
    RDFS_LABEL,
    RDFS_SUBCLASS_OF,
    RESOURCE_NS,
    SCHEMA,
    SKOS,
    SKOS_ALT_LABEL,
    SKOS_PREF_LABEL,
    curie,
)
from service.search.normalize import compact, query_tokens, tokens

#: The properties whose values name a resource, in the order a name from them ranks; the first four also give a
#: result's title (as the pages show it), the others are alternative names.
NAME_PROPERTIES: tuple[str, ...] = (RDFS_LABEL, SKOS_PREF_LABEL, FOAF_NAME, DCT_TITLE, SCHEMA + "name",
                                    SKOS_ALT_LABEL, SKOS + "hiddenLabel")
#: Properties that give a title (the rest only find the resource).
TITLE_PROPERTIES = frozenset(NAME_PROPERTIES[:5])
#: Match tiers, best first.
TIERS: tuple[str, ...] = ("exact", "prefix", "token", "substring")
#: The longest query accepted (a name, not a text: longer input is refused, not cut).
MAX_QUERY_LENGTH = 200
#: What a query must contain (a character other than padding), in the regex syntax Python and ECMA-262 share.
QUERY_PATTERN = "[^" + SPACE_CLASS[1:]
#: Default and largest number of results.
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

#: Rows of a SELECT: tuples of pyoxigraph terms (or None), in the projection's order.
Select = Callable[[str], Iterable[Sequence[Any]]]


@dataclass(frozen=True)
class Name:
    """One name of one resource, with its keys."""

    iri: str
    text: str
    lang: str
    prop: str
    key: str
    words: tuple[str, ...]

    def rank(self) -> tuple[int, int]:
        """Language (English, none, other), then property."""
        language = 0 if self.lang.lower().startswith("en") else (1 if not self.lang else 2)
        return language, NAME_PROPERTIES.index(self.prop)


@dataclass(frozen=True)
class Match:
    """A resource found: its best name for the query and what the index knows of it."""

    iri: str
    label: str
    tier: str
    name: Name
    types: tuple[str, ...]
    documents: tuple[str, ...]

    def to_json(self, labels: Callable[[str], str]) -> dict[str, Any]:
        """As the JSON answer gives it; ``labels`` names types and documents."""
        return {"iri": self.iri, "id": curie(self.iri), "label": self.label, "match": self.tier,
                "matched": {"text": self.name.text, "lang": self.name.lang or None, "property": curie(self.name.prop)},
                "types": [{"iri": t, "id": curie(t), "label": labels(t)} for t in self.types],
                "documents": [{"iri": d, "id": curie(d), "label": labels(d)} for d in self.documents]}


@dataclass
class SearchIndex:
    """Names, types, documents and class hierarchy of the graph at one write generation."""

    names: list[Name] = field(default_factory=list)
    types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    documents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: class → the classes above it, itself included (``rdfs:subClassOf*`` in the ontology)
    superclasses: dict[str, frozenset[str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    def label(self, iri: str) -> str:
        """The title of ``iri`` (its best English label), else its prefixed name."""
        return self.titles.get(iri) or curie(iri, brackets=True)

    def is_a(self, iri: str, cls: str) -> bool:
        """Whether one of ``iri``'s types is ``cls`` or below it."""
        return any(cls in self.superclasses.get(t, frozenset((t,))) for t in self.types.get(iri, ()))

    def search(self, query: str, *, type_iri: str | None = None, limit: int = DEFAULT_LIMIT) -> tuple[list[Match], int]:
        """The resources matching ``query`` (of class ``type_iri`` or below, when given), best first: the first
        ``limit`` of them and how many matched in all."""
        key = compact(query)
        if not key:
            return [], 0  # punctuation alone names nothing
        words = query_tokens(query)
        best: dict[str, tuple[tuple[Any, ...], str, Name]] = {}
        for name in self.names:
            tier = _tier(name, key, words)
            if tier is None:
                continue
            if type_iri is not None and not self.is_a(name.iri, type_iri):
                continue
            rank = (tier, *name.rank(), len(name.key))
            held = best.get(name.iri)
            if held is None or rank < held[0]:
                best[name.iri] = (rank, TIERS[tier], name)
        ordered = sorted(best.items(), key=lambda item: (item[1][0], self.label(item[0]).casefold(), item[0]))
        matches = [Match(iri, self.label(iri), tier, name, self.types.get(iri, ()), self.documents.get(iri, ()))
                   for iri, (_, tier, name) in ordered[:limit]]
        return matches, len(ordered)


def _tier(name: Name, key: str, words: tuple[str, ...]) -> int | None:
    if name.key == key:
        return 0
    if name.key.startswith(key):
        return 1
    if words and all(any(w.startswith(q) for w in name.words) for q in words):
        return 2
    if key in name.key:
        return 3
    return None


def check_query(query: str | None) -> str:
    """The query without its padding, or ``ValueError`` saying why it cannot be searched (empty or too long).

    A query of punctuation alone is accepted and finds nothing (:meth:`SearchIndex.search`). The padding is
    :data:`~service.canned.params.SPACE`, the whitespace the OpenAPI document's pattern names (:data:`QUERY_PATTERN`).
    """
    text = query or ""
    if len(text) > MAX_QUERY_LENGTH:
        raise ValueError(f"The search text is {len(text)} characters long; at most {MAX_QUERY_LENGTH} are "
                         "accepted (search for a name, not a passage).")
    text = text.strip(SPACE)
    if not text:
        raise ValueError("Give a name to search for, e.g. q=Song Il-ho.")
    return text


# -- building ------------------------------------------------------------------------------------------------------

_NOT_DERIVED = "FILTER(?g NOT IN ({}))".format(", ".join(f"<{g}>" for g in sorted(DERIVED_GRAPHS)))
_OURS = f'(STRSTARTS(STR(?s), "{RESOURCE_NS}") || STRSTARTS(STR(?s), "{ONTOLOGY_NS}"))'


def names_query() -> str:
    """Every name and type of our resources and ontology terms, with the graph stating it (one branch per
    property: a VALUES block of predicates is joined after the scan, many times slower)."""
    branches = [f"{{ GRAPH ?g {{ ?s <{p}> ?o }} BIND(<{p}> AS ?p) FILTER(isLiteral(?o)) }}" for p in NAME_PROPERTIES]
    branches.append(f"{{ GRAPH ?g {{ ?s <{RDF_TYPE}> ?o }} BIND(<{RDF_TYPE}> AS ?p) FILTER(isIRI(?o)) }}")
    return f"SELECT ?g ?s ?p ?o WHERE {{ {' UNION '.join(branches)} FILTER(isIRI(?s) && {_OURS}) {_NOT_DERIVED} }}"


def context_query() -> str:
    """The class hierarchy, the graph → document links, and the labels of classes outside our namespaces."""
    return (f"SELECT ?c ?d ?graph ?doc ?cls ?label WHERE {{ "
            f"{{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c <{RDFS_SUBCLASS_OF}>+ ?d }} FILTER(isIRI(?c) && isIRI(?d)) }} UNION "
            f"{{ GRAPH <{PROVENANCE_GRAPH}> {{ ?graph <{DJ_STATEMENTS_OF}> ?doc }} }} UNION "
            f"{{ GRAPH ?l {{ ?cls <{RDFS_LABEL}> ?label }} FILTER(isIRI(?cls) && isLiteral(?label) && "
            f"(LANG(?label) = \"\" || LANGMATCHES(LANG(?label), \"en\"))) "
            f"{{ SELECT DISTINCT ?cls WHERE {{ GRAPH ?t {{ ?x <{RDF_TYPE}> ?cls }} }} }} }} }}")


def build(select: Select) -> SearchIndex:
    """Read the index from the store (``select`` answers a SELECT with rows of pyoxigraph terms)."""
    index = SearchIndex()
    graph_documents: dict[str, str] = {}
    superclasses: dict[str, set[str]] = {}
    class_labels: dict[str, str] = {}
    for c, d, graph, doc, cls, label in select(context_query()):
        if c is not None and d is not None:
            superclasses.setdefault(c.value, {c.value}).add(d.value)
        elif graph is not None and doc is not None:
            graph_documents[graph.value] = doc.value
        elif cls is not None and label is not None and (cls.value not in class_labels or label.language):
            class_labels[cls.value] = label.value
    index.superclasses = {c: frozenset(up) for c, up in superclasses.items()}
    types: dict[str, dict[str, None]] = {}
    documents: dict[str, dict[str, None]] = {}
    titles: dict[str, tuple[tuple[int, int], str]] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for g, s, p, o in select(names_query()):
        iri, graph = s.value, g.value
        document = graph_documents.get(graph) or (graph if graph.startswith(RESOURCE_NS) else None)
        if document is not None and document != iri:
            documents.setdefault(iri, {})[document] = None
        if p.value == RDF_TYPE:
            types.setdefault(iri, {})[o.value] = None
            continue
        lang = o.language or ""
        if (iri, p.value, o.value, lang) in seen:
            continue
        seen.add((iri, p.value, o.value, lang))
        key = compact(o.value)
        if not key:
            continue
        name = Name(iri, o.value, lang, p.value, key, tokens(o.value))
        index.names.append(name)
        if p.value in TITLE_PROPERTIES and (iri not in titles or name.rank() < titles[iri][0]):
            titles[iri] = (name.rank(), o.value)
    index.types = {iri: tuple(sorted(found, key=curie)) for iri, found in types.items()}
    index.documents = {iri: tuple(sorted(found)) for iri, found in documents.items()}
    index.titles = {**class_labels, **{iri: text for iri, (_, text) in titles.items()}}
    return index


class LiveIndex:
    """The index of the store as it is now: built on first use after each write, at most once per generation.

    ``generation()`` is the store's write counter; the build reads it *before* reading the store, so an index
    read while a write happened is replaced by the next search.
    """

    def __init__(self, select: Select, generation: Callable[[], int]) -> None:
        self._select = select
        self._generation = generation
        self._cache: GenerationCache[SearchIndex] = GenerationCache(1)
        self._lock = threading.Lock()

    def current(self) -> SearchIndex:
        """The index for the store's current generation."""
        generation = self._generation()
        index = self._cache.get("index", generation)
        if index is not None:
            return index
        with self._lock:  # one build at a time: concurrent first searches wait for it instead of each building
            return self._cache.get_or_compute("index", generation, lambda: build(self._select))
