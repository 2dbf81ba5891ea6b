"""Our side of a link: the resources of the bundled graph, with their kind, labels, birth year
and existing links — read from the files, not from a running service.

Why from the files: discovery and the health check are curation tools run beside the data
(before a commit, in CI), and the links they propose or check end up in ``data/links.trig``.
Reading the same files the service loads keeps them independent of any running instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from service.linking.profiles import KINDS
from service.rdf.bundle import load_bundled
from service.rdf.vocabulary import ONTOLOGY_NS, OWL_SAME_AS, RESOURCE_NS, SKOS_EXACT_MATCH

CANDIDATE = ONTOLOGY_NS + "candidateMatch"


@dataclass
class Label:
    """One name of a resource: the text, its language tag, and the property it came from."""

    text: str
    lang: str
    primary: bool  # rdfs:label / skos:prefLabel (True) or skos:altLabel (False)


@dataclass
class Entity:
    """A resource of ours as linking sees it."""

    iri: str
    kind: str | None
    labels: list[Label] = field(default_factory=list)
    birth_year: int | None = None
    #: External IRIs it is linked to with skos:exactMatch or owl:sameAs.
    links: set[str] = field(default_factory=set)
    #: External IRIs a reviewer rejected (never proposed again).
    rejected: set[str] = field(default_factory=set)

    @property
    def short(self) -> str:
        return "djr:" + self.iri[len(RESOURCE_NS):] if self.iri.startswith(RESOURCE_NS) else f"<{self.iri}>"

    @property
    def name(self) -> str:
        """The English label (or any label) for reports."""
        english = [label.text for label in self.labels if label.primary and label.lang.startswith("en")]
        return (english or [label.text for label in self.labels] or [self.short])[0]


def _year(literal: ox.Literal) -> int | None:
    text = literal.value.strip()
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("-")[:4]
    return sign * int(digits) if digits.isdigit() else None


def load_entities(root: Path) -> dict[str, Entity]:
    """Every typed resource of the bundled graph under ``root`` (ontology, data, links).

    Only resources in our namespace are returned; link records (dj:ExternalLink) are left out.
    """
    return entities_from_store(load_bundled(root))


def entities_from_store(store: ox.Store) -> dict[str, Entity]:
    """The entities of an in-memory store holding the ontology and the data (see :func:`load_entities`)."""
    entities: dict[str, Entity] = {}
    kind_values = " ".join(f'("{name}" <{iri}> {rank})' for rank, (name, iri) in enumerate(KINDS))
    rows = store.query(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "SELECT ?e (MIN(?rank) AS ?best) WHERE {\n"
        "  ?e a ?t .\n"
        f"  FILTER(STRSTARTS(STR(?e), \"{RESOURCE_NS}\"))\n"
        f"  FILTER NOT EXISTS {{ ?e a <{ONTOLOGY_NS}ExternalLink> }}\n"
        "  OPTIONAL {\n"
        f"    VALUES (?kind ?class ?rank) {{ {kind_values} }}\n"
        "    ?t rdfs:subClassOf* ?class .\n"
        "  }\n"
        "} GROUP BY ?e", use_default_graph_as_union=True)
    for row in rows:
        best = row["best"]
        kind = KINDS[int(best.value)][0] if best is not None else None
        entities[row["e"].value] = Entity(row["e"].value, kind)

    labels = store.query(
        "SELECT DISTINCT ?e ?p ?l WHERE { VALUES ?p { <http://www.w3.org/2000/01/rdf-schema#label> "
        "<http://www.w3.org/2004/02/skos/core#prefLabel> <http://www.w3.org/2004/02/skos/core#altLabel> } "
        "?e ?p ?l FILTER(isLiteral(?l)) } ORDER BY ?e ?p ?l", use_default_graph_as_union=True)
    for row in labels:
        entity = entities.get(row["e"].value)
        if entity is None:
            continue
        literal = row["l"]
        label = Label(literal.value.strip(), (literal.language or "").lower(),
                      not row["p"].value.endswith("altLabel"))
        if label.text and all((x.text, x.lang) != (label.text, label.lang) for x in entity.labels):
            entity.labels.append(label)

    for quad in store.quads_for_pattern(None, ox.NamedNode(ONTOLOGY_NS + "birthDate"), None, None):
        entity = entities.get(quad.subject.value)
        if entity is not None and isinstance(quad.object, ox.Literal):
            entity.birth_year = _year(quad.object)

    for predicate in (SKOS_EXACT_MATCH, OWL_SAME_AS):
        for quad in store.quads_for_pattern(None, ox.NamedNode(predicate), None, None):
            entity = entities.get(quad.subject.value)
            if entity is not None:
                entity.links.add(quad.object.value)

    rejected = store.query(
        f"PREFIX dj: <{ONTOLOGY_NS}>\n"
        "SELECT DISTINCT ?e ?t WHERE { ?r a dj:ExternalLink ; dj:linkSubject ?e ; dj:linkTarget ?t ; "
        "dj:linkStatus \"rejected\" }", use_default_graph_as_union=True)
    for row in rejected:
        entity = entities.get(row["e"].value)
        if entity is not None:
            entity.rejected.add(row["t"].value)
    return entities


def read_links(path: Path) -> list[tuple[str, str]]:
    """The (subject, target) pairs a TriG or Turtle file links with skos:exactMatch or owl:sameAs."""
    fmt = ox.RdfFormat.TURTLE if path.suffix in {".ttl", ".turtle"} else ox.RdfFormat.TRIG
    pairs = {(q.subject.value, q.object.value) for q in ox.parse(path=str(path), format=fmt)
             if q.predicate.value in (SKOS_EXACT_MATCH, OWL_SAME_AS) and isinstance(q.object, ox.NamedNode)}
    return sorted(pairs)
