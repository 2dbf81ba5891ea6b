"""The remote-mode benchmark still runs end to end and reports both servers and every load path.

Why a test: ``bench/bench_remote.py`` makes the README's remote-mode figures; this runs its smallest measurement
(the bundled graph, one heavy query, one client, a fraction of a second, one load) against the real servers — our
service in front of an Oxigraph server, that server direct — and checks the report, never the timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # runs a subprocess
def test_the_remote_benchmark_measures_ours_and_the_store_direct_and_the_loads(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_remote.py"), "--sizes", "bundled", "--queries", "join",
         "--concurrency", "1", "--duration", "0.3", "--rounds", "1", "--results", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (written,) = tmp_path.glob("remote-*.json")
    (report,) = json.loads(written.read_text())["reports"]
    (row,) = report["queries"]
    assert row["query"] == "join" and row["concurrency"] == 1
    for server in ("ours", "oxigraph"):
        assert row[server]["requests"] > 0 and row[server]["errors"] == 0, (server, row[server])
    assert row["rows"]["ours"] == row["rows"]["oxigraph"] > 0  # the same answer through our service and direct
    assert report["store_quads"] > 0 and report["health"]["status"] == "ok"
    assert set(report["load_s"]) == {"oxigraph load (files)", "first start (ours, remote)",
                                     "oxigraph load (same N-Quads)", "Graph Store POST (same N-Quads)"}
    assert all(seconds > 0 for seconds in report["load_s"].values())
    assert "ours/direct (target ≥ 0.9)" in completed.stdout and "(target ≤ 1.5)" in completed.stdout
