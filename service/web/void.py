"""Describing and handing out the dataset: ``/.well-known/void``, ``/dump`` and ``dprk-kg export``.

Why: a Linked Data dataset should say what it is and how to get all of it — the VoID
vocabulary (https://www.w3.org/TR/void/) is how crawlers, catalogues and other datasets
learn its size, classes, properties, licence, sources and links to other datasets
(``void:Linkset``), and ``/.well-known/void`` is where VoID says to look (section 7.2).

* The description is **computed from the store** at request time — counts, class and
  property partitions, linksets per target dataset — so it is never out of date; it is
  cached per store generation (every write bumps it), so repeated requests cost nothing.
  Counts are of *asserted* triples: every named graph except the derived ones
  (``djg:entailed``), each distinct triple once however many documents state it.
* ``/dump`` streams the dataset **with its named graphs** (TriG by default, or N-Quads):
  the graph a fact sits in is its provenance (the document stating it), so a dump without
  graphs would lose it. Turtle and N-Triples, which hold one graph, are offered per graph
  (``?graph=<iri>``). Derived graphs are never dumped: they are recomputed on load.
* ``dprk-kg export`` writes the same dumps offline, from the bundled files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue

from service import problems
from service.canned.cache import GenerationCache
from service.rdf.derived import asserted_pattern
from service.rdf.vocabulary import (
    DBPEDIA_RESOURCE,
    DCT,
    DERIVED_GRAPHS,
    DJ_STATEMENTS_OF,
    FOAF,
    FORMATS,
    ONTOLOGY_NS,
    OWL_SAME_AS,
    PREFIXES,
    PROVENANCE_GRAPH,
    RDF_TYPE,
    RESOURCE_NS,
    SKOS_EXACT_MATCH,
    VOID,
    WIKIDATA_ENTITY,
    XSD_INTEGER,
    expand_name,
)
from service.store.client import StoreClient
from service.web import display, errors, negotiation, responses
from service.web.context import get_store

bp = errors.machine_routes(Blueprint("void", __name__))  # errors in JSON unless asked otherwise


#: The dataset this service publishes (the subject of the VoID description).
DATASET_IRI = RESOURCE_NS + "dataset"


LICENSE = "https://creativecommons.org/licenses/by/4.0/"


#: Where the description is served (VoID, section 7.2) — the Service Description links here.
VOID_PATH = "/.well-known/void"


DUMP_PATH = "/dump"


DUMP_NAME = "dprk-japan-kg"


#: External datasets we link to: name → (title, IRI namespace of its items, homepage, endpoint).
TARGETS: dict[str, tuple[str, str, str, str]] = {
    "wikidata": ("Wikidata", WIKIDATA_ENTITY, "https://www.wikidata.org/",
                 "https://query.wikidata.org/sparql"),
    "dbpedia": ("DBpedia", DBPEDIA_RESOURCE, "https://www.dbpedia.org/", "https://dbpedia.org/sparql"),
}


#: Link predicates that make a linkset, and the suffix of its IRI.
LINK_PREDICATES = {SKOS_EXACT_MATCH: "", OWL_SAME_AS: "-sameas", ONTOLOGY_NS + "candidateMatch": "-candidates"}

#: The IRIs of our namespace that this description, not the store, describes (the dataset, the datasets we link
#: to, the linksets): ``/id/<slug>`` sends a client asking for one of them here (303).
VOID_IRIS = frozenset({DATASET_IRI, *(f"{RESOURCE_NS}dataset-{name}" for name in TARGETS),
                       *(f"{RESOURCE_NS}linkset-{name}{suffix}" for name in TARGETS
                         for suffix in LINK_PREDICATES.values())})


VOID_PREFIXES = {"void": VOID, "dct": DCT, "foaf": FOAF, "xsd": PREFIXES["xsd"], "rdfs": PREFIXES["rdfs"],
                 **{p: PREFIXES[p] for p in ("dj", "djr", "djg", "skos", "owl", "rdf", "prov", "org", "schema",
                                             "foaf", "sh", "wd", "dbr")}}


_RDF = {f.media_type: f for f in negotiation.RDF_FORMATS}


#: The VoID description is one graph: Turtle (default), N-Triples, JSON-LD, RDF/XML and their aliases.
DESCRIPTION_FORMATS = tuple(f for f in negotiation.RDF_FORMATS
                            if (f.alias_of or f.media_type) not in ("application/n-quads", "application/trig"))


#: Whole-dataset dumps keep the named graphs: TriG (default) or N-Quads.
DATASET_FORMATS = (_RDF["application/trig"], _RDF["application/n-quads"])


#: One graph: Turtle (default) or N-Triples (and their aliases).
GRAPH_FORMATS = tuple(f for f in negotiation.RDF_FORMATS
                      if (f.alias_of or f.media_type) in ("text/turtle", "application/n-triples"))


def _count(store: StoreClient, query: str) -> int:
    rows = store.select(query).rows
    return int(rows[0][0].value) if rows and rows[0][0] is not None else 0


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


@dataclass(frozen=True)
class Figures:
    """What the store says about its asserted data: the figures a VoID description reports."""

    triples: int
    entities: int
    subjects: int
    objects: int
    classes: list[tuple[ox.NamedNode, int]]  # class → distinct instances
    properties: list[tuple[ox.NamedNode, int]]  # property → distinct triples
    links: dict[tuple[str, str], int]  # (target dataset name, link predicate) → links
    documents: list[ox.NamedNode]


def measure(store: StoreClient, union: bool) -> Figures:
    """Count the asserted data (each distinct triple once, never the derived graphs)."""
    every = asserted_pattern("?s ?p ?o", union=union)
    typed = asserted_pattern("?s a ?c", union=union)
    distinct = f"SELECT DISTINCT ?s ?p ?o WHERE {every}"
    classes = store.select(f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {typed} GROUP BY ?c ORDER BY ?c").rows
    properties = store.select(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {distinct} }} GROUP BY ?p ORDER BY ?p").rows
    predicates = " ".join(f"<{p}>" for p in LINK_PREDICATES)
    links = store.select(f"SELECT ?p ?o WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ {every} "
                         f"VALUES ?p {{ {predicates} }} }} }}").rows
    documents = store.select(  # every document some graph states (service.rdf.documents)
        f"SELECT DISTINCT ?doc WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?g <{DJ_STATEMENTS_OF}> ?doc }} }} "
        "ORDER BY ?doc").rows
    return Figures(
        triples=_count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {distinct} }}"),
        entities=_count(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {typed} "
                               f"FILTER(STRSTARTS(STR(?s), \"{RESOURCE_NS}\")) }}"),
        subjects=_count(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {every}"),
        objects=_count(store, f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {every}"),
        classes=[(row[0], int(row[1].value)) for row in classes],
        properties=[(row[0], int(row[1].value)) for row in properties],
        links=_link_counts((predicate.value, target.value) for predicate, target in links),
        documents=[row[0] for row in documents],
    )


def _link_counts(links: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Links per (target dataset, predicate): a link's target dataset is the one whose namespace holds its object."""
    counts: dict[tuple[str, str], int] = {}
    for predicate, target in links:
        for name, (_, namespace, _, _) in TARGETS.items():
            if target.startswith(namespace):
                counts[(name, predicate)] = counts.get((name, predicate), 0) + 1
    return counts


class _Triples:
    """The description being built: a list of triples, added by predicate IRI."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, subject: ox.NamedNode | ox.BlankNode, predicate: str, obj: Any) -> None:
        self.triples.append(ox.Triple(subject, ox.NamedNode(predicate), obj))


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(XSD_INTEGER))


def compute(store: StoreClient, base_url: str, union: bool) -> list[ox.Triple]:
    """The VoID description of the store's dataset, as triples (see the module docstring)."""
    figures = measure(store, union)
    out = _Triples()
    dataset = ox.NamedNode(DATASET_IRI)
    _describe_description(out, base_url, dataset)
    _describe_dataset(out, base_url, dataset, figures)
    _describe_partitions(out, dataset, figures)
    _describe_linksets(out, dataset, figures)
    return out.triples


def _describe_description(out: _Triples, base_url: str, dataset: ox.NamedNode) -> None:
    """The description document itself, whose primary topic is the dataset."""
    description = ox.NamedNode(base_url + VOID_PATH)
    out.add(description, RDF_TYPE, ox.NamedNode(VOID + "DatasetDescription"))
    out.add(description, DCT + "title", ox.Literal("VoID description of the dprk-japan-kg dataset", language="en"))
    out.add(description, FOAF + "primaryTopic", dataset)


def _describe_dataset(out: _Triples, base_url: str, dataset: ox.NamedNode, figures: Figures) -> None:
    """What the dataset is, where to get it, its sizes and the vocabularies it uses."""
    node = ox.NamedNode
    out.add(dataset, RDF_TYPE, node(VOID + "Dataset"))
    out.add(dataset, DCT + "title", ox.Literal("DPRK–Japan relations knowledge graph", language="en"))
    out.add(dataset, DCT + "description", ox.Literal(
        "A sourced knowledge graph of North Korea–Japan relations drawn from source documents: each "
        "document's facts are in the named graph that is the document's own IRI and in the batches ingested "
        "with the document as their source (djg:provenance links each such graph to its document with "
        "dj:statementsOf); external links to Wikidata and DBpedia are in the graph djg:links.", language="en"))
    out.add(dataset, DCT + "license", node(LICENSE))
    for document in figures.documents:
        out.add(dataset, DCT + "source", document)
    out.add(dataset, VOID + "sparqlEndpoint", node(base_url + "/sparql"))
    # Its IRIs resolve (Linked Data): /id/<slug> here, or any IRI of the dataset appended to the look-up endpoint.
    out.add(dataset, VOID + "uriSpace", ox.Literal(RESOURCE_NS))
    out.add(dataset, VOID + "uriLookupEndpoint", node(base_url + "/lookup?uri="))
    out.add(dataset, VOID + "dataDump", node(base_url + DUMP_PATH))
    out.add(dataset, VOID + "dataDump", node(base_url + DUMP_PATH + "?format=nquads"))
    for feature in ("TriG", "N-Quads", "Turtle"):
        out.add(dataset, VOID + "feature", node(FORMATS + feature))
    out.add(dataset, VOID + "uriSpace", ox.Literal(RESOURCE_NS))
    out.add(dataset, VOID + "triples", _integer(figures.triples))
    out.add(dataset, VOID + "entities", _integer(figures.entities))
    out.add(dataset, VOID + "distinctSubjects", _integer(figures.subjects))
    out.add(dataset, VOID + "distinctObjects", _integer(figures.objects))
    out.add(dataset, VOID + "classes", _integer(len(figures.classes)))
    out.add(dataset, VOID + "properties", _integer(len(figures.properties)))
    used = {term.value for term, _ in figures.classes} | {term.value for term, _ in figures.properties}
    for namespace in sorted({_namespace(iri) for iri in used} & set(PREFIXES.values())):
        out.add(dataset, VOID + "vocabulary", node(namespace))


def _describe_partitions(out: _Triples, dataset: ox.NamedNode, figures: Figures) -> None:
    """One class partition per class (its instances) and one property partition per property (its triples)."""
    for index, (class_term, count) in enumerate(figures.classes):
        part = ox.BlankNode(f"class{index}")
        out.add(dataset, VOID + "classPartition", part)
        out.add(part, VOID + "class", class_term)
        out.add(part, VOID + "entities", _integer(count))
    for index, (property_term, count) in enumerate(figures.properties):
        part = ox.BlankNode(f"property{index}")
        out.add(dataset, VOID + "propertyPartition", part)
        out.add(part, VOID + "property", property_term)
        out.add(part, VOID + "triples", _integer(count))


def _describe_linksets(out: _Triples, dataset: ox.NamedNode, figures: Figures) -> None:
    """Each external dataset we link to, and one linkset per (dataset, link predicate) with links."""
    node = ox.NamedNode
    for name in sorted({n for n, _ in figures.links}):
        title, namespace, homepage, endpoint = TARGETS[name]
        target_dataset = node(f"{RESOURCE_NS}dataset-{name}")
        out.add(target_dataset, RDF_TYPE, node(VOID + "Dataset"))
        out.add(target_dataset, DCT + "title", ox.Literal(title, language="en"))
        out.add(target_dataset, FOAF + "homepage", node(homepage))
        out.add(target_dataset, VOID + "sparqlEndpoint", node(endpoint))
        out.add(target_dataset, VOID + "uriSpace", ox.Literal(namespace))
        for predicate, suffix in LINK_PREDICATES.items():
            if (name, predicate) not in figures.links:
                continue
            linkset = node(f"{RESOURCE_NS}linkset-{name}{suffix}")
            out.add(dataset, VOID + "subset", linkset)
            out.add(linkset, RDF_TYPE, node(VOID + "Linkset"))
            out.add(linkset, DCT + "title", ox.Literal(
                f"{'Candidate links' if suffix == '-candidates' else 'Links'} to {title}", language="en"))
            out.add(linkset, VOID + "subjectsTarget", dataset)
            out.add(linkset, VOID + "objectsTarget", target_dataset)
            out.add(linkset, VOID + "target", dataset)
            out.add(linkset, VOID + "target", target_dataset)
            out.add(linkset, VOID + "linkPredicate", node(predicate))
            out.add(linkset, VOID + "triples", _integer(figures.links[(name, predicate)]))


def serialize(triples: list[ox.Triple], media_type: str) -> bytes:
    """Serialize the description; Turtle through rdflib, which nests the partitions as ``[ … ]``."""
    if media_type != "text/turtle":
        return ox.serialize(triples, format=ox.RdfFormat.from_media_type(media_type)) or b""
    import rdflib

    from service.rdf.terms import to_rdflib

    graph = rdflib.Graph(bind_namespaces="none")
    for prefix, namespace in VOID_PREFIXES.items():
        graph.bind(prefix, namespace)
    for triple in triples:
        graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
    return graph.serialize(format="turtle").encode("utf-8")


@dataclass
class _Description:
    """One computed description, and its serializations as they are asked for (a repeat costs a look-up)."""

    triples: list[ox.Triple]
    bodies: dict[str, bytes] = field(default_factory=dict)

    def body(self, media_type: str) -> bytes:
        if media_type not in self.bodies:
            self.bodies[media_type] = serialize(self.triples, media_type)
        return self.bodies[media_type]


#: ``app.extensions`` key: the app's descriptions per (base URL, union mode), until the next write.
CACHE_KEY = "dprk_kg_void_cache"


def init_app(app: Flask) -> None:
    """Give the app its description cache (one per app, so one store and one write generation)."""
    app.extensions[CACHE_KEY] = GenerationCache[_Description](32)


def _description(store: StoreClient, base_url: str, union: bool) -> _Description:
    """The description, computed once per store write generation."""
    cache: GenerationCache[_Description] = current_app.extensions[CACHE_KEY]
    generation = store.generation  # read before computing: a write meanwhile is never cached as newer
    return cache.get_or_compute((base_url, union), generation, lambda: _Description(compute(store, base_url, union)))


def description_body(store: StoreClient, base_url: str, union: bool, media_type: str) -> bytes:
    """The description in ``media_type``, computed once per store write generation."""
    return _description(store, base_url, union).body(media_type)


def _chosen(table: tuple[negotiation.Format, ...], default: negotiation.Format) -> negotiation.Format:
    """The format named by ``?format=`` or negotiated from Accept."""
    name = request.args.get("format")
    if name is not None:
        return negotiation.by_name(name, table, "format")
    return negotiation.negotiate(request.headers.get("Accept"), table, default)


def _base_url() -> str:
    return request.url_root.rstrip("/")


@bp.get(VOID_PATH)
def void_description() -> ResponseReturnValue:
    """The VoID description of the dataset (Turtle unless the client asks for another syntax; a readable page
    for a browser that ranks HTML first)."""
    union = bool(current_app.config.get("UNION_DEFAULT_GRAPH"))
    if request.args.get("format") is None and responses.prefers_html(request.headers.get("Accept"),
                                                                      DESCRIPTION_FORMATS):
        triples = _description(get_store(), _base_url(), union).triples
        downloads = [(display.format_label(f.name), url_for("void.void_description", format=f.name), f.media_type)
                     for f in DESCRIPTION_FORMATS if f.standard]
        return responses.graph_page(triples, title="Dataset description (VoID)", downloads=downloads, intro=(
            "What the dataset holds, where to get it and how it links to Wikidata and DBpedia, in the W3C "
            "Vocabulary of Interlinked Datasets. The whole dataset, with its named graphs, is a download away."),
            dump_url=url_for("void.dump"))
    fmt = _chosen(DESCRIPTION_FORMATS, DESCRIPTION_FORMATS[0])
    body = description_body(get_store(), _base_url(), bool(current_app.config.get("UNION_DEFAULT_GRAPH")), fmt.key)
    response = Response(body, content_type=fmt.content_type)
    response.vary.add("Accept")
    return response


def graph_slug(iri: str) -> str:
    """A file-name part for a graph: the last segment of its IRI (``doc-002``, ``links``)."""
    tail = re.split(r"[/#]", iri.rstrip("/#"))[-1]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-") or "graph"


def _graph_parameter() -> ox.NamedNode | None:
    values = request.args.getlist("graph")
    if not values:
        return None
    if len(values) > 1:
        raise problems.bad_request(f"The 'graph' parameter was given {len(values)} times; give it at most once.")
    text = expand_name(values[0].strip())
    try:
        graph = ox.NamedNode(text)
    except ValueError as exc:
        raise problems.bad_request(f"The 'graph' parameter {values[0]!r} is not an IRI: {exc}") from exc
    if graph.value in DERIVED_GRAPHS:
        raise problems.bad_request(f"The graph <{graph.value}> is derived by the service (inferences); dumps hold "
                                 "the asserted data only. Query it through /sparql instead.")
    return graph


@bp.get(DUMP_PATH)
def dump() -> ResponseReturnValue:
    """The whole dataset with its named graphs (TriG or N-Quads), or one graph (``?graph=``; Turtle or N-Triples)."""
    store = get_store()
    graph = _graph_parameter()
    if graph is None:
        name = request.args.get("format")
        if name is not None and negotiation.by_name(name, negotiation.RDF_FORMATS, "format") in GRAPH_FORMATS:
            raise problems.bad_request(f"format={name} holds a single graph: add ?graph=<iri> for one graph, or ask "
                                     "for the whole dataset as trig or nquads.")
        try:
            fmt = _chosen(DATASET_FORMATS, DATASET_FORMATS[0])
        except problems.ApiError as exc:
            if exc.status != 406:
                raise
            raise problems.ApiError(406, "The dataset dump keeps its named graphs: it is available as "
                                  "application/trig or application/n-quads. Turtle and N-Triples are offered "
                                  "per graph: add ?graph=<iri>.", title="Not Acceptable",
                                  details={"accepted": [f.media_type for f in DATASET_FORMATS]}) from exc
        filename = f"{DUMP_NAME}.{fmt.extension}"
    else:
        if not store.graph_exists(graph):
            raise problems.not_found(f"There is no graph <{graph.value}> in the store.")
        fmt = _chosen(GRAPH_FORMATS, GRAPH_FORMATS[0])
        filename = f"{DUMP_NAME}_{graph_slug(graph.value)}.{fmt.extension}"
    chunks = store.dump(fmt.alias_of or fmt.media_type, graph)
    response = Response(stream_with_context(chunks), content_type=fmt.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.vary.add("Accept")
    return response
