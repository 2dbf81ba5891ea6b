"""Generate data/links.trig — the links to Wikidata and DBpedia — from the reference inventory.

Why a script: the identifiers come from one reviewed list (``../shared/reference/entities.tsv``,
columns ``wikidata_qid``, ``dbpedia_resource``, ``verified_by``), and the links must say
exactly what that list says — no more, no less. Writing them by hand would drift from it.

What it writes, in the graph ``djg:links``:

* ``<entity> skos:exactMatch <external IRI>`` for every identifier the inventory marks as
  verified (``verified_by`` filled in and not "candidate only"); ``dj:candidateMatch`` for an
  identifier the inventory lists as a candidate only.
* One ``dj:ExternalLink`` record per link: subject, target, relation, ``dj:linkStatus``,
  ``dct:source`` (the inventory, described as ``djr:reference-inventory``), the time the link
  was first generated and a note saying how it was checked.
* The records written by ``dprk-kg link apply`` (links a reviewer accepted after discovery,
  candidates a reviewer rejected) are kept as they are: this script owns only the inventory's
  links (see :mod:`service.linking.linkfile`).

Why ``skos:exactMatch`` and not ``owl:sameAs``: ``owl:sameAs`` means identity, so a reasoner
would merge every statement Wikidata or DBpedia makes about the target into our curated,
sourced descriptions (and theirs into ours). ``skos:exactMatch`` says "the same thing, with
high confidence" without that entailment, which is what a checked cross-reference means.

DBpedia IRIs are written the way DBpedia itself writes them since it moved to IRIs: the
article name with spaces as ``_`` and Unicode characters and apostrophes kept as they are
(``http://dbpedia.org/resource/Japan–North_Korea_relations``,
``http://dbpedia.org/resource/Workers'_Party_of_Korea``); only characters that may not
appear in an IRI, and ``%``, ``?`` and ``#``, are percent-encoded.

The output is deterministic: sorted, and a link that already exists keeps its
``prov:generatedAtTime``, so re-running the script on an unchanged inventory changes nothing.

    python scripts/make_links.py            # (re)write data/links.trig
    python scripts/make_links.py --check    # exit 1 if data/links.trig is not what the inventory gives
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from any folder

from service.linking import linkfile  # noqa: E402
from service.linking.discover import now_iso  # noqa: E402
from service.linking.linkfile import DJ, INVENTORY_IRI, RDF_TYPE  # noqa: E402
from service.rdf.vocabulary import LINKS_GRAPH  # noqa: E402
from service.rdf.vocabulary import RESOURCE_NS as DJR  # noqa: E402

INVENTORY = ROOT.parent / "shared" / "reference" / "entities.tsv"
LINKS_FILE = ROOT / "data" / "links.trig"

WD = "http://www.wikidata.org/entity/"
DBR = "http://dbpedia.org/resource/"
SKOS_EXACT = "http://www.w3.org/2004/02/skos/core#exactMatch"
CANDIDATE = DJ + "candidateMatch"
PROV_GENERATED = "http://www.w3.org/ns/prov#generatedAtTime"
DCT_SOURCE = "http://purl.org/dc/terms/source"

QID = re.compile(r"^Q[1-9][0-9]*$")
#: Characters DBpedia percent-encodes in its resource IRIs (not allowed in an IRI, or delimiters).
DBPEDIA_ESCAPED = set('<>"{}|\\^`%?#') | {chr(c) for c in range(0x21)} | {chr(0x7F)}

class InventoryError(Exception):
    """The inventory cannot be read or has a malformed identifier; the message names file and line."""


@dataclass(frozen=True)
class Link:
    """One link from the inventory: our entity, the external IRI, and how sure the inventory is."""

    entity_id: str  # the inventory id, e.g. "north_korea"
    column: str  # "wikidata_qid" | "dbpedia_resource"
    target: str
    verified: bool
    verified_by: str

    @property
    def subject(self) -> str:
        """The entity's IRI: djr: + id with '_' replaced by '-' (vocabulary rule)."""
        return DJR + self.entity_id.replace("_", "-")

    @property
    def dataset(self) -> str:
        return "wikidata" if self.column == "wikidata_qid" else "dbpedia"

    @property
    def record(self) -> str:
        """The IRI of this link's provenance record."""
        return f"{DJR}link-{self.entity_id.replace('_', '-')}-{self.dataset}"

    @property
    def relation(self) -> str:
        return SKOS_EXACT if self.verified else CANDIDATE


def dbpedia_iri(name: str) -> str:
    """The DBpedia resource IRI of an article name, encoded the way DBpedia encodes it."""
    name = re.sub(r"_+", "_", name.strip().replace(" ", "_"))
    return DBR + "".join("".join(f"%{b:02X}" for b in ch.encode()) if ch in DBPEDIA_ESCAPED else ch for ch in name)


def read_inventory(path: Path) -> list[Link]:
    """Every identifier of the inventory as a :class:`Link`, in file order."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read the reference inventory ({exc.strerror})") from exc
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    missing = {"id", "wikidata_qid", "dbpedia_resource", "verified_by"} - set(rows.fieldnames or [])
    if missing:
        raise InventoryError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    links: list[Link] = []
    for line, row in enumerate(rows, start=2):
        verified_by = (row.get("verified_by") or "").strip()
        verified = bool(verified_by) and not verified_by.lower().startswith("candidate")
        qid = (row.get("wikidata_qid") or "").strip()
        resource = (row.get("dbpedia_resource") or "").strip()
        if qid:
            if not QID.match(qid):
                raise InventoryError(f"{path}:{line}: wikidata_qid {qid!r} is not a Wikidata item id (Q123)")
            links.append(Link(row["id"], "wikidata_qid", WD + qid, verified, verified_by))
        if resource:
            if resource.startswith(("http://", "https://")):
                raise InventoryError(f"{path}:{line}: dbpedia_resource {resource!r} must be an article name, "
                                     "not an IRI")
            links.append(Link(row["id"], "dbpedia_resource", dbpedia_iri(resource), verified, verified_by))
    return links


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def link_times(quads: list[ox.Quad]) -> dict[tuple[str, str, str], str]:
    """When each existing inventory link was first generated, keyed by (subject, target, relation)."""
    times: dict[tuple[str, str, str], str] = {}
    for record in linkfile.records(quads).values():
        if linkfile.value(record, "http://purl.org/dc/terms/source") != INVENTORY_IRI:
            continue
        subject, target = linkfile.value(record, "linkSubject"), linkfile.value(record, "linkTarget")
        relation, generated = linkfile.value(record, "linkRelation"), linkfile.value(record, PROV_GENERATED)
        if subject and target and relation and generated:
            times[(subject, target, relation)] = generated
    return times


def build(links: Iterable[Link], times: dict[tuple[str, str, str], str], kept: list[ox.Quad],
          now: str) -> list[ox.Quad]:
    """The quads of the links graph."""
    g = _iri(LINKS_GRAPH)
    dj = lambda local: _iri(DJ + local)  # noqa: E731
    en = lambda text: ox.Literal(text, language="en")  # noqa: E731
    quads = [
        ox.Quad(_iri(INVENTORY_IRI), _iri(RDF_TYPE), _iri("http://www.w3.org/ns/prov#Entity"), g),
        ox.Quad(_iri(INVENTORY_IRI), _iri("http://www.w3.org/2000/01/rdf-schema#label"),
                en("Reference inventory of entities (dprk-japan-kg)"), g),
        ox.Quad(_iri(INVENTORY_IRI), _iri("http://purl.org/dc/terms/description"),
                en("The project's reviewed list of the entities named in the five source documents, with the "
                   "Wikidata and DBpedia identifiers that were confirmed in independent public sources "
                   "(file reference/entities.tsv of the shared project material)."), g),
        ox.Quad(_iri(INVENTORY_IRI), _iri("http://purl.org/dc/terms/bibliographicCitation"),
                ox.Literal("reference/entities.tsv"), g),
    ]
    for link in links:
        subject, target, relation = _iri(link.subject), _iri(link.target), _iri(link.relation)
        record = _iri(link.record)
        generated = times.get((link.subject, link.target, link.relation), now)
        note = (f"Listed in the reference inventory (row {link.entity_id}, column {link.column}); the inventory "
                f"records it as {'verified' if link.verified else 'a candidate only'}: {link.verified_by}.")
        quads += [
            ox.Quad(subject, relation, target, g),
            ox.Quad(record, _iri(RDF_TYPE), dj("ExternalLink"), g),
            ox.Quad(record, dj("linkSubject"), subject, g),
            ox.Quad(record, dj("linkTarget"), target, g),
            ox.Quad(record, dj("linkRelation"), relation, g),
            ox.Quad(record, dj("linkStatus"), ox.Literal("verified" if link.verified else "candidate"), g),
            ox.Quad(record, _iri(DCT_SOURCE), _iri(INVENTORY_IRI), g),
            ox.Quad(record, _iri(PROV_GENERATED),
                    ox.Literal(generated, datatype=_iri("http://www.w3.org/2001/XMLSchema#dateTime")), g),
            ox.Quad(record, dj("verificationNote"), en(note), g),
        ]
    return quads + kept


def generate(inventory: Path = INVENTORY, links_file: Path = LINKS_FILE, now: str | None = None) -> str:
    """The text links.trig must have, given the inventory and the file's current accepted links."""
    now = now or now_iso()
    current = linkfile.read(links_file)
    return linkfile.render(build(read_inventory(inventory), link_times(current), linkfile.reviewed(current), now))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inventory", type=Path, default=INVENTORY, help="the entities.tsv to read")
    parser.add_argument("--output", type=Path, default=LINKS_FILE, help="the links file to write")
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date")
    args = parser.parse_args(argv)
    try:
        text = generate(args.inventory, args.output)
    except (InventoryError, SyntaxError) as exc:
        print(f"make_links: {exc}", file=sys.stderr)
        return 2
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    if args.check:
        if text != current:
            print(f"make_links: {args.output} is out of date; run python scripts/make_links.py", file=sys.stderr)
            return 1
        return 0
    if text != current:
        args.output.write_text(text, encoding="utf-8")
        print(f"make_links: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
