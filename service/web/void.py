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
import threading
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request, stream_with_context
from flask.typing import ResponseReturnValue

from service import problems
from service.rdf.derived import asserted_pattern
from service.rdf.vocabulary import (
    DBPEDIA_RESOURCE,
    DCT,
    DERIVED_GRAPHS,
    FOAF,
    FORMATS,
    ONTOLOGY_NS,
    OWL_SAME_AS,
    PREFIXES,
    RDF_TYPE,
    RESOURCE_NS,
    SKOS_EXACT_MATCH,
    VOID,
    WIKIDATA_ENTITY,
    XSD_INTEGER,
    expand_name,
)
from service.store.client import StoreClient
from service.web import negotiation
from service.web.context import get_store

bp = Blueprint("void", __name__)


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


def compute(store: StoreClient, base_url: str, union: bool) -> list[ox.Triple]:
    """The VoID description of the store's dataset, as triples (see the module docstring)."""
    distinct = f"SELECT DISTINCT ?s ?p ?o WHERE {asserted_pattern('?s ?p ?o', union=union)}"
    triples = _count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {distinct} }}")
    subjects = _count(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {asserted_pattern('?s ?p ?o', union=union)}")
    objects = _count(store, f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {asserted_pattern('?s ?p ?o', union=union)}")
    entities = _count(store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE "
                             f"{{ {asserted_pattern('?s a ?c', union=union)} "
                             f"FILTER(STRSTARTS(STR(?s), \"{RESOURCE_NS}\")) }}")
    classes = store.select(f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {asserted_pattern('?s a ?c', union=union)} "
                           "GROUP BY ?c ORDER BY ?c").rows
    properties = store.select(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {distinct} }} GROUP BY ?p ORDER BY ?p").rows
    predicates = " ".join(f"<{p}>" for p in LINK_PREDICATES)
    links = store.select(
        f"SELECT ?p ?o WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ {asserted_pattern('?s ?p ?o', union=union)} "
        f"VALUES ?p {{ {predicates} }} }} }}").rows
    documents = store.select(
        f"PREFIX dj: <{ONTOLOGY_NS}> SELECT DISTINCT ?doc WHERE {{ GRAPH ?doc {{ ?doc a dj:SourceDocument }} }} "
        "ORDER BY ?doc").rows

    node = ox.NamedNode
    dataset = node(DATASET_IRI)
    out: list[ox.Triple] = []

    def add(s: Any, p: str, o: Any) -> None:
        out.append(ox.Triple(s, node(p), o))

    def integer(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=node(XSD_INTEGER))

    description = node(base_url + VOID_PATH)
    add(description, RDF_TYPE, node(VOID + "DatasetDescription"))
    add(description, DCT + "title", ox.Literal("VoID description of the dprk-japan-kg dataset", language="en"))
    add(description, FOAF + "primaryTopic", dataset)

    add(dataset, RDF_TYPE, node(VOID + "Dataset"))
    add(dataset, DCT + "title", ox.Literal("DPRK–Japan relations knowledge graph", language="en"))
    add(dataset, DCT + "description", ox.Literal(
        "A sourced knowledge graph of North Korea–Japan relations drawn from five source documents: each "
        "document's facts are in the named graph that is the document's own IRI; external links to Wikidata "
        "and DBpedia are in the graph djg:links.", language="en"))
    add(dataset, DCT + "license", node(LICENSE))
    for row in documents:
        add(dataset, DCT + "source", row[0])
    add(dataset, VOID + "sparqlEndpoint", node(base_url + "/sparql"))
    add(dataset, VOID + "dataDump", node(base_url + DUMP_PATH))
    add(dataset, VOID + "dataDump", node(base_url + DUMP_PATH + "?format=nquads"))
    add(dataset, VOID + "feature", node(FORMATS + "TriG"))
    add(dataset, VOID + "feature", node(FORMATS + "N-Quads"))
    add(dataset, VOID + "feature", node(FORMATS + "Turtle"))
    add(dataset, VOID + "uriSpace", ox.Literal(RESOURCE_NS))
    add(dataset, VOID + "triples", integer(triples))
    add(dataset, VOID + "entities", integer(entities))
    add(dataset, VOID + "distinctSubjects", integer(subjects))
    add(dataset, VOID + "distinctObjects", integer(objects))
    add(dataset, VOID + "classes", integer(len(classes)))
    add(dataset, VOID + "properties", integer(len(properties)))

    used = {row[0].value for row in classes} | {row[0].value for row in properties}
    known = {ns for ns in PREFIXES.values()}
    for namespace in sorted({_namespace(iri) for iri in used} & known):
        add(dataset, VOID + "vocabulary", node(namespace))

    for index, (class_term, count) in enumerate(classes):
        part = ox.BlankNode(f"class{index}")
        add(dataset, VOID + "classPartition", part)
        add(part, VOID + "class", class_term)
        add(part, VOID + "entities", integer(int(count.value)))
    for index, (property_term, count) in enumerate(properties):
        part = ox.BlankNode(f"property{index}")
        add(dataset, VOID + "propertyPartition", part)
        add(part, VOID + "property", property_term)
        add(part, VOID + "triples", integer(int(count.value)))

    counts: dict[tuple[str, str], int] = {}
    for predicate, target in links:
        for name, (_, namespace, _, _) in TARGETS.items():
            if target.value.startswith(namespace):
                counts[(name, predicate.value)] = counts.get((name, predicate.value), 0) + 1
    for name in sorted({n for n, _ in counts}):
        title, namespace, homepage, endpoint = TARGETS[name]
        target_dataset = node(f"{RESOURCE_NS}dataset-{name}")
        add(target_dataset, RDF_TYPE, node(VOID + "Dataset"))
        add(target_dataset, DCT + "title", ox.Literal(title, language="en"))
        add(target_dataset, FOAF + "homepage", node(homepage))
        add(target_dataset, VOID + "sparqlEndpoint", node(endpoint))
        add(target_dataset, VOID + "uriSpace", ox.Literal(namespace))
        for predicate, suffix in LINK_PREDICATES.items():
            if (name, predicate) not in counts:
                continue
            linkset = node(f"{RESOURCE_NS}linkset-{name}{suffix}")
            add(dataset, VOID + "subset", linkset)
            add(linkset, RDF_TYPE, node(VOID + "Linkset"))
            add(linkset, DCT + "title", ox.Literal(
                f"{'Candidate links' if suffix == '-candidates' else 'Links'} to {title}", language="en"))
            add(linkset, VOID + "subjectsTarget", dataset)
            add(linkset, VOID + "objectsTarget", target_dataset)
            add(linkset, VOID + "target", dataset)
            add(linkset, VOID + "target", target_dataset)
            add(linkset, VOID + "linkPredicate", node(predicate))
            add(linkset, VOID + "triples", integer(counts[(name, predicate)]))
    return out


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


class _Cache:
    """The last description per (store, base URL), valid while the store generation is unchanged.

    Serializations are kept beside the triples, so a repeated request costs a dictionary look-up.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[int, str, bool], tuple[int, list[ox.Triple], dict[str, bytes]]] = {}

    def body(self, store: StoreClient, base_url: str, union: bool, media_type: str) -> bytes:
        key = (id(store), base_url, union)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] != store.generation:
            generation = store.generation
            entry = (generation, compute(store, base_url, union), {})
            with self._lock:
                if len(self._entries) > 32:
                    self._entries.clear()
                self._entries[key] = entry
        bodies = entry[2]
        if media_type not in bodies:
            bodies[media_type] = serialize(entry[1], media_type)
        return bodies[media_type]


CACHE = _Cache()


def _chosen(table: tuple[negotiation.Format, ...], default: negotiation.Format) -> negotiation.Format:
    """The format named by ``?format=`` or negotiated from Accept."""
    name = request.args.get("format")
    if name is not None:
        return negotiation.by_name(name, table, "format")
    return negotiation.negotiate(request.headers.get("Accept"), table, default)


def _base_url() -> str:
    return request.host_url.rstrip("/")


@bp.get(VOID_PATH)
def void_description() -> ResponseReturnValue:
    """The VoID description of the dataset (Turtle unless the client asks for another syntax)."""
    fmt = _chosen(DESCRIPTION_FORMATS, DESCRIPTION_FORMATS[0])
    body = CACHE.body(get_store(), _base_url(), bool(current_app.config.get("UNION_DEFAULT_GRAPH")), fmt.key)
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
