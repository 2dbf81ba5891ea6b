"""Loading: our ways of loading N triples beside ``oxigraph load`` of the same data, in one run.

Why side by side: a load time says little alone (disk, cores, other work on the machine);
the ratio to Oxigraph's own bulk loader on the same files, measured in the same run, says
what our path costs over the engine. Three paths are timed, each into a fresh store:

* ``oxigraph load`` — the Oxigraph server binary's bulk loader (the reference);
* *first start* — ``dprk-kg serve --data-root`` on an empty store: the bundled-data path
  (pyoxigraph's bulk loader, then the union default graph and the inferences, then
  compaction), ready when ``/health`` answers. The files of a data root are the project's
  own and are not validated on this path;
* ``dprk-kg load`` — a batch sent through the guarded write every client write takes
  (parsed, skolemized, validated against the shapes in the context of the store, then
  committed with its provenance in one transaction), progress on standard error. The
  batch is the synthetic data as N-Triples without its source-document registrations
  (one batch carries one document's statements). The synthetic data is made to load, not
  to be true, and breaks the shapes (made-up dates after their documents, claims citing
  unregistered documents …): the batch is *refused*, after the whole check, and the time
  reported is that check's — the part of a guarded load that is not the engine's. It is
  capped (``--guarded-cap``): past the cap the run is reported as not finished.

    python bench/bench_load.py                                  # 100k and 1m, 3 runs each
    python bench/bench_load.py --sizes 100k --runs 3 --guarded-sizes 10k,100k --guarded-cap 300

Prints one line per measurement as it goes, then a Markdown table: medians of the runs,
and each path's ratio to ``oxigraph load`` beside the target (≤ 1.5).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyoxigraph as ox
from bench_sparql import REPO, oxigraph_load_time, prepare_data, start_ours

#: The issue's target: a load within this factor of ``oxigraph load``.
TARGET_RATIO = 1.5
DJ = "https://w3id.org/dprk-japan-kg/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def first_start_time(data_root: Path, folder: Path) -> float:
    """Seconds from ``dprk-kg serve --data-root`` on an empty store to its ``/health`` answering."""
    store = folder / "ours-first-start"
    shutil.rmtree(store, ignore_errors=True)
    server, elapsed = start_ours(store, data_root, folder / "serve.log")
    server.stop()
    shutil.rmtree(store, ignore_errors=True)
    return elapsed


def batch_file(data_root: Path, folder: Path) -> tuple[Path, int]:
    """The synthetic data as one batch (N-Triples), without its source-document registrations."""
    out = folder / "batch.nt"
    registration = (ox.NamedNode(RDF_TYPE), ox.NamedNode(DJ + "SourceDocument"))
    triples = {(q.subject, q.predicate, q.object)
               for path in sorted((data_root / "data").glob("*.trig"))
               for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)
               if (q.predicate, q.object) != registration}
    with open(out, "wb") as sink:
        ox.serialize([ox.Triple(*t) for t in triples], sink, format=ox.RdfFormat.N_TRIPLES)
    return out, len(triples)


def guarded_load_time(batch: Path, folder: Path, cap: float) -> tuple[float | None, str]:
    """Seconds ``dprk-kg load --store`` takes for the batch (a fresh store each time) and how it ended:
    ``loaded``, ``refused`` (the shapes found violations: the time is that of the whole check), or
    ``not finished`` within ``cap`` (seconds None)."""
    store = folder / "ours-load"
    shutil.rmtree(store, ignore_errors=True)
    env = {**os.environ, "DPRK_KG_UPDATE_TIMEOUT": str(cap)}
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "service", "load", "--store", str(store), str(batch)],
                              cwd=REPO, env=env, timeout=cap + 60, stdin=subprocess.DEVNULL, capture_output=True)
    except subprocess.TimeoutExpired:
        return None, "not finished"
    finally:
        elapsed = time.monotonic() - started
        shutil.rmtree(store, ignore_errors=True)
    if done.returncode == 0:
        return elapsed, "loaded"
    if done.returncode == 1:
        return elapsed, "refused"
    return None, "not finished"


def _median(values: list[float | None]) -> float | None:
    """Median of the runs; None when any run did not finish (a median of the finished ones would flatter)."""
    if not values or any(v is None for v in values):
        return None
    return statistics.median(v for v in values if v is not None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="synthetic sizes for oxigraph load and first start")
    parser.add_argument("--guarded-sizes", default="10k,100k", help="sizes sent through dprk-kg load")
    parser.add_argument("--guarded-cap", type=float, default=300, help="seconds before a dprk-kg load is given up")
    parser.add_argument("--runs", type=int, default=3, help="runs per path and size (the median is reported)")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str, float | None, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        sizes = list(dict.fromkeys(args.sizes.split(",") + args.guarded_sizes.split(",")))
        for size in filter(None, sizes):
            data_root, figures = prepare_data(size, folder)
            triples = figures.get("triples", "?")
            reference = [oxigraph_load_time(data_root, folder) for _ in range(args.runs)]
            print(f"{size}: oxigraph load {[round(t, 2) for t in reference]} s ({triples} triples)", flush=True)
            ox_median = _median(reference)  # type: ignore[arg-type]
            rows.append((size, str(triples), "oxigraph load", ox_median, ox_median))
            if size in args.sizes.split(","):
                runs = [first_start_time(data_root, folder) for _ in range(args.runs)]
                print(f"{size}: first start (--data-root) {[round(t, 2) for t in runs]} s", flush=True)
                rows.append((size, str(triples), "first start (bulk, data root)", _median(runs), ox_median))
            if size in args.guarded_sizes.split(","):
                batch, count = batch_file(data_root, folder)
                ends = [guarded_load_time(batch, folder, args.guarded_cap) for _ in range(args.runs)]
                shown = [f"{t:.2f} ({how})" if t is not None else f"> {args.guarded_cap:g}" for t, how in ends]
                print(f"{size}: dprk-kg load (guarded, {count} triples) {shown} s", flush=True)
                hows = "/".join(sorted({how for _, how in ends}))
                rows.append((size, str(count), f"dprk-kg load (validated batch: {hows})",
                             _median([t for t, _ in ends]), ox_median))
    print(f"\n| size | triples | path | median s ({args.runs} runs) | × oxigraph load | target ≤ {TARGET_RATIO} |")
    print("|---|---|---|---|---|---|")
    for size, triples, path, seconds, reference in rows:
        if seconds is None:
            print(f"| {size} | {triples} | {path} | > {args.guarded_cap:g} (not finished) | — | not met |")
            continue
        ratio = seconds / reference if reference else float("nan")
        verdict = "reference" if path == "oxigraph load" else ("met" if ratio <= TARGET_RATIO else "not met")
        print(f"| {size} | {triples} | {path} | {seconds:.2f} | {ratio:.2f} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
