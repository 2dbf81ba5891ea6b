"""How long validating a batch takes, as the store grows: incremental validation must cost what the
batch costs, not what the graph costs.

For each store — the bundled graph, and synthetic graphs of 10k, 100k and 1M triples from
``bench/synth.py`` — the store is built exactly as the service builds it (the store worker's
first start: bulk load, then the union default graph and the RDFS inferences), then
``service.validation.validate_change`` (the code the worker runs for ``POST /validate`` and
``/ingest``) validates batches of 10, 100 and 1000 triples in the context of that store.
Batches are domain-shaped: new events and persons that point to states, organizations,
issues and documents already stored, and new statements about stored nodes.

    python bench/bench_validate.py                 # bundled, 10k, 100k, 1m
    python bench/bench_validate.py --sizes bundled,10k --repeat 5

Prints medians (wall clock and CPU time of the validating thread) and the two targets:
a 100-triple batch validates in ≤ 100 ms at 1M triples, and its latency at 1M is at most
1.5× its latency at 10k. Writes the figures as JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402

from service import config  # noqa: E402
from service.store.client import StoreClient  # noqa: E402
from service.validation import validate_change  # noqa: E402

RESULTS = REPO / "bench" / "results"
DJ = "https://w3id.org/dprk-japan-kg/ontology#"
DJR = "https://w3id.org/dprk-japan-kg/id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
SOURCE = "http://purl.org/dc/terms/source"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"


@dataclass
class Pools:
    """Stored resources a batch may point to."""

    states: list[str]
    docs: list[str]
    persons: list[str]
    issues: list[str]


def pools(store: ox.Store) -> Pools:
    def instances(cls: str, limit: int = 50) -> list[str]:
        rows = store.query(f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a <{DJ}{cls}> }} }} LIMIT {limit}")
        return [row[0].value for row in rows]

    return Pools(instances("State"), instances("SourceDocument"), instances("Person"), instances("Issue"))


def make_batch(size: int, refs: Pools, tag: str) -> list[ox.Quad]:
    """About ``size`` triples: new events and persons linked to stored nodes, and labels on stored persons."""
    graph = ox.NamedNode(f"https://w3id.org/dprk-japan-kg/graph/batch/bench-{tag}")
    quads: list[ox.Quad] = []
    i = 0

    def add(s: str, p: str, o: Any) -> None:
        quads.append(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o if not isinstance(o, str) else ox.NamedNode(o),
                             graph))

    while len(quads) < size:
        doc = refs.docs[i % len(refs.docs)]
        if i % 3 == 2 and refs.persons:  # a new statement about a stored person
            add(refs.persons[i % len(refs.persons)], ALT, ox.Literal(f"Bench alias {tag}-{i}", language="en"))
        elif i % 3 == 1:  # a new person
            person = f"http://example.org/bench/{tag}/person-{i}"
            add(person, RDF_TYPE, DJ + "Person")
            add(person, LABEL, ox.Literal(f"Bench person {i}", language="en"))
            add(person, SOURCE, doc)
            add(person, DJ + "nationality", refs.states[i % len(refs.states)])
        else:  # a new round of talks between two stored states
            event = f"http://example.org/bench/{tag}/round-{i}"
            add(event, RDF_TYPE, DJ + "IntergovernmentalTalks")
            add(event, LABEL, ox.Literal(f"Bench round {i}", language="en"))
            add(event, SOURCE, doc)
            add(event, DJ + "startDate", ox.Literal("2014-05-02", datatype=ox.NamedNode(XSD_DATE)))
            add(event, DJ + "participant", refs.states[i % len(refs.states)])
            add(event, DJ + "participant", refs.states[(i + 1) % len(refs.states)])
            if refs.issues:
                add(event, DJ + "discussedIssue", refs.issues[i % len(refs.issues)])
        i += 1
    return quads  # whole nodes only (a round cut after one participant would break a rule): ~size triples


def build_store(size: str, work: Path) -> tuple[Path, int]:
    """A store folder built by the store worker's first start, from the bundled or a synthetic data root."""
    folder = work / f"store-{size}"
    if size == "bundled":
        root = REPO
    elif folder.exists() and any(folder.iterdir()):
        root = work / f"synth-{size}"  # kept from an earlier run (--keep): the worker reuses the store as is
    else:
        root = work / f"synth-{size}"
        synth.generate(root, synth.parse_size(size), seed=1)
    settings = config.defaults()
    settings.update(STORE_DIR=str(folder), DATA_ROOT=str(root), STARTUP_TIMEOUT=3600)
    client = StoreClient(settings)
    triples = int(client.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").rows[0][0].value)
    client.close()
    return folder, triples


def measure(store: ox.Store, quads: list[ox.Quad], repeat: int) -> dict[str, float]:
    wall, cpu = [], []
    report = None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.thread_time()
        report = validate_change(store, quads, union=True)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    assert report is not None
    return {"median_ms": statistics.median(wall), "cpu_median_ms": statistics.median(cpu), "min_ms": min(wall),
            "focus_nodes": report.focus_nodes, "context_triples": report.context_triples,
            "conforms": report.conforms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="bundled,10k,100k,1m", help="stores: bundled and/or synthetic sizes")
    parser.add_argument("--batches", default="10,100,1000", help="batch sizes in triples")
    parser.add_argument("--repeat", type=int, default=11, help="runs per measurement (median reported)")
    parser.add_argument("--keep", type=Path, help="keep the stores in this folder (default: a temporary one)")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-validate-"))
    work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"sizes": {}}
    print(f"{'store':>8} {'triples':>9} {'batch':>6} {'median ms':>10} {'cpu ms':>8} {'focus':>6} {'context':>8}")
    try:
        for size in args.sizes.split(","):
            started = time.perf_counter()
            folder, triples = build_store(size, work)
            built = time.perf_counter() - started
            store = ox.Store(str(folder))
            refs = pools(store)
            validate_change(store, make_batch(10, refs, "warm-up"), union=True)  # parse the shapes once
            row: dict[str, Any] = {"triples": triples, "build_s": round(built, 1), "batches": {}}
            for batch in (int(b) for b in args.batches.split(",")):
                quads = make_batch(batch, refs, f"{size}-{batch}")
                result = measure(store, quads, max(3, args.repeat if batch < 1000 else args.repeat // 2))
                row["batches"][batch] = result
                print(f"{size:>8} {triples:>9} {batch:>6} {result['median_ms']:>10.1f} {result['cpu_median_ms']:>8.1f}"
                      f" {result['focus_nodes']:>6} {result['context_triples']:>8}", flush=True)
            figures["sizes"][size] = row
            del store
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    sizes = figures["sizes"]
    if "1m" in sizes and 100 in sizes["1m"]["batches"]:
        at_1m = sizes["1m"]["batches"][100]["median_ms"]
        print(f"\ntarget: 100-triple batch at 1M ≤ 100 ms: {at_1m:.1f} ms "
              f"{'PASS' if at_1m <= 100 else 'FAIL'}")
        if "10k" in sizes:
            ratio = at_1m / sizes["10k"]["batches"][100]["median_ms"]
            cpu_ratio = sizes["1m"]["batches"][100]["cpu_median_ms"] / sizes["10k"]["batches"][100]["cpu_median_ms"]
            figures["ratio_1m_10k"] = ratio
            print(f"target: latency at 1M ≤ 1.5 × latency at 10k: {ratio:.2f}× (CPU time {cpu_ratio:.2f}×) "
                  f"{'PASS' if ratio <= 1.5 else 'FAIL'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"validate-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"written: {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
