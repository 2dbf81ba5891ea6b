"""The ``#+`` header is a contract: malformed ones are refused at start, naming the file and the problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from service.canned.header import CannedQueryError, load_queries, read_query
from tests.process_helpers import store_workers

PREFIX = "PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>\n"
GOOD = """\
#+ summary: Events of a year
#+ params:
#+   - name: year
#+     type: gYear
#+     example: "2012"
#+ columns:
#+   - {name: event, type: iri}
""" + PREFIX + """\
SELECT ?event WHERE {
  VALUES ?year { UNDEF }
  ?event dj:startDate ?d FILTER(!BOUND(?year) || YEAR(?d) = YEAR(?year))
}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.rq"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str, name: str = "bad", allowlist: dict | None = None) -> str:
    path = write(tmp_path, name, text)
    with pytest.raises(CannedQueryError) as info:
        read_query(path, allowlist)
    message = str(info.value)
    assert f"{name}.rq" in message, f"the message must name the file: {message}"
    return message


def test_a_valid_header_becomes_the_query_contract(tmp_path):
    query = read_query(write(tmp_path, "events-of-a-year", GOOD))
    assert query.name == "events-of-a-year"
    assert query.summary == "Events of a year"
    assert [(p.name, p.type, p.var) for p in query.params] == [("year", "gYear", "year")]
    assert [(c.name, c.types) for c in query.columns] == [("event", ("iri",))]
    assert query.kind == "select"
    assert "VALUES ?year { UNDEF }" in query.body and "#+" not in query.body


CASES = [
    ("no-header", PREFIX + "SELECT * WHERE { ?s ?p ?o }", "no header"),
    ("bad-yaml", "#+ summary: [unclosed\n" + PREFIX + "SELECT ?s WHERE { ?s ?p ?o }", "not valid YAML"),
    ("unknown-key", "#+ summary: x\n#+ sumary: typo\n#+ columns: [{name: s, type: iri}]\n"
     "SELECT ?s WHERE { ?s ?p ?o }", "unknown header key(s) 'sumary'"),
    ("no-summary", "#+ description: x\n#+ columns: [{name: s, type: iri}]\nSELECT ?s WHERE { ?s ?p ?o }",
     "'summary' is required"),
    ("bad-type", "#+ summary: x\n#+ params:\n#+   - {name: y, type: year}\n#+ columns: [{name: s, type: iri}]\n"
     "SELECT ?s WHERE { VALUES ?y { UNDEF } ?s ?p ?o }", "type 'year' is not one of"),
    ("no-placeholder", "#+ summary: x\n#+ params:\n#+   - {name: y, type: gYear}\n#+ columns: [{name: s, type: iri}]\n"
     "SELECT ?s WHERE { ?s ?p ?y }", "parameter 'y': the query must contain a placeholder 'VALUES ?y { UNDEF }'"),
    ("orphan-placeholder", "#+ summary: x\n#+ columns: [{name: s, type: iri}]\n"
     "SELECT ?s WHERE { VALUES ?z { UNDEF } ?s ?p ?o }", "'VALUES ?z { UNDEF }' has no parameter"),
    ("columns-mismatch", "#+ summary: x\n#+ columns: [{name: s, type: iri}, {name: o, type: any}]\n"
     "SELECT ?o ?s WHERE { ?s ?p ?o }", "do not match the variables the query projects ['o', 's']"),
    ("no-columns", "#+ summary: x\nSELECT ?s WHERE { ?s ?p ?o }", "'columns' is required for a SELECT"),
    ("bad-column-type", "#+ summary: x\n#+ columns: [{name: s, type: uri}]\nSELECT ?s WHERE { ?s ?p ?o }",
     "column 's': type must be one of"),
    ("bad-sparql", "#+ summary: x\n#+ columns: [{name: s, type: iri}]\nSELECT ?s WHERE { ?s ?p }",
     "the query is not valid SPARQL"),
    ("service-not-federated", "#+ summary: x\n#+ columns: [{name: s, type: iri}]\n"
     "SELECT ?s WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }",
     "uses SERVICE but its header does not say 'federated: true'"),
    ("service-not-allowed", "#+ summary: x\n#+ federated: true\n#+ columns: [{name: s, type: iri}]\n"
     "SELECT ?s WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
     "SERVICE <http://evil.example/sparql> is not in the SERVICE allow-list"),
    ("service-variable", "#+ summary: x\n#+ federated: true\n#+ params:\n#+   - {name: e, type: iri, default: x}\n"
     "#+ columns: [{name: s, type: iri}]\nSELECT ?s WHERE { VALUES ?e { UNDEF } SERVICE ?e { ?s ?p ?o } }",
     "?e must be bound by an enum parameter with 'values_from: SERVICE_ALLOWLIST'"),
    ("bad-default", "#+ summary: x\n#+ params:\n#+   - {name: y, type: gYear, default: 20x2}\n"
     "#+ columns: [{name: s, type: iri}]\nSELECT ?s WHERE { VALUES ?y { UNDEF } ?s ?p ?o }",
     "its default '20x2' is invalid: expected a year YYYY"),
    ("enum-without-values", "#+ summary: x\n#+ params:\n#+   - {name: k, type: enum}\n"
     "#+ columns: [{name: s, type: iri}]\nSELECT ?s WHERE { VALUES ?k { UNDEF } ?s ?p ?o }",
     "an enum needs exactly one of 'values'"),
    ("list-without-items", "#+ summary: x\n#+ params:\n#+   - {name: k, type: list}\n"
     "#+ columns: [{name: s, type: iri}]\nSELECT ?s WHERE { VALUES ?k { UNDEF } ?s ?p ?o }",
     "a list needs 'items'"),
    ("unquoted-comma", "#+ summary: x\n#+ columns:\n#+   - {name: s, type: iri, description: one, two}\n"
     "SELECT ?s WHERE { ?s ?p ?o }", "a comma starts a new key"),
    ("late-header-line", "#+ summary: x\n#+ columns: [{name: s, type: iri}]\nSELECT ?s WHERE { ?s ?p ?o }\n"
     "#+ tags: [late]\n", "a '#+' header line after the query has started"),
    ("required-with-default", "#+ summary: x\n#+ params:\n#+   - {name: y, type: gYear, required: true, "
     "default: '2012'}\n#+ columns: [{name: s, type: iri}]\nSELECT ?s WHERE { VALUES ?y { UNDEF } ?s ?p ?o }",
     "a required parameter cannot have a default"),
]


@pytest.mark.parametrize(("name", "text", "problem"), CASES, ids=[c[0] for c in CASES])
def test_a_malformed_file_is_refused_with_file_and_problem_named(tmp_path, name, text, problem):
    message = refused(tmp_path, text, name=name, allowlist={"https://query.wikidata.org/sparql": {}})
    assert problem in message


def test_a_yaml_error_names_the_line(tmp_path):
    message = refused(tmp_path, "#+ summary: ok\n#+ tags: [a, b\n#+ columns: [{name: s, type: iri}]\n"
                                "SELECT ?s WHERE { ?s ?p ?o }")
    assert "bad.rq:" in message and "not valid YAML" in message


def test_placeholders_in_comments_and_strings_do_not_count(tmp_path):
    text = ("#+ summary: x\n#+ params:\n#+   - {name: y, type: gYear}\n#+ columns: [{name: s, type: string}]\n"
            "SELECT ?s WHERE {\n  # VALUES ?y { UNDEF }\n  BIND(\"VALUES ?y { UNDEF }\" AS ?s)\n}\n")
    assert "must contain a placeholder" in refused(tmp_path, text)


def test_a_placeholder_is_found_where_the_grammar_reads_it_and_its_offsets_cover_it(tmp_path):
    text = ("#+ summary: x\n#+ params:\n#+   - {name: y, type: gYear}\n#+ columns: [{name: s, type: string}]\n"
            "SELECT ?s WHERE {\n  BIND(\"VALUES ?y { UNDEF }\" AS ?s) # VALUES ?y { UNDEF }\n"
            "  VALUES  $y  {\n UNDEF }\n}\n")
    query = read_query(write(tmp_path, "spaced", text))
    [placeholder] = query.placeholders
    assert query.body[placeholder.start:placeholder.end] == "VALUES  $y  {\n UNDEF }"


def test_a_stray_placeholder_names_its_line(tmp_path):
    text = ("#+ summary: x\n#+ columns: [{name: s, type: iri}]\nSELECT ?s WHERE {\n  ?s ?p ?o .\n"
            "  VALUES ?z { UNDEF }\n}\n")
    assert "bad.rq:5: 'VALUES ?z { UNDEF }' has no parameter" in refused(tmp_path, text)


def test_service_in_a_comment_string_or_iri_is_not_a_service_clause(tmp_path):
    text = ("#+ summary: x\n#+ columns: [{name: s, type: string}]\n"
            "SELECT ?s WHERE {\n  # SERVICE <http://evil.example/sparql> { }\n"
            "  BIND(\"SERVICE <http://evil.example/sparql>\" AS ?s) ?x <urn:x:SERVICE> ?y\n}\n")
    assert not read_query(write(tmp_path, "quiet", text)).federated


def test_a_service_endpoint_is_resolved_with_the_querys_own_prefixes(tmp_path):
    body = ("#+ summary: x\n#+ federated: true\n#+ columns: [{{name: s, type: iri}}]\n"
            "PREFIX ep: <{base}>\nSELECT ?s WHERE {{ SERVICE SILENT ep:sparql {{ ?s ?p ?o }} }}\n")
    allowlist = {"https://query.wikidata.org/sparql": {}}
    message = refused(tmp_path, body.format(base="http://evil.example/"), allowlist=allowlist)
    assert "SERVICE <http://evil.example/sparql> is not in the SERVICE allow-list" in message
    query = read_query(write(tmp_path, "remote", body.format(base="https://query.wikidata.org/")), allowlist)
    assert query.federated and query.kind == "select"


def test_describe_is_told_from_construct_by_the_query_form_not_by_a_comment(tmp_path):
    text = ("#+ summary: x\n# DESCRIBE is in this comment\nCONSTRUCT { ?s ?p \"DESCRIBE\" } WHERE { ?s ?p ?o }\n")
    assert read_query(write(tmp_path, "graph", text)).kind == "construct"
    text = "#+ summary: x\n# CONSTRUCT is in this comment\nDESCRIBE <urn:x:a>\n"
    assert read_query(write(tmp_path, "described", text)).kind == "describe"


def test_the_bundled_queries_all_load():
    queries = load_queries(Path(__file__).resolve().parents[2] / "queries",
                           {"https://query.wikidata.org/sparql": {}, "https://dbpedia.org/sparql": {}})
    assert len([q for q in queries.values() if not q.federated]) >= 15


def test_the_service_refuses_to_start_on_a_malformed_query(tmp_path, make_app):
    (tmp_path / "queries").mkdir()
    write(tmp_path / "queries", "broken", "#+ summary: x\n#+ columns: [{name: s, type: iri}]\n"
                                           "SELECT ?s ?o WHERE { ?s ?p ?o }")
    before = store_workers()
    with pytest.raises(CannedQueryError) as info:
        make_app(DATA_ROOT=str(tmp_path), LOAD_DATA=False)
    message = str(info.value)
    assert "cannot start" in message and "queries/broken.rq" in message and "do not match" in message
    assert store_workers() == before  # the refused start left no store worker behind


def test_any_refused_start_closes_the_store_worker(tmp_path, make_app, monkeypatch):
    from service.web import query_path

    def broken(app):
        raise RuntimeError("a blueprint failed to start")

    monkeypatch.setattr(query_path, "init_app", broken)
    before = store_workers()
    with pytest.raises(RuntimeError, match="failed to start"):
        make_app(LOAD_DATA=False)
    assert store_workers() == before


def test_adding_a_valid_file_publishes_it(tmp_path, make_app):
    (tmp_path / "queries").mkdir()
    write(tmp_path / "queries", "events-of-a-year", GOOD)
    client = make_app(DATA_ROOT=str(tmp_path), LOAD_DATA=False).test_client()
    listing = client.get("/queries").get_json()
    assert [q["name"] for q in listing["queries"]] == ["events-of-a-year"]
    assert "/queries/events-of-a-year" in client.get("/openapi.json").get_json()["paths"]
    answer = client.get("/queries/events-of-a-year.json?year=2012")
    assert answer.status_code == 200
    assert answer.get_json() == {"head": {"vars": ["event"]}, "results": {"bindings": []}}


HUNDRED = " ".join(str(i) for i in range(100))
SLOW = f"""\
#+ summary: A product of four lists of a hundred values (a hundred million rows to count)
#+ columns:
#+   - {{name: n, type: integer}}
SELECT (COUNT(*) AS ?n) WHERE {{
  VALUES ?a {{ {HUNDRED} }} VALUES ?b {{ {HUNDRED} }} VALUES ?c {{ {HUNDRED} }} VALUES ?d {{ {HUNDRED} }}
}}
"""


@pytest.mark.slow  # waits out a time limit: long
def test_a_query_past_the_time_limit_is_stopped_with_503_naming_the_setting(tmp_path, make_app):
    (tmp_path / "queries").mkdir()
    write(tmp_path / "queries", "slow", SLOW)
    client = make_app(DATA_ROOT=str(tmp_path), LOAD_DATA=False, QUERY_TIMEOUT=1.0).test_client()
    response = client.get("/queries/slow.json", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert "QUERY_TIMEOUT" in response.get_json()["message"]
