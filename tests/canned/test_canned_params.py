"""Typed parameters: each type accepts what the header format promises and refuses the rest, by name."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from service.canned.contract import EnumValue, ParamSpec, TypeSpec
from service.canned.params import ParamError, parse_param, parse_scalar, term_text

XSD = "http://www.w3.org/2001/XMLSchema#"
DJR = "https://w3id.org/dprk-japan-kg/id/"


def typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


ACCEPTED = [
    (TypeSpec("iri"), "djr:rgb", ox.NamedNode(DJR + "rgb")),
    (TypeSpec("iri"), "rgb", ox.NamedNode(DJR + "rgb")),
    (TypeSpec("iri"), f"<{DJR}rgb>", ox.NamedNode(DJR + "rgb")),
    (TypeSpec("iri"), "http://www.wikidata.org/entity/Q17", ox.NamedNode("http://www.wikidata.org/entity/Q17")),
    (TypeSpec("iri"), "wd:Q17", ox.NamedNode("http://www.wikidata.org/entity/Q17")),
    (TypeSpec("string"), 'say "hi"\n', ox.Literal('say "hi"\n')),
    (TypeSpec("langString"), "Chongryon", ox.Literal("Chongryon", language="en")),
    (TypeSpec("langString"), "朝鲜@zh", ox.Literal("朝鲜", language="zh")),
    (TypeSpec("langString", lang="ja"), "中井洽", ox.Literal("中井洽", language="ja")),
    (TypeSpec("integer"), "+2012", typed("2012", "integer")),
    (TypeSpec("decimal"), "12.50", typed("12.50", "decimal")),
    (TypeSpec("decimal"), ".5", typed("0.5", "decimal")),
    (TypeSpec("date"), "2012-02-29", typed("2012-02-29", "date")),
    (TypeSpec("gYear"), "1945", typed("1945", "gYear")),
    (TypeSpec("boolean"), "Yes", typed("true", "boolean")),
    (TypeSpec("boolean"), "0", typed("false", "boolean")),
    (TypeSpec("enum", values=(EnumValue("djr:japan", "iri", DJR + "japan"),)), "japan", ox.NamedNode(DJR + "japan")),
    (TypeSpec("enum", values=(EnumValue("djr:japan", "iri", DJR + "japan"),)), DJR + "japan",
     ox.NamedNode(DJR + "japan")),
    (TypeSpec("enum", values=(EnumValue("wikidata", "string", "wikidata"),)), "wikidata", ox.Literal("wikidata")),
]


@pytest.mark.parametrize(("spec", "text", "term"), ACCEPTED,
                         ids=[f"{s.type}-{i}" for i, (s, _, _) in enumerate(ACCEPTED)])
def test_accepted_values_become_terms(spec, text, term):
    assert parse_scalar(spec, text, lookups=None) == term


REFUSED = [
    (TypeSpec("iri"), "djr:a b", "spaces and the characters"),
    (TypeSpec("iri"), "no iri", "expected an IRI"),
    (TypeSpec("iri"), "x:" + "a" * 3000, "at most 2048 characters"),
    (TypeSpec("string", max_length=5), "abcdef", "at most 5 characters"),
    (TypeSpec("string"), "a\rb", "control characters"),
    (TypeSpec("integer"), "12.0", "expected an integer"),
    (TypeSpec("integer", minimum=1, maximum=10), "11", "expected at most 10"),
    (TypeSpec("decimal"), "1e3000", "expected a decimal number"),
    (TypeSpec("decimal"), "2e30", "magnitude at most 1e30"),
    (TypeSpec("decimal", minimum="0.5"), "0.25", "expected at least 0.5"),
    (TypeSpec("date"), "2013-02-29", "expected a date YYYY-MM-DD"),
    (TypeSpec("date"), "2013-2-1", "expected a date YYYY-MM-DD"),
    (TypeSpec("gYear"), "13", "expected a year YYYY"),
    (TypeSpec("gYear", minimum=1900), "1899", "expected at least 1900"),
    (TypeSpec("boolean"), "maybe", "expected true or false"),
    (TypeSpec("enum", values=(EnumValue("a", "string", "a"),)), "b", "unknown value 'b'; expected one of: a"),
]


@pytest.mark.parametrize(("spec", "text", "fragment"), REFUSED,
                         ids=[f"{s.type}-{i}" for i, (s, _, _) in enumerate(REFUSED)])
def test_refused_values_say_what_was_expected(spec, text, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        parse_scalar(spec, text, lookups=None)


def test_an_enum_drawn_from_the_data_cannot_be_checked_without_a_store():
    with pytest.raises(LookupError):
        parse_scalar(TypeSpec("enum", values_from="SELECT ?value WHERE {}"), "x", lookups=None)


def test_lists_take_repeats_and_spaces_deduplicated_and_limited():
    spec = ParamSpec("issue", "list", "issue", TypeSpec("iri"), max_items=3)
    parsed = parse_param(spec, ["djr:a djr:b", "djr:a"], lookups=None)
    assert parsed == (ox.NamedNode(DJR + "a"), ox.NamedNode(DJR + "b"))
    with pytest.raises(ParamError) as info:
        parse_param(spec, ["djr:a djr:b djr:c djr:d"], lookups=None)
    assert info.value.param == "issue" and "at most 3 values, got 4" in str(info.value)


def test_a_single_valued_parameter_refuses_two_values():
    spec = ParamSpec("year", "gYear", "year", TypeSpec("gYear"))
    with pytest.raises(ParamError, match="takes one value, got 2"):
        parse_param(spec, ["2012", "2013"], lookups=None)


@pytest.mark.parametrize("term", [ox.Literal('a"b\\c\nd\re\tf'), ox.Literal("} UNION {", language="en"),
                                  typed("2012", "gYear"), ox.NamedNode("https://example.org/a#b")])
def test_bound_terms_round_trip_through_their_text(term):
    text = term_text(term)
    assert "\n" not in text and "\r" not in text
    parsed = next(iter(ox.parse(f"<urn:s> <urn:p> {text} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    assert parsed.object == term
