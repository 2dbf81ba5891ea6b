"""What the store says about one resource or one source document, in as few queries as a page can afford.

Why one module: the RDF a client gets at ``/id/<slug>``, the entity page and the document page read the
same neighbourhood of a resource, and a page must cost one or two round trips to the store worker, not one
per fact. Every query here returns *quads*: the graph a triple sits in is the document stating it, and the
callers keep it (TriG and N-Quads answers; the document badges of a page).

The extent of a resource's description (:func:`description`) is its **concise bounded description** in every
asserted graph — the triples whose subject it is, and, through blank nodes, the triples of the blank nodes it
reaches (to :data:`BLANK_DEPTH` levels) — plus the evidence annotations whose ``oa:hasBody`` it is (with
their blank-node targets and selectors), plus the ``rdfs:label``/``skos:prefLabel`` of every IRI it links to,
so that a client can name what it sees without a second request. Incoming links are *not* part of it: a
state is the object of hundreds of triples, each of which belongs to its own subject's description; the
entity page lists them ("what links here") and the query page finds them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from service.rdf.vocabulary import (
    DCT,
    DERIVED_GRAPHS,
    GRAPH_NS,
    ONTOLOGY_GRAPH,
    ONTOLOGY_NS,
    ORG,
    PROV,
    RDF_TYPE,
    RDFS_LABEL,
    RDFS_SUBCLASS_OF,
    SKOS_PREF_LABEL,
)
from service.store.client import StoreClient

#: Web Annotation (https://www.w3.org/TR/annotation-vocab/): evidence passages are ``oa:Annotation``s.
OA = "http://www.w3.org/ns/oa#"
OA_HAS_BODY = OA + "hasBody"

#: How many blank nodes deep a description follows (the data's deepest chain — an annotation's target and
#: its selectors, a membership's interval and its instants — is two).
BLANK_DEPTH = 3

#: ``GRAPH djg:provenance { ?g dj:statementsOf ?doc }``: graph ``?g`` carries statements of document ``?doc``.
PROVENANCE_GRAPH = GRAPH_NS + "provenance"
STATEMENTS_OF = ONTOLOGY_NS + "statementsOf"

#: Predicates whose values name a resource, most preferred first.
LABEL_PREDICATES = (RDFS_LABEL, SKOS_PREF_LABEL)

_NOT_DERIVED = "FILTER(?g NOT IN ({}))".format(", ".join(f"<{g}>" for g in sorted(DERIVED_GRAPHS)))


def _labels_of(node: str, graph: str = "?g") -> str:
    """A group pattern binding ``?p ?o`` to the labels of ``node`` in ``graph`` (explicit branches: a VALUES
    block of predicates would be joined after the scan, many times slower)."""
    return " UNION ".join(f"{{ GRAPH {graph} {{ {node} <{p}> ?o }} BIND(<{p}> AS ?p) }}" for p in LABEL_PREDICATES)

#: What a page shows of a resource that links to an entity, beside the link itself: what it is and is called,
#: when, and the few facts that place it (a membership's organization and role, a claim's figure and
#: claimant, a link's target and provenance). Not its participants, issues or long texts: it has its own page.
INCOMING_PREDICATES: tuple[str, ...] = (
    RDF_TYPE, RDFS_LABEL, SKOS_PREF_LABEL, DCT + "source", PROV + "generatedAtTime",
    *(ONTOLOGY_NS + name for name in (
        "startDate", "endDate", "edtf", "claimDate", "birthDate", "deathDate",
        "member", "organization", "role", "roleLabel",
        "claimant", "quantityKind", "quantityValue", "quantityMin", "quantityMax", "quantityQualifier",
        "valueText", "unit", "quote", "actor", "obligation", "commitmentStatus",
        "linkTarget", "linkRelation", "linkStatus", "verificationNote")),
    *(ORG + name for name in ("heldBy", "postIn", "role")),
)


def _iri(term: str) -> str:
    return f"<{term}>"


def _blank_paths(start: str, depth: int) -> list[tuple[str, str]]:
    """For each depth 1..``depth``: a path from ``start`` to ``?s`` through blank nodes, and its filter."""
    out = []
    for length in range(1, depth + 1):
        hops = [f"?b{i}" for i in range(1, length)] + ["?s"]
        path, previous = [], start
        for index, hop in enumerate(hops):
            path.append(f"{previous} ?h{index} {hop} .")
            previous = hop
        out.append((" ".join(path), " && ".join(f"isBlank({hop})" for hop in hops)))
    return out


def description_query(iri: str) -> str:
    """The SELECT of ``?g ?s ?p ?o`` quads making up the description of ``iri`` (see the module docstring)."""
    node = _iri(iri)
    groups = [f"{{ GRAPH ?g {{ {node} ?p ?o }} BIND({node} AS ?s) }}"]
    groups += [f"{{ GRAPH ?g {{ {path} ?s ?p ?o }} FILTER({blank}) }}"
               for path, blank in _blank_paths(node, BLANK_DEPTH)]
    annotation = f"?a <{OA_HAS_BODY}> {node} ."
    groups.append(f"{{ GRAPH ?g {{ {annotation} ?a ?p ?o }} BIND(?a AS ?s) }}")
    groups += [f"{{ GRAPH ?g {{ {annotation} {path} ?s ?p ?o }} FILTER({blank}) }}"
               for path, blank in _blank_paths("?a", BLANK_DEPTH)]
    groups.append(f"{{ GRAPH ?l {{ {node} ?h ?s }} FILTER(isIRI(?s) && ?s != {node}) {_labels_of('?s')} }}")
    return f"SELECT DISTINCT ?g ?s ?p ?o WHERE {{ {' UNION '.join(groups)} {_NOT_DERIVED} }}"


def incoming_query(iri: str) -> str:
    """The SELECT of ``?g ?s ?p ?o``: the resources linking to ``iri`` (in the graph that states the link), with
    their :data:`INCOMING_PREDICATES` triples, and the labels of the IRIs they link to in turn."""
    node = _iri(iri)
    shown = ", ".join(_iri(p) for p in INCOMING_PREDICATES)
    linking = (f"{{ GRAPH ?g {{ ?s ?q {node} . ?s ?p ?o }} FILTER(?s != {node} && (?o = {node} || ?p IN ({shown}))) }}")
    # a blank node linking to it (a qualified attribution naming a contributor) stands for its parent
    parents = (f"{{ GRAPH ?g {{ ?s ?j ?b . ?b ?q {node} . ?s ?p ?o }} "
               f"FILTER(isBlank(?b) && ?s != {node} && (?o = ?b || ?p IN ({shown}))) }}")
    labels = (f"{{ GRAPH ?k {{ ?r ?q {node} . ?r ?h ?s }} FILTER(?r != {node} && isIRI(?s) && ?s != {node} "
              f"&& ?h IN ({shown})) "
              f"{_labels_of('?s')} }}")
    return f"SELECT DISTINCT ?g ?s ?p ?o WHERE {{ {linking} UNION {parents} UNION {labels} {_NOT_DERIVED} }}"


def _quads(rows: Iterable[tuple[Any, ...]]) -> list[ox.Quad]:
    return [ox.Quad(s, p, o, g) for g, s, p, o in rows]


def description(store: StoreClient, iri: str) -> list[ox.Quad]:
    """The description of ``iri`` as quads (empty when the store knows nothing about it)."""
    return _quads(store.select(description_query(iri)).rows)


def incoming(store: StoreClient, iri: str) -> list[ox.Quad]:
    """The resources that link to ``iri`` as quads (see :func:`incoming_query`)."""
    return _quads(store.select(incoming_query(iri)).rows)


def graph_quads(store: StoreClient, graph: str) -> list[ox.Quad]:
    """Every quad of one named graph, and the labels (from any graph) of the IRIs its triples link to that the
    graph itself does not label (terms of the ontology, concepts of its schemes)."""
    node = _iri(graph)
    own = f"{{ GRAPH {node} {{ ?s ?p ?o }} BIND({node} AS ?g) }}"
    labels = (f"{{ GRAPH {node} {{ ?x ?h ?s }} FILTER(isIRI(?s)) "
              f"FILTER NOT EXISTS {{ GRAPH {node} {{ ?s ?any ?value }} }} {_labels_of('?s')} {_NOT_DERIVED} }}")
    rows = store.select(f"SELECT DISTINCT ?g ?s ?p ?o WHERE {{ {own} UNION {labels} }}").rows
    return _quads(rows)


def is_known(store: StoreClient, iri: str) -> bool:
    """True when ``iri`` is the subject or object of an asserted triple, or names a graph."""
    node = _iri(iri)
    return store.ask(f"ASK {{ {{ GRAPH ?g {{ {node} ?p ?o }} }} UNION {{ GRAPH ?g {{ ?s ?p {node} }} }} "
                     f"UNION {{ GRAPH {node} {{ ?s ?p ?o }} BIND({node} AS ?g) }} {_NOT_DERIVED} }}")


@dataclass
class Terms:
    """The store's vocabulary at one write generation: what every page needs and no page should query again.

    ``labels``: IRI → {language: [labels]} of the ontology's terms and concepts; ``superclasses``: class → every
    class above it (itself included); ``documents``: the source documents (IRI → English label), in IRI order.
    """

    labels: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    superclasses: dict[str, set[str]] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    #: Named graph → the source document whose statements it carries (its own graph, or an ingested batch).
    graph_documents: dict[str, str] = field(default_factory=dict)

    def document_of(self, graph: str) -> str | None:
        """The source document whose statements ``graph`` carries, or None (links, ontology …)."""
        return self.graph_documents.get(graph) or (graph if graph in self.documents else None)

    def is_a(self, types: Iterable[str], cls: str) -> bool:
        """True when one of ``types`` is ``cls`` or a subclass of it."""
        return any(cls in self.superclasses.get(t, {t}) for t in types)


def terms(store: StoreClient) -> Terms:
    """Read :class:`Terms` in two queries (callers cache it per write generation)."""
    result = Terms()
    rows = store.select(
        f"SELECT ?s ?o WHERE {{ {_labels_of('?s', f'<{ONTOLOGY_GRAPH}>')} FILTER(isIRI(?s)) }}").rows
    for subject, label in rows:
        add_label(result.labels, subject.value, label)
    pairs = store.select(f"SELECT ?c ?d ?doc ?label WHERE {{ "
                         f"{{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c <{RDFS_SUBCLASS_OF}>+ ?d }} FILTER(isIRI(?d)) }} UNION "
                         f"{{ GRAPH ?doc {{ ?doc <{RDF_TYPE}> <{ONTOLOGY_NS}SourceDocument> "
                         f"OPTIONAL {{ ?doc <{RDFS_LABEL}> ?label }} }} }} }}").rows
    for cls, parent, document, label in pairs:
        if cls is not None:
            result.superclasses.setdefault(cls.value, {cls.value}).add(parent.value)
        elif document is not None and (document.value not in result.documents or
                                       (label is not None and label.language in (None, "", "en"))):
            result.documents[document.value] = label.value if label is not None else document.value
    result.documents = dict(sorted(result.documents.items()))
    links = store.select(f"SELECT ?g ?doc WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?g <{STATEMENTS_OF}> ?doc }} }}").rows
    result.graph_documents = {graph.value: document.value for graph, document in links}
    return result


def add_label(labels: dict[str, dict[str, list[str]]], iri: str, literal: Any) -> None:
    """Record one label literal of ``iri`` under its language ('' for none), once."""
    if not isinstance(literal, ox.Literal):
        return
    bucket = labels.setdefault(iri, {}).setdefault(literal.language or "", [])
    if literal.value not in bucket:
        bucket.append(literal.value)
