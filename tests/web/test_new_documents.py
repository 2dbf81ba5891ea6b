"""New facts join the knowledge: a new source document is registered, an event and a claim from it are
ingested with their evidence, and every canned query that asks "which document says so" finds them — as a
user would do it, against the real service over a real socket, with ``/ingest`` and ``dprk-kg load``.

What a user relies on:

* a batch sent with a registered document as its source counts as that document's statement in every
  per-document answer (canned queries, ``GET /stats``, ``dprk-kg stats --endpoint``, VoID), while it keeps
  its own graph and provenance record (who sent it, when);
* a batch without a source document stays out of every per-document answer (it is still in the union);
* a source naming an unknown document, a registration the shapes refuse, or a batch at odds with its source
  is a clear 4xx (exit 2 for ``dprk-kg load``) naming the problem, and nothing is written.

The document and its facts are test material (``djr:doc-901``, a short made-up report whose text is below);
the evidence annotations point at that text with the offsets Web Annotation defines.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from service.cli.main import main as cli
from service.rdf.vocabulary import BATCH_GRAPH_NS, ENTAILED_GRAPH, PROVENANCE_GRAPH, RESOURCE_NS
from tests.conftest import LiveServer, start_live_server

TOKEN = "new-documents-token"
DOC = RESOURCE_NS + "doc-901"
EVENT = RESOURCE_NS + "ev-901-stockholm-talks"
CLAIM = RESOURCE_NS + "claim-901-reinvestigation"
COMMITMENT = RESOURCE_NS + "commitment-901-reinvestigation"

#: The made-up report the evidence quotes (a user's document would be their article's text).
TEXT = ("Japanese and North Korean envoys met in Stockholm on 26-28 May. They discussed the abduction issue. "
        "On 29 May North Korea said it would carry out a full reinvestigation.")

PREFIXES = """@prefix dj:  <https://w3id.org/dprk-japan-kg/ontology#> .
@prefix djr: <https://w3id.org/dprk-japan-kg/id/> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix oa:  <http://www.w3.org/ns/oa#> .
"""

REGISTRATION = PREFIXES + """
djr:doc-901 a dj:SourceDocument ;
    rdfs:label "Envoys meet in Stockholm (test report)"@en ;
    dct:title "Envoys meet in Stockholm (test report)"@en ;
    dct:issued "2014-05-30"^^xsd:date ;
    dct:publisher djr:stratfor ;
    dct:language "en" ;
    dj:seedFile "901_test-report.txt" .
"""


def passage(exact: str, bodies: str, states: str = "", *, batch: str = "") -> str:
    """One evidence annotation (Web Annotation: quote and position selectors) for a quote of :data:`TEXT`
    (``batch``: a suffix that keeps the annotation's IRI apart from another batch's)."""
    start = TEXT.index(exact)
    end = start + len(exact)
    prefix, suffix = TEXT[max(0, start - 20):start], TEXT[end:end + 20]
    states_line = f"    dj:statesProperty {states} ;\n" if states else ""
    return f"""
djr:doc-901-passage-{start}-{end}{batch} a oa:Annotation ;
    rdfs:label "doc-901, characters {start}–{end}"@en ;
    oa:motivatedBy dj:evidencing ;
    oa:hasBody {bodies} ;
{states_line}    oa:hasTarget [ a oa:SpecificResource ; oa:hasSource djr:doc-901 ;
        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact {json.dumps(exact)} ;
                         oa:prefix {json.dumps(prefix)} ; oa:suffix {json.dumps(suffix)} ] ,
                       [ a oa:TextPositionSelector ; oa:start {start} ; oa:end {end} ] ] ;
    dct:source djr:doc-901 .
"""


FACTS = PREFIXES + """
djr:ev-901-stockholm-talks a dj:IntergovernmentalTalks ;
    rdfs:label "Stockholm talks (test report)"@en ;
    dj:startDate "2014-05-26"^^xsd:date ;
    dj:endDate "2014-05-28"^^xsd:date ;
    dj:level djr:level-bureau-chief ;
    dj:participant djr:japan , djr:north-korea ;
    dj:discussedIssue djr:abduction-issue ;
    dct:source djr:doc-901 .

djr:claim-901-reinvestigation a dj:Claim ;
    rdfs:label "North Korea to reinvestigate the abductions (test report)"@en ;
    dj:about djr:abduction-issue ;
    dj:claimant djr:north-korea ;
    dj:valueText "a full reinvestigation"@en ;
    dj:claimDate "2014-05-29"^^xsd:date ;
    dct:source djr:doc-901 .

djr:commitment-901-reinvestigation a dj:Commitment ;
    rdfs:label "North Korea's commitment to reinvestigate (test report)"@en ;
    dj:commitmentOf djr:ev-901-stockholm-talks ;
    dj:committedParty djr:north-korea ;
    dj:obligation "carry out a full reinvestigation"@en ;
    dj:commitmentStatus dj:StatusAgreed ;
    dct:source djr:doc-901 .
""" + passage("Japanese and North Korean envoys met in Stockholm on 26-28 May.", "djr:ev-901-stockholm-talks",
              "dj:startDate , dj:endDate , dj:participant") \
    + passage("They discussed the abduction issue.", "djr:ev-901-stockholm-talks", "dj:discussedIssue") \
    + passage("On 29 May North Korea said it would carry out a full reinvestigation.",
              "djr:claim-901-reinvestigation , djr:commitment-901-reinvestigation")

#: An event stated with dct:source djr:doc-901 but sent without a source document.
UNSOURCED = PREFIXES + """
djr:ev-902-unsourced-visit a dj:IntergovernmentalTalks ;
    rdfs:label "Unsourced talks (test batch)"@en ;
    dj:startDate "2014-05-27"^^xsd:date ;
    dj:level djr:level-bureau-chief ;
    dj:participant djr:japan , djr:north-korea ;
    dct:source djr:doc-901 .
""" + passage("Japanese and North Korean envoys met in Stockholm on 26-28 May.", "djr:ev-902-unsourced-visit",
              batch="-unsourced")


# -- talking to the live service ----------------------------------------------------------------


def request(server: LiveServer, path: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
            method: str | None = None) -> tuple[int, Any]:
    """One HTTP request; the status and the JSON body (or the text when it is not JSON)."""
    req = urllib.request.Request(server.url + path, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=300) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode("utf-8", "replace")


def ingest(server: LiveServer, turtle: str, source: str | None = None) -> tuple[int, Any]:
    query = "?" + urlencode({"source": source}) if source else ""
    return request(server, "/ingest" + query, data=turtle.encode(), method="POST",
                   headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}",
                            "Accept": "application/json"})


def canned(server: LiveServer, name: str, **params: str) -> list[dict[str, str]]:
    """A canned SELECT's rows as {column: value}."""
    status, body = request(server, f"/queries/{name}.json?" + urlencode(params), headers={"Accept": "application/json"})
    assert status == 200, body
    return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]


def select(server: LiveServer, sparql: str) -> list[dict[str, str]]:
    status, body = request(server, "/sparql?" + urlencode({"query": sparql}),
                           headers={"Accept": "application/sparql-results+json"})
    assert status == 200, body
    return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]


def figures(server: LiveServer) -> dict[str, Any]:
    status, body = request(server, "/stats", headers={"Accept": "application/json"})
    assert status == 200, body
    return body


def document_figures(server: LiveServer, document: str = "djr:doc-901") -> dict[str, Any] | None:
    return next((d for d in figures(server)["documents"] if d["document"] == document), None)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[LiveServer]:
    """A service of its own (it is written to), with a write token."""
    live = start_live_server(tmp_path_factory.mktemp("new-documents") / "store", "--write-token", TOKEN)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def ingested(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document registered over HTTP (``POST /ingest?source=djr:doc-901``), then its facts loaded with
    ``dprk-kg load --endpoint … --source djr:doc-901`` — the two paths a user has."""
    before = figures(server)
    status, registered = ingest(server, REGISTRATION, source="djr:doc-901")
    assert status == 201, registered
    facts = tmp_path_factory.mktemp("batches") / "doc-901-facts.ttl"
    facts.write_text(FACTS, encoding="utf-8")
    result = CliRunner().invoke(cli, ["load", "--endpoint", server.url, "--token", TOKEN,
                                      "--source", "djr:doc-901", str(facts)])
    assert result.exit_code == 0, result.output
    batch = result.output.split("batch ")[-1].split()[0]
    return {"before": before, "registered": registered, "facts_batch": batch, "facts_file": facts}


# -- registration and provenance ----------------------------------------------------------------


def test_the_registration_counts_for_its_own_document(ingested: dict[str, Any]) -> None:
    body = ingested["registered"]
    assert body["document"] == DOC and body["graph"] == BATCH_GRAPH_NS + body["batch"]


def test_each_batch_keeps_its_graph_and_provenance_and_is_linked_to_the_document(
        server: LiveServer, ingested: dict[str, Any]) -> None:
    rows = select(server, f"""PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>
        SELECT ?batch ?who ?when WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
            ?batch dj:statementsOf <{DOC}> ; prov:hadPrimarySource <{DOC}> ;
                   prov:wasAttributedTo ?who ; prov:generatedAtTime ?when }} }} ORDER BY ?when ?batch""")
    batches = {row["batch"] for row in rows}
    assert batches == {BATCH_GRAPH_NS + ingested["registered"]["batch"], BATCH_GRAPH_NS + ingested["facts_batch"]}
    assert all(row["who"] and row["when"] for row in rows)
    in_batch = select(server, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{EVENT}> a ?type }} "
                              f"FILTER(?g != <{ENTAILED_GRAPH}>) }}")
    assert [row["g"] for row in in_batch] == [BATCH_GRAPH_NS + ingested["facts_batch"]], \
        "the facts stay in their batch graph: no copy into a document graph"


# -- every canned query the event and the claim fit ----------------------------------------------


def test_contacts_timeline_lists_the_event_with_its_document(server: LiveServer, ingested: dict[str, Any]) -> None:
    [row] = [r for r in canned(server, "contacts-timeline", year_from="2014", year_to="2014",
                               participant="djr:japan") if r["event"] == EVENT]
    assert row["type"].endswith("#IntergovernmentalTalks") and row["start"] == "2014-05-26"
    assert row["end"] == "2014-05-28" and row["documents"] == "1"


def test_find_entity_gives_the_type_and_one_document(server: LiveServer, ingested: dict[str, Any]) -> None:
    [row] = canned(server, "find-entity", text="Stockholm talks (test")
    assert row["entity"] == EVENT and row["type"].endswith("#IntergovernmentalTalks") and row["documents"] == "1"


def test_about_entity_says_what_the_new_document_says(server: LiveServer, ingested: dict[str, Any]) -> None:
    rows = canned(server, "about-entity", entity=EVENT)
    assert {r["document"] for r in rows} == {DOC}
    out = {(r["property"].rsplit("#", 1)[-1], r["value"]) for r in rows if r["direction"] == "out"}
    assert {("startDate", "2014-05-26"), ("participant", RESOURCE_NS + "japan"),
            ("discussedIssue", RESOURCE_NS + "abduction-issue")} <= out
    evidence = [r for r in rows if r["direction"] == "in" and r["property"].endswith("#hasBody")]
    assert len(evidence) == 2, "both passages evidencing the event are listed as the document's"
    # And from the other side: what doc-901 says about Japan.
    about_japan = canned(server, "about-entity", entity="djr:japan", document="djr:doc-901")
    assert {(r["direction"], r["value"]) for r in about_japan} == {("in", EVENT)}


def test_documents_lists_the_new_document_with_its_metadata_and_counts(
        server: LiveServer, ingested: dict[str, Any]) -> None:
    [row] = [r for r in canned(server, "documents") if r["document"] == DOC]
    assert row["title"] == "Envoys meet in Stockholm (test report)" and row["issued"] == "2014-05-30"
    assert row["publisher"] == RESOURCE_NS + "stratfor" and row["language"] == "en"
    assert int(row["statements"]) == ingested["registered"]["added"] + count_triples(FACTS)
    assert DOC in {r["document"] for r in canned(server, "documents", issued_from="2014-05-30")}
    assert DOC not in {r["document"] for r in canned(server, "documents", issued_from="2014-05-31")}


def test_entity_mentions_names_the_new_document(server: LiveServer, ingested: dict[str, Any]) -> None:
    [row] = canned(server, "entity-mentions", entity=EVENT)
    assert row["document"] == DOC and row["title"] == "Envoys meet in Stockholm (test report)"
    assert row["name"] == "Stockholm talks (test report)" and int(row["statements"]) >= 9


def test_round_details_gives_each_fact_with_the_new_document(server: LiveServer, ingested: dict[str, Any]) -> None:
    rows = canned(server, "round-details", round=EVENT)
    assert {r["document"] for r in rows} == {DOC}
    assert {(r["aspect"], r["value"]) for r in rows} >= {
        ("start", "2014-05-26"), ("end", "2014-05-28"), ("level", RESOURCE_NS + "level-bureau-chief"),
        ("issue", RESOURCE_NS + "abduction-issue")}


def test_round_in_full_has_the_type_and_the_document_title(server: LiveServer, ingested: dict[str, Any]) -> None:
    status, body = request(server, "/queries/round-in-full.nt?" + urlencode({"round": "djr:ev-901-stockholm-talks"}),
                           headers={"Accept": "application/n-triples"})
    assert status == 200
    triples = {(str(t.subject), str(t.predicate), str(t.object))
               for t in ox.parse(body.encode(), format=ox.RdfFormat.N_TRIPLES)}
    assert (f"<{EVENT}>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
            "<https://w3id.org/dprk-japan-kg/ontology#IntergovernmentalTalks>") in triples
    assert (f"<{DOC}>", "<http://purl.org/dc/terms/title>", '"Envoys meet in Stockholm (test report)"@en') in triples


def test_issues_by_round_counts_the_new_document(server: LiveServer, ingested: dict[str, Any]) -> None:
    [row] = canned(server, "issues-by-round", round=EVENT)
    assert row["issue"] == RESOURCE_NS + "abduction-issue" and row["documents"] == "1"


def test_claims_lists_the_claim_under_the_new_document(server: LiveServer, ingested: dict[str, Any]) -> None:
    [row] = canned(server, "claims", document="djr:doc-901")
    assert row["claim"] == CLAIM and row["claimant"] == RESOURCE_NS + "north-korea"
    assert row["claim_date"] == "2014-05-29" and row["document"] == DOC


def test_commitments_lists_the_commitment_under_the_new_document(
        server: LiveServer, ingested: dict[str, Any]) -> None:
    [row] = canned(server, "commitments", document="djr:doc-901")
    assert (row["commitment"], row["event"], row["party"]) == (COMMITMENT, EVENT, RESOURCE_NS + "north-korea")
    assert row["status"].endswith("#StatusAgreed") and row["document"] == DOC


def test_evidence_for_gives_the_passage_stating_the_start_date(server: LiveServer, ingested: dict[str, Any]) -> None:
    rows = canned(server, "evidence-for", subject="djr:ev-901-stockholm-talks", predicate="dj:startDate")
    assert [(r["document"], r["quote"]) for r in rows] == [
        (DOC, "Japanese and North Korean envoys met in Stockholm on 26-28 May.")]
    assert TEXT[int(rows[0]["start"]):int(rows[0]["end"])] == rows[0]["quote"]


def test_which_passage_of_which_document_states_the_start_date(server: LiveServer, ingested: dict[str, Any]) -> None:
    rows = select(server, f"""PREFIX oa: <http://www.w3.org/ns/oa#>
        PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>
        SELECT ?doc ?exact ?start ?end WHERE {{
          GRAPH ?g {{ ?a a oa:Annotation ; oa:hasBody <{EVENT}> ; dj:statesProperty dj:startDate ;
                       oa:hasTarget ?t . ?t oa:hasSource ?doc ; oa:hasSelector ?q , ?p .
                      ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end }}
          GRAPH <{PROVENANCE_GRAPH}> {{ ?g dj:statementsOf ?doc }} }}""")
    [row] = rows
    assert row["doc"] == DOC
    assert TEXT[int(row["start"]):int(row["end"])] == row["exact"] == \
        "Japanese and North Korean envoys met in Stockholm on 26-28 May."


# -- counts -------------------------------------------------------------------------------------


def count_triples(turtle: str) -> int:
    return len(list(ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE)))


def test_stats_count_the_new_document(server: LiveServer, ingested: dict[str, Any]) -> None:
    row = document_figures(server)
    assert row is not None and row["triples"] == count_triples(REGISTRATION) + count_triples(FACTS)
    assert [d for d in ingested["before"]["documents"]] == [d for d in figures(server)["documents"]
                                                            if d["document"] != "djr:doc-901"], \
        "the bundled documents' figures are unchanged"
    [coverage] = [c for c in figures(server).get("evidence", []) if c["document"] == "djr:doc-901"]
    assert (coverage["evidenced"], coverage["factBearing"]) == (3, 3), \
        "the event, the claim and the commitment are evidenced; the skolemized targets and selectors are not " \
        "resources of their own"
    result = CliRunner().invoke(cli, ["stats", "--endpoint", server.url])
    assert result.exit_code == 0, result.output
    assert f"{row['triples']:>9} {row['resources']:>9}  djr:doc-901" in result.output


def test_void_lists_the_new_document_as_a_source(server: LiveServer, ingested: dict[str, Any]) -> None:
    status, body = request(server, "/.well-known/void", headers={"Accept": "application/n-triples"})
    assert status == 200
    assert f"<{RESOURCE_NS}dataset> <http://purl.org/dc/terms/source> <{DOC}> ." in body


# -- a batch without a source document ---------------------------------------------------------


def test_a_batch_without_a_source_document_stays_out_of_the_per_document_answers(
        server: LiveServer, ingested: dict[str, Any]) -> None:
    statements = int(next(r for r in canned(server, "documents") if r["document"] == DOC)["statements"])
    status, body = ingest(server, UNSOURCED)  # no source: it says dct:source djr:doc-901, but nobody vouches for it
    assert status == 201, body
    assert body["document"] is None
    assert "source=djr:doc-901" in body["hint"], "the answer says how to make it doc-901's statement"
    event = RESOURCE_NS + "ev-902-unsourced-visit"
    [found] = canned(server, "find-entity", text="Unsourced talks")
    assert found["entity"] == event and found["documents"] == "0" and "type" not in found, \
        "findable by name (it is in the union), but no document states it"
    assert canned(server, "about-entity", entity=event) == []
    assert event not in {r["event"] for r in canned(server, "contacts-timeline", year_from="2014", year_to="2014")}
    assert canned(server, "entity-mentions", entity=event) == []
    assert int(next(r for r in canned(server, "documents") if r["document"] == DOC)["statements"]) == statements


def test_dprk_kg_load_without_source_says_the_batch_counts_for_no_document(
        server: LiveServer, ingested: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "forgot-the-source.ttl"
    path.write_text(UNSOURCED.replace("ev-902-unsourced-visit", "ev-909-forgotten").replace("Unsourced", "Forgotten")
                    .replace("-unsourced a oa:Annotation", "-forgotten a oa:Annotation"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["load", "--endpoint", server.url, "--token", TOKEN, str(path)])
    assert result.exit_code == 0, result.output
    assert "note: The batch cites djr:doc-901 (dct:source) but was not sent with a source document" in result.output
    assert "source=djr:doc-901" in result.output


# -- bad input: a clear 4xx naming the problem, nothing written -----------------------------------


def assert_nothing_written(server: LiveServer, before: dict[str, Any]) -> None:
    after = figures(server)
    assert (after["quads"], after["graphs"]) == (before["quads"], before["graphs"]), "a refused batch wrote something"


def test_a_source_naming_an_unknown_document_is_400_and_writes_nothing(
        server: LiveServer, ingested: dict[str, Any]) -> None:
    before = figures(server)
    status, body = ingest(server, FACTS.replace("djr:doc-901", "djr:doc-999"), source="djr:doc-999")
    assert status == 400, body
    assert "djr:doc-999" in body["message"] and "not a registered source document" in body["message"]
    assert_nothing_written(server, before)


def test_dprk_kg_load_with_an_unknown_document_exits_2_naming_it(
        server: LiveServer, ingested: dict[str, Any], tmp_path: Path) -> None:
    before = figures(server)
    path = tmp_path / "facts.ttl"
    path.write_text(FACTS.replace("djr:doc-901", "djr:doc-998"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["load", "--endpoint", server.url, "--token", TOKEN, "--source", "djr:doc-998",
                                      str(path)])
    assert result.exit_code == 2, result.output
    assert "rejected" in result.output and "djr:doc-998 is not a registered source document" in result.output
    assert_nothing_written(server, before)


def test_a_registration_the_shapes_refuse_is_422_naming_the_property(
        server: LiveServer, ingested: dict[str, Any]) -> None:
    before = figures(server)
    bad = REGISTRATION.replace("901", "903").replace('"2014-05-30"^^xsd:date', '"30 May 2014"')
    status, body = ingest(server, bad, source="djr:doc-903")
    assert status == 422, body
    assert "nothing was written" in body["message"] and "dct:issued" in body["message"]
    assert_nothing_written(server, before)
    assert not [d for d in figures(server)["documents"] if d["document"] == "djr:doc-903"]


@pytest.mark.parametrize(("turtle", "source", "words"), [
    (REGISTRATION.replace("901", "904"), "djr:doc-003", "registers the source document djr:doc-904"),
    (REGISTRATION.replace("901", "905"), None, "names no source document"),
    (FACTS, "djr:doc-003", "gives dct:source djr:doc-901"),
    (PREFIXES + "<https://w3id.org/dprk-japan-kg/graph/batch/x> dj:statementsOf djr:doc-003 .", "djr:doc-003",
     "only the service writes"),
], ids=["registers-another-document", "registration-without-source", "dct-source-of-another-document",
        "states-the-link-itself"])
def test_a_batch_at_odds_with_its_source_is_400_and_writes_nothing(
        server: LiveServer, ingested: dict[str, Any], turtle: str, source: str | None, words: str) -> None:
    before = figures(server)
    status, body = ingest(server, turtle, source=source)
    assert status == 400, body
    assert words in body["message"]
    assert_nothing_written(server, before)


def test_a_url_source_is_kept_as_primary_source_without_counting_for_a_document(
        server: LiveServer, ingested: dict[str, Any]) -> None:
    url = "https://example.org/news/2014/05/30/stockholm"
    turtle = (UNSOURCED.replace("ev-902-unsourced-visit", "ev-906-url-sourced").replace("Unsourced", "URL-sourced")
              .replace("-unsourced a oa:Annotation", "-url-sourced a oa:Annotation"))
    status, body = ingest(server, turtle, source=url)
    assert status == 201 and body["document"] is None
    rows = select(server, f"""SELECT ?src WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
        <{body['graph']}> <http://www.w3.org/ns/prov#hadPrimarySource> ?src }} }}""")
    assert [r["src"] for r in rows] == [url]
    assert canned(server, "about-entity", entity=RESOURCE_NS + "ev-906-url-sourced") == []


# -- a document's own graph written whole: the Graph Store and SPARQL Update -------------------------


def own_graph(number: str) -> str:
    """A document's own graph: its metadata (typing the graph's name as the document) and one event."""
    return (REGISTRATION.replace("901", number) + f"""
djr:ev-{number}-talks a dj:IntergovernmentalTalks ;
    rdfs:label "Talks of document {number} (test)"@en ;
    dj:startDate "2014-07-01"^^xsd:date ;
    dj:level djr:level-bureau-chief ;
    dj:participant djr:japan , djr:north-korea ;
    dct:source djr:doc-{number} .
""")


def test_a_document_graph_put_with_the_graph_store_is_linked_to_its_document(
        server: LiveServer, ingested: dict[str, Any]) -> None:
    graph = RESOURCE_NS + "doc-907"
    status, body = request(server, "/store?" + urlencode({"graph": graph}), data=own_graph("907").encode(),
                           method="PUT", headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
    assert status in (200, 201, 204), body
    [row] = canned(server, "find-entity", text="Talks of document 907")
    assert row["documents"] == "1" and row["type"].endswith("#IntergovernmentalTalks")
    assert document_figures(server, "djr:doc-907") is not None


def test_a_document_graph_inserted_by_sparql_update_is_linked_to_its_document(
        server: LiveServer, ingested: dict[str, Any]) -> None:
    body = own_graph("908")
    prologue = "".join(f"PREFIX {line.split()[1]} {line.split()[2]}\n" for line in body.splitlines()
                       if line.startswith("@prefix"))
    triples = "\n".join(line for line in body.splitlines() if not line.startswith("@prefix"))
    update = prologue + f"INSERT DATA {{ GRAPH <{RESOURCE_NS}doc-908> {{ {triples} }} }}"
    status, answer = request(server, "/sparql", data=update.encode(), method="POST",
                             headers={"Content-Type": "application/sparql-update",
                                      "Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})
    assert status in (200, 204), answer
    [row] = [r for r in canned(server, "contacts-timeline", year_from="2014", year_to="2014")
             if r["event"] == RESOURCE_NS + "ev-908-talks"]
    assert row["documents"] == "1"


# -- the links cannot be forged -----------------------------------------------------------------


FORGED = f"<{BATCH_GRAPH_NS}forged> <https://w3id.org/dprk-japan-kg/ontology#statementsOf> <{DOC}> ."


@pytest.mark.parametrize(("method", "path", "body", "content_type"), [
    ("PUT", "/store?" + urlencode({"graph": PROVENANCE_GRAPH}), FORGED, "text/turtle"),
    ("POST", "/store?" + urlencode({"graph": PROVENANCE_GRAPH}), FORGED, "text/turtle"),
    ("DELETE", "/store?" + urlencode({"graph": PROVENANCE_GRAPH}), None, None),
    ("POST", "/sparql", f"INSERT DATA {{ GRAPH <{PROVENANCE_GRAPH}> {{ {FORGED} }} }}", "application/sparql-update"),
    ("POST", "/sparql", f"DROP GRAPH <{PROVENANCE_GRAPH}>", "application/sparql-update"),
], ids=["graph-store-put", "graph-store-post", "graph-store-delete", "update-insert", "update-drop"])
def test_the_provenance_graph_is_written_by_the_service_only(
        server: LiveServer, ingested: dict[str, Any], method: str, path: str, body: str | None,
        content_type: str | None) -> None:
    before = figures(server)
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    status, answer = request(server, path, data=body.encode() if body else None, method=method, headers=headers)
    assert status == 403, answer
    assert "provenance" in answer["message"] and "/ingest" in answer["message"]
    assert_nothing_written(server, before)
    assert document_figures(server) is not None, "doc-901's batches still count for it"
