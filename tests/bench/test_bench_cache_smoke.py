"""The result-cache benchmark still runs end to end and reports its three servers.

Why a test: ``bench/bench_cache.py`` makes the README's figures for repeated queries; this runs its smallest
measurement (the bundled graph, one query, one client, a fraction of a second) against the real servers — ours
with the cache, ours without it, the Oxigraph server — and checks the report, never the timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # runs a subprocess
def test_the_cache_benchmark_measures_cached_uncached_and_oxigraph_side_by_side(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_cache.py"), "--sizes", "bundled", "--queries", "lookup",
         "--concurrency", "1", "--duration", "0.3", "--rounds", "1", "--results", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (written,) = tmp_path.glob("cache-*.json")
    (report,) = json.loads(written.read_text())["reports"]
    (row,) = report["queries"]
    assert row["query"] == "lookup" and row["concurrency"] == 1
    for server in ("cached", "uncached", "oxigraph"):
        assert row[server]["requests"] > 0 and row[server]["errors"] == 0, (server, row[server])
        assert row["rows"][server] == row["rows"]["oxigraph"] > 0  # the same answer from every server
    assert row["cached_ratio"] > 0 and row["uncached_ratio"] > 0
    assert "| bundled | lookup | 1 |" in completed.stdout and "cached/Oxigraph (target ≥ 1.0)" in completed.stdout
