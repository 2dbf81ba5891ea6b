"""Federated canned queries reach their endpoints through the same bounded client as ``/sparql``
(service.sparql.guard.guard): an endpoint that never answers is cut off at its own time limit with a 502
naming it, and the store worker is not killed for it; an endpoint's row cap cuts its solutions and the
answer says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli.main import main
from service.cli.query import TRUNCATED_NOTE
from service.config import SOURCE_ROOT
from service.store.client import EXTENSION_KEY as STORE_KEY
from tests.canned.test_canned_federated import names, remote_names_root
from tests.linking_helpers import silent_endpoint


@pytest.fixture
def guarded(tmp_path: Path, make_app, oxigraph_server):
    """An app with one federated canned query; the Oxigraph server (row cap 1) and a silent endpoint (0.5 s)."""
    root = remote_names_root(tmp_path, oxigraph_server)
    with silent_endpoint() as silent:
        allowlist = {oxigraph_server.query_url: {"timeout": 10.0, "row_cap": 1}, silent: {"timeout": 0.5, "row_cap": 5}}
        app = make_app(DATA_ROOT=str(root), LOAD_DATA=False, SERVICE_ALLOWLIST=allowlist,
                       QUERY_TIMEOUT=30)
        yield app, oxigraph_server.query_url, silent


def test_a_silent_endpoint_is_a_502_naming_it_at_its_time_limit_and_the_worker_lives(guarded):
    app, _, silent = guarded
    store = app.extensions[STORE_KEY]
    pid = store.pid
    response = app.test_client().get("/queries/remote-names.json", query_string={"endpoint": silent},
                                     headers={"Accept": "application/json"})
    assert response.status_code == 502, response.get_data(as_text=True)
    message = response.get_json()["message"]
    assert "The federated query 'remote-names' failed" in message
    assert f"SERVICE <{silent}>" in message and "time limit of 0.5 s" in message
    assert store.pid == pid, "the store worker was killed for a remote endpoint"
    assert store.ping()  # and it still answers


def test_the_endpoints_row_cap_cuts_its_solutions_and_the_answer_says_so(guarded):
    app, endpoint, _ = guarded
    response = app.test_client().get("/queries/remote-names.json", query_string={"endpoint": endpoint},
                                     headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(names(response)) == 1 and set(names(response)) <= {"Alpha", "Beta"}
    assert response.headers["X-Result-Truncated"] == "true"


def _allowlist_env(guarded) -> dict[str, str]:
    """The fixture's allow-list, in the environment variable the service and the CLI read."""
    app, _, _ = guarded
    return {"DPRK_KG_SERVICE_ALLOWLIST": json.dumps(app.config["SERVICE_ALLOWLIST"])}


def test_offline_an_endpoints_row_cap_still_cuts_its_solutions(guarded, tmp_path: Path):
    _, endpoint, _ = guarded
    result = CliRunner().invoke(main, ["query", "remote-names", "--root", str(tmp_path / "root"), "-p",
                                       f"endpoint={endpoint}", "--format", "json"], env=_allowlist_env(guarded))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["results"]["bindings"]
    assert len(rows) == 1 and rows[0]["name"]["value"] in {"Alpha", "Beta"}
    assert TRUNCATED_NOTE in result.stderr  # and the CLI says the answer was cut


@pytest.mark.slow  # runs a subprocess
def test_offline_a_silent_endpoint_fails_at_its_own_time_limit_naming_it(guarded, tmp_path: Path):
    # Left to pyoxigraph's own SERVICE the offline CLI would wait for ever: run it as a user does, with a deadline.
    _, _, silent = guarded
    completed = subprocess.run(
        [sys.executable, "-m", "service", "query", "remote-names", "--root", str(tmp_path / "root"), "-p",
         f"endpoint={silent}"], env={**os.environ, **_allowlist_env(guarded)}, capture_output=True, text=True,
        timeout=60, cwd=SOURCE_ROOT)
    assert completed.returncode == 1, completed.stderr
    assert f"SERVICE <{silent}>" in completed.stderr and "time limit of 0.5 s" in completed.stderr
