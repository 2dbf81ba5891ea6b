"""Synthetic graphs shaped like the bundled one, for benchmarks at 100k and 1M triples.

Why synthetic: the bundled graph is a few thousand triples, too small to say how the
service scales. These graphs use the project's vocabulary (``dj:`` classes and
properties, resources under ``djr:synth-…``) and its dataset shape: one named graph per
source document, each restating the type, label and ``dct:source`` of what it mentions;
states and issues shared by many documents; persons with memberships in organizations
(a sub-organization tree); events with dates, participants and discussed issues,
chained by ``dj:precededBy``; claims with quantities. Every value is made up and says so
("Synthetic …" labels, ``synth-`` identifiers): this is load, never data.

    python bench/synth.py --triples 100000 --out bench/results/synth-100k

writes ``<out>/data/synth.trig`` and copies the ontology to ``<out>/ontology/`` — a
folder the service reads with ``--data-root`` (DATA_ROOT). Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DJ = "https://w3id.org/dprk-japan-kg/ontology#"
DJR = "https://w3id.org/dprk-japan-kg/id/"

PREFIXES = """@prefix dj: <https://w3id.org/dprk-japan-kg/ontology#> .
@prefix djr: <https://w3id.org/dprk-japan-kg/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

ORG_CLASSES = ["dj:GovernmentBody", "dj:Ministry", "dj:Bureau", "dj:IntelligenceAgency", "dj:PoliticalParty",
               "dj:PartyDepartment", "dj:MilitaryBody", "dj:Association", "dj:MediaOrganization",
               "dj:HumanitarianOrganization", "dj:CivicGroup"]
EVENT_CLASSES = [("dj:IntergovernmentalTalks", "talks round"), ("dj:RedCrossTalks", "Red Cross talks"),
                 ("dj:InformalContact", "informal contact"), ("dj:Summit", "summit"), ("dj:Visit", "visit"),
                 ("dj:Statement", "statement"), ("dj:Agreement", "agreement"), ("dj:SanctionsMeasure", "sanctions"),
                 ("dj:Launch", "missile launch"), ("dj:NuclearTest", "nuclear test")]
LEVELS = ["level-summit", "level-ministerial", "level-bureau-chief", "level-working", "level-red-cross"]
UNITS = ["persons", "US dollars", "percent", "years", "tests", "days"]

N_STATES = 40
N_ISSUES = 40
N_QUANTITY_KINDS = 12


def _date(rng: random.Random) -> str:
    return f'"{rng.randint(1945, 2024):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"^^xsd:date'


def _label(text: str) -> str:
    return f'"{text}"@en'


class Generator:
    """Writes document graphs until the triple budget is used; keeps pools of earlier resources to link to."""

    def __init__(self, triples: int, seed: int) -> None:
        self.budget = triples
        self.rng = random.Random(seed)
        self.count = 0
        self.orgs: list[str] = []
        self.persons: list[str] = []
        self.events: list[str] = []
        self.docs = 0

    def graphs(self) -> Iterator[str]:
        """TriG text, one document graph at a time."""
        while self.count < self.budget:
            self.docs += 1
            yield self._document(self.docs)

    def _document(self, n: int) -> str:
        rng = self.rng
        doc = f"djr:synth-doc-{n}"
        lines: list[str] = []

        def add(subject: str, *pairs: tuple[str, str]) -> None:
            body = " ;\n    ".join(f"{p} {o}" for p, o in pairs)
            lines.append(f"  {subject} {body} .")
            self.count += len(pairs)

        def mention(resource: str, cls: str, label: str) -> None:
            add(resource, ("a", cls), ("rdfs:label", _label(label)), ("dct:source", doc))

        add(doc, ("a", "dj:SourceDocument"), ("dct:title", _label(f"Synthetic document {n}")),
            ("dct:issued", _date(rng)), ("dct:language", '"en"'), ("dj:seedFile", f'"synth-{n}.txt"'))
        states = rng.sample(range(1, N_STATES + 1), 5)
        for s in states:
            mention(f"djr:synth-state-{s}", "dj:State", f"Synthetic state {s}")
        issues = rng.sample(range(1, N_ISSUES + 1), 8)
        for i in issues:
            add(f"djr:synth-issue-{i}", ("a", "dj:Issue"), ("rdfs:label", _label(f"Synthetic issue {i}")),
                ("skos:prefLabel", _label(f"Synthetic issue {i}")), ("skos:inScheme", "djr:issues"),
                ("dct:source", doc), *([("skos:broader", f"djr:synth-issue-{(i - 1) // 4 + 1}")] if i > 4 else []))
        for _ in range(10):
            o = len(self.orgs) + 1
            org = f"djr:synth-org-{o}"
            pairs = [("a", rng.choice(ORG_CLASSES)), ("rdfs:label", _label(f"Synthetic organization {o}")),
                     ("dct:source", doc), ("dj:parentState", f"djr:synth-state-{rng.choice(states)}")]
            if self.orgs and rng.random() < 0.8:
                # Preferential attachment: a few large trees, as government hierarchies are.
                parent = self.orgs[int(len(self.orgs) * rng.random() ** 3)]
                pairs.append(("dj:subOrganizationOf", parent))
            add(org, *pairs)
            self.orgs.append(org)
        for _ in range(30):
            p = len(self.persons) + 1
            person = f"djr:synth-person-{p}"
            membership = f"djr:synth-memb-{p}"
            add(person, ("a", "dj:Person"), ("rdfs:label", _label(f"Synthetic person {p}")),
                ("skos:altLabel", _label(f"S. Person {p}")), ("dct:source", doc),
                ("dj:nationality", f"djr:synth-state-{rng.choice(states)}"), ("dj:birthDate", _date(rng)),
                ("dj:hasMembership", membership))
            add(membership, ("a", "dj:Membership"), ("dct:source", doc), ("dj:member", person),
                ("dj:organization", rng.choice(self.orgs)), ("dj:role", f"djr:synth-role-{rng.randint(1, 30)}"),
                ("dj:roleLabel", _label("synthetic post")), ("dj:startDate", _date(rng)))
            self.persons.append(person)
        for p in rng.sample(self.persons, min(10, len(self.persons))):
            mention(p, "dj:Person", f"Synthetic person {p.rsplit('-', 1)[1]}")
        for _ in range(30):
            e = len(self.events) + 1
            event = f"djr:synth-event-{e}"
            cls, words = rng.choice(EVENT_CLASSES)
            pairs = [("a", cls), ("rdfs:label", _label(f"Synthetic {words} {e}")), ("dct:source", doc),
                     ("dj:startDate", _date(rng)), ("dj:level", f"djr:{rng.choice(LEVELS)}")]
            pairs += [("dj:participant", f"djr:synth-state-{s}") for s in rng.sample(states, 2)]
            pairs += [("dj:participant", rng.choice(self.persons)) for _ in range(rng.randint(1, 3))]
            pairs += [("dj:discussedIssue", f"djr:synth-issue-{i}") for i in rng.sample(issues, 2)]
            if self.events and rng.random() < 0.5:
                pairs.append(("dj:precededBy", self.events[-1]))
            add(event, *pairs)
            self.events.append(event)
        for c in range(20):
            claim = f"djr:synth-claim-{n}-{c}"
            add(claim, ("a", "dj:Claim"), ("dct:source", doc), ("dj:about", f"djr:synth-issue-{rng.choice(issues)}"),
                ("dj:quantityKind", f"djr:synth-qk-{rng.randint(1, N_QUANTITY_KINDS)}"),
                ("dj:quantityValue", f'"{rng.randint(1, 100000)}"^^xsd:decimal'),
                ("dj:unit", _label(rng.choice(UNITS))), ("dj:claimant", rng.choice(self.persons)),
                ("dj:claimDate", _date(rng)))
        return f"{doc} {{\n" + "\n".join(lines) + "\n}\n"


def generate(out: Path, triples: int, seed: int = 1) -> dict[str, int]:
    """Write a data root with about ``triples`` triples (named-graph triples, before derived graphs)."""
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "ontology").mkdir(parents=True, exist_ok=True)
    (out / "queries").mkdir(exist_ok=True)  # no canned queries, but the service refuses a data root without the folder
    for name in ("dprk-japan.ttl", "shapes.ttl"):
        source = REPO / "ontology" / name
        if source.exists():
            shutil.copyfile(source, out / "ontology" / name)
    for old in (out / "data").glob("*.trig"):
        old.unlink()
    generator = Generator(triples, seed)
    with open(out / "data" / "synth.trig", "w", encoding="utf-8") as sink:
        sink.write(PREFIXES)
        for graph in generator.graphs():
            sink.write(graph)
    return {"triples": generator.count, "documents": generator.docs, "persons": len(generator.persons),
            "organizations": len(generator.orgs), "events": len(generator.events)}


def parse_size(text: str) -> int:
    """'100k' → 100000, '1m' → 1000000, '2500' → 2500."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if factor > 1 else text
    try:
        return int(float(number) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 100k or 1m)") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic dj:-vocabulary data root for benchmarks.")
    parser.add_argument("--triples", type=parse_size, required=True, help="about how many triples (e.g. 100k, 1m)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (data/ and ontology/ inside)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same graph)")
    args = parser.parse_args(argv)
    figures = generate(args.out, args.triples, args.seed)
    print(", ".join(f"{v} {k}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
