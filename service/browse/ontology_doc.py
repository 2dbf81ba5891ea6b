"""The ontology's documentation, as pyLODE or Widoco would write it, read from the store: every class, property,
datatype and individual of our namespace with its labels, comment, domain and range, super- and sub-terms, how
much the data uses it, and the SHACL shapes that constrain it with their messages; the version and its changes.

Why from the store and not from the file: the page then documents the ontology the service actually answers with
(the same graph ``/ontology`` serves as RDF), and the usage counts come from the same data the queries see. Two
queries build it — the ontology and shapes graphs' triples, and the per-property usage — plus the class counts of
the browse catalogue (:mod:`service.browse.facets`), so that "N instances" here and on ``/browse`` agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.rdf.vocabulary import (
    DCT,
    ENTAILED_GRAPH,
    ONTOLOGY_GRAPH,
    ONTOLOGY_NS,
    OWL,
    RDF,
    RDF_TYPE,
    RDFS,
    RDFS_COMMENT,
    RDFS_LABEL,
    SH,
    SHAPES_GRAPH,
    SKOS,
)

ONTOLOGY_IRI = ONTOLOGY_NS.rstrip("#")

#: What kind of term each ``rdf:type`` makes of a subject, and the order the page lists the kinds in.
KINDS: dict[str, str] = {
    OWL + "Class": "class", RDFS + "Class": "class",
    OWL + "ObjectProperty": "object property", OWL + "DatatypeProperty": "datatype property",
    OWL + "AnnotationProperty": "annotation property", RDF + "Property": "property",
    RDFS + "Datatype": "datatype", OWL + "NamedIndividual": "individual",
}
KIND_ORDER: tuple[str, ...] = ("class", "object property", "datatype property", "annotation property", "property",
                               "datatype", "individual")
PROPERTY_KINDS = frozenset({"object property", "datatype property", "annotation property", "property"})


@dataclass
class ShapeNote:
    """One SHACL shape (or SPARQL constraint) bearing on a term: what it checks and what it says when it fails."""

    shape: str | None  # the shape's IRI (None for a constraint written as a blank node)
    name: str
    severity: str  # "Violation", "Warning" or "Info"
    message: str
    path: str | None = None  # the property a property shape constrains
    node_shape: str | None = None  # the node shape holding a property shape or a SPARQL constraint
    target: str | None = None  # the class the node shape targets


@dataclass
class TermDoc:
    """One term of the ontology as its entry on the page shows it."""

    iri: str
    kinds: list[str] = field(default_factory=list)
    label: str = ""
    other_labels: list[tuple[str, str]] = field(default_factory=list)  # (text, language)
    comment: str = ""
    definition: str = ""
    domain: list[list[str]] = field(default_factory=list)  # each entry: one IRI, or the members of a union
    range: list[list[str]] = field(default_factory=list)
    supers: list[str] = field(default_factory=list)
    subs: list[str] = field(default_factory=list)
    inverse: list[str] = field(default_factory=list)
    equivalent: list[list[str]] = field(default_factory=list)
    see_also: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)  # an individual's classes
    domain_of: list[str] = field(default_factory=list)  # for a class: the properties whose domain it is
    range_of: list[str] = field(default_factory=list)
    instances: int | None = None
    triples: int | None = None
    subjects: int | None = None
    shapes: list[ShapeNote] = field(default_factory=list)
    #: For a class: its superclasses with shapes of their own (SHACL targets a subclass's instances too).
    shaped_ancestors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The local name: the entry's anchor (``#Event``)."""
        return self.iri[len(ONTOLOGY_NS):]

    @property
    def kind(self) -> str:
        return min(self.kinds, key=KIND_ORDER.index) if self.kinds else "term"


@dataclass
class OntologyDoc:
    """The ontology's header (title, version, changes) and its terms in page order."""

    title: str = ""
    description: str = ""
    version: str = ""
    version_iri: str = ""
    prior_version: str = ""
    created: str = ""
    modified: str = ""
    license: str = ""
    changes: list[tuple[str, str]] = field(default_factory=list)  # (version, text), newest first
    see_also: list[str] = field(default_factory=list)
    terms: list[TermDoc] = field(default_factory=list)

    def by_kind(self) -> list[tuple[str, list[TermDoc]]]:
        """The terms grouped by kind, in :data:`KIND_ORDER`."""
        groups: dict[str, list[TermDoc]] = {}
        for term in self.terms:
            groups.setdefault(term.kind, []).append(term)
        return [(kind, groups[kind]) for kind in (*KIND_ORDER, "term") if kind in groups]


def graphs_query() -> str:
    """Every triple of the ontology and shapes graphs, with the graph it is in."""
    return (f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ <{ONTOLOGY_GRAPH}> <{SHAPES_GRAPH}> }} "
            f"GRAPH ?g {{ ?s ?p ?o }} }}")


def usage_query() -> str:
    """For each property of our namespace: the triples using it in the data (the document and batch graphs, not
    the ontology, the shapes or the inferences) and the resources they describe."""
    return (f"SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?r) WHERE {{ "
            f"{{ SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
            f"FILTER(STRSTARTS(STR(?p), \"{ONTOLOGY_NS}\") && "
            f"?g NOT IN (<{ONTOLOGY_GRAPH}>, <{SHAPES_GRAPH}>, <{ENTAILED_GRAPH}>)) }} }} }} GROUP BY ?p")


_VERSION = re.compile(r"^\s*(\d+(?:\.\d+)*)")


def _version_key(text: str) -> tuple[int, ...]:
    match = _VERSION.match(text)
    return tuple(int(part) for part in match.group(1).split(".")) if match else ()


def _english(term: Any) -> bool:
    language = getattr(term, "language", None)
    return not language or language.lower().startswith("en")


def build(graph_rows: Iterable[Sequence[Any]], usage_rows: Iterable[Sequence[Any]],
          instances: Mapping[str, int]) -> OntologyDoc:
    """The documentation from the answers of :func:`graphs_query` and :func:`usage_query`, and the number of
    instances of each class (entailed types included)."""
    ontology: dict[Any, dict[str, list[Any]]] = {}
    shapes: dict[Any, dict[str, list[Any]]] = {}
    for g, s, p, o in graph_rows:
        target = ontology if g.value == ONTOLOGY_GRAPH else shapes
        target.setdefault(s, {}).setdefault(p.value, []).append(o)
    doc = OntologyDoc()
    _header(doc, ontology)
    terms: dict[str, TermDoc] = {}
    for subject, props in ontology.items():
        iri = getattr(subject, "value", "")
        if not iri.startswith(ONTOLOGY_NS) or type(subject).__name__ != "NamedNode":
            continue
        terms[iri] = _term(iri, props, ontology)
    _relate(terms)
    usage = {p.value: (int(n.value), int(r.value)) for p, n, r in usage_rows}
    for term in terms.values():
        if "class" in term.kinds:
            term.instances = instances.get(term.iri, 0)
        if PROPERTY_KINDS & set(term.kinds):
            term.triples, term.subjects = usage.get(term.iri, (0, 0))
    _attach_shapes(terms, shapes)
    for term in terms.values():
        if "class" in term.kinds:
            term.shaped_ancestors = sorted(a for a in _ancestors(term.iri, terms) if terms[a].shapes)
    doc.terms = sorted(terms.values(), key=lambda t: (KIND_ORDER.index(t.kind) if t.kind in KIND_ORDER else 99,
                                                      t.name.casefold()))
    return doc


def _first(props: Mapping[str, list[Any]], predicate: str, *, english: bool = True) -> str:
    values = props.get(predicate, [])
    for value in values:
        if not english or _english(value):
            return value.value
    return values[0].value if values else ""


def _header(doc: OntologyDoc, ontology: Mapping[Any, Mapping[str, list[Any]]]) -> None:
    props = next((p for s, p in ontology.items() if getattr(s, "value", None) == ONTOLOGY_IRI), {})
    doc.title = _first(props, DCT + "title") or _first(props, RDFS_LABEL)
    doc.description = _first(props, DCT + "description") or _first(props, RDFS_COMMENT)
    doc.version = _first(props, OWL + "versionInfo")
    doc.version_iri = _first(props, OWL + "versionIRI")
    doc.prior_version = _first(props, OWL + "priorVersion")
    doc.created = _first(props, DCT + "created")
    doc.modified = _first(props, DCT + "modified")
    doc.license = _first(props, DCT + "license")
    doc.see_also = sorted(v.value for v in props.get(RDFS + "seeAlso", []))
    notes = [v.value for v in props.get(SKOS + "changeNote", []) if _english(v)]
    doc.changes = sorted(((m.group(1) if (m := _VERSION.match(n)) else "", n.strip()) for n in notes),
                         key=lambda item: _version_key(item[0]), reverse=True)


def _members(node: Any, graph: Mapping[Any, Mapping[str, list[Any]]]) -> list[str]:
    """A class expression as IRIs: the IRI itself, or the members of an ``owl:unionOf`` list."""
    if type(node).__name__ == "NamedNode":
        return [node.value]
    props = graph.get(node, {})
    for head in props.get(OWL + "unionOf", []):
        members = []
        seen = set()
        while head is not None and type(head).__name__ != "NamedNode" and head not in seen:
            seen.add(head)
            cell = graph.get(head, {})
            members += [v.value for v in cell.get(RDF + "first", []) if type(v).__name__ == "NamedNode"]
            head = (cell.get(RDF + "rest") or [None])[0]
        return members
    return []


def _term(iri: str, props: Mapping[str, list[Any]], graph: Mapping[Any, Mapping[str, list[Any]]]) -> TermDoc:
    term = TermDoc(iri)
    for kind_iri in props.get(RDF_TYPE, []):
        kind = KINDS.get(kind_iri.value)
        if kind and kind not in term.kinds:
            term.kinds.append(kind)
        elif kind is None and kind_iri.value.startswith(ONTOLOGY_NS):
            term.types.append(kind_iri.value)
    labels = props.get(RDFS_LABEL, []) + props.get(SKOS + "prefLabel", [])
    english = [v for v in labels if _english(v)]
    term.label = english[0].value if english else (labels[0].value if labels else "")
    term.other_labels = sorted({(v.value, v.language) for v in labels if v.language and not _english(v)},
                               key=lambda item: item[1])
    term.comment = _first(props, RDFS_COMMENT)
    term.definition = _first(props, SKOS + "definition")
    term.domain = [m for v in props.get(RDFS + "domain", []) if (m := _members(v, graph))]
    term.range = [m for v in props.get(RDFS + "range", []) if (m := _members(v, graph))]
    term.equivalent = [m for v in props.get(OWL + "equivalentClass", []) if (m := _members(v, graph))]
    term.supers = sorted(v.value for p in (RDFS + "subClassOf", RDFS + "subPropertyOf", SKOS + "broader")
                         for v in props.get(p, []) if type(v).__name__ == "NamedNode")
    term.inverse = sorted(v.value for v in props.get(OWL + "inverseOf", []))
    term.see_also = sorted(v.value for v in props.get(RDFS + "seeAlso", []) if type(v).__name__ == "NamedNode")
    return term


def _ancestors(iri: str, terms: Mapping[str, TermDoc]) -> set[str]:
    """The terms of ours above ``iri`` (transitively), itself left out."""
    seen: set[str] = set()
    stack = [iri]
    while stack:
        for parent in terms[stack.pop()].supers:
            if parent in terms and parent not in seen and parent != iri:
                seen.add(parent)
                stack.append(parent)
    return seen


def _relate(terms: dict[str, TermDoc]) -> None:
    """Sub-terms, inverses stated on one side, and each class's properties (by domain and by range)."""
    for term in terms.values():
        for parent in term.supers:
            if parent in terms and term.iri not in terms[parent].subs:
                terms[parent].subs.append(term.iri)
        for other in term.inverse:
            if other in terms and term.iri not in terms[other].inverse:
                terms[other].inverse.append(term.iri)
        for members in term.domain:
            for cls in members:
                if cls in terms:
                    terms[cls].domain_of.append(term.iri)
        for members in term.range:
            for cls in members:
                if cls in terms:
                    terms[cls].range_of.append(term.iri)
    for term in terms.values():
        term.subs.sort()
        term.domain_of.sort()
        term.range_of.sort()


def _severity(props: Mapping[str, list[Any]]) -> str:
    value = _first(props, SH + "severity", english=False)
    return value[len(SH):] if value.startswith(SH) else "Violation"


def _attach_shapes(terms: dict[str, TermDoc], shapes: Mapping[Any, Mapping[str, list[Any]]]) -> None:
    """Each node shape under the classes it targets (with its property shapes and SPARQL constraints), each
    property shape under its path, each ``sh:targetSubjectsOf``/``sh:targetObjectsOf`` shape under its property."""
    holder: dict[Any, Any] = {}
    for subject, props in shapes.items():
        for child in props.get(SH + "property", []):
            holder[child] = subject

    def note(subject: Any, props: Mapping[str, list[Any]], message_from: Mapping[str, list[Any]] | None = None,
             ) -> ShapeNote:
        node = holder.get(subject)
        target = None
        if node is not None:
            target = _first(shapes.get(node, {}), SH + "targetClass", english=False) or None
        path = _first(props, SH + "path", english=False) or None
        return ShapeNote(subject.value if type(subject).__name__ == "NamedNode" else None,
                         _first(props, SH + "name"), _severity(message_from or props),
                         _first(message_from or props, SH + "message"), path,
                         node.value if node is not None and type(node).__name__ == "NamedNode" else None, target)

    def add(iri: str | None, item: ShapeNote) -> None:
        """Attach ``item`` once per shape and message; a nameless part of another shape (a blank node inside
        ``sh:or`` …) carries no message of its own and is left to the shape holding it."""
        if iri not in terms or (item.shape is None and not item.message):
            return
        if any((s.shape, s.message) == (item.shape, item.message) for s in terms[iri].shapes):
            return
        terms[iri].shapes.append(item)

    for subject, props in shapes.items():
        kinds = {v.value for v in props.get(RDF_TYPE, [])}
        targets = [v.value for v in props.get(SH + "targetClass", [])]
        if SH + "NodeShape" in kinds or targets:
            own = note(subject, props)
            for cls in targets:
                if own.message:
                    add(cls, own)
                for child in props.get(SH + "property", []):
                    add(cls, note(child, shapes.get(child, {})))
                for constraint in props.get(SH + "sparql", []):
                    constraint_props = shapes.get(constraint, {})
                    add(cls, ShapeNote(subject.value if type(subject).__name__ == "NamedNode" else None,
                                       _first(constraint_props, SH + "name") or own.name,
                                       _severity(constraint_props) if constraint_props.get(SH + "severity")
                                       else _severity(props),
                                       _first(constraint_props, SH + "message") or own.message, None,
                                       own.shape, cls))
            for prop in (v.value for p in ("targetSubjectsOf", "targetObjectsOf")
                         for v in props.get(SH + p, [])):
                add(prop, own)
        path = _first(props, SH + "path", english=False)
        if path.startswith(ONTOLOGY_NS):
            add(path, note(subject, props))
