"""What the SHACL core checks (``service/validation/core_checks.py``) save on a guarded write's validation.

The batch is the synthetic data as one batch (the shape of ``dprk-kg load``'s input: every resource
of ``bench/synth.py``'s graph, without the source-document registrations, so it breaks the shapes thousands
of times), cut to the first N triples (sorted). It is validated in-process against the bundled store with
``validate_change`` — the code the store worker runs — twice per round: once with every shape in pySHACL
(``USE_CORE_CHECKS = False``), once with the compiled shapes in the core checks. Prints the median CPU time
(``time.process_time``) of each, side by side in the same run, and whether the two reports are identical.
A third evaluator, with the SPARQL constraints left to pySHACL and the rest compiled (``sparql_checks.ENABLED``
off), shows what evaluating them ourselves (``service/validation/sparql_checks.py``) saves.

``--file`` times a batch read from an N-Triples/N-Quads file instead (e.g. a valid batch written by
``bench/valid_batch.py``; blank nodes skolemized as a write does), into the batch graph.

    python bench/bench_core_checks.py --size 10k --triples 10000
    python bench/bench_core_checks.py --size 100k --triples 30000 --repeat 3
    python bench/valid_batch.py --triples 100k --out batch.nt && python bench/bench_core_checks.py --file batch.nt
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_sparql import prepare_data  # noqa: E402

from service.rdf.bundle import load_bundled  # noqa: E402
from service.store.writes import skolemize  # noqa: E402
from service.validation import sparql_checks  # noqa: E402
from service.validation import validate as validate_module  # noqa: E402

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DJ = "https://w3id.org/dprk-japan-kg/ontology#"
BATCH = ox.NamedNode("https://w3id.org/dprk-japan-kg/graph/batch")


def batch(data_root: Path, limit: int) -> list[ox.Quad]:
    """The synthetic data as one batch, without its source-document registrations, first ``limit`` triples."""
    registration = (ox.NamedNode(RDF_TYPE), ox.NamedNode(DJ + "SourceDocument"))
    triples = {(q.subject, q.predicate, q.object) for path in sorted((data_root / "data").glob("*.trig"))
               for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG) if (q.predicate, q.object) != registration}
    return [ox.Quad(s, p, o, BATCH) for s, p, o in sorted(triples, key=str)[:limit or None]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="10k", help="synthetic graph to take the batch from (10k, 100k, ...)")
    parser.add_argument("--triples", type=int, default=10_000, help="batch size (the first N triples, sorted; 0: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", type=Path, help="time this batch (N-Triples/N-Quads) instead of the synthetic one")
    args = parser.parse_args(argv)
    if args.file:
        fmt = ox.RdfFormat.N_QUADS if args.file.suffix == ".nq" else ox.RdfFormat.N_TRIPLES
        quads = [ox.Quad(q.subject, q.predicate, q.object, BATCH)
                 for q in skolemize(ox.parse(path=str(args.file), format=fmt))]
        name = f"{args.file.name}"
    else:
        data_root, _ = prepare_data(args.size, Path("."))
        quads = batch(data_root, args.triples)
        name = f"synth-{args.size}"
    store = load_bundled(derive=True)
    # The evaluators: every shape in pySHACL; compiled shapes ours but SPARQL constraints pySHACL's; all ours.
    modes = {"pySHACL only": (False, True), "core checks, SPARQL in pySHACL": (True, False), "all ours": (True, True)}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    reports: dict[str, list] = {}
    for _ in range(args.repeat):
        for mode, (core, sparql) in modes.items():
            validate_module.USE_CORE_CHECKS, sparql_checks.ENABLED = core, sparql
            validate_module._engines.clear()
            validate_module.validate_change(store, add=quads[:50])  # shapes parsed, engines built, not timed
            started = time.process_time()
            report = validate_module.validate_change(store, add=quads)
            cpu[mode].append(time.process_time() - started)
            reports[mode] = [r.to_json() for r in report.results]
    medians = {m: statistics.median(cpu[m]) for m in modes}
    same = all(reports[m] == reports["pySHACL only"] for m in modes)
    print(f"batch {len(quads)} triples from {name}: {len(reports['all ours'])} results; CPU median of "
          f"{args.repeat}: " + ", ".join(f"{m} {t:.2f} s" for m, t in medians.items())
          + f"; all ours {medians['pySHACL only'] / medians['all ours']:.2f}x pySHACL only, "
          f"{medians['core checks, SPARQL in pySHACL'] / medians['all ours']:.2f}x core checks with SPARQL in "
          f"pySHACL; reports identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
