"""Holes 1 and 4 (parsing half) of issue 11: untrusted RDF cannot exhaust memory or recurse to death.

"Billion laughs" RDF/XML, DTD subsets and external DTDs, and documents nested far deeper than
:mod:`service.rdf.limits` allows are sent to a real server (under ``CONTAINED_MEMORY``)
on every route that parses RDF — ``/validate`` anonymously, ``/ingest`` and the Graph
Store ``/store`` with the write token. Each must be a 400 naming the problem, with the
server still answering and the store unchanged. Before the checks, the same payloads
killed the web worker (entity expansion, a native stack overflow on nested triple terms),
answered 500 (``RecursionError`` on deep JSON-LD) or were parsed in quadratic time.

The unit tests of :func:`service.rdf.parsing.parse_rdf` run the hostile payloads in a
subprocess under an address-space limit too, so not even a regression can take the
machine's memory or crash pytest.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest
import requests

from service.rdf.limits import MAX_JSON_DEPTH, MAX_TURTLE_DEPTH, MAX_XML_DEPTH
from service.rdf.parsing import InputError, parse_rdf
from service.sparql import federation
from service.sparql import federation as sparql_federation
from tests.conftest import CONTAINED_MEMORY, REPO, WRITE_TOKEN, LiveServer, limit_memory, start_live_server

TIMEOUT = 60
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_DOC = (f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:e="http://example.org/"><rdf:Description '
           'rdf:about="http://example.org/s"><e:p>{}</e:p></rdf:Description></rdf:RDF>')
P = "<http://example.org/p>"
S = "<http://example.org/s>"


def laughs(levels: int = 9) -> str:
    """~1 KB of RDF/XML whose literal expands to 3·10^levels bytes (10^9 × "lol": 3 GB)."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1))
    return f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [{entities}]>\n' + XML_DOC.format(f"&lol{levels};")


def deep_xml(levels: int) -> str:
    head, tail = XML_DOC.split("{}")
    return (head.replace("<e:p>", "") + "<e:p><rdf:Description>" * levels + "<e:p>1</e:p>"
            + "</rdf:Description></e:p>" * levels + tail.replace("</e:p>", ""))


def deep_json_ld(levels: int) -> str:
    return '{"@id": "http://example.org/s", ' + '"http://example.org/p": {' * levels + '"@id": "http://example.org/o"' \
        + "}" * levels + "}"


def deep_turtle(levels: int, graph: bool = False) -> str:
    text = f"{S} {P} " + f"[ {P} " * levels + "1" + " ]" * levels + " ."
    return "{ " + text + " }" if graph else text


def deep_collection(levels: int, graph: bool = False) -> str:
    text = f"{S} {P} " + "( " * levels + "1" + " )" * levels + " ."
    return "{ " + text + " }" if graph else text


def deep_triple_terms(levels: int) -> str:
    """Nested RDF 1.2 triple terms: pyoxigraph's parsers overflow the native stack (SIGSEGV) at ~10^4 levels."""
    return f"{S} {P} " + f"<<( {S} {P} " * levels + '"1"' + " )>>" * levels + " ."


#: name → (media type, body, words the 400 must contain). Depths far beyond the limits: each
#: payload did harm before the checks (crash, 500, or a quadratic parse), or was silently accepted.
HOSTILE: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "billion-laughs": ("application/rdf+xml", laughs(), ("DTD entity declaration", "billion laughs")),
    "parameter-entity": ("application/rdf+xml",
                         '<!DOCTYPE rdf:RDF [<!ENTITY % p "<!ENTITY x \'y\'>"> %p;]>' + XML_DOC.format("&x;"),
                         ("DTD parameter entity declaration",)),
    "external-entity": ("application/rdf+xml",
                        '<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file:///etc/hostname">]>' + XML_DOC.format("&x;"),
                        ("DTD entity declaration",)),
    "external-dtd": ("application/rdf+xml",
                     '<!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:9/evil.dtd">' + XML_DOC.format("x"),
                     ("external DTD",)),
    "dtd-subset": ("application/rdf+xml", '<!DOCTYPE rdf:RDF [<!ATTLIST e:p a CDATA "b">]>' + XML_DOC.format("x"),
                   ("DTD internal subset",)),
    "deep-rdf-xml": ("application/rdf+xml", deep_xml(2000), ("MAX_XML_DEPTH", f"{MAX_XML_DEPTH} levels")),
    "deep-json-ld": ("application/ld+json", deep_json_ld(100_000), ("MAX_JSON_DEPTH", f"{MAX_JSON_DEPTH} levels")),
    "deep-turtle-bnodes": ("text/turtle", deep_turtle(1000), ("MAX_TURTLE_DEPTH", f"{MAX_TURTLE_DEPTH} levels")),
    "deep-turtle-lists": ("text/turtle", deep_collection(1000), ("MAX_TURTLE_DEPTH",)),
    "deep-n-triples-triple-terms": ("application/n-triples", deep_triple_terms(100_000), ("MAX_TURTLE_DEPTH",)),
    "deep-trig-bnodes": ("application/trig", deep_turtle(1000, graph=True), ("MAX_TURTLE_DEPTH",)),
    "deep-trig-lists": ("application/trig", deep_collection(1000, graph=True), ("MAX_TURTLE_DEPTH",)),
}
#: The Graph Store reads graph syntaxes only (TriG and N-Quads are 415 there, before parsing).
GRAPH_SYNTAXES = {"application/rdf+xml", "application/ld+json", "text/turtle", "application/n-triples"}
ROUTES = ("/validate", "/ingest", "/store")
CASES = [(route, name) for route in ROUTES for name, (media, _, _) in HOSTILE.items()
         if route != "/store" or media in GRAPH_SYNTAXES]
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[LiveServer]:
    """One real server with a write token, under CONTAINED_MEMORY, shared by the live tests."""
    live = start_live_server(tmp_path_factory.mktemp("parsing"), "--write-token", WRITE_TOKEN,
                             memory_limit=CONTAINED_MEMORY)
    yield live
    live.stop()


def count(server: LiveServer) -> int:
    response = requests.post(server.sparql, data={"query": COUNT}, timeout=TIMEOUT,
                             headers={"Accept": "application/sparql-results+json"})
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def send(server: LiveServer, route: str, media: str, body: str, headers: dict[str, str]) -> requests.Response:
    url = server.url + route + ("?graph=http://example.org/g" if route == "/store" else "")
    method = requests.put if route == "/store" else requests.post
    return method(url, data=body.encode(), timeout=TIMEOUT,
                  headers={"Content-Type": media, **(headers if route != "/validate" else {})})


@pytest.mark.parametrize(("route", "name"), CASES, ids=[f"{r}:{n}" for r, n in CASES])
def test_hostile_rdf_is_a_400_naming_the_problem_and_changes_nothing(
        server: LiveServer, write_headers: dict[str, str], route: str, name: str) -> None:
    media, body, words = HOSTILE[name]
    before = count(server)
    response = send(server, route, media, body, write_headers)
    assert response.status_code == 400, (response.status_code, response.text[:500])
    message = response.json()["message"] if response.headers["Content-Type"].startswith("application/") \
        else response.text  # the Graph Store answers errors in plain text unless JSON is asked for
    for word in words:
        assert word in message, message
    assert requests.get(server.url + "/health", timeout=TIMEOUT).status_code == 200
    assert count(server) == before


@pytest.mark.parametrize("route", ROUTES)
def test_plain_rdf_xml_and_a_bare_doctype_are_still_read(server: LiveServer, write_headers: dict[str, str],
                                                         route: str) -> None:
    for body in (XML_DOC.format("x"), '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF>\n' + XML_DOC.format("y")):
        expected = {"/validate": 200, "/ingest": 201}.get(route)
        if route == "/store":  # a PUT creates the graph (201) or replaces it (204)
            existed = requests.head(server.url + "/store", params={"graph": "http://example.org/g"}, timeout=TIMEOUT)
            expected = 204 if existed.status_code == 200 else 201
        response = send(server, route, "application/rdf+xml", body, write_headers)
        assert response.status_code == expected, (route, response.status_code, response.text[:500])


# -- parse_rdf, in a subprocess under a memory limit ------------------------------------------------

_CHILD = """
import json, sys
import pyoxigraph as ox
from service.rdf.parsing import InputError, parse_rdf
cases = json.load(sys.stdin)
out = {}
for name, (fmt, body) in cases.items():
    try:
        out[name] = "parsed %d" % len(parse_rdf(body.encode(), getattr(ox.RdfFormat, fmt), source="The file"))
    except InputError as exc:
        out[name] = "InputError: " + str(exc)
print(json.dumps(out))
"""
_FORMATS = {"application/rdf+xml": "RDF_XML", "application/ld+json": "JSON_LD", "text/turtle": "TURTLE",
            "application/n-triples": "N_TRIPLES", "application/trig": "TRIG"}


@pytest.fixture(scope="module")
def parsed_in_a_box(starts_processes: None) -> dict[str, str]:
    """Each hostile payload through ``parse_rdf`` in one child process limited to 1 GiB of address space."""
    cases = {name: (_FORMATS[media], body) for name, (media, body, _) in HOSTILE.items()}
    child = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(cases), capture_output=True, text=True,
                           cwd=REPO, timeout=TIMEOUT, preexec_fn=limit_memory(2**30))
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    return json.loads(child.stdout)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_parse_rdf_refuses_hostile_documents(parsed_in_a_box: dict[str, str], name: str) -> None:
    outcome = parsed_in_a_box[name]
    assert outcome.startswith("InputError: The file is "), outcome
    for word in HOSTILE[name][2]:
        assert word in outcome


@pytest.mark.parametrize(("rdf_format", "text"), [
    (ox.RdfFormat.RDF_XML, XML_DOC.format("x")),
    (ox.RdfFormat.RDF_XML, '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE rdf:RDF>\n<!-- <!ENTITY> [[[ -->\n'
     + XML_DOC.format("<![CDATA[<<( [ (]]>")),
    (ox.RdfFormat.RDF_XML, XML_DOC.format("&amp; caf\u00e9 &#x41;")),
    (ox.RdfFormat.RDF_XML, deep_xml(MAX_XML_DEPTH // 2 - 2)),
    (ox.RdfFormat.JSON_LD, deep_json_ld(MAX_JSON_DEPTH - 1)),
    (ox.RdfFormat.JSON_LD, json.dumps({"@id": "http://example.org/s", "http://example.org/p": "[{" * 1000})),
    (ox.RdfFormat.TURTLE, deep_turtle(MAX_TURTLE_DEPTH - 1)),
    (ox.RdfFormat.TURTLE, f'{S} {P} "{"[" * 1000}", \'{"(" * 1000}\', """{"[" * 1000}\n""", <http://e/{"(" * 500}> .'
     f' # {"[" * 1000}\n'),
    (ox.RdfFormat.TRIG, deep_collection(MAX_TURTLE_DEPTH - 2, graph=True)),
    (ox.RdfFormat.N_TRIPLES, deep_triple_terms(MAX_TURTLE_DEPTH // 2 - 1)),
])
def test_parse_rdf_reads_documents_within_the_limits(rdf_format: ox.RdfFormat, text: str) -> None:
    """Brackets in strings, IRIs, comments and CDATA do not count; nesting up to the limit is read."""
    assert parse_rdf(text.encode(), rdf_format)


def test_malformed_xml_is_a_syntax_error_with_line_and_column() -> None:
    with pytest.raises(InputError, match=r"^the request body is not valid RDF/XML at line 1, column \d+: mismatched"):
        parse_rdf(XML_DOC.format("x").replace("</e:p>", "</e:q>").encode(), ox.RdfFormat.RDF_XML)


# -- SPARQL results from a federated endpoint are untrusted input too --------------------------------

def _results(kind: str) -> tuple[str, bytes]:
    triple = ('{"type": "triple", "value": {"subject": {"type": "uri", "value": "http://e/s"}, '
              '"predicate": {"type": "uri", "value": "http://e/p"}, "object": ')
    if kind == "deep-json":
        levels = 1000
        return "application/sparql-results+json", ('{"head": {"vars": ["x"]}, "results": {"bindings": [{"x": '
                                                   + triple * levels + '{"type": "literal", "value": "1"}'
                                                   + "}}" * levels + "}]}}").encode()
    head = ('<?xml version="1.0"?>\n{}<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
            '<variable name="x"/></head><results><result><binding name="x">{}</binding></result></results></sparql>')
    if kind == "xml-entities":
        return "application/sparql-results+xml", head.format('<!DOCTYPE sparql [<!ENTITY a "b">]>',
                                                             "<literal>x</literal>").encode()
    xml_triple = ("<triple><subject><uri>http://e/s</uri></subject><predicate><uri>http://e/p</uri></predicate>"
                  "<object>")
    return "application/sparql-results+xml", head.format("", xml_triple * 1000 + "<literal>1</literal>"
                                                         + "</object></triple>" * 1000).encode()


@pytest.fixture
def endpoint() -> Iterator[dict[str, Any]]:
    """A SPARQL endpoint on 127.0.0.1 that answers what the test puts in ``answer``."""
    answer: dict[str, Any] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", answer["type"])
            self.send_header("Content-Length", str(len(answer["body"])))
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    answer["url"] = f"http://127.0.0.1:{httpd.server_port}/sparql"
    yield answer
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("kind", "words"), [("deep-json", "MAX_JSON_DEPTH"), ("deep-xml", "MAX_XML_DEPTH"),
                                             ("xml-entities", "DTD entity declaration")])
def test_federated_results_are_checked_before_parsing(endpoint: dict[str, Any], kind: str, words: str) -> None:
    endpoint["type"], endpoint["body"] = _results(kind)
    with pytest.raises(federation.ServiceFailure, match=words):
        sparql_federation.fetch_solutions(endpoint["url"], "SELECT * WHERE { ?s ?p ?o }", timeout=10, row_cap=10)


def test_the_cli_refuses_entities_and_depth_in_files(tmp_path: Any) -> None:
    """``dprk-kg validate``/``load`` read files through the same parser (small payloads: harmless even unchecked)."""
    from service.cli.validate import Unreadable, read_file

    for name, text, word in (("laughs.rdf", laughs(levels=3), "DTD entity declaration"),
                             ("deep.ttl", deep_turtle(1000), "MAX_TURTLE_DEPTH"),
                             ("deep.jsonld", deep_json_ld(1000), "MAX_JSON_DEPTH")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(Unreadable, match=word) as caught:
            read_file(path)
        assert str(path) in str(caught.value.message)
