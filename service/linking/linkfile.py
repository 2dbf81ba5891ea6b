"""``data/links.trig``: reading it, merging into it, and writing it the same way every time.

Why one module: two writers share the file — ``scripts/make_links.py`` (links from the
reference inventory) and ``dprk-kg link apply`` (links a reviewer accepted after discovery).
Each owns its own records and keeps the other's; both serialize through :func:`render`, so
the file is sorted and stable and a re-run that changes nothing rewrites nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

from service.rdf import vocabulary
from service.rdf.vocabulary import DCT_SOURCE, LINKS_GRAPH, ONTOLOGY_NS, RDF_TYPE, RESOURCE_NS

DJ = ONTOLOGY_NS
INVENTORY_IRI = RESOURCE_NS + "reference-inventory"
DISCOVERY_PREFIX = RESOURCE_NS + "link-discovery-"

HEADER = """\
# External links of dprk-japan-kg, in the graph djg:links. GENERATED — do not edit by hand:
# * links from the reference inventory (../shared/reference/entities.tsv) are written by
#   `python scripts/make_links.py` (fix the inventory, re-run the script);
# * links a reviewer accepted after discovery (dj:linkStatus "accepted") and candidates a reviewer
#   rejected (dj:linkStatus "rejected", no link asserted) are written by `dprk-kg link apply`.
#
# skos:exactMatch, not owl:sameAs: identity (owl:sameAs) would merge Wikidata's and DBpedia's
# statements into our sourced descriptions; exactMatch records the correspondence without that.
"""

PREFIXES = {p: vocabulary.PREFIXES[p] for p in ("dct", "dj", "djg", "djr", "prov", "rdfs", "skos", "wd", "xsd")}


def record_iri(stage: str, subject: str, target: str) -> str:
    """The IRI of a ``dj:ExternalLink`` record: ``djr:link-<stage>-<our resource>-<item>``, readable.

    Why one function: discovery names its candidates (stage ``candidate``) and review names
    the decided records (``reviewed``) the same way, so a record can be traced by eye.
    """
    local = subject[len(RESOURCE_NS):] if subject.startswith(RESOURCE_NS) else re.sub(r"\W+", "-", subject)
    tail = re.sub(r"[^A-Za-z0-9]+", "-", target.rstrip("/").rsplit("/", 1)[-1]).strip("-")
    return f"{RESOURCE_NS}link-{stage}-{local}-{tail}"


def read(path: Path) -> list[ox.Quad]:
    """The quads of a links file (none if it does not exist yet)."""
    if not path.exists():
        return []
    return list(ox.parse(path=str(path), format=ox.RdfFormat.TRIG))


def records(quads: list[ox.Quad]) -> dict[str, list[ox.Quad]]:
    """The quads of each dj:ExternalLink record, by record IRI."""
    by_subject: dict[str, list[ox.Quad]] = defaultdict(list)
    for quad in quads:
        by_subject[quad.subject.value].append(quad)
    return {s: qs for s, qs in by_subject.items()
            if any(q.predicate.value == RDF_TYPE and q.object.value == DJ + "ExternalLink" for q in qs)}


def value(record: list[ox.Quad], local: str) -> str | None:
    """The value of ``dj:<local>`` (or a full predicate IRI) in a record."""
    predicate = local if ":" in local else DJ + local
    return next((q.object.value for q in record if q.predicate.value == predicate), None)


def reviewed(quads: list[ox.Quad]) -> list[ox.Quad]:
    """Everything the review path owns: accepted/rejected records, their links, their discovery runs."""
    by_subject: dict[str, list[ox.Quad]] = defaultdict(list)
    for quad in quads:
        by_subject[quad.subject.value].append(quad)
    kept: list[ox.Quad] = []
    runs: set[str] = set()
    for record in records(quads).values():
        if value(record, "linkStatus") not in {"accepted", "rejected"}:
            continue
        kept.extend(record)
        subject, target, relation = value(record, "linkSubject"), value(record, "linkTarget"), value(
            record, "linkRelation")
        if value(record, "linkStatus") == "accepted" and subject and target and relation:
            kept.append(ox.Quad(ox.NamedNode(subject), ox.NamedNode(relation), ox.NamedNode(target),
                                ox.NamedNode(LINKS_GRAPH)))
        source = value(record, DCT_SOURCE)
        if source and source.startswith(DISCOVERY_PREFIX):
            runs.add(source)
    for run in sorted(runs):
        kept.extend(by_subject.get(run, []))
    return kept


def render(quads: list[ox.Quad]) -> str:
    """Serialize the links graph deterministically: sorted, grouped per linked resource."""
    entity_of = {q.subject.value: q.object.value for q in quads if q.predicate.value == DJ + "linkSubject"}

    def key(quad: ox.Quad) -> tuple:
        """The inventory first; then per resource its links, then their records; discovery runs last."""
        subject = quad.subject.value
        group = 0 if subject == INVENTORY_IRI else 2 if subject.startswith(DISCOVERY_PREFIX) else 1
        return (group, entity_of.get(subject, subject), subject in entity_of, subject,
                quad.predicate.value != RDF_TYPE, quad.predicate.value, str(quad.object))

    unique = sorted(set(quads), key=key)
    body = (ox.serialize(unique, format=ox.RdfFormat.TRIG, prefixes=PREFIXES) or b"").decode("utf-8")
    # The serializer's prefix order is not stable between runs: sort those lines.
    lines = body.splitlines(keepends=True)
    prefixes = sorted(line for line in lines if line.startswith("@prefix"))
    rest = [line for line in lines if not line.startswith("@prefix")]
    return HEADER + "\n" + "".join(prefixes) + "\n" + "".join(rest)
