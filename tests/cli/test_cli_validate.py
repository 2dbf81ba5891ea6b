"""``dprk-kg validate`` and ``dprk-kg load`` as a curator uses them: readable tables, machine formats,
exit codes that mean something (0 conforms / 1 violations / 2 unreadable), and guarded loads that
are all-or-nothing per file with a summary at the end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.namespace import SH

from service import config
from service.cli.main import main
from service.store.client import StoreClient
from tests.conftest import WRITE_TOKEN, LiveServer

PREFIXES = """PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>
PREFIX djr: <https://w3id.org/dprk-japan-kg/id/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
GOOD = PREFIXES + """<http://example.org/cli-round> a dj:IntergovernmentalTalks ; rdfs:label "CLI test round"@en ;
    dj:participant djr:japan , djr:north-korea ; dj:startDate "2014-05"^^xsd:gYearMonth ; dct:source djr:doc-000 ."""
BAD = GOOD.replace("djr:north-korea", "djr:junichiro-koizumi")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "good.ttl": GOOD, "bad.ttl": BAD,
        "broken.ttl": PREFIXES + '<http://example.org/x> rdfs:label "no end .\n',
        "good.nt": '<http://example.org/y> <http://www.w3.org/2000/01/rdf-schema#label> "y"@en .\n',
        "remote.jsonld": json.dumps({"@context": "https://schema.org/", "@id": "http://example.org/z", "name": "z"}),
        "notes.txt": "hello",
    }
    for name, text in paths.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return {name: tmp_path / name for name in paths}


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_without_files_checks_the_bundled_graph() -> None:
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Conforms: yes") and "(full validation)" in result.output


def test_a_conforming_file_exits_0(files: dict[str, Path]) -> None:
    result = run("validate", str(files["good.ttl"]), str(files["good.nt"]))
    assert result.exit_code == 0, result.output
    assert "incremental validation" in result.output


def test_a_violating_file_exits_1_with_a_table_grouped_by_node_with_labels(files: dict[str, Path]) -> None:
    result = run("validate", str(files["bad.ttl"]))
    assert result.exit_code == 1
    assert "<http://example.org/cli-round>  “CLI test round”" in result.output
    assert "value djr:junichiro-koizumi (Junichiro Koizumi)" in result.output
    assert "rule: negotiation round sides" in result.output


def test_the_report_can_be_json_or_a_shacl_report_in_turtle(files: dict[str, Path]) -> None:
    as_json = run("validate", "--format", "json", str(files["bad.ttl"]))
    assert as_json.exit_code == 1 and json.loads(as_json.output)["conforms"] is False
    as_turtle = run("validate", "--format", "turtle", str(files["bad.ttl"]))
    graph = Graph().parse(data=as_turtle.output, format="turtle")
    assert len(list(graph.subjects(predicate=SH.focusNode))) >= 1


@pytest.mark.parametrize("name, needle", [
    ("broken.ttl", "broken.ttl is not valid Turtle at line 6, column 35"),
    ("remote.jsonld", "remote JSON-LD context"),
    ("notes.txt", "unknown extension '.txt'"),
])
def test_unreadable_input_exits_2_naming_the_file_and_position(files: dict[str, Path], name: str, needle: str) -> None:
    result = run("validate", str(files["good.ttl"]), str(files[name]))
    assert result.exit_code == 2
    assert needle in result.output


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "absent.ttl"))
    assert result.exit_code == 2 and "absent.ttl" in result.output


def test_load_into_a_local_store_is_all_or_nothing_per_file(files: dict[str, Path], tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    result = run("load", "--store", str(store_dir), str(files["good.ttl"]), str(files["bad.ttl"]))
    assert result.exit_code == 1, result.output
    assert "1 of 2 file(s) loaded, 6 triple(s)." in result.output
    assert "refused  " in result.output and "bad.ttl" in result.output
    settings = config.defaults()
    settings.update(STORE_DIR=str(store_dir))
    client = StoreClient(settings)
    try:
        assert client.ask("ASK { GRAPH ?g { <http://example.org/cli-round> a ?t } }")
        rows = client.select("SELECT ?p WHERE { GRAPH ?g { <http://example.org/cli-round> "
                             "<https://w3id.org/dprk-japan-kg/ontology#participant> ?p } }").rows
        assert {r[0].value.rsplit("/", 1)[1] for r in rows} == {"japan", "north-korea"}, "bad.ttl left nothing"
    finally:
        client.close()


def test_load_needs_an_endpoint_or_a_store(files: dict[str, Path]) -> None:
    result = run("load", str(files["good.ttl"]))
    assert result.exit_code == 2 and "--endpoint" in result.output


def test_load_against_a_running_service(files: dict[str, Path], make_live_server: Callable[..., LiveServer]) -> None:
    server = make_live_server("--write-token", WRITE_TOKEN)
    result = run("load", "--endpoint", server.url, "--token", WRITE_TOKEN, str(files["good.ttl"]),
                 str(files["bad.ttl"]), str(files["broken.ttl"]))
    assert result.exit_code == 2, result.output
    assert "1 of 3 file(s) loaded" in result.output
    assert "HTTP 422" in result.output and "HTTP 400" in result.output
    denied = run("load", "--endpoint", server.url, "--token", "wrong", str(files["good.nt"]))
    assert denied.exit_code == 2 and "HTTP 403" in denied.output


def test_load_says_each_files_progress_on_standard_error(files: dict[str, Path], tmp_path: Path) -> None:
    """A large batch spends minutes being checked: each stage is said as it starts, with times, on standard error,
    so the summary on standard output stays clean for a script."""
    result = run("load", "--store", str(tmp_path / "store"), str(files["good.ttl"]), str(files["bad.ttl"]))
    assert result.exit_code == 1, result.output
    progress = result.stderr.splitlines()
    assert progress[0] == "[1/2] good.ttl: reading…"
    assert progress[1].startswith("[1/2] good.ttl: 6 triple(s) read in ")
    assert progress[1].endswith("checking them against the shapes and committing…")
    assert progress[2].startswith("[1/2] good.ttl: 6 triple(s) loaded (") and progress[2].endswith(" s)")
    assert progress[3] == "[2/2] bad.ttl: reading…" and "checking" in progress[4]
    assert progress[5].startswith("[2/2] bad.ttl: refused (")
    assert "[1/2]" not in result.stdout and "1 of 2 file(s) loaded" in result.stdout
