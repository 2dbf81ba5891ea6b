"""What the SHACL core checks (``service/validation/core_checks.py``) save on a guarded write's validation.

The batch is the synthetic data as one batch (the shape of ``dprk-kg load``'s input: every resource
of ``bench/synth.py``'s graph, without the source-document registrations, so it breaks the shapes thousands
of times), cut to the first N triples (sorted). It is validated in-process against the bundled store with
``validate_change`` — the code the store worker runs — twice per round: once with every shape in pySHACL
(``USE_CORE_CHECKS = False``), once with the compiled shapes in the core checks. Prints the median CPU time
(``time.process_time``) of each, side by side in the same run, and whether the two reports are identical.

    python bench/bench_core_checks.py --size 10k --triples 10000
    python bench/bench_core_checks.py --size 100k --triples 30000 --repeat 3
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
    args = parser.parse_args(argv)
    data_root, _ = prepare_data(args.size, Path("."))
    quads = batch(data_root, args.triples)
    store = load_bundled(derive=True)
    validate_module.validate_change(store, add=quads[:50])  # shapes parsed, engines built
    cpu: dict[bool, list[float]] = {False: [], True: []}
    reports: dict[bool, list] = {}
    for _ in range(args.repeat):
        for core in (False, True):
            validate_module.USE_CORE_CHECKS = core
            started = time.process_time()
            report = validate_module.validate_change(store, add=quads)
            cpu[core].append(time.process_time() - started)
            reports[core] = [r.to_json() for r in report.results]
    before, after = statistics.median(cpu[False]), statistics.median(cpu[True])
    print(f"batch {len(quads)} triples from synth-{args.size}: {len(reports[True])} results; "
          f"pySHACL only {before:.2f} s CPU, with core checks {after:.2f} s CPU (median of {args.repeat}); "
          f"{before / after:.2f}x; reports identical: {reports[True] == reports[False]}")
    return 0 if reports[True] == reports[False] else 1


if __name__ == "__main__":
    raise SystemExit(main())
