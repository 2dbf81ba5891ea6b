"""What Wikidata and DBpedia say about the items our resources are linked to — shown beside our facts, never in them.

Why a separate, bounded path: an entity page must render whole and fast whatever a public endpoint does. So

* the request goes through the bounded SERVICE client (:func:`service.sparql.federation.fetch_solutions`: a time
  limit for the whole answer, a row cap, no redirects, answers checked before parsing) with a short timeout;
* it runs on a small pool of background threads: a page waits at most :attr:`ExternalFacts.wait` seconds for it,
  then renders with "not fetched yet" and the answer is kept for the next view;
* answers are cached in memory (:data:`FRESH_FOR` for an answer, :data:`RETRY_AFTER` for a failure), and an
  endpoint that failed is not asked again for :data:`RETRY_AFTER` seconds — an unreachable remote costs one
  timeout per interval, not one per page;
* the facts are plain strings for display, kept apart from the store: nothing fetched here is written to our graph.

A few well-chosen properties per dataset (:data:`PROPERTIES`): a description, an image (linked, not embedded —
the page loads nothing from other hosts), dates of birth, death, founding and dissolution, coordinates, the
official website and the capital.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import pyoxigraph as ox

from service.rdf.vocabulary import DBPEDIA_RESOURCE, RDFS_COMMENT, RDFS_LABEL, WIKIDATA_ENTITY
from service.sparql.federation import ServiceFailure, fetch_solutions

#: ``app.extensions`` key of the app's :class:`ExternalFacts`.
EXTENSION_KEY = "dprk_kg_external_facts"

#: Seconds an answer is kept.
FRESH_FOR = 24 * 3600.0
#: Seconds a failure is kept (and its endpoint left alone) before it is tried again.
RETRY_AFTER = 60.0
#: Most rows read per answer (a handful of properties per item).
ROW_CAP = 200

WDT = "http://www.wikidata.org/prop/direct/"
DBO = "http://dbpedia.org/ontology/"
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"

#: Per dataset: (namespace of its items, [(property IRI, what we call it)]), in the order the panel shows them.
PROPERTIES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "wikidata": (WIKIDATA_ENTITY, (
        ("http://schema.org/description", "description"),
        (WDT + "P18", "image"),
        (WDT + "P569", "date of birth"),
        (WDT + "P570", "date of death"),
        (WDT + "P571", "founded"),
        (WDT + "P576", "dissolved"),
        (WDT + "P580", "start"),
        (WDT + "P582", "end"),
        (WDT + "P585", "date"),
        (WDT + "P625", "coordinates"),
        (WDT + "P36", "capital"),
        (WDT + "P856", "official website"),
    )),
    "dbpedia": (DBPEDIA_RESOURCE, (
        (RDFS_COMMENT, "description"),
        (DBO + "thumbnail", "image"),
        (DBO + "birthDate", "date of birth"),
        (DBO + "deathDate", "date of death"),
        (DBO + "foundingDate", "founded"),
        (DBO + "dissolutionDate", "dissolved"),
        (GEO + "lat", "latitude"),
        (GEO + "long", "longitude"),
        (DBO + "capital", "capital"),
        ("http://xmlns.com/foaf/0.1/homepage", "official website"),
    )),
}

TITLES = {"wikidata": "Wikidata", "dbpedia": "DBpedia"}

PENDING = "Not fetched yet (the remote endpoint is slow): reload the page in a moment."


@dataclass(frozen=True)
class Fact:
    """One external statement, ready to show: what it is, its text, and a link when the value is a web address."""

    name: str
    text: str
    href: str | None = None


@dataclass
class Panel:
    """What one external item says, or why nothing is shown (``status``: ok, pending, unavailable, off)."""

    dataset: str
    item: str
    status: str
    facts: list[Fact] = field(default_factory=list)
    message: str = ""
    fetched_at: float | None = None

    @property
    def title(self) -> str:
        return TITLES.get(self.dataset, self.dataset)


def dataset_of(item: str) -> str | None:
    """``wikidata`` or ``dbpedia`` for an item IRI of theirs, else None."""
    for name, (namespace, _) in PROPERTIES.items():
        if item.startswith(namespace):
            return name
    return None


def query_for(dataset: str, item: str) -> str:
    """The SELECT asking one item's :data:`PROPERTIES` (English texts only; names of linked items in English)."""
    _, properties = PROPERTIES[dataset]
    values = " ".join(f"<{p}>" for p, _ in properties)
    return (f"SELECT ?p ?o ?name WHERE {{ VALUES ?p {{ {values} }} <{item}> ?p ?o . "
            "FILTER(!isLiteral(?o) || LANG(?o) = \"\" || LANGMATCHES(LANG(?o), \"en\")) "
            f"OPTIONAL {{ ?o <{RDFS_LABEL}> ?name FILTER(LANGMATCHES(LANG(?name), \"en\")) }} }}")


def _text(term: object) -> str:
    if isinstance(term, ox.Literal):
        value = term.value
        if term.datatype.value.endswith("#dateTime") and "T00:00:00" in value:
            return value.split("T", 1)[0].lstrip("+")  # Wikidata writes a day as midnight UTC
        return value
    return getattr(term, "value", str(term))


def facts_from(dataset: str, rows: Iterable[tuple[object, ...]]) -> list[Fact]:
    """Rows of (property, value, name of the value) → facts in :data:`PROPERTIES` order, one per value."""
    _, properties = PROPERTIES[dataset]
    order = {p: (index, name) for index, (p, name) in enumerate(properties)}
    seen: dict[tuple[str, str], tuple[int, Fact]] = {}
    for predicate, value, name in rows:
        if predicate is None or value is None or predicate.value not in order:  # type: ignore[attr-defined]
            continue
        index, label = order[predicate.value]  # type: ignore[attr-defined]
        text = name.value if isinstance(name, ox.Literal) else _text(value)
        href = value.value if isinstance(value, ox.NamedNode) and value.value.startswith(("http://", "https://")) \
            else None
        if label == "description" and len(text) > 400:
            text = text[:400].rsplit(" ", 1)[0] + " …"
        key = (label, text)
        if key not in seen:
            seen[key] = (index, Fact(label, text, href))
    return [fact for _, fact in sorted(seen.values(), key=lambda pair: pair[0])]


class ExternalFacts:
    """The external panels of entity pages: bounded, cached, fetched in the background (see the module docstring).

    ``endpoints``: dataset name (``wikidata``, ``dbpedia``) → SPARQL endpoint URL; a dataset left out is not asked.
    ``timeout``: seconds one request may take in all; 0 turns the panels off. ``wait``: seconds a page waits.
    """

    def __init__(self, endpoints: Mapping[str, str], *, timeout: float = 3.0, wait: float | None = None,
                 fetch: Callable[[str, str, float, int], tuple[list[str], list[tuple], bool]] = fetch_solutions
                 ) -> None:
        self.endpoints = {k: v for k, v in endpoints.items() if k in PROPERTIES and v}
        self.timeout = timeout
        self.wait = min(timeout, 0.5) if wait is None else wait
        self._fetch = fetch
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, Panel]] = {}
        self._running: dict[str, Future[Panel]] = {}
        self._down_until: dict[str, tuple[float, str]] = {}
        self._pool: ThreadPoolExecutor | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.endpoints) and self.timeout > 0

    def panels(self, items: Iterable[str]) -> list[Panel]:
        """One panel per external item (Wikidata first), each as complete as the time allowed."""
        wanted = [i for i in dict.fromkeys(items) if dataset_of(i)]
        wanted.sort(key=lambda i: (list(PROPERTIES).index(dataset_of(i) or ""), i))
        if not self.enabled:
            return [Panel(dataset_of(i) or "", i, "off", message="External facts are turned off on this service.")
                    for i in wanted]
        futures = {item: self._start(item) for item in wanted}
        deadline = time.monotonic() + self.wait
        out = []
        for item, future in futures.items():
            if isinstance(future, Panel):
                out.append(future)
                continue
            try:
                out.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
            except FutureTimeout:
                out.append(Panel(dataset_of(item) or "", item, "pending", message=PENDING))
        return out

    def _start(self, item: str) -> Panel | Future[Panel]:
        """The cached panel of ``item``, or the running (or newly started) fetch of it."""
        dataset = dataset_of(item) or ""
        endpoint = self.endpoints.get(dataset)
        now = time.monotonic()
        with self._lock:
            cached = self._answers.get(item)
            if cached is not None and cached[0] > now:
                return cached[1]
            if endpoint is None:
                return Panel(dataset, item, "off", message=f"No {TITLES.get(dataset, dataset)} endpoint is set.")
            down = self._down_until.get(endpoint)
            if down is not None and down[0] > now:
                return Panel(dataset, item, "unavailable", message=down[1])
            if item in self._running:  # another page is waiting for it already: this one does not wait
                return Panel(dataset, item, "pending", message=PENDING)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="external-facts")
            future = self._pool.submit(self._fetch_panel, dataset, endpoint, item)
            self._running[item] = future
            return future

    def _fetch_panel(self, dataset: str, endpoint: str, item: str) -> Panel:
        try:
            _, rows, _ = self._fetch(endpoint, query_for(dataset, item), self.timeout, ROW_CAP)
            panel = Panel(dataset, item, "ok", facts_from(dataset, rows), fetched_at=time.time())
            keep = FRESH_FOR
        except ServiceFailure as exc:
            reason = str(exc).replace("(setting SERVICE_ALLOWLIST)", "(setting EXTERNAL_FACTS_TIMEOUT)")
            panel = Panel(dataset, item, "unavailable", message=f"{TITLES[dataset]} could not be asked: {reason}.")
            keep = RETRY_AFTER
            with self._lock:
                self._down_until[endpoint] = (time.monotonic() + RETRY_AFTER, panel.message)
        except Exception as exc:
            panel = Panel(dataset, item, "unavailable", message=f"{TITLES[dataset]} sent an answer that could not "
                                                                f"be used ({type(exc).__name__}).")
            keep = RETRY_AFTER
        with self._lock:
            self._answers[item] = (time.monotonic() + keep, panel)
            self._running.pop(item, None)
        return panel

    def close(self) -> None:
        """Stop the background threads (running fetches end at their own time limit)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
