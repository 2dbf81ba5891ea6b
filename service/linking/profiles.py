"""What an external dataset looks like: its IRIs, label and type predicates, and which of its
classes fit each kind of our resources.

Why a table: discovery and the health check ask the same questions ("is this item a
person?", "was it redirected?") of Wikidata and DBpedia, which answer them with different
predicates. Each :class:`TargetDataset` says how to ask; the algorithms stay the same.

Type compatibility is a set of external classes per kind of our resources; an external item
fits when it is an instance of one of them, directly or through subclasses (Wikidata:
``wdt:P31/wdt:P279*``; DBpedia materializes superclasses, so ``rdf:type`` suffices).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.rdf.vocabulary import (
    DBPEDIA_RESOURCE,
    FOAF_NAME,
    ONTOLOGY_NS,
    OWL_SAME_AS,
    RDF_TYPE,
    RDFS_COMMENT,
    RDFS_LABEL,
    SKOS_ALT_LABEL,
    SKOS_CONCEPT,
    WIKIDATA_ENTITY,
)

WDT = "http://www.wikidata.org/prop/direct/"
DBO = "http://dbpedia.org/ontology/"

#: Kinds of our resources that discovery and the type check know, most specific first: a
#: resource's kind is the first whose class it is an instance of (through rdfs:subClassOf*).
KINDS: tuple[tuple[str, str], ...] = (
    ("person", ONTOLOGY_NS + "Person"),
    ("state", ONTOLOGY_NS + "State"),
    ("media", ONTOLOGY_NS + "MediaOrganization"),
    ("organization", ONTOLOGY_NS + "Organization"),
    ("group", ONTOLOGY_NS + "Group"),
    ("place", ONTOLOGY_NS + "Place"),
    ("agreement", ONTOLOGY_NS + "Agreement"),
    ("event", ONTOLOGY_NS + "Event"),
    ("concept", SKOS_CONCEPT),
)

#: Kinds discovery looks for (documents, claims, memberships… have no counterpart to find).
DISCOVERABLE = frozenset({"person", "state", "media", "organization", "group", "place", "agreement", "event"})


@dataclass(frozen=True)
class TargetDataset:
    """How to ask one external dataset about its items."""

    name: str
    title: str
    namespace: str
    default_endpoint: str
    #: Predicates whose literals name an item: (predicate IRI, evidence word).
    label_predicates: tuple[tuple[str, str], ...]
    #: SPARQL property path from an item to the classes it is an instance of (full IRIs).
    type_path: str
    #: The predicate of an item's direct classes.
    type_predicate: str
    #: IRIs of the dataset's items start with this (Wikidata: items, not properties or lexemes).
    item_prefix: str
    #: A predicate whose presence means "this item now lives elsewhere".
    redirect_predicate: str
    birth_predicate: str
    description_predicate: str
    #: Our kind → compatible external classes {IRI: English name}.
    classes: dict[str, dict[str, str]] = field(default_factory=dict)
    #: When set, only direct classes in this namespace tell what an item is.
    type_namespace: str | None = None

    def direct_types_pattern(self, item: str = "?item", var: str = "?type") -> str:
        """A graph pattern binding ``var`` to the item's direct classes that tell what it is."""
        pattern = f"{item} <{self.type_predicate}> {var}"
        if self.type_namespace:
            pattern += f' FILTER(STRSTARTS(STR({var}), "{self.type_namespace}"))'
        return pattern

    def short(self, iri: str) -> str:
        """``wd:Q17`` / ``dbr:Japan`` for reports."""
        prefix = "wd:" if self.name == "wikidata" else "dbr:"
        return prefix + iri[len(self.namespace):] if iri.startswith(self.namespace) else f"<{iri}>"

    def owns(self, iri: str) -> bool:
        """True if the IRI names an item of this dataset."""
        return iri.startswith(self.namespace)

    def all_classes(self) -> dict[str, str]:
        """Every class any kind maps to."""
        merged: dict[str, str] = {}
        for mapping in self.classes.values():
            merged.update(mapping)
        return merged


_Q = WIKIDATA_ENTITY
WIKIDATA = TargetDataset(
    name="wikidata",
    title="Wikidata",
    namespace=WIKIDATA_ENTITY,
    default_endpoint="https://query.wikidata.org/sparql",
    label_predicates=((RDFS_LABEL, "label"), (SKOS_ALT_LABEL, "alias")),
    type_path=f"<{WDT}P31>/<{WDT}P279>*",
    type_predicate=WDT + "P31",
    item_prefix=WIKIDATA_ENTITY + "Q",
    redirect_predicate=OWL_SAME_AS,
    birth_predicate=WDT + "P569",
    description_predicate="http://schema.org/description",
    classes={
        "person": {_Q + "Q5": "human"},
        "state": {_Q + "Q6256": "country", _Q + "Q3624078": "sovereign state", _Q + "Q7275": "state"},
        "organization": {_Q + "Q43229": "organization"},
        "media": {_Q + "Q43229": "organization", _Q + "Q11032": "newspaper", _Q + "Q41298": "magazine",
                  _Q + "Q35127": "website"},
        "group": {_Q + "Q16334295": "group of humans", _Q + "Q41710": "ethnic group"},
        "place": {_Q + "Q2221906": "geographic location", _Q + "Q618123": "geographical feature",
                  _Q + "Q486972": "human settlement", _Q + "Q82794": "geographic region"},
        "event": {_Q + "Q1190554": "occurrence", _Q + "Q1656682": "event"},
        "agreement": {_Q + "Q131569": "treaty", _Q + "Q1190554": "occurrence", _Q + "Q1656682": "event"},
    },
)

DBPEDIA = TargetDataset(
    name="dbpedia",
    title="DBpedia",
    namespace=DBPEDIA_RESOURCE,
    default_endpoint="https://dbpedia.org/sparql",
    label_predicates=((RDFS_LABEL, "label"), (FOAF_NAME, "name")),
    type_path=f"<{RDF_TYPE}>",
    type_predicate=RDF_TYPE,
    item_prefix=DBPEDIA_RESOURCE,
    # Only classes of the DBpedia ontology count as "typed" (owl:Thing, YAGO or schema.org types do not).
    type_namespace=DBO,
    redirect_predicate=DBO + "wikiPageRedirects",
    birth_predicate=DBO + "birthDate",
    description_predicate=RDFS_COMMENT,
    classes={
        "person": {DBO + "Person": "person"},
        "state": {DBO + "Country": "country"},
        "organization": {DBO + "Organisation": "organisation"},
        "media": {DBO + "Organisation": "organisation", DBO + "Newspaper": "newspaper",
                  DBO + "Website": "website", DBO + "PeriodicalLiterature": "periodical"},
        "group": {DBO + "EthnicGroup": "ethnic group"},
        "place": {DBO + "Place": "place"},
        "event": {DBO + "Event": "event"},
        "agreement": {DBO + "Event": "event", DBO + "Treaty": "treaty"},
    },
)

DATASETS: dict[str, TargetDataset] = {d.name: d for d in (WIKIDATA, DBPEDIA)}


def dataset_for(name: str) -> TargetDataset:
    """The profile called ``name``; ``ValueError`` listing the known ones otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown target dataset {name!r}; known: {', '.join(DATASETS)}") from None
