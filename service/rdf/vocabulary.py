"""The IRIs the service relies on: its own graphs and namespaces, and the W3C terms its code names.

Why one module of constants: the store worker, the blueprints, the loader, the linker and
the tests must agree on these IRIs, and the ontology/data files use the same ones. Each IRI
is written here once, as a string (SPARQL text, rdflib and pyoxigraph all start from one);
a module that needs a pyoxigraph node wraps it (``ox.NamedNode(RDF_TYPE)``).
"""

from __future__ import annotations

import re

ONTOLOGY_NS = "https://w3id.org/dprk-japan-kg/ontology#"
RESOURCE_NS = "https://w3id.org/dprk-japan-kg/id/"
SHAPES_NS = "https://w3id.org/dprk-japan-kg/shapes#"
GRAPH_NS = "https://w3id.org/dprk-japan-kg/graph/"

#: The ontology (classes, properties, concept schemes) is loaded into this graph.
ONTOLOGY_GRAPH = GRAPH_NS + "ontology"
#: The SHACL shapes are loaded into this graph (queryable like any data).
SHAPES_GRAPH = GRAPH_NS + "shapes"
#: External links (Wikidata, DBpedia) and their provenance.
LINKS_GRAPH = GRAPH_NS + "links"
#: Materialized RDFS inferences (subclass and subproperty); derived, never dumped as data.
ENTAILED_GRAPH = GRAPH_NS + "entailed"
#: Prefix of the named graphs holding accepted ingest batches.
BATCH_GRAPH_NS = GRAPH_NS + "batch/"
#: Skolem IRIs that stand for the blank nodes of ingested batches (RDF 1.1 Concepts §3.5): still parts of their
#: owner's statement (an annotation's target and selectors …), never resources of their own.
GENID_NS = "https://w3id.org/dprk-japan-kg/.well-known/genid/"
#: Metadata about the named graphs: each batch's provenance record, and which source document's
#: statements each graph carries (:data:`DJ_STATEMENTS_OF`).
PROVENANCE_GRAPH = GRAPH_NS + "provenance"

#: In front of a remote store: the store's version (what caches are keyed by, checked and bumped by every guarded
#: write) and the service instances' write lock (service.store.remote). Never data: hidden like a derived graph.
STORE_STATE_GRAPH = "urn:x-dprk-kg:service"

#: Graphs the service derives or keeps itself; clients may not write them.
DERIVED_GRAPHS = frozenset({ENTAILED_GRAPH, STORE_STATE_GRAPH})

# -- W3C and community namespaces ------------------------------------------------------------

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
SH = "http://www.w3.org/ns/shacl#"
#: Web Annotation (https://www.w3.org/TR/annotation-vocab/): evidence passages.
OA = "http://www.w3.org/ns/oa#"
#: OWL-Time (https://www.w3.org/TR/owl-time/): membership intervals.
TIME = "http://www.w3.org/2006/time#"
#: https://www.w3.org/TR/void/
VOID = "http://rdfs.org/ns/void#"
#: https://www.w3.org/TR/sparql11-service-description/
SD = "http://www.w3.org/ns/sparql-service-description#"
#: Unique URIs for file formats (https://www.w3.org/ns/formats/).
FORMATS = "http://www.w3.org/ns/formats/"
#: Entailment regimes (https://www.w3.org/TR/sparql11-entailment/).
ENTAILMENT = "http://www.w3.org/ns/entailment/"
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
DBPEDIA_RESOURCE = "http://dbpedia.org/resource/"

# -- the terms the code names (the ontology and data name many more) ---------------------------

RDF_TYPE = RDF + "type"
RDF_LANGSTRING = RDF + "langString"
RDFS_LABEL = RDFS + "label"
RDFS_COMMENT = RDFS + "comment"
RDFS_SEE_ALSO = RDFS + "seeAlso"
RDFS_SUBCLASS_OF = RDFS + "subClassOf"
RDFS_SUBPROPERTY_OF = RDFS + "subPropertyOf"
OWL_SAME_AS = OWL + "sameAs"
SKOS_PREF_LABEL = SKOS + "prefLabel"
SKOS_ALT_LABEL = SKOS + "altLabel"
SKOS_EXACT_MATCH = SKOS + "exactMatch"
SKOS_CONCEPT = SKOS + "Concept"
XSD_STRING = XSD + "string"
XSD_INTEGER = XSD + "integer"
XSD_DECIMAL = XSD + "decimal"
XSD_DOUBLE = XSD + "double"
XSD_BOOLEAN = XSD + "boolean"
XSD_DATE = XSD + "date"
XSD_DATETIME = XSD + "dateTime"
XSD_GYEAR = XSD + "gYear"
DCT_TITLE = DCT + "title"
DCT_SOURCE = DCT + "source"
DCT_IDENTIFIER = DCT + "identifier"
FOAF_NAME = FOAF + "name"
PROV_GENERATED_AT_TIME = PROV + "generatedAtTime"
PROV_HAD_PRIMARY_SOURCE = PROV + "hadPrimarySource"
DJ_SOURCE_DOCUMENT = ONTOLOGY_NS + "SourceDocument"
#: ``?g dj:statementsOf ?doc`` in :data:`PROVENANCE_GRAPH`: named graph ``?g`` carries statements of the
#: source document ``?doc`` (its own graph, and every batch ingested with that document as its source).
#: Queries that group or filter by document join on it (queries/README.md, "Which document says so").
DJ_STATEMENTS_OF = ONTOLOGY_NS + "statementsOf"
VOID_TRIPLES = VOID + "triples"

#: Prefixes offered to query writers (UI, canned queries, Turtle output).
PREFIXES: dict[str, str] = {
    "dj": ONTOLOGY_NS,
    "djr": RESOURCE_NS,
    "djsh": SHAPES_NS,
    "djg": GRAPH_NS,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dct": DCT,
    "foaf": FOAF,
    "org": ORG,
    "prov": PROV,
    "schema": SCHEMA,
    "sh": SH,
    "oa": OA,
    "time": TIME,
    "wd": WIKIDATA_ENTITY,
    "dbr": DBPEDIA_RESOURCE,
}


def sparql_prefix_block() -> str:
    """The PREFIX declarations for :data:`PREFIXES`, one per line."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


#: A local name that may follow a prefix as written (a conservative subset of SPARQL's PN_LOCAL).
_LOCAL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def curie(iri: str, *, brackets: bool = False) -> str:
    """The shortest prefixed name of ``iri`` with :data:`PREFIXES` (``dj:Event``).

    Where no prefix fits, or the rest is not a plain local name, the IRI itself — as
    ``<iri>`` with ``brackets`` (for text people read beside prefixed names), bare otherwise
    (for values that must stay IRIs, such as enum keys).
    """
    best = None
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and (best is None or len(namespace) > len(PREFIXES[best])):
            best = prefix
    if best is not None:
        local = iri[len(PREFIXES[best]):]
        if _LOCAL_NAME.fullmatch(local or "x") and not local.endswith("."):
            return f"{best}:{local}"
    return f"<{iri}>" if brackets else iri


def expand(text: str) -> str | None:
    """A prefixed name with one of :data:`PREFIXES` → its IRI; anything else → ``None``."""
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", text)
    if match and match.group(1) in PREFIXES:
        return PREFIXES[match.group(1)] + match.group(2)
    return None


def expand_name(text: str) -> str:
    """``djr:doc-002`` → its IRI; anything else unchanged.

    A ``//`` after the colon means an absolute IRI whose scheme happens to look like one
    of our prefixes, so it is left as written.
    """
    if text.partition(":")[2].startswith("//"):
        return text
    return expand(text) or text
