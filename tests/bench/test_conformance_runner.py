"""The W3C conformance runner's judgement: what counts as the same answer.

The recorded conformance scores are only worth something if the comparison is strict:
solutions are multisets, blank nodes match under one bijection, literals match by
lexical form, ORDER BY fixes the order except between ties, graphs compare by
isomorphism. These tests pin each rule on small hand-made answers (no server needed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from conformance_lib import compare, results, runner, terms

XSD = terms.XSD
N, B, L = terms.iri, terms.bnode, terms.literal


def same(expected_rows, actual_rows, variables=("x",), **kwargs):
    return compare.compare_solutions(list(variables), expected_rows, list(variables), actual_rows, **kwargs)


# -- multisets --------------------------------------------------------------------------------------


def test_solutions_are_a_multiset_in_any_order():
    rows = [{"x": N("http://a")}, {"x": N("http://b")}, {"x": N("http://a")}]
    assert same(rows, list(reversed(rows))) is None


def test_duplicates_count():
    reason = same([{"x": N("http://a")}, {"x": N("http://a")}], [{"x": N("http://a")}])
    assert reason and "expected 2 solutions, got 1" in reason


def test_unbound_is_not_a_value():
    reason = same([{"x": N("http://a")}, {}], [{"x": N("http://a")}, {"x": L("")}])
    assert reason and "different solutions" in reason


def test_variables_must_match():
    reason = compare.compare_solutions(["x"], [], ["x", "y"], [])
    assert reason and "variables differ" in reason


# -- literals ---------------------------------------------------------------------------------------


def test_literals_compare_by_lexical_form_not_value():
    reason = same([{"x": L("01", XSD + "integer")}], [{"x": L("1", XSD + "integer")}])
    assert reason and '"01"' in reason


def test_datatype_counts():
    assert same([{"x": L("1", XSD + "integer")}], [{"x": L("1", XSD + "decimal")}]) is not None


def test_simple_literal_is_xsd_string():
    assert same([{"x": L("a")}], [{"x": L("a", XSD + "string")}]) is None


def test_language_tags_compare_case_insensitively_but_must_be_there():
    assert same([{"x": L("chat", language="en-GB")}], [{"x": L("chat", language="en-gb")}]) is None
    assert same([{"x": L("chat", language="en")}], [{"x": L("chat")}]) is not None
    assert same([{"x": L("chat", language="en")}], [{"x": L("chat", language="fr")}]) is not None


# -- blank nodes ------------------------------------------------------------------------------------


def test_blank_node_labels_do_not_matter():
    expected = [{"x": B("a"), "y": N("http://p")}, {"x": B("b"), "y": N("http://q")}]
    actual = [{"x": B("zz"), "y": N("http://q")}, {"x": B("yy"), "y": N("http://p")}]
    assert same(expected, actual, ("x", "y")) is None


def test_blank_node_sharing_must_be_the_same():
    # expected: one blank node in two rows; actual: two different ones
    expected = [{"x": B("a"), "y": N("http://p")}, {"x": B("a"), "y": N("http://q")}]
    actual = [{"x": B("c"), "y": N("http://p")}, {"x": B("d"), "y": N("http://q")}]
    assert same(expected, actual, ("x", "y")) is not None
    assert same(actual, expected, ("x", "y")) is not None


def test_blank_node_mapping_is_one_to_one_across_columns():
    expected = [{"x": B("a"), "y": B("a")}]
    assert same(expected, [{"x": B("c"), "y": B("d")}], ("x", "y")) is not None
    assert same(expected, [{"x": B("e"), "y": B("e")}], ("x", "y")) is None


def test_blank_node_search_needs_backtracking():
    # Rows look alike until the third one decides which blank node is which.
    expected = [{"x": B("1"), "y": N("http://p")}, {"x": B("2"), "y": N("http://p")},
                {"x": B("1"), "y": N("http://q")}]
    actual = [{"x": B("m"), "y": N("http://p")}, {"x": B("n"), "y": N("http://p")},
              {"x": B("n"), "y": N("http://q")}]
    assert same(expected, actual, ("x", "y")) is None


def test_blank_node_is_not_an_iri():
    assert same([{"x": B("a")}], [{"x": N("http://a")}]) is not None


# -- ORDER BY -----------------------------------------------------------------------------------------


def test_order_keys_read_from_the_outer_query_only():
    query = """SELECT * { { SELECT ?z { ?z ?p ?o } ORDER BY ?p LIMIT 2 } ?z ?q "ORDER BY ?w" }
               # ORDER BY ?comment
               ORDER BY DESC(?z) ?q LIMIT 10"""
    assert compare.order_keys(query) == (True, [("z", True), ("q", False)])


def test_order_by_an_expression_has_no_simple_keys():
    assert compare.order_keys("SELECT ?x { ?x ?p ?o } ORDER BY STR(?x)") == (True, None)
    assert compare.order_keys("SELECT ?x { ?x ?p ?o }") == (False, None)


def test_ordered_rows_must_follow_the_keys():
    expected = [{"k": L("1", XSD + "integer")}, {"k": L("2", XSD + "integer")}]
    reason = same(expected, list(reversed(expected)), ("k",), order="keys", keys=["k"])
    assert reason and "order" in reason


def test_rows_with_tied_keys_may_come_in_any_order():
    one, two = L("1", XSD + "integer"), L("2", XSD + "integer")
    expected = [{"k": one, "v": N("http://a")}, {"k": one, "v": N("http://b")}, {"k": two, "v": N("http://c")}]
    actual = [{"k": one, "v": N("http://b")}, {"k": one, "v": N("http://a")}, {"k": two, "v": N("http://c")}]
    assert same(expected, actual, ("k", "v"), order="keys", keys=["k"]) is None
    swapped = [actual[2], actual[0], actual[1]]
    assert same(expected, swapped, ("k", "v"), order="keys", keys=["k"]) is not None


def test_list_order_is_row_by_row():
    expected = [{"x": N("http://a")}, {"x": N("http://b")}]
    assert same(expected, expected, order="list") is None
    assert same(expected, list(reversed(expected)), order="list") is not None


def test_judge_uses_order_by_of_the_query():
    expected = results.Results("solutions", variables=["k"], rows=[{"k": L("1")}, {"k": L("2")}])
    actual = results.Results("solutions", variables=["k"], rows=[{"k": L("2")}, {"k": L("1")}])
    assert runner.judge(expected, actual, "SELECT ?k { ?s ?p ?k }", lax=False) is None
    assert runner.judge(expected, actual, "SELECT ?k { ?s ?p ?k } ORDER BY ?k", lax=False) is not None


def test_reduced_may_drop_duplicates_only():
    expected = [{"x": N("http://a")}, {"x": N("http://a")}, {"x": N("http://b")}]
    assert same(expected, [{"x": N("http://a")}, {"x": N("http://b")}], lax=True) is None
    assert same(expected, [{"x": N("http://a")}], lax=True) is not None
    assert same(expected, [*expected, {"x": N("http://b")}], lax=True) is not None


# -- graphs and datasets ----------------------------------------------------------------------------


def test_graphs_compare_by_isomorphism():
    p = N("http://p")
    expected = {(B("a"), p, B("b")), (B("b"), p, L("x"))}
    assert compare.compare_graphs(expected, {(B("m"), p, B("n")), (B("n"), p, L("x"))}) is None
    reason = compare.compare_graphs(expected, {(B("m"), p, B("n")), (B("m"), p, L("x"))})
    assert reason and "not isomorphic" in reason


def test_graph_literals_are_compared_lexically():
    p = N("http://p")
    assert compare.compare_graphs({(N("http://s"), p, L("1.0", XSD + "decimal"))},
                                  {(N("http://s"), p, L("1", XSD + "decimal"))}) is not None


def test_datasets_keep_blank_nodes_shared_across_graphs():
    p, g = N("http://p"), N("http://g")
    shared = {(B("a"), p, L("x"), None), (B("a"), p, L("y"), g)}
    apart = {(B("a"), p, L("x"), None), (B("b"), p, L("y"), g)}
    assert compare.compare_datasets(shared, {(B("z"), p, L("x"), None), (B("z"), p, L("y"), g)}) is None
    assert compare.compare_datasets(shared, apart) is not None


def test_datasets_with_triples_in_the_wrong_graph_differ():
    p = N("http://p")
    reason = compare.compare_datasets({(N("http://s"), p, L("x"), None)}, {(N("http://s"), p, L("x"), N("http://g"))})
    assert reason and "graph sizes differ" in reason


# -- parsers ----------------------------------------------------------------------------------------


def test_tsv_terms():
    assert results.parse_tsv_term("<http://a>") == N("http://a")
    assert results.parse_tsv_term("_:b0") == B("b0")
    assert results.parse_tsv_term('"a\\tb"@EN') == L("a\tb", language="en")
    assert results.parse_tsv_term('"5"^^<http://example/dt>') == L("5", "http://example/dt")
    assert results.parse_tsv_term("-3") == L("-3", XSD + "integer")
    assert results.parse_tsv_term("2.5") == L("2.5", XSD + "decimal")
    assert results.parse_tsv_term("1.0e6") == L("1.0e6", XSD + "double")
    assert results.parse_tsv_term("true") == L("true", XSD + "boolean")
    assert results.parse_tsv_term("") is None
    with pytest.raises(results.ParseError):
        results.parse_tsv_term("bare words")


def test_xml_and_json_results_read_the_same_terms():
    xml = b"""<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">
      <head><variable name="x"/><variable name="y"/></head><results><result>
      <binding name="x"><bnode>r1</bnode></binding>
      <binding name="y"><literal xml:lang="en">hi</literal></binding></result></results></sparql>"""
    json_body = (b'{"head":{"vars":["x","y"]},"results":{"bindings":[{"x":{"type":"bnode","value":"q"},'
                 b'"y":{"type":"literal","value":"hi","xml:lang":"EN"}}]}}')
    a, b = results.parse_xml(xml), results.parse_json(json_body)
    assert a.variables == b.variables == ["x", "y"]
    assert compare.compare_solutions(a.variables, a.rows, b.variables, b.rows) is None


def test_json_results_of_sparql_1_0_are_refused():
    body = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"typed-literal","value":"1"}}]}}'
    with pytest.raises(results.ParseError, match="typed-literal"):
        results.parse_json(body)


def test_csv_keeps_strings_and_blank_nodes():
    parsed = results.parse_csv(b'x,y\r\n_:b1,"4,4"\r\nhttp://a,\r\n')
    assert parsed.rows == [{"x": B("b1"), "y": ("C", "4,4")}, {"x": ("C", "http://a")}]


def test_rdf_result_set_with_index_is_ordered():
    triples = results.parse_graph(b"""
        @prefix rs: <http://www.w3.org/2001/sw/DataAccess/tests/result-set#> .
        [] a rs:ResultSet ; rs:resultVariable "x" ;
           rs:solution [ rs:index 2 ; rs:binding [ rs:variable "x" ; rs:value "b" ] ] ,
                       [ rs:index 1 ; rs:binding [ rs:variable "x" ; rs:value "a" ] ] .""", "text/turtle")
    parsed = results.parse_rdf_results(triples)
    assert parsed is not None and parsed.indexed
    assert [row["x"] for row in parsed.rows] == [L("a"), L("b")]


# -- request routing and service descriptions -------------------------------------------------------


def test_dataset_clauses_resolve_against_the_query():
    query = 'BASE <http://t/dir/> SELECT * FROM <a.ttl> FROM NAMED <../b.ttl> { "FROM <c.ttl>" } # FROM <d>'
    assert runner.dataset_clauses(query, "http://t/q.rq") == [(False, "http://t/dir/a.ttl"),
                                                              (True, "http://t/b.ttl")]


def test_service_description_schema_check():
    sd = "http://www.w3.org/ns/sparql-service-description#"
    rdf_type = N("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    good = {(B("s"), rdf_type, N(sd + "Service")), (B("s"), N(sd + "endpoint"), N("http://x/sparql")),
            (B("s"), N(sd + "supportedLanguage"), N(sd + "SPARQL11Query"))}
    assert runner.check_service_description(good) == []
    bad = good | {(B("s"), N(sd + "endpoint"), L("http://x/sparql")), (B("s"), N(sd + "colour"), L("red"))}
    problems = runner.check_service_description(bad)
    assert any("sd:endpoint must have an IRI" in p for p in problems)
    assert any("sd:colour is not in the service description vocabulary" in p for p in problems)
