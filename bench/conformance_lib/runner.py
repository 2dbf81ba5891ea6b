"""Running W3C tests against a live server over HTTP: data in through the Graph Store Protocol,
queries and updates through the SPARQL Protocol, answers compared strictly.

Why this shape: the same runner must judge our service and the standalone Oxigraph
server, so it only uses what both expose — the SPARQL 1.1 Protocol and the Graph Store
Protocol — and never reaches into either store.

Skipped, with the reason: tests needing federation (``SERVICE``), tests whose update
``LOAD``s a document (it would be fetched from elsewhere; ``LOAD SILENT`` tests run), and
tests whose data or ``FROM`` names a document outside the suite. ``FROM``/``FROM NAMED`` of a file of the
suite are honoured by loading that file as the named graph of that IRI first — the
dataset the query asks for is then in the store, as in any store-based harness.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pyoxigraph as ox
from rdflib import RDF, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import Namespace

from . import compare, results, terms
from .manifest import MF, TestCase, to_path
from .server import Response, Target

HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = "http://www.w3.org/2011/http-statusCodes#"
SD = "http://www.w3.org/ns/sparql-service-description#"

STATUS_NAMES = {"OK": (200,), "Created": (201,), "NoContent": (204,), "NotFound": (404,),
                "StatusCode2xx": range(200, 300), "StatusCode3xx": range(300, 400),
                "StatusCode4xx": range(400, 500), "StatusCode5xx": range(500, 600)}

DUMP_QUERY = "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
JSON = results.RESULT_MEDIA_TYPES["json"]
RDF_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8"


@dataclass
class Outcome:
    """The verdict on one test."""

    status: str  # "pass" | "fail" | "skip"
    reason: str = ""


def passed() -> Outcome:
    return Outcome("pass")


def failed(reason: str) -> Outcome:
    return Outcome("fail", reason)


def skipped(reason: str) -> Outcome:
    return Outcome("skip", reason)


_FROM = re.compile(r"\bFROM\s+(NAMED\s+)?(<[^>]*>|[A-Za-z_][\w.-]*:[\w.-]*|:[\w.-]*)", re.I)
_BASE = re.compile(r"\bBASE\s*<([^>]*)>", re.I)


def dataset_clauses(query: str, query_iri: str) -> list[tuple[bool, str | None]]:
    """The query's FROM (False) and FROM NAMED (True) IRIs, resolved; ``None`` for a prefixed name."""
    text = compare.strip_query(query, keep_iris=True)
    base_match = _BASE.search(text)
    base = urljoin(query_iri, base_match.group(1)) if base_match else query_iri
    out = []
    for match in _FROM.finditer(text):
        target = match.group(2)
        out.append((bool(match.group(1)), urljoin(base, target[1:-1]) if target.startswith("<") else None))
    return out


def uses_keyword(text: str, keyword: str) -> bool:
    """True if the keyword occurs outside comments, strings and IRIs."""
    return re.search(rf"\b{keyword}\b", compare.strip_query(text), re.I) is not None


def fetches(text: str) -> bool:
    """True if the update has a ``LOAD`` that is not ``SILENT``: it would fetch a remote document.

    A ``LOAD SILENT`` test runs: a load that fails (or is refused) must still succeed and
    change nothing, which any server can show without fetching.
    """
    return re.search(r"\bLOAD\b(?!\s+SILENT\b)", compare.strip_query(text), re.I) is not None


class Harness:
    """Runs the tests of one suite against one target, keeping track of what the store holds."""

    def __init__(self, target: Target, w3c: Path) -> None:
        self.target = target
        self.w3c = w3c
        #: What the store holds now: a key of loaded files, ``()`` for empty, ``None`` for unknown.
        self.state: tuple | None = None
        self._parsed: dict[str, bytes] = {}

    # -- store state --------------------------------------------------------------------------

    def clear(self) -> None:
        """Empty the store (``DROP ALL``)."""
        response = self.target.update("DROP ALL")
        if not 200 <= response.status < 300:
            raise HarnessError(f"DROP ALL failed: {response.brief()}")
        self.state = ()

    def _ntriples(self, file_iri: str, prefix: str) -> bytes:
        """A suite file as N-Triples with absolute IRIs, its blank nodes renamed apart by ``prefix``."""
        key = file_iri + "|" + prefix
        if key not in self._parsed:
            path = to_path(file_iri, self.w3c)
            if path is None:
                raise HarnessError(f"not a file of the suite: {file_iri}")
            media = results.EXTENSION_MEDIA_TYPES.get(path.suffix.lower(), "text/turtle")
            triples = results.parse_graph(path.read_bytes(), media, file_iri)
            lines = []
            for triple in triples:
                lines.append(" ".join(_nt(t, prefix) for t in triple) + " .\n")
            self._parsed[key] = "".join(lines).encode("utf-8")
        return self._parsed[key]

    def load(self, default: list[str], named: list[tuple[str, str]]) -> None:
        """Make the store hold exactly these files (skipped when it already does)."""
        key = (tuple(default), tuple(sorted(named)))
        if self.state == key:
            return
        if self.state != ():
            self.clear()
        if default:
            body = b"".join(self._ntriples(f, f"d{i}x") for i, f in enumerate(default))
            self._put(self.target.store_path + "?default", body)
        for i, (name, file_iri) in enumerate(named):
            self._put(f"{self.target.store_path}?graph={_quote(name)}", self._ntriples(file_iri, f"g{i}x"))
        self.state = key

    def _put(self, path: str, body: bytes) -> None:
        response = self.target.request("PUT", path, body, {"Content-Type": "application/n-triples"})
        if not 200 <= response.status < 300:
            raise HarnessError(f"loading data with PUT {path} failed: {response.brief()}")

    def dump(self) -> set[compare.Quad]:
        """Every quad in the store (default graph: graph ``None``), read with one query."""
        response = self.target.query(DUMP_QUERY, JSON)
        if response.status != 200:
            raise HarnessError(f"reading the store failed: {response.brief()}")
        answer = results.parse_answer(response.body, response.content_type)
        return {(row["s"], row["p"], row["o"], row.get("g")) for row in answer.rows}

    # -- dispatch -----------------------------------------------------------------------------

    def run(self, test: TestCase) -> Outcome:
        """Run one test; harness trouble (the data would not load...) is a failure with its reason."""
        handler = {
            "query-eval": self.query_eval,
            "syntax+": self.syntax,
            "syntax-": self.syntax,
            "update-eval": self.update_eval,
            "protocol": self.exchange,
            "graph-store": self.exchange,
            "service-description": self.service_description,
        }[test.kind]
        try:
            return handler(test)
        except (HarnessError, results.ParseError) as exc:
            self.state = None
            return failed(str(exc))
        except OSError as exc:
            self.state = None
            return failed(f"connection trouble: {exc}")

    # -- query evaluation ---------------------------------------------------------------------

    def _read_action(self, test: TestCase) -> tuple[str, str]:
        assert test.action is not None
        path = to_path(test.action, self.w3c)
        if path is None:
            raise HarnessError(f"missing test file {test.action}")
        return path.read_text(encoding="utf-8"), test.action

    def query_eval(self, test: TestCase) -> Outcome:
        query, query_iri = self._read_action(test)
        if test.service_data or uses_keyword(query, "SERVICE"):
            return skipped("federation (SERVICE)")
        for file_iri in [*test.data, *(f for _, f in test.graph_data)]:
            if to_path(file_iri, self.w3c) is None:
                return skipped(f"data is a remote document: {file_iri}")
        named = list(test.graph_data)
        for _named, iri in dataset_clauses(query, query_iri):
            if iri is None:
                return skipped("FROM with a prefixed name (cannot tell which document)")
            if to_path(iri, self.w3c) is None:
                return skipped(f"FROM of a remote document: {iri}")
            if (iri, iri) not in named:
                named.append((iri, iri))
        if test.result is None or to_path(test.result, self.w3c) is None:
            return skipped("no expected result file")
        expected = results.parse_expected(to_path(test.result, self.w3c), test.result)  # type: ignore[arg-type]
        self.load(test.data, named)
        accept = {"xml": results.RESULT_MEDIA_TYPES["xml"], "json": JSON, "tsv": results.RESULT_MEDIA_TYPES["tsv"],
                  "csv": results.RESULT_MEDIA_TYPES["csv"], "rdf": JSON}[expected.format]
        if expected.kind == "graph":
            accept = RDF_ACCEPT
        response = self.target.query(f"BASE <{query_iri}>\n{query}", accept)
        if response.status != 200:
            return failed(f"query answered {response.brief()}")
        actual = results.parse_answer(response.body, response.content_type, test.result)
        reason = judge(expected, actual, query, test.lax)
        return passed() if reason is None else failed(reason)

    def syntax(self, test: TestCase) -> Outcome:
        text, iri = self._read_action(test)
        is_update = iri.endswith(".ru")
        positive = test.kind == "syntax+"
        if is_update and positive and fetches(text):
            return skipped("LOAD would fetch a remote document")
        if self.state != ():
            self.clear()
        if is_update:
            response = self.target.update(f"BASE <{iri}>\n{text}")
            self.state = None
        else:
            response = self.target.query(f"BASE <{iri}>\n{text}", f"{JSON}, {RDF_ACCEPT}")
        if positive:
            # Executed, not just parsed: a failure to *evaluate* (5xx, or 409 Conflict — e.g. DROP of a
            # graph that does not exist) still means the syntax was accepted; other 4xx mean it was refused.
            if 200 <= response.status < 300 or response.status >= 500 or response.status == 409:
                return passed()
            return failed(f"valid syntax refused: {response.brief()}")
        if 400 <= response.status < 500:
            return passed()
        if 200 <= response.status < 300:
            return failed("invalid syntax accepted")
        return failed(f"invalid syntax answered {response.brief()} (expected 400)")

    # -- update evaluation --------------------------------------------------------------------

    def update_eval(self, test: TestCase) -> Outcome:
        text, iri = self._read_action(test)
        if fetches(text):
            return skipped("LOAD would fetch a remote document")
        for file_iri in [*test.data, *(f for _, f in test.graph_data), *test.result_data,
                         *(f for _, f in test.result_graph_data)]:
            if to_path(file_iri, self.w3c) is None:
                return skipped(f"data is a remote document: {file_iri}")
        self.load(test.data, test.graph_data)
        self.state = None
        response = self.target.update(f"BASE <{iri}>\n{text}")
        if not 200 <= response.status < 300:
            return failed(f"update answered {response.brief()}")
        expected: set[compare.Quad] = set()
        for i, file_iri in enumerate(test.result_data):
            expected |= {(*t, None) for t in self._triples(file_iri, f"d{i}x")}  # type: ignore[misc]
        for i, (name, file_iri) in enumerate(test.result_graph_data):
            expected |= {(*t, terms.iri(name)) for t in self._triples(file_iri, f"g{i}x")}  # type: ignore[misc]
        reason = compare.compare_datasets(expected, self.dump())
        return passed() if reason is None else failed(f"store after update: {reason}")

    def _triples(self, file_iri: str, prefix: str) -> set[tuple[terms.Term, terms.Term, terms.Term]]:
        return results.parse_graph(self._ntriples(file_iri, prefix), "application/n-triples")

    # -- HTTP exchanges (protocol, graph store) -----------------------------------------------

    def exchange(self, test: TestCase) -> Outcome:
        """Replay the test's HTTP requests in order and check each response."""
        graph, node = test.graph, test.node
        named = []
        for data in graph.objects(node, URIRef("http://www.w3.org/2009/sparql/tests/test-update#graphData")):
            file_iri = str(graph.value(data, URIRef("http://www.w3.org/2009/sparql/tests/test-update#graph")))
            label = graph.value(data, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
            named.append((str(label), file_iri))
        self.clear()
        if named:
            self.load([], named)
        self.state = None
        action = graph.value(node, MF.action)
        requests = list(Collection(graph, graph.value(action, HT.requests)))
        variables: dict[str, str] = {}
        local = str(node).rsplit("#", 1)[-1]
        for index, request in enumerate(requests, start=1):
            reason = self._one_exchange(test, graph, request, variables, local, index, len(requests))
            if reason:
                return failed(f"request {index}/{len(requests)}: {reason}")
        return passed()

    def _one_exchange(self, test: TestCase, graph: Any, request: Any, variables: dict[str, str], local: str,
                      index: int, count: int) -> str | None:
        method = str(graph.value(request, HT.methodName))
        path = str(graph.value(request, HT.absolutePath))
        headers = _headers(graph, graph.value(request, HT.headers))
        body_node = graph.value(request, HT.body)
        body: bytes | None = None
        if body_node is not None:
            text = str(graph.value(body_node, CNT.chars))
            encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
            for name, value in variables.items():
                text = text.replace(name, value)
            body = text.encode(encoding.lower())
        for name, value in variables.items():
            path = path.replace(name, value)
        path = self._map_path(test, path, headers, body, local, index, count)
        response = self.target.request(method, path, body, headers)
        expected = graph.value(request, HT.resp)
        return self._check_response(graph, expected, response, variables, path)

    def _map_path(self, test: TestCase, path: str, headers: dict[str, str], body: bytes | None, local: str,
                  index: int, count: int) -> str:
        if test.kind == "graph-store":
            if not path.startswith("/gsp"):
                raise HarnessError(f"unexpected graph store path {path}")
            return self.target.store_path + path[len("/gsp"):]
        if not path.startswith("/sparql/"):
            raise HarnessError(f"unexpected protocol path {path}")
        rest = path[len("/sparql/"):]
        endpoint = self.target.update_path if _is_update(rest, headers, body, local, index, count) \
            else self.target.query_path
        return endpoint + rest

    def _check_response(self, graph: Any, expected: Any, response: Response, variables: dict[str, str],
                        path: str) -> str | None:
        statuses = [str(s).rsplit("#", 1)[-1] for s in graph.objects(expected, MF.expectedStatus)]
        if statuses and not any(response.status in STATUS_NAMES[s] for s in statuses):
            return f"expected status {' or '.join(statuses)}, got {response.brief()}"
        location = graph.value(expected, MF.expectedLocation)
        if location is not None:
            value = response.headers.get("location")
            if not value:
                return "expected a Location header"
            variables[str(location)] = urljoin(self.target.url + path, value)
        fmt = graph.value(expected, MF.expectedFormat)
        boolean = graph.value(expected, MF.expectedBoolean)
        if fmt is not None or boolean is not None:
            reason = _check_format(str(fmt) if fmt is not None else "boolean", response,
                                   boolean.toPython() if isinstance(boolean, Literal) else None)
            if reason:
                return reason
        for name, value in _headers(graph, graph.value(expected, HT.headers)).items():
            actual = response.headers.get(name.lower())
            if name.lower() == "content-type":
                reason = _check_content_type(value, actual)
                if reason:
                    return reason
            elif actual != value:
                return f"expected header {name}: {value}, got {actual!r}"
        body_node = graph.value(expected, HT.body)
        if body_node is not None:
            wanted_type = _headers(graph, graph.value(expected, HT.headers)).get("content-type", "text/turtle")
            base = self.target.url + path
            wanted = results.parse_graph(str(graph.value(body_node, CNT.chars)).encode("utf-8"),
                                         results.media_type(wanted_type), base)
            try:
                got = results.parse_graph(response.body, results.media_type(response.content_type), base)
            except results.ParseError as exc:
                return f"response body: {exc}"
            reason = compare.compare_graphs(wanted, got)
            if reason:
                return f"response body: {reason}"
        return None

    # -- service description ------------------------------------------------------------------

    def service_description(self, test: TestCase) -> Outcome:
        local = str(test.node).rsplit("#", 1)[-1]
        endpoint = self.target.url + self.target.query_path
        response = self.target.request("GET", self.target.query_path, None, {
            "Accept": "text/turtle, application/rdf+xml;q=0.9, application/n-triples;q=0.8, "
                      "application/ld+json;q=0.7"}, authorize=False)
        if response.status != 200:
            return failed(f"GET {self.target.query_path} without a query answered {response.brief()}")
        media = results.media_type(response.content_type)
        try:
            triples = results.parse_graph(response.body, media, endpoint)
        except results.ParseError as exc:
            return failed(f"service description is not RDF: {exc}")
        if local == "returns-rdf":
            return passed() if triples else failed("the service description is an empty graph")
        if local == "has-endpoint-triple":
            found = [s for s, p, o in triples if p == terms.iri(SD + "endpoint") and o == terms.iri(endpoint)]
            return passed() if found else failed(f"no triple '?service sd:endpoint <{endpoint}>'")
        if local == "conforms-to-schema":
            problems = check_service_description(triples)
            return passed() if not problems else failed("; ".join(problems[:3]))
        return skipped(f"unknown service description test {local}")


class HarnessError(Exception):
    """The runner could not set a test up (data would not load, a file is missing...)."""


def judge(expected: results.Results, actual: results.Results, query: str, lax: bool) -> str | None:
    """Compare an expected answer with the server's; ``None`` when they match."""
    if expected.kind != actual.kind:
        return f"expected a {expected.kind} answer, got a {actual.kind} answer ({actual.format})"
    if expected.kind == "boolean":
        return None if expected.boolean == actual.boolean else f"expected {expected.boolean}, got {actual.boolean}"
    if expected.kind == "graph":
        return compare.compare_graphs(expected.triples, actual.triples)
    has_order, keys = order_keys_for(query)
    order, key_names = "none", []
    if has_order:
        if keys is not None and all(name in expected.variables for name, _ in keys):
            order, key_names = "keys", [name for name, _ in keys]
        else:
            order = "list"
    elif expected.indexed:
        order = "list"
    return compare.compare_solutions(expected.variables, expected.rows, actual.variables, actual.rows,
                                     order=order, keys=key_names, lax=lax)


def order_keys_for(query: str) -> tuple[bool, list[tuple[str, bool]] | None]:
    """:func:`compare.order_keys`, kept as a seam for the unit tests."""
    return compare.order_keys(query)


def _nt(term: terms.Term, prefix: str) -> str:
    kind = term[0]
    if kind == "I":
        return str(ox.NamedNode(term[1]))
    if kind == "B":
        return f"_:{prefix}{term[1]}"
    if kind == "L":
        _, lexical, datatype, language = term
        if language:
            return str(ox.Literal(lexical, language=language))
        return str(ox.Literal(lexical, datatype=ox.NamedNode(datatype)))
    raise HarnessError(f"cannot load the term {term!r}")


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _headers(graph: Any, node: Any) -> dict[str, str]:
    if node is None:
        return {}
    out = {}
    for header in Collection(graph, node):
        out[str(graph.value(header, HT.fieldName))] = str(graph.value(header, HT.fieldValue))
    return out


def _is_update(rest: str, headers: dict[str, str], body: bytes | None, local: str, index: int, count: int) -> bool:
    """Which endpoint a protocol request is for (matters for servers with separate ones)."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "").lower()
    query_string = urlsplit(rest).query
    text = (body or b"")[:64].decode("utf-8", "replace")
    if content_type.startswith("application/sparql-update"):
        return True
    if content_type.startswith("application/sparql-query"):
        return False
    if re.search(r"(^|&)(update|using-graph-uri|using-named-graph-uri)=", query_string) or text.startswith("update="):
        return True
    if re.search(r"(^|&)query=", query_string) or text.startswith("query="):
        return False
    return "update" in local and index == 1 and count >= 1


def _check_content_type(wanted: str, actual: str | None) -> str | None:
    if actual is None:
        return f"expected Content-Type {wanted}, got none"
    if results.media_type(wanted) != results.media_type(actual):
        return f"expected Content-Type {wanted}, got {actual}"
    got_charset = results.charset(actual)
    wanted_charset = (results.charset(wanted) or "utf-8").replace("-", "")
    if got_charset is not None and got_charset.replace("-", "") != wanted_charset:
        return f"expected Content-Type {wanted}, got {actual}"
    return None


def _check_format(fmt: str, response: Response, boolean: bool | None) -> str | None:
    media = results.media_type(response.content_type)
    allowed = {
        "boolean": {results.RESULT_MEDIA_TYPES["xml"], JSON},
        "tabular": set(results.RESULT_MEDIA_TYPES.values()),
        "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "application/ld+json"},
    }[fmt]
    if media not in allowed:
        return f"expected a {fmt} answer, got Content-Type {response.content_type!r}"
    try:
        answer = results.parse_answer(response.body, response.content_type)
    except results.ParseError as exc:
        return f"answer does not parse as {media}: {exc}"
    if fmt == "boolean" and answer.kind != "boolean":
        return f"expected a boolean answer, got {answer.kind}"
    if boolean is not None and answer.boolean != boolean:
        return f"expected {boolean}, got {answer.boolean}"
    return None


# -- service description schema ----------------------------------------------------------------------

SD_CLASSES = {"Service", "Feature", "Language", "Function", "Aggregate", "EntailmentRegime", "EntailmentProfile",
              "GraphCollection", "Dataset", "Graph", "NamedGraph"}
#: Properties of the vocabulary and what their object must be: "iri", "node" (IRI or blank node).
SD_PROPERTIES = {
    "endpoint": "iri", "feature": "iri", "defaultEntailmentRegime": "iri", "entailmentRegime": "iri",
    "defaultSupportedEntailmentProfile": "iri", "supportedEntailmentProfile": "iri",
    "extensionFunction": "node", "extensionAggregate": "node", "languageExtension": "iri",
    "supportedLanguage": "iri", "propertyFeature": "iri", "defaultDataset": "node", "availableGraphs": "node",
    "resultFormat": "iri", "inputFormat": "iri", "defaultGraph": "node", "namedGraph": "node", "name": "iri",
    "graph": "node",
}
SD_INSTANCES = {"SPARQL10Query", "SPARQL11Query", "SPARQL11Update", "DereferencesURIs", "UnionDefaultGraph",
                "RequiresDataset", "EmptyGraphs", "BasicFederatedQuery"}
SD_LANGUAGES = {"SPARQL10Query", "SPARQL11Query", "SPARQL11Update"}


def check_service_description(triples: set[tuple[terms.Term, terms.Term, terms.Term]]) -> list[str]:
    """Problems of a service description against the SD vocabulary (empty list: it conforms).

    Checks that every ``sd:`` term used exists, that object-valued properties have IRI or
    node objects, that ``sd:supportedLanguage`` names a SPARQL language, that each
    ``sd:NamedGraph`` has an ``sd:name``, and that some ``sd:Service`` has an endpoint and
    a supported language.
    """
    problems: list[str] = []
    rdf_type = terms.iri(str(RDF.type))
    for _s, p, o in triples:
        for term in (p, o) if p != rdf_type else (o,):
            if term[0] == "I" and term[1].startswith(SD):
                local = term[1][len(SD):]
                if local not in SD_CLASSES | set(SD_PROPERTIES) | SD_INSTANCES:
                    problems.append(f"sd:{local} is not in the service description vocabulary")
        if p[0] == "I" and p[1].startswith(SD):
            local = p[1][len(SD):]
            kind = SD_PROPERTIES.get(local)
            if kind == "iri" and o[0] != "I":
                problems.append(f"sd:{local} must have an IRI as its value, got {terms.show(o)}")
            if kind == "node" and o[0] not in ("I", "B"):
                problems.append(f"sd:{local} must have a resource as its value, got {terms.show(o)}")
            if local == "supportedLanguage" and o[0] == "I" and o[1][len(SD):] not in SD_LANGUAGES:
                problems.append(f"sd:supportedLanguage {terms.show(o)} is not a SPARQL language")
    services = {s for s, p, o in triples if p == rdf_type and o == terms.iri(SD + "Service")}
    if not services:
        problems.append("no resource of type sd:Service")
    for service in services:
        props = {p for s, p, o in triples if s == service}
        if terms.iri(SD + "endpoint") not in props:
            problems.append(f"the sd:Service {terms.show(service)} has no sd:endpoint")
        if terms.iri(SD + "supportedLanguage") not in props:
            problems.append(f"the sd:Service {terms.show(service)} has no sd:supportedLanguage")
    named_graphs = {o for s, p, o in triples if p == terms.iri(SD + "namedGraph")} | {
        s for s, p, o in triples if p == rdf_type and o == terms.iri(SD + "NamedGraph")}
    for named in named_graphs:
        if not any(s == named and p == terms.iri(SD + "name") for s, p, o in triples):
            problems.append(f"the sd:NamedGraph {terms.show(named)} has no sd:name")
    return problems
