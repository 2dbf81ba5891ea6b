"""doc-004 ("Japan–North Korea Relations: Bold Reforms Present New Diplomatic Opportunities"): evidence for
every fact, the corrections of issue 13, and the answers kept as data rather than prose.

Each expectation was read from the text of doc-004 (the phrase is cited beside it), not from the data; each
test fails on the graph as it was before these changes. The queries run through the service's own store
(union default graph, RDFS entailment), so they are the queries an analyst would send.
"""

from __future__ import annotations

import re

import pytest

from service.rdf.vocabulary import RESOURCE_NS, sparql_prefix_block
from tests.shared_helpers import SEEDS, needs_shared

DJR = RESOURCE_NS
SEED = "004_ff794fc2ff29ad97.txt"


def select(app, query: str) -> list[dict[str, str]]:
    rows = app.extensions["dprk_kg_store"].select(sparql_prefix_block() + query)
    return [{k: v.value for k, v in row.items()} for row in rows.dicts()]


def slugs(rows: list[dict[str, str]], column: str) -> list[str]:
    return [r[column].removeprefix(DJR) for r in rows]


# -- Corrections: facts the text does not state ---------------------------------------------------------------


def test_hanoi_summit_has_no_issue_the_text_does_not_name(app):
    # "The breakdown of the Hanoi summit talks between the United States and North Korea in February 2019" —
    # nothing about what was discussed there (the old graph said denuclearization).
    rows = select(app, "SELECT ?i WHERE { GRAPH djr:doc-004 { djr:ev-2019-02-hanoi-summit dj:discussedIssue ?i } }")
    assert rows == []


def test_special_agencies_reform_is_not_an_abduction_issue_event(app):
    # "Kim's announced program to “tackle vested interests” by cutting into the privileges of “special agencies.”"
    # The link to the abductions is the author's argument, carried by Kim Jong-il's claim, not the reform's issue.
    rows = select(app, """SELECT ?i WHERE { GRAPH djr:doc-004 {
        djr:ev-2021-special-agencies-reform dj:discussedIssue ?i } }""")
    assert rows == []
    order = select(app, """SELECT ?e WHERE { GRAPH djr:doc-004 {
        djr:ev-2021-special-agencies-reform dj:precededBy ?e } }""")
    assert slugs(order, "e") == ["ev-2021-01-wpk-8th-congress"]  # "Following the eighth Congress …"


def test_singapore_summit_outcome_does_not_say_which_side_committed(app):
    # "they rejected commitments “to work toward complete denuclearization of the Korean Peninsula.”" — the text
    # does not say "both sides committed themselves", as the old outcome did.
    rows = select(app, """SELECT ?o WHERE { GRAPH djr:doc-004 { djr:ev-2018-06-singapore-summit dj:outcome ?o } }""")
    assert rows and all("both sides committed" not in r["o"] for r in rows)


def test_moon_s_remaining_term_is_an_upper_bound_dated_by_the_article(app):
    # "With less than a year remaining in his presidency" (present tense, in an article of 2021): a maximum with
    # the qualifier, no point value, and no month the text does not give (the old claim said 2021-05, value 1).
    rows = select(app, """SELECT ?p ?v WHERE { GRAPH djr:doc-004 { djr:cl-moon-term-left ?p ?v
        FILTER(?p IN (dj:quantityValue, dj:quantityMax, dj:quantityQualifier, dj:claimDate, dj:edtf)) } }
        ORDER BY ?p""")
    assert {(r["p"].rsplit("#", 1)[1], r["v"]) for r in rows} == {
        ("quantityMax", "1"), ("quantityQualifier", "less than"), ("claimDate", "2021"), ("edtf", "2021")}


# -- Commitments -------------------------------------------------------------------------------------------------


def test_what_the_may_2021_joint_statement_committed_the_two_allies_to(app):
    rows = select(app, """SELECT ?c ?party ?status WHERE { GRAPH djr:doc-004 {
        ?c a dj:Commitment ; dj:commitmentOf djr:usrok-joint-statement-2021 ; dj:committedParty ?party ;
           dj:commitmentStatus ?status } } ORDER BY ?c ?party""")
    commitments = {r["c"].removeprefix(DJR) for r in rows}
    assert commitments == {
        "cm-usrok-2021-diplomacy",          # "would pursue diplomacy and dialogue with North Korea based on past …"
        "cm-usrok-2021-denuclearization",   # "readopted the phrase “complete denuclearization of the Korean Peninsula”"
        "cm-usrok-2021-unsc-resolutions",   # "“the full implementation of relevant UN Security Council resolutions”"
        "cm-usrok-2021-human-rights",       # "“to work together to improve the human rights situation in the DPRK.”"
    }
    for c in commitments:  # "both the United States and South Korea", "the agreement by both countries"
        assert {r["party"].removeprefix(DJR) for r in rows if r["c"].endswith(c)} == {"united-states", "south-korea"}
    assert {r["status"].rsplit("#", 1)[1] for r in rows} == {"StatusAgreed"}
    basis = select(app, """SELECT ?d WHERE { GRAPH djr:doc-004 { djr:cm-usrok-2021-diplomacy dct:references ?d } }
                           ORDER BY ?d""")
    # "such as those contained in the June 2018 Singapore Joint Statement and the April 2018 Panmunjom Declaration"
    assert slugs(basis, "d") == ["panmunjom-declaration", "singapore-joint-statement"]


def test_the_singapore_commitment_and_its_unknown_standing(app):
    rows = select(app, """SELECT ?obligation ?status WHERE { GRAPH djr:doc-004 {
        ?c dj:commitmentOf djr:singapore-joint-statement ; dj:obligation ?obligation ;
           dj:commitmentStatus ?status } }""")
    assert len(rows) == 1
    assert "complete denuclearization of the Korean Peninsula" in rows[0]["obligation"]
    # Biden officials "rejected commitments", the May statement builds on them, North Korea "has recently made
    # little mention of the Singapore agreement": the text gives no standing.
    assert rows[0]["status"].endswith("#StatusUnknown")


# -- Causes and relative order -----------------------------------------------------------------------------------


def test_causes_the_text_states(app):
    rows = select(app, """SELECT ?effect ?cause WHERE { GRAPH djr:doc-004 { ?effect dj:causedBy ?cause } }
                          ORDER BY ?effect""")
    assert {(r["effect"].removeprefix(DJR), r["cause"].removeprefix(DJR)) for r in rows} == {
        # "North Korea hardened its attitude further in response, with a Foreign Ministry spokesman accusing …"
        ("ev-2021-dprk-fm-response", "ev-2021-04-nkfw-price-statement"),
        # "The Biden administration's announcement that it would revert to … earned it a rebuke from Pyongyang"
        ("ev-2021-dprk-rebuke-denuclearization", "ev-2021-biden-denuclearization-of-nk"),
        # "the government responded by labeling it “blasphemy”" (the human rights language of the May statement)
        ("ev-2021-dprk-blasphemy-response", "usrok-joint-statement-2021"),
        # "the sealing of the border due to COVID-19"
        ("ev-covid-border-closure", "covid19"),
    }
    # The inverse is queryable too (dj:caused, by the ontology's owl:inverseOf and the store's entailment or a path).
    caused = select(app, "SELECT ?e WHERE { ?e dj:causedBy djr:ev-2021-04-nkfw-price-statement }")
    assert slugs(caused, "e") == ["ev-2021-dprk-fm-response"]


def test_relative_order_of_undated_events(app):
    rows = select(app, """SELECT ?later ?earlier WHERE { GRAPH djr:doc-004 { ?later dj:precededBy ?earlier } }""")
    order = {(r["later"].removeprefix(DJR), r["earlier"].removeprefix(DJR)) for r in rows}
    # "… earned it a rebuke from Pyongyang … More was to come during this year's North Korea Freedom Week"
    assert ("ev-2021-04-nkfw-price-statement", "ev-2021-dprk-rebuke-denuclearization") in order
    # the 'blasphemy' answer came after the May joint statement it answered
    assert ("ev-2021-dprk-blasphemy-response", "usrok-joint-statement-2021") in order
    # "Biden's announcement following the summit that Sung Kim …"
    assert ("ev-2021-05-sung-kim-envoy", "ev-2021-05-21-usrok-summit") in order


def test_the_hedged_cause_of_the_economic_freefall_is_a_claim(app):
    # "Economic conditions in North Korea currently appear to be in freefall due to …" — hedged: a claim.
    rows = select(app, """SELECT ?about ?who WHERE { GRAPH djr:doc-004 {
        djr:cl-economy-freefall a dj:Claim ; dj:about ?about ; dj:claimant ?who } } ORDER BY ?about""")
    assert set(slugs(rows, "about")) == {"north-korea", "intl-sanctions", "ev-covid-border-closure"}
    assert set(slugs(rows, "who")) == {"author-doc-004"}


def test_the_author_s_hedged_readings_are_his_claims(app):
    rows = select(app, """SELECT ?c WHERE { GRAPH djr:doc-004 { ?c a dj:Claim ; dj:claimant djr:author-doc-004 } }""")
    assert {
        "cl-hostile-policy-reading",   # "North Korea therefore likely interprets … “hostile policy”"
        "cl-reform-power-base-risk",   # "could, however, majorly affect his own power base"
        "cl-chongryon-route",          # "I think it is time to pursue the Chongryon route"
        "cl-military-economic-role",   # "there are signs that the military … will also be expected to contribute more"
    } <= set(slugs(rows, "c"))


def test_price_statement_falls_in_freedom_week(app):
    # "during this year's North Korea Freedom Week, beginning in April. State Department spokesperson Ned Price …"
    rows = select(app, """SELECT ?p ?start WHERE { GRAPH djr:doc-004 {
        djr:ev-2021-04-nkfw-price-statement dj:partOf ?p . ?p a dj:Period ; dj:startDate ?start } }""")
    assert [(r["p"].removeprefix(DJR), r["start"]) for r in rows] == [("ev-2021-nk-freedom-week", "2021-04")]


# -- Statements: what was said -----------------------------------------------------------------------------------


QUOTES = {
    "ev-2021-01-kju-greatest-enemy": {"greatest enemy"},
    "ev-2021-01-biden-nk-policy": {"practical progress"},
    "ev-2021-biden-denuclearization-of-nk": {"denuclearization of North Korea"},
    "ev-2021-dprk-blasphemy-response": {"blasphemy"},
    "ev-2002-abduction-admission": {"blindly motivated patriotism and misguided heroism"},
    "ev-japan-abduction-resolve": {"unwavering resolve", "spare no effort"},
    "ev-2021-dprk-fm-response": {
        "committed a grave political provocation that denigrates even the dignity of Supreme Leader Kim Jong-un."},
}


def test_statements_say_what_they_said(app):
    rows = select(app, """SELECT ?s ?q WHERE { GRAPH djr:doc-004 { ?s a dj:Statement ; dj:quote ?q } }""")
    got: dict[str, set[str]] = {}
    for r in rows:
        got.setdefault(r["s"].removeprefix(DJR), set()).add(r["q"])
    for statement, quotes in QUOTES.items():
        assert got.get(statement) == quotes, statement
    assert len(got["ev-2021-04-nkfw-price-statement"]) == 2  # "appalled by …" and "work with the United Nations …"
    speaker = select(app, "SELECT ?a WHERE { GRAPH djr:doc-004 { djr:ev-2021-01-kju-greatest-enemy dj:actor ?a } }")
    assert slugs(speaker, "a") == ["kim-jong-un"]  # "Kim Jong-un went as far as describing the United States as …"


@needs_shared(SEEDS)
def test_every_quote_of_doc004_is_verbatim_in_its_text(app):
    text = " ".join((SEEDS / SEED).read_text(encoding="utf-8").split())
    text = text.replace("“", "").replace("”", "")
    rows = select(app, "SELECT ?q WHERE { GRAPH djr:doc-004 { ?s dj:quote ?q } }")
    assert len(rows) >= 10
    for r in rows:
        assert " ".join(r["q"].split()) in text, r["q"]


# -- Organizations' functions, contributors and posts ------------------------------------------------------------


def test_functions_of_the_bodies_the_text_describes(app):
    rows = select(app, "SELECT ?o ?f WHERE { GRAPH djr:doc-004 { ?o dj:function ?f } }")
    functions = {r["o"].removeprefix(DJR): r["f"] for r in rows}
    assert "secret police" in functions["mss"]  # "North Korea's secret police organization"
    assert "sabotage" in functions["rgb"]  # "espionage training, infiltration, intelligence gathering, and sabotage"
    assert "influence operations in South Korea" in functions["ufd"]  # "focused predominantly on conducting …"
    assert "de facto embassy" in functions["chongryon"]  # "to serve as North Korea's de facto embassy in Japan"
    assert "Korean People's Army" in functions["gpb"] and "Korean People's Army" in functions["gsd"]
    # Functions belong to organizations: nothing else (a post, the 'special agencies' group) gets one.
    typed = select(app, """SELECT ?o WHERE { GRAPH djr:doc-004 { ?o dj:function ?f }
                             FILTER NOT EXISTS { GRAPH djr:doc-004 { ?o a ?t }
                                                 ?t rdfs:subClassOf* dj:Organization } }""")
    assert typed == []


def test_contributors_and_their_roles(app):
    rows = select(app, """SELECT ?agent ?role WHERE { GRAPH djr:doc-004 {
        djr:doc-004 prov:qualifiedAttribution ?a . ?a prov:agent ?agent ; prov:hadRole ?role } } ORDER BY ?agent""")
    assert {(r["agent"].removeprefix(DJR), r["role"].rsplit("#", 1)[1]) for r in rows} == {
        ("author-doc-004", "AuthorRole"),     # "I think it is time to pursue the Chongryon route" — unnamed
        ("nippon-com", "PublisherRole"),      # from a public copy (a derived value, below)
        ("jiji-press", "PhotoCreditRole"),    # "Kim Jong-un [© Jiji], Prime Minister Suga Yoshihide [© Jiji]"
        ("afp", "PhotoCreditRole"),           # "President Joe Biden [© AFP]"
    }


def test_posts_the_text_names_and_who_held_them(app):
    rows = select(app, """SELECT ?post ?in ?holder WHERE { GRAPH djr:doc-004 {
        ?post a org:Post ; org:postIn ?in ; org:heldBy ?holder } } ORDER BY ?post ?holder""")
    held = {(r["post"].removeprefix(DJR), r["in"].removeprefix(DJR), r["holder"].removeprefix(DJR)) for r in rows}
    # "Sung Kim, acting assistant secretary of state and the senior official in the Bureau of East Asian and
    # Pacific Affairs, would take on the role of special envoy for North Korea"
    assert ("post-us-acting-assistant-secretary-eap-doc-004", "us-bureau-eap", "sung-kim") in held
    assert ("post-us-special-envoy-north-korea-doc-004", "united-states", "sung-kim") in held
    # "State Department spokesperson Ned Price"
    assert ("post-us-state-dept-spokesperson-doc-004", "us-state-dept", "ned-price") in held
    assert {h for p, _, h in held if p == "post-us-president-doc-004"} == {"donald-trump", "joe-biden"}
    # The envoy post is the only one the text dates ("following the summit" of May 21, year derived).
    during = select(app, """SELECT ?year WHERE { GRAPH djr:doc-004 { djr:memb-sung-kim-special-envoy
        org:memberDuring/time:hasBeginning/time:inXSDgYear ?year } }""")
    assert [r["year"] for r in during] == ["2021"]


# -- Dates as stated and derived values --------------------------------------------------------------------------


def test_every_dated_resource_has_its_date_as_stated(app):
    rows = select(app, """SELECT ?s WHERE { GRAPH djr:doc-004 {
        ?s dj:startDate|dj:claimDate|dct:issued ?d FILTER NOT EXISTS { ?s dj:edtf ?e } } }""")
    assert rows == []
    edtf = {r["s"].removeprefix(DJR): r["e"] for r in select(app, """SELECT ?s ?e WHERE { GRAPH djr:doc-004 {
        ?s dj:edtf ?e } }""")}
    assert edtf["ev-2021-05-21-usrok-summit"] == "2021-05-21"  # "held on May 21"
    assert edtf["ev-2021-04-nkfw-price-statement"] == "2021-04~"  # in the week "beginning in April": approximate
    assert edtf["memb-sung-kim-special-envoy"] == "2021/.."  # from the announcement on, no end given
    death = select(app, "SELECT ?e WHERE { GRAPH djr:doc-004 { djr:shigeru-yokota dj:deathEDTF ?e } }")
    assert [r["e"] for r in death] == ["2020"]  # "passed away last year"


def test_years_the_text_does_not_print_are_derived_values(app):
    # The text never prints 2020 or 2021 ("this January", "May 21", "last year"): every such value is reified.
    undeclared = select(app, """SELECT ?s ?p ?o WHERE { GRAPH djr:doc-004 {
        ?s ?p ?o FILTER(?p IN (dj:startDate, dj:endDate, dj:claimDate, dj:deathDate, dct:issued, dj:edtf,
                               dj:deathEDTF, time:inXSDgYear))
        FILTER(STRSTARTS(STR(?o), "2020") || STRSTARTS(STR(?o), "2021"))
        FILTER NOT EXISTS { ?d a dj:DerivedValue ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o } } }""")
    assert undeclared == []
    # Keeping to what the text states leaves the months and days of 2018–2019 and 2002, and no 2021 date.
    stated = select(app, """SELECT DISTINCT ?o WHERE { GRAPH djr:doc-004 { ?s dj:startDate ?o
        FILTER NOT EXISTS { ?d a dj:DerivedValue ; rdf:subject ?s ; rdf:predicate dj:startDate ; rdf:object ?o } } }
        ORDER BY ?o""")
    assert [r["o"] for r in stated] == ["2002", "2018-04", "2018-06", "2019-02"]
    issued = select(app, """SELECT ?o ?how WHERE { GRAPH djr:doc-004 { djr:doc-004 dct:issued ?o .
        ?d a dj:DerivedValue ; rdf:subject djr:doc-004 ; rdf:predicate dct:issued ; rdf:object ?o ;
           dj:derivation ?how } }""")
    assert [r["o"] for r in issued] == ["2021"] and "May 31" in issued[0]["how"]


def test_the_publisher_is_derived_from_a_public_copy(app):
    rows = select(app, """SELECT ?from WHERE { GRAPH djr:doc-004 {
        ?d a dj:DerivedValue ; rdf:subject djr:doc-004 ; rdf:predicate dct:publisher ; rdf:object djr:nippon-com ;
           prov:wasDerivedFrom ?from } }""")
    assert [r["from"] for r in rows] == ["https://nippon.com/en/in-depth/d00718"]


# -- Evidence ----------------------------------------------------------------------------------------------------

#: The publisher and its attribution come from a public copy, not from the text: no passage can state them.
WITHOUT_PASSAGE = {"doc-004-derived-doc-004-publisher", "doc-004-derived-doc-004-qualifiedAttribution"}


def test_every_fact_bearing_resource_of_doc004_has_a_passage(app):
    rows = select(app, """SELECT DISTINCT ?r WHERE { GRAPH djr:doc-004 {
        ?r a ?t ; ?p ?o .
        FILTER(isIRI(?r) && ?r != djr:doc-004)
        FILTER NOT EXISTS { ?r a ?skip FILTER(?skip IN (dj:SourceDocument, oa:Annotation, skos:ConceptScheme)) }
        FILTER(?p NOT IN (rdf:type, rdfs:label, rdfs:comment, skos:prefLabel, skos:altLabel, skos:inScheme,
                          skos:topConceptOf, skos:note, skos:definition, dct:source, dct:description, dj:dateNote))
        FILTER NOT EXISTS { ?a a oa:Annotation ; oa:motivatedBy dj:evidencing ; oa:hasBody ?r } } }""")
    assert set(slugs(rows, "r")) == WITHOUT_PASSAGE


@pytest.mark.parametrize(("resource", "prop", "words"), [
    ("ev-2021-05-21-usrok-summit", "dj:startDate", "The US-ROK summit was held on May 21"),
    ("cm-usrok-2021-human-rights", "dj:obligation", "to work together to improve the human rights situation"),
    ("ev-2021-04-nkfw-price-statement", "dj:quote", "work with the United Nations and likeminded allies"),
])
def test_which_passage_states_a_triple(app, resource, prop, words):
    # "Which passage of which document states (s p o)?": an annotation with the body and either the property
    # named or no property at all.
    rows = select(app, f"""SELECT ?doc ?exact ?start WHERE {{ GRAPH ?doc {{
        ?a oa:motivatedBy dj:evidencing ; oa:hasBody djr:{resource} ; oa:hasTarget ?t .
        ?t oa:hasSource ?doc ; oa:hasSelector ?q , ?pos .
        ?q a oa:TextQuoteSelector ; oa:exact ?exact . ?pos a oa:TextPositionSelector ; oa:start ?start .
        FILTER(NOT EXISTS {{ ?a dj:statesProperty ?any }} || EXISTS {{ ?a dj:statesProperty {prop} }}) }} }}""")
    assert any(r["doc"] == DJR + "doc-004" and words in re.sub(r"[“”]", "", r["exact"]) for r in rows), rows


# -- Audit of 2026-12 ------------------------------------------------------------------------------


def test_audit_the_joint_statement_did_not_discuss_the_hostile_policy_it_left_out(app):
    # "its omission of any mention that the United States intended to end its hostile policy toward North Korea":
    # the May statement did not take up the hostile policy, and the passage says so rather than stating an issue.
    rows = select(app, """SELECT ?i WHERE { GRAPH djr:doc-004 {
        djr:usrok-joint-statement-2021 dj:discussedIssue ?i } } ORDER BY ?i""")
    assert slugs(rows, "i") == ["denuclearization", "human-rights-dprk", "intl-sanctions"]
    states = select(app, """SELECT ?p WHERE { GRAPH djr:doc-004 {
        ?a oa:hasBody djr:usrok-joint-statement-2021 ; dj:statesProperty ?p ;
           oa:hasTarget/oa:hasSelector/oa:exact ?exact FILTER(CONTAINS(?exact, "omission of any mention")) } }""")
    assert [r["p"].rsplit("/", 1)[-1] for r in states] == ["description"]


def test_audit_the_foreign_ministry_rebuttal_names_no_hostile_policy(app):
    # "a Foreign Ministry spokesman accusing the United States of having “committed a grave political provocation
    # that denigrates even the dignity of Supreme Leader Kim Jong-un.”" — nothing about a hostile policy.
    rows = select(app, "SELECT ?i WHERE { GRAPH djr:doc-004 { djr:ev-2021-dprk-fm-response dj:discussedIssue ?i } }")
    assert slugs(rows, "i") == ["human-rights-dprk"]


def test_audit_who_undertook_the_singapore_commitment_is_marked_as_our_reading(app):
    # "the joint statement agreed to by Trump and Kim Jong-un ... they rejected commitments “to work toward complete
    # denuclearization of the Korean Peninsula.”" — which side undertook them is not said.
    stated = select(app, """SELECT ?party WHERE { GRAPH djr:doc-004 {
        djr:cm-singapore-denuclearization dj:committedParty ?party
        FILTER NOT EXISTS { ?d a dj:DerivedValue ; rdf:subject djr:cm-singapore-denuclearization ;
                               rdf:predicate dj:committedParty ; rdf:object ?party } } }""")
    assert stated == []
    parties = select(app, """SELECT ?party WHERE { GRAPH djr:doc-004 {
        djr:cm-singapore-denuclearization dj:committedParty ?party } } ORDER BY ?party""")
    assert slugs(parties, "party") == ["north-korea", "united-states"]


def test_audit_the_may_31_commentarys_issues_are_marked_as_our_reading(app):
    # "a commentary released by the DPRK criticized the proceedings of the US-ROK summit and made it clear that there
    # had been no change in its view that the United States was its greatest enemy" — no issue named.
    stated = select(app, """SELECT ?i WHERE { GRAPH djr:doc-004 {
        djr:ev-2021-05-31-dprk-commentary dj:discussedIssue ?i
        FILTER NOT EXISTS { ?d a dj:DerivedValue ; rdf:subject djr:ev-2021-05-31-dprk-commentary ;
                               rdf:predicate dj:discussedIssue ; rdf:object ?i } } }""")
    assert stated == []
