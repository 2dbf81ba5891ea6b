"""Link discovery: find candidate external items for our resources that have no link yet.

How candidates are found and ranked (what a reviewer should know):

1. **Labels, all languages.** Every label and alias of ours (rdfs:label, skos:prefLabel,
   skos:altLabel; English, Korean, Japanese, Chinese…) is looked up as an exact, language-tagged
   literal among the items' labels and aliases, many at once in ``VALUES`` blocks. Chinese and
   Japanese names written in Han characters are also looked up in the other of the two
   languages (and Chinese script variants), English ones also under Wikidata's ``mul`` tag.
2. **Type.** Each item found is checked on the endpoint against the classes that fit our
   resource's kind (person ↔ human, state ↔ country/sovereign state, organization ↔
   organization and subclasses, place ↔ geographic location…; see :mod:`.profiles`).
3. **Dates.** Where we know a person's birth year, the item's birth date must agree.

Score (0–1, two decimals), from the evidence:

* best name match: our label = its label 0.5; one of them an alias 0.4; both aliases 0.3;
* +0.1 per further language in which a name matches (at most +0.2);
* type fits +0.3; type known but does not fit −0.5;
* birth year agrees +0.2; disagrees −0.4.

Candidates under ``min_score`` are dropped; the rest are ranked per resource. Nothing here
asserts a link: the result is a file of ``dj:candidateMatch`` records for a person to review
(see :mod:`.apply`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from service.linking import linkfile
from service.linking.client import Binding, SparqlClient, batched, term_value
from service.linking.entities import Entity, Label
from service.linking.profiles import DISCOVERABLE, TargetDataset
from service.rdf.vocabulary import ONTOLOGY_NS, RESOURCE_NS

#: Language tags a label is also looked up under (besides its own).
HAN_LANGUAGES = ("zh", "zh-hans", "zh-hant", "zh-cn", "zh-tw", "zh-hk", "ja")
LATIN_EXTRA = ("mul",)

LABEL_POINTS = {("label", "label"): 0.5, ("label", "alias"): 0.4, ("alias", "label"): 0.4,
                ("alias", "alias"): 0.3}
EXTRA_LANGUAGE_POINTS = 0.1
EXTRA_LANGUAGE_MAX = 0.2
TYPE_FITS, TYPE_CLASHES = 0.3, -0.5
BIRTH_AGREES, BIRTH_DIFFERS = 0.2, -0.4


@dataclass
class Candidate:
    """One external item proposed for one of our resources, with the evidence for it."""

    entity: Entity
    target: str
    score: float = 0.0
    rank: int = 0
    evidence: list[str] = field(default_factory=list)
    target_label: str | None = None
    description: str | None = None
    #: (our label, the language it was looked up in, "label"/"alias" on their side) per matching name.
    name_matches: list[tuple[Label, str, str]] = field(default_factory=list)
    type_fit: bool | None = None
    birth_years: set[int] = field(default_factory=set)


@dataclass
class Discovery:
    """The result of one discovery run."""

    dataset: TargetDataset
    endpoint: str
    started: str
    ended: str
    searched: list[Entity]
    candidates: list[Candidate]
    labels_queried: int
    requests: int
    cache_hits: int

    def by_entity(self) -> dict[str, list[Candidate]]:
        grouped: dict[str, list[Candidate]] = defaultdict(list)
        for candidate in self.candidates:
            grouped[candidate.entity.iri].append(candidate)
        return grouped


def now_iso() -> str:
    """Now, UTC, to the second (xsd:dateTime lexical form)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def is_han(text: str) -> bool:
    """True when the text is written in Han characters (CJK ideographs) only."""
    letters = [ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] != "P"]
    return bool(letters) and all("CJK" in unicodedata.name(ch, "") for ch in letters)


def lookup_languages(label: Label) -> list[str]:
    """The language tags under which to look a label up."""
    lang = label.lang
    if is_han(label.text) and (lang.startswith(("zh", "ja")) or not lang):
        return list(dict.fromkeys([lang or "zh", *HAN_LANGUAGES]))
    if lang.startswith("en") or not lang:
        return list(dict.fromkeys([lang or "en", "en", *LATIN_EXTRA]))
    return [lang]


def searchable(entities: Iterable[Entity], dataset: TargetDataset, only: set[str] | None = None) -> list[Entity]:
    """Our resources that discovery should look for: a known kind, no link into this dataset yet."""
    chosen = []
    for entity in entities:
        if only is not None and entity.iri not in only:
            continue
        if entity.kind not in DISCOVERABLE or not entity.labels:
            continue
        if any(dataset.owns(link) for link in entity.links):
            continue
        chosen.append(entity)
    return sorted(chosen, key=lambda e: e.iri)


def _literal(text: str, lang: str) -> str:
    return str(ox.Literal(text, language=lang)) if lang else str(ox.Literal(text))


def label_queries(rows: list[tuple[str, str, str]], dataset: TargetDataset, batch_size: int) -> Iterator[str]:
    """SELECT queries matching (key, text, lang) rows against the dataset's label predicates."""
    unions = " UNION ".join(
        f'{{ ?item <{predicate}> ?label . BIND("{word}" AS ?via) }}' for predicate, word in dataset.label_predicates)
    for batch in batched(rows, batch_size):
        values = "\n    ".join(f'("{key}" {_literal(text, lang)})' for key, text, lang in batch)
        yield (f"SELECT DISTINCT ?key ?item ?via WHERE {{\n  VALUES (?key ?label) {{\n    {values}\n  }}\n"
               f"  {unions}\n  FILTER(STRSTARTS(STR(?item), \"{dataset.item_prefix}\"))\n}}")


def detail_queries(items: list[str], dataset: TargetDataset, batch_size: int) -> Iterator[tuple[str, str, str]]:
    """Per batch of items: (names and dates, direct types, compatible classes reached) queries."""
    classes = " ".join(f"<{c}>" for c in sorted(dataset.all_classes()))
    for batch in batched(items, batch_size):
        values = " ".join(f"<{item}>" for item in batch)
        yield (
            f"SELECT ?item ?name ?description ?birth WHERE {{\n  VALUES ?item {{ {values} }}\n"
            f"  OPTIONAL {{ ?item <http://www.w3.org/2000/01/rdf-schema#label> ?name "
            f"FILTER(LANGMATCHES(LANG(?name), \"en\")) }}\n"
            f"  OPTIONAL {{ ?item <{dataset.description_predicate}> ?description "
            f"FILTER(LANGMATCHES(LANG(?description), \"en\")) }}\n"
            f"  OPTIONAL {{ ?item <{dataset.birth_predicate}> ?birth }}\n}}",
            f"SELECT DISTINCT ?item ?type WHERE {{\n  VALUES ?item {{ {values} }}\n"
            f"  {dataset.direct_types_pattern()}\n}}",
            f"SELECT DISTINCT ?item ?class WHERE {{\n  VALUES ?item {{ {values} }}\n  VALUES ?class {{ {classes} }}\n"
            f"  ?item {dataset.type_path} ?class\n}}",
        )


def _birth_year(binding: Binding) -> int | None:
    value = term_value(binding, "birth")
    if not value:
        return None
    match = re.match(r"^(-?)0*(\d{1,4})-", value.strip()) or re.match(r"^(-?)0*(\d{1,4})$", value.strip())
    return (-1 if match.group(1) else 1) * int(match.group(2)) if match else None


def discover(
    entities: Iterable[Entity],
    dataset: TargetDataset,
    client: SparqlClient,
    *,
    only: set[str] | None = None,
    min_score: float = 0.3,
    per_entity: int = 5,
    batch_size: int = 40,
) -> Discovery:
    """Look our unlinked resources up on the endpoint and rank what is found."""
    started = now_iso()
    targets = searchable(entities, dataset, only)
    asked = _label_forms(targets)
    found = _match_labels(targets, asked, dataset, client, batch_size)
    details = _item_details(sorted({c.target for c in found}), dataset, client, batch_size)
    kept = []
    for candidate in found:
        candidate.target_label = details.names.get(candidate.target)
        candidate.description = details.descriptions.get(candidate.target)
        candidate.birth_years = details.births.get(candidate.target, set())
        score(candidate, dataset, details.direct_types.get(candidate.target, set()),
              details.reached.get(candidate.target, set()))
        if candidate.score >= min_score:
            kept.append(candidate)
    return Discovery(dataset, client.endpoint, started, now_iso(), targets, _ranked(kept, per_entity), len(asked),
                     client.requests, client.cache_hits)


def _label_forms(targets: list[Entity]) -> dict[str, tuple[int, Label, str]]:
    """Every (resource, label, language to look it up in), keyed by a short id used in the queries."""
    asked: dict[str, tuple[int, Label, str]] = {}
    for index, entity in enumerate(targets):
        seen: set[tuple[str, str]] = set()
        for label in entity.labels:
            if len(label.text) < 2:
                continue  # one character ("日") names everything
            for lang in lookup_languages(label):
                if (label.text, lang) not in seen:
                    seen.add((label.text, lang))
                    asked[f"{index}.{len(asked)}"] = (index, label, lang)
    return asked


def _match_labels(targets: list[Entity], asked: dict[str, tuple[int, Label, str]], dataset: TargetDataset,
                  client: SparqlClient, batch_size: int) -> list[Candidate]:
    """Items whose label or alias equals one of our label forms, one candidate per (resource, item)."""
    rows = [(key, label.text, lang) for key, (_, label, lang) in asked.items()]
    found: dict[tuple[int, str], Candidate] = {}
    for query in label_queries(rows, dataset, batch_size):
        for binding in client.select(query):
            key, item, via = term_value(binding, "key"), term_value(binding, "item"), term_value(binding, "via")
            if not key or not item or key not in asked:
                continue
            index, label, lang = asked[key]
            entity = targets[index]
            if item in entity.rejected:
                continue  # a reviewer already said no
            candidate = found.setdefault((index, item), Candidate(entity, item))
            candidate.name_matches.append((label, lang, via or "label"))
    return list(found.values())


@dataclass
class _Details:
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    births: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    direct_types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    reached: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def _item_details(items: list[str], dataset: TargetDataset, client: SparqlClient, batch_size: int) -> _Details:
    """English name, description, birth years, direct classes and fitting classes reached, per item."""
    details = _Details()
    for names_query, types_query, classes_query in detail_queries(items, dataset, batch_size):
        for binding in client.select(names_query):
            item = term_value(binding, "item") or ""
            name, description = term_value(binding, "name"), term_value(binding, "description")
            if name:
                details.names.setdefault(item, name)
            if description:
                details.descriptions.setdefault(item, description)
            year = _birth_year(binding)
            if year is not None:
                details.births[item].add(year)
        for binding in client.select(types_query):
            details.direct_types[term_value(binding, "item") or ""].add(term_value(binding, "type") or "")
        for binding in client.select(classes_query):
            details.reached[term_value(binding, "item") or ""].add(term_value(binding, "class") or "")
    return details


def _ranked(candidates: list[Candidate], per_entity: int) -> list[Candidate]:
    """Best first per resource (at most ``per_entity``), resources in IRI order; sets ``rank``."""
    grouped: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        grouped[candidate.entity.iri].append(candidate)
    ranked: list[Candidate] = []
    for iri in sorted(grouped):
        group = sorted(grouped[iri], key=lambda c: (-c.score, _item_order(c.target)))[:per_entity]
        for rank, candidate in enumerate(group, start=1):
            candidate.rank = rank
            ranked.append(candidate)
    return ranked


def _item_order(iri: str) -> tuple[int, str]:
    """Ties go to the lower Q-number (older, usually the main item), then alphabetically."""
    match = re.search(r"/Q(\d+)$", iri)
    return (int(match.group(1)), iri) if match else (1 << 62, iri)


def score(candidate: Candidate, dataset: TargetDataset, direct_types: set[str], reached: set[str]) -> None:
    """Set the candidate's score and evidence from its name matches, types and dates."""
    entity = candidate.entity
    evidence: list[str] = []
    best = 0.0
    languages: set[str] = set()
    for label, lang, via in sorted(candidate.name_matches, key=lambda m: (m[0].lang, m[0].text, m[1], m[2])):
        ours = "label" if label.primary else "alias"
        best = max(best, LABEL_POINTS[(ours, "alias" if via != "label" else "label")])
        languages.add(label.lang.split("-")[0])
        evidence.append(f"our {ours} {_literal(label.text, label.lang)} is its {via} in language '{lang}'")
    points = best + min(EXTRA_LANGUAGE_MAX, EXTRA_LANGUAGE_POINTS * max(0, len(languages) - 1))

    fitting = dataset.classes.get(entity.kind or "", {})
    hits = sorted(reached & set(fitting))
    if fitting and hits:
        candidate.type_fit = True
        points += TYPE_FITS
        shown = ", ".join(f"{dataset.short(c)} ({fitting[c]})" for c in hits)
        evidence.append(f"type fits a {entity.kind}: instance of {shown}")
    elif fitting and direct_types:
        candidate.type_fit = False
        points += TYPE_CLASHES
        shown = ", ".join(dataset.short(t) for t in sorted(direct_types)[:5])
        evidence.append(f"type does not fit a {entity.kind}: instance of {shown}")
    elif fitting:
        evidence.append("type unknown: the item states no class")
    else:
        evidence.append(f"type not checked: no {dataset.title} classes are mapped to a {entity.kind}")

    if entity.birth_year is not None and candidate.birth_years:
        if entity.birth_year in candidate.birth_years:
            points += BIRTH_AGREES
            evidence.append(f"birth year {entity.birth_year} agrees")
        else:
            points += BIRTH_DIFFERS
            theirs = ", ".join(str(y) for y in sorted(candidate.birth_years))
            evidence.append(f"birth year differs: ours {entity.birth_year}, its {theirs}")
    candidate.score = round(max(0.0, min(1.0, points)), 2)
    candidate.evidence = evidence


# -- the review file ---------------------------------------------------------------------------

DJ = ONTOLOGY_NS


def run_iri(started: str) -> str:
    """The IRI of a discovery run, from its start time (one run, one IRI)."""
    return RESOURCE_NS + "link-discovery-" + re.sub(r"[^0-9TZ]", "", started)


_PREFIXED = (("djr:", RESOURCE_NS), ("wd:", "http://www.wikidata.org/entity/"))


def _iri(value: str) -> str:
    """An IRI for the review file: prefixed when that is safe and shorter (djr:…, wd:…)."""
    for prefix, namespace in _PREFIXED:
        local = value[len(namespace):]
        if value.startswith(namespace) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", local):
            return prefix + local
    return str(ox.NamedNode(value))


def to_turtle(result: Discovery) -> str:
    """The review file: one dj:ExternalLink record per candidate, grouped per resource."""
    run = run_iri(result.started)
    xsd_dt = "xsd:dateTime"
    lines = [
        f"# Link candidates found by `dprk-kg link discover` in {result.dataset.title} ({result.endpoint}).",
        "# NOTHING HERE IS A LINK YET. Review each record: check the item, then change its",
        '# dj:linkStatus "candidate" to "accepted" or "rejected" (or leave it), and run',
        "#     dprk-kg link apply THIS-FILE",
        "# Accepted records become skos:exactMatch links in data/links.trig; rejected ones are remembered",
        "# so that discovery does not propose them again.",
        "",
        "@prefix dj: <https://w3id.org/dprk-japan-kg/ontology#> .",
        "@prefix djr: <https://w3id.org/dprk-japan-kg/id/> .",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix prov: <http://www.w3.org/ns/prov#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "@prefix wd: <http://www.wikidata.org/entity/> .",
        "",
        f"{_iri(run)} a prov:Activity ;",
        f"    rdfs:label {_literal('link discovery run of ' + result.started, 'en')} ;",
        f"    prov:startedAtTime \"{result.started}\"^^{xsd_dt} ;",
        f"    prov:endedAtTime \"{result.ended}\"^^{xsd_dt} ;",
        f"    prov:used {_iri(result.endpoint)} ;",
        f"    dct:description {_literal(_run_description(result), 'en')} .",
        "",
    ]
    grouped = result.by_entity()
    for entity in result.searched:
        candidates = grouped.get(entity.iri, [])
        if not candidates:
            continue
        lines.append(f"# {entity.name} ({entity.short}, {entity.kind}): {len(candidates)} candidate(s)")
        for candidate in candidates:
            record = linkfile.record_iri("candidate", entity.iri, candidate.target)
            about = result.dataset.short(candidate.target)
            if candidate.target_label:
                about += f" \"{candidate.target_label}\""
            if candidate.description:
                about += f" — {candidate.description}"
            evidence = [f"{result.dataset.title} item: {about}", *candidate.evidence]
            lines += [
                f"{_iri(record)} a dj:ExternalLink ;",
                f"    dj:linkSubject {_iri(entity.iri)} ;",
                f"    dj:linkTarget {_iri(candidate.target)} ;",
                "    dj:linkRelation dj:candidateMatch ;",
                '    dj:linkStatus "candidate" ;',
                f"    dj:matchScore {candidate.score:.2f} ;",
                f"    dj:matchRank {candidate.rank} ;",
                "    dj:matchEvidence " + " ,\n        ".join(_literal(e, "en") for e in evidence) + " ;",
                f"    dct:source {_iri(run)} ;",
                f"    prov:generatedAtTime \"{result.ended}\"^^{xsd_dt} .",
                f"{_iri(entity.iri)} dj:candidateMatch {_iri(candidate.target)} .",
                "",
            ]
    return "\n".join(lines)


def _run_description(result: Discovery) -> str:
    return (f"Searched {len(result.searched)} resources without a {result.dataset.title} link by "
            f"{result.labels_queried} label forms (exact, language-tagged matches against labels and aliases), "
            f"checked the types and birth dates of the items found, and kept {len(result.candidates)} "
            "candidates scoring at least the minimum.")


def summary(result: Discovery) -> str:
    """A few lines for the terminal."""
    grouped = result.by_entity()
    lines = [f"{len(result.searched)} resources without a {result.dataset.title} link; "
             f"{result.labels_queried} label forms looked up at {result.endpoint} "
             f"({result.requests} requests, {result.cache_hits} answered from the cache)",
             f"{len(result.candidates)} candidates for {len(grouped)} resources"]
    for entity in result.searched:
        for candidate in grouped.get(entity.iri, []):
            lines.append(f"  {entity.short:<32} {candidate.rank}. {result.dataset.short(candidate.target):<14} "
                         f"score {candidate.score:.2f}  {candidate.target_label or ''}")
    return "\n".join(lines)
