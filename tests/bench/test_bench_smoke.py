"""The performance benchmark still runs end to end and reports every server it measures.

Why a test: ``bench/bench_sparql.py`` is how the README's figures are made and checked; a
benchmark that no longer starts (a changed CLI option, a server that moved) would only be
found when someone needs the figures. This runs the smallest possible measurement — the
bundled graph, one query, one client, a fraction of a second — against real servers (ours,
the Oxigraph server, the minimal Flask app) and checks the report, never the timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # runs a subprocess
def test_the_benchmark_measures_ours_oxigraph_and_the_minimal_app_side_by_side(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_sparql.py"), "--sizes", "bundled", "--queries", "lookup",
         "--concurrency", "1", "--duration", "0.3", "--rounds", "1", "--minimal", "--results", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = json.loads((tmp_path / "latest.json").read_text())
    (report,) = out["reports"]
    (row,) = report["queries"]
    assert row["query"] == "lookup" and row["concurrency"] == 1
    for server in ("ours", "oxigraph", "minimal"):
        assert row[server]["requests"] > 0 and row[server]["errors"] == 0, (server, row[server])
        assert row["rows"][server] == row["rows"]["ours"] > 0  # the same answer from every server
    assert row["ratio"] > 0 and row["minimal_ratio"] > 0
    assert "| bundled | lookup | 1 |" in completed.stdout and "minimal req/s (ratio)" in completed.stdout
    assert report["load_s"]["ours"] > 0 and report["startup_s"]["oxigraph"] > 0
