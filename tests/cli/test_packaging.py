"""The package as a user installs it: the wheel carries the bundled graph and the canned queries, and a service
whose data root lacks them refuses to start, naming what is missing (never an empty graph without a word).

The wheel test builds the wheel from a copy of the checkout, installs it into a fresh virtual environment (its
dependencies from the package index pip is configured with) and runs the installed ``dprk-kg serve`` from
another folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from service.cli.main import main
from service.rdf.bundle import load_bundled
from service.rdf.dataset import MissingBundle
from service.rdf.vocabulary import ENTAILED_GRAPH
from service.web import server
from tests.conftest import REPO, LiveServer, free_port, wait_for
from tests.process_helpers import store_workers

#: What a build does not need from the checkout (the copy stays small and free of local state).
NOT_BUILT = shutil.ignore_patterns(".git", ".venv", "venv", "instance", "build", "dist", "*.egg-info", "__pycache__",
                                   ".pytest_cache", ".ruff_cache", ".schemathesis", "results", "tests", "docs")

#: pip's words when the package index cannot be reached (then the test skips: the environment, not the product).
OFFLINE = re.compile(r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
                     r"Network is unreachable")


def canned_names() -> list[str]:
    """The canned queries of the checkout, by name."""
    return sorted(path.stem for path in (REPO / "queries").glob("*.rq"))


def named_graph_quads() -> int:
    """Quads of the bundled graph (every one is in a named graph: the ontology, the shapes, one per document…)."""
    return len(load_bundled(REPO))


# -- refusal, in-process (fast) ---------------------------------------------------------------------------


def test_a_data_root_without_the_bundle_is_refused_naming_each_missing_part(tmp_path: Path, make_app) -> None:
    before = store_workers()
    with pytest.raises(MissingBundle) as info:
        make_app(DATA_ROOT=str(tmp_path))
    message = str(info.value)
    assert str(tmp_path) in message
    for part in ("ontology/dprk-japan.ttl", "ontology/shapes.ttl", "data/*.trig", "queries/"):
        assert part in message
    assert store_workers() == before  # refused before the store worker starts


def test_without_loading_data_only_the_canned_queries_folder_is_required(tmp_path: Path, make_app) -> None:
    with pytest.raises(MissingBundle) as info:
        make_app(DATA_ROOT=str(tmp_path), LOAD_DATA=False)
    assert f"the data root {tmp_path} lacks queries/." in str(info.value)  # and nothing else
    (tmp_path / "queries").mkdir()
    client = make_app(DATA_ROOT=str(tmp_path), LOAD_DATA=False).test_client()
    assert client.get("/queries.json").get_json()["queries"] == []


def test_a_data_root_that_does_not_exist_is_named(tmp_path: Path, make_app) -> None:
    with pytest.raises(MissingBundle, match="no such folder"):
        make_app(DATA_ROOT=str(tmp_path / "typo"))


def test_serve_refuses_before_any_server_starts_and_says_why(tmp_path: Path, monkeypatch) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a server was started on a data root without its bundle")

    monkeypatch.setattr(server, "serve_granian", never)
    monkeypatch.setattr(server, "serve_waitress", never)
    result = CliRunner().invoke(main, ["serve", "--data-root", str(tmp_path), "--store", str(tmp_path / "store")])
    assert result.exit_code == 1, result.output
    assert "Error: cannot start" in result.output and "data/*.trig" in result.output and "queries/" in result.output


# -- the wheel, installed (slow) ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Path:
    """A fresh virtual environment (no system site-packages) with the wheel built from this checkout installed."""
    work = tmp_path_factory.mktemp("packaging")
    source, dist, venv = work / "source", work / "dist", work / "venv"
    shutil.copytree(REPO, source, ignore=NOT_BUILT)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = dist.glob("dprk_japan_kg-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # The running pip installs into the new environment (--python): no pip bootstrap inside it.
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)],
                             capture_output=True, text=True, timeout=600)
    if install.returncode != 0 and OFFLINE.search(install.stderr):
        pytest.skip("needs the package index to install the wheel's dependencies, and it cannot be reached")
    assert install.returncode == 0, install.stdout + install.stderr
    return venv


def installed_env(venv: Path) -> dict[str, str]:
    """The environment of a user of the installed package: nothing points back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    return env


def get_json(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.load(response)


def test_the_installed_wheel_serves_the_whole_graph_and_every_canned_query(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = installed_env(installed)
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import service.config as c; "
                            "print(c.BUNDLE_ROOT)"], cwd=elsewhere, env=env, capture_output=True, text=True,
                           timeout=60, check=True).stdout.strip()
    assert Path(where).is_relative_to(installed), f"the installed service reads {where}, not its own bundle"

    port = free_port()
    process = subprocess.Popen([str(installed / "bin" / "dprk-kg"), "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--store", str(tmp_path / "store")], cwd=elsewhere, env=env,
                               stdin=subprocess.DEVNULL)
    live = LiveServer(f"http://127.0.0.1:{port}", port, tmp_path / "store", process)
    try:
        wait_for(live.url + "/health", process, timeout=120)
        count = ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                 f"FILTER(?g != <{ENTAILED_GRAPH}>) }}")  # the derived inferences are computed, not bundled
        answer = get_json(live.sparql, urllib.parse.urlencode({"query": count}).encode(),
                          {"Content-Type": "application/x-www-form-urlencoded",
                           "Accept": "application/sparql-results+json"})
        assert int(answer["results"]["bindings"][0]["n"]["value"]) == named_graph_quads()
        listing = get_json(live.url + "/queries.json")
        assert sorted(q["name"] for q in listing["queries"]) == canned_names()
        documents = get_json(live.url + "/queries/documents.json")
        assert documents["results"]["bindings"], "a canned query over the installed graph answered no rows"
    finally:
        live.stop()


def test_an_installed_package_missing_its_queries_refuses_to_start_naming_them(installed: Path,
                                                                               tmp_path: Path) -> None:
    [bundle] = installed.glob("lib/python*/site-packages/service/_bundle")
    hidden = tmp_path / "queries-hidden"
    shutil.move(bundle / "queries", hidden)
    try:
        result = subprocess.run([str(installed / "bin" / "dprk-kg"), "serve", "--port", str(free_port()),
                                 "--store", str(tmp_path / "store")], cwd=tmp_path, env=installed_env(installed),
                                capture_output=True, text=True, timeout=120)
    finally:
        shutil.move(hidden, bundle / "queries")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot start" in result.stderr and "queries/" in result.stderr and str(bundle) in result.stderr
