"""A synthetic batch that conforms to the shapes: what an analyst's ``dprk-kg load`` of one document looks like.

Why apart from ``synth.py``: the synthetic data root is made to be loaded as bundled files (which are not
validated) and breaks the shapes in thousands of places (dates after their documents, claims citing
unregistered documents, unlabelled claims …), so a guarded write of it is always refused. A benchmark of
``dprk-kg load`` must time a write that commits, so this batch is valid by construction: one source document
registered by the batch itself (``dct:issued``, ``dct:title``, an English label), and every resource of the
batch stated by that document (``dct:source``) — states, issues in ``djr:issues``, quantity kinds in
``djr:quantity-kinds``, roles, organizations in a sub-organization tree, persons with memberships,
events (negotiation rounds between two states at a talks level of the ontology, other events with persons
and states), claims with a quantity, and the evidence annotations (a quote and its position) that name
each fact-bearing resource. Every date is at most the document's year; every label is English. Made-up
values, saying so ("Synthetic …", ``synth-batch-`` identifiers).

The batch is sent with its document as the source (``--source``, :data:`DOCUMENT`); ``dprk-kg validate
FILE`` checks it against the bundled graph (exit 0: conforms).

    python bench/valid_batch.py --triples 10k --out /some/folder/batch.nt
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import PREFIXES, parse_size

#: The batch's source document (registered by the batch itself); the ``--source`` to send it with.
DOCUMENT = "djr:synth-batch-doc"
#: The document's date: every start, end and claim date of the batch is on or before it.
ISSUED_YEAR = 2024

BATCH_PREFIXES = PREFIXES + "@prefix oa: <http://www.w3.org/ns/oa#> .\n"
ORG_CLASSES = ["dj:GovernmentBody", "dj:Ministry", "dj:Bureau", "dj:IntelligenceAgency", "dj:PoliticalParty",
               "dj:PartyDepartment", "dj:MilitaryBody", "dj:Association", "dj:MediaOrganization",
               "dj:HumanitarianOrganization", "dj:CivicGroup"]
#: Negotiation rounds: their sides (dj:participant) are states, with a talks level of the ontology.
ROUND_CLASSES = [("dj:IntergovernmentalTalks", "talks round"), ("dj:RedCrossTalks", "Red Cross talks"),
                 ("dj:InformalContact", "informal contact")]
OTHER_EVENTS = [("dj:Summit", "summit"), ("dj:Visit", "visit"), ("dj:Statement", "statement"),
                ("dj:Agreement", "agreement"), ("dj:SanctionsMeasure", "sanctions"), ("dj:Launch", "missile launch"),
                ("dj:NuclearTest", "nuclear test")]
LEVELS = ["level-summit", "level-ministerial", "level-bureau-chief", "level-working", "level-red-cross"]
UNITS = ["persons", "US dollars", "percent", "years", "tests", "days"]
N_STATES, N_ISSUES, N_QUANTITY_KINDS, N_ROLES = 40, 40, 12, 30
#: Resources named by one evidence annotation (a passage often states several facts).
BODIES_PER_PASSAGE = 4


def _date(rng: random.Random, first: int = 1945, last: int = ISSUED_YEAR) -> str:
    return f'"{rng.randint(first, last):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"^^xsd:date'


def _en(text: str) -> str:
    return f'"{text}"@en'


class BatchGenerator:
    """Turtle statements of one document until the triple budget is used; pools of earlier resources to link to."""

    def __init__(self, triples: int, seed: int) -> None:
        self.budget = triples
        self.rng = random.Random(seed)
        self.count = 0
        self.orgs: list[str] = []
        self.persons: list[str] = []
        self.events: list[str] = []
        self.evidenced: list[str] = []  # fact-bearing resources not yet named by a passage
        self.passages = 0
        self.blocks = 0

    def _add(self, lines: list[str], subject: str, *pairs: tuple[str, str]) -> None:
        lines.append(f"{subject} " + " ;\n    ".join(f"{p} {o}" for p, o in pairs) + " .")
        self.count += len(pairs)

    def _stated(self, subject: str, *pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        self.evidenced.append(subject)
        return (*pairs, ("dct:source", DOCUMENT))

    def chunks(self) -> Iterator[str]:
        """The Turtle text: the registration and the shared concepts, then blocks of facts until the budget."""
        yield self._prelude()
        while self.count < self.budget:
            self.blocks += 1
            yield self._block()
        yield self._passages(flush=True)

    def _prelude(self) -> str:
        lines: list[str] = []
        add = self._add
        add(lines, DOCUMENT, ("a", "dj:SourceDocument"), ("rdfs:label", _en("Synthetic batch document")),
            ("dct:title", _en("Synthetic batch document")), ("dct:issued", f'"{ISSUED_YEAR}-12-31"^^xsd:date'),
            ("dct:language", '"en"'), ("dj:seedFile", '"synth-batch.txt"'))
        for s in range(1, N_STATES + 1):
            add(lines, f"djr:synth-batch-state-{s}", ("a", "dj:State"), ("rdfs:label", _en(f"Synthetic state {s}")),
                ("dct:source", DOCUMENT))
        for i in range(1, N_ISSUES + 1):
            pairs = [("a", "dj:Issue"), ("rdfs:label", _en(f"Synthetic issue {i}")),
                     ("skos:prefLabel", _en(f"Synthetic issue {i}")), ("skos:inScheme", "djr:issues")]
            if i > 4:
                pairs.append(("skos:broader", f"djr:synth-batch-issue-{(i - 1) // 4 + 1}"))
                add(lines, f"djr:synth-batch-issue-{i}", *self._stated(f"djr:synth-batch-issue-{i}", *pairs))
            else:
                add(lines, f"djr:synth-batch-issue-{i}", *pairs, ("dct:source", DOCUMENT))
        for k in range(1, N_QUANTITY_KINDS + 1):
            add(lines, f"djr:synth-batch-qk-{k}", ("a", "dj:QuantityKind"), ("a", "skos:Concept"),
                ("rdfs:label", _en(f"synthetic quantity {k}")), ("skos:inScheme", "djr:quantity-kinds"))
        for r in range(1, N_ROLES + 1):
            add(lines, f"djr:synth-batch-role-{r}", ("a", "dj:Role"), ("rdfs:label", _en(f"synthetic post {r}")))
        return "\n".join(lines) + "\n"

    def _block(self) -> str:
        rng, lines, add = self.rng, [], self._add
        states = [f"djr:synth-batch-state-{s}" for s in rng.sample(range(1, N_STATES + 1), 5)]
        issues = [f"djr:synth-batch-issue-{i}" for i in rng.sample(range(1, N_ISSUES + 1), 8)]
        for _ in range(10):
            o = len(self.orgs) + 1
            org = f"djr:synth-batch-org-{o}"
            pairs = [("a", rng.choice(ORG_CLASSES)), ("rdfs:label", _en(f"Synthetic organization {o}")),
                     ("dj:parentState", rng.choice(states))]
            if self.orgs and rng.random() < 0.8:
                # Preferential attachment: a few large trees, as government hierarchies are.
                pairs.append(("dj:subOrganizationOf", self.orgs[int(len(self.orgs) * rng.random() ** 3)]))
            add(lines, org, *self._stated(org, *pairs))
            self.orgs.append(org)
        for _ in range(30):
            p = len(self.persons) + 1
            person, membership = f"djr:synth-batch-person-{p}", f"djr:synth-batch-memb-{p}"
            add(lines, person, *self._stated(
                person, ("a", "dj:Person"), ("rdfs:label", _en(f"Synthetic person {p}")),
                ("skos:altLabel", _en(f"S. Person {p}")), ("dj:nationality", rng.choice(states)),
                ("dj:birthDate", _date(rng, 1920, 1980)), ("dj:hasMembership", membership)))
            start = rng.randint(1950, ISSUED_YEAR)
            dates = [("dj:startDate", f'"{start}"^^xsd:gYear')]
            if rng.random() < 0.5:
                dates.append(("dj:endDate", f'"{rng.randint(start, ISSUED_YEAR)}"^^xsd:gYear'))
            add(lines, membership, *self._stated(
                membership, ("a", "dj:Membership"), ("rdfs:label", _en(f"Synthetic person {p} in a synthetic post")),
                ("dj:member", person), ("dj:organization", rng.choice(self.orgs)),
                ("dj:role", f"djr:synth-batch-role-{rng.randint(1, N_ROLES)}"), ("dj:roleLabel", _en("synthetic post")),
                *dates))
            self.persons.append(person)
        for _ in range(30):
            e = len(self.events) + 1
            event = f"djr:synth-batch-event-{e}"
            year = rng.randint(1950, ISSUED_YEAR)
            pairs = [("dj:startDate", f'"{year}-{rng.randint(1, 12):02d}"^^xsd:gYearMonth')]
            if rng.random() < 0.3:
                pairs.append(("dj:endDate", f'"{rng.randint(year, ISSUED_YEAR)}"^^xsd:gYear'))
            if rng.random() < 0.4:
                cls, words = rng.choice(ROUND_CLASSES)
                pairs += [("dj:level", f"djr:{rng.choice(LEVELS)}")]
                pairs += [("dj:participant", s) for s in rng.sample(states, 2)]
            else:
                cls, words = rng.choice(OTHER_EVENTS)
                pairs += [("dj:participant", rng.choice(states))]
                persons = {rng.choice(self.persons) for _ in range(rng.randint(1, 3))}
                pairs += [("dj:participant", p) for p in sorted(persons)]
            pairs += [("dj:discussedIssue", i) for i in rng.sample(issues, 2)]
            if self.events and rng.random() < 0.5:
                pairs.append(("dj:precededBy", self.events[-1]))
            add(lines, event, *self._stated(event, ("a", cls), ("rdfs:label", _en(f"Synthetic {words} {e}")), *pairs))
            self.events.append(event)
        for c in range(20):
            claim = f"djr:synth-batch-claim-{self.blocks}-{c}"
            add(lines, claim, *self._stated(
                claim, ("a", "dj:Claim"), ("rdfs:label", _en(f"Synthetic claim {self.blocks}-{c}")),
                ("dj:about", rng.choice(issues)),
                ("dj:quantityKind", f"djr:synth-batch-qk-{rng.randint(1, N_QUANTITY_KINDS)}"),
                ("dj:quantityValue", f'"{rng.randint(1, 100000)}"^^xsd:decimal'), ("dj:unit", _en(rng.choice(UNITS))),
                ("dj:claimant", rng.choice(self.persons)), ("dj:claimDate", _date(rng, 1950))))
        return "\n".join(lines) + "\n" + self._passages()

    def _passages(self, flush: bool = False) -> str:
        """Evidence annotations naming the resources stated so far, a few per passage."""
        lines: list[str] = []
        while len(self.evidenced) >= BODIES_PER_PASSAGE or (flush and self.evidenced):
            bodies, self.evidenced = self.evidenced[:BODIES_PER_PASSAGE], self.evidenced[BODIES_PER_PASSAGE:]
            self.passages += 1
            n = self.passages
            quote = f"Synthetic passage {n} stating {len(bodies)} facts"
            start = n * 100
            lines.append(
                f"djr:synth-batch-passage-{n} a oa:Annotation ;\n    rdfs:label {_en(f'Synthetic passage {n}')} ;\n"
                f"    oa:motivatedBy dj:evidencing ;\n    oa:hasBody {' , '.join(bodies)} ;\n"
                f"    oa:hasTarget [ a oa:SpecificResource ; oa:hasSource {DOCUMENT} ;\n"
                f'        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{quote}" ] ,\n'
                f"            [ a oa:TextPositionSelector ; oa:start {start} ; oa:end {start + len(quote)} ] ] ;\n"
                f"    dct:source {DOCUMENT} .")
            self.count += 4 + len(bodies) + 3 + 2 + 3
        return "\n".join(lines) + "\n"


def write_batch(out: Path, triples: int, seed: int = 1) -> int:
    """Write a valid batch of about ``triples`` triples to ``out`` as N-Triples; the number of triples."""
    generator = BatchGenerator(triples, seed)
    text = BATCH_PREFIXES + "".join(generator.chunks())
    parsed = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as sink:
        ox.serialize(parsed, sink, format=ox.RdfFormat.N_TRIPLES)
    return len(parsed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic batch that conforms to the shapes (N-Triples).")
    parser.add_argument("--triples", type=parse_size, required=True, help="about how many triples (e.g. 10k, 100k)")
    parser.add_argument("--out", type=Path, required=True, help="the .nt file to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same batch)")
    args = parser.parse_args(argv)
    print(f"{write_batch(args.out, args.triples, args.seed)} triples; send with --source {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
