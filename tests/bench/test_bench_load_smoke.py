"""The loading benchmark still runs end to end, and its guarded batch is one the shapes accept.

Why a test: ``bench/bench_load.py`` makes the README's loading figures. Its ``dprk-kg load`` measurement
is only worth something if the batch it sends commits: a batch the shapes refuse times the check and its
report, not a load (as it once did). Shapes change; this runs the smallest measurement (the bundled graph's
first start, a batch of about a thousand triples, one run) and checks that the batch *loaded* and that
every path is reported beside its reference and the target, never the timings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # runs a subprocess
def test_the_load_benchmark_commits_its_valid_batch_and_reports_every_reference() -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_load.py"), "--sizes", "bundled", "--guarded-sizes", "1k",
         "--runs", "1", "--guarded-cap", "120"],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert completed.returncode == 0, completed.stderr[-3000:]
    table = [line for line in completed.stdout.splitlines() if line.startswith("| ")]
    rows = {(cells[2], cells[4]): cells for cells in ([c.strip() for c in line.strip("|").split("|")]
                                                     for line in table[1:])}
    guarded = rows[("dprk-kg load (valid batch)", "oxigraph load (valid batch file)")]
    assert guarded[-1] == "loaded", guarded  # the batch conforms to the shapes and was committed
    assert ("first start (bulk, data root)", "oxigraph load (files)") in rows
    assert ("first start (bulk, data root)", "oxigraph load (same N-Quads as stored)") in rows
    assert "target ≤ 1.5" in table[0]
