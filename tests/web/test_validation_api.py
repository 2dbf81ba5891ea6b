"""``/validate`` over HTTP: every input syntax, every report format, the HTML form, dry runs of
updates, and every kind of bad input — each answered with a clear 4xx and nothing changed.

The app serves the bundled graph with a write token (so the store could be written; these tests
prove that /validate never does). Test resources live in ``http://example.org/``.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rdflib import Graph
from rdflib.namespace import SH

from service import create_app
from tests.sparql_helpers import quad_count

TOKEN = "test-write-token"
ROUND_OK = """
PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>
PREFIX djr: <https://w3id.org/dprk-japan-kg/id/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
<http://example.org/round> a dj:IntergovernmentalTalks ; rdfs:label "Test round"@en ;
    dj:participant djr:japan , djr:north-korea ; dj:startDate "2014-05"^^xsd:gYearMonth ; dct:source djr:doc-000 .
"""
ROUND_BAD = ROUND_OK.replace("djr:north-korea", "djr:junichiro-koizumi")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = create_app({"TESTING": True, "STORE_DIR": str(tmp_path_factory.mktemp("store")),
                              "WRITE_TOKEN": TOKEN, "MAX_BODY_BYTES": 200_000})
    yield application
    application.extensions["dprk_kg_store"].close()


@pytest.fixture(scope="module")
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def unchanged(app: Any) -> Iterator[None]:
    """The test must leave the store exactly as large as it found it."""
    before = quad_count(app)
    yield
    assert quad_count(app) == before, "the store changed"


def post(client: Any, body: str | bytes, content_type: str = "text/turtle", accept: str = "application/json",
         **kwargs: Any) -> Any:
    return client.post("/validate", data=body, content_type=content_type, headers={"Accept": accept}, **kwargs)


def test_a_valid_batch_conforms_in_the_context_of_the_stored_graph(client: Any, unchanged: None) -> None:
    response = post(client, ROUND_OK)
    assert response.status_code == 200
    report = response.get_json()
    assert report["conforms"] is True and report["violations"] == 0
    assert report["mode"] == "incremental" and report["checked_focus_nodes"] >= 1
    assert report["diff"]["added"] == 6 and report["diff"]["new_triples"] == 6


def test_a_broken_rule_is_reported_with_node_label_path_value_message_severity_and_shape(
        client: Any, unchanged: None) -> None:
    report = post(client, ROUND_BAD).get_json()
    assert report["conforms"] is False
    [group] = report["by_focus_node"]
    assert group["focus"] == "http://example.org/round" and group["label"] == "Test round"
    wrong_side = [r for r in group["results"] if r["value_text"] == "djr:junichiro-koizumi"]
    assert wrong_side, group["results"]
    result = wrong_side[0]
    assert result["severity"] == "Violation" and result["path_text"] == "dj:participant"
    assert result["value_label"] == "Junichiro Koizumi"
    assert result["shape"].startswith("https://w3id.org/dprk-japan-kg/shapes#") and result["shape_name"]
    assert result["message"] and "Test round" in result["summary"]


@pytest.mark.parametrize("content_type, body", [
    ("application/n-triples", '<http://example.org/x> <http://www.w3.org/2000/01/rdf-schema#label> "x"@en .\n'),
    ("application/n-quads", '<http://example.org/x> <http://www.w3.org/2000/01/rdf-schema#label> "x"@en '
                            '<http://example.org/g> .\n'),
    ("application/trig", 'GRAPH <http://example.org/g> { <http://example.org/x> '
                         '<http://www.w3.org/2000/01/rdf-schema#label> "x"@en }'),
    ("application/ld+json", json.dumps({"@context": {"rdfs": "http://www.w3.org/2000/01/rdf-schema#"},
                                        "@id": "http://example.org/x",
                                        "rdfs:label": {"@value": "x", "@language": "en"}})),
    ("application/rdf+xml", '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                            'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"><rdf:Description '
                            'rdf:about="http://example.org/x"><rdfs:label xml:lang="en">x</rdfs:label>'
                            '</rdf:Description></rdf:RDF>'),
])
def test_every_input_syntax_is_read(client: Any, unchanged: None, content_type: str, body: str) -> None:
    response = post(client, body, content_type)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["diff"]["added"] == 1


def test_the_report_is_a_shacl_validation_report_in_turtle_and_json_ld(client: Any, unchanged: None) -> None:
    for accept, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld")):
        response = post(client, ROUND_BAD, accept=accept)
        assert response.status_code == 200 and response.mimetype == accept
        graph = Graph().parse(data=response.get_data(as_text=True), format=fmt)
        [report] = list(graph.subjects(predicate=SH.conforms))
        assert str(graph.value(report, SH.conforms)) == "false"
        assert len(list(graph.objects(report, SH.result))) >= 1


def test_the_report_as_plain_text_groups_by_node(client: Any, unchanged: None) -> None:
    response = post(client, ROUND_BAD, accept="text/plain")
    assert response.mimetype == "text/plain"
    assert "“Test round”" in response.get_data(as_text=True)


def test_an_unacceptable_report_format_is_a_406(client: Any, unchanged: None) -> None:
    response = post(client, ROUND_OK, accept="image/png")
    assert response.status_code == 406


def test_the_form_page_shows_a_textarea_and_an_example(client: Any) -> None:
    response = client.get("/validate")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<textarea name="data"' in page and "djr:junichiro-koizumi" in page


def test_a_person_pastes_turtle_and_reads_which_node_broke_which_rule(client: Any, unchanged: None) -> None:
    response = client.post("/validate", data={"data": ROUND_BAD, "format": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Does not conform" in page
    assert "Test round" in page and "Junichiro Koizumi" in page
    assert "negotiation round sides" in page  # the rule's name
    assert "dj:Delegation" in page  # the message: what to do instead
    ok = client.post("/validate", data={"data": ROUND_OK, "format": "text/turtle"}).get_data(as_text=True)
    assert "Conforms — no rule is broken" in ok


def test_the_form_shows_a_syntax_error_above_the_pasted_text(client: Any, unchanged: None) -> None:
    response = client.post("/validate", data={"data": "@prefix ex: <http://example.org/> .\nex:a ex:b", "format":
                                              "text/turtle"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "could not be checked" in page and "line 2" in page and "ex:a ex:b</textarea>" in page


def test_an_update_dry_run_shows_what_would_be_added_and_removed(client: Any, unchanged: None) -> None:
    update = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
              "DELETE { GRAPH ?g { <https://w3id.org/dprk-japan-kg/id/japan> rdfs:label ?l } } "
              "INSERT { GRAPH <http://example.org/g> { <http://example.org/x> rdfs:label \"x\"@en } } "
              "WHERE { GRAPH ?g { <https://w3id.org/dprk-japan-kg/id/japan> rdfs:label ?l } "
              "FILTER(?g != <https://w3id.org/dprk-japan-kg/graph/entailed>) }")
    report = post(client, update, "application/sparql-update").get_json()
    assert report["diff"]["added"] == 1 and report["diff"]["removed"] >= 1
    assert "japan" in report["diff"]["remove"]
    assert report["conforms"] is False, "Japan without a label breaks the label rule"


# -- bad input: a clear 4xx, nothing changed ---------------------------------------------------


def test_malformed_turtle_is_a_400_naming_line_and_column(client: Any, unchanged: None) -> None:
    response = post(client, '@prefix ex: <http://example.org/> .\nex:a ex:b "open string .\n')
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "line 2" in message and "column 11" in message and "Turtle" in message


def test_malformed_json_ld_is_a_400_naming_line_and_column(client: Any, unchanged: None) -> None:
    response = post(client, '{\n  "@id": "http://example.org/x",\n  oops\n}', "application/ld+json")
    assert response.status_code == 400
    assert "line 3, column 3" in response.get_json()["message"]


def test_an_unsupported_media_type_is_a_415_listing_the_supported_ones(client: Any, unchanged: None) -> None:
    response = post(client, "hello", "text/csv")
    assert response.status_code == 415
    assert "text/turtle" in response.get_json()["message"]


def test_a_body_over_the_limit_is_a_413_naming_the_setting(client: Any, unchanged: None) -> None:
    big = ROUND_OK + "\n".join(f'<http://example.org/n{i}> <http://example.org/p> "{"x" * 50}" .'
                               for i in range(4000))
    response = post(client, big)
    assert response.status_code == 413 and "MAX_BODY_BYTES" in response.get_json()["message"]


def test_an_empty_form_is_a_400(client: Any, unchanged: None) -> None:
    assert client.post("/validate", data={"data": "  ", "format": "text/turtle"}).status_code == 400


class Recorder(http.server.BaseHTTPRequestHandler):
    """An HTTP server that records every request (to prove nothing is fetched)."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        body = json.dumps({"@context": {"name": "http://schema.org/name"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def context_server() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.hits = []
    yield f"http://127.0.0.1:{server.server_port}/context.jsonld"
    server.shutdown()


@pytest.mark.parametrize("shape", ["string", "list", "import", "scoped"])
def test_json_ld_with_a_remote_context_is_refused_and_nothing_is_fetched(
        client: Any, unchanged: None, context_server: str, shape: str) -> None:
    contexts = {
        "string": context_server,
        "list": [{"rdfs": "http://www.w3.org/2000/01/rdf-schema#"}, context_server],
        "import": {"@import": context_server},
        "scoped": {"p": {"@id": "http://example.org/p", "@context": context_server}},
    }
    document = {"@context": contexts[shape], "@id": "http://example.org/x", "name": "x"}
    for path in ("/validate", "/ingest"):
        response = client.post(path, data=json.dumps(document), content_type="application/ld+json",
                               headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 400, response.get_data(as_text=True)
        assert "remote JSON-LD context" in response.get_json()["message"]
    assert Recorder.hits == [], "the service fetched the remote context"


def test_blank_nodes_are_skolemized_under_the_documented_prefix(client: Any, unchanged: None) -> None:
    body = ('<http://example.org/x> <http://example.org/p> [ <http://www.w3.org/2000/01/rdf-schema#label> '
            '"inner"@en ] .')
    diff = post(client, body).get_json()["diff"]
    assert diff["add"].count("<https://w3id.org/dprk-japan-kg/.well-known/genid/") == 2
    assert "_:" not in diff["add"]


def test_the_readme_documents_validate_and_ingest() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for needle in ("POST /validate", "POST /ingest", "X-Source", ".well-known/genid/", "dprk-kg validate",
                   "dprk-kg load"):
        assert needle in readme, needle
