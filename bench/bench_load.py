"""Loading: our ways of loading N triples beside ``oxigraph load`` of the same data, in one run.

Why side by side: a load time says little alone (disk, cores, other work on the machine);
the ratio to Oxigraph's own bulk loader on the same input, measured in the same run, says
what our path costs over the engine. Each path loads into a fresh store:

* ``oxigraph load`` of the synthetic files (``bench/synth.py``) — the reference;
* *first start* — ``dprk-kg serve --data-root`` on an empty store: the bundled-data path
  (pyoxigraph's bulk loader, then the union default graph and the inferences, then
  compaction), ready when ``/health`` answers. The files of a data root are the project's
  own and are not validated on this path. The store ends with several times the quads of
  the files, so it is compared with two references: ``oxigraph load`` of the files, and
  ``oxigraph load`` of *the same quads* the store holds afterwards (dumped as N-Quads after
  the first run, untimed) — as ``bench/bench_remote.py`` does for the remote mode;
* ``dprk-kg load`` — a batch sent through the guarded write every client write takes
  (parsed, skolemized, validated against the shapes (SHACL) in the context of the store,
  then committed with its provenance in one transaction). The batch is a *valid* one
  (``bench/valid_batch.py``: one source document registered by the batch, every statement
  citing it; it conforms, so the load commits), sent into a store that already holds the
  bundled graph (a copy of one prepared untimed, as an analyst's store would), compared with
  ``oxigraph load`` of the same batch file into an empty store. Capped (``--guarded-cap``):
  past the cap the run is reported as not finished. ``--refused`` also times the old case:
  the synthetic data itself as a batch, which breaks the shapes and is refused after the
  whole check.

    python bench/bench_load.py --sizes 100k --guarded-sizes 10k,100k --guarded-cap 300 --runs 3
    python bench/bench_load.py --sizes 1m --guarded-sizes '' --runs 3

Prints one line per measurement as it goes, then a Markdown table: medians of the runs, and
each path's ratio to its reference beside the target (≤ 1.5), with the load average. A path and
its references take turns in each run, so a busy spell on a shared machine hits them alike.
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
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyoxigraph as ox
import synth
from bench_remote import oxigraph_load_file
from bench_sparql import REPO, oxigraph_load_time, prepare_data, start_ours
from valid_batch import DOCUMENT, write_batch

#: The issue's target: a load within this factor of ``oxigraph load``.
TARGET_RATIO = 1.5
DJ = "https://w3id.org/dprk-japan-kg/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass
class Row:
    """One line of the table: a path's median beside one reference's median."""

    size: str
    triples: str
    path: str
    seconds: float | None
    reference: str
    reference_seconds: float | None
    end: str = ""


def first_start_time(data_root: Path, folder: Path, dump: Path | None = None) -> float:
    """Seconds from ``dprk-kg serve --data-root`` on an empty store to its ``/health`` answering.

    With ``dump``, the store the first start left is written there as N-Quads once the server
    has stopped (not timed): what ``oxigraph load`` of the same quads is timed on.
    """
    store = folder / "ours-first-start"
    shutil.rmtree(store, ignore_errors=True)
    server, elapsed = start_ours(store, data_root, folder / "serve.log")
    server.stop()
    if dump is not None:
        with open(dump, "wb") as sink:
            ox.Store(str(store)).dump(sink, format=ox.RdfFormat.N_QUADS)
    shutil.rmtree(store, ignore_errors=True)
    return elapsed


def count_lines(path: Path) -> int:
    """Statements in an N-Triples or N-Quads file (one a line)."""
    with open(path, "rb") as source:
        return sum(1 for line in source if line.strip())


def refused_batch_file(data_root: Path, folder: Path) -> tuple[Path, int]:
    """The synthetic data as one batch (N-Triples), without its source-document registrations: it breaks
    the shapes (made-up dates after their documents, claims citing unregistered documents …)."""
    out = folder / "refused-batch.nt"
    registration = (ox.NamedNode(RDF_TYPE), ox.NamedNode(DJ + "SourceDocument"))
    triples = {(q.subject, q.predicate, q.object)
               for path in sorted((data_root / "data").glob("*.trig"))
               for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)
               if (q.predicate, q.object) != registration}
    with open(out, "wb") as sink:
        ox.serialize([ox.Triple(*t) for t in triples], sink, format=ox.RdfFormat.N_TRIPLES)
    return out, len(triples)


def analyst_store(folder: Path) -> Path:
    """A store holding the bundled graph (its first start done, untimed): what ``dprk-kg load`` adds a batch to."""
    template = folder / "analyst-store"
    if not template.exists():
        subprocess.run([sys.executable, "-m", "service", "sparql", "--store", str(template), "ASK {}"], cwd=REPO,
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return template


def guarded_load_time(batch: Path, folder: Path, cap: float, source: str | None) -> tuple[float | None, str]:
    """Seconds ``dprk-kg load --store`` takes for the batch (into a fresh copy of the analyst's store) and how
    it ended: ``loaded``, ``refused`` (the shapes found violations: the time is that of the whole check), or
    ``not finished`` within ``cap`` (seconds None)."""
    store = folder / "ours-load"
    shutil.rmtree(store, ignore_errors=True)
    shutil.copytree(analyst_store(folder), store)
    env = {**os.environ, "DPRK_KG_UPDATE_TIMEOUT": str(cap)}
    command = [sys.executable, "-m", "service", "load", "--store", str(store), str(batch)]
    if source:
        command[-1:-1] = ["--source", source]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=REPO, env=env, timeout=cap + 60, stdin=subprocess.DEVNULL,
                              capture_output=True)
    except subprocess.TimeoutExpired:
        return None, "not finished"
    finally:
        elapsed = time.monotonic() - started
        shutil.rmtree(store, ignore_errors=True)
    if done.returncode == 0:
        return elapsed, "loaded"
    if done.returncode == 1:
        return elapsed, "refused"
    print(done.stdout.decode(errors="replace")[-2000:], done.stderr.decode(errors="replace")[-2000:], file=sys.stderr)
    return None, "not finished"


def _median(values: list[float | None]) -> float | None:
    """Median of the runs; None when any run did not finish (a median of the finished ones would flatter)."""
    if not values or any(v is None for v in values):
        return None
    return statistics.median(v for v in values if v is not None)


def _shown(values: list[float]) -> list[float]:
    return [round(v, 2) for v in values]


def measure_first_start(size: str, runs: int, folder: Path) -> list[Row]:
    """``oxigraph load`` of the files, our first start, ``oxigraph load`` of the quads that start stored."""
    data_root, figures = prepare_data(size, folder)
    triples = str(figures.get("triples", "?"))
    dump = folder / "first-start.nq"
    files: list[float] = []
    starts: list[float] = []
    same: list[float] = []
    for run in range(runs):  # the three take turns, so a busy spell on a shared machine hits them alike
        files.append(oxigraph_load_time(data_root, folder))
        starts.append(first_start_time(data_root, folder, dump if run == 0 else None))
        same.append(oxigraph_load_file(dump, folder))
        print(f"{size} run {run + 1}/{runs}: oxigraph load (files) {files[-1]:.2f} s, first start {starts[-1]:.2f} s, "
              f"oxigraph load (same N-Quads) {same[-1]:.2f} s; load average {os.getloadavg()[0]:.2f}",
              file=sys.stderr, flush=True)
    quads = count_lines(dump)
    print(f"{size}: oxigraph load of the files {_shown(files)} s ({triples} triples)", flush=True)
    print(f"{size}: first start (--data-root) {_shown(starts)} s", flush=True)
    print(f"{size}: oxigraph load of the same {quads} quads the first start stored {_shown(same)} s", flush=True)
    dump.unlink()
    files_s, starts_s, same_s = _median(files), _median(starts), _median(same)  # type: ignore[arg-type]
    return [Row(size, triples, "oxigraph load (files)", files_s, "oxigraph load (files)", files_s),
            Row(size, str(quads), "oxigraph load (same N-Quads as stored)", same_s,
                "oxigraph load (same N-Quads as stored)", same_s),
            Row(size, triples, "first start (bulk, data root)", starts_s, "oxigraph load (files)", files_s),
            Row(size, f"{triples} → {quads}", "first start (bulk, data root)", starts_s,
                "oxigraph load (same N-Quads as stored)", same_s)]


def measure_guarded(size: str, runs: int, cap: float, batch: Path, count: int, source: str | None,
                    label: str, folder: Path) -> list[Row]:
    """``oxigraph load`` of the batch file into an empty store beside ``dprk-kg load`` of it."""
    reference: list[float] = []
    ends: list[tuple[float | None, str]] = []
    for _ in range(runs):  # taking turns, as above
        reference.append(oxigraph_load_file(batch, folder))
        ends.append(guarded_load_time(batch, folder, cap, source))
    print(f"{size}: oxigraph load of the {label} batch file {_shown(reference)} s ({count} triples)", flush=True)
    shown = [f"{t:.2f} ({how})" if t is not None else f"> {cap:g} ({how})" for t, how in ends]
    print(f"{size}: dprk-kg load of the {label} batch {shown} s", flush=True)
    hows = "/".join(sorted({how for _, how in ends}))
    ref = _median(reference)  # type: ignore[arg-type]
    return [Row(size, str(count), f"oxigraph load ({label} batch file)", ref, f"oxigraph load ({label} batch file)",
                ref),
            Row(size, str(count), f"dprk-kg load ({label} batch)", _median([t for t, _ in ends]),
                f"oxigraph load ({label} batch file)", ref, hows)]


def render(rows: list[Row], runs: int, cap: float) -> str:
    """The Markdown table: each path's median beside its reference and the target."""
    lines = [f"| size | triples | path | median s ({runs} runs) | reference | × reference | target ≤ {TARGET_RATIO} "
             "| end |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if row.seconds is None:
            lines.append(f"| {row.size} | {row.triples} | {row.path} | > {cap:g} | {row.reference} | — | not met "
                         f"| {row.end} |")
            continue
        ratio = row.seconds / row.reference_seconds if row.reference_seconds else float("nan")
        verdict = "reference" if row.path == row.reference else ("met" if ratio <= TARGET_RATIO else "not met")
        lines.append(f"| {row.size} | {row.triples} | {row.path} | {row.seconds:.2f} | {row.reference} "
                     f"| {ratio:.2f} | {verdict} | {row.end} |")
    return "\n".join(lines)


def _sizes(text: str) -> list[str]:
    return [size for size in (part.strip() for part in text.split(",")) if size]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="synthetic sizes for oxigraph load and first start")
    parser.add_argument("--guarded-sizes", default="10k,100k", help="sizes of the valid batch sent through "
                        "dprk-kg load ('' for none)")
    parser.add_argument("--guarded-cap", type=float, default=300, help="seconds before a dprk-kg load is given up")
    parser.add_argument("--runs", type=int, default=3, help="runs per path and size (the median is reported)")
    parser.add_argument("--refused", action="store_true", help="also time the synthetic data as a batch, which "
                        "the shapes refuse (the check's time alone)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        for size in _sizes(args.sizes):
            rows += measure_first_start(size, args.runs, folder)
        for size in _sizes(args.guarded_sizes):
            batch = folder / f"valid-batch-{size}.nt"
            count = write_batch(batch, synth.parse_size(size))
            rows += measure_guarded(size, args.runs, args.guarded_cap, batch, count, DOCUMENT, "valid", folder)
            if args.refused:
                data_root, _ = prepare_data(size, folder)
                batch, count = refused_batch_file(data_root, folder)
                rows += measure_guarded(size, args.runs, args.guarded_cap, batch, count, None, "invalid synthetic",
                                        folder)
    load_after = os.getloadavg()
    print("\n" + render(rows, args.runs, args.guarded_cap))
    print(f"\nload average (1/5/15 min) before {'/'.join(f'{x:.2f}' for x in load_before)}, "
          f"after {'/'.join(f'{x:.2f}' for x in load_after)}; {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
