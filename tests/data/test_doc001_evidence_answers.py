"""Doc-001 (Zhang Liangui, Global Times, 22 January 2013): evidence for every fact, answers as data.

Why: issue 13 asks that every fact of a document's graph show the passage that states it, that values
the text does not print be marked as derived, that dates keep the text's precision, and that what an
analyst asks (what was agreed, why a round was put off, who wrote the article) be data rather than
prose. Each test asks the service's own store what a user would ask, and the expected answers were
read from the text (the phrase is quoted beside each); each fails on the graph as it was before.
"""

from __future__ import annotations

from service.rdf.evidence import fact_bearing_query
from service.rdf.vocabulary import RESOURCE_NS
from tests.data.test_answers import select
from tests.shared_helpers import SEEDS, needs_shared

DJR = RESOURCE_NS
DOC = DJR + "doc-001"
SEED = "001_41b290792f5b8234.txt"


def short(iri: str) -> str:
    return iri.removeprefix(DJR)


# -- Evidence (item 1) ----------------------------------------------------------------------------


def test_every_fact_bearing_resource_of_doc_001_has_a_passage(app):
    rows = app.extensions["dprk_kg_store"].select(fact_bearing_query(f"?g = <{DOC}>")).dicts()
    resources = {row["resource"].value: row["evidenced"].value for row in rows
                 if row["resource"].value.startswith(DJR)}  # the selectors' blank nodes are not facts
    assert len(resources) >= 70  # people, events, claims, commitments, posts …
    assert [short(r) for r, evidenced in sorted(resources.items()) if evidenced != "true"] == []


@needs_shared(SEEDS)
def test_every_doc_001_quote_is_verbatim_at_its_offsets(app):
    text = (SEEDS / SEED).read_text(encoding="utf-8")
    rows = select(app, """
        SELECT ?a ?exact ?start ?end WHERE { GRAPH djr:doc-001 {
          ?a a oa:Annotation ; oa:motivatedBy dj:evidencing ; oa:hasTarget ?t .
          ?t oa:hasSource djr:doc-001 ; oa:hasSelector ?q , ?p .
          ?q a oa:TextQuoteSelector ; oa:exact ?exact .
          ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end } }""")
    assert len(rows) >= 40
    assert [r["a"] for r in rows if text[int(r["start"]):int(r["end"])] != r["exact"]] == []


def test_which_passage_states_why_the_december_round_was_put_off(app):
    # "Another high-level talk, scheduled for early December, was delayed due to North Korea's rocket launch."
    rows = select(app, """
        SELECT ?exact WHERE { GRAPH djr:doc-001 {
          djr:ev-2012-12-talks-postponed dj:causedBy ?cause .
          ?a oa:hasBody djr:ev-2012-12-talks-postponed , ?cause ; oa:hasTarget/oa:hasSelector/oa:exact ?exact .
          FILTER NOT EXISTS { ?a dj:statesProperty ?p } } }""")
    assert [r["exact"] for r in rows] == [
        "Another high-level talk, scheduled for early December, was delayed due to North Korea's rocket launch."]


# -- Corrections and derived values (item 2) ----------------------------------------------------


def test_the_november_talks_have_no_outcome_the_text_does_not_give(app):
    # "In November, high-level talks between the two countries were held in Mongolia." — nothing about what they
    # agreed; the next sentence only says another talk was "scheduled for early December".
    rows = select(app, "SELECT ?o WHERE { GRAPH djr:doc-001 { djr:ev-2012-11-mongolia-talks dj:outcome ?o } }")
    assert rows == []


def test_keeping_to_what_doc_001_states_drops_the_derived_values(app):
    # The text calls both rounds "high-level"; the bureau-chief level is read from Sugiyama's post ("head of the
    # Asian and Oceanian Affairs Bureau"). It writes only "CPC", says the grave visits "were permitted" (no one
    # named), and gives Kim Il-sung's birth only as "the 100th anniversary" in April 2012.
    derived = select(app, """
        SELECT ?s ?p ?o WHERE { GRAPH djr:doc-001 {
          ?d a dj:DerivedValue ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; dj:derivation ?how } }
        ORDER BY ?s ?p""")
    assert [(short(r["s"]), r["p"].rsplit("#", 1)[1], short(r["o"])) for r in derived] == [
        ("cpc", "parentState", "china"),
        # Audit 2026-12: "discussed ... with Hiroshi Nakai, a former Japanese state minister" — never "informal".
        ("ev-2012-01-song-nakai", "level", "level-informal"),
        ("ev-2012-03-song-nakai", "level", "level-informal"),
        ("ev-2012-08-grave-visits-permitted", "actor", "north-korea"),
        ("ev-2012-11-mongolia-talks", "level", "level-bureau-chief"),
        ("ev-2012-12-talks-postponed", "level", "level-bureau-chief"),
        ("kim-il-sung", "birthEDTF", "1912"),
    ]
    stated = select(app, """
        SELECT ?level WHERE { GRAPH djr:doc-001 { djr:ev-2012-12-talks-postponed dj:level ?level
          FILTER NOT EXISTS { ?d a dj:DerivedValue ; rdf:subject djr:ev-2012-12-talks-postponed ;
                                 rdf:predicate dj:level ; rdf:object ?level } } }""")
    assert stated == []


def test_the_territorial_disputes_name_their_islands_and_states(app):
    # "a deadlock with China over the Diaoyu Islands, and with South Korea over Dokdo Island"; "chilled relations
    # with Russia over the Southern Kurils dispute".
    rows = select(app, """
        SELECT ?issue ?place ?party WHERE { GRAPH djr:doc-001 {
          ?issue dj:concernsPlace ?place ; dj:concernsParty ?party FILTER(?party != djr:japan)
          ?issue dj:concernsParty djr:japan } } ORDER BY ?issue""")
    assert [(short(r["issue"]), short(r["place"]), short(r["party"])) for r in rows] == [
        ("dispute-diaoyu", "diaoyu-islands", "china"),
        ("dispute-dokdo", "dokdo", "south-korea"),
        ("dispute-kurils", "south-kurils", "russia"),
    ]


# -- Answers as data (item 3) ---------------------------------------------------------------------


def test_what_the_early_1990s_agreement_committed_and_where_it_stood(app):
    # "reached an agreement on a payment of over $10 billion"; "receive Japan's war reparations";
    # "it was later shelved due to the nuclear and abduction issues".
    rows = select(app, """
        SELECT ?party ?status ?when WHERE { GRAPH djr:doc-001 {
          ?c a dj:Commitment ; dj:commitmentOf djr:reparations-understanding-1990s ; dj:committedParty ?party ;
             dj:obligation ?what ; dj:commitmentStatus ?status ; dj:edtf ?when } }""")
    assert [(short(r["party"]), r["status"].rsplit("#", 1)[1], r["when"]) for r in rows] == [
        ("japan", "StatusShelved", "199X")]
    order = select(app, """
        SELECT ?issue WHERE { GRAPH djr:doc-001 {
          djr:ev-2002-09-koizumi-pyongyang dj:followedBy ?shelving .
          ?shelving dj:precededBy djr:ev-2002-09-koizumi-pyongyang ; dj:discussedIssue ?issue } } ORDER BY ?issue""")
    assert [short(r["issue"]) for r in order] == ["abduction-issue", "nk-nuclear-program", "war-reparations"]
    # The undated early-1990s agreement comes first in the series: "the payment issue was further discussed" in 2002.
    series = select(app, """
        SELECT ?next WHERE { GRAPH djr:doc-001 { djr:reparations-understanding-1990s dj:followedBy ?next } }""")
    assert [short(r["next"]) for r in series] == ["ev-2002-09-koizumi-pyongyang"]


def test_the_april_2012_pledge_is_a_statement_with_its_words_and_a_commitment(app):
    # "said that it would send back the remains of Japanese who died in North Korea during World War II"
    rows = select(app, """
        SELECT ?party ?quote ?status WHERE { GRAPH djr:doc-001 {
          ?c dj:commitmentOf ?pledge ; dj:committedParty ?party ; dj:commitmentStatus ?status .
          ?pledge a dj:Statement ; dj:quote ?quote ; dj:startDate "2012-04"^^xsd:gYearMonth } }""")
    assert [(short(r["party"]), r["quote"], r["status"].rsplit("#", 1)[1]) for r in rows] == [
        ("north-korea", "it would send back the remains of Japanese who died in North Korea during World War II",
         "StatusUnknown")]


def test_what_north_korea_said_is_quoted_and_found_in_its_passage(app):
    # "North Korea unofficially voiced to Japan its willingness to restart intergovernmental negotiations in
    # February 2013"; "where North Korea proposed the return of Japanese wives".
    rows = select(app, """
        SELECT ?statement ?quote (SAMPLE(?exact) AS ?passage) WHERE { GRAPH djr:doc-001 {
          ?statement a dj:Statement ; dj:actor djr:north-korea ; dj:quote ?quote .
          ?a oa:hasBody ?statement ; oa:hasTarget/oa:hasSelector/oa:exact ?exact
          FILTER(CONTAINS(?exact, STR(?quote))) } }
        GROUP BY ?statement ?quote ORDER BY ?statement""")
    assert [short(r["statement"]) for r in rows] == [
        "ev-2012-04-nk-remains-pledge", "ev-2012-12-nk-proposal", "ev-2012-nk-proposes-wives-return"]


def test_the_sanctions_were_caused_by_the_nuclear_tests(app):
    # "International sanctions over its two nuclear tests left North Korea short of foreign exchange"
    rows = select(app, """
        SELECT ?cause WHERE { GRAPH djr:doc-001 { djr:ev-intl-sanctions-after-tests dj:causedBy ?cause .
                                                  ?cause a dj:NuclearTest } }""")
    assert [short(r["cause"]) for r in rows] == ["ev-second-nuclear-test"]


def test_who_wrote_and_who_published_doc_001(app):
    # "By Zhang Liangui Source:Global Times"
    rows = select(app, """
        SELECT ?agent ?role WHERE { GRAPH djr:doc-001 {
          djr:doc-001 prov:qualifiedAttribution ?q . ?q prov:agent ?agent ; prov:hadRole ?role } } ORDER BY ?agent""")
    assert [(short(r["agent"]), r["role"].rsplit("#", 1)[1]) for r in rows] == [
        ("global-times", "PublisherRole"), ("zhang-liangui", "AuthorRole")]
    function = select(app, "SELECT ?f WHERE { GRAPH djr:doc-001 { djr:global-times dj:function ?f } }")
    assert len(function) == 1 and "Viewpoint" in function[0]["f"]  # "Posted in: Viewpoint"


def test_the_posts_the_text_names_and_who_held_them(app):
    rows = select(app, """
        SELECT ?holder ?org ?role WHERE { GRAPH djr:doc-001 {
          ?post a org:Post ; org:heldBy ?holder ; org:postIn ?org ; org:role ?role ; rdfs:label ?wording } }
        ORDER BY ?holder""")
    assert [(short(r["holder"]), short(r["org"]), short(r["role"])) for r in rows] == [
        ("hiroshi-nakai", "japan", "role-minister"),          # "a former Japanese state minister in charge"
        ("junichiro-koizumi", "japan", "role-prime-minister"),  # "then Japanese prime minister"
        ("kim-jong-un", "north-korea", "role-leader"),        # "North Korea's new leader"
        ("shinsuke-sugiyama", "mofa-japan-asia-bureau", "role-director-general"),  # "head of the … Bureau"
        ("song-il-ho", "north-korea", "role-ambassador"),     # "North Korea's ambassador for talks on normalizing"
        ("zhang-liangui", "central-party-school", "role-professor"),  # "a professor at the Party School"
    ]


def test_one_claim_per_attestation_with_the_article_s_own_date(app):
    # The same arguments appear in doc-000; each document's claims are its own, dated with its own day
    # ("Published: 2013-1-22").
    shared = select(app, """
        SELECT DISTINCT ?c WHERE { GRAPH djr:doc-001 { ?c a dj:Claim } GRAPH ?other { ?c a dj:Claim }
                                   FILTER(?other != djr:doc-001) }""")
    assert shared == []
    dates = select(app, """
        SELECT DISTINCT ?date ?edtf WHERE { GRAPH djr:doc-001 {
          ?c a dj:Claim ; dj:claimDate ?date ; dj:edtf ?edtf } }""")
    assert [(r["date"], r["edtf"]) for r in dates] == [("2013-01-22", "2013-01-22")]


def test_over_ten_billion_dollars_is_a_minimum(app):
    # "a payment of over $10 billion"
    rows = select(app, """
        SELECT ?min ?value ?qualifier WHERE { GRAPH djr:doc-001 {
          djr:cl-reparations-001 dj:quantityMin ?min ; dj:quantityQualifier ?qualifier
          OPTIONAL { djr:cl-reparations-001 dj:quantityValue ?value } } }""")
    assert [(int(r["min"]), r.get("value"), r["qualifier"]) for r in rows] == [(10_000_000_000, None, "over")]


# -- Dates as stated (item 4) ---------------------------------------------------------------------


def test_every_dated_resource_of_doc_001_has_its_date_as_stated(app):
    undated = select(app, """
        SELECT ?s WHERE { GRAPH djr:doc-001 {
          ?s dj:startDate|dj:endDate|dj:claimDate|dct:issued ?d FILTER NOT EXISTS { ?s dj:edtf ?e } } }""")
    assert undated == []
    rows = select(app, """
        SELECT ?s ?edtf WHERE { GRAPH djr:doc-001 { ?s dj:edtf ?edtf
          VALUES ?s { djr:doc-001 djr:ev-1990s-normalization-talks djr:ev-2012-nk-proposes-wives-return
                      djr:ev-2012-08-red-cross-talks } } } ORDER BY ?s""")
    assert [(short(r["s"]), r["edtf"]) for r in rows] == [
        ("doc-001", "2013-01-22T22:53:06"),                  # "Published: 2013-1-22 22:53:06"
        ("ev-1990s-normalization-talks", "199X"),            # "In the early 1990s"
        ("ev-2012-08-red-cross-talks", "2012-08"),           # "In early August" (of 2012)
        ("ev-2012-nk-proposes-wives-return", "2012-01/2012-03"),  # "In January and March 2012 … where"
    ]


def test_doc_001_events_are_the_same_kind_of_event_in_every_document(app):
    # "when then Japanese prime minister Koizumi Junichiro visited North Korea": a visit here as in 000, 002, 003.
    rows = select(app, """
        SELECT DISTINCT ?event ?class ?other WHERE {
          GRAPH djr:doc-001 { ?event a ?class . ?class rdfs:subClassOf* dj:Event }
          GRAPH ?other { ?event a ?otherClass . ?otherClass rdfs:subClassOf* dj:Event }
          FILTER(?other != djr:doc-001 && STRSTARTS(STR(?other), STR(djr:doc-)))
          FILTER NOT EXISTS { GRAPH ?other { ?event a ?same } ?same rdfs:subClassOf* ?class }
        }""")
    assert rows == []
    koizumi = select(app, """
        SELECT DISTINCT ?g WHERE { GRAPH ?g { djr:ev-2002-09-koizumi-pyongyang a dj:Visit } } ORDER BY ?g""")
    assert [short(r["g"]) for r in koizumi] == ["doc-000", "doc-001", "doc-002", "doc-003"]


def test_audit_the_song_nakai_talks_informal_level_is_marked_as_our_reading(app):
    # "Song II-ho ... discussed the decades-old abduction issue with Hiroshi Nakai, a former Japanese state minister
    # in charge": nothing says the talks were informal (audit 2026-12).
    stated = select(app, """
        SELECT ?e ?level WHERE { GRAPH djr:doc-001 { VALUES ?e { djr:ev-2012-01-song-nakai djr:ev-2012-03-song-nakai }
          ?e dj:level ?level
          FILTER NOT EXISTS { ?d a dj:DerivedValue ; rdf:subject ?e ; rdf:predicate dj:level ;
                                 rdf:object ?level } } }""")
    assert stated == []
