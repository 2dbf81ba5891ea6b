"""Memory at idle: our service's whole process tree beside the Oxigraph server, same data, one run.

Why the whole tree: the service is two processes (``dprk-kg serve``, which runs granian and the
app, and the store worker it starts), and a reader sizing a machine needs their sum; every
process below the one started is counted, whatever the tree's shape. Two sums are printed
per server:

* **RSS** (VmRSS from ``/proc``, the figure the issue's target names): a page shared by
  two processes (a shared library's code) counts in both;
* **PSS** (``/proc/<pid>/smaps_rollup``): each shared page divided among the processes
  sharing it, so the sum is what the tree really occupies.

Each server starts on its own fresh store folder holding the bundled graph (ours loads it
at first start; Oxigraph serves a copy of ours once ours has stopped, so both hold the
same quads), is asked ``/health`` or ``ASK {}`` once, then left idle for ``--settle``
seconds before memory is read. Medians of ``--runs`` starts. Ours is measured three ways:
a first start, a start again on the store it left, and a start again with ``--supervise``
(SUPERVISE: a small supervisor process above the same two, counted in the tree; its own
figure is printed beside).

    python bench/bench_memory.py               # 3 starts each, bundled graph
    python bench/bench_memory.py --runs 5 --settle 10
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sparql import REPO, Server, _descendants, start_ours, start_oxigraph

#: The issue's target for our tree at idle with the bundled graph (RSS, MB).
TARGET_MB = 100


def tree_memory(server: Server) -> tuple[float, float, list[tuple[str, float, float]]]:
    """RSS and PSS sums (MB) over the server's process tree, and each process's own figures."""
    rows = []
    for pid in _descendants(server.pids):
        try:
            rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                       if line.startswith("VmRSS:"))
            pss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                       if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
        rows.append((_command(pid), rss / 1024, pss / 1024))
    return sum(r[1] for r in rows), sum(r[2] for r in rows), rows


def _command(pid: int) -> str:
    try:
        parts = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(p.decode(errors="replace") for p in parts if p)
    if "service.store.worker" in text:
        return "store worker"
    return "supervisor" if "supervisor.py" in text else "serve"


def _idle(server: Server, settle: float) -> tuple[float, float, list[tuple[str, float, float]]]:
    """Memory after ``settle`` idle seconds; the server is stopped afterwards."""
    try:
        time.sleep(settle)
        return tree_memory(server)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="starts per server (the median is reported)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before memory is read")
    args = parser.parse_args(argv)
    figures: dict[str, list[tuple[float, float]]] = {"first": [], "again": [], "supervised": [], "oxigraph": []}
    supervisor: list[float] = []  # the supervisor's own RSS, --supervise
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        folder = Path(tmp)
        for run in range(args.runs):
            store = folder / f"ours-{run}"
            # A first start loads the bundled graph; a start again finds it (and once more under a supervisor).
            for key, extra in (("first", ()), ("again", ()), ("supervised", ("--supervise",))):
                rss, pss, rows = _idle(start_ours(store, REPO, folder / "ours.log", extra=extra)[0], args.settle)
                figures[key].append((rss, pss))
                supervisor += [r for name, r, _ in rows if name == "supervisor"]
                parts = ", ".join(f"{name} {r:.1f}" for name, r, _ in rows)
                print(f"ours ({key} start) run {run + 1}: RSS {rss:6.1f} MB  PSS {pss:6.1f} MB  ({parts})",
                      flush=True)
            copy = folder / f"oxigraph-{run}"
            shutil.copytree(store, copy)
            rss, pss, _ = _idle(start_oxigraph(copy, folder / "oxigraph.log")[0], args.settle)
            figures["oxigraph"].append((rss, pss))
            print(f"oxigraph run {run + 1}: RSS {rss:6.1f} MB  PSS {pss:6.1f} MB", flush=True)
    labels = {"first": "ours, first start (loads the bundled graph)", "again": "ours, started again on its store",
              "supervised": "ours, started again, --supervise (supervisor "
                            f"{statistics.median(supervisor) if supervisor else float('nan'):.1f} MB of it)",
              "oxigraph": "Oxigraph server, same store"}
    print(f"\n| server | idle RSS MB (median of {args.runs}) | idle PSS MB | target ≤ {TARGET_MB} MB RSS |")
    print("|---|---|---|---|")
    for key, values in figures.items():
        rss, pss = (statistics.median(v[i] for v in values) for i in (0, 1))
        verdict = "—" if key == "oxigraph" else ("met" if rss <= TARGET_MB else "not met")
        print(f"| {labels[key]} | {rss:.1f} | {pss:.1f} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
