"""The SELECT result writers against the W3C result formats, term by term."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from service.sparql import writers as results

XSD = "http://www.w3.org/2001/XMLSchema#"


def lit(value: str, datatype: str | None = None, language: str | None = None) -> ox.Literal:
    if language:
        return ox.Literal(value, language=language)
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype)) if datatype else ox.Literal(value)


def tsv_cells(term) -> str:
    body = b"".join(results.write_tsv(["x"], [(term,)], False)).decode()
    return body.splitlines()[1]


@pytest.mark.parametrize(("term", "expected"), [
    (lit("1", "integer"), "1"),
    (lit("-2.5", "decimal"), "-2.5"),
    (lit("3.0E4", "double"), "3.0E4"),
    (lit("true", "boolean"), "true"),
    # Not in Turtle's bare number syntax: must be written as a typed literal, or a reader misreads it.
    (lit("1", "double"), '"1"^^<http://www.w3.org/2001/XMLSchema#double>'),
    (lit("2", "decimal"), '"2"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
    (lit("abc", "integer"), '"abc"^^<http://www.w3.org/2001/XMLSchema#integer>'),
    (lit("tab\there"), '"tab\\there"'),
    (lit("chat", language="fr"), '"chat"@fr'),
    (ox.NamedNode("http://example.org/a"), "<http://example.org/a>"),
    (None, ""),
])
def test_tsv_writes_terms_as_turtle(term, expected):
    assert tsv_cells(term) == expected


def test_csv_quotes_fields_with_commas_quotes_and_newlines():
    body = b"".join(results.write_csv(["a", "b"], [(lit('x,"y"'), lit("line\nbreak"))], False)).decode()
    assert body == 'a,b\r\n"x,""y""","line\nbreak"\r\n'


def test_json_marks_truncated_results_in_the_head_and_omits_unbound_variables():
    body = json.loads(b"".join(results.write_json(["a", "b"], [(lit("1", "integer"), None)], True)))
    assert body["head"] == {"vars": ["a", "b"], "link": [results.TRUNCATION_LINK]}
    assert body["results"]["bindings"] == [{"a": {"type": "literal", "value": "1", "datatype": XSD + "integer"}}]
