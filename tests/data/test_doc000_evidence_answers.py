"""doc-000 (Sino-NK's translation of Zhang Liangui): evidence for every fact, and answers as data (issue 13).

Each test asks the service's own store a question an analyst asks of this document and checks the
answer against the text — the phrase it rests on is quoted in a comment. Every test fails on the
data as it was before issue 13 (no passages, shared claims, prose-only outcomes and causes, a point
value for an upper bound, a publisher not marked as taken from outside the text).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from service.rdf.evidence import Passage, fact_bearing_query, locate
from service.rdf.vocabulary import RESOURCE_NS, sparql_prefix_block
from tests.shared_helpers import SEEDS, needs_shared

DJR = RESOURCE_NS
REPO = Path(__file__).resolve().parents[2]
SEED = "000_071235811020e576.txt"


def select(app, query: str) -> list[dict[str, str]]:
    rows = app.extensions["dprk_kg_store"].select(sparql_prefix_block() + query)
    return [{k: v.value for k, v in row.items()} for row in rows.dicts()]


def short(iri: str) -> str:
    return iri.removeprefix(DJR)


# -- Evidence (item 1) ---------------------------------------------------------------------------


def test_every_fact_bearing_resource_of_doc000_has_a_passage(app):
    """Coverage 100 %: each resource of doc-000's graph that states a fact is the body of an annotation."""
    rows = select(app, fact_bearing_query(f'?g = <{DJR}doc-000>'))
    named = [r for r in rows if r["resource"].startswith(DJR)]
    assert len(named) >= 75  # events, claims, posts, memberships, commitments, issues with links …
    assert [short(r["resource"]) for r in named if r["evidenced"] != "true"] == []


@needs_shared(SEEDS)
def test_every_doc000_quote_is_verbatim_at_its_offsets(app):
    text = (SEEDS / SEED).read_text(encoding="utf-8")
    rows = select(app, """
        SELECT ?a ?exact ?start ?end WHERE { GRAPH djr:doc-000 {
          ?a a oa:Annotation ; oa:hasTarget ?t . ?t oa:hasSource djr:doc-000 ; oa:hasSelector ?q , ?p .
          ?q a oa:TextQuoteSelector ; oa:exact ?exact .
          ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end } }""")
    assert len(rows) >= 50
    assert [r["a"] for r in rows if text[int(r["start"]):int(r["end"])] != r["exact"]] == []


@needs_shared(SEEDS)
def test_every_doc000_passage_of_the_toml_locates_in_the_text():
    """The curator's file itself: each quote is found (once, or at the occurrence it names)."""
    text = (SEEDS / SEED).read_text(encoding="utf-8")
    entries = tomllib.loads((REPO / "data" / "evidence" / "doc-000.toml").read_text(encoding="utf-8"))["passage"]
    for entry in entries:
        locate(Passage(tuple(entry["about"]), entry["quote"], tuple(entry.get("states", [])),
                       entry.get("occurrence")), text)


def test_which_passage_states_that_the_december_round_was_put_off_by_the_launch(app):
    """A passage states (s p o) when it has s as body and names p, or names no property at all."""
    rows = select(app, """
        SELECT ?exact WHERE { GRAPH djr:doc-000 {
          djr:ev-2012-12-talks-postponed dj:causedBy djr:ev-2012-12-launch .
          ?a a oa:Annotation ; oa:hasBody djr:ev-2012-12-talks-postponed ;
             oa:hasTarget/oa:hasSelector/oa:exact ?exact .
          FILTER(EXISTS { ?a dj:statesProperty dj:causedBy } || NOT EXISTS { ?a dj:statesProperty ?any }) } }""")
    assert {r["exact"] for r in rows} == {
        "but this were delayed due to the North\u2019s satellite launch",  # the cause
        "Both sides had initially arranged to meet again in early December for more bureau chief-level talks",
    }


# -- Corrections (item 2) ------------------------------------------------------------------------


def test_doc000_claims_are_its_own_one_per_attestation(app):
    """No claim IRI of doc-000 is also a claim of another document's graph."""
    rows = select(app, """
        SELECT DISTINCT ?c ?g WHERE { GRAPH djr:doc-000 { ?c a dj:Claim } GRAPH ?g { ?c a dj:Claim }
                                      FILTER(?g != djr:doc-000 && STRSTARTS(STR(?g), STR(djr:doc-))) }""")
    assert rows == []
    # The ten-year Red Cross gap ("talks restarted ... after 10 years") is doc-000's own claim.
    mine = select(app, """SELECT ?c WHERE { GRAPH djr:doc-000 { ?c a dj:Claim ; dj:quantityKind djr:qk-time-gap } }""")
    assert [short(r["c"]) for r in mine] == ["cl-red-cross-gap-10y-000"]


def test_zhangs_claims_carry_the_date_of_his_article(app):
    # "Huanqiu Shibao, January 17, 2013": every claim Zhang makes in doc-000 is dated that day, not "2013-01".
    rows = select(app, """
        SELECT DISTINCT ?date ?edtf WHERE { GRAPH djr:doc-000 {
          ?c a dj:Claim ; dj:claimant djr:zhang-liangui ; dj:claimDate ?date ; dj:edtf ?edtf } }""")
    assert [(r["date"], r["edtf"]) for r in rows] == [("2013-01-17", "2013-01-17")]


def test_as_much_as_ten_billion_is_an_upper_bound(app):
    # "both sides had already agreed that Japan would pay the North as much as $10 billion"
    rows = select(app, """
        SELECT ?max ?value ?qualifier WHERE { GRAPH djr:doc-000 { djr:cl-reparations-000 dj:quantityMax ?max ;
          dj:quantityQualifier ?qualifier OPTIONAL { djr:cl-reparations-000 dj:quantityValue ?value } } }""")
    assert [(r["max"], r.get("value"), r["qualifier"]) for r in rows] == [("10000000000", None, "as much as")]


def test_the_reparations_talks_were_shelved_not_reported_as_never_carried_out(app):
    # "However, these discussions were later shelved due to the nuclear and abduction issues."
    rows = select(app, """SELECT ?o WHERE { GRAPH djr:doc-000 {
        djr:reparations-understanding-1990s dj:outcome ?o } }""")
    assert len(rows) == 1 and "shelved" in rows[0]["o"] and "not carried out" not in rows[0]["o"].lower()


def test_the_publisher_and_the_outburst_date_are_marked_as_derived(app):
    """The byline is empty ("By | January 23, 2013"); the outburst is "today's" in a post of that day."""
    rows = select(app, """
        SELECT ?s ?p ?o ?from WHERE { GRAPH djr:doc-000 { ?d a dj:DerivedValue ; rdf:subject ?s ;
          rdf:predicate ?p ; rdf:object ?o ; dj:derivation ?how OPTIONAL { ?d prov:wasDerivedFrom ?from } } }
        ORDER BY ?s ?p""")
    found = {(short(r["s"]), r["p"].rsplit("/", 1)[-1].rsplit("#", 1)[-1], short(r["o"])) for r in rows}
    # The audit of 2026-12 added the Song–Nakai meetings' "informal" level (our reading, not the text's word).
    assert found == {("doc-000", "publisher", "sino-nk"), ("ev-2013-01-23-dprk-outburst", "startDate", "2013-01-23"),
                     ("ev-2013-01-23-dprk-outburst", "edtf", "2013-01-23"),
                     ("ev-2012-01-song-nakai", "level", "level-informal"),
                     ("ev-2012-03-song-nakai", "level", "level-informal")}
    assert any("sinonk.com" in r.get("from", "") for r in rows)
    # Keeping to what the text states: doc-000 then has no publisher.
    stated = select(app, """
        SELECT ?pub WHERE { GRAPH djr:doc-000 { djr:doc-000 dct:publisher ?pub
          FILTER NOT EXISTS { ?d a dj:DerivedValue ; rdf:subject djr:doc-000 ; rdf:predicate dct:publisher ;
                                 rdf:object ?pub } } }""")
    assert stated == []


def test_territorial_disputes_name_their_islands_and_states(app):
    # "Japan's relations with China and South Korea have deadlocked over the Diaoyu and Dokdo islands,
    # respectively, and relations with Russia have worsened over the issue of the South Kurile Islands"
    rows = select(app, """
        SELECT ?issue ?place (GROUP_CONCAT(DISTINCT STR(?party); separator=" ") AS ?parties) WHERE {
          GRAPH djr:doc-000 { ?issue dj:concernsPlace ?place ; dj:concernsParty ?party
                              FILTER(?issue != djr:japan-territorial-disputes) } }
        GROUP BY ?issue ?place ORDER BY ?issue""")
    found = {(short(r["issue"]), short(r["place"]), frozenset(short(p) for p in r["parties"].split()))
             for r in rows}
    assert found == {
        ("dispute-diaoyu", "diaoyu-islands", frozenset({"japan", "china"})),
        ("dispute-dokdo", "dokdo", frozenset({"japan", "south-korea"})),
        ("dispute-kurils", "south-kurils", frozenset({"japan", "russia"})),
    }


def test_nakais_post_is_former_as_of_zhangs_article_not_by_2012(app):
    # "Japan's previously-assumed official for the abduction issue" — former when Zhang wrote (January 2013).
    rows = select(app, """SELECT ?note WHERE { GRAPH djr:doc-000 {
        djr:memb-hiroshi-nakai-abduction-minister-doc-000 dj:dateNote ?note } }""")
    assert len(rows) == 1 and "by 2012" not in rows[0]["note"] and "January 2013" in rows[0]["note"]


def test_the_december_2012_offer_is_marked_as_reported(app):
    # "According to reports, in December 2012 North Korea privately expressed to Japan ..." — a hedge: the
    # event stays as reported, and a claim of doc-000 records that it is only reported.
    rows = select(app, """
        SELECT ?c ?claimant ?words WHERE { GRAPH djr:doc-000 {
          ?c a dj:Claim ; dj:about djr:ev-2012-12-nk-proposal ; dj:claimant ?claimant ; dj:valueText ?words
          FILTER(?claimant != djr:japan) } }""")  # Japan's own view of the offer is a claim of its own
    assert [(short(r["c"]), short(r["claimant"]), r["words"]) for r in rows] == [
        ("cl-nk-proposal-reported-000", "zhang-liangui", "according to reports")]


# -- Answers as data (item 3) --------------------------------------------------------------------


def test_what_the_november_2012_talks_agreed_and_what_became_of_it(app):
    # "Both sides had initially arranged to meet again in early December for more bureau chief-level talks
    # but this were delayed"
    rows = select(app, """
        SELECT ?c ?party ?status ?obligation WHERE { GRAPH djr:doc-000 {
          ?c a dj:Commitment ; dj:commitmentOf djr:ev-2012-11-mongolia-talks ; dj:committedParty ?party ;
             dj:commitmentStatus ?status ; dj:obligation ?obligation } } ORDER BY ?party""")
    assert [short(r["party"]) for r in rows] == ["japan", "north-korea"]
    assert {r["status"].rsplit("#", 1)[-1] for r in rows} == {"StatusShelved"}
    assert "early December" in rows[0]["obligation"]


def test_the_early_1990s_reparations_commitment(app):
    # "both sides had already agreed that Japan would pay the North as much as $10 billion" ... "later shelved"
    rows = select(app, """
        SELECT ?party ?status ?edtf WHERE { GRAPH djr:doc-000 {
          ?c a dj:Commitment ; dj:commitmentOf djr:reparations-understanding-1990s ; dj:committedParty ?party ;
             dj:commitmentStatus ?status ; dj:edtf ?edtf } }""")
    assert [(short(r["party"]), r["status"].rsplit("#", 1)[-1], r["edtf"]) for r in rows] == [
        ("japan", "StatusShelved", "199X")]


def test_north_koreas_april_2012_offer_on_the_remains_and_its_unknown_fate(app):
    # "told the Japanese that the North was willing to return to bodies of those Japanese who died in the
    # North during WWII" — the text never says whether they were returned.
    rows = select(app, """
        SELECT ?party ?status WHERE { GRAPH djr:doc-000 {
          ?c a dj:Commitment ; dj:commitmentOf djr:ev-2012-04-kis-centenary ; dj:committedParty ?party ;
             dj:commitmentStatus ?status } }""")
    assert [(short(r["party"]), r["status"].rsplit("#", 1)[-1]) for r in rows] == [("north-korea", "StatusUnknown")]


def test_causes_and_order_stated_by_the_text(app):
    # "delayed due to the North's satellite launch"; "two nuclear tests have met with international sanctions"
    rows = select(app, """
        SELECT ?effect ?cause WHERE { GRAPH djr:doc-000 { ?effect dj:causedBy ?cause } } ORDER BY ?effect""")
    assert {(short(r["effect"]), short(r["cause"])) for r in rows} == {
        ("ev-2012-12-talks-postponed", "ev-2012-12-launch"),
        ("ev-intl-sanctions-after-tests", "ev-second-nuclear-test"),
    }
    order = select(app, """SELECT ?before WHERE { GRAPH djr:doc-000 {
        djr:ev-intl-sanctions-after-tests dj:precededBy ?before } }""")
    assert [short(r["before"]) for r in order] == ["ev-second-nuclear-test"]
    # "both sides had already agreed ..." then, in September 2002, "they further discussed the arrangements"
    later = select(app, """SELECT ?next WHERE { GRAPH djr:doc-000 {
        djr:reparations-understanding-1990s dj:followedBy ?next } }""")
    assert [short(r["next"]) for r in later] == ["ev-2002-09-koizumi-pyongyang"]


def test_who_did_what_for_the_post(app):
    # "Translated by Nathan Beauchamp-Mustafaga; notes by Adam Cathcart"; "— Roger Cavazos, Cordinator."
    rows = select(app, """
        SELECT ?agent ?role WHERE { GRAPH djr:doc-000 {
          djr:doc-000 prov:qualifiedAttribution ?a .
          ?a a prov:Attribution ; prov:agent ?agent ; prov:hadRole ?role } }""")
    assert {(short(r["agent"]), r["role"].rsplit("#", 1)[-1]) for r in rows} == {
        ("zhang-liangui", "AuthorRole"), ("nathan-beauchamp-mustafaga", "TranslatorRole"),
        ("adam-cathcart", "AnnotatorRole"), ("roger-cavazos", "EditorRole"),
    }


def test_posts_the_text_names_and_who_held_them(app):
    # "North Korea's Ambassador for the Negations of Normalization of North Korean-Japanese ties Song Ilho";
    # "The author is a professor at the Central Party School."; "(Japanese Prime Minister) Junichiro Koizumi"
    rows = select(app, """
        SELECT ?holder ?in ?role WHERE { GRAPH djr:doc-000 {
          ?post a org:Post ; org:heldBy ?holder ; org:postIn ?in ; org:role ?role } } ORDER BY ?holder""")
    assert {(short(r["holder"]), short(r["in"]), short(r["role"])) for r in rows} == {
        ("song-il-ho", "north-korea", "role-ambassador"),
        ("zhang-liangui", "central-party-school", "role-professor"),
        ("junichiro-koizumi", "japan", "role-prime-minister"),
        ("hiroshi-nakai", "japan", "role-minister"),
    }


def test_what_north_korea_proposed_in_december_2012(app):
    # "North Korea privately expressed to Japan that it would be willing to reopen inter-governmental
    # negotiations with Japan in February of this year"
    rows = select(app, """SELECT ?q WHERE { GRAPH djr:doc-000 { djr:ev-2012-12-nk-proposal dj:quote ?q ;
                                                              dj:actor djr:north-korea } }""")
    assert len(rows) == 1 and "February of this year" in rows[0]["q"]


# -- Dates as stated (item 4) --------------------------------------------------------------------


def test_every_typed_date_of_doc000_has_its_edtf_beside_it(app):
    rows = select(app, """
        SELECT ?s ?date ?edtf WHERE { GRAPH djr:doc-000 {
          ?s dj:startDate|dj:claimDate|dct:issued ?date OPTIONAL { ?s dj:edtf ?edtf } } }""")
    assert len(rows) > 30
    assert [(short(r["s"]), r["date"], r.get("edtf")) for r in rows if r.get("edtf") != r["date"]] == []


def test_early_1990s_and_a_birth_year_as_stated(app):
    # "in the early 1990s" (no year); "born in Japanese-occupied Jilin (i.e., Manchukuo) in 1942"
    rows = select(app, """
        SELECT ?edtf ?typed WHERE { GRAPH djr:doc-000 { djr:ev-1990s-normalization-talks dj:edtf ?edtf
          OPTIONAL { djr:ev-1990s-normalization-talks dj:startDate ?typed } } }""")
    assert [(r["edtf"], r.get("typed")) for r in rows] == [("199X", None)]
    birth = select(app, """SELECT ?b WHERE { GRAPH djr:doc-000 { djr:hiroshi-nakai dj:birthEDTF ?b } }""")
    assert [r["b"] for r in birth] == ["1942"]


# -- Audit of 2026-12 ------------------------------------------------------------------------------


def test_audit_the_song_nakai_meetings_informal_level_is_marked_as_our_reading(app):
    # "Song Ilho ... and Japanese politician Hiroshi Nakai ... dealt with the issue of abductions at meetings":
    # the text never says "informal", so keeping to what it states leaves the meetings without a level.
    stated = select(app, """
        SELECT ?e ?level WHERE { GRAPH djr:doc-000 { VALUES ?e { djr:ev-2012-01-song-nakai djr:ev-2012-03-song-nakai }
          ?e dj:level ?level
          FILTER NOT EXISTS { ?d a dj:DerivedValue ; rdf:subject ?e ; rdf:predicate dj:level ;
                                 rdf:object ?level } } }""")
    assert stated == []
    evidenced = select(app, """
        SELECT ?d WHERE { GRAPH djr:doc-000 { ?d a dj:DerivedValue ; rdf:subject djr:ev-2012-01-song-nakai ;
          rdf:predicate dj:level . ?a a oa:Annotation ; oa:hasBody ?d } }""")
    assert len(evidenced) == 1


def test_audit_the_november_delegates_department_keeps_this_translations_name(app):
    # "the Japanese delegate was the director of the Foreign Ministry’s Asia-Pacific department": doc-000 never
    # says "Asian and Oceanian Affairs Bureau" (doc-001's wording), so its graph does not label it so.
    rows = select(app, """SELECT ?l WHERE { GRAPH djr:doc-000 {
        djr:mofa-japan-asia-bureau rdfs:label|skos:altLabel ?l } }""")
    assert rows and all("Oceanian" not in r["l"] for r in rows)
    assert any("Asia-Pacific department" in r["l"] for r in rows)
