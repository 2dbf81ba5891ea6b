"""The load-and-``kill -9`` run (``bench/durability.py``) still runs end to end and reports what it promises.

Why a test: the durability run is how the README's "acknowledged writes survive kill -9"
figures are made; a run that no longer starts would only be found when someone needs them.
This runs it with a tiny budget (a few seconds, one kill mid-load, one after) against the real
service under its memory limit, and checks the report: every acknowledged write present, the
kills done, latencies measured. The timings are never checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # runs a subprocess
def test_the_durability_run_kills_restarts_and_finds_every_acknowledged_write(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "durability.py"), "--duration", "3", "--kills", "1",
         "--readers", "2", "--writers", "1", "--attackers", "1", "--max-requests", "3000", "--json", str(out)],
        capture_output=True, text=True, timeout=180, cwd=REPO)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = json.loads(out.read_text())
    writes = report["writes"]
    assert writes["acknowledged"] > 0 and writes["present"] == writes["acknowledged"] and not writes["missing"]
    assert report["kills"] == 2  # one mid-load, one after the load
    assert report["requests"] <= 3000 and report["latency"]["read"]["count"] > 0
    assert report["canary_connections"] == 0
    assert "acknowledged" in completed.stdout and "p99" in completed.stdout
