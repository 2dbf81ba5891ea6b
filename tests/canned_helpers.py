"""Reading canned-query answers in a compact, comparable form, and checking rows against declared columns."""

from __future__ import annotations

import re
from typing import Any

from service.canned.contract import ColumnSpec
from service.rdf.vocabulary import curie

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

#: Lexical forms the declared literal types must have (a datatype alone could be mislabelled).
LEXICAL = {
    "integer": r"[+-]?[0-9]+",
    "decimal": r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)",
    "double": r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|NaN|INF|-INF",
    "boolean": r"true|false|1|0",
    "date": r"-?[0-9]{4}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?",
    "dateTime": r"-?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?",
    "gYear": r"-?[0-9]{4}",
    "gYearMonth": r"-?[0-9]{4}-[0-9]{2}",
}


def compact(term: dict[str, Any] | None) -> Any:
    """A SPARQL JSON term as a test writes it: CURIE for IRIs, the lexical form for literals, None if unbound."""
    if term is None:
        return None
    if term["type"] == "uri":
        return curie(term["value"])
    return term["value"]


def table(client: Any, name: str, params: dict[str, Any] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Run a canned SELECT over HTTP: its variables and its rows (SPARQL JSON bindings)."""
    response = client.get(f"/queries/{name}.json", query_string=params or {})
    assert response.status_code == 200, f"{name} {params}: {response.status_code} {response.get_data(as_text=True)}"
    data = response.get_json()
    return data["head"]["vars"], data["results"]["bindings"]


def rows(client: Any, name: str, params: dict[str, Any] | None, columns: list[str]) -> list[tuple[Any, ...]]:
    """The answer's rows restricted to ``columns``, compact, in the query's order."""
    _, bindings = table(client, name, params)
    return [tuple(compact(b.get(c)) for c in columns) for b in bindings]


def term_matches(term: dict[str, Any], kind: str) -> bool:
    """True when a SPARQL JSON term is of the declared column type."""
    if kind == "any":
        return True
    if kind == "iri":
        return term["type"] == "uri"
    if kind == "bnode":
        return term["type"] == "bnode"
    if term["type"] != "literal":
        return False
    datatype = term.get("datatype", RDF_LANGSTRING if "xml:lang" in term else XSD + "string")
    if kind == "literal":
        return True
    if kind == "langString":
        return datatype == RDF_LANGSTRING and bool(term.get("xml:lang"))
    if kind == "decimal" and datatype == XSD + "integer":  # xsd:integer is derived from xsd:decimal
        kind = "integer"
    if datatype != XSD + kind:
        return False
    pattern = LEXICAL.get(kind)
    return pattern is None or re.fullmatch(pattern, term["value"]) is not None


def check_columns(variables: list[str], bindings: list[dict[str, Any]], columns: list[ColumnSpec]) -> None:
    """Every row of an answer matches the declared columns: names, order, types, and required values."""
    assert variables == [c.name for c in columns], "the answer's variables must be the declared columns"
    for number, binding in enumerate(bindings, 1):
        for column in columns:
            term = binding.get(column.name)
            if term is None:
                assert column.optional, f"row {number}: column {column.name!r} is empty but not optional"
                continue
            assert any(term_matches(term, kind) for kind in column.types), \
                f"row {number}: column {column.name!r} holds {term} — declared {' or '.join(column.types)}"
