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


@dataclass
class _Remote:
    """What the target dataset says about the linked items (a link's item after its redirect)."""

    exists: set[str] = field(default_factory=set)
    redirects: dict[str, str] = field(default_factory=dict)
    reached: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    typed: set[str] = field(default_factory=set)
    names: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def current(self, target: str) -> str:
        """The item now in use for ``target`` (its redirect, if it has one)."""
        return self.redirects.get(target, target)


def check_links(
    links: Iterable[tuple[str, str]],
    entities: dict[str, Entity],
    dataset: TargetDataset,
    client: SparqlClient,
    *,
    batch_size: int = 40,
) -> HealthReport:
    """Check every (our resource, external IRI) link whose target belongs to ``dataset``.

    Three steps: ask which targets exist and where they redirect; ask the type and names of the
    items now in use; compare each link with what was found.
    """
    pairs = sorted({(s, t) for s, t in links if dataset.owns(t)})
    report = HealthReport(dataset.name, client.endpoint, len(pairs))
    remote = _Remote()
    _ask_existence(remote, sorted({t for _, t in pairs}), dataset, client, batch_size)
    resolved = sorted({remote.current(t) for _, t in pairs if t in remote.exists})
    _ask_types_and_names(remote, resolved, entities, dataset, client, batch_size)
    for subject, target in pairs:
        report.drift.extend(_drift(subject, target, entities.get(subject), remote, dataset))
    report.requests, report.cache_hits = client.requests, client.cache_hits
    return report


def _ask_existence(remote: _Remote, targets: list[str], dataset: TargetDataset, client: SparqlClient,
                   batch_size: int) -> None:
    """Which targets the dataset has statements about, and the redirect of each."""
    for batch in batched(targets, batch_size):
        values = " ".join(f"<{t}>" for t in batch)
        query = (f"SELECT ?item ?redirect WHERE {{\n  VALUES ?item {{ {values} }}\n"
                 f"  FILTER EXISTS {{ ?item ?p ?o }}\n"
                 f"  OPTIONAL {{ ?item <{dataset.redirect_predicate}> ?redirect FILTER(isIRI(?redirect)) }}\n}}")
        for binding in client.select(query):
            item = term_value(binding, "item") or ""
            remote.exists.add(item)
            if term_value(binding, "redirect"):
                remote.redirects[item] = term_value(binding, "redirect")  # type: ignore[assignment]


def _ask_types_and_names(remote: _Remote, items: list[str], entities: dict[str, Entity], dataset: TargetDataset,
                         client: SparqlClient, batch_size: int) -> None:
    """The fitting classes, whether typed at all, and the names (in our labels' languages) of ``items``."""
    classes = " ".join(f"<{c}>" for c in sorted(dataset.all_classes()))
    languages = sorted({label.lang.split("-")[0] for e in entities.values() for label in e.labels if label.lang}
                       | {"mul"})
    lang_filter = " || ".join(f'LANGMATCHES(LANG(?name), "{lang}")' for lang in languages) or "true"
    label_predicates = " ".join(f"<{p}>" for p, _ in dataset.label_predicates)
    for batch in batched(items, batch_size):
        values = " ".join(f"<{t}>" for t in batch)
        for binding in client.select(
                f"SELECT DISTINCT ?item ?class WHERE {{\n  VALUES ?item {{ {values} }}\n"
                f"  VALUES ?class {{ {classes} }}\n  ?item {dataset.type_path} ?class\n}}"):
            remote.reached[term_value(binding, "item") or ""].add(term_value(binding, "class") or "")
        for binding in client.select(
                f"SELECT DISTINCT ?item WHERE {{\n  VALUES ?item {{ {values} }}\n"
                f"  {dataset.direct_types_pattern()}\n}}"):
            remote.typed.add(term_value(binding, "item") or "")
        for binding in client.select(
                f"SELECT DISTINCT ?item ?name WHERE {{\n  VALUES ?item {{ {values} }}\n"
                f"  VALUES ?p {{ {label_predicates} <{RDFS_LABEL}> }}\n  ?item ?p ?name\n"
                f"  FILTER(isLiteral(?name) && ({lang_filter}))\n}}"):
            remote.names[term_value(binding, "item") or ""].append(
                (term_value(binding, "name") or "", term_lang(binding, "name") or ""))


def _drift(subject: str, target: str, entity: Entity | None, remote: _Remote,
           dataset: TargetDataset) -> list[Drift]:
    """How one link has drifted: missing, redirected, of a class that does not fit, or named otherwise."""
    if target not in remote.exists:
        return [Drift(subject, target, "missing", f"{dataset.title} has no statement about {dataset.short(target)} "
                                                  "(deleted, or never existed)")]
    found: list[Drift] = []
    item = remote.current(target)
    if item != target:
        found.append(Drift(subject, target, "redirected",
                           f"{dataset.short(target)} now redirects to {dataset.short(item)} "
                           "(merged or renamed): link to the new item", replacement=item))
    if entity is None:
        return found
    fitting = dataset.classes.get(entity.kind or "", {})
    if fitting and item in remote.typed and not (remote.reached.get(item, set()) & set(fitting)):
        wanted = ", ".join(f"{dataset.short(c)} ({name})" for c, name in sorted(fitting.items()))
        found.append(Drift(subject, target, "type", f"{dataset.short(item)} is not an instance of any class that "
                                                    f"fits a {entity.kind} ({wanted})"))
    theirs = [name for name, _ in remote.names.get(item, [])]
    ours = [label.text for label in entity.labels]
    if theirs and ours and not roughly_agree(ours, theirs):
        shown = ", ".join(sorted(set(theirs))[:4])
        found.append(Drift(subject, target, "label", f"no name of {dataset.short(item)} ({shown}) agrees with ours "
                                                     f"({', '.join(ours[:4])})"))
    return found


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
