"""``dprk-kg link apply``: turn a reviewed candidate file into links — checked first, all or nothing.

The reviewer edits the file ``dprk-kg link discover`` wrote, setting ``dj:linkStatus`` of each
record to ``"accepted"`` or ``"rejected"`` (records left at ``"candidate"`` are skipped).
Then, for the decided records:

* accepted → ``<resource> skos:exactMatch <item>`` plus a ``dj:ExternalLink`` record (status
  "accepted", ``dct:source`` = the discovery run, the score and evidence kept, a note);
* rejected → only a record (status "rejected", relation ``dj:candidateMatch``, no link): it
  stops discovery from proposing the same item again.

Before anything is written the result is checked: the resource must exist in our data, and
the links graph with the new records must pass the project's SHACL shapes (target IRI form,
one resource per Wikidata item, well-formed records). A single problem stops the whole apply.

Where it goes (the choice, and why):

* by default into ``data/links.trig`` of the data root — the links are curated data and
  belong in the repository, next to the inventory's links (``scripts/make_links.py`` keeps
  them when it regenerates the file);
* with ``--service URL --token T`` into a running service instead, through the Graph Store
  Protocol (``POST /store?graph=djg:links``), which takes the service's one write path and
  its own SHACL check. That changes that store only; commit the file to make it last.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from service.linking import linkfile
from service.linking.client import USER_AGENT
from service.linking.entities import Entity
from service.rdf.dataset import ontology_file, shapes_file
from service.rdf.vocabulary import (
    DCT_SOURCE,
    LINKS_GRAPH,
    ONTOLOGY_NS,
    PROV_GENERATED_AT_TIME,
    RDF_TYPE,
    SKOS_EXACT_MATCH,
    XSD_DATETIME,
)

DJ = ONTOLOGY_NS
STATUSES = ("candidate", "accepted", "rejected")


class ApplyError(Exception):
    """The review file cannot be applied; ``problems`` lists every reason (file, record, rule)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass
class Decision:
    """One reviewed record."""

    record: str
    subject: str
    target: str
    status: str
    quads: list[ox.Quad] = field(default_factory=list)


@dataclass
class Review:
    """What a review file says: the decisions, the runs they come from, and what is still open."""

    decisions: list[Decision]
    runs: dict[str, list[ox.Quad]]
    undecided: int


def read_review(path: Path) -> Review:
    """Read a reviewed candidate file (Turtle or TriG); raises :class:`ApplyError` naming the problem."""
    fmt = ox.RdfFormat.TRIG if path.suffix == ".trig" else ox.RdfFormat.TURTLE
    try:
        quads = list(ox.parse(path=str(path), format=fmt))
    except OSError as exc:
        raise ApplyError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except SyntaxError as exc:
        raise ApplyError(f"{path}: not valid {'TriG' if fmt == ox.RdfFormat.TRIG else 'Turtle'}: {exc}") from exc
    by_subject: dict[str, list[ox.Quad]] = {}
    for quad in quads:
        by_subject.setdefault(quad.subject.value, []).append(quad)
    decisions: list[Decision] = []
    problems: list[str] = []
    undecided = 0
    runs: dict[str, list[ox.Quad]] = {}
    for iri, record in sorted(linkfile.records(quads).items()):
        status = linkfile.value(record, "linkStatus")
        subject, target = linkfile.value(record, "linkSubject"), linkfile.value(record, "linkTarget")
        if status not in STATUSES:
            problems.append(f"<{iri}>: dj:linkStatus is {status!r}; expected one of {', '.join(STATUSES)}")
            continue
        if status == "candidate":
            undecided += 1
            continue
        if not subject or not target:
            problems.append(f"<{iri}>: a record needs dj:linkSubject and dj:linkTarget")
            continue
        decisions.append(Decision(iri, subject, target, status, record))
        source = linkfile.value(record, DCT_SOURCE)
        if source and source in by_subject:
            runs[source] = by_subject[source]
    if problems:
        raise ApplyError(f"{path}: {len(problems)} record(s) cannot be applied", problems)
    return Review(decisions, runs, undecided)


def link_quads(review: Review, now: str) -> list[ox.Quad]:
    """The quads the decisions add to the links graph."""
    g = ox.NamedNode(LINKS_GRAPH)
    out: list[ox.Quad] = []
    keep = {DJ + "matchScore", DJ + "matchRank", DJ + "matchEvidence", DCT_SOURCE}
    for decision in review.decisions:
        record = ox.NamedNode(linkfile.record_iri("reviewed", decision.subject, decision.target))
        subject, target = ox.NamedNode(decision.subject), ox.NamedNode(decision.target)
        accepted = decision.status == "accepted"
        relation = ox.NamedNode(SKOS_EXACT_MATCH if accepted else DJ + "candidateMatch")
        day = now[:10]
        note = (f"Proposed by link discovery and {'accepted' if accepted else 'rejected'} by a reviewer "
                f"(applied {day}); the evidence the reviewer saw is kept in dj:matchEvidence.")
        out += [
            ox.Quad(record, ox.NamedNode(RDF_TYPE), ox.NamedNode(DJ + "ExternalLink"), g),
            ox.Quad(record, ox.NamedNode(DJ + "linkSubject"), subject, g),
            ox.Quad(record, ox.NamedNode(DJ + "linkTarget"), target, g),
            ox.Quad(record, ox.NamedNode(DJ + "linkRelation"), relation, g),
            ox.Quad(record, ox.NamedNode(DJ + "linkStatus"), ox.Literal(decision.status), g),
            ox.Quad(record, ox.NamedNode(PROV_GENERATED_AT_TIME),
                    ox.Literal(now, datatype=ox.NamedNode(XSD_DATETIME)), g),
            ox.Quad(record, ox.NamedNode(DJ + "verificationNote"), ox.Literal(note, language="en"), g),
        ]
        out += [ox.Quad(record, q.predicate, q.object, g) for q in decision.quads if q.predicate.value in keep]
        if accepted:
            out.append(ox.Quad(subject, ox.NamedNode(SKOS_EXACT_MATCH), target, g))
    for quads in review.runs.values():
        out += [ox.Quad(q.subject, q.predicate, q.object, g) for q in quads]
    return out


def check(root: Path, new: list[ox.Quad], entities: dict[str, Entity], links_file: Path | None = None) -> list[str]:
    """Every reason the new quads may not join the data: unknown resources, SHACL violations."""
    problems = []
    subjects = sorted({q.object.value for q in new if q.predicate.value == DJ + "linkSubject"})
    for subject in subjects:
        if subject not in entities:
            problems.append(f"<{subject}> is not a resource of the data under {root}")
    problems += shacl_problems(root, new, links_file or root / "data" / "links.trig", entities)
    return problems


def shacl_problems(root: Path, new: list[ox.Quad], links_file: Path, entities: dict[str, Entity]) -> list[str]:
    """SHACL violations of the links once the new quads are in.

    The data graph is the ontology, the links file, every other link the data states, and
    the new quads: the shapes about links (target IRI form, one resource per Wikidata item,
    well-formed records) need nothing else, and leaving the rest of the document graphs out
    keeps this fast. Only results about what the new quads mention are reported: other
    problems are not this apply's to fix.
    """
    import rdflib
    from pyshacl import validate

    from service.rdf.terms import to_rdflib

    if not shapes_file(root).exists():
        return [f"{shapes_file(root)} is missing: cannot check the links"]
    data = rdflib.Graph()
    if ontology_file(root).exists():
        data.parse(ontology_file(root), format="turtle")
    for quad in [*linkfile.read(links_file), *new]:
        data.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    for entity in entities.values():
        for target in entity.links:
            data.add((rdflib.URIRef(entity.iri), rdflib.URIRef(SKOS_EXACT_MATCH), rdflib.URIRef(target)))
    shapes = rdflib.Graph().parse(shapes_file(root), format="turtle")
    conforms, report, _ = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    if conforms:
        return []
    focus = {q.subject.value for q in new} | {q.object.value for q in new
                                              if q.predicate.value == DJ + "linkSubject"}
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    problems = []
    for result in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        if report.value(result, sh.resultSeverity) != sh.Violation:
            continue
        node = str(report.value(result, sh.focusNode))
        if node not in focus:
            continue
        message = report.value(result, sh.resultMessage)
        path = report.value(result, sh.resultPath)
        value = report.value(result, sh.value)
        where = f" (property {path}" + (f", value {value}" if value is not None else "") + ")" if path else ""
        problems.append(f"<{node}>{where}: {message}")
    return sorted(set(problems))


def merge_into_file(links_file: Path, new: list[ox.Quad]) -> int:
    """Add the new records to the links file, replacing earlier records of the same links; returns quads added."""
    current = linkfile.read(links_file)
    # A decision already recorded as it stands keeps its record (and time): applying twice is a no-op.
    existing = {iri: linkfile.value(record, "linkStatus") for iri, record in linkfile.records(current).items()}
    unchanged = {q.subject.value for q in new if q.predicate.value == DJ + "linkStatus"
                 and existing.get(q.subject.value) == q.object.value}
    new = [q for q in new if q.subject.value not in unchanged]
    replaced = {q.subject.value for q in new}
    kept = [q for q in current if q.subject.value not in replaced]
    # A rejection replaces an earlier acceptance of the same pair: drop that link too.
    rejected = {(q.subject.value, q.object.value) for q in new if q.predicate.value == DJ + "linkStatus"
                and q.object.value == "rejected"}
    targets = {q.subject.value: q.object.value for q in new if q.predicate.value == DJ + "linkTarget"}
    subjects = {q.subject.value: q.object.value for q in new if q.predicate.value == DJ + "linkSubject"}
    dropped = {(subjects[r], targets[r]) for r, _ in rejected if r in subjects and r in targets}
    kept = [q for q in kept
            if not (q.predicate.value == SKOS_EXACT_MATCH and (q.subject.value, q.object.value) in dropped)]
    merged = kept + new
    text = linkfile.render(merged)
    before = links_file.read_text(encoding="utf-8") if links_file.exists() else ""
    if text != before:
        links_file.write_text(text, encoding="utf-8")
    return len(set(merged)) - len(set(current))


def post_to_service(service: str, token: str, new: list[ox.Quad], timeout: float = 60.0) -> str:
    """Send the new quads to a running service (Graph Store POST into djg:links); returns its answer."""
    url = service.rstrip("/") + "/store?" + urllib.parse.urlencode({"graph": LINKS_GRAPH})
    if not url.startswith(("http://", "https://")):
        raise ApplyError(f"--service {service!r} is not an http(s) URL")
    body = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in new], format=ox.RdfFormat.TURTLE)
    request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 (http(s) checked)
        "Content-Type": "text/turtle", "Authorization": f"Bearer {token}", "User-Agent": USER_AGENT,
        "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return f"{service} answered {response.status}"
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:2000]
        raise ApplyError(f"{service} refused the links: HTTP {exc.code}", [detail]) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ApplyError(f"{service} could not be reached: {getattr(exc, 'reason', exc)}") from exc
