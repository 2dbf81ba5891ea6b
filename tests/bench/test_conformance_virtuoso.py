"""The conformance runner's Virtuoso target: what makes a direct run of the W3C suites against Virtuoso possible.

A direct run stalled on ``base-prefix-2`` (two ``BASE``s: Virtuoso at 100 % CPU), saw Virtuoso's system graphs in
every default graph, and a request Virtuoso never answered held the whole run. Each test here pins one of the three
remedies on a real Virtuoso (Debian's ``virtuoso-opensource-7-bin``; skipped where it is absent, failing instead
under ``DPRK_KG_REQUIRE_SHARED=1``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.store.virtuoso import skip_or_fail_without_virtuoso

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from conformance_lib import virtuoso
from conformance_lib.manifest import load_suite

W3C = Path(__file__).resolve().parents[3] / "shared" / "w3c"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def target():
    skip_or_fail_without_virtuoso()
    if not (W3C / "sparql").is_dir():
        pytest.skip("no W3C test suites beside the repository (../shared/w3c)")
    own = virtuoso.start()
    yield own
    own.stop()


def basic_tests(*names: str):
    tests = {t.iri.rsplit("#", 1)[-1]: t for t in load_suite("query", W3C) if "data-r2/basic/manifest#" in t.iri}
    return [tests[name] for name in names]


def test_a_query_with_its_own_base_is_answered(target):
    """base-prefix-2 (``BASE`` then ``PREFIX : <#>``) passes: one resolved BASE goes before the query text."""
    harness = virtuoso.VirtuosoHarness(target, W3C)
    outcome = harness.run(*basic_tests("base-prefix-2"))
    assert outcome.status == "pass", outcome.reason


def test_system_graphs_stay_out_of_the_default_graph(target):
    """A test's data dropped, the default graph is empty, though Virtuoso's own default graph holds its system
    graphs."""
    harness = virtuoso.VirtuosoHarness(target, W3C)
    assert harness.run(*basic_tests("list-1")).status == "pass"
    harness.clear()
    response = target.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", JSON)
    assert response.status == 200, response.brief()
    count = json.loads(response.body)["results"]["bindings"][0]["n"]["value"]
    assert count == "0"


def test_a_stuck_virtuoso_is_restarted_and_the_run_goes_on(target, monkeypatch):
    """A request past the client's limit fails its test, Virtuoso is restarted, and the next test runs."""
    monkeypatch.setattr(virtuoso, "CLIENT_SECONDS", 2)
    target._local.conn = None  # the next connection takes the shorter limit
    harness = virtuoso.VirtuosoHarness(target, W3C)
    first, second = basic_tests("base-prefix-1", "base-prefix-3")
    before = target.restarts
    os.kill(target.process.pid, signal.SIGSTOP)
    outcome = harness.run(first)
    assert outcome.status == "fail" and "Virtuoso restarted" in outcome.reason
    assert target.restarts == before + 1
    assert harness.run(second).status == "pass"


def update_tests(*names: str):
    tests = {t.iri.rsplit("#", 1)[-1]: t for t in load_suite("update", W3C)}
    return [tests[name] for name in names]


def test_an_update_writes_the_tests_default_graph_and_clear_all_spares_virtuosos_own(target):
    """The update suite runs directly: an update without GRAPH (refused by Virtuoso unless the protocol names a
    default graph) is sent with the test's dataset as ``using-graph-uri``/``using-named-graph-uri``; CLEAR ALL
    then clears the test's graphs, never Virtuoso's system graphs (its SPARQL compiler reads one of them)."""
    harness = virtuoso.VirtuosoHarness(target, W3C)
    insert, clear_all = update_tests("insert-data-spo1", "dawg-clear-all-01")
    outcome = harness.run(insert)
    assert outcome.status == "pass", outcome.reason
    outcome = harness.run(clear_all)
    assert outcome.status == "pass", outcome.reason
    harness.clear()
    assert not harness.dump(), "every graph the tests wrote is dropped"
    system = target.raw_query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://www.openlinksw.com/schemas/virtrdf#> "
                              "{ ?s ?p ?o } }")
    assert int(system.rows[0]["n"][1]) > 0
