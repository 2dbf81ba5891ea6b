"""``dprk-kg sparql`` (ad hoc queries offline, from a store folder, or through a running service, in every format),
``dprk-kg validate --violations-only``, ``dprk-kg export`` of everything as one Turtle file, and the plain message
when a running service holds the store folder."""

from __future__ import annotations

import json
import subprocess
import sys

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from conftest import REPO

from service.cli.main import main
from service.cli.store_lock import STORE_IN_USE
from service.rdf.bundle import bundled_quads
from service.rdf.vocabulary import RESOURCE_NS

PREFIXES = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "PREFIX djr: <https://w3id.org/dprk-japan-kg/id/> ")
LABELS = PREFIXES + "SELECT ?label WHERE { djr:song-il-ho rdfs:label ?label } ORDER BY ?label"
GRAPH = PREFIXES + "CONSTRUCT { djr:song-il-ho rdfs:label ?l } WHERE { djr:song-il-ho rdfs:label ?l }"
INVALID = REPO / "tests" / "fixtures" / "invalid" / "Agent_Property_dj_basedIn.ttl"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def test_a_select_as_a_table(runner):
    result = runner.invoke(main, ["sparql", LABELS])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["label", "----------", "Song Il-ho", "宋日昊", "(2 rows)"]


@pytest.mark.parametrize(("fmt", "expected"), [
    ("csv", b"label\r\nSong Il-ho\r\n\xe5\xae\x8b\xe6\x97\xa5\xe6\x98\x8a\r\n"),
    ("tsv", '?label\n"Song Il-ho"@en\n"宋日昊"@zh\n'.encode()),
])
def test_a_select_in_the_result_formats(runner, fmt, expected):
    result = runner.invoke(main, ["sparql", LABELS, "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == expected


def test_json_is_sparql_results(runner):
    result = runner.invoke(main, ["sparql", LABELS, "-f", "json"])
    body = json.loads(result.stdout_bytes)
    assert [b["label"]["value"] for b in body["results"]["bindings"]] == ["Song Il-ho", "宋日昊"]
    assert b"<sparql" in runner.invoke(main, ["sparql", LABELS, "-f", "xml"]).stdout_bytes


@pytest.mark.parametrize(("fmt", "rdf_format"), [
    ("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES), ("jsonld", ox.RdfFormat.JSON_LD),
    ("rdf", ox.RdfFormat.RDF_XML), ("trig", ox.RdfFormat.TRIG), ("nq", ox.RdfFormat.N_QUADS), ("table", None),
])
def test_a_construct_in_every_rdf_format(runner, fmt, rdf_format):
    result = runner.invoke(main, ["sparql", GRAPH, "--format", fmt])
    assert result.exit_code == 0, result.output
    triples = {(q.subject.value, q.object.value) for q in ox.parse(result.stdout_bytes,
                                                                    format=rdf_format or ox.RdfFormat.TURTLE)}
    assert triples == {(RESOURCE_NS + "song-il-ho", "Song Il-ho"), (RESOURCE_NS + "song-il-ho", "宋日昊")}


def test_the_query_from_standard_input_and_from_a_file(runner, tmp_path):
    ask = PREFIXES + 'ASK { djr:song-il-ho rdfs:label "宋日昊"@zh }'
    assert runner.invoke(main, ["sparql", "-"], input=ask).output == "true\n"
    path = tmp_path / "q.rq"
    path.write_text(ask, encoding="utf-8")
    assert runner.invoke(main, ["sparql", "--file", str(path)]).output == "true\n"
    assert runner.invoke(main, ["sparql", "--file", "-"], input=ask).output == "true\n"


@pytest.mark.parametrize(("args", "words"), [
    (["SELECT ?s WHERE { ?s rdfs:label ?l }"], ["Syntax error in the query at line 1, column", "Prefix not found"]),
    ([GRAPH, "--format", "csv"], ["CONSTRUCT query answers RDF", "ttl"]),
    ([LABELS, "--format", "ttl"], ["SELECT query answers results", "csv"]),
    (["INSERT DATA { <urn:a> <urn:b> <urn:c> }"], ["runs queries", "dprk-kg load"]),
    ([], ["give the query"]),
    ([LABELS, "--file", "x.rq"], ["give the query"]),
    (["--file", "/nonexistent/q.rq"], ["cannot read"]),
    ([LABELS, "--endpoint", "http://127.0.0.1:9", "--store", "x"], ["not both"]),
])
def test_what_it_cannot_do_is_exit_2_and_one_plain_line(runner, args, words):
    result = runner.invoke(main, ["sparql", *args])
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_endpoint_is_exit_1(runner):
    result = runner.invoke(main, ["sparql", LABELS, "--endpoint", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "cannot reach http://127.0.0.1:9" in result.output


def test_validate_violations_only_lists_the_violations_and_counts_the_rest(runner):
    whole = runner.invoke(main, ["validate", str(INVALID)])
    only = runner.invoke(main, ["validate", "--violations-only", str(INVALID)])
    assert whole.exit_code == only.exit_code == 1
    assert only.output.splitlines()[0] == whole.output.splitlines()[0], "the same verdict and counts"
    assert "Warning" in whole.output and "Warning " not in only.output
    assert "Violation dj:basedIn" in only.output and "left out: --violations-only" in only.output
    body = json.loads(runner.invoke(main, ["validate", "--violations-only", "--format", "json", str(INVALID)]).output)
    assert body["violations"] == 1 and body["warnings"] > 0 and body["listed"] == "violations"
    listed = [r["severity"] for group in body["by_focus_node"] for r in group["results"]]
    assert listed == ["Violation"]


def test_export_writes_everything_as_one_turtle_file(runner, tmp_path):
    out = tmp_path / "all.ttl"
    result = runner.invoke(main, ["export", "--format", "turtle", "--output", str(out)])
    assert result.exit_code == 0, result.output
    exported = list(ox.parse(path=str(out), format=ox.RdfFormat.TURTLE))
    quads = list(bundled_quads(REPO))
    graphs = {q.graph_name.value for q in quads}
    assert len(graphs) > 5, "documents, links, ontology, shapes …"
    named = {(q.subject.value, q.predicate.value, q.object.value) for q in quads
             if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}
    got = {(t.subject.value, t.predicate.value, t.object.value) for t in exported
           if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}
    assert got == named, "every graph's triples, each once"
    assert len(exported) == len(set(exported))
    help_text = runner.invoke(main, ["export", "--help"]).output
    assert "trig/nquads keep the named graphs" in help_text


# -- a store folder held by a running service --------------------------------------------------------------------


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_a_store_held_by_a_running_service_is_a_plain_message(make_live_server, tmp_path):
    store = tmp_path / "held"
    server = make_live_server(store_dir=store)
    turtle = tmp_path / "a.ttl"
    turtle.write_text('<https://example.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "A"@en .\n')
    for args, instead in [
        (["sparql", "--store", str(store), LABELS], "dprk-kg sparql --endpoint"),
        (["load", "--store", str(store), str(turtle)], "dprk-kg load --endpoint"),
        (["serve", "--store", str(store), "--port", "0"], "--store DIR"),
    ]:
        result = _cli(*args)
        assert result.returncode == STORE_IN_USE, (args, result.stderr)
        assert f"the store at {store} is in use by another process" in result.stderr
        assert instead in result.stderr and "Traceback" not in result.stderr
    through = _cli("sparql", "--endpoint", server.url, LABELS)
    assert through.returncode == 0 and through.stdout.splitlines()[2:4] == ["Song Il-ho", "宋日昊"]
    assert _cli("sparql", "--endpoint", server.url, GRAPH, "--format", "nt").stdout.count("\n") == 2


@pytest.mark.slow
def test_a_free_store_folder_answers(tmp_path):
    result = _cli("sparql", "--store", str(tmp_path / "fresh"), LABELS, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["label", "Song Il-ho", "宋日昊"]
