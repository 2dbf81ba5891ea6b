"""Link health: do the external items we link to still exist, under the same IRI, as the same
kind of thing, with roughly the same name?

Why: external datasets change under us. Wikidata merges duplicate items (the old item then
only says ``owl:sameAs <new item>``: a redirect) and deletes others; DBpedia renames
articles (``dbo:wikiPageRedirects``). A link that was right when it was made can silently
start pointing at nothing, or at something else. This check finds that drift:

* ``missing`` — the endpoint knows nothing about the item;
* ``redirected`` — the item was merged or renamed: the report names the new IRI;
* ``type`` — the item (or its redirect target) is no longer of a class that fits our
  resource's kind;
* ``label`` — none of its names in our languages roughly agrees with any of ours.

"Roughly agrees": equal after folding case, accents, spaces and punctuation; one contained in
the other; a close spelling (similarity ≥ 0.8); or a shared significant word.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from service.linking.client import SparqlClient, batched, term_lang, term_value
from service.linking.entities import Entity
from service.linking.profiles import TargetDataset
from service.rdf.vocabulary import RDFS_LABEL

STOPWORDS = frozenset("the of and for in on to a an de la le del des du der die das".split())


@dataclass
class Drift:
    """One problem with one link."""

    subject: str
    target: str
    kind: str  # missing | redirected | type | label
    detail: str
    replacement: str | None = None


@dataclass
class HealthReport:
    """What a check found: the links looked at and the drift."""

    dataset: str
    endpoint: str
    checked: int
    drift: list[Drift] = field(default_factory=list)
    requests: int = 0
    cache_hits: int = 0

    @property
    def ok(self) -> bool:
        return not self.drift

    def as_json(self) -> dict:
        return {"dataset": self.dataset, "endpoint": self.endpoint, "checked": self.checked,
                "drifted_links": len({(d.subject, d.target) for d in self.drift}),
                "drift": [asdict(d) for d in self.drift], "requests": self.requests,
                "cache_hits": self.cache_hits}


def normalize(text: str) -> str:
    """Fold case, accents, spaces and punctuation: 'Kim Il-sung' and 'Kim Il Sung' become equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _words(text: str) -> set[str]:
    words = {w.rstrip("s") for w in re.findall(r"\w+", text.casefold())}
    return {w for w in words if len(w) >= 4 and w not in STOPWORDS}


def roughly_agree(ours: Iterable[str], theirs: Iterable[str]) -> bool:
    """True if any of our names roughly matches any of theirs (see the module docstring)."""
    theirs = list(theirs)
    for a in ours:
        na = normalize(a)
        for b in theirs:
            nb = normalize(b)
            if not na or not nb:
                continue
            if na == nb or (min(len(na), len(nb)) >= 3 and (na in nb or nb in na)):
                return True
            if difflib.SequenceMatcher(None, na, nb).ratio() >= 0.8:
                return True
            if _words(a) & _words(b):
                return True
    return False


def check_links(
    links: Iterable[tuple[str, str]],
    entities: dict[str, Entity],
    dataset: TargetDataset,
    client: SparqlClient,
    *,
    batch_size: int = 40,
) -> HealthReport:
    """Check every (our resource, external IRI) link whose target belongs to ``dataset``."""
    pairs = sorted({(s, t) for s, t in links if dataset.owns(t)})
    targets = sorted({t for _, t in pairs})
    report = HealthReport(dataset.name, client.endpoint, len(pairs))

    exists: set[str] = set()
    redirects: dict[str, str] = {}
    for batch in batched(targets, batch_size):
        values = " ".join(f"<{t}>" for t in batch)
        query = (f"SELECT ?item ?redirect WHERE {{\n  VALUES ?item {{ {values} }}\n"
                 f"  FILTER EXISTS {{ ?item ?p ?o }}\n"
                 f"  OPTIONAL {{ ?item <{dataset.redirect_predicate}> ?redirect FILTER(isIRI(?redirect)) }}\n}}")
        for binding in client.select(query):
            item = term_value(binding, "item") or ""
            exists.add(item)
            if term_value(binding, "redirect"):
                redirects[item] = term_value(binding, "redirect")  # type: ignore[assignment]

    # Follow redirects: the type and names that matter are those of the item now in use.
    current = {t: redirects.get(t, t) for t in targets if t in exists}
    resolved = sorted(set(current.values()))
    names: dict[str, list[tuple[str, str]]] = defaultdict(list)
    reached: dict[str, set[str]] = defaultdict(set)
    typed: set[str] = set()
    classes = " ".join(f"<{c}>" for c in sorted(dataset.all_classes()))
    languages = sorted({label.lang.split("-")[0] for e in entities.values() for label in e.labels if label.lang}
                       | {"mul"})
    lang_filter = " || ".join(f'LANGMATCHES(LANG(?name), "{lang}")' for lang in languages) or "true"
    label_predicates = " ".join(f"<{p}>" for p, _ in dataset.label_predicates)
    for batch in batched(resolved, batch_size):
        values = " ".join(f"<{t}>" for t in batch)
        for binding in client.select(
                f"SELECT DISTINCT ?item ?class WHERE {{\n  VALUES ?item {{ {values} }}\n"
                f"  VALUES ?class {{ {classes} }}\n  ?item {dataset.type_path} ?class\n}}"):
            reached[term_value(binding, "item") or ""].add(term_value(binding, "class") or "")
        for binding in client.select(
                f"SELECT DISTINCT ?item WHERE {{\n  VALUES ?item {{ {values} }}\n"
                f"  {dataset.direct_types_pattern()}\n}}"):
            typed.add(term_value(binding, "item") or "")
        for binding in client.select(
                f"SELECT DISTINCT ?item ?name WHERE {{\n  VALUES ?item {{ {values} }}\n"
                f"  VALUES ?p {{ {label_predicates} <{RDFS_LABEL}> }}\n  ?item ?p ?name\n"
                f"  FILTER(isLiteral(?name) && ({lang_filter}))\n}}"):
            names[term_value(binding, "item") or ""].append(
                (term_value(binding, "name") or "", term_lang(binding, "name") or ""))

    for subject, target in pairs:
        entity = entities.get(subject)
        if target not in exists:
            report.drift.append(Drift(subject, target, "missing",
                                      f"{dataset.title} has no statement about {dataset.short(target)} "
                                      "(deleted, or never existed)"))
            continue
        item = current[target]
        if item != target:
            report.drift.append(Drift(subject, target, "redirected",
                                      f"{dataset.short(target)} now redirects to {dataset.short(item)} "
                                      "(merged or renamed): link to the new item", replacement=item))
        if entity is None:
            continue
        fitting = dataset.classes.get(entity.kind or "", {})
        if fitting and item in typed and not (reached.get(item, set()) & set(fitting)):
            wanted = ", ".join(f"{dataset.short(c)} ({name})" for c, name in sorted(fitting.items()))
            report.drift.append(Drift(subject, target, "type",
                                      f"{dataset.short(item)} is not an instance of any class that fits a "
                                      f"{entity.kind} ({wanted})"))
        theirs = [name for name, _ in names.get(item, [])]
        ours = [label.text for label in entity.labels]
        if theirs and ours and not roughly_agree(ours, theirs):
            shown = ", ".join(sorted(set(theirs))[:4])
            report.drift.append(Drift(subject, target, "label",
                                      f"no name of {dataset.short(item)} ({shown}) agrees with ours "
                                      f"({', '.join(ours[:4])})"))
    report.requests, report.cache_hits = client.requests, client.cache_hits
    return report


def to_text(report: HealthReport, short: dict[str, str] | None = None) -> str:
    """The report for people: one line per drift, then a summary line."""
    from service.linking.profiles import dataset_for

    short = short or {}
    dataset = dataset_for(report.dataset)
    lines = []
    for drift in report.drift:
        lines.append(f"{drift.kind.upper():<10} {short.get(drift.subject, drift.subject)} → "
                     f"{dataset.short(drift.target)}: {drift.detail}")
    drifted = len({(d.subject, d.target) for d in report.drift})
    lines.append(f"{report.checked} {report.dataset} links checked at {report.endpoint}: "
                 + ("no drift" if not drifted else f"{drifted} drifted"))
    return "\n".join(lines)
